#include "sim/tcp_transfer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/segment.hpp"
#include "sim/stack_host.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/rng.hpp"
#include "stack/stack.hpp"
#include "stack/wire/address.hpp"

namespace tapstack::sim {

namespace {

constexpr wire::Ipv4Address kClientIp = wire::Ipv4Address::from_octets(10, 0, 0, 1);
constexpr wire::Ipv4Address kServerIp = wire::Ipv4Address::from_octets(10, 0, 0, 2);
constexpr std::size_t kClientPort = 0;  // indices of the segment's ports
constexpr std::size_t kServerPort = 1;
// Bytes generated (client) or read (both) per call.
constexpr std::size_t kChunkBytes = 16 * 1024;
// While work is left, each app asks to run at least this often, so an error a stack timer raised
// (a connection timing out while nothing else happens) is seen by the app.
constexpr Duration kAppTick = Duration::milliseconds(500);

// The states a TCB passes through before it is done (neither LISTEN nor TIME-WAIT; CLOSED TCBs
// are not kept).
constexpr std::array kActiveStates = {TcpState::SynSent,   TcpState::SynReceived, TcpState::Established,
                                      TcpState::FinWait1,  TcpState::FinWait2,    TcpState::CloseWait,
                                      TcpState::Closing,   TcpState::LastAck};

std::size_t active_tcbs(const Stack& stack) {
  std::size_t n = 0;
  for (TcpState s : kActiveStates) {
    n += stack.tcp_connections_in(s);
  }
  return n;
}

// "ESTABLISHED 2, LAST-ACK 1" for the active TCBs of `stack`.
std::string describe_active(const Stack& stack) {
  std::string out;
  for (TcpState s : kActiveStates) {
    if (const std::size_t n = stack.tcp_connections_in(s); n > 0) {
      out += (out.empty() ? "" : ", ") + std::string(to_string(s)) + " " + std::to_string(n);
    }
  }
  return out.empty() ? "none" : out;
}

// The stack's count of retransmitted TCP segments: a counter with one of the usual names, else
// the sum of the tcp.* counters that name retransmissions; nullopt when there is none.
std::optional<std::uint64_t> tcp_retransmissions(const Stack& stack) {
  for (std::string_view name : {"tcp.retransmissions", "tcp.segments_retransmitted", "tcp.retransmitted_segments",
                                "tcp.tx_retransmissions", "tcp.retransmits"}) {
    if (auto value = stack.counter(name)) {
      return value;
    }
  }
  std::optional<std::uint64_t> sum;
  stack.visit_counters([&sum](std::string_view name, std::uint64_t value) {
    if (name.starts_with("tcp.") && name.find("retransmi") != std::string_view::npos) {
      sum = sum.value_or(0) + value;
    }
  });
  return sum;
}

// The bytes a connection sends: a seeded stream, read in any chunking with the same result.
class PatternStream {
 public:
  explicit PatternStream(std::uint64_t seed) : rng_(seed) {}
  std::byte next() {
    if (left_ == 0) {
      word_ = rng_.next_u64();
      left_ = 8;
    }
    const auto b = static_cast<std::byte>(word_ & 0xff);
    word_ >>= 8;
    left_--;
    return b;
  }
  void fill(MutableBytes out) {
    for (std::byte& b : out) {
      b = next();
    }
  }

