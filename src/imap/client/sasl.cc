#include "imap/client/sasl.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "base/ascii.h"
#include "base/base64.h"

namespace mf::imap::sasl {
namespace {

void wipe(std::string& s) {
  volatile char* p = s.data();
  for (size_t i = 0; i < s.size(); ++i) p[i] = 0;
}

std::string toHex(const unsigned char* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

// Client-first mechanisms: one message, sent as the initial response or as the answer to
// the first (empty) challenge. A later challenge is an error report.
class ClientFirst : public Mechanism {
 public:
  ClientFirst(std::string_view name, Secret message) : name_(name), message_(std::move(message)) {}
  std::string_view name() const override { return name_; }
  std::optional<Secret> initialResponse() override {
    sent_ = true;
    return message_;
  }
  Result<Secret> step(std::string_view challenge) override {
    if (!sent_) {
      sent_ = true;
      return message_;
    }
    return afterMessage(challenge);
  }

 protected:
  virtual Result<Secret> afterMessage(std::string_view challenge) {
    diagnostic_ = printable(challenge);
    return Status(Errc::kAuth, std::string(name_) +
                                   ": unexpected server challenge after the "
                                   "credentials were sent");
  }

 private:
  std::string_view name_;
  Secret message_;
  bool sent_ = false;
};

// OAuth mechanisms: an error is reported in a challenge (JSON); the client must answer it
// before the server sends its tagged NO.
class OAuth : public ClientFirst {
 public:
  OAuth(std::string_view name, Secret message, std::string errorAnswer)
      : ClientFirst(name, std::move(message)), errorAnswer_(std::move(errorAnswer)) {}

 protected:
  Result<Secret> afterMessage(std::string_view challenge) override {
    diagnostic_ = printable(challenge);
    return Secret(errorAnswer_);
  }

 private:
  std::string errorAnswer_;
};

class LoginMechanism : public Mechanism {
 public:
  LoginMechanism(std::string user, Secret password)
      : user_(std::move(user)), password_(std::move(password)) {}
  std::string_view name() const override { return "LOGIN"; }
  Result<Secret> step(std::string_view) override {
    // The prompts ("Username:", "Password:") vary between servers; their order does not.
    switch (steps_++) {
      case 0:
        return Secret(user_);
      case 1:
        return password_;
      default:
        return Status(Errc::kAuth,
                      "AUTHENTICATE LOGIN: the server asked for more than a user "
                      "name and a password");
    }
  }

 private:
  std::string user_;
  Secret password_;
  int steps_ = 0;
};

class CramMd5 : public Mechanism {
 public:
  CramMd5(std::string user, Secret password)
      : user_(std::move(user)), password_(std::move(password)) {}
  std::string_view name() const override { return "CRAM-MD5"; }
  Result<Secret> step(std::string_view challenge) override {
    if (done_) {
      return Status(Errc::kAuth, "CRAM-MD5: unexpected second challenge from the server");
    }
    done_ = true;
    if (challenge.empty()) {
      return Status(Errc::kProtocol, "CRAM-MD5: the server sent an empty challenge");
    }
    return cramMd5Message(user_, password_.reveal(), challenge);
  }

 private:
  std::string user_;
  Secret password_;
  bool done_ = false;
};

}  // namespace

std::optional<Scheme> parseScheme(std::string_view text) {
  if (equalsIgnoreCase(text, "LOGIN")) return Scheme::kLoginCommand;
  if (equalsIgnoreCase(text, "AUTH=LOGIN") || equalsIgnoreCase(text, "AUTHENTICATE-LOGIN")) {
    return Scheme::kLogin;
  }
  if (text.size() > 5 && startsWithIgnoreCase(text, "AUTH=")) text.remove_prefix(5);
  if (equalsIgnoreCase(text, "PLAIN")) return Scheme::kPlain;
  if (equalsIgnoreCase(text, "CRAM-MD5")) return Scheme::kCramMd5;
  if (equalsIgnoreCase(text, "XOAUTH2")) return Scheme::kXoauth2;
  if (equalsIgnoreCase(text, "OAUTHBEARER")) return Scheme::kOauthBearer;
  if (equalsIgnoreCase(text, "X-MASTERAUTH")) return Scheme::kKerioMasterAuth;
  if (equalsIgnoreCase(text, "XGWTRUSTEDAPP")) return Scheme::kGroupWiseTrusted;
  return std::nullopt;
}

std::string_view schemeName(Scheme scheme) {
  switch (scheme) {
    case Scheme::kLoginCommand:
      return "LOGIN";
    case Scheme::kPlain:
      return "AUTHENTICATE PLAIN";
    case Scheme::kLogin:
      return "AUTHENTICATE LOGIN";
    case Scheme::kCramMd5:
      return "AUTHENTICATE CRAM-MD5";
    case Scheme::kXoauth2:
      return "AUTHENTICATE XOAUTH2";
    case Scheme::kOauthBearer:
      return "AUTHENTICATE OAUTHBEARER";
    case Scheme::kKerioMasterAuth:
      return "X-MASTERAUTH";
    case Scheme::kGroupWiseTrusted:
      return "AUTHENTICATE XGWTRUSTEDAPP";
  }
  return "?";
}

std::string_view saslName(Scheme scheme) {
  switch (scheme) {
    case Scheme::kPlain:
      return "PLAIN";
    case Scheme::kLogin:
      return "LOGIN";
    case Scheme::kCramMd5:
      return "CRAM-MD5";
    case Scheme::kXoauth2:
      return "XOAUTH2";
    case Scheme::kOauthBearer:
      return "OAUTHBEARER";
    case Scheme::kGroupWiseTrusted:
      return "XGWTRUSTEDAPP";
    default:
      return "";
  }
}

std::string_view schemeList() {
  return "LOGIN, PLAIN, AUTH=LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER, X-MASTERAUTH, XGWTRUSTEDAPP";
}

std::unique_ptr<Mechanism> makePlain(std::string authzid, std::string authcid, Secret password) {
  return std::make_unique<ClientFirst>("PLAIN", plainMessage(authzid, authcid, password.reveal()));
}

std::unique_ptr<Mechanism> makeLogin(std::string user, Secret password) {
  return std::make_unique<LoginMechanism>(std::move(user), std::move(password));
}

std::unique_ptr<Mechanism> makeCramMd5(std::string user, Secret password) {
  return std::make_unique<CramMd5>(std::move(user), std::move(password));
}

std::unique_ptr<Mechanism> makeXoauth2(std::string user, Secret token) {
  return std::make_unique<OAuth>("XOAUTH2", xoauth2Message(user, token.reveal()), "");
}

std::unique_ptr<Mechanism> makeOauthBearer(std::string user, std::string host, uint16_t port,
                                           Secret token) {
  return std::make_unique<OAuth>("OAUTHBEARER",
                                 oauthBearerMessage(user, host, port, token.reveal()), "\x01");
}

Secret plainMessage(std::string_view authzid, std::string_view authcid, std::string_view password) {
  std::string m;
  m.reserve(authzid.size() + authcid.size() + password.size() + 2);
  m.append(authzid);
  m.push_back('\0');
  m.append(authcid);
  m.push_back('\0');
  m.append(password);
  Secret out(m);
  wipe(m);
  return out;
}

Secret cramMd5Message(std::string_view user, std::string_view password,
                      std::string_view challenge) {
  std::string m(user);
  m.push_back(' ');
  m += hmacMd5Hex(password, challenge);
  Secret out(m);
  wipe(m);
  return out;
}

Secret xoauth2Message(std::string_view user, std::string_view token) {
  std::string m = "user=";
  m.append(user);
  m += "\x01"
       "auth=Bearer ";
  m.append(token);
  m += "\x01\x01";
  Secret out(m);
  wipe(m);
  return out;
}

std::string gs2Escape(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out += c;
    }
  }
  return out;
}

