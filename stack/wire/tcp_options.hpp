#pragma once
// TCP options (RFC 9293 3.1 and 3.2): End of Option List, No-Operation,
// Maximum Segment Size (RFC 6691), Window Scale and Timestamps (RFC 7323),
// SACK-Permitted and SACK (RFC 2018). Any other kind is kept with its raw data
// and skipped by its length (RFC 9293 MUST-6).
//
// TcpOptions holds the option space exactly as it was received or built (at
// most 40 bytes, inline, no heap): every option in order, NOPs, EOL and
// whatever bytes follow EOL. So emit(parse(b)) == b byte for byte, including
// Linux's "MSS, SACK_PERM, TS, NOP, WS" SYN layout. The typed view of those
// bytes is TcpOptionReader, which also serves alone as the option parser.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <variant>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/error.hpp"

namespace tapstack::wire {

// Option kinds (IANA "TCP Option Kind Numbers"). Unknown values are kept.
enum class TcpOptionKind : std::uint8_t {
  End = 0,
  Nop = 1,
  Mss = 2,
  WindowScale = 3,
  SackPermitted = 4,
  Sack = 5,
  Timestamps = 8,
};

// Whether `kind` is one of the kinds above, whose length this parser checks.
constexpr bool is_known_tcp_option_kind(std::uint8_t kind) {
  return kind <= 5 || kind == 8;
}

// Up to 40 bytes held inline: the data of an unknown option, the padding
// after EOL, or a whole option space. Equality compares the bytes held.
class TcpOptionBytes {
 public:
  static constexpr std::size_t kCapacity = 40;

  constexpr TcpOptionBytes() = default;
  // Copies the first min(b.size(), kCapacity) bytes of b.
  explicit TcpOptionBytes(Bytes b) { (void)append(b.first(b.size() < kCapacity ? b.size() : kCapacity)); }

  Bytes view() const { return Bytes{data_.data(), size_}; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t room() const { return kCapacity - size_; }
  // Appends b whole; false (and nothing appended) if it does not fit.
  bool append(Bytes b);
  void clear() { size_ = 0; }

  bool operator==(const TcpOptionBytes& other) const;

 private:
  std::array<std::byte, kCapacity> data_{};
  std::uint8_t size_ = 0;
};

// One SACK block (RFC 2018 3): the first sequence number of a received run
// and the one after its last byte.
struct SackBlock {
  std::uint32_t left = 0;
  std::uint32_t right = 0;

  bool operator==(const SackBlock&) const = default;
};

// The 1 to 4 blocks a SACK option carries (2 + 8n bytes within the 40 bytes
// of option space), inline. Equality compares the blocks held.
class SackBlocks {
 public:
  static constexpr std::size_t kMax = 4;

  constexpr SackBlocks() = default;
  // Keeps the first kMax blocks.
  SackBlocks(std::initializer_list<SackBlock> blocks);

  // False (and nothing added) when already full.
  bool push_back(SackBlock b);
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const SackBlock& operator[](std::size_t i) const { return blocks_[i]; }
  std::span<const SackBlock> view() const { return {blocks_.data(), size_}; }
  const SackBlock* begin() const { return blocks_.data(); }
  const SackBlock* end() const { return blocks_.data() + size_; }

  bool operator==(const SackBlocks& other) const;

