#include "pop3/wire/auth.h"

#include <openssl/evp.h>

#include <algorithm>

#include "base/base64.h"

namespace mf::pop3 {

std::optional<std::string> apopTimestamp(std::string_view text) {
  constexpr size_t kMaxTimestamp = 255;
  size_t open = text.find('<');
  while (open != std::string_view::npos) {
    size_t close = text.find('>', open + 1);
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view inside = text.substr(open + 1, close - open - 1);
    bool clean = !inside.empty() && inside.size() + 2 <= kMaxTimestamp &&
                 std::none_of(inside.begin(), inside.end(), [](char c) {
                   auto u = static_cast<unsigned char>(c);
                   return u <= 0x20 || u == 0x7f || c == '<';
                 });
    if (clean) return std::string(text.substr(open, close - open + 1));
    open = text.find('<', open + 1);
  }
  return std::nullopt;
}

Result<std::string> apopDigest(std::string_view timestamp, const Secret& password) {
  std::string input(timestamp);
  input += password.reveal();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const EVP_MD* md5 = EVP_md5();
  int ok = md5 != nullptr && EVP_Digest(input.data(), input.size(), md, &len, md5, nullptr) == 1;
  std::fill(input.begin(), input.end(), '\0');
  if (!ok || len != 16) {
    return Status(Errc::kInternal,
                  "cannot compute the APOP digest: this OpenSSL offers no MD5 (FIPS mode?); "
                  "use a server that offers AUTH PLAIN or USER/PASS over TLS");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 0xf];
  }
  return hex;
}

std::string saslPlainResponse(std::string_view authzid, std::string_view user,
                              const Secret& password) {
  std::string raw(authzid);
  raw.push_back('\0');
  raw += user;
  raw.push_back('\0');
  raw += password.reveal();
  std::string encoded = base64Encode(raw);
  std::fill(raw.begin(), raw.end(), '\0');
  return encoded;
}

}  // namespace mf::pop3
