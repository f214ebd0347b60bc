#include "apps/tcp_server.hpp"

#include <algorithm>
#include <utility>

namespace tapstack::apps {

namespace {

// Connections taken from the listener per poll. The stack's backlog bounds what waits anyway;
// this bounds one poll when connections complete faster than they are accepted.
constexpr std::size_t kAcceptsPerPollMax = 1024;

}  // namespace

std::string TcpServer::port_text() const { return "TCP port " + std::to_string(port_); }

Result<Unit, std::string> TcpServer::start(Stack& stack) {
  auto listener = stack.tcp_listen(port_, limits_.backlog);
  if (!listener.ok()) {
    return fail(port_text() + ": " + std::string(to_string(listener.error())));
  }
  listener_ = *listener;
  return Unit{};
}

void TcpServer::stop(Stack& stack) {
  for (auto& c : connections_) {
    if (!c->gone) {
      (void)stack.tcp_close(c->socket);
      counters_.connections_closed++;
    }
  }
  connections_.clear();
  counters_.connections_active = 0;
  if (listener_) {
    (void)stack.tcp_close(*listener_);  // resets the connections not accepted yet
    listener_.reset();
  }
}

bool TcpServer::accept_all(Stack& stack, Instant now) {
  for (std::size_t i = 0; i < kAcceptsPerPollMax; ++i) {
    auto socket = stack.tcp_accept(*listener_);
    if (!socket.ok()) {
      return false;  // WouldBlock: none waiting
    }
    if (connections_.size() >= limits_.connections_max) {
      (void)stack.tcp_abort(*socket);
      counters_.connections_rejected++;
      continue;
    }
    counters_.connections_accepted++;
    connections_.push_back(make_connection(stack, *socket, now));
  }
  return true;
}

Instant TcpServer::poll(Stack& stack, Instant now) {
  if (!listener_) {
    return Instant::never();
  }
  (void)stack.tcp_take_events(*listener_);  // Acceptable: the accept loop below looks anyway
  // The accept bound was hit: connections may still be waiting, come back at once.
  Instant next = accept_all(stack, now) ? now : Instant::never();
  for (auto& c : connections_) {
    const std::uint32_t events = stack.tcp_take_events(c->socket);
    if (events == 0 && !c->again && now < deadline(*c)) {
      next = std::min(next, deadline(*c));
      continue;
    }
    c->again = false;
    switch (serve(stack, *c, now)) {
      case Step::Again:
        c->again = true;
        next = now;
        break;
      case Step::Wait:
        // A deadline the service left in the past would make every poll come back at once.
        next = std::min(next, std::max(deadline(*c), now + Duration::nanoseconds(1)));
        break;
      case Step::Gone:
        break;
    }
  }
  std::erase_if(connections_, [](const std::unique_ptr<Connection>& c) { return c->gone; });
  counters_.connections_active = connections_.size();
  return next;
}

void TcpServer::visit_counters(const std::function<void(std::string_view, std::uint64_t)>& f) const {
  counters_.visit(f);
  visit_service_counters(f);
}

Result<std::size_t, SocketError> TcpServer::receive(Stack& stack, Connection& c, MutableBytes out) {
  auto got = stack.tcp_receive(c.socket, out);
  if (got.ok()) {
    counters_.bytes_received += *got;
  }
  return got;
}

Result<std::size_t, SocketError> TcpServer::send(Stack& stack, Connection& c, Bytes data) {
  auto sent = stack.tcp_send(c.socket, data);
  if (sent.ok()) {
    counters_.bytes_sent += *sent;
  }
  return sent;
}

void TcpServer::release(Connection& c) { c.gone = true; }

TcpServer::Step TcpServer::close_connection(Stack& stack, Connection& c) {
  (void)stack.tcp_close(c.socket);
  counters_.connections_closed++;
  release(c);
  return Step::Gone;
}

TcpServer::Step TcpServer::fail_connection(Stack& stack, Connection& c, SocketError error) {
  switch (error) {
    case SocketError::ConnectionReset: counters_.connections_reset++; break;
    case SocketError::TimedOut: counters_.connections_timed_out++; break;
    default: counters_.connections_errors++; break;
  }
  // The connection is dead (or in a state this service cannot go on from): nothing to deliver.
  (void)stack.tcp_abort(c.socket);
  release(c);
  return Step::Gone;
}

TcpServer::Step TcpServer::abort_connection(Stack& stack, Connection& c, std::uint64_t TcpServerCounters::*why) {
  (void)stack.tcp_abort(c.socket);
  counters_.*why += 1;
  release(c);
  return Step::Gone;
}

}  // namespace tapstack::apps
