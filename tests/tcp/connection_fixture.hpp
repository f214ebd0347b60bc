#pragma once
// Test vocabulary for one tcp::Connection driven directly (no Stack, no frames):
// the peer's segments go in through on_segment(), what the connection sends is
// recorded by a fake SegmentOutput, time moves only when a test says so.
//
//   peer side:   syn(seq), syn_ack(seq, ack), ack(seq, ack, payload, window),
//                fin(seq, ack, payload), rst(seq), rst_ack(seq, ack), segment(...)
//   our side:    expect_sent(flags, seq, ack), expect_segment({.flags = .., .len = ..}),
//                expect_nothing_sent(), expect_state(TcpState::...)
//   time:        advance(d) fires every timer due up to now + d, in order;
//                fire_next_timer() jumps to the connection's deadline.
//
// Sequence numbers are written relative to the two ISNs: local(n) is the n-th
// byte we send (ISS + 1 + n), remote(n) the n-th byte the peer sends (IRS + 1 +
// n). Our ISS sits just below 2^32, so every transfer crosses the wrap.
//
// Fixtures build on each other like the RFC 9293 state diagram (3.3.2):
//   ConnectionTest (CLOSED)
//     ListenFixture -> SynReceivedFixture -> EstablishedFixture (passive)
//       EstablishedFixture -> FinWait1Fixture -> FinWait2Fixture -> TimeWaitFixture
//                             FinWait1Fixture -> ClosingFixture
//       EstablishedFixture -> CloseWaitFixture -> LastAckFixture
//     SynSentFixture -> EstablishedFromActiveFixture
// A test that needs other limits derives a fixture and overrides configure().

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <vector>

#include "stack/base/bytes.hpp"
#include "stack/base/time.hpp"
#include "stack/config.hpp"
#include "stack/ip/icmp_policy.hpp"
#include "stack/tcp/connection.hpp"
#include "stack/tcp/segment.hpp"
#include "stack/tcp/seq.hpp"
#include "stack/tcp/state.hpp"
#include "stack/tcp/tcp_counters.hpp"
#include "stack/wire/tcp.hpp"