 private:
  Rng rng_;
  std::uint64_t word_ = 0;
  int left_ = 0;
};

std::string error_text(SocketError e) { return std::string(to_string(e)); }

struct ClientConnection {
  explicit ClientConnection(std::uint64_t seed) : to_send(seed), to_check(seed) {}
  TcpSocketId id = 0;
  bool open = false;   // we hold the handle
  bool shut = false;   // tcp_shutdown done
  bool done = false;   // complete or failed
  PatternStream to_send;
  PatternStream to_check;
  ByteVector chunk;    // generated, not yet all taken by tcp_send
  std::size_t chunk_taken = 0;
  std::uint64_t generated = 0;
  ConnectionResult result;
};

struct ServerConnection {
  TcpSocketId id = 0;
  ByteVector pending;  // received, not yet taken by tcp_send
  std::size_t pending_sent = 0;
  bool eof = false;
};

// Everything the two apps share with the run (declared before the world, so it outlives the hosts).
class Scenario {
 public:
  Scenario(const TransferConfig& config, Instant start) : config_(config), start_(start) {
    for (std::size_t i = 0; i < config.connections; ++i) {
      clients_.emplace_back(derive_seed(config.seed, World::stream_id("transfer/" + std::to_string(i))));
    }
    clients_left_ = clients_.size();
  }

  std::vector<ClientConnection>& clients() { return clients_; }
  bool clients_done() const { return clients_left_ == 0; }
  std::uint64_t server_accepted() const { return server_accepted_; }
  std::uint64_t server_errors() const { return server_errors_; }
  const std::string& first_server_error() const { return first_server_error_; }
  bool listening() const { return listener_.has_value(); }

  Result<Unit, std::string> listen(Stack& server) {
    auto listener = server.tcp_listen(config_.server_port, config_.connections);
    if (!listener.ok()) {
      return fail("server: listen on port " + std::to_string(config_.server_port) + ": " + error_text(listener.error()));
    }
    listener_ = *listener;
    return Unit{};
  }

  // ---- the client ----
  Instant client_app(Stack& stack, Instant now) {
    if (!started_) {
      started_ = true;
      for (ClientConnection& c : clients_) {
        auto id = stack.tcp_connect(kServerIp, config_.server_port);
        if (!id.ok()) {
          fail_client(stack, c, "connect: " + error_text(id.error()), now);
          continue;
        }
        c.id = *id;
        c.open = true;
      }
    }
    for (ClientConnection& c : clients_) {
      if (!c.done) {
        step_client(stack, c, now);
      }
    }
    return clients_left_ == 0 ? Instant::never() : now + kAppTick;
  }

