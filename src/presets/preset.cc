#include "presets/preset.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace mf::presets {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormat = "mailferry-preset/1";

#ifndef MAILFERRY_SOURCE_PRESETS_DIR
#define MAILFERRY_SOURCE_PRESETS_DIR ""
#endif

// Builds "FILE: field 'x': problem" errors.
class Checker {
 public:
  // `prefix` names the enclosing object of nested fields ("folders.").
  explicit Checker(const std::string& path, std::string prefix = {})
      : path_(path), prefix_(std::move(prefix)) {}
  Checker nested(const std::string& name) const { return Checker(path_, prefix_ + name + "."); }

  Status error(const std::string& field, const std::string& problem) const {
    return Status(Errc::kConfig, path_ + ": field '" + prefix_ + field + "': " + problem);
  }
  Status fileError(const std::string& problem) const {
    return Status(Errc::kConfig, path_ + ": " + problem);
  }

  Result<std::string> text(const json& object, const std::string& field, bool required) const {
    auto it = object.find(field);
    if (it == object.end()) {
      if (required) return error(field, "missing (a text is required)");
      return std::string();
    }
    if (!it->is_string()) return error(field, "must be a text in double quotes");
    std::string value = it->get<std::string>();
    if (required && value.empty()) return error(field, "must not be empty");
    return value;
  }

  Result<std::vector<std::string>> texts(const json& object, const std::string& field) const {
    std::vector<std::string> out;
    auto it = object.find(field);
    if (it == object.end()) return out;
    if (!it->is_array()) return error(field, "must be a list of texts: [\"a\", \"b\"]");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& item = (*it)[i];
      if (!item.is_string() || item.get<std::string>().empty()) {
        return error(field + "[" + std::to_string(i) + "]", "must be a non-empty text");
      }
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  // A whole number in [1, max], or null (nullopt) when `nullable`.
  Result<std::optional<uint64_t>> number(const json& object, const std::string& field, uint64_t max,
                                         bool nullable) const {
    auto it = object.find(field);
    std::string range = "a whole number from 1 to " + std::to_string(max);
    if (it == object.end()) {
      if (nullable) return error(field, "missing (" + range + ", or null when unknown)");
      return error(field, "missing (" + range + ")");
    }
    if (it->is_null()) {
      if (nullable) return std::optional<uint64_t>();
      return error(field, "must be " + range);
    }
    if (!it->is_number_unsigned() || it->get<uint64_t>() == 0 || it->get<uint64_t>() > max) {
      return error(field, "must be " + range + (nullable ? ", or null when unknown" : ""));
    }
    return std::optional<uint64_t>(it->get<uint64_t>());
  }

  Status onlyKnownFields(const json& object, const std::set<std::string>& known) const {
    for (auto it = object.begin(); it != object.end(); ++it) {
      if (!known.count(it.key())) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        return error(it.key(), "unknown field (known: " + list + ")");
      }
    }
    return Status::ok();
  }

 private:
  const std::string& path_;
  std::string prefix_;
};

