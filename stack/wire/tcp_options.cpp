#include "stack/wire/tcp_options.hpp"

#include <algorithm>

namespace tapstack::wire {

namespace {

namespace field {
constexpr std::size_t kKind = 0;
constexpr std::size_t kLength = 1;
constexpr std::size_t kData = 2;
}  // namespace field

// Lengths fixed by each option's RFC (kind and length bytes included).
constexpr std::size_t kMssLen = 4;            // RFC 9293 3.2
constexpr std::size_t kWindowScaleLen = 3;    // RFC 7323 2.2
constexpr std::size_t kSackPermittedLen = 2;  // RFC 2018 2
constexpr std::size_t kTimestampsLen = 10;    // RFC 7323 3.2
constexpr std::size_t kSackBlockLen = 8;      // RFC 2018 3
constexpr std::size_t kMaxUnknownData = TcpOptions::kMaxLen - field::kData;

bool sack_len_ok(std::size_t len) {
  if (len < field::kData + kSackBlockLen) {
    return false;
  }
  const std::size_t data = len - field::kData;
  return data % kSackBlockLen == 0 && data / kSackBlockLen <= SackBlocks::kMax;
}

// Decodes one option with a length byte, whose bytes (kind and length
// included) are `opt` and whose length byte already matched opt.size().
Result<TcpOption, Error> decode_with_length(Bytes opt) {
  const std::uint8_t kind = load_u8(opt, field::kKind);
  const std::size_t len = opt.size();
  switch (static_cast<TcpOptionKind>(kind)) {
    case TcpOptionKind::Mss:
      if (len != kMssLen) {
        return fail(Error::BadOption);
      }
      return TcpOption{tcp_option::Mss{load_be16(opt, field::kData)}};
    case TcpOptionKind::WindowScale:
      if (len != kWindowScaleLen) {
        return fail(Error::BadOption);
      }
      return TcpOption{tcp_option::WindowScale{load_u8(opt, field::kData)}};
    case TcpOptionKind::SackPermitted:
      if (len != kSackPermittedLen) {
        return fail(Error::BadOption);
      }
      return TcpOption{tcp_option::SackPermitted{}};
    case TcpOptionKind::Sack: {
      if (!sack_len_ok(len)) {
        return fail(Error::BadOption);
      }
      tcp_option::Sack sack;
      for (std::size_t at = field::kData; at < len; at += kSackBlockLen) {
        (void)sack.blocks.push_back(SackBlock{load_be32(opt, at), load_be32(opt, at + 4)});
      }
      return TcpOption{sack};
    }
    case TcpOptionKind::Timestamps:
      if (len != kTimestampsLen) {
        return fail(Error::BadOption);
      }
      return TcpOption{tcp_option::Timestamps{load_be32(opt, field::kData), load_be32(opt, field::kData + 4)}};
    case TcpOptionKind::End:
    case TcpOptionKind::Nop:
      break;  // handled by the caller: they have no length byte
  }
  // RFC 9293 MUST-6: an option we do not implement is kept and skipped.
  return TcpOption{tcp_option::Unknown{kind, TcpOptionBytes(opt.subspan(field::kData))}};
}

}  // namespace

bool TcpOptionBytes::append(Bytes b) {
  if (b.size() > room()) {
    return false;
  }
  std::copy(b.begin(), b.end(), data_.begin() + size_);
  size_ = static_cast<std::uint8_t>(size_ + b.size());
  return true;
}

bool TcpOptionBytes::operator==(const TcpOptionBytes& other) const {
  return std::ranges::equal(view(), other.view());
}

SackBlocks::SackBlocks(std::initializer_list<SackBlock> blocks) {
  for (const SackBlock& b : blocks) {
    if (!push_back(b)) {
      break;
    }
  }
}

bool SackBlocks::push_back(SackBlock b) {
  if (size_ == kMax) {
    return false;
  }
  blocks_[size_++] = b;
  return true;
}

bool SackBlocks::operator==(const SackBlocks& other) const {
  return std::ranges::equal(view(), other.view());
}

TcpOptionKind tcp_option_kind(const TcpOption& option) {
  struct Visitor {
    TcpOptionKind operator()(const tcp_option::End&) const { return TcpOptionKind::End; }
    TcpOptionKind operator()(const tcp_option::Nop&) const { return TcpOptionKind::Nop; }
    TcpOptionKind operator()(const tcp_option::Mss&) const { return TcpOptionKind::Mss; }
    TcpOptionKind operator()(const tcp_option::WindowScale&) const { return TcpOptionKind::WindowScale; }
    TcpOptionKind operator()(const tcp_option::SackPermitted&) const { return TcpOptionKind::SackPermitted; }
    TcpOptionKind operator()(const tcp_option::Sack&) const { return TcpOptionKind::Sack; }
    TcpOptionKind operator()(const tcp_option::Timestamps&) const { return TcpOptionKind::Timestamps; }
    TcpOptionKind operator()(const tcp_option::Unknown& u) const { return static_cast<TcpOptionKind>(u.kind); }
  };
  return std::visit(Visitor{}, option);
}

bool is_encodable(const TcpOption& option) {
  if (const auto* end = std::get_if<tcp_option::End>(&option)) {
    return end->padding.size() < TcpOptions::kMaxLen;
  }
  if (const auto* sack = std::get_if<tcp_option::Sack>(&option)) {
    return !sack->blocks.empty();  // SackBlocks holds at most 4
  }
  if (const auto* unknown = std::get_if<tcp_option::Unknown>(&option)) {
    return !is_known_tcp_option_kind(unknown->kind) && unknown->data.size() <= kMaxUnknownData;
  }
  return true;
}

std::size_t encoded_len(const TcpOption& option) {
  struct Visitor {
    std::size_t operator()(const tcp_option::End& e) const { return 1 + e.padding.size(); }
    std::size_t operator()(const tcp_option::Nop&) const { return 1; }
    std::size_t operator()(const tcp_option::Mss&) const { return kMssLen; }
    std::size_t operator()(const tcp_option::WindowScale&) const { return kWindowScaleLen; }
    std::size_t operator()(const tcp_option::SackPermitted&) const { return kSackPermittedLen; }
    std::size_t operator()(const tcp_option::Sack& s) const {
      return field::kData + kSackBlockLen * s.blocks.size();
    }
    std::size_t operator()(const tcp_option::Timestamps&) const { return kTimestampsLen; }
    std::size_t operator()(const tcp_option::Unknown& u) const { return field::kData + u.data.size(); }
  };
  return std::visit(Visitor{}, option);
}

void encode(const TcpOption& option, MutableBytes out) {
  const auto len = static_cast<std::uint8_t>(encoded_len(option));
  store_u8(out, field::kKind, static_cast<std::uint8_t>(tcp_option_kind(option)));
  if (const auto* end = std::get_if<tcp_option::End>(&option)) {
    std::ranges::copy(end->padding.view(), out.begin() + 1);
    return;
  }
  if (std::holds_alternative<tcp_option::Nop>(option)) {
    return;
  }
  store_u8(out, field::kLength, len);
  if (const auto* mss = std::get_if<tcp_option::Mss>(&option)) {
    store_be16(out, field::kData, mss->value);
  } else if (const auto* ws = std::get_if<tcp_option::WindowScale>(&option)) {
    store_u8(out, field::kData, ws->shift);
  } else if (const auto* sack = std::get_if<tcp_option::Sack>(&option)) {
    std::size_t at = field::kData;
    for (const SackBlock& b : sack->blocks) {
      store_be32(out, at, b.left);
      store_be32(out, at + 4, b.right);
      at += kSackBlockLen;
    }
  } else if (const auto* ts = std::get_if<tcp_option::Timestamps>(&option)) {
    store_be32(out, field::kData, ts->value);
    store_be32(out, field::kData + 4, ts->echo_reply);
  } else if (const auto* unknown = std::get_if<tcp_option::Unknown>(&option)) {
    std::ranges::copy(unknown->data.view(), out.begin() + field::kData);
  }
}

TcpOptionReader::TcpOptionReader(Bytes options) : rest_(options), too_long_(options.size() > TcpOptions::kMaxLen) {}

Result<TcpOption, Error> TcpOptionReader::next() {
  if (too_long_) {
    // More than the data offset field can describe (RFC 9293 3.1).
    too_long_ = false;
    rest_ = {};
    return fail(Error::BadOptionLength);
  }
  if (rest_.empty()) {
    return fail(Error::Truncated);  // next() past done(): nothing to read
  }
  const std::uint8_t kind = load_u8(rest_, field::kKind);
  if (kind == static_cast<std::uint8_t>(TcpOptionKind::End)) {
    // RFC 9293 3.2: the end of the option list, not necessarily of the
    // option space; what follows is padding.
    TcpOption end{tcp_option::End{TcpOptionBytes(rest_.subspan(1))}};
    rest_ = {};
    return end;
  }
  if (kind == static_cast<std::uint8_t>(TcpOptionKind::Nop)) {
    rest_ = rest_.subspan(1);
    return TcpOption{tcp_option::Nop{}};
  }
  // Every other option has a length byte (RFC 9293 MUST-68) counting kind
  // and length; 0 or 1 could never advance, more than is left overruns.
  if (rest_.size() < field::kData) {
    rest_ = {};
    return fail(Error::BadOptionLength);
  }
  const std::size_t len = load_u8(rest_, field::kLength);
  if (len < field::kData || len > rest_.size()) {
    rest_ = {};
    return fail(Error::BadOptionLength);
  }
  auto option = decode_with_length(rest_.first(len));
  rest_ = option.ok() ? rest_.subspan(len) : Bytes{};
  return option;
}

Result<TcpOptions, Error> TcpOptions::parse(Bytes options) {
  TcpOptions parsed;
  TcpOptionReader reader(options);
  while (!reader.done()) {
    auto option = reader.next();
    if (!option.ok()) {
      return fail(option.error());
    }
    parsed.ended_ = parsed.ended_ || std::holds_alternative<tcp_option::End>(*option);
  }
  (void)parsed.bytes_.append(options);  // fits: the reader rejected more than kMaxLen
  return parsed;
}

std::optional<std::uint16_t> TcpOptions::mss() const {
  for (TcpOptionReader r = reader(); !r.done();) {
    const TcpOption o = *r.next();
    if (const auto* mss = std::get_if<tcp_option::Mss>(&o)) {
      return mss->value;
    }
  }
  return std::nullopt;
}

std::optional<std::uint8_t> TcpOptions::window_scale() const {
  for (TcpOptionReader r = reader(); !r.done();) {
    const TcpOption o = *r.next();
    if (const auto* ws = std::get_if<tcp_option::WindowScale>(&o)) {
      return ws->shift;
    }
  }
  return std::nullopt;
}

bool TcpOptions::sack_permitted() const {
  for (TcpOptionReader r = reader(); !r.done();) {
    if (std::holds_alternative<tcp_option::SackPermitted>(*r.next())) {
      return true;
    }
  }
  return false;
}

std::optional<SackBlocks> TcpOptions::sack_blocks() const {
  for (TcpOptionReader r = reader(); !r.done();) {
    const TcpOption o = *r.next();
    if (const auto* sack = std::get_if<tcp_option::Sack>(&o)) {
      return sack->blocks;
    }
  }
  return std::nullopt;
}

std::optional<tcp_option::Timestamps> TcpOptions::timestamps() const {
  for (TcpOptionReader r = reader(); !r.done();) {
    const TcpOption o = *r.next();
    if (const auto* ts = std::get_if<tcp_option::Timestamps>(&o)) {
      return *ts;
    }
  }
  return std::nullopt;
}

bool TcpOptions::push(const TcpOption& option) {
  return push_all({option});
}

bool TcpOptions::push_all(std::initializer_list<TcpOption> options) {
  if (ended_) {
    return false;
  }
  std::size_t total = 0;
  for (const TcpOption& o : options) {
    if (!is_encodable(o)) {
      return false;
    }
    total += encoded_len(o);
  }
  if (total > bytes_.room()) {
    return false;
  }
  std::array<std::byte, kMaxLen> scratch{};
  std::size_t at = 0;
  for (const TcpOption& o : options) {
    encode(o, MutableBytes{scratch}.subspan(at));
    at += encoded_len(o);
    ended_ = ended_ || std::holds_alternative<tcp_option::End>(o);
  }
  (void)bytes_.append(Bytes{scratch.data(), total});
  return true;
}

bool TcpOptions::add_mss(std::uint16_t mss) { return push_all({tcp_option::Mss{mss}}); }

bool TcpOptions::add_window_scale(std::uint8_t shift) {
  return push_all({tcp_option::Nop{}, tcp_option::WindowScale{shift}});
}

bool TcpOptions::add_sack_permitted() {
  return push_all({tcp_option::Nop{}, tcp_option::Nop{}, tcp_option::SackPermitted{}});
}

bool TcpOptions::add_timestamps(std::uint32_t value, std::uint32_t echo_reply) {
  return push_all({tcp_option::Nop{}, tcp_option::Nop{}, tcp_option::Timestamps{value, echo_reply}});
}

bool TcpOptions::add_sack_permitted_and_timestamps(std::uint32_t value, std::uint32_t echo_reply) {
  return push_all({tcp_option::SackPermitted{}, tcp_option::Timestamps{value, echo_reply}});
}

bool TcpOptions::add_sack_blocks(const SackBlocks& blocks) {
  return push_all({tcp_option::Nop{}, tcp_option::Nop{}, tcp_option::Sack{blocks}});
}

void TcpOptions::pad() {
  const std::array<std::byte, 3> zeros{};
  const std::size_t fill = padded_size() - size();
  (void)bytes_.append(Bytes{zeros.data(), fill});
  if (fill != 0) {
    ended_ = true;  // the first zero is an End option
  }
}

void TcpOptions::clear() {
  bytes_.clear();
  ended_ = false;
}

}  // namespace tapstack::wire
