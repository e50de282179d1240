#include "pop3/client/fake_pop3_server.h"

#include <openssl/evp.h>

#include <algorithm>
#include <sstream>

#include "base/ascii.h"
#include "base/base64.h"

namespace mf::pop3::testing {
namespace {

constexpr const char* kTimestamp = "<1896.697170952@dbc.mtview.ca.us>";

std::string md5Hex(const std::string& in) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), md, &len, EVP_md5(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

// RFC 1939 section 3: byte-stuff lines starting with "." and end with ".".
std::string multiline(const std::string& body) {
  std::string out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t lf = body.find('\n', pos);
    size_t end = lf == std::string::npos ? body.size() : lf + 1;
    if (body[pos] == '.') out += '.';
    out.append(body, pos, end - pos);
    pos = end;
  }
  if (!out.empty() && out.back() != '\n') out += "\r\n";
  return out + ".\r\n";
}

}  // namespace

std::string FakePop3Server::uidlOf(size_t n) const {
  if (n - 1 < config_.uidls.size() && !config_.uidls[n - 1].empty()) return config_.uidls[n - 1];
  return "uidl-" + std::to_string(n);
}

std::vector<std::string> FakePop3Server::commands() const {
  std::lock_guard<std::mutex> lock(mu_);
  return commands_;
}

int FakePop3Server::batchedReads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batchedReads_;
}

bool FakePop3Server::quitReceived() const {
  std::lock_guard<std::mutex> lock(mu_);
  return quit_;
}

