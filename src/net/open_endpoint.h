// Opening the transport an endpoint names: the step the IMAP and POP3 clients share before
// they read the server's greeting.
//
// openEndpoint(): TCP (connectTcp, with its errors), the stream's read timeout set to
// timeouts.greeting (the next thing read is the greeting), and for implicit TLS (imaps://,
// pop3s://) the TLS handshake at once, a failure being connectTcp's kTls error in the context
// "TLS handshake with host:port". Endpoints with STARTTLS or no security come back in clear:
// the protocol asks for its upgrade later, with the same tlsOptionsFor() options.
//
// Thread-safe; never throws.
#pragma once

#include <memory>

#include "base/deadline.h"
#include "base/status.h"
#include "net/endpoint.h"
#include "net/stream.h"

namespace mf::net {

// `options` with the server name (verified, and sent as SNI) defaulting to the endpoint's host.
TlsOptions tlsOptionsFor(const Endpoint& endpoint, TlsOptions options);

Result<std::unique_ptr<Stream>> openEndpoint(const Endpoint& endpoint, const Timeouts& timeouts,
                                             const TlsOptions& tls);

}  // namespace mf::net