bool validName(const std::string& name) {
  if (name.empty() || name.front() == '-' || name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool validHostName(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

Result<FolderRules> parseFolders(const json& object, const Checker& outer) {
  FolderRules rules;
  auto it = object.find("folders");
  if (it == object.end()) return rules;
  if (!it->is_object()) return outer.error("folders", "must be an object { ... }");
  const json& folders = *it;
  const Checker check = outer.nested("folders");
  MF_RETURN_IF_ERROR(
      check.onlyKnownFields(folders, {"exclude", "virtual", "all_mail", "reserved", "notes"}));
  MF_ASSIGN_OR_RETURN(rules.exclude, check.texts(folders, "exclude"));
  MF_ASSIGN_OR_RETURN(rules.virtualFolders, check.texts(folders, "virtual"));
  MF_ASSIGN_OR_RETURN(rules.allMailFolders, check.texts(folders, "all_mail"));
  MF_ASSIGN_OR_RETURN(rules.notes, check.texts(folders, "notes"));
  auto reserved = folders.find("reserved");
  if (reserved != folders.end()) {
    if (!reserved->is_array()) {
      return check.error("reserved",
                         "must be a list of {\"name\": ..., \"rename_to\": ...} objects");
    }
    for (size_t i = 0; i < reserved->size(); ++i) {
      const json& entry = (*reserved)[i];
      std::string field = "reserved[" + std::to_string(i) + "]";
      if (!entry.is_object()) {
        return check.error(field, "must be an object {\"name\": ..., \"rename_to\": ...}");
      }
      const Checker item = check.nested(field);
      MF_RETURN_IF_ERROR(item.onlyKnownFields(entry, {"name", "rename_to"}));
      ReservedFolder folder;
      MF_ASSIGN_OR_RETURN(folder.name, item.text(entry, "name", true));
      MF_ASSIGN_OR_RETURN(folder.renameTo, item.text(entry, "rename_to", true));
      if (lookupKey(folder.name) == lookupKey(folder.renameTo)) {
        return item.error("rename_to", "must differ from the reserved name");
      }
      rules.reserved.push_back(std::move(folder));
    }
  }
  return rules;
}

Result<std::string> readFile(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) {
    return Status(Errc::kConfig, path.string() + ": cannot read the preset file: " + ec.message());
  }
  if (size > kMaxPresetFileBytes) {
    return Status(Errc::kConfig, path.string() + ": preset file larger than " +
                                     std::to_string(kMaxPresetFileBytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  std::string text(size, '\0');
  if (!in || !in.read(text.data(), static_cast<std::streamsize>(size))) {
    return Status(Errc::kConfig, path.string() + ": cannot read the preset file");
  }
  return text;
}

std::string executablePath() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.string();
}

}  // namespace

std::string lookupKey(std::string_view name) {
  std::string key;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) key += static_cast<char>(std::tolower(u));
  }
  return key;
}

const char* loginRuleName(LoginRule rule) {
  switch (rule) {
    case LoginRule::kEmail:
      return "email";
    case LoginRule::kLocalPart:
      return "local-part";
    case LoginRule::kAsGiven:
      break;
  }
  return "as-given";
}

std::string Preset::loginFor(const std::string& email) const {
  if (login == LoginRule::kLocalPart) {
    size_t at = email.rfind('@');
    if (at != std::string::npos) return email.substr(0, at);
  }
  return email;
}

Result<net::Endpoint> Preset::endpoint(const std::string& user, const std::string& hostName) const {
  net::Endpoint out;
  out.protocol = protocol;
  out.security = security;
  out.port = port;
  out.user = user;
  if (host) {
    out.host = *host;
  } else if (!hostName.empty()) {
    out.host = hostName;
  } else {
    return Status(Errc::kUsage, "the " + name + " preset (" + title +
                                    ") has no fixed server: give the host name of your " + title +
                                    " server as well");
  }
  return out;
}

Result<Preset> parsePreset(std::string_view text, const std::string& path) {
  Checker check(path);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 3, column 5: ...".
    std::string what = e.what();
    size_t at = what.find("parse error");
    return check.fileError("not valid JSON: " + (at == std::string::npos ? what : what.substr(at)));
  }
  if (!doc.is_object()) return check.fileError("must hold one JSON object { ... }");
  MF_RETURN_IF_ERROR(check.onlyKnownFields(
      doc, {"format", "name", "title", "aliases", "protocol", "host", "port", "security", "login",
            "max_message_bytes", "max_connections", "folders", "notes", "sources"}));

  MF_ASSIGN_OR_RETURN(std::string format, check.text(doc, "format", true));
  if (format != kFormat) {
    return check.error("format", "must be \"" + std::string(kFormat) + "\" (found \"" + format +
                                     "\"; a newer mailferry may be needed)");
  }

  Preset preset;
  preset.file = path;
  MF_ASSIGN_OR_RETURN(preset.name, check.text(doc, "name", true));
  if (!validName(preset.name)) {
    return check.error("name", "must be lower-case letters, digits and '-' (e.g. \"office365\")");
  }
  std::string stem = fs::path(path).stem().string();
  if (stem != preset.name) {
    return check.error("name", "\"" + preset.name + "\" must match the file name (" + stem +
                                   ".json): rename the file or the preset");
  }
  MF_ASSIGN_OR_RETURN(preset.title, check.text(doc, "title", true));
  MF_ASSIGN_OR_RETURN(preset.aliases, check.texts(doc, "aliases"));
  for (size_t i = 0; i < preset.aliases.size(); ++i) {
    if (lookupKey(preset.aliases[i]).empty()) {
      return check.error("aliases[" + std::to_string(i) + "]", "needs a letter or a digit");
    }
  }

  MF_ASSIGN_OR_RETURN(std::string protocol, check.text(doc, "protocol", true));
  if (protocol == "imap") {
    preset.protocol = net::Protocol::kImap;
  } else if (protocol == "pop3") {
    preset.protocol = net::Protocol::kPop3;
  } else {
    return check.error("protocol", "must be \"imap\" or \"pop3\"");
  }

  auto host = doc.find("host");
  if (host == doc.end()) {
    return check.error("host", "missing (the server's name, or null when the user gives it)");
  }
  if (!host->is_null()) {
    MF_ASSIGN_OR_RETURN(std::string name, check.text(doc, "host", true));
    if (!validHostName(name)) {
      return check.error("host", "\"" + name +
                                     "\" is not a host name (letters, digits, '-', "
                                     "'.'), or use null when the user gives it");
    }
    preset.host = name;
  }

  MF_ASSIGN_OR_RETURN(auto port, check.number(doc, "port", 65535, false));
  preset.port = static_cast<uint16_t>(*port);

  MF_ASSIGN_OR_RETURN(std::string security, check.text(doc, "security", true));
  if (security == "tls") {
    preset.security = net::Security::kTls;
  } else if (security == "starttls") {
    preset.security = net::Security::kStartTls;
  } else if (security == "none") {
    preset.security = net::Security::kNone;
  } else {
    return check.error("security", "must be \"tls\", \"starttls\" or \"none\"");
  }

  MF_ASSIGN_OR_RETURN(std::string login, check.text(doc, "login", true));
  if (login == "email") {
    preset.login = LoginRule::kEmail;
  } else if (login == "local-part") {
    preset.login = LoginRule::kLocalPart;
  } else if (login == "as-given") {
    preset.login = LoginRule::kAsGiven;
  } else {
    return check.error("login", "must be \"email\", \"local-part\" or \"as-given\"");
  }

  MF_ASSIGN_OR_RETURN(preset.maxMessageBytes,
                      check.number(doc, "max_message_bytes", uint64_t{1} << 40, true));
  MF_ASSIGN_OR_RETURN(auto connections, check.number(doc, "max_connections", 10000, true));
  if (connections) preset.maxConnections = static_cast<uint32_t>(*connections);
  MF_ASSIGN_OR_RETURN(preset.folders, parseFolders(doc, check));
  MF_ASSIGN_OR_RETURN(preset.notes, check.texts(doc, "notes"));
  MF_ASSIGN_OR_RETURN(preset.sources, check.texts(doc, "sources"));
  return preset;
}

