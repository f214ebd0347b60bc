#pragma once
// Byte spans and explicit big-endian loads and stores. Packet memory is never
// reinterpret_cast to a struct: every multi-byte field goes through these.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace tapstack {

using Bytes = std::span<const std::byte>;
using MutableBytes = std::span<std::byte>;
using ByteVector = std::vector<std::byte>;

constexpr std::uint8_t load_u8(Bytes b, std::size_t at) { return static_cast<std::uint8_t>(b[at]); }

constexpr std::uint16_t load_be16(Bytes b, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<unsigned>(b[at]) << 8) | static_cast<unsigned>(b[at + 1]));
}

constexpr std::uint32_t load_be32(Bytes b, std::size_t at) {
  return (static_cast<std::uint32_t>(b[at]) << 24) | (static_cast<std::uint32_t>(b[at + 1]) << 16) |
         (static_cast<std::uint32_t>(b[at + 2]) << 8) | static_cast<std::uint32_t>(b[at + 3]);
}

constexpr void store_u8(MutableBytes b, std::size_t at, std::uint8_t v) { b[at] = std::byte{v}; }

constexpr void store_be16(MutableBytes b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::byte>(v >> 8);
  b[at + 1] = static_cast<std::byte>(v & 0xff);
}

constexpr void store_be32(MutableBytes b, std::size_t at, std::uint32_t v) {
  b[at] = static_cast<std::byte>(v >> 24);
  b[at + 1] = static_cast<std::byte>((v >> 16) & 0xff);
  b[at + 2] = static_cast<std::byte>((v >> 8) & 0xff);
  b[at + 3] = static_cast<std::byte>(v & 0xff);
}

// Bytes from a hex string such as "ff ff 00 0a" (spaces ignored); for tests
// and corpora. Returns an empty vector on malformed input.
ByteVector bytes_from_hex(std::string_view hex);

inline Bytes as_bytes(const ByteVector& v) { return Bytes{v.data(), v.size()}; }

}  // namespace tapstack
