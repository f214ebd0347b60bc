#include "stack/wire/address.hpp"

#include <charconv>
#include <cstdio>

namespace tapstack::wire {

MacAddress MacAddress::load(Bytes b, std::size_t at) {
  MacAddress m;
  for (std::size_t i = 0; i < m.octets.size(); ++i) {
    m.octets[i] = load_u8(b, at + i);
  }
  return m;
}

void MacAddress::store(MutableBytes b, std::size_t at) const {
  for (std::size_t i = 0; i < octets.size(); ++i) {
    store_u8(b, at + i, octets[i]);
  }
}

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
  MacAddress m;
  if (text.size() != 17) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < 6; ++i) {
    const std::string_view part = text.substr(i * 3, 2);
    if (i < 5 && text[i * 3 + 2] != ':') {
      return std::nullopt;
    }
    unsigned v = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v, 16);
    if (ec != std::errc{} || end != part.data() + part.size()) {
      return std::nullopt;
    }
    m.octets[i] = static_cast<std::uint8_t>(v);
  }
  return m;
}

std::string MacAddress::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", octets[0], octets[1], octets[2], octets[3],
                octets[4], octets[5]);
  return buf;
}

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) {
  std::uint32_t value = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (p == end || *p != '.') {
        return std::nullopt;
      }
      ++p;
    }
    // No sign, no leading '+', at most three digits.
    if (p == end || *p < '0' || *p > '9') {
      return std::nullopt;
    }
    unsigned octet = 0;
    auto [next, ec] = std::from_chars(p, end, octet);
    if (ec != std::errc{} || octet > 255 || next - p > 3) {
      return std::nullopt;
    }
    value = (value << 8) | octet;
    p = next;
  }
  if (p != end) {
    return std::nullopt;
  }
  return Ipv4Address{value};
}

std::string Ipv4Address::to_string() const {
  return std::to_string(value >> 24) + "." + std::to_string((value >> 16) & 0xff) + "." +
         std::to_string((value >> 8) & 0xff) + "." + std::to_string(value & 0xff);
}

}  // namespace tapstack::wire