void FakePop3Server::run(net::testing::ServerConnection& conn) {
  std::string greeting = "+OK " + config_.greetingText;
  if (config_.apopTimestamp) {
    // Appended piecewise: `std::string(" ") + kTimestamp` trips GCC 12's false -Warray-bounds
    // at -O2 (seen with precompiled headers).
    greeting += ' ';
    greeting += kTimestamp;
  }
  if (!conn.write(greeting + "\r\n")) return;
  std::string in;
  bool plainPending = false;  // AUTH PLAIN sent without initial response: next line is it
  char buf[4096];
  const auto& msgs = config_.messages;
  auto exists = [&](const std::string& arg, size_t& n) {
    try {
      n = std::stoul(arg);
    } catch (...) {
      return false;
    }
    return n >= 1 && n <= msgs.size();
  };
  auto checkPlain = [&](const std::string& b64) {
    auto decoded = base64Decode(b64);
    std::string expect = config_.authzid + std::string(1, '\0') + config_.user +
                         std::string(1, '\0') + config_.password;
    return decoded && *decoded == expect;
  };
  for (;;) {
    size_t nl = in.find('\n');
    if (nl == std::string::npos) {
      size_t n = conn.read(buf, sizeof buf);
      if (n == 0) return;
      in.append(buf, n);
      if (std::count(in.begin(), in.end(), '\n') > 1) {
        std::lock_guard<std::mutex> lock(mu_);
        ++batchedReads_;
      }
      continue;
    }
    std::string line = in.substr(0, nl);
    in.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    {
      std::lock_guard<std::mutex> lock(mu_);
      commands_.push_back(line);
    }
    std::string reply;
    if (plainPending) {
      plainPending = false;
      authenticated_ = line != "*" && checkPlain(line);
      reply = authenticated_ ? "+OK Logged in.\r\n" : "-ERR " + config_.authError + "\r\n";
      if (!conn.write(reply)) return;
      continue;
    }
    std::istringstream words(line);
    std::string verb, arg1, arg2;
    words >> verb >> arg1 >> arg2;
    verb = toUpperAscii(verb);
    size_t n = 0;
    if (verb == "QUIT") {
      {
        std::lock_guard<std::mutex> lock(mu_);
        quit_ = true;
      }
      conn.write("+OK Logging out.\r\n");
      return;
    } else if (verb == "CAPA") {
      if (!config_.capa) {
        reply = "-ERR Unknown command.\r\n";
      } else {
        reply = "+OK\r\nCAPA\r\n";
        for (const auto& c : config_.capabilities) reply += c + "\r\n";
        if (!config_.sasl.empty()) {
          reply += "SASL";
          for (const auto& m : config_.sasl) reply += " " + m;
          reply += "\r\n";
        }
        if (config_.cert != nullptr && !conn.ssl()) reply += "STLS\r\n";
        reply += ".\r\n";
      }
    } else if (verb == "STLS") {
      if (config_.cert == nullptr || conn.ssl()) {
        reply = "-ERR STLS not available.\r\n";
      } else {
        if (!conn.write("+OK Begin TLS negotiation now.\r\n" + config_.injectAfterStls)) return;
        if (!conn.startTls(*config_.cert)) return;
        continue;
      }
    } else if (verb == "USER") {
      reply = "+OK\r\n";
    } else if (verb == "PASS") {
      std::string given = line.size() > 5 ? line.substr(5) : "";
      authenticated_ = given == config_.password;
      reply = authenticated_ ? "+OK Logged in.\r\n" : "-ERR " + config_.authError + "\r\n";
    } else if (verb == "APOP") {
      authenticated_ = config_.apopTimestamp && arg1 == config_.user &&
                       arg2 == md5Hex(kTimestamp + config_.password);
      reply = authenticated_ ? "+OK Logged in.\r\n" : "-ERR " + config_.authError + "\r\n";
    } else if (verb == "AUTH") {
      if (toUpperAscii(arg1) != "PLAIN") {
        reply = "-ERR Unsupported mechanism.\r\n";
      } else if (arg2.empty() || config_.sendContinuationForPlain) {
        plainPending = true;
        reply = "+ \r\n";
      } else {
        authenticated_ = checkPlain(arg2);
        reply = authenticated_ ? "+OK Logged in.\r\n" : "-ERR " + config_.authError + "\r\n";
      }
    } else if (!authenticated_) {
      reply = "-ERR Unknown command or not logged in.\r\n";
    } else if (verb == "STAT") {
      size_t total = 0;
      for (const auto& m : msgs) total += m.size();
      reply = "+OK " + std::to_string(msgs.size()) + " " + std::to_string(total) + "\r\n";
    } else if (verb == "LIST" && arg1.empty()) {
      reply = "+OK " + std::to_string(msgs.size()) + " messages:\r\n";
      for (size_t i = 1; i <= msgs.size(); ++i) {
        reply += std::to_string(i) + " " +
                 std::to_string(static_cast<long>(msgs[i - 1].size()) + config_.listSizeDelta) +
                 "\r\n";
      }
      reply += ".\r\n";
    } else if (verb == "UIDL" && arg1.empty()) {
      if (!config_.uidl) {
        reply = "-ERR Unknown command.\r\n";
      } else {
        reply = "+OK\r\n";
        for (size_t i = 1; i <= msgs.size(); ++i) {
          reply += std::to_string(i) + " " + uidlOf(i) + "\r\n";
        }
        reply += ".\r\n";
      }
    } else if (verb == "RETR" || verb == "TOP") {
      if (verb == "TOP" && !config_.top) {
        reply = "-ERR Unknown command.\r\n";
      } else if (!exists(arg1, n) || config_.refuseRetr.count(static_cast<int>(n))) {
        reply = "-ERR There's no message " + arg1 + ".\r\n";
      } else {
        std::string body = msgs[n - 1];
        if (verb == "TOP") {
          // The header, the blank line, then at most arg2 lines of the body.
          size_t end = body.find("\r\n\r\n");
          if (end != std::string::npos) {
            size_t lines = 0;
            try {
              lines = std::stoul(arg2);
            } catch (...) {
            }
            size_t pos = end + 4;
            for (size_t i = 0; i < lines && pos < body.size(); ++i) {
              size_t lf = body.find('\n', pos);
              pos = lf == std::string::npos ? body.size() : lf + 1;
            }
            body = body.substr(0, pos);
          }
        }
        reply = "+OK " + std::to_string(msgs[n - 1].size()) + " octets\r\n" + multiline(body);
      }
    } else if (verb == "NOOP") {
      reply = "+OK\r\n";
    } else if (verb == "DELE") {
      reply = "-ERR this fake server refuses DELE, and the client must never send it.\r\n";
    } else {
      reply = "-ERR Unknown command: " + verb + "\r\n";
    }
    if (!conn.write(reply)) return;
  }
}

}  // namespace mf::pop3::testing
