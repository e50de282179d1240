// Connection::login(): choosing the login scheme, running it, and checking the session.
//
// Which scheme, when none is forced (--from-auth / --to-auth):
// 1. An access token: OAUTHBEARER (RFC 7628, the standard one, with defined error reports),
//    else XOAUTH2 (Google, Microsoft), whichever is advertised.
// 2. An admin with login format auto: Kerio's X-MASTERAUTH or GroupWise's XGWTRUSTEDAPP when
//    advertised (each is that server's own admin login), else SASL PLAIN with authzid = user
//    (works on Dovecot, Cyrus, Zimbra, Exchange with FullAccess), else a user name that
//    already holds a combination is used as given.
// 3. A password (the user's, or the admin's under a login name built by login_format.h):
//    - without TLS (only with --allow-plaintext): CRAM-MD5 first if offered, so the password
//      itself does not cross the network;
//    - AUTHENTICATE PLAIN: UTF-8 by definition (RFC 4616), one round trip with SASL-IR,
//      carries an authzid; with TLS it is as safe as any, and more compatible than CRAM-MD5,
//      which fails on servers that keep passwords in a directory they cannot read back
//      (Kerio, MDaemon with Active Directory advertise it anyway);
//    - the LOGIN command unless LOGINDISABLED (RFC 3501 6.2.3), then AUTHENTICATE LOGIN,
//      then CRAM-MD5.
//    Passwords are always quoted strings or literals (QUIRKS.md: Dovecot refuses specials in
//    atoms), inside SASL they are raw bytes.
// After the login, the capabilities are refreshed if the OK did not carry them (RFC 3501
// 7.2.1: they may change) and `LIST "" ""` (6.3.8; valid only when authenticated, cheap
// everywhere) proves the session works: Exchange and Office 365 accept some bad logins and
// then fail every command with "User is authenticated but not connected" (QUIRKS.md). A
// refusal of these two that says so is a login failure; any other refusal is left to the
// commands that follow, so a server with a harmless quirk is not turned away.
#include <algorithm>

#include "base/ascii.h"
#include "base/base64.h"
#include "imap/client/connection.h"
#include "imap/client/sasl.h"
#include "imap/client/server_errors.h"

