// Preset loading and validation: the shipped files, errors that name file and field, lookup
// by alias, and a new file picked up with no code change.
#include "presets/preset.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace mf::presets {
namespace {

namespace fs = std::filesystem;

const std::string kShipped = MAILFERRY_SOURCE_PRESETS_DIR;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/mf-presets-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name) << text;
  }

 private:
  std::string path_;
};

const char* kMinimal = R"({
  "format": "mailferry-preset/1", "name": "example", "title": "Example Mail",
  "protocol": "imap", "host": "imap.example.net", "port": 993, "security": "tls",
  "login": "email", "max_message_bytes": null, "max_connections": 4
})";

Status parseError(const std::string& text, const std::string& path = "dir/example.json") {
  auto preset = parsePreset(text, path);
  EXPECT_FALSE(preset.isOk());
  return preset.isOk() ? Status() : preset.status();
}

// `kMinimal` with one field's JSON replaced (or removed when value is empty).
std::string withField(const std::string& field, const std::string& value) {
  std::string text = kMinimal;
  size_t at = text.find("\"" + field + "\":");
  EXPECT_NE(at, std::string::npos) << field;
  size_t end = text.find_first_of(",}", text.find(':', at));
  if (value.empty()) {
    if (text[end] == ',') ++end;
    text.erase(at, end - at);
  } else {
    size_t colon = text.find(':', at);
    text.replace(colon + 1, end - colon - 1, " " + value);
  }
  return text;
}

TEST(ShippedPresets, AllElevenLoadWithTheirDocumentedSettings) {
  auto catalog = loadPresetDir(kShipped);
  ASSERT_TRUE(catalog.isOk()) << catalog.status().message();
  std::vector<std::string> names;
  for (const Preset& p : catalog->presets) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"aol", "fastmail", "gmail", "gmx", "godaddy", "icloud",
                                             "kerio", "office365", "outlook", "yahoo", "zoho"}));
  const Preset* gmail = catalog->find("Gmail");
  ASSERT_NE(gmail, nullptr);
  EXPECT_EQ(gmail->host, "imap.gmail.com");
  EXPECT_EQ(gmail->port, 993);
  EXPECT_EQ(gmail->security, net::Security::kTls);
  EXPECT_EQ(gmail->maxMessageBytes, 35651584u);
  EXPECT_EQ(gmail->maxConnections, 15u);
  EXPECT_FALSE(gmail->folders.virtualFolders.empty());

  const Preset* godaddy = catalog->find("godaddy");
  ASSERT_NE(godaddy, nullptr);
  EXPECT_EQ(godaddy->host, "imap.secureserver.net");
  EXPECT_EQ(godaddy->login, LoginRule::kEmail);

  const Preset* o365 = catalog->find("o365");
  ASSERT_NE(o365, nullptr);
  EXPECT_EQ(o365->name, "office365");
  EXPECT_EQ(o365->host, "outlook.office365.com");
  ASSERT_EQ(o365->folders.reserved.size(), 1u);
  EXPECT_EQ(o365->folders.reserved[0].name, "Files");
  for (const char* alias : {"Office 365", "office-365", "microsoft365", "Microsoft 365", "M365"}) {
    EXPECT_EQ(catalog->find(alias), o365) << alias;
  }

  const Preset* icloud = catalog->find("iCloud");
  ASSERT_NE(icloud, nullptr);
  EXPECT_EQ(icloud->login, LoginRule::kLocalPart);
  EXPECT_EQ(icloud->loginFor("emily.parker@icloud.com"), "emily.parker");

  const Preset* kerio = catalog->find("kerio connect");
  ASSERT_NE(kerio, nullptr);
  EXPECT_FALSE(kerio->host.has_value());
  EXPECT_EQ(catalog->find("outlook.com")->name, "outlook");
  EXPECT_EQ(catalog->find("nosuchprovider"), nullptr);
  EXPECT_EQ(catalog->find("--"), nullptr);
}

TEST(Preset, EndpointAndLogin) {
  auto preset = parsePreset(kMinimal, "x/example.json");
  ASSERT_TRUE(preset.isOk()) << preset.status().message();
  auto ep = preset->endpoint("alice@example.net");
  ASSERT_TRUE(ep.isOk());
  EXPECT_EQ(ep->toUrl(), "imaps://alice%40example.net@imap.example.net:993");
  EXPECT_EQ(preset->loginFor("alice@example.net"), "alice@example.net");

  auto userHost = parsePreset(withField("host", "null"), "x/example.json");
  ASSERT_TRUE(userHost.isOk()) << userHost.status().message();
  auto missing = userHost->endpoint("alice");
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().code(), Errc::kUsage);
  EXPECT_NE(missing.status().message().find("host name"), std::string::npos);
  auto given = userHost->endpoint("alice", "mail.corp.example");
  ASSERT_TRUE(given.isOk());
  EXPECT_EQ(given->host, "mail.corp.example");
}

