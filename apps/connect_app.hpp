#pragma once
// ConnectApp: `--connect HOST:PORT`, an nc-like active open (RFC 9293
// 3.10.1 OPEN, active). It copies an injected ByteSource (standard input,
// live) to the connection and the connection to an injected ByteSink
// (standard output), each way through a bounded ByteRing:
//
//   source --read--> [to_peer ring] --tcp_send--> connection
//   connection --tcp_receive--> [to_sink ring] --write--> sink
//
// Backpressure both ways: the source is read only into free ring space (a
// slow peer stops reading standard input), the connection is read only into
// free ring space (a slow standard output closes our receive window).
//
// End: at the end of the source, once everything read from it is queued,
// the app shuts down its side (RFC 9293 3.10.4: FIN after the data). It is
// done() once the peer has closed too (end of stream read), everything
// received is written to the sink, and our FIN is acknowledged (the
// connection reached TIME-WAIT or CLOSED), so no byte is still only in this
// process when the driver exits. Then it releases the socket; exit_status()
// is 0.
//
// Failure: connection refused (our SYN answered by RST), reset, timed out, a
// source or sink error: done() with exit_status() 1 and error() saying
// which, e.g. "10.0.0.1:7: connection refused". Source and sink failures
// abort the connection (RST), since the copy cannot be completed.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "apps/app.hpp"
#include "apps/byte_ring.hpp"
#include "apps/byte_stream.hpp"
#include "stack/wire/address.hpp"

namespace tapstack::apps {

struct ConnectConfig {
  wire::Ipv4Address address;
  std::uint16_t port = 0;
  std::size_t buffer_bytes = 64 * 1024;  // each direction's ring
};

struct ConnectCounters {
  std::uint64_t bytes_from_source = 0;  // read from the source (standard input)
  std::uint64_t bytes_sent = 0;         // taken by tcp_send
  std::uint64_t bytes_received = 0;     // from tcp_receive
  std::uint64_t bytes_to_sink = 0;      // written to the sink (standard output)
  std::uint64_t source_blocked = 0;     // reads that said WouldBlock
  std::uint64_t sink_blocked = 0;       // writes that said WouldBlock

  template <class F>
  void visit(F&& f) const {
    f(std::string_view{"bytes_from_source"}, bytes_from_source);
    f(std::string_view{"bytes_sent"}, bytes_sent);
    f(std::string_view{"bytes_received"}, bytes_received);
    f(std::string_view{"bytes_to_sink"}, bytes_to_sink);
    f(std::string_view{"source_blocked"}, source_blocked);
    f(std::string_view{"sink_blocked"}, sink_blocked);
  }
};

class ConnectApp final : public App {
 public:
  // `source` and `sink` must outlive the app.
  ConnectApp(ConnectConfig config, ByteSource& source, ByteSink& sink);

  std::string name() const override;
  std::string description() const override;
  // tcp_connect; fails with "connect to 10.0.0.1:7: no route to host" and the like.
  Result<Unit, std::string> start(Stack& stack) override;
  Instant poll(Stack& stack, Instant now) override;
  // Closes the connection if still open (tcp_close: queued data and the FIN still go out).
  void stop(Stack& stack) override;
  void visit_counters(const std::function<void(std::string_view, std::uint64_t)>& f) const override;

  bool done() const { return done_; }
  int exit_status() const { return error_.empty() ? 0 : 1; }
  const std::string& error() const { return error_; }
  const ConnectCounters& counters() const { return counters_; }

  // What the driver should wake the app for (so it does not spin on a descriptor it cannot
  // serve): the source, when there is room to read into; the sink, when data waits for it.
  bool wants_source() const { return !done_ && !source_ended_ && !to_peer_.full(); }
  bool wants_sink() const { return !done_ && !to_sink_.empty(); }

 private:
  // One pass of copying both ways; true when something moved or changed.
  bool pump(Stack& stack);
  // Done: releases the socket (tcp_close on success, tcp_abort on failure) and records `error`.
  void finish(Stack& stack, std::string error);
  std::string peer_text() const;

  ConnectConfig config_;
  ByteSource& source_;
  ByteSink& sink_;
  std::optional<TcpSocketId> socket_;
  ByteRing to_peer_;
  ByteRing to_sink_;
  bool connected_ = false;    // the Connected event came: the handshake completed
  bool source_ended_ = false;
  bool shut_down_ = false;    // our FIN is queued
  bool peer_closed_ = false;  // the peer's end of stream was read
  bool done_ = false;
  std::string error_;
  ConnectCounters counters_;
};

}  // namespace tapstack::apps
