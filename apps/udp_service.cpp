#include "apps/udp_service.hpp"

#include <array>
#include <utility>

namespace tapstack::apps {

namespace {

// Source ports of services that answer every datagram (echo 7, daytime 13, quote of the day
// 17, chargen 19, time 37). A datagram from one of them is not echoed: two answering services
// pointed at each other would otherwise bounce one datagram between them forever (the UDP
// "echo-chargen" loop, CERT CA-1996-01).
constexpr std::array<std::uint16_t, 5> kAnsweringServicePorts{7, 13, 17, 19, 37};

bool from_answering_service(std::uint16_t port) {
  for (std::uint16_t p : kAnsweringServicePorts) {
    if (p == port) {
      return true;
    }
  }
  return false;
}

Result<UdpSocketId, std::string> bind_port(Stack& stack, std::uint16_t port) {
  auto socket = stack.udp_bind(port);
  if (!socket.ok()) {
    return fail("UDP port " + std::to_string(port) + ": " + std::string(to_string(socket.error())));
  }
  return *socket;
}

}  // namespace

// ---- UdpEcho ----------------------------------------------------------------

std::string UdpEcho::name() const { return "udp_echo_" + std::to_string(port_); }

std::string UdpEcho::description() const { return "UDP echo (RFC 862) on port " + std::to_string(port_); }

Result<Unit, std::string> UdpEcho::start(Stack& stack) {
  auto socket = bind_port(stack, port_);
  if (!socket.ok()) {
    return fail(socket.error());
  }
  socket_ = *socket;
  return Unit{};
}

void UdpEcho::stop(Stack& stack) {
  if (socket_) {
    (void)stack.udp_close(*socket_);
    socket_.reset();
  }
  held_.reset();
}

bool UdpEcho::answer(Stack& stack, const Datagram& d) {
  auto sent = stack.udp_send_to(*socket_, d.source, d.source_port, as_bytes(d.payload));
  if (sent.ok()) {
    counters_.datagrams_echoed++;
    counters_.bytes_echoed += d.payload.size();
    return true;
  }
  if (sent.error() == SocketError::WouldBlock) {
    return false;
  }
  // No route back, a source we cannot answer (0.0.0.0): RFC 1122 4.1.3.6 has no answer to send.
  counters_.send_errors++;
  return true;
}

Instant UdpEcho::poll(Stack& stack, Instant now) {
  if (!socket_) {
    return Instant::never();
  }
  // The answer the stack refused last time goes first: echoes leave in the order they came.
  if (held_) {
    if (!answer(stack, *held_)) {
      if (now - held_since_ < kRetryMax) {
        return now + kRetryInterval;
      }
      counters_.send_dropped_blocked++;
    }
    held_.reset();
  }
  for (std::size_t i = 0; i < kDatagramsPerPoll; ++i) {
    std::optional<Datagram> d = stack.udp_receive(*socket_);
    if (!d) {
      return Instant::never();
    }
    counters_.datagrams_received++;
    counters_.bytes_received += d->payload.size();
    // A datagram to a broadcast address reaches every host on the link; answering it from each
    // would multiply one datagram into many aimed at the (possibly forged) source: the
    // "fraggle" amplification. Only datagrams to our own address are echoed.
    if (d->destination != stack.config().interface.address) {
      counters_.ignored_broadcast++;
      continue;
    }
    if (from_answering_service(d->source_port)) {
      counters_.ignored_loop_port++;
      continue;
    }
    if (!answer(stack, *d)) {
      counters_.send_deferred++;
      held_ = std::move(d);
      held_since_ = now;
      return now + kRetryInterval;
    }
  }
  // The per-poll budget ran out with datagrams possibly left: come back right away.
  return stack.udp_pending(*socket_) > 0 ? now : Instant::never();
}

void UdpEcho::visit_counters(const std::function<void(std::string_view, std::uint64_t)>& f) const {
  counters_.visit(f);
}

// ---- UdpDiscard -------------------------------------------------------------

std::string UdpDiscard::name() const { return "udp_discard_" + std::to_string(port_); }

std::string UdpDiscard::description() const {
  return "UDP discard (RFC 863) on port " + std::to_string(port_);
}

Result<Unit, std::string> UdpDiscard::start(Stack& stack) {
  auto socket = bind_port(stack, port_);
  if (!socket.ok()) {
    return fail(socket.error());
  }
  socket_ = *socket;
  return Unit{};
}

void UdpDiscard::stop(Stack& stack) {
  if (socket_) {
    (void)stack.udp_close(*socket_);
    socket_.reset();
  }
}

Instant UdpDiscard::poll(Stack& stack, Instant now) {
  if (!socket_) {
    return Instant::never();
  }
  // RFC 863: read and thrown away. Reading (rather than never reading) keeps the socket's
  // queue from filling, so the stack's rx_queue_full counter means real overload.
  for (std::size_t i = 0; i < kDatagramsPerPoll; ++i) {
    std::optional<Datagram> d = stack.udp_receive(*socket_);
    if (!d) {
      return Instant::never();
    }
    counters_.datagrams_received++;
    counters_.bytes_received += d->payload.size();
  }
  return stack.udp_pending(*socket_) > 0 ? now : Instant::never();
}

void UdpDiscard::visit_counters(const std::function<void(std::string_view, std::uint64_t)>& f) const {
  counters_.visit(f);
}

}  // namespace tapstack::apps
