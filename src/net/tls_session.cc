#include "net/tls_session.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <cerrno>
#include <optional>
#include <utility>

#include "net/net_util.h"
#include "net/tls_context.h"

namespace mf::net::detail {
namespace {

// Four full TLS records per send() during bulk writes.
constexpr int kWriteBufferBytes = 64 * 1024;

constexpr const char* kTrustRemedy =
    "Use --ca-file FILE to trust this server's CA, or --insecure to skip verification "
    "(not recommended)";
constexpr const char* kNotTlsHint =
    "the port may not speak TLS; try imap:// or pop3:// with STARTTLS, or check the port";

// The reason of the oldest queued OpenSSL error: the root cause, later entries are follow-ups.
std::string firstErrorReason() {
  unsigned long code = ERR_peek_error();
  if (code == 0) return {};
  if (const char* reason = ERR_reason_error_string(code)) return reason;
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

bool firstErrorIs(int reason) {
  unsigned long code = ERR_peek_error();
  return code != 0 && ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == reason;
}

// What to do about a handshake that failed for a reason other than the certificate.
const char* handshakeHint(bool peerClosed) {
  if (peerClosed) return kNotTlsHint;
  unsigned long code = ERR_peek_error();
  if (code == 0 || ERR_GET_LIB(code) != ERR_LIB_SSL) return "check that this port speaks TLS";
  switch (ERR_GET_REASON(code)) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
      return kNotTlsHint;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      return "the server does not offer TLS 1.2 or newer, which mailferry requires";
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_CIPHERS_AVAILABLE:
    case SSL_R_DH_KEY_TOO_SMALL:
    case SSL_R_CA_MD_TOO_WEAK:
    case SSL_R_EE_KEY_TOO_SMALL:
      return "the server's TLS configuration is outdated or incompatible (old ciphers or weak "
             "keys)";
    default:
      return "check that this port speaks TLS";
  }
}

// Certificate text is attacker-controlled: keep it printable and short in messages.
std::string printable(const unsigned char* data, size_t length) {
  std::string out;
  for (size_t i = 0; i < length && i < 100; ++i) {
    out += (data[i] >= 0x20 && data[i] < 0x7f) ? static_cast<char>(data[i]) : '?';
  }
  return out;
}

// "mail.example.com, 192.0.2.1": the names the peer certificate is valid for (subject
// alternative names, else the common name), so a mismatch message can say what to use.
std::string certificateNames(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  // After a failed verification OpenSSL keeps the chain but not the peer certificate.
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  if (cert == nullptr && chain != nullptr && sk_X509_num(chain) > 0) cert = sk_X509_value(chain, 0);
  if (cert == nullptr) return {};

  std::string names;
  auto append = [&](const std::string& name) {
    if (!names.empty()) names += ", ";
    names += name;
  };
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans) && i < 8; ++i) {
      const GENERAL_NAME* entry = sk_GENERAL_NAME_value(sans, i);
      if (entry->type == GEN_DNS) {
        append(printable(ASN1_STRING_get0_data(entry->d.dNSName),
                         static_cast<size_t>(ASN1_STRING_length(entry->d.dNSName))));
      } else if (entry->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* ip = entry->d.iPAddress;
        char text[INET6_ADDRSTRLEN] = {};
        int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
        if ((ASN1_STRING_length(ip) == 4 || ASN1_STRING_length(ip) == 16) &&
            inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text) != nullptr) {
          append(text);
        }
      }
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char common[256];
    int length = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, common,
                                           sizeof common);
    if (length > 0) {
      append(
          printable(reinterpret_cast<const unsigned char*>(common), static_cast<size_t>(length)));
    }
  }
  return names;
}

short eventsFor(int sslError) {
  if (sslError == SSL_ERROR_WANT_READ) return POLLIN;
  if (sslError == SSL_ERROR_WANT_WRITE) return POLLOUT;
  return 0;
}

}  // namespace

TlsSession::TlsSession(int fd, SSL* ssl, std::string hostPort)
    : fd_(fd), ssl_(ssl), hostPort_(std::move(hostPort)) {}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
}  // also frees the BIO, not the socket

