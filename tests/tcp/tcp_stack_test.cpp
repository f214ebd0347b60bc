// TCP through two whole Stacks wired back to back (tests/support/stack_pair.hpp):
// the socket API end to end, without faults: handshake, transfer both ways,
// orderly close into TIME-WAIT and CLOSED, RST for closed ports, limits.

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "stack/stack.hpp"
#include "tests/support/stack_pair.hpp"

namespace tapstack {
namespace {

using test_support::StackPair;

constexpr wire::Ipv4Address kIpB = wire::Ipv4Address::from_octets(10, 0, 0, 2);

ByteVector pattern(std::size_t n, std::uint32_t salt = 0) {
  ByteVector v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = static_cast<std::byte>((i * 131 + salt + (i >> 8)) & 0xff);
  }
  return v;
}

// Sends `data` from `from` and collects everything arriving at `to`; both sides close at the end.
struct Pump {
  Stack& from;
  TcpSocketId out;
  Stack& to;
  TcpSocketId in;
  const ByteVector& data;
  std::size_t sent = 0;
  ByteVector received;
  bool eof = false;

  void step() {
    while (sent < data.size()) {
      auto n = from.tcp_send(out, Bytes{data}.subspan(sent));
      if (!n.ok()) {
        break;
      }
      sent += *n;
    }
    if (sent == data.size()) {
      (void)from.tcp_shutdown(out);
    }
    std::array<std::byte, 65536> buf{};
    while (true) {
      auto n = to.tcp_receive(in, buf);
      if (!n.ok()) {
        break;
      }
      if (*n == 0) {
        eof = true;
        break;
      }
      received.insert(received.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
  }
};

TEST(TcpStack, HandshakeTransferAndClose) {
  StackPair pair;
  auto listener = pair.b().tcp_listen(80, 8);
  ASSERT_TRUE(listener.ok());
  auto client = pair.a().tcp_connect(kIpB, 80);
  ASSERT_TRUE(client.ok());
  std::optional<TcpSocketId> server;
  ASSERT_TRUE(pair.run_until([&] {
    if (!server) {
      if (auto s = pair.b().tcp_accept(*listener); s.ok()) {
        server = *s;
      }
    }
    return server.has_value() && pair.a().tcp_info(*client)->state == TcpState::Established;
  }));
  EXPECT_TRUE(pair.a().tcp_take_events(*client) & tcp_event::Connected);
  EXPECT_EQ(pair.b().tcp_info(*server)->state, TcpState::Established);

  const ByteVector up = pattern(1'000'000, 1);
  const ByteVector down = pattern(700'001, 2);
  Pump a_to_b{pair.a(), *client, pair.b(), *server, up, 0, {}, false};
  Pump b_to_a{pair.b(), *server, pair.a(), *client, down, 0, {}, false};
  ASSERT_TRUE(pair.run_until([&] { return a_to_b.eof && b_to_a.eof; }, Duration::seconds(600),
                             [&] {
                               a_to_b.step();
                               b_to_a.step();
                             }));
  EXPECT_EQ(a_to_b.received, up);
  EXPECT_EQ(b_to_a.received, down);
  ASSERT_TRUE(pair.run_until([&] {
    return pair.a().tcp_info(*client)->state == TcpState::TimeWait ||
           pair.a().tcp_info(*client)->state == TcpState::Closed;
  }));
  ASSERT_TRUE(pair.run_until([&] { return pair.b().tcp_info(*server)->state == TcpState::Closed; }));
  EXPECT_EQ(pair.a().tcp_counters().retransmissions, 0U);
  EXPECT_EQ(pair.b().tcp_counters().retransmissions, 0U);
  // TIME-WAIT lasts 2 * MSL, then the TCB is gone.
  EXPECT_TRUE(pair.run_until([&] { return pair.a().tcp_info(*client)->state == TcpState::Closed; },
                             Duration::seconds(61)));
  EXPECT_TRUE(pair.a().tcp_close(*client).ok());
  EXPECT_TRUE(pair.b().tcp_close(*server).ok());
  EXPECT_EQ(pair.a().tcp_connections(), 0U);
  EXPECT_EQ(pair.b().tcp_connections(), 0U);
}

TEST(TcpStack, ClosedPortIsRefused) {
  StackPair pair;
  auto client = pair.a().tcp_connect(kIpB, 81);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(pair.run_until([&] { return pair.a().tcp_info(*client)->error.has_value(); }));
  EXPECT_EQ(*pair.a().tcp_info(*client)->error, SocketError::ConnectionRefused);
  EXPECT_TRUE(pair.a().tcp_take_events(*client) & tcp_event::Refused);
  EXPECT_EQ(pair.b().tcp_counters().rx_closed_port, 1U);
  EXPECT_EQ(pair.b().tcp_counters().tx_rst, 1U);
}

}  // namespace
}  // namespace tapstack
