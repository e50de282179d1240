// The mailferry subcommands. Each registers its options on the CLI11 app and returns an
// exit code from cli/exit_codes.h when run.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace mf::cli {

// Adds "migrate" to `app`; the returned function runs it after parsing.
std::function<int()> addMigrateCommand(CLI::App& app);
std::function<int()> addVerifyCommand(CLI::App& app);
std::function<int()> addProbeCommand(CLI::App& app);
std::function<int()> addPresetsCommand(CLI::App& app);

}  // namespace mf::cli