Result<std::unique_ptr<TlsSession>> TlsSession::handshake(int fd, const std::string& host,
                                                          uint16_t port, const TlsOptions& options,
                                                          Millis timeout) {
  MF_ASSIGN_OR_RETURN(SSL_CTX * ctx, sharedTlsContext(options));
  std::string hostPort = formatHostPort(stripBrackets(host), port);
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) {
    return Status(Errc::kTls, "cannot create a TLS session: " + firstErrorReason());
  }
  std::unique_ptr<TlsSession> session(new TlsSession(fd, ssl, hostPort));
  // Separate BIOs on the same socket: reads go straight to recv() (read-ahead in the SSL
  // context batches them), writes through a buffer that writeAll() flushes at its end.
  BIO* readBio = newSocketBio(fd);
  BIO* writeBio = newBufferedSocketBio(fd, kWriteBufferBytes);
  if (readBio == nullptr || writeBio == nullptr) {
    BIO_free(readBio);
    BIO_free_all(writeBio);
    return Status(Errc::kTls, "cannot create a TLS socket BIO: out of memory");
  }
  SSL_set_bio(ssl, readBio, writeBio);

  std::string name = stripBrackets(options.serverName.empty() ? host : options.serverName);
  bool ipLiteral = isIpLiteral(name);
  // RFC 6066 section 3: SNI carries host names only, never address literals.
  if (!ipLiteral && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    return Status(Errc::kConfig, "cannot use '" + name + "' as a TLS server name");
  }
  if (options.verify) {
    int ok = ipLiteral ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str())
                       : SSL_set1_host(ssl, name.c_str());
    if (ok != 1) return Status(Errc::kConfig, "cannot verify TLS certificates for '" + name + "'");
    // "*.example.com" matches "mail.example.com", but "m*.example.com" is not honoured.
    if (!ipLiteral) SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  }
  SSL_set_connect_state(ssl);

  Deadline deadline(timeout);
  for (;;) {
    ERR_clear_error();
    errno = 0;
    int rc = SSL_connect(ssl);
    if (rc == 1) return session;
    int savedErrno = errno;
    int sslError = SSL_get_error(ssl, rc);
    short events = eventsFor(sslError);
    if (events == 0) return session->handshakeFailure(sslError, savedErrno, options, name);
    MF_ASSIGN_OR_RETURN(bool ready, waitFd(fd, events, deadline.remaining()));
    if (!ready) {
      return Status(Errc::kTimeout, "no TLS handshake answer from " + hostPort + " within " +
                                        formatDuration(timeout) +
                                        " (handshake timeout): check that this port speaks TLS");
    }
  }
}

Status TlsSession::handshakeFailure(int sslError, int savedErrno, const TlsOptions& options,
                                    const std::string& name) {
  long verifyResult = SSL_get_verify_result(ssl_);
  if (options.verify && verifyResult != X509_V_OK) {
    std::string reason = X509_verify_cert_error_string(verifyResult);
    if (verifyResult == X509_V_ERR_HOSTNAME_MISMATCH ||
        verifyResult == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      // --ca-file cannot help here: the certificate may be trusted but is for another name.
      std::string names = certificateNames(ssl_);
      std::string message =
          "TLS certificate of " + hostPort_ + " is not valid for '" + name + "': " + reason;
      if (!names.empty()) message += " (the certificate is for " + names + ")";
      return Status(Errc::kTls, message +
                                    ". Connect using a name the certificate is for, or use "
                                    "--insecure to skip verification (not recommended)");
    }
    std::string message = "TLS certificate of " + hostPort_ + " is not trusted: " + reason + ". ";
    if (verifyResult == X509_V_ERR_CERT_HAS_EXPIRED ||
        verifyResult == X509_V_ERR_CERT_NOT_YET_VALID) {
      message += "Check this machine's clock; otherwise the server's certificate must be renewed. ";
    }
    return Status(Errc::kTls, message + kTrustRemedy);
  }

  // The server hung up instead of answering: typical of a port that does not speak TLS.
  bool peerClosed = sslError == SSL_ERROR_ZERO_RETURN ||
                    (sslError == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && savedErrno == 0) ||
                    firstErrorIs(SSL_R_UNEXPECTED_EOF_WHILE_READING);
  std::string reason;
  if (peerClosed) {
    reason = "the server closed the connection";
  } else if (sslError == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    reason = errnoText(savedErrno);
  } else {
    reason = firstErrorReason();
    if (reason.empty()) reason = "unknown error";
  }
  return Status(Errc::kTls, "TLS handshake with " + hostPort_ + " failed: " + reason + "; " +
                                handshakeHint(peerClosed));
}

