// POP3 authentication helpers. Pure functions; secrets go in as Secret and come out only as
// the bytes that must go onto the (encrypted) wire.
//
// - APOP (RFC 1939 section 7): the greeting may carry a timestamp "<...>"; the client sends
//   "APOP user digest" with digest = lower-case hex MD5(timestamp + password). MD5 comes
//   from OpenSSL's EVP interface.
// - AUTH PLAIN (RFC 5034 with RFC 4616): base64(authzid NUL authcid NUL password).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/secret.h"
#include "base/status.h"

namespace mf::pop3 {

// The APOP timestamp of a greeting's text ("POP3 ready <1896.697170952@dbc.mtview.ca.us>"),
// angle brackets included; nullopt if there is none. A timestamp is the first "<...>" with
// at least one character inside, no blanks or control characters, at most 255 bytes.
std::optional<std::string> apopTimestamp(std::string_view greetingText);

// 32 lower-case hex digits. kInternal if the digest cannot be computed (an OpenSSL built
// without MD5, e.g. in FIPS mode), with a remedy.
Result<std::string> apopDigest(std::string_view timestamp, const Secret& password);

// The base64 SASL PLAIN response; authzid empty = act as `user`.
std::string saslPlainResponse(std::string_view authzid, std::string_view user,
                              const Secret& password);

}  // namespace mf::pop3
