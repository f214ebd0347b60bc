#pragma once
// Congestion control behind an interface (issue 5), so algorithms other than
// NewReno can be added. The connection tells the algorithm what happened to
// its acknowledgments; the algorithm owns cwnd and ssthresh and answers what to
// retransmit. Sizes are in bytes, SMSS is the connection's effective send MSS.
//
// NewReno implements RFC 5681 (slow start, congestion avoidance, fast
// retransmit on the third duplicate ACK, loss window after a timeout) with the
// RFC 6582 recovery (the `recover` point, partial ACKs retransmitting the next
// hole and deflating the window, full ACKs ending recovery) and the RFC 6928
// initial window.

#include <cstdint>
#include <memory>
#include <string_view>

#include "stack/tcp/seq.hpp"

namespace tapstack::tcp {

// What the connection must do after an ACK event.
enum class CongestionAction : std::uint8_t {
  None,
  RetransmitFirstUnacked,  // fast retransmit (3rd dup ACK) or a partial ACK in recovery (RFC 6582 3.2 step 5)
};

struct CongestionCounters {
  std::uint64_t fast_retransmits = 0;   // recoveries entered on the third duplicate ACK
  std::uint64_t partial_acks = 0;       // RFC 6582 partial ACKs (each retransmits one segment)
  std::uint64_t recoveries_completed = 0;
  std::uint64_t timeouts = 0;           // on_timeout() calls
  // Third duplicate ACKs that did not cover more than `recover` and so did not start a recovery
  // (RFC 6582 3.2 step 2, section 4: typically the echo of a go-back-N retransmission after a timeout).
  std::uint64_t suppressed_fast_retransmits = 0;
};

class CongestionControl {
 public:
  virtual ~CongestionControl() = default;
  virtual std::string_view name() const = 0;

  // The connection's SMSS is known (after the handshake); sets the initial window (RFC 6928:
  // min(10*SMSS, max(2*SMSS, 14600)) for 10 segments, generalised to `initial_window_segments`).
  // If on_timeout() was called before start() (the SYN or SYN/ACK was retransmitted), the
  // initial window is one segment instead (RFC 5681 3.1, RFC 6928 2). Until start(), window()
  // is the initial window for the RFC 1122 default SMSS of 536.
  virtual void start(std::uint32_t smss, SeqNum iss_plus_one) = 0;

  // An ACK acknowledged new data: SND.UNA moved from `previous_una` to `ack`, acknowledging
  // `bytes_acked` bytes. `flight_size` is what was outstanding BEFORE this ACK (SND.NXT -
  // previous SND.UNA, RFC 5681 "FlightSize"). `snd_nxt` is the current SND.NXT.
  virtual CongestionAction on_new_ack(SeqNum ack, std::uint32_t bytes_acked, std::uint32_t flight_size,
                                      SeqNum snd_nxt) = 0;
  // A duplicate ACK as RFC 5681 2 defines it (the connection checks the five conditions).
  // `flight_size` should leave out data sent by limited transmit (RFC 5681 3.2 step 2).
  virtual CongestionAction on_duplicate_ack(std::uint32_t flight_size, SeqNum snd_nxt, SeqNum snd_una) = 0;
  // The retransmission timer expired (RFC 5681 3.1 eqn 4, cwnd = loss window; RFC 6582 3.2
  // step 1 "recover" := SND.NXT... is set by the caller passing snd_nxt). If the connection
  // rewinds SND.NXT for go-back-N, pass the highest sequence number sent (SND.MAX) instead.
  virtual void on_timeout(std::uint32_t flight_size, SeqNum snd_nxt) = 0;

  // Bytes the sender may have outstanding (cwnd; in fast recovery including the inflation).
  virtual std::uint32_t window() const = 0;
  virtual std::uint32_t ssthresh() const = 0;
  virtual bool in_recovery() const = 0;
  virtual const CongestionCounters& counters() const = 0;
};

// How congestion avoidance grows cwnd (RFC 5681 3.1).
enum class CongestionAvoidanceGrowth : std::uint8_t {
  ByteCounting,  // the RECOMMENDED way: +SMSS each time a cwnd's worth of bytes has been acked (RFC 3465 2.1)
  PerAck,        // equation (3): +max(1, SMSS*SMSS/cwnd) on every ACK of new data
};

struct NewRenoConfig {
  std::uint32_t initial_window_segments = 10;  // RFC 6928
  std::uint32_t duplicate_ack_threshold = 3;   // RFC 5681 3.2
  CongestionAvoidanceGrowth congestion_avoidance = CongestionAvoidanceGrowth::ByteCounting;
};

std::unique_ptr<CongestionControl> make_new_reno(const NewRenoConfig& config);

}  // namespace tapstack::tcp
