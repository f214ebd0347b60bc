// tapstack decode FILE.pcap (placeholder until the decoder lands).
#include "tools/commands.hpp"

namespace tapstack::tools {

void register_decode(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("decode", "Print each frame of a pcap file layer by layer");
  static std::string path;
  cmd->add_option("FILE", path, "pcap file to decode")->required();
  cmd->callback([&exit_code] { exit_code = kExitFailure; });
}

}  // namespace tapstack::tools
