// TCP options: the input is an option space. TcpOptionReader and
// TcpOptions::parse agree on whether and how it is malformed; a space that
// parses is kept byte for byte, its options re-encode (TcpOptions::push) to
// the same bytes, and the accessors return the first option of their kind.
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <vector>

#include "fuzz/fuzz_support.hpp"
#include "stack/wire/tcp_options.hpp"

using namespace tapstack;
using namespace tapstack::wire;
using tapstack::fuzz::require;
using tapstack::fuzz::same_up_to_zero_checksum;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(reinterpret_cast<const std::byte*>(data), size);

  std::vector<TcpOption> list;
  std::optional<Error> error;
  std::size_t steps = 0;
  for (TcpOptionReader reader(input); !reader.done();) {
    require(++steps <= TcpOptions::kMaxLen + 1);  // every option takes at least a byte
    auto option = reader.next();
    if (!option.ok()) {
      error = option.error();
      require(reader.done());
      break;
    }
    require(is_encodable(*option));
    list.push_back(*option);
  }

  auto parsed = TcpOptions::parse(input);
  if (error) {
    require(!parsed.ok() && parsed.error() == *error);
    require(*error == Error::BadOptionLength || *error == Error::BadOption);
    return 0;
  }
  require(parsed.ok());
  require(std::ranges::equal(parsed->bytes(), input));

  std::size_t total = 0;
  TcpOptions rebuilt;
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;
  bool sack_permitted = false;
  std::optional<SackBlocks> sack_blocks;
  std::optional<tcp_option::Timestamps> timestamps;
  for (const TcpOption& o : list) {
    total += encoded_len(o);
    require(rebuilt.push(o));
    if (const auto* m = std::get_if<tcp_option::Mss>(&o); m && !mss) {
      mss = m->value;
    } else if (const auto* w = std::get_if<tcp_option::WindowScale>(&o); w && !window_scale) {
      window_scale = w->shift;
    } else if (std::holds_alternative<tcp_option::SackPermitted>(o)) {
      sack_permitted = true;
    } else if (const auto* s = std::get_if<tcp_option::Sack>(&o); s && !sack_blocks) {
      sack_blocks = s->blocks;
    } else if (const auto* t = std::get_if<tcp_option::Timestamps>(&o); t && !timestamps) {
      timestamps = *t;
    }
  }
  require(total == input.size());
  require(rebuilt == *parsed);
  require(parsed->mss() == mss);
  require(parsed->window_scale() == window_scale);
  require(parsed->sack_permitted() == sack_permitted);
  require(parsed->sack_blocks() == sack_blocks);
  require(parsed->timestamps() == timestamps);

  auto again = TcpOptions::parse(rebuilt.bytes());
  require(again.ok() && *again == *parsed);
  return 0;
}
