#include "apps/generated_content.hpp"

#include <array>

namespace tapstack::apps {

namespace {

// Whole periods, about 64 KiB each: a span handed to tcp_send fills a send buffer in a few calls.
constexpr std::size_t kChargenTableBytes = kChargenPeriod * 9;           // 63270
constexpr std::size_t kBytesTableBytes = kBytesPatternPeriod * 2520;     // 65520

template <std::size_t N, class F>
std::array<std::byte, N> make_table(F byte_at) {
  std::array<std::byte, N> table{};
  for (std::size_t i = 0; i < N; ++i) {
    table[i] = byte_at(i);
  }
  return table;
}

const std::array<std::byte, kChargenTableBytes>& chargen_table() {
  static const auto table = make_table<kChargenTableBytes>(chargen_byte_at);
  return table;
}

const std::array<std::byte, kBytesTableBytes>& bytes_table() {
  static const auto table = make_table<kBytesTableBytes>(bytes_pattern_at);
  return table;
}

}  // namespace

Bytes chargen_span_at(std::uint64_t offset) {
  const auto& table = chargen_table();
  const std::size_t start = static_cast<std::size_t>(offset % kChargenPeriod);
  return Bytes{table.data() + start, table.size() - start};
}

Bytes bytes_pattern_span_at(std::uint64_t offset) {
  const auto& table = bytes_table();
  const std::size_t start = static_cast<std::size_t>(offset % kBytesPatternPeriod);
  return Bytes{table.data() + start, table.size() - start};
}

}  // namespace tapstack::apps