namespace tapstack::tcp::test {

using wire::TcpFlags;

inline constexpr TcpFlags kSyn = TcpFlags::Syn;
inline constexpr TcpFlags kAck = TcpFlags::Ack;
inline constexpr TcpFlags kFin = TcpFlags::Fin;
inline constexpr TcpFlags kRst = TcpFlags::Rst;
inline constexpr TcpFlags kPsh = TcpFlags::Psh;
inline constexpr TcpFlags kSynAck = TcpFlags::Syn | TcpFlags::Ack;
inline constexpr TcpFlags kFinAck = TcpFlags::Fin | TcpFlags::Ack;
inline constexpr TcpFlags kPshAck = TcpFlags::Psh | TcpFlags::Ack;
inline constexpr TcpFlags kRstAck = TcpFlags::Rst | TcpFlags::Ack;

inline constexpr std::uint16_t kLocalPort = 80;
inline constexpr std::uint16_t kRemotePort = 40000;
inline constexpr SeqNum kIss{0xffff'ff00U};  // 255 data bytes before the wrap
inline constexpr SeqNum kIrs{0x0001'0000U};
inline constexpr std::uint16_t kLocalMss = 1000;   // what we announce (MTU - 40 in a Stack)
inline constexpr std::uint16_t kPeerMss = 1000;    // what the peer's SYN announces
inline constexpr std::uint16_t kPeerWindow = 20000;  // the peer's window field (no scaling by default)
inline constexpr std::size_t kReceiveBuffer = 8000;
inline constexpr std::size_t kSendBuffer = 64 * 1024;

// One segment the connection handed to its SegmentOutput, payload copied.
struct SentSegment {
  wire::TcpRepr header;
  ByteVector payload;

  TcpFlags flags() const { return header.flags; }
  SeqNum seq() const { return SeqNum{header.seq_number}; }
  SeqNum ack() const { return SeqNum{header.ack_number}; }
  std::uint16_t window() const { return header.window; }
  std::size_t len() const { return payload.size(); }
};

inline std::string describe(const SentSegment& s) {
  return s.header.flags.to_string() + " seq=" + std::to_string(s.header.seq_number) +
         " ack=" + std::to_string(s.header.ack_number) + " win=" + std::to_string(s.header.window) +
         " len=" + std::to_string(s.payload.size());
}

class RecordingOutput final : public SegmentOutput {
 public:
  void send_segment(const FourTuple& tuple, const wire::TcpRepr& header, Bytes first, Bytes second) override {
    SentSegment s{header, ByteVector(first.begin(), first.end())};
    s.payload.insert(s.payload.end(), second.begin(), second.end());
    EXPECT_EQ(header.payload_len, s.payload.size()) << "payload_len disagrees with the slices";
    EXPECT_EQ(tuple.local_port, header.source_port);
    EXPECT_EQ(tuple.remote_port, header.destination_port);
    sent.push_back(std::move(s));
  }
  std::deque<SentSegment> sent;
};

// What expect_segment() checks: every field that is set.
struct Expected {
  std::optional<TcpFlags> flags = std::nullopt;
  std::optional<SeqNum> seq = std::nullopt;
  std::optional<SeqNum> ack = std::nullopt;
  std::optional<std::uint16_t> window = std::nullopt;
  std::optional<std::size_t> len = std::nullopt;
  std::optional<ByteVector> payload = std::nullopt;
};

// Options a peer SYN carries.
struct SynOptions {
  std::optional<std::uint16_t> mss = kPeerMss;
  std::optional<std::uint8_t> window_scale = std::nullopt;
  std::uint16_t window = kPeerWindow;
  ByteVector payload = {};
};

// n bytes of a recognisable pattern.
inline ByteVector pattern(std::size_t n, std::uint32_t salt = 0) {
  ByteVector v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = static_cast<std::byte>((i * 7 + salt * 13 + (i >> 8)) & 0xff);
  }
  return v;
}

inline SeqNum operator+(SeqNum s, std::uint32_t n) { return s + SeqLen{n}; }
inline SeqNum operator-(SeqNum s, std::uint32_t n) { return s - SeqLen{n}; }

// CLOSED: a connection exists, nothing has happened yet.
class ConnectionTest : public ::testing::Test {
 protected:
  using Loc = std::source_location;

  void SetUp() override {
    limits_.send_buffer_bytes = kSendBuffer;
    limits_.receive_buffer_bytes = kReceiveBuffer;
    configure(limits_);
    challenge_.emplace(limits_.challenge_acks_per_second, limits_.challenge_acks_per_second);
    conn_ = std::make_unique<Connection>(TcpContext{limits_, out_, counters_, *challenge_, kLocalMss}, tuple(), kIss);
  }

  // Override to change limits before the connection is made.
  virtual void configure(TcpLimits& limits) { (void)limits; }

  static FourTuple tuple() {
    return FourTuple{wire::Ipv4Address::from_octets(10, 0, 0, 1), kLocalPort,
                     wire::Ipv4Address::from_octets(10, 0, 0, 2), kRemotePort};
  }

  Connection& conn() { return *conn_; }

  // ---- sequence numbers ----
  static SeqNum local(std::uint32_t n) { return kIss + 1 + n; }
  static SeqNum remote(std::uint32_t n) { return kIrs + 1 + n; }

  // ---- the peer ----
  void deliver(const Segment& seg) { conn_->on_segment(seg, now_); }
  // `window` defaults to peer_window_.
  void segment(TcpFlags flags, SeqNum seq, SeqNum ack, Bytes payload = {},
               std::optional<std::uint16_t> window = std::nullopt) {
    Segment seg;
    seg.seq = seq;
    seg.ack = ack;
    seg.flags = flags;
    seg.window = window.value_or(peer_window_);
    seg.payload = payload;
    deliver(seg);
  }
  void syn(SeqNum seq, const SynOptions& options = {}) { syn_segment(kSyn, seq, SeqNum{0}, options); }
  void syn_ack(SeqNum seq, SeqNum ack, const SynOptions& options = {}) { syn_segment(kSynAck, seq, ack, options); }
  void ack(SeqNum seq, SeqNum ack, Bytes payload = {}, std::optional<std::uint16_t> window = std::nullopt) {
    segment(kAck, seq, ack, payload, window);
  }
  void fin(SeqNum seq, SeqNum ack, Bytes payload = {}, std::optional<std::uint16_t> window = std::nullopt) {
    segment(kFinAck, seq, ack, payload, window);
  }
  void rst(SeqNum seq) { segment(kRst, seq, SeqNum{0}, {}, 0); }
  void rst_ack(SeqNum seq, SeqNum ack) { segment(kRstAck, seq, ack, {}, 0); }

  // ---- the user ----
  std::size_t user_send(std::size_t n, std::uint32_t salt = 0) {
    const ByteVector data = pattern(n, salt);
    return conn_->send(data, now_);
  }
  ByteVector user_receive(std::size_t max) {
    ByteVector buf(max);
    buf.resize(conn_->receive(buf, now_));
    return buf;
  }

  // ---- time ----
  // Fires every timer due up to now + d (each at its own deadline), then sets now to now + d.
  void advance(Duration d) {
    const Instant until = now_ + d;
    for (int i = 0; i < 10'000 && conn_->deadline() <= until; ++i) {
      now_ = conn_->deadline();
      conn_->on_timer(now_);
    }
    now_ = until;
  }
  // Jumps to the next deadline and fires it; returns how far time moved.
  Duration fire_next_timer(Loc loc = Loc::current()) {
    const Instant deadline = conn_->deadline();
    if (deadline == Instant::never()) {
      ADD_FAILURE_AT(loc.file_name(), static_cast<int>(loc.line())) << "no timer is running";
      return Duration::zero();
    }
    const Duration moved = deadline - now_;
    now_ = deadline;
    conn_->on_timer(now_);
    return moved;
  }
  Duration until_deadline() const {
    return conn_->deadline() == Instant::never() ? Duration::max() : conn_->deadline() - now_;
  }

  // ---- expectations ----
  // Pops the oldest segment sent; a failure (and an empty segment) when none was.
  SentSegment next_sent(Loc loc = Loc::current()) {
    if (out_.sent.empty()) {
      ADD_FAILURE_AT(loc.file_name(), static_cast<int>(loc.line())) << "expected a segment, none was sent";
      return SentSegment{};
    }
    SentSegment s = std::move(out_.sent.front());
    out_.sent.pop_front();
    return s;
  }
  // The next segment has exactly these flags and numbers (ack only checked when ACK is set).
  SentSegment expect_sent(TcpFlags flags, SeqNum seq, SeqNum ack, Loc loc = Loc::current()) {
    Expected e{.flags = flags, .seq = seq};
    if (flags.has(kAck)) {
      e.ack = ack;
    }
    return expect_segment(e, loc);
  }
  // A segment with no ACK field to check (SYN, RST).
  SentSegment expect_sent(TcpFlags flags, SeqNum seq, Loc loc = Loc::current()) {
    return expect_segment(Expected{.flags = flags, .seq = seq}, loc);
  }
  SentSegment expect_segment(const Expected& e, Loc loc = Loc::current()) {
    ::testing::ScopedTrace trace(loc.file_name(), static_cast<int>(loc.line()), "expect_segment");
    if (out_.sent.empty()) {
      ADD_FAILURE() << "expected a segment, none was sent";
      return SentSegment{};
    }
    SentSegment s = next_sent(loc);
    const std::string got = describe(s);
    if (e.flags) {
      EXPECT_EQ(s.flags().to_string(), e.flags->to_string()) << got;
    }
    if (e.seq) {
      EXPECT_EQ(s.seq().raw(), e.seq->raw()) << "seq; got " << got;
    }
    if (e.ack) {
      EXPECT_EQ(s.ack().raw(), e.ack->raw()) << "ack; got " << got;
    }
    if (e.window) {
      EXPECT_EQ(s.window(), *e.window) << "window; got " << got;
    }
    if (e.len) {
      EXPECT_EQ(s.len(), *e.len) << "payload length; got " << got;
    }
    if (e.payload) {
      EXPECT_TRUE(s.payload == *e.payload) << "payload bytes differ; got " << got;
    }
    return s;
  }
  void expect_nothing_sent(Loc loc = Loc::current()) {
    if (!out_.sent.empty()) {
      std::string all;
      for (const auto& s : out_.sent) {
        all += "\n  " + describe(s);
      }
      ADD_FAILURE_AT(loc.file_name(), static_cast<int>(loc.line()))
          << "expected nothing sent, got " << out_.sent.size() << ":" << all;
      out_.sent.clear();
    }
  }
  void expect_state(TcpState state, Loc loc = Loc::current()) {
    if (conn_->state() != state) {
      ADD_FAILURE_AT(loc.file_name(), static_cast<int>(loc.line()))
          << "state is " << to_string(conn_->state()) << ", expected " << to_string(state);
    }
  }
  std::size_t sent_count() const { return out_.sent.size(); }
  void clear_sent() { out_.sent.clear(); }

  std::uint64_t entered(TcpState s) const { return counters_.entered[static_cast<std::size_t>(s)]; }

  TcpLimits limits_;
  TcpCounters counters_;
  RecordingOutput out_;
  std::optional<ip::TokenBucket> challenge_;
  std::unique_ptr<Connection> conn_;
  Instant now_ = Instant::epoch() + Duration::seconds(100);
  std::uint16_t peer_window_ = kPeerWindow;  // the window the peer's segments carry unless told otherwise

 private:
  void syn_segment(TcpFlags flags, SeqNum seq, SeqNum ack, const SynOptions& options) {
    Segment seg;
    seg.seq = seq;
    seg.ack = ack;
    seg.flags = flags;
    seg.window = options.window;
    seg.mss = options.mss;
    seg.window_scale = options.window_scale;
    seg.payload = options.payload;
    deliver(seg);
  }
};

// LISTEN: passive OPEN; the Stack feeds the SYN that made the connection.
class ListenFixture : public ConnectionTest {
 protected:
  void SetUp() override {
    ConnectionTest::SetUp();
    conn().open_passive();
    expect_state(TcpState::Listen);
  }
  // What the peer's SYN carries (override for other options).
  virtual SynOptions peer_syn_options() {
    SynOptions options;
    options.window = peer_window_;
    return options;
  }
};

// SYN-RECEIVED: the peer's SYN arrived, our SYN,ACK went out.
class SynReceivedFixture : public ListenFixture {
 protected:
  void SetUp() override {
    ListenFixture::SetUp();
    syn(kIrs, peer_syn_options());
    expect_sent(kSynAck, kIss, remote(0));
    expect_nothing_sent();
    expect_state(TcpState::SynReceived);
  }
};

// ESTABLISHED (passive): the peer's ACK of our SYN arrived, in the same instant.
class EstablishedFixture : public SynReceivedFixture {
 protected:
  void SetUp() override {
    SynReceivedFixture::SetUp();
    ack(remote(0), local(0));
    expect_nothing_sent();
    expect_state(TcpState::Established);
    (void)conn().take_events();
  }
};

// SYN-SENT: active OPEN, our SYN went out.
class SynSentFixture : public ConnectionTest {
 protected:
  void SetUp() override {
    ConnectionTest::SetUp();
    conn().open_active(now_);
    expect_sent(kSyn, kIss);
    expect_nothing_sent();
    expect_state(TcpState::SynSent);
  }
  virtual SynOptions peer_syn_options() {
    SynOptions options;
    options.window = peer_window_;
    return options;
  }
};

// ESTABLISHED (active): the peer's SYN,ACK arrived, we acknowledged it.
class EstablishedFromActiveFixture : public SynSentFixture {
 protected:
  void SetUp() override {
    SynSentFixture::SetUp();
    syn_ack(kIrs, local(0), peer_syn_options());
    expect_sent(kAck, local(0), remote(0));
    expect_nothing_sent();
    expect_state(TcpState::Established);
    (void)conn().take_events();
  }
};

// FIN-WAIT-1: the user closed an established connection; our FIN (at local(0)) is out.
class FinWait1Fixture : public EstablishedFixture {
 protected:
  void SetUp() override {
    EstablishedFixture::SetUp();
    conn().shutdown(now_);
    expect_sent(kFinAck, local(0), remote(0));
    expect_nothing_sent();
    expect_state(TcpState::FinWait1);
  }
};

// FIN-WAIT-2: the peer acknowledged our FIN.
class FinWait2Fixture : public FinWait1Fixture {
 protected:
  void SetUp() override {
    FinWait1Fixture::SetUp();
    ack(remote(0), local(1));
    expect_nothing_sent();
    expect_state(TcpState::FinWait2);
  }
};

// CLOSING: the peer's FIN crossed ours (it does not acknowledge our FIN).
class ClosingFixture : public FinWait1Fixture {
 protected:
  void SetUp() override {
    FinWait1Fixture::SetUp();
    fin(remote(0), local(0));
    expect_sent(kAck, local(1), remote(1));
    expect_nothing_sent();
    expect_state(TcpState::Closing);
  }
};

// TIME-WAIT: the peer's FIN arrived in FIN-WAIT-2.
class TimeWaitFixture : public FinWait2Fixture {
 protected:
  void SetUp() override {
    FinWait2Fixture::SetUp();
    fin(remote(0), local(1));
    expect_sent(kAck, local(1), remote(1));
    expect_nothing_sent();
    expect_state(TcpState::TimeWait);
  }
};

// CLOSE-WAIT: the peer's FIN arrived in ESTABLISHED.
class CloseWaitFixture : public EstablishedFixture {
 protected:
  void SetUp() override {
    EstablishedFixture::SetUp();
    fin(remote(0), local(0));
    expect_sent(kAck, local(0), remote(1));
    expect_nothing_sent();
    expect_state(TcpState::CloseWait);
    (void)conn().take_events();
  }
};

// LAST-ACK: the user closed in CLOSE-WAIT; our FIN is out.
class LastAckFixture : public CloseWaitFixture {
 protected:
  void SetUp() override {
    CloseWaitFixture::SetUp();
    conn().shutdown(now_);
    expect_sent(kFinAck, local(0), remote(1));
    expect_nothing_sent();
    expect_state(TcpState::LastAck);
  }
};

}  // namespace tapstack::tcp::test