TEST(Preset, ValidationErrorsNameTheFileAndTheField) {
  struct Case {
    std::string text;
    std::string expected;  // substring of the message
  };
  const std::vector<Case> cases = {
      {"{", "dir/example.json: not valid JSON: parse error at line"},
      {"[]", "dir/example.json: must hold one JSON object"},
      {withField("port", "0"), "field 'port': must be a whole number from 1 to 65535"},
      {withField("port", "70000"), "field 'port'"},
      {withField("port", "\"993\""), "field 'port'"},
      {withField("port", ""), "field 'port': missing"},
      {withField("security", "\"ssl\""), "field 'security': must be \"tls\", \"starttls\" or"},
      {withField("protocol", "\"smtp\""), "field 'protocol': must be \"imap\" or \"pop3\""},
      {withField("login", "\"full\""), "field 'login': must be \"email\", \"local-part\""},
      {withField("host", "\"imap example\""), "field 'host': \"imap example\" is not a host"},
      {withField("host", ""), "field 'host': missing"},
      {withField("name", "\"other\""), "field 'name': \"other\" must match the file name"},
      {withField("name", "\"Example\""), "field 'name': must be lower-case"},
      {withField("format", "\"mailferry-preset/2\""), "field 'format': must be"},
      {withField("max_connections", "-1"), "field 'max_connections'"},
      {withField("max_message_bytes", ""), "field 'max_message_bytes': missing"},
      {withField("title", "\"\""), "field 'title': must not be empty"},
      {withField("login", "\"email\", \"prot\": 1"), "field 'prot': unknown field"},
      {withField("max_connections", "4, \"folders\": {\"exclude\": \"Files\"}"),
       "field 'folders.exclude': must be a list"},
      {withField("max_connections", "4, \"folders\": {\"reserved\": [{\"name\": \"Files\"}]}"),
       "field 'folders.reserved[0].rename_to': missing"},
      {withField("max_connections",
                 "4, \"folders\": {\"reserved\": [{\"name\": \"Files\", "
                 "\"rename_to\": \"files\"}]}"),
       "must differ from the reserved name"},
      {withField("max_connections", "4, \"folders\": {\"skip\": []}"),
       "field 'folders.skip': unknown field"},
      {withField("max_connections", "4, \"aliases\": [\"a\", 3]"), "field 'aliases[1]'"},
  };
  for (const Case& c : cases) {
    Status s = parseError(c.text);
    EXPECT_EQ(s.code(), Errc::kConfig) << c.text;
    EXPECT_NE(s.message().find(c.expected), std::string::npos)
        << "text: " << c.text << "\nmessage: " << s.message();
    EXPECT_EQ(s.message().rfind("dir/example.json: ", 0), 0u) << s.message();
  }
}

TEST(PresetDir, ANewFileIsPickedUpWithNoCodeChange) {
  TempDir dir;
  for (const auto& entry : fs::directory_iterator(kShipped)) {
    if (entry.path().extension() == ".json") {
      fs::copy_file(entry.path(), dir.path() + "/" + entry.path().filename().string());
    }
  }
  dir.write("example.json", kMinimal);
  dir.write("README.md", "not a preset");
  auto catalog = loadPresetDir(dir.path());
  ASSERT_TRUE(catalog.isOk()) << catalog.status().message();
  EXPECT_EQ(catalog->presets.size(), 12u);
  const Preset* example = catalog->find("EXAMPLE");
  ASSERT_NE(example, nullptr);
  EXPECT_EQ(example->host, "imap.example.net");
  EXPECT_EQ(example->maxConnections, 4u);
  EXPECT_FALSE(example->maxMessageBytes.has_value());
  EXPECT_EQ(example->file, dir.path() + "/example.json");
}

TEST(PresetDir, DuplicateAliasNamesBothFiles) {
  TempDir dir;
  dir.write("example.json", withField("max_connections", "4, \"aliases\": [\"Gmail\"]"));
  dir.write("gmail.json",
            std::string(kMinimal).replace(std::string(kMinimal).find("example\","), 7, "gmail"));
  auto catalog = loadPresetDir(dir.path());
  ASSERT_FALSE(catalog.isOk());
  const std::string& message = catalog.status().message();
  EXPECT_EQ(
      message.rfind(dir.path() + "/gmail.json: the name or alias 'gmail' is already used by " +
                        dir.path() + "/example.json",
                    0),
      0u)
      << message;
}

TEST(PresetDir, BadFileStopsTheLoadWithItsError) {
  TempDir dir;
  dir.write("example.json", withField("port", "0"));
  auto catalog = loadPresetDir(dir.path());
  ASSERT_FALSE(catalog.isOk());
  EXPECT_NE(catalog.status().message().find("example.json: field 'port'"), std::string::npos);
  auto none = loadPresetDir(dir.path() + "/missing");
  ASSERT_FALSE(none.isOk());
  EXPECT_NE(none.status().message().find("does not exist"), std::string::npos);
}

TEST(PresetDir, SearchOrder) {
  EXPECT_EQ(presetDirCandidates("/opt/p", "/usr/local/bin/mailferry"),
            (std::vector<std::string>{"/opt/p", "/usr/local/share/mailferry/presets", kShipped}));
  EXPECT_EQ(presetDirCandidates("", "/x/bin/mailferry"),
            (std::vector<std::string>{"/x/share/mailferry/presets", kShipped}));
}

TEST(PresetDir, EnvironmentVariableWins) {
  TempDir dir;
  dir.write("example.json", kMinimal);
  setenv("MAILFERRY_PRESETS_DIR", dir.path().c_str(), 1);
  auto catalog = loadPresets();
  ASSERT_TRUE(catalog.isOk()) << catalog.status().message();
  EXPECT_EQ(catalog->presets.size(), 1u);
  setenv("MAILFERRY_PRESETS_DIR", (dir.path() + "/missing").c_str(), 1);
  auto missing = loadPresets();
  ASSERT_FALSE(missing.isOk());
  EXPECT_NE(missing.status().message().find("MAILFERRY_PRESETS_DIR"), std::string::npos);
  unsetenv("MAILFERRY_PRESETS_DIR");
  auto fallback = loadPresets();  // the build tree's binary falls back to the source tree
  ASSERT_TRUE(fallback.isOk()) << fallback.status().message();
  EXPECT_EQ(fallback->presets.size(), 11u);
}

}  // namespace
}  // namespace mf::presets
