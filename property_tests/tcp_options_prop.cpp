// TCP options: pushed options read back as the same list, parse(bytes) keeps
// the bytes exactly, and the builders keep word alignment.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "property_tests/wire_generators.hpp"

#include <vector>

#include "stack/wire/tcp_options.hpp"

namespace tapstack::wire {
namespace {

std::vector<TcpOption> read_all(const TcpOptions& options) {
  std::vector<TcpOption> out;
  for (TcpOptionReader r = options.reader(); !r.done();) {
    auto o = r.next();
    RC_ASSERT(o.ok());
    out.push_back(*o);
  }
  return out;
}

RC_GTEST_PROP(TcpOptionsProp, PushedListParsesAndReadsBack, ()) {
  const auto count = *rc::gen::inRange(0, 16);
  TcpOptions options;
  std::vector<TcpOption> pushed;
  for (int i = 0; i < count; ++i) {
    const TcpOption o = gen_tcp_option(TcpOptions::kMaxLen - 1, TcpOptions::kMaxLen - 2);
    RC_ASSERT(is_encodable(o));
    if (options.push(o)) {
      pushed.push_back(o);
    }
  }
  auto parsed = TcpOptions::parse(options.bytes());
  RC_ASSERT(parsed.ok());
  RC_ASSERT(*parsed == options);
  RC_ASSERT(read_all(*parsed) == pushed);
}

RC_GTEST_PROP(TcpOptionsProp, ParsedBytesAreKeptAndReencode, ()) {
  const auto raw = *rc::gen::container<std::vector<std::uint8_t>>(
      *rc::gen::inRange<std::size_t>(0, TcpOptions::kMaxLen + 1),
      // Mostly valid kinds and small lengths, so that many inputs parse.
      rc::gen::weightedOneOf<std::uint8_t>({{3, rc::gen::inRange<std::uint8_t>(0, 10)},
                                            {1, rc::gen::arbitrary<std::uint8_t>()}}));
  ByteVector bytes;
  for (std::uint8_t b : raw) {
    bytes.push_back(std::byte{b});
  }
  auto parsed = TcpOptions::parse(as_bytes(bytes));
  RC_PRE(parsed.ok());
  RC_ASSERT(std::ranges::equal(parsed->bytes(), bytes));
  TcpOptions rebuilt;
  for (const TcpOption& o : read_all(*parsed)) {
    RC_ASSERT(rebuilt.push(o));
  }
  RC_ASSERT(rebuilt == *parsed);
}

RC_GTEST_PROP(TcpOptionsProp, BuildersStayAlignedAndReadBack,
              (std::uint16_t mss, std::uint8_t shift, std::uint32_t tsval, std::uint32_t tsecr)) {
  TcpOptions options;
  const bool want_mss = *rc::gen::arbitrary<bool>();
  const bool want_ws = *rc::gen::arbitrary<bool>();
  const bool want_sack_perm = *rc::gen::arbitrary<bool>();
  const bool want_ts = *rc::gen::arbitrary<bool>();
  const auto blocks = *rc::gen::inRange<std::size_t>(0, SackBlocks::kMax + 1);
  if (want_mss) {
    RC_ASSERT(options.add_mss(mss));
  }
  if (want_ws) {
    RC_ASSERT(options.add_window_scale(shift));
  }
  if (want_sack_perm) {
    RC_ASSERT(options.add_sack_permitted());
  }
  if (want_ts) {
    RC_ASSERT(options.add_timestamps(tsval, tsecr));
  }
  SackBlocks sack;
  for (std::size_t i = 0; i < blocks; ++i) {
    RC_ASSERT(sack.push_back(SackBlock{tsval + static_cast<std::uint32_t>(i), tsecr}));
  }
  const bool sack_added = !sack.empty() && options.add_sack_blocks(sack);
  RC_ASSERT(options.size() % 4 == 0);
  auto parsed = TcpOptions::parse(options.bytes());
  RC_ASSERT(parsed.ok());
  RC_ASSERT(parsed->mss() == (want_mss ? std::optional<std::uint16_t>(mss) : std::nullopt));
  RC_ASSERT(parsed->window_scale() == (want_ws ? std::optional<std::uint8_t>(shift) : std::nullopt));
  RC_ASSERT(parsed->sack_permitted() == want_sack_perm);
  RC_ASSERT(parsed->timestamps() ==
            (want_ts ? std::optional(tcp_option::Timestamps{tsval, tsecr}) : std::nullopt));
  RC_ASSERT(parsed->sack_blocks() == (sack_added ? std::optional(sack) : std::nullopt));
}

}  // namespace
}  // namespace tapstack::wire