Secret oauthBearerMessage(std::string_view user, std::string_view host, uint16_t port,
                          std::string_view token) {
  // gs2-header: no channel binding ("n"), authzid = the user (RFC 7628 3.1, RFC 5801 4).
  std::string m = "n,a=" + gs2Escape(user) + ",";
  m += "\x01host=";
  m.append(host);
  m += "\x01port=" + std::to_string(port);
  m += "\x01"
       "auth=Bearer ";
  m.append(token);
  m += "\x01\x01";
  Secret out(m);
  wipe(m);
  return out;
}

Secret kerioMasterAuthResponse(std::string_view challenge, std::string_view masterPassword) {
  std::string joined(challenge);
  joined.append(masterPassword);
  Secret out(md5Hex(joined));
  wipe(joined);
  return out;
}

Secret groupWiseTrustedAppLine(std::string_view appName, std::string_view appKey) {
  std::string raw(appName);
  raw.push_back('\0');
  raw.append(appKey);
  std::string line = "XGWTRUSTEDAPP " + base64Encode(raw);
  wipe(raw);
  Secret out(line);
  wipe(line);
  return out;
}

std::string md5Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &n, EVP_md5(), nullptr) != 1) {
    return "";  // MD5 unavailable (a FIPS-only OpenSSL): the server will refuse the login
  }
  return toHex(digest.data(), n);
}

std::string hmacMd5Hex(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int n = 0;
  static const char kEmpty[1] = {0};  // HMAC() treats a null key specially
  const char* k = key.empty() ? kEmpty : key.data();
  if (!HMAC(EVP_md5(), k, static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &n)) {
    return "";
  }
  return toHex(mac.data(), n);
}

std::string printable(std::string_view text, size_t limit) {
  std::string out;
  for (char ch : text) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    auto c = static_cast<unsigned char>(ch);
    out += (c >= 0x20 && c < 0x7f) ? ch : '?';
  }
  return out;
}

}  // namespace mf::imap::sasl
