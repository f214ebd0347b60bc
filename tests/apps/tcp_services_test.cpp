// The TCP services end to end in the simulator: two sim::StackHosts on one
// simulated Ethernet segment; the server runs the apps through apps::AppHost
// (as `tapstack live` does), the client uses the socket API directly (or the
// connect app). Everything is in virtual time, deterministic per seed.
//
//   echo      1 MB of random bytes back byte-exact; backpressure when the
//             client does not read; the connection limit
//   discard   swallows 1 MB, closes after the client's FIN
//   chargen   the RFC 864 pattern, byte by byte; closes after the client's FIN
//   http      GET /bytes/N (content, Content-Length), HEAD, 50 requests on
//             one keep-alive connection, pipelining, 404/400/405/431,
//             Connection: close, a static file from a MemoryFileSource, path
//             escapes
//   connect   the connect app against TcpEcho (byte-exact, exit 0), and
//             against a closed port (refused, exit 1)

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apps/app_host.hpp"
#include "apps/byte_stream.hpp"
#include "apps/connect_app.hpp"
#include "apps/file_source.hpp"
#include "apps/generated_content.hpp"
#include "apps/http_server.hpp"
#include "apps/tcp_service.hpp"
#include "sim/stack_host.hpp"
#include "sim/world.hpp"
#include "stack/base/rng.hpp"
#include "stack/stack.hpp"

namespace tapstack::apps {
namespace {

constexpr wire::Ipv4Address kClientIp = wire::Ipv4Address::from_octets(10, 0, 0, 1);
constexpr wire::Ipv4Address kServerIp = wire::Ipv4Address::from_octets(10, 0, 0, 2);
constexpr std::uint16_t kEchoPort = 7;
constexpr std::uint16_t kDiscardPort = 9;
constexpr std::uint16_t kChargenPort = 19;
constexpr std::uint16_t kHttpPort = 80;
constexpr Duration kClientTick = Duration::milliseconds(1);
constexpr Duration kTimeMax = Duration::seconds(120);

ByteVector random_bytes(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  ByteVector out(n);
  for (auto& b : out) {
    b = static_cast<std::byte>(rng.next_u32() & 0xff);
  }
  return out;
}

ByteVector bytes_of(std::string_view s) {
  ByteVector out(s.size());
  std::transform(s.begin(), s.end(), out.begin(), [](char c) { return static_cast<std::byte>(c); });
  return out;
}

std::string text_of(Bytes b) {
  std::string out(b.size(), '\0');
  std::transform(b.begin(), b.end(), out.begin(), [](std::byte c) { return static_cast<char>(c); });
  return out;
}

// One client connection driven through the socket API: sends `outgoing` as the send buffer
// takes it (more may be appended later), optionally shuts down once all is sent, and receives
// everything (up to `receive_limit`: beyond it the client stops reading, like a stalled reader).
struct ClientConnection {
  std::uint16_t port = 0;
  std::optional<TcpSocketId> socket;
  ByteVector outgoing;
  std::size_t sent = 0;
  bool shutdown_when_sent = false;
  bool shut_down = false;
  ByteVector received;
  std::size_t receive_limit = std::numeric_limits<std::size_t>::max();
  bool eof = false;
  bool released = false;
  std::optional<SocketError> error;
  std::uint32_t events = 0;  // every event bit seen

  bool connected() const { return (events & tcp_event::Connected) != 0; }