Result<PresetCatalog> loadPresetDir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status(Errc::kConfig, "preset directory '" + dir +
                                     "' does not exist or is not a "
                                     "directory");
  }
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".json" && it->is_regular_file(ec)) files.push_back(it->path());
  }
  if (ec)
    return Status(Errc::kConfig, "cannot list preset directory '" + dir + "': " + ec.message());
  std::sort(files.begin(), files.end());

  PresetCatalog catalog;
  catalog.dir = dir;
  std::map<std::string, std::string> owners;  // lookup key -> file that claims it
  for (const fs::path& file : files) {
    MF_ASSIGN_OR_RETURN(std::string text, readFile(file));
    MF_ASSIGN_OR_RETURN(Preset preset, parsePreset(text, file.string()));
    std::vector<std::string> keys{preset.name};
    keys.insert(keys.end(), preset.aliases.begin(), preset.aliases.end());
    std::set<std::string> mine;
    for (const std::string& key : keys) {
      std::string k = lookupKey(key);
      if (!mine.insert(k).second) continue;  // an alias that repeats the file's own name
      auto [it, fresh] = owners.emplace(k, file.string());
      if (!fresh) {
        return Status(Errc::kConfig, file.string() + ": the name or alias '" + key +
                                         "' is already used by " + it->second +
                                         "; names and aliases must be unique");
      }
    }
    catalog.presets.push_back(std::move(preset));
  }
  std::sort(catalog.presets.begin(), catalog.presets.end(),
            [](const Preset& a, const Preset& b) { return a.name < b.name; });
  return catalog;
}

const Preset* PresetCatalog::find(std::string_view nameOrAlias) const {
  std::string key = lookupKey(nameOrAlias);
  if (key.empty()) return nullptr;
  for (const Preset& preset : presets) {
    if (lookupKey(preset.name) == key) return &preset;
    for (const std::string& alias : preset.aliases) {
      if (lookupKey(alias) == key) return &preset;
    }
  }
  return nullptr;
}

std::string PresetCatalog::names() const {
  std::string out;
  for (const Preset& preset : presets) out += (out.empty() ? "" : ", ") + preset.name;
  return out;
}

std::vector<std::string> presetDirCandidates(const char* envDir, const std::string& exePath) {
  std::vector<std::string> out;
  if (envDir != nullptr && *envDir != '\0') out.emplace_back(envDir);
  if (!exePath.empty()) {
    fs::path installed = fs::path(exePath).parent_path() / ".." / "share" / "mailferry" / "presets";
    out.push_back(installed.lexically_normal().string());
  }
  if (*MAILFERRY_SOURCE_PRESETS_DIR != '\0') out.emplace_back(MAILFERRY_SOURCE_PRESETS_DIR);
  return out;
}

Result<PresetCatalog> loadPresets() {
  const char* env = std::getenv("MAILFERRY_PRESETS_DIR");
  if (env != nullptr && *env != '\0') {
    // Set explicitly: use it or say why not, never silently read something else.
    auto catalog = loadPresetDir(env);
    if (!catalog) return catalog.status().withContext("$MAILFERRY_PRESETS_DIR");
    return catalog;
  }
  std::vector<std::string> candidates = presetDirCandidates(nullptr, executablePath());
  std::error_code ec;
  for (const std::string& dir : candidates) {
    if (fs::is_directory(dir, ec)) return loadPresetDir(dir);
  }
  std::string tried;
  for (const std::string& dir : candidates) tried += (tried.empty() ? "" : ", ") + dir;
  return Status(Errc::kConfig, "no preset directory found (looked in: " + tried +
                                   "); set MAILFERRY_PRESETS_DIR to the presets/ directory of "
                                   "mailferry");
}

}  // namespace mf::presets
