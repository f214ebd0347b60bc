#pragma once
// Flag parsing shared by the subcommands that configure one host (live,
// replay): --ip ADDR/PREFIX, --mac MAC and --serve SPEC. One place, so every
// subcommand accepts and rejects exactly the same values with the same
// one-line messages (../shared/CLI.md: "a one-line error naming the flag and
// the accepted form").

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "apps/service_spec.hpp"
#include "stack/base/result.hpp"
#include "stack/config.hpp"
#include "stack/wire/address.hpp"

namespace tapstack::tools {

// "--flag: message", printed by the caller after "tapstack <command>: ".
struct UsageError {
  std::string message;
};

UsageError usage(std::string_view flag, std::string_view message);

// `s` in single quotes, for messages.
std::string in_quotes(std::string_view s);

// The default MAC for `ip`: 02:54 (locally administered, 'T' for tapstack) and the four address
// bytes, so two tapstacks with different addresses never share a MAC.
wire::MacAddress default_mac(wire::Ipv4Address ip);

// --ip ADDR/PREFIX: sets itf.address and itf.prefix_len. Refuses a non-unicast address and the
// subnet's network and broadcast addresses.
Result<Unit, UsageError> parse_ip_option(const std::string& text, InterfaceConfig& itf);

// --mac MAC: sets itf.mac; an empty text means default_mac(itf.address) (so call it after
// parse_ip_option).
Result<Unit, UsageError> parse_mac_option(const std::string& text, InterfaceConfig& itf);

// --serve SPEC, repeated: every spec parsed, then checked together (no port twice).
Result<std::vector<apps::ServiceSpec>, UsageError> parse_serve_options(const std::vector<std::string>& texts);

// --connect HOST:PORT: a unicast IPv4 HOST other than our own address (no name lookup) that
// the interface can reach (on the --ip prefix, or through a gateway), PORT 1..65535. Call after
// the interface (and its gateway) is configured.
struct ConnectTarget {
  wire::Ipv4Address address;
  std::uint16_t port = 0;
};
Result<ConnectTarget, UsageError> parse_connect_option(const std::string& text, const InterfaceConfig& itf);

}  // namespace tapstack::tools