  void pump(Stack& stack) {
    if (!socket || released || error) {
      return;
    }
    events |= stack.tcp_take_events(*socket);
    while (sent < outgoing.size()) {
      auto n = stack.tcp_send(*socket, Bytes{outgoing}.subspan(sent));
      if (!n.ok()) {
        if (n.error() != SocketError::WouldBlock) {
          error = n.error();
          return;
        }
        break;
      }
      sent += *n;
    }
    if (shutdown_when_sent && sent == outgoing.size() && !shut_down) {
      auto shut = stack.tcp_shutdown(*socket);
      if (!shut.ok()) {
        error = shut.error();
        return;
      }
      shut_down = true;
    }
    std::vector<std::byte> buffer(32 * 1024);
    while (!eof && received.size() < receive_limit) {
      const std::size_t want = std::min(buffer.size(), receive_limit - received.size());
      auto got = stack.tcp_receive(*socket, MutableBytes{buffer}.first(want));
      if (!got.ok()) {
        if (got.error() != SocketError::WouldBlock) {
          error = got.error();
        }
        return;
      }
      if (*got == 0) {
        eof = true;
        return;
      }
      received.insert(received.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*got));
    }
  }
};

class TcpServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sim::WorldConfig config;
    config.seed = 42;
    auto world = sim::World::create(config);
    ASSERT_TRUE(world.ok()) << world.error();
    world_ = std::move(*world);
    sim::SegmentConfig lan;
    lan.name = "lan";
    for (const char* name : {"client", "server"}) {
      sim::SegmentPortConfig port;
      port.port.name = name;
      port.to_switch = faults();
      port.from_switch = faults();
      lan.ports.push_back(port);
    }
    auto segment = world_->add_segment(lan);
    ASSERT_TRUE(segment.ok()) << segment.error();
    auto client = world_->emplace_host<sim::StackHost>("client", (*segment)->port(0), stack_config(kClientIp));
    auto server = world_->emplace_host<sim::StackHost>("server", (*segment)->port(1), stack_config(kServerIp));
    ASSERT_TRUE(client.ok() && server.ok());
    client_ = *client;
    server_ = *server;
    server_apps_ = std::make_unique<AppHost>(server_->stack());
    server_->set_app([this](Stack&, Instant now) { return server_apps_->poll_apps(now); });
    // The client polls its connections every tick, so new ones open without waiting for a frame.
    client_->set_app([this](Stack& stack, Instant now) {
      for (auto& c : connections_) {
        if (!c->socket && !c->error) {
          auto socket = stack.tcp_connect(kServerIp, c->port);
          if (!socket.ok()) {
            c->error = socket.error();
            continue;
          }
          c->socket = *socket;
        }
        c->pump(stack);
      }
      return now + kClientTick;
    });
  }

  // The faults of every cable direction (none by default: 1 ms delay).
  virtual sim::LinkFaults faults() const { return {}; }

  static StackConfig stack_config(wire::Ipv4Address address) {
    StackConfig config;
    config.interface.address = address;
    config.interface.prefix_len = 24;
    return config;
  }

  // Adds a server app and starts it (every app is started once, in order).
  template <class A, class... Args>
  A& serve(Args&&... args) {
    auto app = std::make_unique<A>(std::forward<Args>(args)...);
    A& ref = *app;
    server_apps_->add(std::move(app));
    auto started = server_apps_->start();
    EXPECT_TRUE(started.ok()) << started.error();
    return ref;
  }

  // A client connection to `port`, opened at the next client tick.
  ClientConnection& open(std::uint16_t port, ByteVector outgoing = {}, bool shutdown_when_sent = false) {
    auto c = std::make_unique<ClientConnection>();
    c->port = port;
    c->outgoing = std::move(outgoing);
    c->shutdown_when_sent = shutdown_when_sent;
    connections_.push_back(std::move(c));
    return *connections_.back();
  }

  // Closes (releases) a client connection.
  void close(ClientConnection& c) {
    ASSERT_TRUE(c.socket.has_value());
    EXPECT_TRUE(client_->stack().tcp_close(*c.socket).ok());
    c.released = true;
  }

  // Runs until `done` (a bounded virtual time); false if the bound came first.
  bool run_until(const std::function<bool()>& done, Duration limit = kTimeMax) {
    const sim::RunResult result = world_->run_until(world_->now() + limit, done);
    EXPECT_FALSE(result.bounded()) << sim::to_string(result.stop);
    return result.stop == sim::RunStop::Done;
  }

  // Runs for `d` of virtual time.
  void run_for(Duration d) { (void)world_->run_for(d); }

  std::unique_ptr<sim::World> world_;
  sim::StackHost* client_ = nullptr;
  sim::StackHost* server_ = nullptr;
  std::unique_ptr<AppHost> server_apps_;
  std::vector<std::unique_ptr<ClientConnection>> connections_;
};

// ---- echo -------------------------------------------------------------------------------------------

