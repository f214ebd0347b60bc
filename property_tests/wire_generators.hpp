#pragma once
// RapidCheck generators for wire values shared by several property files.

#include <rapidcheck.h>

#include <vector>

#include "stack/wire/tcp_options.hpp"

namespace tapstack::wire {

inline TcpOptionBytes gen_option_bytes(std::size_t max_len) {
  const auto len = *rc::gen::inRange<std::size_t>(0, max_len + 1);
  const auto raw = *rc::gen::container<std::vector<std::uint8_t>>(len, rc::gen::arbitrary<std::uint8_t>());
  TcpOptionBytes out;
  for (std::uint8_t b : raw) {
    const std::byte one{b};
    (void)out.append(Bytes{&one, 1});
  }
  return out;
}

// One TCP option with an encoding, of any kind: EOL with up to
// end_padding_max bytes after it, unknown kinds with up to unknown_data_max
// bytes of data.
inline TcpOption gen_tcp_option(std::size_t end_padding_max, std::size_t unknown_data_max) {
  switch (*rc::gen::inRange(0, 8)) {
    case 0:
      return tcp_option::End{gen_option_bytes(end_padding_max)};
    case 1:
      return tcp_option::Nop{};
    case 2:
      return tcp_option::Mss{*rc::gen::arbitrary<std::uint16_t>()};
    case 3:
      return tcp_option::WindowScale{*rc::gen::arbitrary<std::uint8_t>()};
    case 4:
      return tcp_option::SackPermitted{};
    case 5: {
      tcp_option::Sack sack;
      const auto n = *rc::gen::inRange<std::size_t>(1, SackBlocks::kMax + 1);
      for (std::size_t i = 0; i < n; ++i) {
        RC_ASSERT(sack.blocks.push_back(
            SackBlock{*rc::gen::arbitrary<std::uint32_t>(), *rc::gen::arbitrary<std::uint32_t>()}));
      }
      return sack;
    }
    case 6:
      return tcp_option::Timestamps{*rc::gen::arbitrary<std::uint32_t>(), *rc::gen::arbitrary<std::uint32_t>()};
    default: {
      const auto kind = *rc::gen::suchThat<std::uint8_t>([](std::uint8_t k) { return !is_known_tcp_option_kind(k); });
      return tcp_option::Unknown{kind, gen_option_bytes(unknown_data_max)};
    }
  }
}

}  // namespace tapstack::wire
