// `mailferry presets [NAME] [--json]`: the provider presets (presets/*.json, see
// presets/preset.h): a table of all, or everything about one. Exit 0; 2 for an unknown
// name; 4 when the preset files cannot be read.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "presets/preset.h"

namespace mf::cli {
namespace {

struct PresetsArgs {
  std::string name;
  bool json = false;
};

const char* protocolName(net::Protocol p) {
  return p == net::Protocol::kPop3 ? "pop3" : "imap";
}

std::string hostText(const presets::Preset& p) {
  return p.host ? *p.host : "(from the user)";
}

std::string megabytes(const std::optional<uint64_t>& bytes) {
  if (!bytes) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f MiB", static_cast<double>(*bytes) / (1024.0 * 1024.0));
  return buf;
}

nlohmann::json presetJson(const presets::Preset& p) {
  nlohmann::json reserved = nlohmann::json::array();
  for (const auto& r : p.folders.reserved) {
    reserved.push_back({{"name", r.name}, {"rename_to", r.renameTo}});
  }
  nlohmann::json out = {{"name", p.name},
                        {"title", p.title},
                        {"aliases", p.aliases},
                        {"protocol", protocolName(p.protocol)},
                        {"host", p.host ? nlohmann::json(*p.host) : nlohmann::json(nullptr)},
                        {"port", p.port},
                        {"security", net::securityName(p.security)},
                        {"login", presets::loginRuleName(p.login)},
                        {"max_message_bytes", p.maxMessageBytes ? nlohmann::json(*p.maxMessageBytes)
                                                                : nlohmann::json(nullptr)},
                        {"max_connections", p.maxConnections ? nlohmann::json(*p.maxConnections)
                                                             : nlohmann::json(nullptr)},
                        {"folders",
                         {{"exclude", p.folders.exclude},
                          {"virtual", p.folders.virtualFolders},
                          {"all_mail", p.folders.allMailFolders},
                          {"reserved", reserved},
                          {"notes", p.folders.notes}}},
                        {"notes", p.notes},
                        {"sources", p.sources},
                        {"file", p.file}};
  return out;
}

void printList(const char* label, const std::vector<std::string>& items) {
  if (items.empty()) return;
  std::printf("%s\n", label);
  for (const auto& item : items) std::printf("  - %s\n", item.c_str());
}

void printDetails(const presets::Preset& p) {
  std::string aliases;
  for (const auto& a : p.aliases) aliases += (aliases.empty() ? "" : ", ") + a;
  std::printf("%s (%s)\n", p.title.c_str(), p.name.c_str());
  if (!aliases.empty()) std::printf("  aliases:          %s\n", aliases.c_str());
  std::printf("  protocol:         %s\n", protocolName(p.protocol));
  std::printf("  host:             %s\n", hostText(p).c_str());
  std::printf("  port:             %u\n", static_cast<unsigned>(p.port));
  std::printf("  security:         %s\n", net::securityName(p.security));
  std::printf("  login:            %s\n", presets::loginRuleName(p.login));
  std::printf("  max message size: %s\n", p.maxMessageBytes
                                              ? (std::to_string(*p.maxMessageBytes) + " bytes (" +
                                                 megabytes(p.maxMessageBytes) + ")")
                                                    .c_str()
                                              : "not documented");
  std::printf("  max connections:  %s\n",
              p.maxConnections ? std::to_string(*p.maxConnections).c_str() : "not documented");
  std::printf("  file:             %s\n", p.file.c_str());
  printList("Folders not copied from it:", p.folders.exclude);
  printList("Virtual folders (mail stored elsewhere too):", p.folders.virtualFolders);
  printList("All-mail folders (only what no other folder holds is copied):",
            p.folders.allMailFolders);
  std::vector<std::string> reserved;
  for (const auto& r : p.folders.reserved) reserved.push_back(r.name + " -> " + r.renameTo);
  printList("Reserved names (renamed when it is the destination):", reserved);
  printList("Folder notes:", p.folders.notes);
  printList("Notes:", p.notes);
  printList("Sources:", p.sources);
}

void printTable(const presets::PresetCatalog& catalog) {
  std::printf("%-10s %-30s %-22s %5s %-8s %-10s %8s %5s\n", "NAME", "PROVIDER", "HOST", "PORT",
              "SECURITY", "LOGIN", "MAX MSG", "CONN");
  for (const auto& p : catalog.presets) {
    std::printf("%-10s %-30s %-22s %5u %-8s %-10s %8s %5s\n", p.name.c_str(), p.title.c_str(),
                hostText(p).c_str(), static_cast<unsigned>(p.port), net::securityName(p.security),
                presets::loginRuleName(p.login), megabytes(p.maxMessageBytes).c_str(),
                p.maxConnections ? std::to_string(*p.maxConnections).c_str() : "-");
  }
  std::printf("\n%zu presets from %s. Details: mailferry presets NAME\n", catalog.presets.size(),
              catalog.dir.c_str());
}

int run(const PresetsArgs& args) {
  auto catalog = presets::loadPresets();
  if (!catalog) {
    std::fprintf(stderr, "mailferry: %s\n", catalog.status().message().c_str());
    return kExitInternal;
  }
  if (!args.name.empty()) {
    const presets::Preset* preset = catalog->find(args.name);
    if (preset == nullptr) {
      std::fprintf(stderr, "mailferry: no preset named '%s'; known: %s\n", args.name.c_str(),
                   catalog->names().c_str());
      return kExitUsage;
    }
    if (args.json) {
      std::printf("%s\n", presetJson(*preset).dump(2).c_str());
    } else {
      printDetails(*preset);
    }
    return kExitOk;
  }
  if (args.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : catalog->presets) list.push_back(presetJson(p));
    std::printf("%s\n", nlohmann::json({{"dir", catalog->dir}, {"presets", list}}).dump(2).c_str());
  } else {
    printTable(*catalog);
  }
  return kExitOk;
}

}  // namespace

std::function<int()> addPresetsCommand(CLI::App& app) {
  auto args = std::make_shared<PresetsArgs>();
  CLI::App* cmd = app.add_subcommand("presets", "list the provider presets, or show one");
  cmd->add_option("name", args->name, "a preset's name or alias (e.g. gmail, o365)");
  cmd->add_flag("--json", args->json, "print JSON");
  return [cmd, args]() -> int {
    if (!cmd->parsed()) return -1;
    return run(*args);
  };
}

}  // namespace mf::cli