TEST_F(TcpServicesTest, EchoReturnsOneMegabyteByteExact) {
  TcpEcho& echo = serve<TcpEcho>(kEchoPort);
  const ByteVector data = random_bytes(1 << 20, 1);
  ClientConnection& c = open(kEchoPort, data, /*shutdown_when_sent=*/true);
  ASSERT_TRUE(run_until([&] { return c.eof || c.error; }));
  ASSERT_FALSE(c.error) << to_string(*c.error);
  ASSERT_EQ(c.received.size(), data.size());
  EXPECT_TRUE(c.received == data) << "echoed bytes differ";
  close(c);
  ASSERT_TRUE(run_until([&] { return echo.connections() == 0; }));
  EXPECT_EQ(echo.counters().connections_accepted, 1u);
  EXPECT_EQ(echo.counters().connections_closed, 1u);
  EXPECT_EQ(echo.counters().connections_reset, 0u);
  EXPECT_EQ(echo.counters().connections_active, 0u);
  EXPECT_EQ(echo.counters().bytes_received, data.size());
  EXPECT_EQ(echo.counters().bytes_sent, data.size());
}

TEST_F(TcpServicesTest, EchoStopsReadingWhenTheClientDoesNotRead) {
  serve<TcpEcho>(kEchoPort);
  const ByteVector data = random_bytes(8 << 20, 2);
  ClientConnection& c = open(kEchoPort, data, true);
  c.receive_limit = 0;  // a client that sends and never reads
  run_for(Duration::seconds(20));
  ASSERT_FALSE(c.error) << to_string(*c.error);
  // What was taken is bounded by the buffers on the way: the client's send buffer, the
  // server's receive buffer, the echo buffer, the server's send buffer, the client's receive
  // buffer. The rest waits in the client app: backpressure, not unbounded growth.
  const TcpLimits& limits = server_->stack().config().tcp;
  const std::size_t in_flight_max =
      2 * limits.send_buffer_bytes + 2 * limits.receive_buffer_bytes + kEchoBufferBytes;
  EXPECT_LT(c.sent, data.size());
  EXPECT_LE(c.sent, in_flight_max + limits.send_buffer_bytes);
  // Reading again lets everything through.
  c.receive_limit = std::numeric_limits<std::size_t>::max();
  ASSERT_TRUE(run_until([&] { return c.eof || c.error; }));
  ASSERT_FALSE(c.error) << to_string(*c.error);
  EXPECT_TRUE(c.received == data);
}

TEST_F(TcpServicesTest, ConnectionsBeyondTheLimitAreAborted) {
  TcpServerLimits limits;
  limits.connections_max = 2;
  TcpEcho& echo = serve<TcpEcho>(kEchoPort, limits);
  ClientConnection& a = open(kEchoPort, bytes_of("a"));
  ClientConnection& b = open(kEchoPort, bytes_of("b"));
  ASSERT_TRUE(run_until([&] { return a.received.size() == 1 && b.received.size() == 1; }));
  ClientConnection& third = open(kEchoPort, bytes_of("c"));
  ASSERT_TRUE(run_until([&] { return third.error.has_value(); }));
  EXPECT_EQ(*third.error, SocketError::ConnectionReset);
  EXPECT_EQ(echo.counters().connections_rejected, 1u);
  EXPECT_EQ(echo.counters().connections_active, 2u);
  // The two served ones are unaffected.
  a.outgoing.push_back(std::byte{'!'});
  ASSERT_TRUE(run_until([&] { return a.received.size() == 2; }));
  EXPECT_EQ(text_of(a.received), "a!");
}

TEST_F(TcpServicesTest, StoppingTheAppClosesItsConnections) {
  TcpEcho& echo = serve<TcpEcho>(kEchoPort);
  ClientConnection& a = open(kEchoPort, bytes_of("one"));
  ClientConnection& b = open(kEchoPort, bytes_of("two"));
  ASSERT_TRUE(run_until([&] { return a.received.size() == 3 && b.received.size() == 3; }));
  server_apps_->stop();
  // An orderly close: each client reads end of stream (FIN), not a reset.
  ASSERT_TRUE(run_until([&] { return (a.eof || a.error) && (b.eof || b.error); }));
  EXPECT_TRUE(a.eof && b.eof);
  EXPECT_FALSE(a.error || b.error);
  EXPECT_EQ(echo.counters().connections_closed, 2u);
  EXPECT_EQ(echo.connections(), 0u);
  // The listener is gone too: a new connection is refused.
  ClientConnection& late = open(kEchoPort);
  ASSERT_TRUE(run_until([&] { return late.error.has_value(); }));
  EXPECT_EQ(*late.error, SocketError::ConnectionRefused);
}

