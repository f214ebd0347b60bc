// tapstack decode FILE.pcap: prints each frame layer by layer (addresses,
// ports, flags, seq/ack, options, lengths) and marks bad checksums and
// malformed headers with the reason.
#include <cstdio>
#include <iostream>

#include "stack/capture/pcap_file.hpp"
#include "stack/wire/dissect.hpp"
#include "tools/commands.hpp"

namespace tapstack::tools {

namespace {

struct DecodeOptions {
  std::string path;
  bool fields = false;
};

void print_frame(std::uint64_t number, Duration since_first, const capture::PcapRecord& record,
                 bool with_fields) {
  char head[96];
  std::snprintf(head, sizeof head, "%llu  %lld.%06lld  %zu bytes", static_cast<unsigned long long>(number),
                static_cast<long long>(since_first.ns() / 1'000'000'000),
                static_cast<long long>((since_first.ns() / 1'000) % 1'000'000), record.data.size());
  std::cout << head;
  if (record.original_len != record.data.size()) {
    std::cout << " (of " << record.original_len << " on the wire)";
  }
  std::cout << "\n";
  const wire::Dissection d = wire::dissect_frame(as_bytes(record.data));
  for (const wire::DissectedLayer& layer : d.layers) {
    std::string name = layer.quoted ? "  " + layer.name : layer.name;
    name.resize(10, ' ');
    std::cout << "  " << name << layer.summary;
    if (!layer.problem.empty()) {
      std::cout << "  !! " << layer.problem;
    }
    std::cout << "\n";
    if (with_fields) {
      for (const wire::DissectedField& f : layer.fields) {
        std::cout << "              " << f.name << " = " << f.value << "\n";
      }
    }
  }
}

int run_decode(const DecodeOptions& options) {
  auto reader = capture::PcapReader::open(options.path);
  if (!reader.ok()) {
    std::cerr << "tapstack decode: " << reader.error() << "\n";
    return kExitUsage;
  }
  std::uint64_t number = 0;
  std::optional<Instant> first;
  for (;;) {
    auto record = reader->next();
    if (!record.ok()) {
      std::cout.flush();
      std::cerr << "tapstack decode: " << record.error() << "\n";
      return kExitUsage;
    }
    if (!record->has_value()) {
      break;
    }
    const capture::PcapRecord& r = **record;
    if (!first) {
      first = r.timestamp;
    }
    print_frame(++number, r.timestamp - *first, r, options.fields);
  }
  return kExitOk;
}

}  // namespace

void register_decode(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DecodeOptions>();
  auto* cmd = app.add_subcommand("decode", "Print each frame of a pcap file layer by layer");
  cmd->add_option("FILE", options->path, "Ethernet pcap or pcapng file")->required();
  cmd->add_flag("--fields", options->fields, "Also print every field under its layer (tshark's field names)");
  cmd->callback([options, &exit_code] { exit_code = run_decode(*options); });
}

}  // namespace tapstack::tools
