#pragma once
// Each subcommand of the tapstack program registers itself on the CLI11 app
// and returns the exit status through the callback's `exit_code`.

#include <CLI/CLI.hpp>

namespace tapstack::tools {

// Exit statuses shared by every subcommand (see ../shared/CLI.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

void register_decode(CLI::App& app, int& exit_code);
void register_live(CLI::App& app, int& exit_code);
void register_replay(CLI::App& app, int& exit_code);
void register_sim(CLI::App& app, int& exit_code);

}  // namespace tapstack::tools
