// mailferry: moves mailboxes between mail servers over IMAP. Entry point: dispatches to
// the subcommands in cli/commands.h and maps their outcome to exit codes.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"

int main(int argc, char** argv) {
  // A peer that closes while we write must give us EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"mailferry: move mailboxes between mail servers over IMAP, exactly once"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mailferry 0.1.0");
  auto migrate = mf::cli::addMigrateCommand(app);
  auto verify = mf::cli::addVerifyCommand(app);
  auto probe = mf::cli::addProbeCommand(app);
  auto presets = mf::cli::addPresetsCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? mf::cli::kExitOk : mf::cli::kExitUsage;
  }
  for (const auto& run : {migrate, verify, probe, presets}) {
    int code = run();
    if (code >= 0) return code;
  }
  return mf::cli::kExitUsage;
}
