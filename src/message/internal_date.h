// The internal date to give a message that has none of its own (a POP3 message, SPEC.md
// section 3): when the message reached the mailbox. Pure.
//
// Order (the rule):
//  1. the date of the topmost Received field (the last hop, i.e. the delivery into this
//     mailbox; RFC 5321 section 4.4: each hop prepends its Received field): the date-time
//     after the field's last ';' (RFC 5322 section 3.6.7). A topmost field without a
//     readable date falls through to the next Received field down, the next-newest hop;
//  2. else the Date field (RFC 5322 section 3.6.1: when the author sent it);
//  3. else `now`, which the caller must report: a re-read gives a different time.
// The zone is kept as written, so "Tue, 1 Jul 2003 10:52:37 +0200" becomes
// "01-Jul-2003 10:52:37 +0200". Only the header block is looked at (up to the first empty
// line); bare LF line ends, folded fields and 8-bit bytes are tolerated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "message/rfc5322_date.h"

namespace mf::message {

enum class DateSource { kReceived, kDate, kNow };

// "Received", "Date", "now".
std::string_view dateSourceName(DateSource source);

struct InternalDate {
  DateTime when;
  DateSource source = DateSource::kNow;
  std::string imapDateTime;  // formatImapDateTime(when)
};

// `message` may be the header block alone (POP3 TOP n 0) or the whole message.
// `nowEpoch` is used, in UTC, when neither field gives a date.
InternalDate internalDateFromHeader(std::string_view message, int64_t nowEpoch);

}  // namespace mf::message