Status TlsSession::ioFailure(int sslError, int savedErrno, const char* doing) {
  Status status;
  if (sslError == SSL_ERROR_ZERO_RETURN) {
    status = closedByPeerError(hostPort_);
  } else if (sslError == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    status = savedErrno == 0 ? closedByPeerError(hostPort_, "without TLS close_notify")
                             : socketError(savedErrno, doing, hostPort_);
  } else if (firstErrorIs(SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
    // Common and harmless for IMAP/POP3: their framing detects truncation on its own.
    status = closedByPeerError(hostPort_, "without TLS close_notify");
  } else {
    std::string reason = firstErrorReason();
    status = Status(Errc::kTls, std::string("TLS error ") + doing + " " + hostPort_ + ": " +
                                    (reason.empty() ? "unknown error" : reason));
  }
  fatal_ = status;
  return status;
}

Result<size_t> TlsSession::read(char* buffer, size_t capacity, Millis timeout) {
  if (!fatal_.isOk()) return fatal_;
  std::optional<Deadline> deadline;  // only started when we actually have to wait
  for (;;) {
    ERR_clear_error();
    errno = 0;
    size_t got = 0;
    if (SSL_read_ex(ssl_, buffer, capacity, &got) == 1) return got;
    int savedErrno = errno;
    int sslError = SSL_get_error(ssl_, 0);
    short events = eventsFor(sslError);
    if (events == 0) return ioFailure(sslError, savedErrno, "reading from");
    if (!deadline) deadline.emplace(timeout);
    MF_ASSIGN_OR_RETURN(bool ready, waitFd(fd_, events, deadline->remaining()));
    if (!ready) return readTimeoutError(hostPort_, timeout);
  }
}

Status TlsSession::writeAll(std::string_view data, Millis timeout, uint64_t& written) {
  if (!fatal_.isOk()) return fatal_;
  while (!data.empty()) {
    ERR_clear_error();
    errno = 0;
    size_t sent = 0;
    // Without SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_write_ex returns only when all of `data`
    // is encrypted and handed to the socket; a retry after WANT_* passes the same arguments,
    // as OpenSSL requires.
    if (SSL_write_ex(ssl_, data.data(), data.size(), &sent) == 1) {
      written += sent;
      data.remove_prefix(sent);
      continue;
    }
    int savedErrno = errno;
    int sslError = SSL_get_error(ssl_, 0);
    short events = eventsFor(sslError);
    if (events == 0) return ioFailure(sslError, savedErrno, "writing to");
    // The timeout measures time without progress, so each wait gets all of it.
    MF_ASSIGN_OR_RETURN(bool ready, waitFd(fd_, events, timeout));
    if (!ready) return writeTimeoutError(hostPort_, timeout);
  }
  return flush(timeout);
}

Status TlsSession::flush(Millis timeout) {
  BIO* wbio = SSL_get_wbio(ssl_);
  for (;;) {
    errno = 0;
    if (BIO_flush(wbio) > 0) return Status::ok();
    int savedErrno = errno;
    if (!BIO_should_retry(wbio)) {
      fatal_ = socketError(savedErrno != 0 ? savedErrno : EIO, "writing to", hostPort_);
      return fatal_;
    }
    MF_ASSIGN_OR_RETURN(bool ready, waitFd(fd_, POLLOUT, timeout));
    if (!ready) return writeTimeoutError(hostPort_, timeout);
  }
}

Result<bool> TlsSession::waitReadable(Millis wait) {
  if (!fatal_.isOk()) return true;  // read() reports the error without blocking
  Deadline deadline(wait);
  // Socket readability alone is not enough: the bytes may be a record without application
  // data (a TLS 1.3 session ticket), and application data may already sit decrypted or
  // buffered inside OpenSSL while the socket is empty. SSL_peek settles both.
  bool pollFirst = SSL_has_pending(ssl_) == 0;
  for (;;) {
    if (SSL_pending(ssl_) > 0) return true;
    if (pollFirst) {
      MF_ASSIGN_OR_RETURN(bool ready, waitFd(fd_, POLLIN, deadline.remaining()));
      if (!ready) return false;
    }
    pollFirst = true;  // after WANT_READ the buffered bytes were an incomplete record
    ERR_clear_error();
    errno = 0;
    char byte;
    size_t got = 0;
    if (SSL_peek_ex(ssl_, &byte, 1, &got) == 1) return true;
    int savedErrno = errno;
    int sslError = SSL_get_error(ssl_, 0);
    if (sslError == SSL_ERROR_WANT_READ) continue;
    if (sslError == SSL_ERROR_WANT_WRITE) {
      MF_ASSIGN_OR_RETURN(bool ready, waitFd(fd_, POLLOUT, deadline.remaining()));
      if (!ready) return false;
      pollFirst = false;
      continue;
    }
    // EOF or an error: remember it, so the next read() reports it at once.
    (void)ioFailure(sslError, savedErrno, "reading from");
    return true;
  }
}

std::string TlsSession::description() const {
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_);
  return std::string(SSL_get_version(ssl_)) + " " +
         (cipher != nullptr ? SSL_CIPHER_get_name(cipher) : "(no cipher)");
}

void TlsSession::shutdown() {
  // SSL_shutdown must not follow a fatal error; after the peer's close_notify it is fine.
  if (fatal_.isOk() || (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) != 0) {
    ERR_clear_error();
    (void)SSL_shutdown(ssl_);  // non-blocking: sends our close_notify if the socket takes it
    (void)BIO_flush(SSL_get_wbio(ssl_));
  }
  ERR_clear_error();
}

}  // namespace mf::net::detail
