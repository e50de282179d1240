// Provider presets: one data file per provider (presets/NAME.json) carrying its IMAP or POP3
// settings, login rule, limits and folder rules. Adding a provider means adding a file; no
// code changes. The format is documented in presets/README.md.
//
// Contract:
// - parsePreset() is pure: it validates one file's text and returns the Preset, or
//   Errc::kConfig naming the file and the field ("presets/gmail.json: field 'port': must be
//   a whole number from 1 to 65535"). Unknown fields are errors too, so a typo is not
//   silently ignored. Files are at most kMaxPresetFileBytes.
// - loadPresetDir() reads every *.json file of one directory (sorted by name); the first
//   bad file stops the load with its error. Names and aliases are unique across files
//   (compared as lookup keys, see below); a clash names both files.
// - presetDirCandidates() is where presets are looked for, in order: $MAILFERRY_PRESETS_DIR,
//   <directory of the executable>/../share/mailferry/presets, then the source tree's
//   presets/ (compiled in). loadPresets() uses the first that exists; a set but missing
//   $MAILFERRY_PRESETS_DIR is an error rather than a silent fallback.
// - PresetCatalog::find() matches a preset's name or any alias, case-insensitively and
//   ignoring everything but letters and digits ("Office 365" = "office365" = "o365" alias).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "net/endpoint.h"

namespace mf::presets {

constexpr size_t kMaxPresetFileBytes = 256 * 1024;

// How the login name is built from the user's e-mail address.
enum class LoginRule {
  kEmail,      // the full address: alice@example.com
  kLocalPart,  // the part before '@': alice
  kAsGiven,    // whatever the user gives (no rule)
};

struct ReservedFolder {
  std::string name;      // a name the provider refuses or keeps for itself
  std::string renameTo;  // what a source folder of that name becomes on this provider
};

struct FolderRules {
  // Folder name globs ('*' matches across levels) never copied from this provider: non-mail
  // or not IMAP-sane folders (Exchange's Calendar, Contacts...).
  std::vector<std::string> exclude;
  // Folders that show mail stored elsewhere too (Gmail's Important, Starred): copying them
  // as well would duplicate messages.
  std::vector<std::string> virtualFolders;
  // Folders that show every message (Gmail's [Gmail]/All Mail): copied only for what no
  // other folder holds, i.e. archived mail (sync/folder_plan.h rule 5), also where the
  // server does not mark them \All.
  std::vector<std::string> allMailFolders;
  // Names refused by this provider as a destination, with the rename target.
  std::vector<ReservedFolder> reserved;
  std::vector<std::string> notes;
};

struct Preset {
  std::string name;   // lookup key: lower-case letters, digits and '-'; the file's stem
  std::string title;  // for people: "Office 365 / Exchange Online"
  std::vector<std::string> aliases;
  net::Protocol protocol = net::Protocol::kImap;
  std::optional<std::string> host;  // nullopt: the host must come from the user (Kerio)
  uint16_t port = 0;
  net::Security security = net::Security::kTls;
  LoginRule login = LoginRule::kEmail;
  std::optional<uint64_t> maxMessageBytes;  // nullopt: not documented / set by the admin
  std::optional<uint32_t> maxConnections;   // simultaneous connections per account
  FolderRules folders;
  std::vector<std::string> notes;
  std::vector<std::string> sources;  // where the values come from (URLs, documents)
  std::string file;                  // the file it was read from

  // The login name for `email` under this preset's rule.
  std::string loginFor(const std::string& email) const;
  // The endpoint to connect to: the preset's host, or `host` when the preset has none (an
  // empty `host` then is Errc::kUsage saying that this provider needs the server's name).
  Result<net::Endpoint> endpoint(const std::string& user, const std::string& host = {}) const;
};

const char* loginRuleName(LoginRule rule);  // "email", "local-part", "as-given"

struct PresetCatalog {
  std::string dir;              // where they were loaded from
  std::vector<Preset> presets;  // sorted by name

  const Preset* find(std::string_view nameOrAlias) const;
  // "gmail, office365, ..." for error messages.
  std::string names() const;
};

// The lookup key of a name or alias: lower-case letters and digits only.
std::string lookupKey(std::string_view name);

Result<Preset> parsePreset(std::string_view text, const std::string& path);
Result<PresetCatalog> loadPresetDir(const std::string& dir);

// `envDir` is $MAILFERRY_PRESETS_DIR (null or empty: unset), `exePath` the running binary.
std::vector<std::string> presetDirCandidates(const char* envDir, const std::string& exePath);
Result<PresetCatalog> loadPresets();

}  // namespace mf::presets
