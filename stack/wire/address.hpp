#pragma once
// Link and network addresses as value types.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "stack/base/bytes.hpp"

namespace tapstack::wire {

struct MacAddress {
  std::array<std::uint8_t, 6> octets{};

  static constexpr MacAddress broadcast() { return MacAddress{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  constexpr bool is_broadcast() const { return *this == broadcast(); }
  // The I/G bit of the first octet (IEEE 802): group addresses include broadcast.
  constexpr bool is_multicast() const { return (octets[0] & 0x01) != 0; }
  constexpr bool is_unicast() const { return !is_multicast(); }

  static MacAddress load(Bytes b, std::size_t at);
  void store(MutableBytes b, std::size_t at) const;
  // "aa:bb:cc:dd:ee:ff"; nullopt for anything else.
  static std::optional<MacAddress> parse(std::string_view text);
  std::string to_string() const;

  constexpr auto operator<=>(const MacAddress&) const = default;
};

struct Ipv4Address {
  std::uint32_t value = 0;  // host order: 10.0.0.1 is 0x0a000001

  static constexpr Ipv4Address any() { return Ipv4Address{0}; }
  static constexpr Ipv4Address broadcast() { return Ipv4Address{0xffffffff}; }
  static constexpr Ipv4Address from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return Ipv4Address{(std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d};
  }
  constexpr bool is_unspecified() const { return value == 0; }
  constexpr bool is_broadcast() const { return value == 0xffffffff; }
  constexpr bool is_multicast() const { return (value >> 28) == 0xe; }  // 224.0.0.0/4
  constexpr bool is_loopback() const { return (value >> 24) == 127; }

  static Ipv4Address load(Bytes b, std::size_t at) { return Ipv4Address{load_be32(b, at)}; }
  void store(MutableBytes b, std::size_t at) const { store_be32(b, at, value); }
  // Dotted quad; nullopt for anything else.
  static std::optional<Ipv4Address> parse(std::string_view text);
  std::string to_string() const;

  constexpr auto operator<=>(const Ipv4Address&) const = default;
};

}  // namespace tapstack::wire
