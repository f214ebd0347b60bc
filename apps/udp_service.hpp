#pragma once
// The UDP halves of two of the simplest Internet services, as Apps:
//
//   UdpEcho     RFC 862 "Echo Protocol": "When a datagram is received, the data
//               from it is sent back in an answering datagram."
//   UdpDiscard  RFC 863 "Discard Protocol": "When a datagram is received, it is
//               thrown away. No answer is sent."
//
// Both bind one port and read their socket through Stack::udp_receive, at
// most kDatagramsPerPoll per poll so one busy service cannot hold the loop;
// datagrams beyond that wait in the socket's bounded queue (the stack counts
// what overflows it) and the app asks to be polled again right away.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "apps/app.hpp"
#include "stack/base/time.hpp"
#include "stack/stack.hpp"

namespace tapstack::apps {

// Datagrams an app takes from its socket per poll.
inline constexpr std::size_t kDatagramsPerPoll = 256;

struct UdpEchoCounters {
  std::uint64_t datagrams_received = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t datagrams_echoed = 0;     // answers the stack accepted
  std::uint64_t bytes_echoed = 0;
  std::uint64_t ignored_broadcast = 0;    // sent to a broadcast address: not answered (see .cpp)
  std::uint64_t ignored_loop_port = 0;    // from a port of a service that answers (see .cpp)
  std::uint64_t send_deferred = 0;        // the stack said WouldBlock: kept and retried
  std::uint64_t send_dropped_blocked = 0; // still WouldBlock after kRetryMax: dropped
  std::uint64_t send_errors = 0;          // any other send error (no route, ...): dropped

  template <class F>
  void visit(F&& f) const {
    f(std::string_view{"datagrams_received"}, datagrams_received);
    f(std::string_view{"bytes_received"}, bytes_received);
    f(std::string_view{"datagrams_echoed"}, datagrams_echoed);
    f(std::string_view{"bytes_echoed"}, bytes_echoed);
    f(std::string_view{"ignored_broadcast"}, ignored_broadcast);
    f(std::string_view{"ignored_loop_port"}, ignored_loop_port);
    f(std::string_view{"send_deferred"}, send_deferred);
    f(std::string_view{"send_dropped_blocked"}, send_dropped_blocked);
    f(std::string_view{"send_errors"}, send_errors);
  }
};

class UdpEcho final : public App {
 public:
  // An answer the stack refused with WouldBlock is retried every kRetryInterval, for at most
  // kRetryMax, then dropped (the stack's transmit and ARP queues normally drain far sooner).
  static constexpr Duration kRetryInterval = Duration::milliseconds(1);
  static constexpr Duration kRetryMax = Duration::seconds(1);

  explicit UdpEcho(std::uint16_t port) : port_(port) {}

  std::string name() const override;
  std::string description() const override;
  Result<Unit, std::string> start(Stack& stack) override;
  Instant poll(Stack& stack, Instant now) override;
  void stop(Stack& stack) override;
  void visit_counters(const std::function<void(std::string_view, std::uint64_t)>& f) const override;

  const UdpEchoCounters& counters() const { return counters_; }

 private:
  // Sends the answer to `d`; false when the stack said WouldBlock (nothing sent).
  bool answer(Stack& stack, const Datagram& d);

  std::uint16_t port_;
  std::optional<UdpSocketId> socket_;
  std::optional<Datagram> held_;  // an answer waiting for the stack to take it
  Instant held_since_;
  UdpEchoCounters counters_;
};

struct UdpDiscardCounters {
  std::uint64_t datagrams_received = 0;
  std::uint64_t bytes_received = 0;

  template <class F>
  void visit(F&& f) const {
    f(std::string_view{"datagrams_received"}, datagrams_received);
    f(std::string_view{"bytes_received"}, bytes_received);
  }
};

class UdpDiscard final : public App {
 public:
  explicit UdpDiscard(std::uint16_t port) : port_(port) {}

  std::string name() const override;
  std::string description() const override;
  Result<Unit, std::string> start(Stack& stack) override;
  Instant poll(Stack& stack, Instant now) override;
  void stop(Stack& stack) override;
  void visit_counters(const std::function<void(std::string_view, std::uint64_t)>& f) const override;

  const UdpDiscardCounters& counters() const { return counters_; }

 private:
  std::uint16_t port_;
  std::optional<UdpSocketId> socket_;
  UdpDiscardCounters counters_;
};

}  // namespace tapstack::apps
