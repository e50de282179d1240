#include "cli/pop3_source.h"

#include <utility>

#include "imap/client/login_format.h"

namespace mf::cli {

Result<pop3::AccountOptions> pop3OptionsFor(const imap::AccountOptions& side,
                                            std::shared_ptr<access::UidAllocator> uids,
                                            NoticeFn onNotice) {
  pop3::AccountOptions out;
  out.connect.endpoint = side.connect.endpoint;
  out.connect.tls = side.connect.tls;
  out.connect.allowPlaintext = side.connect.allowPlaintext;
  out.connect.timeouts = side.connect.timeouts;
  out.connect.forceMechanism = side.connect.forceMechanism;
  out.uids = std::move(uids);
  out.onNotice = std::move(onNotice);
  if (side.admin.empty()) {
    out.credentials.user = side.user;
    out.credentials.password = side.password;
    out.credentials.authzid = side.authzid;
    return out;
  }
  if (side.loginFormat.combinesNames()) {
    MF_ASSIGN_OR_RETURN(
        auto name, imap::combineLogin(side.loginFormat, side.user, side.admin, side.adminDomain));
    out.credentials.user = name.name;
  } else {
    // auto and sasl: the admin authenticates and acts as the user (RFC 4616 authzid).
    out.credentials.user = side.admin;
    out.credentials.authzid = side.user;
    if (out.connect.forceMechanism.empty()) out.connect.forceMechanism = "PLAIN";
  }
  out.credentials.password = side.adminPassword;
  return out;
}

Result<std::unique_ptr<access::MailSource>> openPop3Source(
    const imap::AccountOptions& side, std::shared_ptr<access::UidAllocator> uids, NoticeFn onNotice,
    pop3::Pop3Account** account) {
  MF_ASSIGN_OR_RETURN(auto options, pop3OptionsFor(side, std::move(uids), std::move(onNotice)));
  MF_ASSIGN_OR_RETURN(auto opened, pop3::Pop3Account::open(std::move(options)));
  if (account != nullptr) *account = opened.get();
  return std::unique_ptr<access::MailSource>(std::move(opened));
}

}  // namespace mf::cli
