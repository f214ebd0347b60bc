// The TCP socket API of the Stack (RFC 9293 3.9 user/TCP interface): handles
// for listeners and connections, non-blocking calls, errors as values. Calls
// run the connection at the stack's latest instant (now_) and never call back
// into the application: progress shows in tcp_info and tcp_take_events.

#include <algorithm>

#include "stack/stack.hpp"

namespace tapstack {

Result<tcp::Connection*, SocketError> Stack::tcp_user_connection(TcpSocketId socket, SocketError if_listener) {
  TcpEntry* entry = tcp_entry(socket);
  if (entry == nullptr || !entry->user_holds) {
    return fail(SocketError::BadSocket);
  }
  if (!entry->connection) {
    return fail(if_listener);
  }
  return entry->connection.get();
}

Result<TcpSocketId, SocketError> Stack::tcp_listen(std::uint16_t port, std::size_t backlog) {
  if (port == 0) {
    return fail(SocketError::InvalidArgument);
  }
  if (tcp_listeners_.contains(port)) {
    return fail(SocketError::AddressInUse);
  }
  if (tcp_listeners_.size() >= config_.tcp.listeners_max) {
    return fail(SocketError::TooManySockets);
  }
  const TcpSocketId id = next_tcp_id_++;
  TcpEntry entry;
  entry.listen_port = port;
  entry.backlog = std::clamp<std::size_t>(backlog, 1, config_.tcp.backlog_max);
  entry.user_holds = true;
  tcp_entries_.emplace(id, std::move(entry));
  tcp_listeners_[port] = id;
  return id;
}

Result<TcpSocketId, SocketError> Stack::tcp_accept(TcpSocketId listener_id) {
  TcpEntry* listener = tcp_entry(listener_id);
  if (listener == nullptr) {
    return fail(SocketError::BadSocket);
  }
  if (listener->connection) {
    return fail(SocketError::InvalidArgument);
  }
  if (listener->accept_queue.empty()) {
    return fail(SocketError::WouldBlock);
  }
  const TcpSocketId id = listener->accept_queue.front();
  listener->accept_queue.pop_front();
  listener->pending--;
  TcpEntry& child = tcp_entries_.at(id);
  child.listener = 0;
  child.queued_for_accept = false;
  child.user_holds = true;
  return id;
}

Result<TcpSocketId, SocketError> Stack::tcp_connect(wire::Ipv4Address destination, std::uint16_t port) {
  if (port == 0 || destination.is_unspecified() || destination.is_broadcast() || destination.is_multicast() ||
      destination == config_.interface.subnet_broadcast()) {
    return fail(SocketError::InvalidArgument);
  }
  if (!route(destination).has_value()) {
    return fail(SocketError::NoRoute);
  }
  if (tcp_tcbs_ >= config_.tcp.connections_max) {
    tcp_counters_.connections_max_reached++;
    return fail(SocketError::TooManySockets);
  }
  const std::optional<std::uint16_t> local_port = tcp_pick_ephemeral_port(destination, port);
  if (!local_port.has_value()) {
    return fail(SocketError::TooManySockets);
  }
  const TcpSocketId id = tcp_create_connection({config_.interface.address, *local_port, destination, port});
  TcpEntry& entry = tcp_entries_.at(id);
  entry.user_holds = true;
  if (config_.tcp.keepalive) {
    entry.connection->set_keepalive(true, now_);
  }
  entry.connection->open_active(now_);
  tcp_after(id);
  return id;
}

Result<std::size_t, SocketError> Stack::tcp_send(TcpSocketId socket, Bytes data) {
  auto held = tcp_user_connection(socket, SocketError::NotConnected);
  if (!held.ok()) {
    return fail(held.error());
  }
  tcp::Connection& connection = **held;
  if (connection.error().has_value()) {
    return fail(*connection.error());
  }
  if (connection.shutdown_called()) {
    return fail(SocketError::ConnectionClosing);
  }
  if (connection.state() == TcpState::Closed) {
    return fail(SocketError::NotConnected);
  }
  if (data.empty()) {
    return std::size_t{0};
  }
  const std::size_t taken = connection.send(data, now_);
  tcp_after(socket);
  if (taken == 0) {
    return fail(SocketError::WouldBlock);
  }
  return taken;
}

Result<std::size_t, SocketError> Stack::tcp_receive(TcpSocketId socket, MutableBytes out) {
  auto held = tcp_user_connection(socket, SocketError::NotConnected);
  if (!held.ok()) {
    return fail(held.error());
  }
  tcp::Connection& connection = **held;
  if (connection.error().has_value()) {
    return fail(*connection.error());
  }
  if (out.empty()) {
    return std::size_t{0};
  }
  const std::size_t n = connection.receive(out, now_);
  tcp_after(socket);
  if (n > 0) {
    return n;
  }
  if (connection.peer_closed()) {
    return std::size_t{0};  // end of stream
  }
  if (connection.state() == TcpState::Closed) {
    return fail(SocketError::NotConnected);
  }
  return fail(SocketError::WouldBlock);
}

Result<Unit, SocketError> Stack::tcp_shutdown(TcpSocketId socket) {
  auto held = tcp_user_connection(socket, SocketError::InvalidArgument);
  if (!held.ok()) {
    return fail(held.error());
  }
  if ((*held)->error().has_value()) {
    return fail(*(*held)->error());
  }
  (*held)->shutdown(now_);
  tcp_after(socket);
  return Unit{};
}

void Stack::tcp_close_listener(TcpSocketId id) {
  TcpEntry& listener = tcp_entries_.at(id);
  tcp_listeners_.erase(listener.listen_port);
  // Connections nobody accepted: reset them (as Linux does on close of a listening socket).
  std::vector<TcpSocketId> children;
  for (auto& [child_id, child] : tcp_entries_) {
    if (child.connection && child.listener == id) {
      children.push_back(child_id);
    }
  }
  for (TcpSocketId child_id : children) {
    TcpEntry& child = tcp_entries_.at(child_id);
    child.listener = 0;
    child.connection->abort(now_);
    tcp_after(child_id);
  }
  tcp_entries_.erase(id);
}

Result<Unit, SocketError> Stack::tcp_close(TcpSocketId socket) {
  TcpEntry* entry = tcp_entry(socket);
  if (entry == nullptr || !entry->user_holds) {
    return fail(SocketError::BadSocket);
  }
  if (!entry->connection) {
    tcp_close_listener(socket);
    return Unit{};
  }
  tcp::Connection& connection = *entry->connection;
  entry->user_holds = false;
  if (connection.readable() > 0) {
    // RFC 1122 4.2.2.13 / RFC 2525 2.17: closing with unread data loses it; say so with a RST.
    connection.abort(now_);
  } else {
    connection.set_orphaned();
    connection.shutdown(now_);
  }
  tcp_after(socket);
  return Unit{};
}

Result<Unit, SocketError> Stack::tcp_abort(TcpSocketId socket) {
  TcpEntry* entry = tcp_entry(socket);
  if (entry == nullptr || !entry->user_holds) {
    return fail(SocketError::BadSocket);
  }
  if (!entry->connection) {
    tcp_close_listener(socket);
    return Unit{};
  }
  entry->user_holds = false;
  entry->connection->abort(now_);
  tcp_after(socket);
  return Unit{};
}

Result<Unit, SocketError> Stack::tcp_set_nagle(TcpSocketId socket, bool enabled) {
  auto held = tcp_user_connection(socket, SocketError::InvalidArgument);
  if (!held.ok()) {
    return fail(held.error());
  }
  (*held)->set_nagle(enabled);
  return Unit{};
}

Result<Unit, SocketError> Stack::tcp_set_keepalive(TcpSocketId socket, bool enabled) {
  auto held = tcp_user_connection(socket, SocketError::InvalidArgument);
  if (!held.ok()) {
    return fail(held.error());
  }
  (*held)->set_keepalive(enabled, now_);
  return Unit{};
}

Result<TcpSocketInfo, SocketError> Stack::tcp_info(TcpSocketId socket) const {
  const TcpEntry* entry = tcp_entry(socket);
  if (entry == nullptr || !entry->user_holds) {
    return fail(SocketError::BadSocket);
  }
  TcpSocketInfo info;
  if (!entry->connection) {
    info.state = TcpState::Listen;
    info.local = {config_.interface.address, entry->listen_port};
    info.pending_accept = entry->accept_queue.size();
    return info;
  }
  const tcp::Connection& connection = *entry->connection;
  info.state = connection.state();
  info.local = {connection.tuple().local_ip, connection.tuple().local_port};
  info.remote = {connection.tuple().remote_ip, connection.tuple().remote_port};
  info.readable = connection.readable();
  info.writable = connection.writable();
  info.unacknowledged = connection.unacknowledged();
  info.peer_closed = connection.peer_closed();
  info.error = connection.error();
  info.retransmissions = connection.retransmissions();
  return info;
}

std::uint32_t Stack::tcp_take_events(TcpSocketId socket) {
  TcpEntry* entry = tcp_entry(socket);
  if (entry == nullptr || !entry->user_holds) {
    return 0;
  }
  if (!entry->connection) {
    return std::exchange(entry->listener_events, 0U);
  }
  return entry->connection->take_events();
}

std::size_t Stack::tcp_connections() const { return tcp_tcbs_; }

std::size_t Stack::tcp_connections_in(TcpState state) const {
  std::size_t n = 0;
  for (const auto& [id, entry] : tcp_entries_) {
    if (state == TcpState::Listen ? !entry.connection
                                  : (entry.connection && entry.connection->state() == state)) {
      ++n;
    }
  }
  return n;
}

}  // namespace tapstack
