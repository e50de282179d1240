// Pipelined, streamed APPENDs on one IMAP connection, optionally grouped into MULTIAPPEND
// commands (RFC 3502), for ImapAccount's MailDestination side.
//
// Contract:
// - begin(request) / data(chunk)* / end() per message; the message's bytes are written as
//   they come (coalesced into writes of up to 128 KB), never held whole.
// - With batching (setBatching(n, bytes) and the server's MULTIAPPEND), consecutive messages
//   share one APPEND command until n messages or `bytes` would be exceeded, or flush() is
//   called. A MULTIAPPEND is all or nothing: when the server refuses it, every message of it
//   gets the refusal with AppendResult::inBatch set, so the caller can retry them singly.
// - With LITERAL+ (RFC 7888) nothing waits for the server; without it, each literal waits for
//   the "+" continuation (a refusal instead means the message is skipped, its bytes dropped).
// - collect(wait) returns finished results; with wait it first closes the open command and
//   sends buffered bytes (the server cannot answer otherwise), then blocks for >= 1 result.
// - APPENDUID (RFC 4315) gives the destination UIDs, also as a UID set for a MULTIAPPEND.
// Threading: the owning ImapAccount's thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "access/mail_access.h"
#include "imap/client/connection.h"

namespace mf::imap {

class AppendPipeline {
 public:
  explicit AppendPipeline(Connection& conn) : conn_(conn) {}

  void setMailbox(const std::string& wireName) { mailbox_ = wireName; }
  void setBatching(size_t maxMessages, uint64_t maxBytes);

  Status begin(const access::AppendRequest& request);
  Status data(std::string_view chunk);
  Status end();
  Status flush();
  Result<std::vector<access::AppendResult>> collect(bool wait);
  size_t inFlight() const { return messagesInFlight_; }
  // True while a command is only partly written (inside a literal, or a MULTIAPPEND not yet
  // closed): the connection can then only be abandoned, not logged out.
  // Unsent buffered bytes count too: anything written directly (a LOGOUT) would overtake them.
  bool midCommand() const { return remaining_ != 0 || open_.has_value() || !buffer_.empty(); }

  // Sends `command` (one without literals, e.g. a UID STORE) between two messages and reads
  // up to its tagged answer, which it returns; answers to APPENDs read meanwhile are handled
  // as collect() would (their results come with the next collect()). An open MULTIAPPEND is
  // closed first. Not inside a message (between begin() and end()).
  Result<Response> runBetween(CommandBuilder& command);

  // Handles a response read by someone else (e.g. while waiting for a continuation).
  Status handleResponse(Response& r);

 private:
  struct Command {
    std::string tag;
    std::vector<uint64_t> tickets;
  };
  Status closeCommand();
  Status sendBuffered();
  Status waitForContinuation(const std::string& tag);

  Connection& conn_;
  std::string mailbox_;
  size_t batchMessages_ = 1;
  uint64_t batchBytes_ = 0;

  std::deque<Command> commands_;        // sent (or being sent), not yet answered
  std::optional<CommandBuilder> open_;  // the command still taking messages
  size_t openCount_ = 0;
  uint64_t openBytes_ = 0;
  size_t messagesInFlight_ = 0;
  std::vector<access::AppendResult> completed_;
  uint64_t remaining_ = 0;  // bytes of the current literal still to come
  bool discard_ = false;    // current literal refused before it was sent
  std::string buffer_;      // coalesced outgoing bytes
};

// "101:103,105" -> {101,102,103,105}; empty on a malformed set or one above `limit` UIDs.
std::vector<uint32_t> expandUidSet(std::string_view set, size_t limit);

}  // namespace mf::imap
