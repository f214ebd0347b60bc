// tapstack: a TCP/IP stack on a TAP device, a simulator and a capture tool.
#include <iostream>

#include "tools/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"tapstack: a userspace TCP/IP stack you can watch byte by byte"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tapstack 0.1.0");
  int exit_code = tapstack::tools::kExitOk;
  tapstack::tools::register_decode(app, exit_code);
  tapstack::tools::register_live(app, exit_code);
  tapstack::tools::register_replay(app, exit_code);
  tapstack::tools::register_sim(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI.md: a one-line error naming the flag, exit status 2.
    std::cerr << "tapstack: " << e.what() << "\n";
    return tapstack::tools::kExitUsage;
  }
  return exit_code;
}
