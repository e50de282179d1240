// Builds IMAP command lines with correct quoting (DESIGN.md practice 3): never concatenate
// user data into a command by hand.
//
// CommandBuilder b("A7", "LOGIN"); b.astring(user); b.astring(password);
// Each argument is written as an atom when it is a valid atom (RFC 3501 ATOM-CHAR, and not
// "NIL"), as a quoted string when it is 7-bit without CR/LF/NUL, otherwise as a literal.
// Literals are "{n+}\r\n" with LITERAL+ (RFC 7888) or "{n}\r\n" synchronizing otherwise; the
// built command is then a sequence of segments, and the sender must wait for a "+"
// continuation after each segment that ends in a synchronizing literal header.
//
// build() returns the segments; the last ends with CRLF. Raw pieces (already-valid syntax
// such as "(\Seen \Flagged)" or "1:*") are added with raw(); the flag-list and sequence-set
// helpers validate their parts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mf::imap {

struct CommandSegment {
  std::string bytes;
  bool waitForContinuation = false;  // a synchronizing literal header ends this segment
};

class CommandBuilder {
 public:
  CommandBuilder(std::string_view tag, std::string_view command, bool literalPlus = false);

  CommandBuilder& raw(std::string_view text);  // appended after a space
  // A bare token of our own syntax ("UID", "BODY.PEEK[]", "\Seen", "1:*"): ATOM-CHAR plus
  // '\' '*' '%' ']'. Asserts in debug; in release a text that is not such a token (space,
  // CR/LF, quotes, parentheses, 8-bit) is written as astring() instead.
  CommandBuilder& atom(std::string_view text);
  CommandBuilder& number(uint64_t value);
  CommandBuilder& astring(std::string_view text);          // atom, quoted or literal as needed
  CommandBuilder& quotedOrLiteral(std::string_view text);  // never an atom (passwords, search keys)
  CommandBuilder& literal(std::string_view bytes);         // always a literal
  // A flag list "(\Seen $Label)". Flags that are not valid flag atoms are dropped and
  // returned through `rejected` if given.
  CommandBuilder& flagList(const std::vector<std::string>& flags,
                           std::vector<std::string>* rejected = nullptr);
  // Starts a literal whose `size` bytes the caller sends itself (streamed APPEND body):
  // writes " {size+}\r\n" / " {size}\r\n" and ends the current segment.
  CommandBuilder& literalHeader(uint64_t size);
  // Opens / closes a parenthesised group: " (" ... ")" without a space after "(".
  CommandBuilder& openList();
  CommandBuilder& closeList();

  // Returns the segments accumulated so far and clears them; used after literalHeader():
  // the caller sends these, then the literal's bytes, then goes on adding arguments to the
  // same builder (MULTIAPPEND: another flag list, date and literal) and finally build().
  std::vector<CommandSegment> takeSegments();
  // Finishes the command with CRLF and returns all remaining segments.
  std::vector<CommandSegment> build();

  static bool isAtom(std::string_view text);
  static bool isQuotable(std::string_view text);
  static bool isFlag(std::string_view text);

 private:
  void separator();
  std::vector<CommandSegment> segments_;
  std::string current_;
  bool literalPlus_;
  bool needSpace_ = true;
};

}  // namespace mf::imap