 private:
  std::array<SackBlock, kMax> blocks_{};
  std::uint8_t size_ = 0;
};

// The options as values. Each encodes to exactly one byte run.
namespace tcp_option {

// Kind 0. The option list ends here; `padding` is every byte after it up to
// the end of the option space (RFC 9293 MUST-69 wants zeros; whatever came is
// kept so that a round trip is exact).
struct End {
  TcpOptionBytes padding;
  bool operator==(const End&) const = default;
};

// Kind 1, one byte, used to align the next option.
struct Nop {
  bool operator==(const Nop&) const = default;
};

// Kind 2, length 4 (RFC 9293 3.2, RFC 6691).
struct Mss {
  std::uint16_t value = 0;
  bool operator==(const Mss&) const = default;
};

// Kind 3, length 3 (RFC 7323 2.2). The shift as sent: clamping a shift
// above 14 (RFC 7323 2.3) is the TCP layer's job, not the wire's.
struct WindowScale {
  std::uint8_t shift = 0;
  bool operator==(const WindowScale&) const = default;
};

// Kind 4, length 2 (RFC 2018 2).
struct SackPermitted {
  bool operator==(const SackPermitted&) const = default;
};

// Kind 5, length 2 + 8n with 1 <= n <= 4 (RFC 2018 3).
struct Sack {
  SackBlocks blocks;
  bool operator==(const Sack&) const = default;
};

// Kind 8, length 10 (RFC 7323 3.2): TSval and TSecr.
struct Timestamps {
  std::uint32_t value = 0;
  std::uint32_t echo_reply = 0;
  bool operator==(const Timestamps&) const = default;
};

// Any other kind, with its data (the bytes after kind and length; at most
// 38). `kind` is never one of the known kinds.
struct Unknown {
  std::uint8_t kind = 0;
  TcpOptionBytes data;
  bool operator==(const Unknown&) const = default;
};

}  // namespace tcp_option

using TcpOption = std::variant<tcp_option::End, tcp_option::Nop, tcp_option::Mss, tcp_option::WindowScale,
                               tcp_option::SackPermitted, tcp_option::Sack, tcp_option::Timestamps,
                               tcp_option::Unknown>;

TcpOptionKind tcp_option_kind(const TcpOption& option);
// Whether `option` has an encoding that parses back to it: 1 to 4 SACK
// blocks, an Unknown kind that is not a known one with at most 38 data bytes,
// End padding of at most 39 bytes.
bool is_encodable(const TcpOption& option);
// Bytes the option takes on the wire.
std::size_t encoded_len(const TcpOption& option);
// Writes encoded_len(option) bytes to out[0, ...); option must be encodable.
void encode(const TcpOption& option, MutableBytes out);

// Decodes an option space one option at a time; the parser on its own (the
// tcp_options fuzzer drives it directly). Errors (RFC 9293 MUST-7):
//   BadOptionLength  a length byte of 0 or 1, an option that runs past the
//                    option space, a kind with no room left for its length
//                    byte, or an option space longer than 40 bytes;
//   BadOption        a known kind with a length it does not allow.
// After an error, or after End (which takes the rest as padding), done();
// next() when done() returns Truncated.
class TcpOptionReader {
 public:
  explicit TcpOptionReader(Bytes options);

  bool done() const { return rest_.empty() && !too_long_; }
  Result<TcpOption, Error> next();

 private:
  Bytes rest_;
  bool too_long_;
};

// A validated option space of at most 40 bytes, kept byte for byte, with
// accessors for the options the stack uses and a builder that appends
// options aligned the way Linux aligns them.
class TcpOptions {
 public:
  static constexpr std::size_t kMaxLen = 40;  // data offset 15 words - 5

  // Validates every option (see TcpOptionReader for the errors).
  static Result<TcpOptions, Error> parse(Bytes options);

  Bytes bytes() const { return bytes_.view(); }
  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  // size() rounded up to a multiple of 4: what the header needs.
  std::size_t padded_size() const { return (size() + 3) & ~std::size_t{3}; }
  // The options in order; next() never fails on a TcpOptions.
  TcpOptionReader reader() const { return TcpOptionReader(bytes()); }

  // The first option of each kind, if any.
  std::optional<std::uint16_t> mss() const;
  std::optional<std::uint8_t> window_scale() const;
  bool sack_permitted() const;
  std::optional<SackBlocks> sack_blocks() const;
  std::optional<tcp_option::Timestamps> timestamps() const;

  // Appends one option exactly, with no alignment. False (and nothing
  // appended) if it is not encodable, does not fit, or an End came before.
  [[nodiscard]] bool push(const TcpOption& option);

  // Builders: each appends a multiple of 4 bytes, NOPs first so that the
  // option's 32-bit fields fall on word boundaries (RFC 7323 appendix A
  // layout), and returns false (appending nothing) when out of room.
  [[nodiscard]] bool add_mss(std::uint16_t mss);                      // MSS
  [[nodiscard]] bool add_window_scale(std::uint8_t shift);            // NOP WS
  [[nodiscard]] bool add_sack_permitted();                            // NOP NOP SACK_PERM
  [[nodiscard]] bool add_timestamps(std::uint32_t value, std::uint32_t echo_reply);  // NOP NOP TS
  // SACK_PERM TS in 12 bytes, as Linux sends them in a SYN.
  [[nodiscard]] bool add_sack_permitted_and_timestamps(std::uint32_t value, std::uint32_t echo_reply);
  [[nodiscard]] bool add_sack_blocks(const SackBlocks& blocks);       // NOP NOP SACK
  // Zero fill (EOL then zero padding, RFC 9293 MUST-69) to a multiple of 4
  // bytes; always fits.
  void pad();
  void clear();

  bool operator==(const TcpOptions& other) const { return bytes_ == other.bytes_; }

 private:
  bool push_all(std::initializer_list<TcpOption> options);
  TcpOptionBytes bytes_;
  bool ended_ = false;  // an End is in bytes_: nothing more can be an option
};

}  // namespace tapstack::wire
