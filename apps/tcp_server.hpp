#pragma once
// TcpServer: what every TCP service app shares (apps/tcp_service.hpp,
// apps/http_server.hpp): a listening socket, accepting, a bounded set of
// connections, releasing them, and the connection counters.
//
// One poll:
//   1. tcp_accept until WouldBlock; a connection beyond connections_max is
//      aborted at once (RST) and counted as `rejected`, so a flood of clients
//      cannot make the app hold unbounded state;
//   2. every connection whose socket raised an event (tcp_take_events), that
//      asked to be served again (`Again`), or whose deadline() passed is
//      served: the subclass moves what it can and says whether it waits for
//      the socket (Wait), has work left (Again: the app asks to be polled at
//      `now`), or is finished with the connection (Gone: it called
//      close_connection(), fail_connection() or abort_connection(), which
//      release the handle).
// Serving is event-gated: a connection waiting for its peer costs one
// tcp_take_events call per poll.
//
// Errors (RFC 9293 3.9: "connection reset", "connection aborted due to user
// timeout"): the handle is released (tcp_close on a failed connection frees
// it) and counted under reset / timed_out / errors.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apps/app.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/time.hpp"
#include "stack/stack.hpp"

namespace tapstack::apps {

// Rounds of receive/send one connection gets per serve() (each moves up to a buffer's worth), so
// one fast connection cannot hold the others up; beyond it the app asks to be polled again.
inline constexpr std::size_t kServeRoundsMax = 16;

struct TcpServerLimits {
  std::size_t connections_max = 256;  // served at once; beyond: aborted on accept
  std::size_t backlog = 128;           // tcp_listen backlog (the stack clamps it to tcp.backlog_max)
};

struct TcpServerCounters {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_active = 0;     // a gauge: served now
  std::uint64_t connections_closed = 0;     // ended in order (by this side, after the service's rules)
  std::uint64_t connections_reset = 0;      // reset by the peer
  std::uint64_t connections_timed_out = 0;  // the stack gave up (retransmissions, keepalive) or idle timeout
  std::uint64_t connections_rejected = 0;   // accepted beyond connections_max: aborted
  std::uint64_t connections_errors = 0;     // any other socket error
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;             // taken by tcp_send

  template <class F>
  void visit(F&& f) const {
    f(std::string_view{"connections_accepted"}, connections_accepted);
    f(std::string_view{"connections_active"}, connections_active);
    f(std::string_view{"connections_closed"}, connections_closed);
    f(std::string_view{"connections_reset"}, connections_reset);
    f(std::string_view{"connections_timed_out"}, connections_timed_out);
    f(std::string_view{"connections_rejected"}, connections_rejected);
    f(std::string_view{"connections_errors"}, connections_errors);
    f(std::string_view{"bytes_received"}, bytes_received);
    f(std::string_view{"bytes_sent"}, bytes_sent);
  }
};

class TcpServer : public App {
 public:
  Result<Unit, std::string> start(Stack& stack) final;
  Instant poll(Stack& stack, Instant now) final;
  // Closes every connection (tcp_close: the FIN follows what is queued; a connection with unread
  // data is reset by the stack, RFC 1122 4.2.2.13) and the listener.
  void stop(Stack& stack) final;
  void visit_counters(const std::function<void(std::string_view, std::uint64_t)>& f) const final;

  std::uint16_t port() const { return port_; }
  const TcpServerCounters& counters() const { return counters_; }
  std::size_t connections() const { return connections_.size(); }

 protected:
  struct Connection {
    explicit Connection(TcpSocketId s) : socket(s) {}
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    virtual ~Connection() = default;

    TcpSocketId socket;
    bool again = true;  // serve at the next poll even without an event (new: yes)
    bool gone = false;  // released: removed after the poll
  };
  enum class Step : std::uint8_t {
    Wait,   // nothing more until the socket raises an event (or deadline() passes)
    Again,  // work left (a per-poll bound was reached): serve again at once
    Gone,   // released with close_connection(), fail_connection() or abort_connection()
  };

  TcpServer(std::uint16_t port, TcpServerLimits limits) : port_(port), limits_(limits) {}

  // A new accepted connection's state.
  virtual std::unique_ptr<Connection> make_connection(Stack& stack, TcpSocketId socket, Instant now) = 0;
  virtual Step serve(Stack& stack, Connection& connection, Instant now) = 0;
  // When the connection must be served even without an event (a timeout); never by default.
  virtual Instant deadline(const Connection& /*connection*/) const { return Instant::never(); }
  // Counters of the subclass, after the common ones.
  virtual void visit_service_counters(const std::function<void(std::string_view, std::uint64_t)>& /*f*/) const {}
  // What the listener says in errors: "TCP port 7".
  std::string port_text() const;

  // tcp_receive and tcp_send, counted.
  Result<std::size_t, SocketError> receive(Stack& stack, Connection& c, MutableBytes out);
  Result<std::size_t, SocketError> send(Stack& stack, Connection& c, Bytes data);
  // Orderly close (tcp_close) and release; returns Gone.
  Step close_connection(Stack& stack, Connection& c);
  // Release after `error` (counted by kind); returns Gone.
  Step fail_connection(Stack& stack, Connection& c, SocketError error);
  // Abort (RST) and release, counted as `why` (timed_out for an idle timeout); returns Gone.
  Step abort_connection(Stack& stack, Connection& c, std::uint64_t TcpServerCounters::*why);

 private:
  // True when it stopped at its bound (connections may be left).
  bool accept_all(Stack& stack, Instant now);
  void release(Connection& c);

  std::uint16_t port_;
  TcpServerLimits limits_;
  std::optional<TcpSocketId> listener_;
  std::vector<std::unique_ptr<Connection>> connections_;
  TcpServerCounters counters_;
};

}  // namespace tapstack::apps
