// The parsed form of one IMAP server response (RFC 3501 section 7, RFC 9051 section 7).
//
// Values keep the server's bytes: strings are unescaped (quoted) or raw (literal), atoms
// are as sent (case preserved). Helpers compare case-insensitively where the RFC says so.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mf::imap {

struct Value {
  enum class Kind {
    kAtom,      // includes flags like \Seen, section specs like BODY[] and "*"
    kNumber,    // a bare number that fits in 64 bits
    kString,    // quoted string (unescaped) or a literal collected in memory
    kNil,       // NIL
    kList,      // ( ... )
    kStreamed,  // a literal whose bytes were streamed out as events, not kept
  };
  Kind kind = Kind::kAtom;
  std::string text;          // atom, string, or the digits of a number
  uint64_t number = 0;       // kNumber; for kStreamed the literal size
  std::vector<Value> items;  // kList

  bool isAtom(std::string_view upper) const;  // case-insensitive atom comparison
  bool isString() const { return kind == Kind::kString || kind == Kind::kAtom; }
  // Text of an atom/string/number; empty for NIL and lists.
  std::string_view asText() const { return text; }
};

enum class ResponseType {
  kTagged,        // "A1 OK ..."
  kUntagged,      // "* ..."
  kContinuation,  // "+ ..."
};

struct Response {
  ResponseType type = ResponseType::kUntagged;
  std::string tag;  // kTagged only

  // Status responses (tagged, or untagged OK/NO/BAD/BYE/PREAUTH): the upper-cased status,
  // the response code if any ("[APPENDUID 38505 3955]" -> code "APPENDUID",
  // codeArgs "38505 3955" raw), and the human-readable text after it.
  std::string status;    // "OK", "NO", "BAD", "BYE", "PREAUTH"; empty for data responses
  std::string code;      // upper-cased, empty if none
  std::string codeArgs;  // raw bytes between the code atom and ']', trimmed
  std::string text;      // rest of line (for continuations: the text after "+ ")

  // Untagged data responses: "* 23 EXISTS" -> number 23, name "EXISTS";
  // "* 5 FETCH (UID 9 FLAGS (\Seen))" -> number 5, name "FETCH", values [list];
  // "* LIST (\Noselect) "/" foo" -> name "LIST", values [list, "/", foo].
  std::optional<uint64_t> number;
  std::string name;  // upper-cased
  std::vector<Value> values;

  bool isStatus() const { return !status.empty(); }
  bool isOk() const { return status == "OK"; }
};

// For a FETCH response's list: the value following the item name `key` (case-insensitive),
// e.g. fetchItem(list, "UID"). Returns nullptr if absent.
const Value* fetchItem(const Value& fetchList, std::string_view key);

}  // namespace mf::imap