// ---- discard, chargen -----------------------------------------------------------------------------

TEST_F(TcpServicesTest, DiscardSwallowsEverythingAndClosesAfterTheClient) {
  TcpDiscard& discard = serve<TcpDiscard>(kDiscardPort);
  const ByteVector data = random_bytes(1 << 20, 3);
  ClientConnection& c = open(kDiscardPort, data, true);
  ASSERT_TRUE(run_until([&] { return c.eof || c.error; }));
  ASSERT_FALSE(c.error) << to_string(*c.error);
  EXPECT_TRUE(c.received.empty());
  EXPECT_EQ(discard.counters().bytes_received, data.size());
  EXPECT_EQ(discard.counters().bytes_sent, 0u);
  EXPECT_EQ(discard.counters().connections_closed, 1u);
}

TEST_F(TcpServicesTest, ChargenSendsTheRfc864Pattern) {
  TcpChargen& chargen = serve<TcpChargen>(kChargenPort);
  ClientConnection& c = open(kChargenPort);
  c.receive_limit = 200'000;
  ASSERT_TRUE(run_until([&] { return c.received.size() >= 200'000 || c.error; }));
  ASSERT_FALSE(c.error) << to_string(*c.error);
  // The client closes its side; chargen closes too, after what it queued.
  c.shutdown_when_sent = true;
  c.receive_limit = std::numeric_limits<std::size_t>::max();
  ASSERT_TRUE(run_until([&] { return c.eof || c.error; }));
  ASSERT_FALSE(c.error) << to_string(*c.error);
  ASSERT_GE(c.received.size(), 200'000u);
  for (std::size_t i = 0; i < c.received.size(); ++i) {
    ASSERT_EQ(c.received[i], chargen_byte_at(i)) << "byte " << i;
  }
  EXPECT_EQ(text_of(Bytes{c.received}.first(74)),
            " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n");
  EXPECT_EQ(chargen.counters().bytes_sent, c.received.size());
  EXPECT_EQ(chargen.counters().connections_closed, 1u);
}

// ---- http -----------------------------------------------------------------------------------------

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> fields;  // names lower-cased
  std::string body;

  std::optional<std::string> field(std::string_view name) const {
    for (const auto& [n, v] : fields) {
      if (n == name) {
        return v;
      }
    }
    return std::nullopt;
  }
};

// Parses one complete response at the start of `text` (`head_only`: a response to HEAD, no body);
// nullopt while incomplete. `used` is its length.
std::optional<HttpResponse> parse_response(std::string_view text, bool head_only, std::size_t& used) {
  const std::size_t end = text.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  HttpResponse r;
  std::string_view head_text = text.substr(0, end + 2);
  const std::size_t line_end = head_text.find("\r\n");
  const std::string_view status_line = head_text.substr(0, line_end);
  if (!status_line.starts_with("HTTP/1.1 ") || status_line.size() < 12) {
    ADD_FAILURE() << "bad status line: " << status_line;
    return std::nullopt;
  }
  r.status = std::stoi(std::string(status_line.substr(9, 3)));
  head_text.remove_prefix(line_end + 2);
  while (!head_text.empty()) {
    const std::size_t le = head_text.find("\r\n");
    const std::string_view line = head_text.substr(0, le);
    const std::size_t colon = line.find(':');
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    r.fields.emplace_back(std::move(name), std::string(value));
    head_text.remove_prefix(le + 2);
  }
  const std::size_t length = r.field("content-length") ? std::stoull(*r.field("content-length")) : 0;
  const std::size_t body = head_only ? 0 : length;
  if (text.size() < end + 4 + body) {
    return std::nullopt;
  }
  r.body = std::string(text.substr(end + 4, body));
  used = end + 4 + body;
  return r;
}

// The complete responses in `text`, one per entry of `head_only` at most.
std::vector<HttpResponse> parse_responses(std::string_view text, const std::vector<bool>& head_only) {
  std::vector<HttpResponse> out;
  for (bool head : head_only) {
    std::size_t used = 0;
    auto r = parse_response(text, head, used);
    if (!r) {
      break;
    }
    out.push_back(std::move(*r));
    text.remove_prefix(used);
  }
  return out;
}

std::string_view view_of(const ByteVector& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

std::string get(std::string_view path, std::string_view extra = {}) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: sim\r\n" + std::string(extra) + "\r\n";
}

class HttpTest : public TcpServicesTest {
 protected:
  void SetUp() override {
    TcpServicesTest::SetUp();
    auto files = std::make_unique<MemoryFileSource>();
    files_ = files.get();
    files->add("index.html", "<h1>tapstack</h1>\n");
    files->add("docs/a.txt", "file a\n");
    files->add("docs/index.html", "docs index\n");
    files->add("big.bin", std::string(300'000, 'x') + "end");
    HttpServerConfig config;
    config.port = kHttpPort;
    http_ = &serve<HttpServer>(config, std::move(files));
  }

  // Runs until the responses to the requests sent on `c` (one entry of `head_only` per request,
  // in order) are complete; returns them. Parses incrementally: only new bytes are looked at.
  std::vector<HttpResponse> exchange(ClientConnection& c, const std::vector<bool>& head_only) {
    ParseState& st = parsed_[&c];
    auto parse = [&] {
      while (st.responses.size() < head_only.size()) {
        std::size_t used = 0;
        auto r = parse_response(view_of(c.received).substr(st.offset), head_only[st.responses.size()], used);
        if (!r) {
          break;
        }
        st.offset += used;
        st.responses.push_back(std::move(*r));
      }
      return st.responses.size() >= head_only.size();
    };
    EXPECT_TRUE(run_until([&] { return parse() || c.error || c.eof; }));
    parse();
    EXPECT_FALSE(c.error) << to_string(*c.error);
    EXPECT_EQ(st.responses.size(), head_only.size()) << view_of(c.received).substr(st.offset, 400);
    return st.responses;
  }

  HttpResponse one(std::string request, bool head_only = false) {
    ClientConnection& c = open(kHttpPort, bytes_of(request));
    auto responses = exchange(c, {head_only});
    return responses.empty() ? HttpResponse{} : responses.front();
  }

  struct ParseState {
    std::size_t offset = 0;  // bytes of complete responses parsed
    std::vector<HttpResponse> responses;
  };
  std::map<const ClientConnection*, ParseState> parsed_;
  MemoryFileSource* files_ = nullptr;
  HttpServer* http_ = nullptr;
};

TEST_F(HttpTest, GetBytesServesThePattern) {
  constexpr std::size_t kN = 1'000'003;
  ClientConnection& c = open(kHttpPort, bytes_of(get("/bytes/1000003")));
  const auto responses = exchange(c, {false});
  ASSERT_EQ(responses.size(), 1u);
  const HttpResponse& r = responses.front();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.field("content-length"), std::to_string(kN));
  EXPECT_EQ(r.field("content-type"), "application/octet-stream");
  EXPECT_EQ(r.field("server"), "tapstack");
  EXPECT_FALSE(r.field("date").has_value());
  ASSERT_EQ(r.body.size(), kN);
  for (std::size_t i = 0; i < kN; ++i) {
    ASSERT_EQ(r.body[i], static_cast<char>('a' + i % 26)) << "byte " << i;
  }
  EXPECT_EQ(http_->http_counters().body_bytes_sent, kN);
  EXPECT_FALSE(c.eof);  // keep-alive
}

TEST_F(HttpTest, HeadHasTheHeadersAndNoBody) {
  ClientConnection& c = open(kHttpPort, bytes_of("HEAD /bytes/5000 HTTP/1.1\r\nHost: sim\r\n\r\n" + get("/bytes/3")));
  const auto responses = exchange(c, {true, false});
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].field("content-length"), "5000");
  EXPECT_TRUE(responses[0].body.empty());
  // The next response starts right after the HEAD response's head: no body bytes in between.
  EXPECT_EQ(responses[1].body, "abc");
  EXPECT_EQ(http_->http_counters().requests_head, 1u);
}

TEST_F(HttpTest, FiftyRequestsOnOneKeepAliveConnection) {
  ClientConnection& c = open(kHttpPort);
  std::vector<bool> head_only;
  for (int i = 0; i < 50; ++i) {
    // One at a time: the next request goes out once the previous response is in.
    const std::size_t n = static_cast<std::size_t>(i) * 997;
    const ByteVector request = bytes_of(get("/bytes/" + std::to_string(n)));
    c.outgoing.insert(c.outgoing.end(), request.begin(), request.end());
    head_only.push_back(false);
    const auto responses = exchange(c, head_only);
    ASSERT_EQ(responses.size(), head_only.size()) << "request " << i;
    EXPECT_EQ(responses.back().status, 200);
    ASSERT_EQ(responses.back().body.size(), n);
    for (std::size_t k = 0; k < n; k += 101) {
      ASSERT_EQ(responses.back().body[k], static_cast<char>('a' + k % 26));
    }
  }
  EXPECT_FALSE(c.eof);
  EXPECT_EQ(http_->counters().connections_accepted, 1u);
  EXPECT_EQ(http_->http_counters().responses_200, 50u);
}

TEST_F(HttpTest, PipelinedRequestsAreAnsweredInOrder) {
  std::string requests;
  std::vector<bool> head_only;
  for (int i = 0; i < 20; ++i) {
    requests += i % 5 == 4 ? get("/missing" + std::to_string(i)) : get("/bytes/" + std::to_string(i * 10000));
    head_only.push_back(false);
  }
  ClientConnection& c = open(kHttpPort, bytes_of(requests));
  const auto responses = exchange(c, head_only);
  ASSERT_EQ(responses.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    const HttpResponse& r = responses[static_cast<std::size_t>(i)];
    if (i % 5 == 4) {
      EXPECT_EQ(r.status, 404) << i;
    } else {
      EXPECT_EQ(r.status, 200) << i;
      EXPECT_EQ(r.body.size(), static_cast<std::size_t>(i * 10000)) << i;
    }
  }
}

TEST_F(HttpTest, ErrorStatuses) {
  EXPECT_EQ(one(get("/nope")).status, 404);
  EXPECT_EQ(one(get("/bytes/12x")).status, 404);
  EXPECT_EQ(one(get("/bytes/9999999999999")).status, 400);  // above 2^40
  EXPECT_EQ(one("GET / HTTP/1.1\r\n\r\n").status, 400);  // no Host
  EXPECT_EQ(one("GET /a b HTTP/1.1\r\nHost: sim\r\n\r\n").status, 400);
  EXPECT_EQ(one("GET / HTTP/3.0\r\nHost: sim\r\n\r\n").status, 505);
  EXPECT_EQ(one("GET / HTTP/1.1\r\nHost: sim\r\nTransfer-Encoding: chunked\r\n\r\n").status, 501);
  const HttpResponse too_big = one("GET / HTTP/1.1\r\nHost: sim\r\nX: " + std::string(9000, 'x') + "\r\n\r\n");
  EXPECT_EQ(too_big.status, 431);
  EXPECT_EQ(too_big.field("connection"), "close");
}

TEST_F(HttpTest, OtherMethodsGet405WithAllowAndTheConnectionCloses) {
  ClientConnection& c = open(kHttpPort, bytes_of("POST /x HTTP/1.1\r\nHost: sim\r\nContent-Length: 4\r\n\r\nbody"));
  ASSERT_TRUE(run_until([&] { return c.eof || c.error; }));
  ASSERT_FALSE(c.error) << to_string(*c.error);
  const auto responses = parse_responses(text_of(c.received), {false});
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 405);
  EXPECT_EQ(responses[0].field("allow"), "GET, HEAD");
  EXPECT_EQ(responses[0].field("connection"), "close");
}

TEST_F(HttpTest, ConnectionCloseEndsTheConnectionAfterTheResponse) {
  ClientConnection& c = open(kHttpPort, bytes_of(get("/bytes/100000", "Connection: close\r\n")));
  ASSERT_TRUE(run_until([&] { return c.eof || c.error; }));
  ASSERT_FALSE(c.error) << to_string(*c.error);
  const auto responses = parse_responses(text_of(c.received), {false});
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].body.size(), 100000u);
  EXPECT_EQ(responses[0].field("connection"), "close");
  close(c);
  ASSERT_TRUE(run_until([&] { return http_->connections() == 0; }));
  EXPECT_EQ(http_->counters().connections_closed, 1u);
  EXPECT_EQ(http_->counters().connections_reset, 0u);
}

