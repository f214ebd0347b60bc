#pragma once
// TCP counters: every drop and every state change (issue 5), visited as
// "tcp.<name>" by Stack::visit_counters. One struct shared by the TCP layer
// and all connections of a stack.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tapstack::tcp {

struct TcpCounters {
  // Input (stack/tcp/tcp_layer.cpp)
  std::uint64_t rx_segments = 0;
  std::uint64_t rx_bytes = 0;                 // payload bytes
  std::uint64_t rx_malformed = 0;             // header or options do not parse
  std::uint64_t rx_bad_checksum = 0;
  std::uint64_t rx_to_broadcast = 0;          // RFC 1122 4.2.3.10: to a broadcast or multicast address
  std::uint64_t rx_closed_port = 0;           // no connection and no listener: answered by RST
  std::uint64_t rx_listen_dropped = 0;        // to a listener, neither SYN nor ACK (or a RST): dropped
  std::uint64_t listen_overflow = 0;          // SYN dropped: the listener's backlog is full
  std::uint64_t connections_max_reached = 0;  // SYN dropped or connect refused: tcp.connections_max
  std::uint64_t time_wait_reused = 0;         // a new SYN took over a TIME-WAIT tuple (RFC 6191)
  // Connection input (stack/tcp/tcp_input.cpp)
  std::uint64_t rx_unacceptable = 0;          // failed the RFC 9293 3.10.7.4 acceptability test: ACKed, dropped
  std::uint64_t rx_out_of_window_rst = 0;     // RST outside the window: dropped
  std::uint64_t rx_rst = 0;                   // RSTs that reset or closed a connection
  std::uint64_t rx_ack_too_new = 0;           // ACK for data not yet sent: ACKed, dropped
  std::uint64_t rx_ack_too_old = 0;           // RFC 5961 5.2: ACK below SND.UNA - MAX.SND.WND: ACKed, dropped
  std::uint64_t rx_duplicate_acks = 0;
  std::uint64_t rx_out_of_order = 0;          // data segments that arrived ahead of a gap
  std::uint64_t rx_duplicate_bytes = 0;       // data bytes received again (below RCV.NXT)
  std::uint64_t rx_beyond_window_bytes = 0;   // data bytes cut off beyond the receive window
  std::uint64_t rx_data_after_close = 0;      // data for a socket the user closed: RST (RFC 9293 3.10.7.4)
  std::uint64_t challenge_acks = 0;           // RFC 5961 3.2, 4.2 (in-window RST, SYN)
  std::uint64_t challenge_acks_suppressed = 0;  // over tcp.challenge_acks_per_second (RFC 5961 7)
  // Output
  std::uint64_t tx_segments = 0;
  std::uint64_t tx_bytes = 0;                 // payload bytes, retransmissions included
  std::uint64_t tx_rst = 0;
  std::uint64_t tx_acks_delayed = 0;          // ACKs sent by the delayed-ACK timer
  std::uint64_t retransmissions = 0;          // segments sent again (timeout, fast retransmit, partial ACK)
  std::uint64_t retransmission_timeouts = 0;
  std::uint64_t fast_retransmits = 0;
  std::uint64_t zero_window_probes = 0;
  std::uint64_t keepalive_probes = 0;
  // Connection outcomes
  std::uint64_t active_opens = 0;
  std::uint64_t passive_opens = 0;            // SYNs that created a connection
  std::uint64_t established = 0;
  std::uint64_t resets_received = 0;          // connections reset by the peer (or refused)
  std::uint64_t aborts = 0;                   // connections the user aborted (RST sent)
  std::uint64_t timeouts = 0;                 // connections that gave up (retransmission or keepalive)
  std::uint64_t fin_wait_2_timeouts = 0;      // orphaned FIN-WAIT-2 connections closed after 2*MSL
  // State changes: entries into each RFC 9293 state, in TcpState order.
  std::array<std::uint64_t, 11> entered{};

  template <class F>
  void visit(F&& f) const {
    f(std::string_view{"rx_segments"}, rx_segments);
    f(std::string_view{"rx_bytes"}, rx_bytes);
    f(std::string_view{"rx_malformed"}, rx_malformed);
    f(std::string_view{"rx_bad_checksum"}, rx_bad_checksum);
    f(std::string_view{"rx_to_broadcast"}, rx_to_broadcast);
    f(std::string_view{"rx_closed_port"}, rx_closed_port);
    f(std::string_view{"rx_listen_dropped"}, rx_listen_dropped);
    f(std::string_view{"listen_overflow"}, listen_overflow);
    f(std::string_view{"connections_max_reached"}, connections_max_reached);
    f(std::string_view{"time_wait_reused"}, time_wait_reused);
    f(std::string_view{"rx_unacceptable"}, rx_unacceptable);
    f(std::string_view{"rx_out_of_window_rst"}, rx_out_of_window_rst);
    f(std::string_view{"rx_rst"}, rx_rst);
    f(std::string_view{"rx_ack_too_new"}, rx_ack_too_new);
    f(std::string_view{"rx_ack_too_old"}, rx_ack_too_old);
    f(std::string_view{"rx_duplicate_acks"}, rx_duplicate_acks);
    f(std::string_view{"rx_out_of_order"}, rx_out_of_order);
    f(std::string_view{"rx_duplicate_bytes"}, rx_duplicate_bytes);
    f(std::string_view{"rx_beyond_window_bytes"}, rx_beyond_window_bytes);
    f(std::string_view{"rx_data_after_close"}, rx_data_after_close);
    f(std::string_view{"challenge_acks"}, challenge_acks);
    f(std::string_view{"challenge_acks_suppressed"}, challenge_acks_suppressed);
    f(std::string_view{"tx_segments"}, tx_segments);
    f(std::string_view{"tx_bytes"}, tx_bytes);
    f(std::string_view{"tx_rst"}, tx_rst);
    f(std::string_view{"tx_acks_delayed"}, tx_acks_delayed);
    f(std::string_view{"retransmissions"}, retransmissions);
    f(std::string_view{"retransmission_timeouts"}, retransmission_timeouts);
    f(std::string_view{"fast_retransmits"}, fast_retransmits);
    f(std::string_view{"zero_window_probes"}, zero_window_probes);
    f(std::string_view{"keepalive_probes"}, keepalive_probes);
    f(std::string_view{"active_opens"}, active_opens);
    f(std::string_view{"passive_opens"}, passive_opens);
    f(std::string_view{"established"}, established);
    f(std::string_view{"resets_received"}, resets_received);
    f(std::string_view{"aborts"}, aborts);
    f(std::string_view{"timeouts"}, timeouts);
    f(std::string_view{"fin_wait_2_timeouts"}, fin_wait_2_timeouts);
    static constexpr std::array<std::string_view, 11> kStateNames{
        "entered.closed",      "entered.listen",     "entered.syn_sent",   "entered.syn_received",
        "entered.established", "entered.fin_wait_1", "entered.fin_wait_2", "entered.close_wait",
        "entered.closing",     "entered.last_ack",   "entered.time_wait"};
    for (std::size_t i = 0; i < entered.size(); ++i) {
      f(kStateNames[i], entered[i]);
    }
  }
};

}  // namespace tapstack::tcp