  // ---- the server ----
  Instant server_app(Stack& stack, Instant now) {
    (void)now;
    if (!listener_) {
      return Instant::never();
    }
    for (;;) {
      auto id = stack.tcp_accept(*listener_);
      if (!id.ok()) {
        if (id.error() != SocketError::WouldBlock) {
          server_error("accept: " + error_text(id.error()));
        }
        break;
      }
      server_accepted_++;
      servers_.push_back(ServerConnection{*id, {}, 0, false});
    }
    for (std::size_t i = 0; i < servers_.size();) {
      if (step_server(stack, servers_[i])) {
        ++i;
      } else {
        servers_.erase(servers_.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    return servers_.empty() ? Instant::never() : now + kAppTick;
  }

  // After the run: what the connections still open look like.
  void finish_unfinished(Stack& stack, std::string_view why) {
    for (ClientConnection& c : clients_) {
      if (c.done) {
        continue;
      }
      std::string state = "no socket";
      if (c.open) {
        if (auto info = stack.tcp_info(c.id); info.ok()) {
          state = std::string(to_string(info->state));
        }
      }
      c.result.error = std::string(why) + " (in " + state + ")";
      c.result.finished.reset();
      c.done = true;
    }
  }

 private:
  Duration since_start(Instant now) const { return now - start_; }

  void fail_client(Stack& stack, ClientConnection& c, std::string why, Instant now) {
    if (c.open) {
      (void)stack.tcp_abort(c.id);
      c.open = false;
    }
    c.result.error = std::move(why);
    c.result.finished = since_start(now);
    c.done = true;
    clients_left_--;
  }

  void step_client(Stack& stack, ClientConnection& c, Instant now) {
    const std::uint64_t n = config_.bytes;
    bool connecting = false;
    if (auto info = stack.tcp_info(c.id); info.ok()) {
      c.result.retransmissions = info->retransmissions;
      connecting = info->state == TcpState::SynSent || info->state == TcpState::SynReceived;
    }
    // Receive first: reading opens the window the echo needs.
    for (;;) {
      auto got = stack.tcp_receive(c.id, MutableBytes(buffer_.data(), buffer_.size()));
      if (!got.ok()) {
        if (got.error() == SocketError::WouldBlock) {
          break;
        }
        fail_client(stack, c, "receive: " + error_text(got.error()), now);
        return;
      }
      if (*got == 0) {
        if (c.result.verified != n) {
          fail_client(stack, c,
                      "end of stream after " + std::to_string(c.result.verified) + " of " + std::to_string(n) +
                          " echo bytes",
                      now);
          return;
        }
        c.result.complete = true;
        c.result.finished = since_start(now);
        c.done = true;
        clients_left_--;
        if (auto closed = stack.tcp_close(c.id); !closed.ok()) {
          c.result.complete = false;
          c.result.error = "close: " + error_text(closed.error());
        }
        c.open = false;
        return;
      }
      for (std::size_t k = 0; k < *got; ++k) {
        if (c.result.verified >= n) {
          c.result.mismatch_offset = c.result.verified;
          fail_client(stack, c, "more echo bytes than were sent (" + std::to_string(n) + ")", now);
          return;
        }
        if (buffer_[k] != c.to_check.next()) {
          c.result.mismatch_offset = c.result.verified;
          fail_client(stack, c, "echo byte at offset " + std::to_string(c.result.verified) + " differs", now);
          return;
        }
        c.result.verified++;
      }
    }
    // Send what the send buffer takes (partial acceptance; WouldBlock when full).
    while (c.result.sent < n) {
      if (c.chunk_taken == c.chunk.size()) {
        const std::size_t size = static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, n - c.generated));
        c.chunk.resize(size);
        c.to_send.fill(MutableBytes(c.chunk.data(), c.chunk.size()));
        c.generated += size;
        c.chunk_taken = 0;
      }
      auto taken = stack.tcp_send(c.id, Bytes(c.chunk.data() + c.chunk_taken, c.chunk.size() - c.chunk_taken));
      if (!taken.ok()) {
        if (taken.error() == SocketError::WouldBlock) {
          break;
        }
        fail_client(stack, c, "send: " + error_text(taken.error()), now);
        return;
      }
      if (*taken == 0) {
        break;
      }
      c.chunk_taken += *taken;
      c.result.sent += *taken;
    }
    // The half close waits for the handshake, as a sockets app must (shutdown() on a socket still
    // connecting fails with ENOTCONN); the data queued meanwhile goes out once established.
    if (c.result.sent == n && !c.shut && !connecting) {
      if (auto shut = stack.tcp_shutdown(c.id); !shut.ok()) {
        fail_client(stack, c, "shutdown: " + error_text(shut.error()), now);
        return;
      }
      c.shut = true;
    }
  }

  void server_error(std::string what) {
    server_errors_++;
    if (first_server_error_.empty()) {
      first_server_error_ = std::move(what);
    }
  }

  // Echoes what it can. False when the connection is finished (closed or failed).
  bool step_server(Stack& stack, ServerConnection& s) {
    if (!flush_echo(stack, s)) {
      return false;
    }
    while (!s.eof && s.pending.size() - s.pending_sent < TransferConfig::kEchoBufferBytes) {
      if (s.pending_sent > 0) {
        s.pending.erase(s.pending.begin(), s.pending.begin() + static_cast<std::ptrdiff_t>(s.pending_sent));
        s.pending_sent = 0;
      }
      const std::size_t held = s.pending.size();
      const std::size_t room = std::min(kChunkBytes, TransferConfig::kEchoBufferBytes - held);
      s.pending.resize(held + room);
      auto got = stack.tcp_receive(s.id, MutableBytes(s.pending.data() + held, room));
      s.pending.resize(held + (got.ok() ? *got : 0));
      if (!got.ok()) {
        if (got.error() == SocketError::WouldBlock) {
          break;
        }
        server_error("receive: " + error_text(got.error()));
        (void)stack.tcp_abort(s.id);
        return false;
      }
      if (*got == 0) {
        s.eof = true;
      }
    }
    if (!flush_echo(stack, s)) {
      return false;
    }
    if (s.eof && s.pending_sent == s.pending.size()) {
      // Everything is queued: close delivers it, then the FIN (RFC 9293 3.10.4).
      if (auto closed = stack.tcp_close(s.id); !closed.ok()) {
        server_error("close: " + error_text(closed.error()));
      }
      return false;
    }
    return true;
  }

  bool flush_echo(Stack& stack, ServerConnection& s) {
    while (s.pending_sent < s.pending.size()) {
      auto taken = stack.tcp_send(s.id, Bytes(s.pending.data() + s.pending_sent, s.pending.size() - s.pending_sent));
      if (!taken.ok()) {
        if (taken.error() == SocketError::WouldBlock) {
          return true;
        }
        server_error("send: " + error_text(taken.error()));
        (void)stack.tcp_abort(s.id);
        return false;
      }
      if (*taken == 0) {
        return true;
      }
      s.pending_sent += *taken;
    }
    return true;
  }

  const TransferConfig& config_;
  Instant start_;
  std::vector<ClientConnection> clients_;
  std::size_t clients_left_ = 0;
  bool started_ = false;
  std::optional<TcpSocketId> listener_;
  std::vector<ServerConnection> servers_;
  std::uint64_t server_accepted_ = 0;
  std::uint64_t server_errors_ = 0;
  std::string first_server_error_;
  std::array<std::byte, kChunkBytes> buffer_{};
};

StackConfig host_config(wire::Ipv4Address address, const TransferConfig& config) {
  StackConfig stack;
  stack.interface.address = address;  // the MAC comes from the port
  stack.interface.prefix_len = 24;
  stack.interface.mtu = config.mtu;
  stack.tcp = config.tcp;
  return stack;
}

LinkFaults with_mtu(LinkFaults faults, std::size_t mtu) {
  faults.mtu = mtu;
  return faults;
}

Duration from_ms(double ms) { return Duration::nanoseconds(std::llround(ms * 1e6)); }

}  // namespace

Duration default_time_limit(const TransferConfig& config) {
  constexpr double kFloorBitsPerSecond = 1e6;
  constexpr double kMaxSeconds = 1e8;
  std::uint64_t slowest = std::numeric_limits<std::uint64_t>::max();
  for (const LinkFaults* f : {&config.client_to_server, &config.server_to_client}) {
    if (f->rate_bits_per_second > 0) {
      slowest = std::min(slowest, f->rate_bits_per_second);
    }
  }
  const double rate = std::min(static_cast<double>(slowest), kFloorBitsPerSecond);
  const double bits = static_cast<double>(config.bytes) * static_cast<double>(config.connections) * 8.0;
  const double seconds = std::min(600.0 + 4.0 * bits / rate, kMaxSeconds);
  return Duration::nanoseconds(std::llround(seconds * 1e9));
}

TransferResult run_transfer(const TransferConfig& config) {
  TransferResult out;
  out.time_limit = config.time_limit > Duration::zero() ? config.time_limit : default_time_limit(config);
  auto setup_failure = [&out](std::string why) {
    out.ok = false;
    out.failure = std::move(why);
    return out;
  };
  if (config.connections == 0 || config.connections > TransferConfig::kConnectionsMax) {
    return setup_failure("connections: must be in 1.." + std::to_string(TransferConfig::kConnectionsMax));
  }
  if (config.bytes > TransferConfig::kBytesMax) {
    return setup_failure("bytes: must be at most " + std::to_string(TransferConfig::kBytesMax));
  }

  WorldConfig world_config;
  world_config.seed = config.seed;
  world_config.recording.pcap_path = config.pcap_path;
  world_config.recording.pcap_point = "client";
  auto created = World::create(world_config);
  if (!created.ok()) {
    return setup_failure("world: " + created.error());
  }
  World& world = **created;
  const Instant start = world.now();
  Scenario scenario(config, start);

  LinkFaults clean;
  clean.delay_one_way = Duration::zero();
  SegmentConfig lan;
  lan.name = "lan";
  for (const auto& [name, faults] : {std::pair{"client", &config.client_to_server},
                                     std::pair{"server", &config.server_to_client}}) {
    SegmentPortConfig port;
    port.port.name = name;
    port.port.mtu = config.mtu;
    port.to_switch = with_mtu(*faults, config.mtu);
    port.from_switch = with_mtu(clean, config.mtu);
    lan.ports.push_back(port);
  }
  auto added = world.add_segment(lan);
  if (!added.ok()) {
    return setup_failure("segment: " + added.error());
  }
  Segment& segment = **added;
  StackHost* client = nullptr;
  StackHost* server = nullptr;
  try {
    auto c = world.emplace_host<StackHost>("client", segment.port(kClientPort), host_config(kClientIp, config));
    auto s = world.emplace_host<StackHost>("server", segment.port(kServerPort), host_config(kServerIp, config));
    if (!c.ok() || !s.ok()) {
      return setup_failure("hosts: " + (c.ok() ? s.error() : c.error()));
    }
    client = *c;
    server = *s;
  } catch (const std::invalid_argument& e) {
    return setup_failure(std::string("stack configuration: ") + e.what());
  }
  if (auto listening = scenario.listen(server->stack()); !listening.ok()) {
    out.failure = listening.error();
  }
  client->set_app([&scenario](Stack& stack, Instant now) { return scenario.client_app(stack, now); });
  server->set_app([&scenario](Stack& stack, Instant now) { return scenario.server_app(stack, now); });

  Stack& client_stack = client->stack();
  Stack& server_stack = server->stack();
  const RunResult run = world.run_until(start + out.time_limit, [&] {
    return scenario.clients_done() && active_tcbs(client_stack) == 0 && active_tcbs(server_stack) == 0;
  });
  out.stop = run.stop;
  out.events = run.events;
  if (!scenario.clients_done()) {
    const std::string why = run.bounded() ? std::string("run stopped by a bound: ") + to_string(run.stop)
                                          : "not finished within the time limit of " + format_duration(out.time_limit);
    scenario.finish_unfinished(client_stack, why);
  }

  // ---- results ----
  Duration last_finish = Duration::zero();
  bool all_finished = true;
  for (ClientConnection& c : scenario.clients()) {
    out.connections.push_back(c.result);
    out.bytes_verified += c.result.verified;
    if (c.result.finished) {
      last_finish = std::max(last_finish, *c.result.finished);
    } else {
      all_finished = false;
    }
  }
  out.duration = all_finished ? last_finish : run.now - start;
  if (out.duration > Duration::zero()) {
    out.goodput_bits_per_second = static_cast<double>(out.bytes_verified) * 8.0 / out.duration.seconds_f();
  }
  for (const Stack* stack : {&client_stack, &server_stack}) {
    if (auto r = tcp_retransmissions(*stack)) {
      out.retransmissions = out.retransmissions.value_or(0) + *r;
    }
  }
  for (std::size_t i : {kClientPort, kServerPort}) {
    out.frames_sent += segment.to_switch(i).counters().offered;
  }
  const FaultCounters faults = world.total_fault_counters();
  out.frames_dropped = faults.lost + faults.burst_lost + faults.queue_full + faults.too_big + faults.partitioned;
  out.frames_reordered = faults.reordered;
  out.frames_duplicated = faults.duplicated;
  out.frames_corrupted = faults.corrupted;
  out.all_closed = active_tcbs(client_stack) == 0 && active_tcbs(server_stack) == 0;
  out.client_time_wait = client_stack.tcp_connections_in(TcpState::TimeWait);
  out.server_time_wait = server_stack.tcp_connections_in(TcpState::TimeWait);
  out.server_accepted = scenario.server_accepted();
  out.server_errors = scenario.server_errors();

  auto first_failure = [&out](std::string why) {
    if (out.failure.empty()) {
      out.failure = std::move(why);
    }
  };
  for (std::size_t i = 0; i < out.connections.size(); ++i) {
    const ConnectionResult& c = out.connections[i];
    if (!c.complete) {
      first_failure("connection " + std::to_string(i + 1) + ": " + c.error);
    }
  }
  if (!out.all_closed) {
    first_failure("connections not in CLOSED or TIME-WAIT at the end: client " + describe_active(client_stack) +
                  "; server " + describe_active(server_stack));
  }
  if (out.server_errors > 0) {
    first_failure("server: " + std::to_string(out.server_errors) + " socket errors, the first: " +
                  scenario.first_server_error());
  }
  if (auto flushed = world.flush_recording(); !flushed.ok()) {
    first_failure("pcap: " + flushed.error());
  }
  out.ok = out.failure.empty();
  return out;
}

// ---- knobs ----

void bind_transfer_options(OptionTable& table, TransferKnobs& k) {
  table.add("--seed", k.seed, "master seed of the run (faults, ISNs, ports, data)");
  table.add("--loss", k.loss, "probability a frame is lost, per frame and direction (0..1)");
  table.add("--reorder", k.reorder, "probability a frame is held back 5 ms so later ones overtake it (0..1)");
  table.add("--duplicate", k.duplicate, "probability a frame is delivered twice (0..1)");
  table.add("--corrupt", k.corrupt, "probability one bit of a frame is flipped (0..1)");
  table.add("--delay", k.delay_ms, "one-way delay in milliseconds");
  table.add("--jitter", k.jitter_ms, "extra one-way delay, uniform in 0..MS milliseconds (keeps order)");
  table.add("--rate", k.rate_mbit, "rate limit per direction in Mbit/s (0: unlimited)");
  table.add("--mtu", k.mtu, "IP MTU of both hosts and the link (68..65521)");
  table.add("--bytes", k.bytes, "bytes each connection sends (and gets echoed back)");
  table.add("--connections", k.connections, "connections opened at once (1..1000)");
  table.add("--partition-interval", k.partition_interval_ms,
            "random outages: mean milliseconds between them (0: none)");
  table.add("--partition-duration", k.partition_duration_ms, "random outages: mean length in milliseconds");
  table.add("--time-limit", k.time_limit_s, "virtual seconds the run may take (0: from bytes and rate)");
}

Result<Unit, std::string> validate(const TransferKnobs& k) {
  auto bad = [](std::string_view flag, std::string_view what, double value) {
    return fail(std::string(flag) + ": must be " + std::string(what) + ", got " + format_double(value));
  };
  for (const auto& [flag, p] : {std::pair{"--loss", k.loss}, std::pair{"--reorder", k.reorder},
                                std::pair{"--duplicate", k.duplicate}, std::pair{"--corrupt", k.corrupt}}) {
    if (!(p >= 0.0 && p <= 1.0)) {
      return bad(flag, "a probability in 0..1", p);
    }
  }
  constexpr double kMsMax = 1e9;  // LinkFaults::kDurationMax
  for (const auto& [flag, ms] : {std::pair{"--delay", k.delay_ms}, std::pair{"--jitter", k.jitter_ms},
                                 std::pair{"--partition-interval", k.partition_interval_ms},
                                 std::pair{"--partition-duration", k.partition_duration_ms}}) {
    if (!(ms >= 0.0 && ms <= kMsMax)) {
      return bad(flag, "milliseconds in 0..1e9", ms);
    }
  }
  if (!(k.rate_mbit == 0.0 || (k.rate_mbit >= 0.001 && k.rate_mbit <= 1e6))) {
    return bad("--rate", "0 (unlimited) or Mbit/s in 0.001..1e6", k.rate_mbit);
  }
  if (k.mtu < LinkFaults::kMtuMin || k.mtu > PortConfig::kMtuMax) {
    return fail("--mtu: must be in " + std::to_string(LinkFaults::kMtuMin) + ".." +
                std::to_string(PortConfig::kMtuMax) + ", got " + std::to_string(k.mtu));
  }
  if (k.bytes > TransferConfig::kBytesMax) {
    return fail("--bytes: must be at most " + std::to_string(TransferConfig::kBytesMax) + ", got " +
                std::to_string(k.bytes));
  }
  if (k.connections == 0 || k.connections > TransferConfig::kConnectionsMax) {
    return fail("--connections: must be in 1.." + std::to_string(TransferConfig::kConnectionsMax) + ", got " +
                std::to_string(k.connections));
  }
  if ((from_ms(k.partition_interval_ms) > Duration::zero()) != (from_ms(k.partition_duration_ms) > Duration::zero())) {
    return fail(std::string(k.partition_interval_ms > 0 ? "--partition-duration" : "--partition-interval") +
                ": --partition-interval and --partition-duration must be given together (both above 0)");
  }
  if (!(k.time_limit_s >= 0.0 && k.time_limit_s <= 1e8)) {
    return bad("--time-limit", "seconds in 0..1e8", k.time_limit_s);
  }
  // The backstop: whatever LinkFaults itself refuses.
  const TransferConfig config = to_transfer_config(k);
  if (auto ok = config.client_to_server.validate(); !ok.ok()) {
    return fail("faults: " + ok.error());
  }
  return Unit{};
}

TransferConfig to_transfer_config(const TransferKnobs& k, std::string pcap_path) {
  TransferConfig config;
  config.seed = k.seed;
  config.mtu = static_cast<std::size_t>(k.mtu);
  config.bytes = k.bytes;
  config.connections = static_cast<std::size_t>(k.connections);
  config.pcap_path = std::move(pcap_path);
  config.time_limit = Duration::nanoseconds(std::llround(k.time_limit_s * 1e9));
  LinkFaults f;
  f.loss_probability = k.loss;
  f.reorder_probability = k.reorder;
  f.duplicate_probability = k.duplicate;
  f.corrupt_probability = k.corrupt;
  f.corrupt_bits_max = 1;  // a single flip: every Internet checksum catches it (RFC 1071)
  f.delay_one_way = from_ms(k.delay_ms);
  f.jitter_max = from_ms(k.jitter_ms);
  f.rate_bits_per_second = static_cast<std::uint64_t>(std::llround(k.rate_mbit * 1e6));
  f.queue_bytes_max = std::max<std::size_t>(f.queue_bytes_max, 2 * (config.mtu + LinkFaults::kEthernetHeaderLen));
  f.mtu = config.mtu;
  f.partition_interval_mean = from_ms(k.partition_interval_ms);
  f.partition_duration_mean = from_ms(k.partition_duration_ms);
  config.client_to_server = f;
  config.server_to_client = f;
  return config;
}

std::string replay_command(const TransferKnobs& knobs) {
  TransferKnobs bound;
  OptionTable table;
  bind_transfer_options(table, bound);
  bound = knobs;
  std::string line = "tapstack sim --seed=" + std::to_string(knobs.seed);
  for (const std::string& arg : table.changed()) {
    if (!arg.starts_with("--seed=")) {
      line += " " + shell_quote(arg);
    }
  }
  return line;
}

TransferResult run_transfer(const TransferKnobs& knobs, std::string pcap_path) {
  TransferResult result;
  if (auto ok = validate(knobs); !ok.ok()) {
    result.failure = ok.error();
  } else {
    result = run_transfer(to_transfer_config(knobs, std::move(pcap_path)));
  }
  result.replay = replay_command(knobs);
  return result;
}

}  // namespace tapstack::sim
