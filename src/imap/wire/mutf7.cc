// Modified UTF-7 (RFC 3501 section 5.1.3); the contract is in mutf7.h.
//
// In short: printable ASCII 0x20-0x7e stands for itself, except '&', written "&-". Every
// other character is UTF-16 (surrogate pairs beyond the BMP), big-endian, in base64 with
// ',' instead of '/' and no padding, between '&' and '-'.
#include "imap/wire/mutf7.h"

#include <cstdint>

namespace mf::imap {
namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == ',') return 63;
  return -1;
}

bool isDirect(uint32_t c) {
  return c >= 0x20 && c <= 0x7e;
}

// Reads one code point of strict UTF-8 at `pos` (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF). Returns false on invalid input.
bool readUtf8(std::string_view s, size_t& pos, uint32_t& cp) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b0 = byte(pos);
  size_t len;
  uint32_t min;
  if (b0 < 0x80) {
    cp = b0;
    pos += 1;
    return true;
  } else if ((b0 & 0xe0) == 0xc0) {
    len = 2, cp = b0 & 0x1f, min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3, cp = b0 & 0x0f, min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (s.size() - pos < len) return false;
  for (size_t i = 1; i < len; ++i) {
    unsigned char b = byte(pos + i);
    if ((b & 0xc0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  pos += len;
  return true;
}

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// Accumulates UTF-16 units and writes them as modified base64.
class Base64Writer {
 public:
  explicit Base64Writer(std::string& out) : out_(out) {}
  void unit(uint32_t u) {
    bits_ = (bits_ << 16) | (u & 0xffff);
    nbits_ += 16;
    while (nbits_ >= 6) {
      nbits_ -= 6;
      out_ += kBase64[(bits_ >> nbits_) & 0x3f];
    }
    bits_ &= (1u << nbits_) - 1;
  }
  // Pads the last partial sextet with zero bits, as RFC 2152 requires.
  void flush() {
    if (nbits_ > 0) out_ += kBase64[(bits_ << (6 - nbits_)) & 0x3f];
    bits_ = 0;
    nbits_ = 0;
  }

 private:
  std::string& out_;
  uint32_t bits_ = 0;  // the low nbits_ bits are pending
  int nbits_ = 0;
};

// The name itself is left out: the caller knows it and decides whether to log it.
Status invalid(std::string_view what) {
  return Status(Errc::kProtocol, "invalid modified UTF-7 mailbox name: " + std::string(what));
}

}  // namespace

Result<std::string> encodeMutf7(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size() + utf8.size() / 2);
  Base64Writer writer(out);
  bool shifted = false;
  size_t pos = 0;
  while (pos < utf8.size()) {
    size_t at = pos;
    uint32_t cp;
    if (!readUtf8(utf8, pos, cp)) {
      return Status(Errc::kConfig,
                    "mailbox name is not valid UTF-8 (byte " + std::to_string(at) + ")");
    }
    if (isDirect(cp)) {
      if (shifted) {
        writer.flush();
        out += '-';
        shifted = false;
      }
      out += static_cast<char>(cp);
      if (cp == '&') out += '-';
      continue;
    }
    if (!shifted) {
      out += '&';
      shifted = true;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      writer.unit(0xd800 | (cp >> 10));
      writer.unit(0xdc00 | (cp & 0x3ff));
    } else {
      writer.unit(cp);
    }
  }
  if (shifted) {
    writer.flush();
    out += '-';
  }
  return out;
}

Result<std::string> decodeMutf7(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t pos = 0;
  while (pos < in.size()) {
    auto c = static_cast<unsigned char>(in[pos]);
    if (c != '&') {
      if (!isDirect(c)) return invalid("byte outside printable ASCII");
      out += static_cast<char>(c);
      ++pos;
      continue;
    }
    ++pos;
    if (pos < in.size() && in[pos] == '-') {  // "&-" is '&'
      out += '&';
      ++pos;
      continue;
    }
    uint32_t bits = 0;
    int nbits = 0;
    uint32_t high = 0;  // a pending high surrogate
    for (;;) {
      if (pos == in.size()) return invalid("unterminated '&' shift");
      char ch = in[pos++];
      if (ch == '-') break;
      int v = base64Value(ch);
      if (v < 0) return invalid("bad base64 byte in '&' shift");
      bits = (bits << 6) | static_cast<uint32_t>(v);
      nbits += 6;
      if (nbits < 16) continue;
      nbits -= 16;
      uint32_t unit = (bits >> nbits) & 0xffff;
      bits &= (1u << nbits) - 1;
      if (high != 0) {
        if (unit < 0xdc00 || unit > 0xdfff) return invalid("unpaired high surrogate");
        appendUtf8(out, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
        high = 0;
      } else if (unit >= 0xd800 && unit <= 0xdbff) {
        high = unit;
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        return invalid("unpaired low surrogate");
      } else {
        // Printable ASCII encoded in base64 breaks the RFC's "must" but is unambiguous;
        // accepting it lets us read names written by sloppy clients.
        appendUtf8(out, unit);
      }
    }
    // What is left must be padding: under 6 bits, all zero (RFC 2152). A surrogate pair
    // split across two shifts is not valid UTF-16 inside one shift, so it is rejected.
    if (nbits >= 6 || bits != 0) return invalid("bad base64 padding in '&' shift");
    if (high != 0) return invalid("unpaired high surrogate");
  }
  return out;
}

}  // namespace mf::imap
