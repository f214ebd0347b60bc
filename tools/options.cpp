#include "tools/options.hpp"

#include <string>

namespace tapstack::tools {

namespace {

// The first two octets of the default MAC: 02 sets the IEEE 802 locally administered bit (and
// leaves the group bit clear), 0x54 is 'T' for tapstack.
constexpr std::uint8_t kDefaultMacPrefix0 = 0x02;
constexpr std::uint8_t kDefaultMacPrefix1 = 0x54;

}  // namespace

UsageError usage(std::string_view flag, std::string_view message) {
  return UsageError{std::string(flag) + ": " + std::string(message)};
}

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

wire::MacAddress default_mac(wire::Ipv4Address ip) {
  return wire::MacAddress{{kDefaultMacPrefix0, kDefaultMacPrefix1, static_cast<std::uint8_t>(ip.value >> 24),
                           static_cast<std::uint8_t>(ip.value >> 16), static_cast<std::uint8_t>(ip.value >> 8),
                           static_cast<std::uint8_t>(ip.value)}};
}

Result<Unit, UsageError> parse_ip_option(const std::string& text, InterfaceConfig& itf) {
  constexpr std::string_view kIpForm =
      "expected ADDR/PREFIX with a unicast IPv4 ADDR and PREFIX 0..32, e.g. 10.99.0.2/24";
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos) {
    return fail(usage("--ip", in_quotes(text) + " has no /PREFIX; " + std::string(kIpForm)));
  }
  const auto address = wire::Ipv4Address::parse(std::string_view(text).substr(0, slash));
  const std::string prefix_text = text.substr(slash + 1);
  if (!address) {
    return fail(usage("--ip", in_quotes(text) + ": " + in_quotes(text.substr(0, slash)) +
                                  " is not an IPv4 address; " + std::string(kIpForm)));
  }
  unsigned prefix = 0;
  if (prefix_text.empty() || prefix_text.size() > 2 ||
      prefix_text.find_first_not_of("0123456789") != std::string::npos ||
      (prefix = static_cast<unsigned>(std::stoul(prefix_text))) > 32) {
    return fail(usage("--ip", in_quotes(text) + ": prefix " + in_quotes(prefix_text) + " is not 0..32; " +
                                  std::string(kIpForm)));
  }
  itf.address = *address;
  itf.prefix_len = static_cast<std::uint8_t>(prefix);
  if (address->is_unspecified() || address->is_broadcast() || address->is_multicast() || address->is_loopback()) {
    return fail(usage("--ip", in_quotes(text) + ": not a unicast address; " + std::string(kIpForm)));
  }
  if (prefix < 31 && (address->value & ~itf.netmask()) == ~itf.netmask()) {
    return fail(usage("--ip", in_quotes(text) + ": that is the subnet's broadcast address; " + std::string(kIpForm)));
  }
  // RFC 1122 3.2.1.3 (a)/(b): a host part of all zeros means "this host", not an address.
  if (prefix < 31 && (address->value & ~itf.netmask()) == 0) {
    return fail(usage("--ip", in_quotes(text) + ": that is the subnet's network address; " + std::string(kIpForm)));
  }
  return Unit{};
}

Result<Unit, UsageError> parse_mac_option(const std::string& text, InterfaceConfig& itf) {
  if (text.empty()) {
    itf.mac = default_mac(itf.address);
    return Unit{};
  }
  const auto mac = wire::MacAddress::parse(text);
  if (!mac || mac->is_multicast() || *mac == wire::MacAddress{}) {
    return fail(usage("--mac", in_quotes(text) +
                                   " is not a unicast MAC; expected six hex pairs like 02:54:0a:63:00:02 "
                                   "(first octet even, not all zero)"));
  }
  itf.mac = *mac;
  return Unit{};
}

Result<std::vector<apps::ServiceSpec>, UsageError> parse_serve_options(const std::vector<std::string>& texts) {
  std::vector<apps::ServiceSpec> services;
  for (const std::string& text : texts) {
    auto spec = apps::parse_service_spec(text);
    if (!spec.ok()) {
      return fail(usage("--serve", spec.error()));
    }
    services.push_back(*spec);
  }
  if (auto ok = apps::check_service_specs(services); !ok.ok()) {
    return fail(usage("--serve", ok.error()));
  }
  return services;
}

Result<ConnectTarget, UsageError> parse_connect_option(const std::string& text, const InterfaceConfig& itf) {
  constexpr std::string_view kForm = "expected HOST:PORT with an IPv4 HOST and PORT 1..65535, e.g. 10.99.0.1:7";
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) {
    return fail(usage("--connect", in_quotes(text) + " has no :PORT; " + std::string(kForm)));
  }
  const std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  const auto address = wire::Ipv4Address::parse(host);
  if (!address) {
    return fail(usage("--connect", in_quotes(text) + ": " + in_quotes(host) +
                                       " is not an IPv4 address (names are not looked up); " + std::string(kForm)));
  }
  unsigned long port = 0;
  if (port_text.empty() || port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos ||
      (port = std::stoul(port_text)) == 0 || port > 65535) {
    return fail(usage("--connect", in_quotes(text) + ": port " + in_quotes(port_text) + " is not 1..65535; " +
                                       std::string(kForm)));
  }
  if (address->is_unspecified() || address->is_broadcast() || address->is_multicast() || address->is_loopback() ||
      (itf.prefix_len < 31 && *address == itf.subnet_broadcast())) {
    return fail(usage("--connect", in_quotes(text) + ": not a unicast address; " + std::string(kForm)));
  }
  if (*address == itf.address) {
    return fail(usage("--connect", in_quotes(text) + ": that is the stack's own address; " + std::string(kForm)));
  }
  if (!itf.on_link(*address) && !itf.gateway) {
    return fail(usage("--connect", in_quotes(text) + ": not inside the --ip prefix and no --gateway given; " +
                                       std::string(kForm)));
  }
  return ConnectTarget{*address, static_cast<std::uint16_t>(port)};
}

}  // namespace tapstack::tools