TEST_F(HttpTest, Http10ClosesUnlessKeepAlive) {
  ClientConnection& c = open(kHttpPort, bytes_of("GET /bytes/10 HTTP/1.0\r\n\r\n"));
  ASSERT_TRUE(run_until([&] { return c.eof || c.error; }));
  EXPECT_EQ(text_of(c.received).substr(0, 15), "HTTP/1.1 200 OK");
  ClientConnection& k = open(kHttpPort, bytes_of("GET /bytes/10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const auto responses = exchange(k, {false});
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].field("connection"), "keep-alive");
  EXPECT_FALSE(k.eof);
}

TEST_F(HttpTest, ServesStaticFiles) {
  const HttpResponse a = one(get("/docs/a.txt"));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "file a\n");
  EXPECT_EQ(a.field("content-type"), "text/plain; charset=utf-8");
  const HttpResponse root = one(get("/"));
  EXPECT_EQ(root.body, "<h1>tapstack</h1>\n");
  EXPECT_EQ(root.field("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(one(get("/docs/")).body, "docs index\n");
  EXPECT_EQ(one(get("/docs/%61.txt")).body, "file a\n");  // percent-decoded
  EXPECT_EQ(one(get("/docs")).status, 404);  // a directory is not a file (no redirects)
  const HttpResponse big = one(get("/big.bin"));
  ASSERT_EQ(big.body.size(), 300'003u);
  EXPECT_EQ(big.body.substr(299'998), "xxend");
  const HttpResponse head = one("HEAD /docs/a.txt HTTP/1.1\r\nHost: sim\r\n\r\n", true);
  EXPECT_EQ(head.field("content-length"), "7");
  EXPECT_TRUE(head.body.empty());
}

TEST_F(HttpTest, PathEscapesAreRefused) {
  files_->add("secret", "must not leak");  // "outside" docs/, for the attempts below
  for (const char* path : {"/docs/../secret", "/docs/%2e%2e/secret", "/docs/..%2fsecret", "/docs/%2E%2E%2Fsecret",
                           "/docs\\..\\secret", "/docs/%5c../secret", "/docs/a.txt%00.html"}) {
    const HttpResponse r = one(get(path));
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(r.body.find("must not leak"), std::string::npos) << path;
  }
}

TEST_F(HttpTest, AFailingFileReadAbortsTheConnection) {
  ClientConnection& c = open(kHttpPort);
  files_->fail_reads(true);
  c.outgoing = bytes_of(get("/big.bin"));
  ASSERT_TRUE(run_until([&] { return c.error.has_value() || c.eof; }));
  EXPECT_EQ(c.error, SocketError::ConnectionReset);
  EXPECT_EQ(http_->http_counters().file_read_errors, 1u);
}

TEST_F(HttpTest, IdleConnectionsAreClosed) {
  ClientConnection& c = open(kHttpPort, bytes_of(get("/bytes/1")));
  (void)exchange(c, {false});
  ASSERT_TRUE(run_until([&] { return c.eof || c.error; }, Duration::seconds(90)));
  EXPECT_TRUE(c.eof);
  EXPECT_EQ(http_->http_counters().idle_timeouts, 1u);
}

// Over a link that loses, reorders and duplicates frames: the services see the same byte streams.
class LossyTcpServicesTest : public HttpTest {
 protected:
  sim::LinkFaults faults() const override {
    sim::LinkFaults f;
    f.loss_probability = 0.02;
    f.reorder_probability = 0.05;
    f.duplicate_probability = 0.01;
    f.jitter_max = Duration::microseconds(300);
    return f;
  }
};

TEST_F(LossyTcpServicesTest, DownloadAndEchoAreExact) {
  serve<TcpEcho>(kEchoPort);
  const ByteVector data = random_bytes(1 << 20, 7);
  ClientConnection& echo = open(kEchoPort, data, true);
  ClientConnection& http = open(kHttpPort, bytes_of(get("/bytes/2000000") + get("/big.bin")));
  const auto responses = exchange(http, {false, false});
  ASSERT_EQ(responses.size(), 2u);
  ASSERT_EQ(responses[0].body.size(), 2'000'000u);
  for (std::size_t i = 0; i < responses[0].body.size(); ++i) {
    ASSERT_EQ(responses[0].body[i], static_cast<char>('a' + i % 26)) << "byte " << i;
  }
  EXPECT_EQ(responses[1].body.size(), 300'003u);
  ASSERT_TRUE(run_until([&] { return echo.eof || echo.error; }));
  ASSERT_FALSE(echo.error) << to_string(*echo.error);
  EXPECT_TRUE(echo.received == data);
}

// ---- the connect app ------------------------------------------------------------------------------

class ConnectAppTest : public TcpServicesTest {
 protected:
  // Runs a ConnectApp on the client host instead of the raw-socket client.
  ConnectApp& connect_to(std::uint16_t port, MemorySource& source, MemorySink& sink) {
    client_apps_ = std::make_unique<AppHost>(client_->stack());
    ConnectConfig config;
    config.address = kServerIp;
    config.port = port;
    auto app = std::make_unique<ConnectApp>(config, source, sink);
    ConnectApp& ref = *app;
    client_apps_->add(std::move(app));
    client_->set_app([this](Stack&, Instant now) {
      // Ticks too: the memory source may be unblocked by the test between frames.
      return std::min(client_apps_->poll_apps(now), now + kClientTick);
    });
    auto started = client_apps_->start();
    EXPECT_TRUE(started.ok()) << started.error();
    return ref;
  }

  std::unique_ptr<AppHost> client_apps_;
};

TEST_F(ConnectAppTest, CopiesBothWaysThroughEcho) {
  serve<TcpEcho>(kEchoPort);
  const ByteVector data = random_bytes(3 << 20, 4);
  MemorySource source(data, 10'000);
  MemorySink sink(7'000);
  ConnectApp& app = connect_to(kEchoPort, source, sink);
  ASSERT_TRUE(run_until([&] { return app.done(); }));
  EXPECT_EQ(app.exit_status(), 0) << app.error();
  ASSERT_EQ(sink.data().size(), data.size());
  EXPECT_TRUE(sink.data() == data);
  EXPECT_EQ(app.counters().bytes_sent, data.size());
  EXPECT_EQ(app.counters().bytes_to_sink, data.size());
}

TEST_F(ConnectAppTest, BlockedSinkAndSourceApplyBackpressure) {
  serve<TcpEcho>(kEchoPort);
  // More than every buffer on the way holds together (two send and two receive buffers of
  // tcp.*_buffer_bytes each, plus the echo app's), so standard input must stop being read.
  const StackConfig defaults;
  const std::size_t in_flight_max =
      2 * (defaults.tcp.send_buffer_bytes + defaults.tcp.receive_buffer_bytes) + (1 << 20);
  const ByteVector data = random_bytes(in_flight_max + (1 << 20), 5);
  MemorySource source(data);
  MemorySink sink;
  sink.set_blocked(true);
  ConnectApp& app = connect_to(kEchoPort, source, sink);
  run_for(Duration::seconds(20));
  EXPECT_FALSE(app.done());
  EXPECT_LT(source.consumed(), data.size());  // standard input is not read without bound
  EXPECT_TRUE(app.wants_sink());
  sink.set_blocked(false);
  source.set_blocked(true);
  run_for(Duration::seconds(5));
  EXPECT_FALSE(app.done());
  source.set_blocked(false);
  ASSERT_TRUE(run_until([&] { return app.done(); }));
  EXPECT_EQ(app.exit_status(), 0) << app.error();
  EXPECT_TRUE(sink.data() == data);
}

TEST_F(ConnectAppTest, RefusedWhenNothingListens) {
  MemorySource source(bytes_of("hello"));
  MemorySink sink;
  ConnectApp& app = connect_to(4242, source, sink);
  ASSERT_TRUE(run_until([&] { return app.done(); }));
  EXPECT_EQ(app.exit_status(), 1);
  EXPECT_NE(app.error().find("connection refused"), std::string::npos) << app.error();
  EXPECT_NE(app.error().find("10.0.0.2:4242"), std::string::npos) << app.error();
}

TEST_F(ConnectAppTest, ServerClosingFirstStillEndsAfterOurInput) {
  // Discard closes after our FIN; the app is done once both FINs are exchanged.
  serve<TcpDiscard>(kDiscardPort);
  MemorySource source(random_bytes(100'000, 6));
  MemorySink sink;
  ConnectApp& app = connect_to(kDiscardPort, source, sink);
  ASSERT_TRUE(run_until([&] { return app.done(); }));
  EXPECT_EQ(app.exit_status(), 0) << app.error();
  EXPECT_TRUE(sink.data().empty());
  EXPECT_EQ(app.counters().bytes_sent, 100'000u);
}

}  // namespace
}  // namespace tapstack::apps
