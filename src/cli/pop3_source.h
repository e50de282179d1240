// A POP3 source for migrate and verify: the resolved command-line side turned into a
// pop3::Pop3Account (SPEC.md section 3: the Inbox only, incremental by UIDL, never DELE).
//
// Contract:
// - pop3OptionsFor() maps the side's connect and login options onto the POP3 client's:
//   the user's password (AUTH PLAIN / APOP / USER, or the forced one), or an admin login:
//   a login format that combines names (dovecot "user*admin", a template...) logs in with
//   that name and the admin password; auto / sasl log in as the admin with AUTH PLAIN and
//   authorization identity = the user (RFC 4616; Dovecot master users). `uids` is required
//   (pop3_account.h): the same allocator for every session of one run, so a reconnect sees
//   the same UIDs.
// - The account's notices (no UIDL, dates taken from "now", RETR refused) go to `onNotice`
//   as they happen, on the thread using the account (pop3::AccountOptions::onNotice).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "access/mail_access.h"
#include "access/uid_allocator.h"
#include "imap/client/imap_account.h"
#include "pop3/client/pop3_account.h"

namespace mf::cli {

using NoticeFn = std::function<void(const std::string&)>;

Result<pop3::AccountOptions> pop3OptionsFor(const imap::AccountOptions& side,
                                            std::shared_ptr<access::UidAllocator> uids,
                                            NoticeFn onNotice);

// `account`, if given, receives the opened account (owned by the returned source), e.g. to
// read its greeting.
Result<std::unique_ptr<access::MailSource>> openPop3Source(
    const imap::AccountOptions& side, std::shared_ptr<access::UidAllocator> uids, NoticeFn onNotice,
    pop3::Pop3Account** account = nullptr);

}  // namespace mf::cli