namespace mf::imap {
namespace {

using sasl::Scheme;

// An AUTHENTICATE exchange is a handful of steps; more means a confused or hostile server.
constexpr int kMaxSaslSteps = 8;

void wipe(std::string& s) {
  volatile char* p = s.data();
  for (size_t i = 0; i < s.size(); ++i) p[i] = 0;
}

std::string words(const Response& r) {
  std::string out;
  if (!r.code.empty()) {
    out += "[" + r.code;
    if (!r.codeArgs.empty()) out += " " + r.codeArgs;
    out += "] ";
  }
  out += r.text;
  return sasl::printable(out, 300);
}

// The server's words as a sentence: a final '.' added unless it has one.
std::string sentence(const Response& r) {
  std::string out = words(r);
  if (out.empty() || (out.back() != '.' && out.back() != '!' && out.back() != '?')) out += '.';
  return out;
}

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// "--from-NAME" (or both sides when the caller did not say).
std::string option(const Credentials& c, std::string_view name) {
  if (c.side.empty()) return "--from-" + std::string(name) + " / --to-" + std::string(name);
  return "--" + c.side + "-" + std::string(name);
}

std::string adminPasswordSource(const Credentials& c) {
  std::string env = c.side.empty() ? "MAILFERRY_FROM_ADMIN_PASSWORD / MAILFERRY_TO_ADMIN_PASSWORD"
                                   : "MAILFERRY_" + toUpperAscii(c.side) + "_ADMIN_PASSWORD";
  return "the admin password (" + env + " or " + option(c, "admin-password-file") + ")";
}

enum class ServerFamily { kUnknown, kDovecot, kExchange, kKerio, kGroupWise, kCyrus };

ServerFamily familyOf(std::string_view greeting) {
  if (containsIgnoreCase(greeting, "Dovecot")) return ServerFamily::kDovecot;
  if (containsIgnoreCase(greeting, "Exchange")) return ServerFamily::kExchange;
  if (containsIgnoreCase(greeting, "Kerio")) return ServerFamily::kKerio;
  if (containsIgnoreCase(greeting, "GroupWise")) return ServerFamily::kGroupWise;
  if (containsIgnoreCase(greeting, "Cyrus")) return ServerFamily::kCyrus;
  return ServerFamily::kUnknown;
}

// A NO/BAD that says the session is not logged in after all. Other refusals of the check
// (a server that dislikes LIST "" "") are left to the commands that follow.
bool looksUnauthenticated(const Response& r) {
  const std::string text = toUpperAscii(r.code + " " + r.text);
  for (std::string_view marker :
       {"AUTHENTICATED BUT NOT CONNECTED", "NOT AUTHENTICATED", "UNAUTHENTICATED", "NOT LOGGED IN",
        "INVALID STATE", "LOGIN FIRST", "LOG IN FIRST", "AUTHENTICATIONFAILED"}) {
    if (text.find(marker) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

struct Connection::LoginPlan {
  enum class Kind { kUser, kAdminName, kAdminSasl, kKerio, kGroupWise, kToken };
  Kind kind = Kind::kUser;
  Scheme scheme = Scheme::kPlain;
  bool forced = false;
  std::string loginName;  // authcid, LOGIN user, OAuth user
  std::string authzid;    // PLAIN only
  Secret secret;          // password, admin password, token, master password or app key
  std::string mailbox;    // Kerio X-SETUSER and GroupWise LOGIN: the mailbox's user
  std::string description;
  std::string remedy;
};

Status Connection::login(const std::string& user, const Secret& password) {
  Credentials c;
  c.user = user;
  c.password = password;
  return login(c);
}

Status Connection::login(const Credentials& credentials) {
  if (preauth_) {
    loginDescription_ = "PREAUTH (the server logged the session in itself)";
    return Status::ok();
  }
  MF_ASSIGN_OR_RETURN(LoginPlan plan, planLogin(credentials));
  MF_RETURN_IF_ERROR(runLogin(plan));
  MF_RETURN_IF_ERROR(checkSession(plan));
  loginDescription_ = plan.description + " with " + std::string(sasl::schemeName(plan.scheme));
  if (options_.compress && hasCapability("COMPRESS=DEFLATE")) {
    MF_RETURN_IF_ERROR(startCompression());
  }
  return Status::ok();
}

Status Connection::startCompression() {
  CommandBuilder cmd(nextTag(), "COMPRESS");
  cmd.atom("DEFLATE");
  MF_ASSIGN_OR_RETURN(Response done, execute(cmd));
  if (!done.isOk()) {
    // E.g. [COMPRESSIONACTIVE] when TLS already compresses: carry on without it.
    loginDescription_ += " (the server refused COMPRESS: " + serverWords(done) + ")";
    return Status::ok();
  }
  // Everything the server sends after its OK is compressed, including any bytes already
  // read into our buffer behind the OK: they go to the inflater first.
  MF_ASSIGN_OR_RETURN(auto wrapped, net::wrapDeflate(std::move(stream_), pending_, /*level=*/1,
                                                     options_.endpoint.hostPort()));
  pending_ = {};
  deflate_ = wrapped.get();
  stream_ = std::move(wrapped);
  loginDescription_ += ", compressed (COMPRESS=DEFLATE)";
  return Status::ok();
}

std::string Connection::offeredMechanisms() const {
  std::string out;
  auto add = [&](std::string_view m) {
    if (!out.empty()) out += ", ";
    out += m;
  };
  if (!hasCapability("LOGINDISABLED")) add("LOGIN");
  for (const auto& cap : capabilities_) {
    if (cap.rfind("AUTH=", 0) == 0) add(std::string_view(cap).substr(5));
  }
  if (hasCapability("X-MASTERAUTH")) add("X-MASTERAUTH");
  return out.empty() ? "none" : out;
}

Result<Connection::LoginPlan> Connection::planLogin(const Credentials& c) const {
  const std::string where = options_.endpoint.hostPort();
  std::optional<Scheme> forced;
  if (!options_.forceMechanism.empty()) {
    forced = sasl::parseScheme(options_.forceMechanism);
    if (!forced) {
      return Status(Errc::kUsage, "unknown login mechanism '" + options_.forceMechanism + "' for " +
                                      option(c, "auth") + ": use one of " +
                                      std::string(sasl::schemeList()));
    }
  }
  auto offers = [&](std::string_view mech) { return hasCapability("AUTH=" + std::string(mech)); };

  LoginPlan plan;
  plan.forced = forced.has_value();
  plan.mailbox = c.user;

  // Password schemes, in the order of the header comment.
  auto choosePasswordScheme = [&](bool needAuthzid) -> Result<Scheme> {
    if (forced) {
      Scheme f = *forced;
      if (f == Scheme::kXoauth2 || f == Scheme::kOauthBearer) {
        return Status(Errc::kUsage, std::string(sasl::schemeName(f)) +
                                        " needs an access token: "
                                        "give it with " +
                                        option(c, "oauth-token-file"));
      }
      if (f == Scheme::kKerioMasterAuth || f == Scheme::kGroupWiseTrusted) {
        return Status(Errc::kUsage, std::string(sasl::schemeName(f)) +
                                        " is an admin login: "
                                        "give the admin with " +
                                        option(c, "admin"));
      }
      if (needAuthzid && f != Scheme::kPlain) {
        return Status(Errc::kUsage,
                      "an authorization identity (login format sasl) is only "
                      "carried by AUTHENTICATE PLAIN, not by " +
                          std::string(sasl::schemeName(f)));
      }
      if (f == Scheme::kLoginCommand && hasCapability("LOGINDISABLED")) {
        return Status(Errc::kPlaintextRefused,
                      where + " announces LOGINDISABLED: it refuses the LOGIN command on this " +
                          (encrypted_ ? std::string("connection") : "unencrypted connection") +
                          " (" + option(c, "auth") + " LOGIN). It offers: " + offeredMechanisms() +
                          ". Use imaps:// (TLS) or imap:// with STARTTLS, "
                          "or choose one of those mechanisms.");
      }
      return f;
    }
    if (needAuthzid) {
      if (offers("PLAIN")) return Scheme::kPlain;
      return Status(Errc::kAuth, ErrorClass::kConfiguration,
                    where +
                        " does not offer AUTHENTICATE PLAIN, which an admin login with the "
                        "sasl login format needs (it offers: " +
                        offeredMechanisms() +
                        "). Choose a login format that builds a login name (" +
                        option(c, "login-format") +
                        " exchange, dovecot, mirapoint or a "
                        "template).");
    }
    if (!encrypted_ && offers("CRAM-MD5")) return Scheme::kCramMd5;
    if (offers("PLAIN")) return Scheme::kPlain;
    if (!hasCapability("LOGINDISABLED")) return Scheme::kLoginCommand;
    if (offers("LOGIN")) return Scheme::kLogin;
    if (offers("CRAM-MD5")) return Scheme::kCramMd5;
    if (!encrypted_) {
      return Status(Errc::kPlaintextRefused,
                    where +
                        " refuses logins on this unencrypted connection (LOGINDISABLED) and "
                        "offers no other mechanism mailferry can use (it offers: " +
                        offeredMechanisms() +
                        "). Connect with TLS: imaps:// (port 993), "
                        "or imap:// if the server offers STARTTLS.");
    }
    return Status(Errc::kAuth, ErrorClass::kConfiguration,
                  where + " offers no login mechanism mailferry supports (it offers: " +
                      offeredMechanisms() + ").");
  };

  if (!c.oauthToken.empty()) {
    plan.kind = LoginPlan::Kind::kToken;
    plan.loginName = c.user;
    plan.secret = c.oauthToken;
    if (forced) {
      if (*forced != Scheme::kXoauth2 && *forced != Scheme::kOauthBearer) {
        return Status(Errc::kUsage,
                      "an access token logs in only with XOAUTH2 or OAUTHBEARER, "
                      "not " +
                          std::string(sasl::schemeName(*forced)));
      }
      plan.scheme = *forced;
    } else if (offers("OAUTHBEARER")) {
      plan.scheme = Scheme::kOauthBearer;
    } else if (offers("XOAUTH2")) {
      plan.scheme = Scheme::kXoauth2;
    } else {
      return Status(Errc::kAuth, ErrorClass::kConfiguration,
                    where +
                        " offers neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2, so the access "
                        "token cannot be used (it offers: " +
                        offeredMechanisms() + "). Log in with a password, or force one with " +
                        option(c, "auth") + " if the server accepts it unannounced.");
    }
    plan.description = "OAuth login as " + quoted(c.user);
    plan.remedy =
        "The access token may have expired, or lack the IMAP scope: get a fresh token "
        "(" +
        option(c, "oauth-token-file") + ").";
    return plan;
  }

  if (!c.admin.empty()) {
    const LoginFormat& format = c.loginFormat;
    const bool autoFormat = format.kind == LoginFormatKind::kAuto;
    const bool combined = alreadyCombined(format, c.user);
    plan.secret = c.adminPassword;
    const bool kerio = forced ? *forced == Scheme::kKerioMasterAuth
                              : autoFormat && !combined &&
                                    (hasCapability("X-MASTERAUTH") || offers("X-MASTERAUTH"));
    const bool groupWise = forced ? *forced == Scheme::kGroupWiseTrusted
                                  : autoFormat && !combined && offers("XGWTRUSTEDAPP");
    if (kerio) {
      plan.kind = LoginPlan::Kind::kKerio;
      plan.scheme = Scheme::kKerioMasterAuth;
      plan.description = "Kerio master login for " + quoted(c.user);
      plan.remedy = "Check the master password (" + adminPasswordSource(c) +
                    ") and that Master Authentication is enabled for this client's IP address "
                    "(Kerio webadmin: Configuration > Advanced Options > Master Authentication).";
      return plan;
    }
    if (groupWise) {
      plan.kind = LoginPlan::Kind::kGroupWise;
      plan.scheme = Scheme::kGroupWiseTrusted;
      plan.loginName = c.admin;
      plan.description =
          "GroupWise trusted-application login as " + quoted(c.admin) + " for " + quoted(c.user);
      plan.remedy = "Check the trusted application's name (" + option(c, "admin") + ") and key (" +
                    adminPasswordSource(c) +
                    "): GroupWise answers \"no XGWTRUSTEDAPP (D074)\" when they do not match.";
      return plan;
    }
    const bool sasl =
        format.kind == LoginFormatKind::kSasl ||
        (autoFormat && !combined && (forced ? *forced == Scheme::kPlain : offers("PLAIN")));
    if (sasl) {
      plan.kind = LoginPlan::Kind::kAdminSasl;
      MF_ASSIGN_OR_RETURN(plan.scheme, choosePasswordScheme(true));
      plan.loginName = c.admin;
      plan.authzid = c.user;
      plan.description = "admin login for " + quoted(c.user) + " as admin " + quoted(c.admin) +
                         " (authorization identity " + quoted(c.user) + ")";
      plan.remedy = "Check " + adminPasswordSource(c) + ", and that " + quoted(c.admin) +
                    " may act for other users on this server (a Dovecot master user, a Cyrus "
                    "or Zimbra admin, Exchange FullAccess).";
      return plan;
    }
    plan.kind = LoginPlan::Kind::kAdminName;
    if (autoFormat && !combined && forced) {
      return Status(Errc::kUsage,
                    "with " + option(c, "auth") + " " + std::string(sasl::schemeName(*forced)) +
                        ", an admin login needs a login format that builds the "
                        "login name: " +
                        option(c, "login-format") + " exchange|dovecot|mirapoint|'TEMPLATE'");
    }
    if (autoFormat && !combined) {
      return Status(Errc::kAuth, ErrorClass::kConfiguration,
                    where +
                        " offers no admin login mailferry can pick by itself (no "
                        "AUTH=PLAIN for an authorization identity, no Kerio X-MASTERAUTH, "
                        "no GroupWise AUTH=XGWTRUSTEDAPP; it offers: " +
                        offeredMechanisms() +
                        "). Say how this server combines user and "
                        "admin with " +
                        option(c, "login-format") + " exchange|dovecot|mirapoint|'TEMPLATE'.");
    }
    if (combined) {
      plan.loginName = c.user;
      plan.description = "admin login as " + quoted(c.user) +
                         " (the user name already holds "
                         "the admin, used as given)";
    } else {
      MF_ASSIGN_OR_RETURN(CombinedLogin name, combineLogin(format, c.user, c.admin, c.adminDomain));
      plan.loginName = name.name;
      plan.description = "admin login as " + quoted(name.name) + " (admin " + quoted(c.admin) +
                         " for " + quoted(c.user) + ", login format " + format.describe() + ")";
    }
    MF_ASSIGN_OR_RETURN(plan.scheme, choosePasswordScheme(false));
    plan.remedy = "Check " + adminPasswordSource(c) +
                  ", and that this server accepts admin "
                  "logins written as " +
                  quoted(plan.loginName) + " (" + option(c, "login-format") + ").";
    // Say which format the server is known for when it is not the one used.
    const ServerFamily family = familyOf(greeting_);
    const auto kind = format.kind;
    if (family == ServerFamily::kDovecot && kind != LoginFormatKind::kDovecot) {
      plan.remedy +=
          " This server looks like Dovecot, whose master users log in as "
          "'user*admin' (" +
          option(c, "login-format") +
          " dovecot) or with SASL "
          "PLAIN (" +
          option(c, "login-format") + " sasl).";
    } else if (family == ServerFamily::kExchange && kind != LoginFormatKind::kExchange &&
               kind != LoginFormatKind::kExchangeSlash) {
      plan.remedy +=
          " This server looks like Microsoft Exchange, whose admin logins are "
          "'domain\\admin\\user' (" +
          option(c, "login-format") +
          " exchange) or SASL "
          "PLAIN (" +
          option(c, "login-format") + " sasl).";
    } else if (family == ServerFamily::kKerio || family == ServerFamily::kGroupWise ||
               family == ServerFamily::kCyrus) {
      plan.remedy +=
          " This server's own admin login is chosen by " + option(c, "login-format") + " auto.";
    }
    return plan;
  }

  plan.kind = LoginPlan::Kind::kUser;
  plan.loginName = c.user;
  plan.authzid = c.authzid;
  plan.secret = c.password;
  MF_ASSIGN_OR_RETURN(plan.scheme, choosePasswordScheme(!c.authzid.empty()));
  plan.description = "login as " + quoted(c.user);
  if (!c.authzid.empty()) plan.description += " for " + quoted(c.authzid);
  plan.remedy = "Check the user name and password.";
  return plan;
}

Status Connection::runLogin(const LoginPlan& plan) {
  capabilitiesFromLogin_ = false;
  switch (plan.scheme) {
    case Scheme::kLoginCommand:
      return loginCommand(plan, plan.loginName, plan.secret);
    case Scheme::kKerioMasterAuth:
      return kerioMasterAuth(plan);
    case Scheme::kGroupWiseTrusted:
      return groupWiseTrustedApp(plan);
    default:
      return authenticate(plan);
  }
}

bool Connection::absorbLoginCapabilities(const Response& done) {
  if (done.code != "CAPABILITY") return false;
  absorbCapabilityCode(done);
  capabilitiesFromLogin_ = true;
  return true;
}

Status Connection::refused(const LoginPlan& plan, const Response& answer) const {
  std::string text = plan.description + " at " + options_.endpoint.hostPort() + " was refused (" +
                     std::string(sasl::schemeName(plan.scheme));
  const std::string_view mech = sasl::saslName(plan.scheme);
  if (plan.forced && !mech.empty() && !hasCapability("AUTH=" + std::string(mech))) {
    text += ", which the server does not advertise";
  }
  text += "): " + answer.status + " " + sentence(answer) + " ";
  // RFC 5530 response codes that say the credentials were not the problem.
  if (answer.code == "LIMIT") {
    // Dovecot's mail_max_userip_connections, Gmail's 15 sessions per account, ...
    // Not retried: the sessions that fill the cap (a phone, a desktop client) seldom end
    // by themselves. A run's extra connections just go without (sync/migrator.cc).
    text +=
        "The server limits how many sessions this user may hold at once: close other mail "
        "apps connected to this mailbox, or lower --parallel.";
    return Status(Errc::kAuth, ErrorClass::kConfiguration, text);
  }
  if (answer.code == "UNAVAILABLE") {
    text += "The server cannot log this user in just now: try again later.";
    return Status(Errc::kAuth, ErrorClass::kRetry, text);
  }
  text += plan.remedy;
  return Status(Errc::kAuth, ErrorClass::kConfiguration, text);
}

Result<Response> Connection::executeSecret(CommandBuilder& command) {
  std::vector<CommandSegment> segments = command.build();
  if (segments.empty()) return Status(Errc::kInternal, "empty command");
  const std::string tag = segments.front().bytes.substr(0, segments.front().bytes.find(' '));
  std::optional<Response> early;  // the server answered before the literal was sent
  Status sent = send(segments, [&](Response& r) -> Status {
    if (r.type == ResponseType::kTagged && r.tag == tag) early = r;
    return Status::ok();
  });
  for (auto& segment : segments) wipe(segment.bytes);
  if (early) return *early;
  MF_RETURN_IF_ERROR(sent);
  for (;;) {
    MF_ASSIGN_OR_RETURN(Response r, readResponse());
    if (r.type == ResponseType::kTagged && r.tag == tag) return r;
    if (r.type == ResponseType::kUntagged && r.status == "BYE") {
      return Status(Errc::kClosed, options_.endpoint.hostPort() +
                                       " closed the session during the login (BYE): " + words(r));
    }
    if (r.type == ResponseType::kUntagged && r.name == "CAPABILITY") {
      capabilities_.clear();
      for (const auto& v : r.values) capabilities_.insert(toUpperAscii(v.text));
      capabilitiesFromLogin_ = true;
    }
  }
}

Status Connection::loginCommand(const LoginPlan& plan, std::string_view user,
                                const Secret& password) {
  CommandBuilder cmd(nextTag(), "LOGIN", literalPlus());
  // Never atoms (QUIRKS.md, Dovecot "Invalid characters in atom"); 8-bit goes as a literal.
  cmd.quotedOrLiteral(user);
  cmd.quotedOrLiteral(password.reveal());
  MF_ASSIGN_OR_RETURN(Response done, executeSecret(cmd));
  if (!done.isOk()) return refused(plan, done);
  absorbLoginCapabilities(done);
  return Status::ok();
}

Status Connection::authenticate(const LoginPlan& plan) {
  std::unique_ptr<sasl::Mechanism> mech;
  switch (plan.scheme) {
    case Scheme::kPlain:
      mech = sasl::makePlain(plan.authzid, plan.loginName, plan.secret);
      break;
    case Scheme::kLogin:
      mech = sasl::makeLogin(plan.loginName, plan.secret);
      break;
    case Scheme::kCramMd5:
      mech = sasl::makeCramMd5(plan.loginName, plan.secret);
      break;
    case Scheme::kXoauth2:
      mech = sasl::makeXoauth2(plan.loginName, plan.secret);
      break;
    case Scheme::kOauthBearer:
      mech = sasl::makeOauthBearer(plan.loginName, options_.endpoint.host, options_.endpoint.port,
                                   plan.secret);
      break;
    default:
      return Status(Errc::kInternal, "not a SASL scheme");
  }
  const std::string tag = nextTag();
  std::string line = tag + " AUTHENTICATE " + std::string(mech->name());
  if (hasCapability("SASL-IR")) {
    // RFC 4959: the initial response on the command line; "=" stands for an empty one.
    if (std::optional<Secret> initial = mech->initialResponse()) {
      line += " " + (initial->empty() ? std::string("=") : base64Encode(initial->reveal()));
    }
  }
  line += "\r\n";
  Status sent = sendRaw(line);
  wipe(line);
  MF_RETURN_IF_ERROR(sent);

  Status cancelled;
  int steps = 0;
  for (;;) {
    MF_ASSIGN_OR_RETURN(Response r, readResponse());
    if (r.type == ResponseType::kContinuation) {
      std::string reply;
      if (++steps > kMaxSaslSteps || !cancelled.isOk()) {
        if (cancelled.isOk()) {
          cancelled = Status(Errc::kProtocol, "the server sent more than " +
                                                  std::to_string(kMaxSaslSteps) + " challenges");
        }
        reply = "*";
      } else {
        // Challenges are base64 (RFC 3501 6.2.2); a client-first mechanism ignores the first,
        // which some servers fill with plain text ("+ go ahead").
        std::optional<std::string> decoded = base64Decode(r.text);
        if (!decoded && plan.scheme == Scheme::kCramMd5) {
          cancelled = Status(Errc::kProtocol, "the CRAM-MD5 challenge is not base64: " +
                                                  sasl::printable(r.text, 80));
          reply = "*";
        } else {
          Result<Secret> answer = mech->step(decoded ? *decoded : r.text);
          if (answer) {
            reply = base64Encode(answer->reveal());
          } else {
            cancelled = answer.status();
            reply = "*";  // RFC 3501 6.2.2: cancel the exchange
          }
        }
      }
      reply += "\r\n";
      Status s = sendRaw(reply);
      wipe(reply);
      MF_RETURN_IF_ERROR(s);
      continue;
    }
    if (r.type == ResponseType::kUntagged) {
      if (r.status == "BYE") {
        return Status(Errc::kAuth, ErrorClass::kConfiguration,
                      plan.description + " at " + options_.endpoint.hostPort() +
                          ": the server closed the session (BYE): " + sentence(r) + " " +
                          plan.remedy);
      }
      if (r.name == "CAPABILITY") {
        capabilities_.clear();
        for (const auto& v : r.values) capabilities_.insert(toUpperAscii(v.text));
        capabilitiesFromLogin_ = true;
      }
      continue;
    }
    if (r.type != ResponseType::kTagged || r.tag != tag) continue;
    if (r.isOk()) {
      absorbLoginCapabilities(r);
      return Status::ok();
    }
    Status refusal = refused(plan, r);
    std::string extra;
    if (!mech->serverDiagnostic().empty()) extra += " The server said: " + mech->serverDiagnostic();
    if (!cancelled.isOk())
      extra += " (mailferry cancelled the exchange: " + cancelled.message() + ")";
    if (extra.empty()) return refusal;
    return Status(refusal.code(), refusal.errorClass(), refusal.message() + extra);
  }
}

// The exchange Kerio's X-MASTERAUTH and GroupWise's XGWTRUSTEDAPP share: the first "+"
// gets `answer` (it may depend on the challenge), a further one gets "*" (cancel); then the
// tagged answer decides. The reply is wiped from memory after sending: it holds the secret.
Status Connection::answerOneChallenge(const LoginPlan& plan, const std::string& tag,
                                      const std::function<std::string(const Response&)>& answer) {
  bool answered = false;
  for (;;) {
    MF_ASSIGN_OR_RETURN(Response r, readResponse());
    if (r.type == ResponseType::kContinuation) {
      std::string reply = answered ? std::string("*") : answer(r);
      answered = true;
      reply += "\r\n";
      Status s = sendRaw(reply);
      wipe(reply);
      MF_RETURN_IF_ERROR(s);
      continue;
    }
    if (r.type == ResponseType::kUntagged && r.status == "BYE") {
      return Status(Errc::kClosed, options_.endpoint.hostPort() +
                                       " closed the session during the login (BYE): " + words(r));
    }
    if (r.type != ResponseType::kTagged || r.tag != tag) continue;
    if (!r.isOk()) return refused(plan, r);
    return Status::ok();
  }
}

Status Connection::kerioMasterAuth(const LoginPlan& plan) {
  // Kerio's "IMAP Master Authentication" article: a command of its own, not AUTHENTICATE.
  const std::string tag = nextTag();
  MF_RETURN_IF_ERROR(sendRaw(tag + " X-MASTERAUTH\r\n"));
  MF_RETURN_IF_ERROR(answerOneChallenge(plan, tag, [&](const Response& r) {
    return std::string(sasl::kerioMasterAuthResponse(r.text, plan.secret.reveal()).reveal());
  }));
  // Now the master, switch to the mailbox's user.
  CommandBuilder setUser(nextTag(), "X-SETUSER", literalPlus());
  setUser.quotedOrLiteral(plan.mailbox);
  MF_ASSIGN_OR_RETURN(Response done, execute(setUser));
  if (!done.isOk()) {
    return Status(Errc::kAuth, ErrorClass::kConfiguration,
                  "Kerio master login at " + options_.endpoint.hostPort() +
                      " succeeded, but X-SETUSER " + quoted(plan.mailbox) +
                      " was refused: " + done.status + " " + sentence(done) +
                      " Check the user name (Kerio usually wants the full e-mail address).");
  }
  return Status::ok();
}

Status Connection::groupWiseTrustedApp(const LoginPlan& plan) {
  // Micro Focus KB 7015223: AUTHENTICATE XGWTRUSTEDAPP, "+", then the line
  // "XGWTRUSTEDAPP base64(name NUL key)", OK; then LOGIN as the user with an empty password.
  const std::string tag = nextTag();
  MF_RETURN_IF_ERROR(sendRaw(tag + " AUTHENTICATE XGWTRUSTEDAPP\r\n"));
  MF_RETURN_IF_ERROR(answerOneChallenge(plan, tag, [&](const Response&) {
    return std::string(
        sasl::groupWiseTrustedAppLine(plan.loginName, plan.secret.reveal()).reveal());
  }));
  LoginPlan asUser = plan;
  asUser.scheme = Scheme::kLoginCommand;
  asUser.description = "GroupWise LOGIN as " + quoted(plan.mailbox) +
                       " after the trusted-"
                       "application login as " +
                       quoted(plan.loginName);
  asUser.remedy = "Check the user name: the trusted application was accepted.";
  return loginCommand(asUser, plan.mailbox, Secret(""));
}

Status Connection::checkSession(const LoginPlan& plan) {
  auto notConnected = [&](std::string_view command, const Response& r) {
    return Status(
        Errc::kAuth, ErrorClass::kConfiguration,
        plan.description + " at " + options_.endpoint.hostPort() +
            " was accepted, but the server then refused " + std::string(command) + ": " + r.status +
            " " + sentence(r) +
            " Microsoft Exchange and Office 365 answer so (\"User is authenticated but not "
            "connected\") when the password is wrong or the account may not open this mailbox: " +
            plan.remedy);
  };
  if (!capabilitiesFromLogin_) {
    // RFC 3501 7.2.1: capabilities may change at login; ask, unless the OK told us.
    CommandBuilder cmd(nextTag(), "CAPABILITY");
    std::set<std::string> caps;
    MF_ASSIGN_OR_RETURN(Response done, execute(cmd, [&](Response& r) {
                          if (r.name == "CAPABILITY") {
                            for (const auto& v : r.values) caps.insert(toUpperAscii(v.text));
                          }
                        }));
    if (!done.isOk()) {
      if (looksUnauthenticated(done)) return notConnected("CAPABILITY", done);
    } else {
      if (!caps.empty()) capabilities_ = std::move(caps);
      absorbCapabilityCode(done);
    }
  }
  CommandBuilder list(nextTag(), "LIST");
  list.quotedOrLiteral("").quotedOrLiteral("");
  MF_ASSIGN_OR_RETURN(Response listed, execute(list));
  if (!listed.isOk() && looksUnauthenticated(listed)) return notConnected("LIST \"\" \"\"", listed);
  return Status::ok();
}

}  // namespace mf::imap
