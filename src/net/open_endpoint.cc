#include "net/open_endpoint.h"

namespace mf::net {

TlsOptions tlsOptionsFor(const Endpoint& endpoint, TlsOptions options) {
  if (options.serverName.empty()) options.serverName = endpoint.host;
  return options;
}

Result<std::unique_ptr<Stream>> openEndpoint(const Endpoint& endpoint, const Timeouts& timeouts,
                                             const TlsOptions& tls) {
  MF_ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream,
                      connectTcp(endpoint.host, endpoint.port, timeouts));
  stream->setReadTimeout(timeouts.greeting);
  if (endpoint.security == Security::kTls) {
    Status s = stream->startTls(tls, timeouts.greeting);
    if (!s) return s.withContext("TLS handshake with " + endpoint.hostPort());
  }
  return stream;
}

}  // namespace mf::net
