// Client side of the IMAP login schemes, without I/O: what to send for a given server
// challenge. Connection (connection.h) drives these over the wire; unit tests feed them the
// RFC test vectors.
//
// Contract:
// - Challenges are passed already base64-decoded, responses are returned raw; the caller
//   base64-encodes them for AUTHENTICATE (RFC 3501 6.2.2). The two vendor schemes that are
//   not SASL (Kerio X-MASTERAUTH, GroupWise XGWTRUSTEDAPP) have their own functions below
//   because their wire form differs.
// - Every response that carries a password, key or token is a Secret; the caller wipes the
//   encoded copies it makes. Nothing here logs.
// - A Mechanism is used for one exchange, by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/secret.h"
#include "base/status.h"

namespace mf::imap::sasl {

// The login schemes mailferry knows, as named by --from-auth / --to-auth.
enum class Scheme {
  kLoginCommand,      // IMAP LOGIN user password (RFC 3501 6.2.3); --auth LOGIN
  kPlain,             // AUTHENTICATE PLAIN (RFC 4616)
  kLogin,             // AUTHENTICATE LOGIN (draft-murchison-sasl-login); --auth AUTH=LOGIN
  kCramMd5,           // AUTHENTICATE CRAM-MD5 (RFC 2195)
  kXoauth2,           // AUTHENTICATE XOAUTH2 (Google / Microsoft)
  kOauthBearer,       // AUTHENTICATE OAUTHBEARER (RFC 7628)
  kKerioMasterAuth,   // Kerio Connect X-MASTERAUTH + X-SETUSER
  kGroupWiseTrusted,  // GroupWise AUTHENTICATE XGWTRUSTEDAPP + LOGIN user ""
};

// Parses a --auth value, case-insensitive: LOGIN, PLAIN, AUTH=LOGIN (or AUTHENTICATE-LOGIN),
// CRAM-MD5, XOAUTH2, OAUTHBEARER, X-MASTERAUTH, XGWTRUSTEDAPP; "AUTH=" before a SASL name
// is accepted. nullopt for anything else.
std::optional<Scheme> parseScheme(std::string_view text);
// The name used in messages and on the wire ("LOGIN", "PLAIN", "AUTHENTICATE LOGIN"...).
std::string_view schemeName(Scheme scheme);
// The SASL mechanism name for AUTHENTICATE ("PLAIN", "LOGIN"...), "" for the others.
std::string_view saslName(Scheme scheme);
// The accepted --auth values, for usage messages.
std::string_view schemeList();

// One SASL exchange (RFC 4422 section 3).
class Mechanism {
 public:
  virtual ~Mechanism() = default;
  virtual std::string_view name() const = 0;  // for AUTHENTICATE
  // Client-first mechanisms (RFC 4422 5) have an initial response, sent with SASL-IR
  // (RFC 4959) or after the server's first, empty challenge. Returns nullopt for
  // server-first mechanisms (LOGIN, CRAM-MD5). Call at most once.
  virtual std::optional<Secret> initialResponse() { return std::nullopt; }
  // The response to one server challenge. An error means "cancel the exchange" (the
  // caller sends "*", RFC 3501 6.2.2) and says why.
  virtual Result<Secret> step(std::string_view challenge) = 0;
  // What the server said in a challenge that is an error report (OAuth), else "".
  const std::string& serverDiagnostic() const { return diagnostic_; }

 protected:
  std::string diagnostic_;
};

// RFC 4616: [authzid] NUL authcid NUL passwd. An empty authzid means "act as authcid".
std::unique_ptr<Mechanism> makePlain(std::string authzid, std::string authcid, Secret password);
// SASL LOGIN: the user name answers the first challenge, the password the second.
std::unique_ptr<Mechanism> makeLogin(std::string user, Secret password);
// RFC 2195: user SP lowercase-hex(HMAC-MD5(password, challenge)).
std::unique_ptr<Mechanism> makeCramMd5(std::string user, Secret password);
// "user=" user ^A "auth=Bearer " token ^A ^A; an error challenge is answered with an empty
// response (Google's and Microsoft's XOAUTH2 documentation).
std::unique_ptr<Mechanism> makeXoauth2(std::string user, Secret token);
// RFC 7628 3.1: gs2 header "n,a=user," ^A "host=" host ^A "port=" port ^A "auth=Bearer "
// token ^A ^A. An error challenge (RFC 7628 3.2.2) is answered with a single ^A (3.2.3).
std::unique_ptr<Mechanism> makeOauthBearer(std::string user, std::string host, uint16_t port,
                                           Secret token);

// The pieces as pure functions, for tests.
Secret plainMessage(std::string_view authzid, std::string_view authcid, std::string_view password);
Secret cramMd5Message(std::string_view user, std::string_view password, std::string_view challenge);
Secret xoauth2Message(std::string_view user, std::string_view token);
Secret oauthBearerMessage(std::string_view user, std::string_view host, uint16_t port,
                          std::string_view token);
// RFC 5801 saslname: ',' and '=' are escaped as "=2C" and "=3D" inside the gs2 authzid.
std::string gs2Escape(std::string_view name);

// Kerio Connect master authentication (Kerio's "IMAP Master Authentication" article):
//   C: a X-MASTERAUTH          S: + <challenge>
//   C: <lowercase hex MD5 of challenge followed by the master password>
//   S: a OK ...                C: b X-SETUSER "user"     S: b OK ...
// The challenge is the text after "+ " as sent (not base64).
Secret kerioMasterAuthResponse(std::string_view challenge, std::string_view masterPassword);

// GroupWise trusted application (Micro Focus KB 7015223): after "AUTHENTICATE XGWTRUSTEDAPP"
// and the server's "+", the client sends the line "XGWTRUSTEDAPP " base64(name NUL key), then
// logs in with "LOGIN user """. Returns the whole line without CRLF.
Secret groupWiseTrustedAppLine(std::string_view appName, std::string_view appKey);

// Lowercase hex of MD5 / HMAC-MD5 (OpenSSL EVP), for the above and for tests.
std::string md5Hex(std::string_view data);
std::string hmacMd5Hex(std::string_view key, std::string_view data);

// A server-supplied text made safe for an error message: printable ASCII only, at most
// `limit` bytes.
std::string printable(std::string_view text, size_t limit = 200);

}  // namespace mf::imap::sasl
