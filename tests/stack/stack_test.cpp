// The IPv4 host (stack/stack.hpp): frames go in through receive(), frames come
// out of a link::QueueDevice. Suites by concern: config, Ethernet dispatch,
// ARP, IPv4 input, ICMP, UDP, reassembly and fragmentation, transmit queue,
// counters. Every drop counter and every limit has a test that hits it.

#include "stack/stack.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "stack/wire/arp.hpp"
#include "stack/wire/checksum.hpp"
#include "stack/wire/ethernet.hpp"
#include "stack/wire/icmp.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/udp.hpp"

namespace tapstack {
namespace {

using wire::ArpOperation;
using wire::ArpRepr;
using wire::EtherType;
using wire::IpProtocol;
using wire::Ipv4Address;
using wire::Ipv4Repr;
using wire::MacAddress;

constexpr MacAddress kOurMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
constexpr MacAddress kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
constexpr MacAddress kOtherMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x03}};
constexpr MacAddress kGatewayMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0xfe}};
constexpr MacAddress kZeroMac{};
constexpr Ipv4Address kOurIp = Ipv4Address::from_octets(10, 0, 0, 1);
constexpr Ipv4Address kPeerIp = Ipv4Address::from_octets(10, 0, 0, 2);
constexpr Ipv4Address kOtherIp = Ipv4Address::from_octets(10, 0, 0, 3);
constexpr Ipv4Address kGatewayIp = Ipv4Address::from_octets(10, 0, 0, 254);
constexpr Ipv4Address kSubnetBroadcast = Ipv4Address::from_octets(10, 0, 0, 255);
constexpr Ipv4Address kRemoteIp = Ipv4Address::from_octets(192, 0, 2, 7);

StackConfig default_config() {
  StackConfig config;
  config.interface.mac = kOurMac;
  config.interface.address = kOurIp;
  config.interface.prefix_len = 24;
  config.interface.gateway = kGatewayIp;
  return config;
}

ByteVector pattern(std::size_t len, std::uint8_t salt = 0) {
  ByteVector out(len);
  for (std::size_t i = 0; i < len; ++i) {
    out[i] = static_cast<std::byte>((i * 7 + 3 + salt) & 0xff);
  }
  return out;
}

// ---- building frames ----

ByteVector ethernet(MacAddress dst, MacAddress src, EtherType type, Bytes payload) {
  const wire::EthernetRepr eth{dst, src, type, std::nullopt};
  ByteVector frame(eth.header_len() + payload.size());
  eth.emit(frame);
  std::copy(payload.begin(), payload.end(), frame.begin() + static_cast<std::ptrdiff_t>(eth.header_len()));
  return frame;
}

ByteVector arp_packet(ArpOperation op, MacAddress sender_mac, Ipv4Address sender_ip, MacAddress target_mac,
                      Ipv4Address target_ip) {
  const ArpRepr arp{op, sender_mac, sender_ip, target_mac, target_ip};
  ByteVector out(ArpRepr::buffer_len());
  arp.emit(out);
  return out;
}

ByteVector arp_frame(ArpOperation op, MacAddress sender_mac, Ipv4Address sender_ip, MacAddress target_mac,
                     Ipv4Address target_ip, MacAddress eth_dst = MacAddress::broadcast()) {
  return ethernet(eth_dst, sender_mac, EtherType::Arp,
                  as_bytes(arp_packet(op, sender_mac, sender_ip, target_mac, target_ip)));
}

struct Ip {
  Ipv4Address src = kPeerIp;
  Ipv4Address dst = kOurIp;
  IpProtocol protocol = IpProtocol::Icmp;
  std::uint8_t ttl = 64;
  std::uint16_t id = 0x1234;
  bool more_fragments = false;
  std::uint16_t offset = 0;
  wire::Ipv4Options options;
};

ByteVector ipv4(const Ip& ip, Bytes payload);

// A UDP datagram header from us to the peer, as an ICMP error would quote it.
Ip our_udp_header() {
  Ip ip;
  ip.src = kOurIp;
  ip.dst = kPeerIp;
  ip.protocol = IpProtocol::Udp;
  return ip;
}

ByteVector ipv4(const Ip& ip, Bytes payload) {
  Ipv4Repr header;
  header.source = ip.src;
  header.destination = ip.dst;
  header.protocol = ip.protocol;
  header.ttl = ip.ttl;
  header.identification = ip.id;
  header.more_fragments = ip.more_fragments;
  header.fragment_offset = ip.offset;
  header.options = ip.options;
  header.payload_len = static_cast<std::uint16_t>(payload.size());
  ByteVector out(header.buffer_len());
  header.emit(out);
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(header.header_len()));
  return out;
}

ByteVector icmp(const wire::IcmpRepr& repr) {
  ByteVector out(repr.buffer_len());
  repr.emit(out);
  return out;
}

ByteVector echo_request(std::uint16_t id, std::uint16_t seq, Bytes data) {
  return icmp(wire::IcmpRepr{wire::IcmpEchoRequest{id, seq, data}});
}

ByteVector echo_reply(std::uint16_t id, std::uint16_t seq, Bytes data) {
  return icmp(wire::IcmpRepr{wire::IcmpEchoReply{id, seq, data}});
}

ByteVector udp(std::uint16_t src_port, std::uint16_t dst_port, Bytes payload, Ipv4Address src = kPeerIp,
               Ipv4Address dst = kOurIp) {
  const wire::UdpRepr repr{src_port, dst_port, payload.size(), true};
  ByteVector out(repr.buffer_len());
  std::copy(payload.begin(), payload.end(), out.begin() + 8);
  repr.emit(out, src, dst);
  return out;
}

ByteVector ip_frame(const Ip& ip, Bytes payload, MacAddress eth_dst = kOurMac, MacAddress eth_src = kPeerMac) {
  return ethernet(eth_dst, eth_src, EtherType::Ipv4, as_bytes(ipv4(ip, payload)));
}

// Splits an IP payload into RFC 791 fragments of at most `mtu` bytes (no options).
std::vector<ByteVector> fragment_frames(const Ip& base, Bytes payload, std::size_t mtu = 1500) {
  const std::size_t per = (mtu - 20) & ~std::size_t{7};
  std::vector<ByteVector> frames;
  for (std::size_t at = 0; at < payload.size(); at += per) {
    Ip ip = base;
    const std::size_t len = std::min(per, payload.size() - at);
    ip.offset = static_cast<std::uint16_t>(at);
    ip.more_fragments = at + len < payload.size();
    frames.push_back(ip_frame(ip, payload.subspan(at, len)));
  }
  return frames;
}

// ---- reading what the stack sent ----

struct SentArp {
  wire::EthernetRepr eth;
  ArpRepr arp;
};

struct SentIp {
  wire::EthernetRepr eth;
  Ipv4Repr ip;
  ByteVector header;   // as sent
  ByteVector payload;  // exactly payload_len bytes
};

std::optional<SentArp> parse_arp(const ByteVector& frame) {
  auto eth = wire::EthernetView::parse(as_bytes(frame));
  if (!eth.ok() || eth->ethertype() != EtherType::Arp) {
    return std::nullopt;
  }
  auto arp = wire::ArpView::parse(eth->payload());
  if (!arp.ok()) {
    return std::nullopt;
  }
  return SentArp{wire::EthernetRepr::parse(*eth), ArpRepr::parse(*arp)};
}

// Every IPv4 frame the stack sends must parse with a valid header checksum.
std::optional<SentIp> parse_ip(const ByteVector& frame) {
  auto eth = wire::EthernetView::parse(as_bytes(frame));
  if (!eth.ok() || eth->ethertype() != EtherType::Ipv4) {
    return std::nullopt;
  }
  auto view = wire::Ipv4View::parse(eth->payload());
  if (!view.ok()) {
    return std::nullopt;
  }
  auto repr = Ipv4Repr::parse(*view, wire::ChecksumCheck::Verify);
  if (!repr.ok()) {
    return std::nullopt;
  }
  return SentIp{wire::EthernetRepr::parse(*eth), *repr, ByteVector(view->header().begin(), view->header().end()),
                ByteVector(view->payload().begin(), view->payload().end())};
}

// Reassembles fragments the stack sent (in any order) into one IP payload; checks each fragment.
std::optional<ByteVector> reassemble(const std::vector<SentIp>& fragments, std::size_t mtu) {
  std::map<std::uint16_t, const SentIp*> by_offset;
  for (const SentIp& f : fragments) {
    EXPECT_LE(f.ip.buffer_len(), mtu);
    EXPECT_EQ(f.ip.identification, fragments.front().ip.identification);
    by_offset[f.ip.fragment_offset] = &f;
  }
  ByteVector whole;
  for (const auto& [offset, f] : by_offset) {
    if (offset != whole.size()) {
      return std::nullopt;
    }
    whole.insert(whole.end(), f->payload.begin(), f->payload.end());
    const bool last = offset == by_offset.rbegin()->first;
    EXPECT_EQ(f->ip.more_fragments, !last);
    if (!last) {
      EXPECT_EQ(f->payload.size() % 8, 0u);
    }
  }
  return whole;
}

// ---- the fixture ----

class StackTest : public ::testing::Test {
 protected:
  StackTest() { reset(default_config()); }

  void reset(StackConfig config, link::QueueDeviceConfig device_config = {}) {
    stack_.reset();
    device_config.mac = config.interface.mac;
    device_config.mtu = std::max(device_config.mtu, config.interface.mtu);
    device_ = std::make_unique<link::QueueDevice>(device_config);
    stack_ = std::make_unique<Stack>(config, *device_, 42);
  }

  // The first poll (gratuitous ARP); its frames are discarded.
  Instant start() {
    const Instant next = stack_->poll(now_);
    device_->clear_transmitted();
    return next;
  }

  void advance(Duration d) { now_ += d; }
  Instant poll() { return stack_->poll(now_); }
  void inject(const ByteVector& frame) { stack_->receive(as_bytes(frame), now_); }

  std::vector<ByteVector> sent() {
    std::vector<ByteVector> out;
    while (auto frame = device_->pop_transmitted()) {
      out.push_back(std::move(*frame));
    }
    return out;
  }

  SentIp sent_one_ip() {
    auto frames = sent();
    EXPECT_EQ(frames.size(), 1u);
    if (frames.empty()) {
      return {};
    }
    auto ip = parse_ip(frames.front());
    EXPECT_TRUE(ip.has_value());
    return ip.value_or(SentIp{});
  }

  std::vector<SentIp> sent_ips() {
    std::vector<SentIp> out;
    for (const ByteVector& frame : sent()) {
      auto ip = parse_ip(frame);
      EXPECT_TRUE(ip.has_value());
      if (ip) {
        out.push_back(*ip);
      }
    }
    return out;
  }

  // The peer asks for our address: the stack creates its entry and answers.
  void learn(MacAddress mac = kPeerMac, Ipv4Address ip = kPeerIp) {
    inject(arp_frame(ArpOperation::Request, mac, ip, kZeroMac, kOurIp));
    device_->clear_transmitted();
  }

  std::uint64_t counter(std::string_view name) const {
    auto value = stack_->counter(name);
    EXPECT_TRUE(value.has_value()) << "no counter " << name;
    return value.value_or(0);
  }

  std::map<std::string, std::uint64_t> snapshot() const {
    std::map<std::string, std::uint64_t> out;
    stack_->visit_counters([&](std::string_view name, std::uint64_t value) { out[std::string(name)] = value; });
    return out;
  }

  // The frame is dropped: nothing is sent and `name` goes up by exactly one.
  void expect_dropped(const ByteVector& frame, std::string_view name) {
    const std::uint64_t before = counter(name);
    inject(frame);
    EXPECT_EQ(counter(name), before + 1) << name;
    EXPECT_TRUE(sent().empty()) << "a frame was sent for a drop counted as " << name;
  }

  UdpSocketId bind(std::uint16_t port) {
    auto socket = stack_->udp_bind(port);
    EXPECT_TRUE(socket.ok());
    return socket.ok() ? *socket : 0;
  }

  Instant now_ = Instant::epoch() + Duration::seconds(100);
  std::unique_ptr<link::QueueDevice> device_;
  std::unique_ptr<Stack> stack_;
};

// ================= config =================

TEST(StackConfigTest, DefaultsWithAnAddressValidate) { EXPECT_TRUE(default_config().validate().ok()); }

TEST(StackConfigTest, ErrorsNameTheField) {
  struct Case {
    std::function<void(StackConfig&)> change;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](StackConfig& c) { c.interface.mac = MacAddress{}; }, "interface.mac"},
      {[](StackConfig& c) { c.interface.mac = MacAddress::broadcast(); }, "interface.mac"},
      {[](StackConfig& c) { c.interface.address = Ipv4Address::any(); }, "interface.address"},
      {[](StackConfig& c) { c.interface.address = kSubnetBroadcast; }, "interface.address"},
      {[](StackConfig& c) { c.interface.prefix_len = 33; }, "interface.prefix_len"},
      {[](StackConfig& c) { c.interface.gateway = kRemoteIp; }, "interface.gateway"},
      {[](StackConfig& c) { c.interface.gateway = kOurIp; }, "interface.gateway"},
      {[](StackConfig& c) { c.interface.mtu = 67; }, "interface.mtu"},
      {[](StackConfig& c) { c.interface.multicast_macs = {kPeerMac}; }, "interface.multicast_macs"},
      {[](StackConfig& c) { c.default_ttl = 0; }, "default_ttl"},
      {[](StackConfig& c) { c.tx_queue_frames_max = 0; }, "tx_queue_frames_max"},
      {[](StackConfig& c) { c.tx_retry_interval = Duration::zero(); }, "tx_retry_interval"},
      {[](StackConfig& c) { c.arp.cache_entries_max = 0; }, "arp.cache_entries_max"},
      {[](StackConfig& c) { c.arp.entry_lifetime = Duration::zero(); }, "arp.entry_lifetime"},
      {[](StackConfig& c) { c.arp.request_interval = Duration::zero(); }, "arp.request_interval"},
      {[](StackConfig& c) { c.arp.request_attempts_max = 0; }, "arp.request_attempts_max"},
      {[](StackConfig& c) { c.arp.pending_packets_per_neighbor_max = 0; }, "arp.pending_packets_per_neighbor_max"},
      {[](StackConfig& c) { c.arp.pending_bytes_total_max = 0; }, "arp.pending_bytes_total_max"},
      {[](StackConfig& c) { c.reassembly.timeout = Duration::zero(); }, "reassembly.timeout"},
      {[](StackConfig& c) { c.reassembly.datagrams_max = 0; }, "reassembly.datagrams_max"},
      {[](StackConfig& c) { c.reassembly.datagram_bytes_max = 575; }, "reassembly.datagram_bytes_max"},
      {[](StackConfig& c) { c.reassembly.total_bytes_max = 1000; }, "reassembly.total_bytes_max"},
      {[](StackConfig& c) { c.icmp.error_burst = 0; }, "icmp.error_burst"},
      {[](StackConfig& c) { c.icmp.echo_replies_queued_max = 0; }, "icmp.echo_replies_queued_max"},
      {[](StackConfig& c) { c.udp.sockets_max = 0; }, "udp.sockets_max"},
      {[](StackConfig& c) { c.udp.receive_queue_datagrams_max = 0; }, "udp.receive_queue_datagrams_max"},
      {[](StackConfig& c) { c.udp.receive_queue_bytes_max = 0; }, "udp.receive_queue_bytes_max"},
  };
  for (const Case& c : cases) {
    StackConfig config = default_config();
    c.change(config);
    auto result = config.validate();
    ASSERT_FALSE(result.ok()) << c.field;
    EXPECT_EQ(result.error().rfind(c.field, 0), 0u) << result.error();
  }
}

TEST(StackConfigTest, SubnetBroadcastAndOnLink) {
  InterfaceConfig i;
  i.address = kOurIp;
  i.prefix_len = 24;
  EXPECT_EQ(i.subnet_broadcast(), kSubnetBroadcast);
  EXPECT_TRUE(i.on_link(kGatewayIp));
  EXPECT_FALSE(i.on_link(kRemoteIp));
  i.prefix_len = 31;  // RFC 3021: no directed broadcast
  EXPECT_EQ(i.subnet_broadcast(), Ipv4Address::broadcast());
  i.prefix_len = 0;
  EXPECT_TRUE(i.on_link(kRemoteIp));
  EXPECT_EQ(i.subnet_broadcast(), Ipv4Address::broadcast());
}

TEST(StackConfigTest, ConstructorRejectsInvalidConfigAndOversizedMtu) {
  link::QueueDevice device;
  StackConfig bad = default_config();
  bad.arp.request_attempts_max = 0;
  EXPECT_THROW(Stack(bad, device, 1), std::invalid_argument);
  StackConfig big = default_config();
  big.interface.mtu = 9000;  // the device's MTU is 1500
  EXPECT_THROW(Stack(big, device, 1), std::invalid_argument);
}

// ================= Ethernet dispatch =================

TEST_F(StackTest, FirstPollSendsGratuitousArp) {
  poll();
  auto frames = sent();
  ASSERT_EQ(frames.size(), 1u);
  auto arp = parse_arp(frames[0]);
  ASSERT_TRUE(arp.has_value());
  EXPECT_EQ(arp->eth.destination, MacAddress::broadcast());
  EXPECT_EQ(arp->eth.source, kOurMac);
  EXPECT_EQ(arp->arp, (ArpRepr{ArpOperation::Request, kOurMac, kOurIp, kZeroMac, kOurIp}));
  EXPECT_EQ(frames[0].size(), Stack::kEthernetFrameMin);  // padded to the Ethernet minimum
  // Once only; announce() asks for another at the next poll.
  poll();
  EXPECT_TRUE(sent().empty());
  stack_->announce();
  poll();
  EXPECT_EQ(sent().size(), 1u);
  EXPECT_EQ(counter("arp.requests_sent"), 2u);
}

TEST_F(StackTest, DropsFramesNotForUs) {
  start();
  const ByteVector request = arp_packet(ArpOperation::Request, kPeerMac, kPeerIp, kZeroMac, kOurIp);
  expect_dropped(ethernet(kOtherMac, kPeerMac, EtherType::Arp, as_bytes(request)), "eth.rx_not_for_us");
  expect_dropped(ethernet(MacAddress{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}}, kPeerMac, EtherType::Arp,
                          as_bytes(request)),
                 "eth.rx_multicast_not_joined");
  expect_dropped(ethernet(kOurMac, kOurMac, EtherType::Arp, as_bytes(request)), "eth.rx_own_source");
  expect_dropped(ethernet(kOurMac, kPeerMac, EtherType::Ipv6, as_bytes(request)), "eth.rx_unknown_ethertype");
  expect_dropped(ethernet(kOurMac, kPeerMac, static_cast<EtherType>(0x88b5), as_bytes(request)),
                 "eth.rx_unknown_ethertype");
  expect_dropped(ByteVector(10, std::byte{0xff}), "eth.rx_malformed");
  // 802.1Q tagged: this interface is untagged.
  wire::EthernetRepr tagged{kOurMac, kPeerMac, EtherType::Arp, 5};
  ByteVector frame(tagged.header_len() + request.size());
  tagged.emit(frame);
  std::copy(request.begin(), request.end(), frame.begin() + 18);
  expect_dropped(frame, "eth.rx_vlan_tagged");
  EXPECT_EQ(counter("eth.rx_frames"), 7u);
}

TEST_F(StackTest, AcceptsJoinedMulticastGroup) {
  StackConfig config = default_config();
  const MacAddress group{{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}};
  config.interface.multicast_macs = {group};
  reset(config);
  start();
  inject(arp_frame(ArpOperation::Request, kPeerMac, kPeerIp, kZeroMac, kOurIp, group));
  auto frames = sent();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(parse_arp(frames[0])->arp.operation, ArpOperation::Reply);
  EXPECT_EQ(counter("eth.rx_multicast_not_joined"), 0u);
}

// ================= ARP =================

TEST_F(StackTest, AnswersRequestForOurAddressAndLearnsTheSender) {
  start();
  inject(arp_frame(ArpOperation::Request, kPeerMac, kPeerIp, kZeroMac, kOurIp));
  auto frames = sent();
  ASSERT_EQ(frames.size(), 1u);
  auto reply = parse_arp(frames[0]);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->eth.destination, kPeerMac);
  EXPECT_EQ(reply->eth.source, kOurMac);
  EXPECT_EQ(reply->arp, (ArpRepr{ArpOperation::Reply, kOurMac, kOurIp, kPeerMac, kPeerIp}));
  EXPECT_EQ(stack_->arp_cache().lookup(kPeerIp, now_), kPeerMac);
  EXPECT_EQ(counter("arp.requests_received"), 1u);
  EXPECT_EQ(counter("arp.replies_sent"), 1u);
}

TEST_F(StackTest, RequestForAnotherAddressOnlyUpdatesExistingEntries) {
  start();
  expect_dropped(arp_frame(ArpOperation::Request, kPeerMac, kPeerIp, kZeroMac, kOtherIp), "arp.rx_other_target");
  EXPECT_FALSE(stack_->arp_cache().lookup(kPeerIp, now_).has_value());  // RFC 826: not created
  learn();
  // The peer moved to another MAC and asks for someone else: the merge updates our entry.
  inject(arp_frame(ArpOperation::Request, kOtherMac, kPeerIp, kZeroMac, kOtherIp));
  EXPECT_EQ(stack_->arp_cache().lookup(kPeerIp, now_), kOtherMac);
  EXPECT_TRUE(sent().empty());
}

TEST_F(StackTest, ArpDropCounters) {
  start();
  ByteVector truncated = arp_packet(ArpOperation::Request, kPeerMac, kPeerIp, kZeroMac, kOurIp);
  truncated.resize(20);
  expect_dropped(ethernet(kOurMac, kPeerMac, EtherType::Arp, as_bytes(truncated)), "arp.rx_truncated");
  ByteVector unsupported = arp_packet(ArpOperation::Request, kPeerMac, kPeerIp, kZeroMac, kOurIp);
  unsupported[1] = std::byte{6};  // hardware type IEEE 802
  expect_dropped(ethernet(kOurMac, kPeerMac, EtherType::Arp, as_bytes(unsupported)), "arp.rx_unsupported");
  expect_dropped(arp_frame(static_cast<ArpOperation>(3), kPeerMac, kPeerIp, kZeroMac, kOurIp),
                 "arp.rx_unknown_operation");
  const ByteVector group_sender = arp_packet(ArpOperation::Request, MacAddress::broadcast(), kPeerIp, kZeroMac, kOurIp);
  expect_dropped(ethernet(kOurMac, kPeerMac, EtherType::Arp, as_bytes(group_sender)), "arp.rx_bad_sender");
  const ByteVector own = arp_packet(ArpOperation::Request, kOurMac, kPeerIp, kZeroMac, kOurIp);
  expect_dropped(ethernet(kOurMac, kPeerMac, EtherType::Arp, as_bytes(own)), "arp.rx_own_echo");
  EXPECT_EQ(stack_->arp_cache().size(), 0u);
}

TEST_F(StackTest, NeverLearnsOurOwnAddressFromOthers) {
  start();
  // A gratuitous ARP from another host claiming our address.
  inject(arp_frame(ArpOperation::Request, kOtherMac, kOurIp, kZeroMac, kOurIp));
  EXPECT_EQ(counter("arp.conflicting_own_address"), 1u);
  EXPECT_FALSE(stack_->arp_cache().lookup(kOurIp, now_).has_value());
}

TEST_F(StackTest, AnswersProbeWithoutLearning) {
  start();
  // RFC 5227 probe: sender IP 0.0.0.0.
  inject(arp_frame(ArpOperation::Request, kPeerMac, Ipv4Address::any(), kZeroMac, kOurIp));
  auto frames = sent();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(parse_arp(frames[0])->arp, (ArpRepr{ArpOperation::Reply, kOurMac, kOurIp, kPeerMac, Ipv4Address::any()}));
  EXPECT_EQ(stack_->arp_cache().size(), 0u);
}

TEST_F(StackTest, ResolvesNextHopAndReleasesQueuedDatagrams) {
  start();
  const UdpSocketId socket = bind(5000);
  const ByteVector payload = pattern(100);
  ASSERT_TRUE(stack_->udp_send_to(socket, kPeerIp, 7, as_bytes(payload)).ok());
  auto frames = sent();
  ASSERT_EQ(frames.size(), 1u);
  auto request = parse_arp(frames[0]);
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->eth.destination, MacAddress::broadcast());
  EXPECT_EQ(request->arp, (ArpRepr{ArpOperation::Request, kOurMac, kOurIp, kZeroMac, kPeerIp}));
  EXPECT_GT(stack_->memory_held(), 0u);

  inject(arp_frame(ArpOperation::Reply, kPeerMac, kPeerIp, kOurMac, kOurIp, kOurMac));
  const SentIp datagram = sent_one_ip();
  EXPECT_EQ(datagram.eth.destination, kPeerMac);
  EXPECT_EQ(datagram.ip.destination, kPeerIp);
  EXPECT_EQ(datagram.ip.protocol, IpProtocol::Udp);
  EXPECT_EQ(stack_->memory_held(), 0u);
  EXPECT_EQ(counter("arp.replies_received"), 1u);
}

TEST_F(StackTest, RetriesArpRequestsThenGivesUp) {
  start();
  const UdpSocketId socket = bind(5000);
  const ByteVector payload = pattern(10);
  ASSERT_TRUE(stack_->udp_send_to(socket, kPeerIp, 7, as_bytes(payload)).ok());
  EXPECT_EQ(sent().size(), 1u);
  Instant next = poll();
  EXPECT_EQ(next, now_ + Duration::seconds(1));
  for (int retry = 0; retry < 2; ++retry) {
    now_ = next;
    next = poll();
    auto frames = sent();
    ASSERT_EQ(frames.size(), 1u) << retry;
    EXPECT_EQ(parse_arp(frames[0])->arp.target_ip, kPeerIp);
  }
  now_ = next;
  next = poll();
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(counter("arp.pending_dropped_give_up"), 1u);
  EXPECT_EQ(counter("arp.resolution_failures"), 1u);
  EXPECT_EQ(counter("arp.requests_sent"), 4u);  // gratuitous + 3 attempts
  EXPECT_EQ(next, Instant::never());
  EXPECT_EQ(stack_->memory_held(), 0u);
}

TEST_F(StackTest, PendingQueuePerNeighborKeepsTheLatest) {
  StackConfig config = default_config();
  config.arp.pending_packets_per_neighbor_max = 2;
  reset(config);
  start();
  const UdpSocketId socket = bind(5000);
  for (std::uint8_t i = 0; i < 3; ++i) {
    const ByteVector payload(10, std::byte{i});
    ASSERT_TRUE(stack_->udp_send_to(socket, kPeerIp, 7, as_bytes(payload)).ok());
  }
  EXPECT_EQ(counter("arp.pending_dropped_overflow"), 1u);
  sent();
  inject(arp_frame(ArpOperation::Reply, kPeerMac, kPeerIp, kOurMac, kOurIp, kOurMac));
  auto released = sent_ips();
  ASSERT_EQ(released.size(), 2u);
  EXPECT_EQ(released[0].payload[8], std::byte{1});  // RFC 1122 2.3.2.2: the oldest was dropped
  EXPECT_EQ(released[1].payload[8], std::byte{2});
}

TEST_F(StackTest, PendingBytesLimit) {
  StackConfig config = default_config();
  config.arp.pending_bytes_total_max = 1000;
  reset(config);
  start();
  const UdpSocketId socket = bind(5000);
  const ByteVector big = pattern(1200);  // one 1228-byte datagram: over the limit
  ASSERT_TRUE(stack_->udp_send_to(socket, kPeerIp, 7, as_bytes(big)).ok());
  EXPECT_EQ(counter("arp.pending_dropped_memory"), 1u);
  EXPECT_LE(stack_->memory_held(), 1000u);
}

TEST_F(StackTest, CacheSizeLimitEvictsLeastRecentlyUsed) {
  StackConfig config = default_config();
  config.arp.cache_entries_max = 2;
  reset(config);
  start();
  learn(kPeerMac, kPeerIp);
  learn(kOtherMac, kOtherIp);
  learn(kGatewayMac, kGatewayIp);
  EXPECT_EQ(counter("arp.entries_evicted"), 1u);
  EXPECT_EQ(stack_->arp_cache().size(), 2u);
  EXPECT_FALSE(stack_->arp_cache().lookup(kPeerIp, now_).has_value());
}

TEST_F(StackTest, EntryLifetimeExpires) {
  start();
  learn();
  const UdpSocketId socket = bind(5000);
  const ByteVector payload = pattern(10);
  // Socket calls take no time: the stack knows the time from its last receive() or poll().
  advance(Duration::seconds(59));
  poll();
  ASSERT_TRUE(stack_->udp_send_to(socket, kPeerIp, 7, as_bytes(payload)).ok());
  EXPECT_EQ(sent_one_ip().eth.destination, kPeerMac);
  advance(Duration::seconds(1));
  poll();
  ASSERT_TRUE(stack_->udp_send_to(socket, kPeerIp, 7, as_bytes(payload)).ok());
  auto frames = sent();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(parse_arp(frames[0]).has_value());  // resolving again
  EXPECT_EQ(counter("arp.entries_expired"), 1u);
}

// ================= routing =================

TEST_F(StackTest, OffLinkGoesThroughTheGateway) {
  start();
  learn(kGatewayMac, kGatewayIp);
  const UdpSocketId socket = bind(5000);
  const ByteVector payload = pattern(10);
  ASSERT_TRUE(stack_->udp_send_to(socket, kRemoteIp, 53, as_bytes(payload)).ok());
  const SentIp datagram = sent_one_ip();
  EXPECT_EQ(datagram.eth.destination, kGatewayMac);
  EXPECT_EQ(datagram.ip.destination, kRemoteIp);
  EXPECT_EQ(datagram.ip.ttl, 64);
}

TEST_F(StackTest, NoRouteWithoutGateway) {
  StackConfig config = default_config();
  config.interface.gateway.reset();
  reset(config);
  start();
  const UdpSocketId socket = bind(5000);
  const ByteVector payload = pattern(10);
  auto sent_result = stack_->udp_send_to(socket, kRemoteIp, 53, as_bytes(payload));
  ASSERT_FALSE(sent_result.ok());
  EXPECT_EQ(sent_result.error(), SocketError::NoRoute);
  EXPECT_EQ(counter("ip.tx_no_route"), 1u);
  auto to_self = stack_->udp_send_to(socket, kOurIp, 53, as_bytes(payload));
  ASSERT_FALSE(to_self.ok());
  EXPECT_EQ(to_self.error(), SocketError::NoRoute);
  EXPECT_TRUE(sent().empty());
}

TEST_F(StackTest, BroadcastNeedsNoResolution) {
  start();
  const UdpSocketId socket = bind(5000);
  const ByteVector payload = pattern(10);
  ASSERT_TRUE(stack_->udp_send_to(socket, Ipv4Address::broadcast(), 9, as_bytes(payload)).ok());
  ASSERT_TRUE(stack_->udp_send_to(socket, kSubnetBroadcast, 9, as_bytes(payload)).ok());
  auto frames = sent_ips();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].eth.destination, MacAddress::broadcast());
  EXPECT_EQ(frames[1].eth.destination, MacAddress::broadcast());
  EXPECT_EQ(frames[1].ip.destination, kSubnetBroadcast);
}

// ================= IPv4 input =================

TEST_F(StackTest, Ipv4DropCounters) {
  start();
  learn();
  const ByteVector ping = echo_request(1, 1, as_bytes(pattern(8)));
  const ByteVector good = ip_frame(Ip{}, as_bytes(ping));
  auto mutate = [&](auto change) {
    ByteVector frame = good;
    change(frame);
    return frame;
  };
  ByteVector tiny = ethernet(kOurMac, kPeerMac, EtherType::Ipv4, as_bytes(ByteVector(10, std::byte{0x45})));
  expect_dropped(tiny, "ip.rx_truncated");
  expect_dropped(mutate([](ByteVector& f) { f[14] = std::byte{0x65}; }), "ip.rx_bad_version");
  expect_dropped(mutate([](ByteVector& f) { f[14] = std::byte{0x44}; }), "ip.rx_bad_header_length");
  expect_dropped(mutate([](ByteVector& f) { store_be16(f, 16, 2000); }), "ip.rx_bad_total_length");
  expect_dropped(mutate([](ByteVector& f) { f[24] ^= std::byte{0x01}; }), "ip.rx_bad_checksum");
  Ip beyond;
  beyond.offset = 65528;  // + 16 payload bytes > 65535
  expect_dropped(ip_frame(beyond, as_bytes(ping)), "ip.rx_bad_fragment");
  Ip ttl0;
  ttl0.ttl = 0;
  expect_dropped(ip_frame(ttl0, as_bytes(ping)), "ip.rx_ttl_zero");
  for (Ipv4Address source : {Ipv4Address::broadcast(), Ipv4Address::from_octets(224, 0, 0, 1),
                             Ipv4Address::from_octets(127, 0, 0, 1), Ipv4Address::any(), kOurIp, kSubnetBroadcast}) {
    Ip ip;
    ip.src = source;
    expect_dropped(ip_frame(ip, as_bytes(ping)), "ip.rx_bad_source");
  }
  for (Ipv4Address destination : {kOtherIp, Ipv4Address::from_octets(224, 0, 0, 1), kRemoteIp}) {
    Ip ip;
    ip.dst = destination;
    expect_dropped(ip_frame(ip, as_bytes(ping)), "ip.rx_not_for_us");
  }
  expect_dropped(ip_frame(Ip{}, as_bytes(ping), MacAddress::broadcast()), "ip.rx_unicast_in_link_broadcast");
  // The good frame still works after all that.
  inject(good);
  EXPECT_EQ(sent_one_ip().ip.protocol, IpProtocol::Icmp);
}

TEST_F(StackTest, OptionsAreSkipped) {
  start();
  learn();
  Ip ip;
  const ByteVector nops = bytes_from_hex("01 01 01 00");
  ip.options = *wire::Ipv4Options::from_bytes(as_bytes(nops));
  const ByteVector data = pattern(32);
  inject(ip_frame(ip, as_bytes(echo_request(7, 8, as_bytes(data)))));
  const SentIp reply = sent_one_ip();
  EXPECT_TRUE(reply.ip.options.empty());
  EXPECT_EQ(counter("ip.rx_with_options"), 1u);
}

TEST_F(StackTest, AcceptsBroadcastDestinations) {
  start();
  const UdpSocketId socket = bind(67);
  const ByteVector payload = pattern(20);
  for (Ipv4Address destination : {Ipv4Address::broadcast(), kSubnetBroadcast}) {
    Ip ip;
    ip.dst = destination;
    ip.protocol = IpProtocol::Udp;
    inject(ip_frame(ip, as_bytes(udp(68, 67, as_bytes(payload), kPeerIp, destination)), MacAddress::broadcast()));
    auto got = stack_->udp_receive(socket);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->destination, destination);
    EXPECT_EQ(got->payload, payload);
  }
}

// ================= ICMP =================

TEST_F(StackTest, AnswersPingWithDataEchoedExactly) {
  start();
  learn();
  const ByteVector data = pattern(56);
  inject(ip_frame(Ip{}, as_bytes(echo_request(0x0b7e, 1, as_bytes(data)))));
  const SentIp reply = sent_one_ip();
  EXPECT_EQ(reply.eth.destination, kPeerMac);
  EXPECT_EQ(reply.eth.source, kOurMac);
  EXPECT_EQ(reply.ip.source, kOurIp);
  EXPECT_EQ(reply.ip.destination, kPeerIp);
  EXPECT_EQ(reply.ip.protocol, IpProtocol::Icmp);
  EXPECT_FALSE(reply.ip.more_fragments);
  EXPECT_EQ(wire::internet_checksum(as_bytes(reply.payload)), 0);
  EXPECT_EQ(reply.payload, echo_reply(0x0b7e, 1, as_bytes(data)));
  EXPECT_EQ(counter("icmp.tx_echo_replies"), 1u);
}

TEST_F(StackTest, PingFromUnresolvedPeerWaitsForArp) {
  start();
  const ByteVector data = pattern(16);
  inject(ip_frame(Ip{}, as_bytes(echo_request(1, 2, as_bytes(data)))));
  auto frames = sent();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(parse_arp(frames[0])->arp.target_ip, kPeerIp);
  inject(arp_frame(ArpOperation::Reply, kPeerMac, kPeerIp, kOurMac, kOurIp, kOurMac));
  EXPECT_EQ(sent_one_ip().payload, echo_reply(1, 2, as_bytes(data)));
}

TEST_F(StackTest, FragmentedPingIsReassembledAnsweredAndTheReplyFragmented) {
  start();
  learn();
  const ByteVector data = pattern(8000);
  const ByteVector request = echo_request(0x77, 3, as_bytes(data));
  auto fragments = fragment_frames(Ip{}, as_bytes(request));
  ASSERT_EQ(fragments.size(), 6u);
  for (const ByteVector& f : fragments) {
    inject(f);
  }
  const auto replies = sent_ips();
  ASSERT_EQ(replies.size(), 6u);
  for (const SentIp& r : replies) {
    EXPECT_EQ(r.eth.destination, kPeerMac);
    EXPECT_EQ(r.ip.destination, kPeerIp);
  }
  auto whole = reassemble(replies, 1500);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(*whole, echo_reply(0x77, 3, as_bytes(data)));
  EXPECT_EQ(counter("ip.reassembly.datagrams_reassembled"), 1u);
  EXPECT_EQ(counter("ip.tx_fragments"), 6u);
  EXPECT_EQ(stack_->memory_held(), 0u);
}

TEST_F(StackTest, FragmentsInReverseOrderAlsoComplete) {
  start();
  learn();
  const ByteVector data = pattern(3000, 9);
  auto fragments = fragment_frames(Ip{}, as_bytes(echo_request(5, 6, as_bytes(data))));
  std::reverse(fragments.begin(), fragments.end());
  for (const ByteVector& f : fragments) {
    inject(f);
  }
  auto whole = reassemble(sent_ips(), 1500);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(*whole, echo_reply(5, 6, as_bytes(data)));
}

TEST_F(StackTest, LargestPingIsAnswered) {
  start();
  learn();
  const ByteVector data = pattern(Stack::kEchoDataMax);  // a 65535-byte datagram
  for (const ByteVector& f : fragment_frames(Ip{}, as_bytes(echo_request(1, 1, as_bytes(data))))) {
    inject(f);
  }
  auto whole = reassemble(sent_ips(), 1500);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(*whole, echo_reply(1, 1, as_bytes(data)));
}

TEST_F(StackTest, PingAboveReassemblyLimitIsDropped) {
  StackConfig config = default_config();
  config.reassembly.datagram_bytes_max = 1000;
  reset(config);
  start();
  learn();
  const ByteVector data = pattern(1600);
  for (const ByteVector& f : fragment_frames(Ip{}, as_bytes(echo_request(1, 1, as_bytes(data))))) {
    inject(f);
  }
  EXPECT_TRUE(sent().empty());
  EXPECT_GE(counter("ip.reassembly.dropped_datagram_too_big"), 1u);
}

TEST_F(StackTest, IgnoresBroadcastPing) {
  start();
  Ip ip;
  ip.dst = kSubnetBroadcast;
  expect_dropped(ip_frame(ip, as_bytes(echo_request(1, 1, as_bytes(pattern(8)))), MacAddress::broadcast()),
                 "icmp.rx_echo_broadcast_ignored");
}

TEST_F(StackTest, IcmpInputCounters) {
  start();
  learn();
  expect_dropped(ip_frame(Ip{}, as_bytes(ByteVector(4, std::byte{8}))), "icmp.rx_truncated");
  ByteVector bad = echo_request(1, 1, as_bytes(pattern(8)));
  bad[10] ^= std::byte{0xff};
  expect_dropped(ip_frame(Ip{}, as_bytes(bad)), "icmp.rx_bad_checksum");
  const ByteVector quote = ipv4(our_udp_header(), as_bytes(pattern(8)));
  expect_dropped(ip_frame(Ip{}, as_bytes(icmp(wire::IcmpRepr{wire::IcmpDestinationUnreachable{
                                    wire::IcmpUnreachableCode::PortUnreachable, 0, 0, as_bytes(quote)}}))),
                 "icmp.rx_dest_unreachable");
  expect_dropped(ip_frame(Ip{}, as_bytes(icmp(wire::IcmpRepr{wire::IcmpTimeExceeded{
                                    wire::IcmpTimeExceededCode::TtlExceeded, 0, as_bytes(quote)}}))),
                 "icmp.rx_time_exceeded");
  expect_dropped(ip_frame(Ip{}, as_bytes(icmp(wire::IcmpRepr{wire::IcmpOther{wire::IcmpType::Timestamp, 0, 0,
                                                                               as_bytes(pattern(12))}}))),
                 "icmp.rx_other");
}

TEST_F(StackTest, SendsEchoRequestsAndQueuesReplies) {
  start();
  learn();
  const ByteVector data = pattern(24);
  ASSERT_TRUE(stack_->send_echo_request(kPeerIp, 9, 10, as_bytes(data)).ok());
  const SentIp request = sent_one_ip();
  EXPECT_EQ(request.payload, echo_request(9, 10, as_bytes(data)));
  EXPECT_FALSE(stack_->take_echo_reply().has_value());
  inject(ip_frame(Ip{}, as_bytes(echo_reply(9, 10, as_bytes(data)))));
  auto reply = stack_->take_echo_reply();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->source, kPeerIp);
  EXPECT_EQ(reply->id, 9);
  EXPECT_EQ(reply->seq, 10);
  EXPECT_EQ(reply->data, data);
  EXPECT_EQ(stack_->memory_held(), 0u);
  auto invalid = stack_->send_echo_request(Ipv4Address::any(), 1, 1, as_bytes(data));
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error(), SocketError::InvalidArgument);
  const ByteVector huge(Stack::kEchoDataMax + 1);
  EXPECT_EQ(stack_->send_echo_request(kPeerIp, 1, 1, as_bytes(huge)).error(), SocketError::MessageTooLong);
}

TEST_F(StackTest, EchoReplyQueueLimits) {
  StackConfig config = default_config();
  config.icmp.echo_replies_queued_max = 2;
  config.icmp.echo_reply_bytes_max = 100;
  reset(config);
  start();
  const ByteVector small = pattern(10);
  inject(ip_frame(Ip{}, as_bytes(echo_reply(1, 1, as_bytes(small)))));
  inject(ip_frame(Ip{}, as_bytes(echo_reply(1, 2, as_bytes(small)))));
  inject(ip_frame(Ip{}, as_bytes(echo_reply(1, 3, as_bytes(small)))));
  EXPECT_EQ(counter("icmp.rx_echo_reply_queue_full"), 1u);
  EXPECT_EQ(stack_->take_echo_reply()->seq, 1);
  EXPECT_EQ(stack_->take_echo_reply()->seq, 2);
  EXPECT_FALSE(stack_->take_echo_reply().has_value());
  const ByteVector big = pattern(90);
  inject(ip_frame(Ip{}, as_bytes(echo_reply(1, 4, as_bytes(big)))));
  inject(ip_frame(Ip{}, as_bytes(echo_reply(1, 5, as_bytes(small)))));  // 90 + 10 fits; more does not
  inject(ip_frame(Ip{}, as_bytes(echo_reply(1, 6, as_bytes(ByteVector(1))))));
  EXPECT_EQ(counter("icmp.rx_echo_reply_queue_full"), 2u);
}

TEST_F(StackTest, ProtocolUnreachableQuotesTheDatagram) {
  start();
  learn();
  Ip ip;
  ip.protocol = static_cast<IpProtocol>(253);  // RFC 3692 experimental
  const ByteVector payload = pattern(40);
  const ByteVector offending = ipv4(ip, as_bytes(payload));
  inject(ethernet(kOurMac, kPeerMac, EtherType::Ipv4, as_bytes(offending)));
  const SentIp error = sent_one_ip();
  EXPECT_EQ(error.ip.destination, kPeerIp);
  auto view = wire::IcmpView::parse(as_bytes(error.payload));
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->verify_checksum());
  EXPECT_EQ(view->type(), wire::IcmpType::DestinationUnreachable);
  EXPECT_EQ(view->code(), 2);
  // The whole (short) datagram is quoted, header as received.
  EXPECT_TRUE(std::ranges::equal(view->data(), offending));
  EXPECT_EQ(counter("ip.rx_unknown_protocol"), 1u);
  EXPECT_EQ(counter("icmp.tx_protocol_unreachable"), 1u);
}

TEST_F(StackTest, PortUnreachableForClosedPort) {
  start();
  learn();
  Ip ip;
  ip.protocol = IpProtocol::Udp;
  const ByteVector datagram = udp(40000, 9999, as_bytes(pattern(700)));
  const ByteVector offending = ipv4(ip, as_bytes(datagram));
  inject(ethernet(kOurMac, kPeerMac, EtherType::Ipv4, as_bytes(offending)));
  const SentIp error = sent_one_ip();
  EXPECT_LE(error.ip.buffer_len(), Stack::kIcmpErrorDatagramMax);
  auto view = wire::IcmpView::parse(as_bytes(error.payload));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->type(), wire::IcmpType::DestinationUnreachable);
  EXPECT_EQ(view->code(), 3);
  auto quote = wire::IcmpQuote::parse(view->data());
  ASSERT_TRUE(quote.ok());
  EXPECT_EQ(quote->ports(), (wire::IcmpQuote::Ports{40000, 9999}));
  // Quoted as much as fits in 576 bytes, from the start of the datagram.
  EXPECT_EQ(view->data().size(), Stack::kIcmpErrorDatagramMax - 28);
  EXPECT_TRUE(std::equal(view->data().begin(), view->data().end(), offending.begin()));
  EXPECT_EQ(counter("udp.rx_no_port"), 1u);
}

TEST_F(StackTest, NoIcmpErrorAboutBroadcasts) {
  start();
  learn();
  Ip ip;
  ip.dst = kSubnetBroadcast;
  ip.protocol = IpProtocol::Udp;
  expect_dropped(ip_frame(ip, as_bytes(udp(1, 9999, as_bytes(pattern(8)), kPeerIp, kSubnetBroadcast)),
                          MacAddress::broadcast()),
                 "icmp.errors_suppressed");
  ip.protocol = static_cast<IpProtocol>(253);
  ip.dst = Ipv4Address::broadcast();
  expect_dropped(ip_frame(ip, as_bytes(pattern(8)), MacAddress::broadcast()), "icmp.errors_suppressed");
  EXPECT_EQ(counter("udp.rx_no_port"), 1u);
  EXPECT_EQ(counter("ip.rx_unknown_protocol"), 1u);
}

TEST_F(StackTest, IcmpErrorsAreRateLimited) {
  StackConfig config = default_config();
  config.icmp.errors_per_second = 1;
  config.icmp.error_burst = 2;
  reset(config);
  start();
  learn();
  Ip ip;
  ip.protocol = IpProtocol::Udp;
  const ByteVector closed = ip_frame(ip, as_bytes(udp(1000, 9999, as_bytes(pattern(8)))));
  for (int i = 0; i < 5; ++i) {
    inject(closed);
  }
  EXPECT_EQ(sent().size(), 2u);
  EXPECT_EQ(counter("icmp.errors_rate_limited"), 3u);
  advance(Duration::seconds(1));
  inject(closed);
  inject(closed);
  EXPECT_EQ(sent().size(), 1u);
  EXPECT_EQ(counter("icmp.errors_rate_limited"), 4u);
  EXPECT_EQ(counter("icmp.tx_port_unreachable"), 3u);
}

// ================= reassembly timeouts =================

TEST_F(StackTest, ReassemblyTimeoutSendsTimeExceededWhenFirstFragmentArrived) {
  start();
  learn();
  Ip ip;
  ip.protocol = IpProtocol::Udp;
  ip.more_fragments = true;
  const ByteVector first_payload = pattern(16);
  const ByteVector first = ipv4(ip, as_bytes(first_payload));
  inject(ethernet(kOurMac, kPeerMac, EtherType::Ipv4, as_bytes(first)));
  EXPECT_TRUE(sent().empty());
  EXPECT_GT(stack_->memory_held(), 0u);
  const Instant deadline = poll();
  EXPECT_EQ(deadline, now_ + Duration::seconds(30));
  now_ = deadline;
  poll();
  const SentIp error = sent_one_ip();
  auto view = wire::IcmpView::parse(as_bytes(error.payload));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->type(), wire::IcmpType::TimeExceeded);
  EXPECT_EQ(view->code(), 1);
  // RFC 792: the first fragment's header and the first 64 bits of its data.
  EXPECT_TRUE(std::ranges::equal(view->data(), Bytes(first).first(28)));
  EXPECT_EQ(counter("icmp.tx_reassembly_time_exceeded"), 1u);
  EXPECT_EQ(counter("ip.reassembly.timeouts"), 1u);
  EXPECT_EQ(stack_->memory_held(), 0u);
}

TEST_F(StackTest, ReassemblyTimeoutWithoutFirstFragmentIsSilent) {
  start();
  learn();
  Ip ip;
  ip.protocol = IpProtocol::Udp;
  ip.offset = 16;
  inject(ip_frame(ip, as_bytes(pattern(16))));
  advance(Duration::seconds(30));
  poll();
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(counter("ip.reassembly.timeouts"), 1u);
  EXPECT_EQ(counter("icmp.tx_reassembly_time_exceeded"), 0u);
}

TEST_F(StackTest, NoTimeExceededAboutAnIcmpError) {
  start();
  learn();
  Ip ip;
  ip.more_fragments = true;
  const ByteVector quote = ipv4(our_udp_header(), as_bytes(pattern(8)));
  const ByteVector error = icmp(wire::IcmpRepr{
      wire::IcmpDestinationUnreachable{wire::IcmpUnreachableCode::PortUnreachable, 0, 0, as_bytes(quote)}});
  inject(ip_frame(ip, Bytes(error).first(32)));  // first fragment of an ICMP error
  advance(Duration::seconds(30));
  poll();
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(counter("icmp.errors_suppressed"), 1u);
}

TEST_F(StackTest, ReassemblyDatagramCountAndMemoryLimits) {
  StackConfig config = default_config();
  config.reassembly.datagrams_max = 1;
  reset(config);
  start();
  Ip ip;
  ip.protocol = IpProtocol::Udp;
  ip.more_fragments = true;
  inject(ip_frame(ip, as_bytes(pattern(64))));
  ip.id = 2;
  inject(ip_frame(ip, as_bytes(pattern(64))));
  EXPECT_EQ(counter("ip.reassembly.dropped_too_many_datagrams"), 1u);

  config = default_config();
  config.reassembly.datagram_bytes_max = 1000;
  config.reassembly.total_bytes_max = 1000;
  reset(config);
  start();
  ip.id = 1;
  inject(ip_frame(ip, as_bytes(pattern(600))));
  ip.id = 2;
  inject(ip_frame(ip, as_bytes(pattern(600))));
  EXPECT_EQ(counter("ip.reassembly.dropped_total_memory"), 1u);
  EXPECT_LE(stack_->memory_held(), 1000u);
}

// ================= UDP =================

TEST_F(StackTest, UdpEchoThroughSockets) {
  start();
  learn();
  const UdpSocketId socket = bind(7);
  Ip ip;
  ip.protocol = IpProtocol::Udp;
  const ByteVector payload = pattern(300);
  inject(ip_frame(ip, as_bytes(udp(40000, 7, as_bytes(payload)))));
  EXPECT_EQ(stack_->udp_pending(socket), 1u);
  auto got = stack_->udp_receive(socket);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->source, kPeerIp);
  EXPECT_EQ(got->source_port, 40000);
  EXPECT_EQ(got->destination, kOurIp);
  EXPECT_EQ(got->payload, payload);
  ASSERT_TRUE(stack_->udp_send_to(socket, got->source, got->source_port, as_bytes(got->payload)).ok());
  const SentIp echo = sent_one_ip();
  EXPECT_EQ(echo.ip.protocol, IpProtocol::Udp);
  EXPECT_EQ(echo.ip.source, kOurIp);
  auto view = wire::UdpView::parse(as_bytes(echo.payload));
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->has_checksum());
  EXPECT_TRUE(view->verify_checksum(kOurIp, kPeerIp));
  EXPECT_EQ(echo.payload, udp(7, 40000, as_bytes(payload), kOurIp, kPeerIp));
  EXPECT_FALSE(stack_->udp_receive(socket).has_value());
  EXPECT_EQ(counter("udp.rx_delivered"), 1u);
  EXPECT_EQ(counter("udp.tx_datagrams"), 1u);
}

TEST_F(StackTest, LargeUdpDatagramIsFragmented) {
  start();
  learn();
  const UdpSocketId socket = bind(7);
  const ByteVector payload = pattern(4000, 1);
  ASSERT_TRUE(stack_->udp_send_to(socket, kPeerIp, 9, as_bytes(payload)).ok());
  auto fragments = sent_ips();
  EXPECT_EQ(fragments.size(), 3u);
  auto whole = reassemble(fragments, 1500);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(*whole, udp(7, 9, as_bytes(payload), kOurIp, kPeerIp));
}

TEST_F(StackTest, UdpInputCounters) {
  start();
  learn();
  bind(7);
  Ip ip;
  ip.protocol = IpProtocol::Udp;
  expect_dropped(ip_frame(ip, as_bytes(ByteVector(4))), "udp.rx_truncated");
  ByteVector long_length = udp(1, 7, as_bytes(pattern(4)));
  store_be16(long_length, 4, 100);
  expect_dropped(ip_frame(ip, as_bytes(long_length)), "udp.rx_bad_length");
  ByteVector bad_sum = udp(1, 7, as_bytes(pattern(4)));
  bad_sum[9] ^= std::byte{0x01};
  expect_dropped(ip_frame(ip, as_bytes(bad_sum)), "udp.rx_bad_checksum");
  // A zero checksum field means "none" (RFC 768): accepted.
  ByteVector none = udp(1, 7, as_bytes(pattern(4)));
  store_be16(none, 6, 0);
  inject(ip_frame(ip, as_bytes(none)));
  EXPECT_EQ(counter("udp.rx_delivered"), 1u);
}

TEST_F(StackTest, UdpReceiveQueueLimits) {
  StackConfig config = default_config();
  config.udp.receive_queue_datagrams_max = 2;
  config.udp.receive_queue_bytes_max = 100;
  reset(config);
  start();
  const UdpSocketId socket = bind(7);
  Ip ip;
  ip.protocol = IpProtocol::Udp;
  const ByteVector small = pattern(10);
  for (int i = 0; i < 3; ++i) {
    inject(ip_frame(ip, as_bytes(udp(1, 7, as_bytes(small)))));
  }
  EXPECT_EQ(counter("udp.rx_queue_full"), 1u);
  EXPECT_EQ(stack_->memory_held(), 20u);
  stack_->udp_receive(socket);
  stack_->udp_receive(socket);
  const ByteVector big = pattern(60);
  inject(ip_frame(ip, as_bytes(udp(1, 7, as_bytes(big)))));
  inject(ip_frame(ip, as_bytes(udp(1, 7, as_bytes(big)))));
  EXPECT_EQ(counter("udp.rx_queue_bytes_full"), 1u);
  EXPECT_EQ(stack_->udp_pending(socket), 1u);
}

TEST_F(StackTest, SocketApiErrors) {
  StackConfig config = default_config();
  config.udp.sockets_max = 2;
  reset(config);
  start();
  const UdpSocketId a = bind(7);
  auto again = stack_->udp_bind(7);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), SocketError::AddressInUse);
  const UdpSocketId b = bind(0);
  const std::uint16_t ephemeral = *stack_->udp_local_port(b);
  EXPECT_GE(ephemeral, Stack::kEphemeralPortFirst);
  auto third = stack_->udp_bind(9);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error(), SocketError::TooManySockets);

  const ByteVector payload = pattern(4);
  EXPECT_EQ(stack_->udp_send_to(a, Ipv4Address::any(), 9, as_bytes(payload)).error(), SocketError::InvalidArgument);
  EXPECT_EQ(stack_->udp_send_to(a, kPeerIp, 0, as_bytes(payload)).error(), SocketError::InvalidArgument);
  const ByteVector huge(Stack::kUdpPayloadMax + 1);
  EXPECT_EQ(stack_->udp_send_to(a, kPeerIp, 9, as_bytes(huge)).error(), SocketError::MessageTooLong);

  ASSERT_TRUE(stack_->udp_close(a).ok());
  EXPECT_EQ(stack_->udp_close(a).error(), SocketError::BadSocket);
  EXPECT_EQ(stack_->udp_local_port(a).error(), SocketError::BadSocket);
  EXPECT_EQ(stack_->udp_send_to(a, kPeerIp, 9, as_bytes(payload)).error(), SocketError::BadSocket);
  EXPECT_FALSE(stack_->udp_receive(a).has_value());
  // The port is free again, under a new id.
  const UdpSocketId c = bind(7);
  EXPECT_NE(c, a);
}

TEST_F(StackTest, EphemeralPortsAreDistinctAndInRange) {
  std::set<std::uint16_t> ports;
  for (int i = 0; i < 64; ++i) {
    auto port = stack_->udp_local_port(bind(0));
    ASSERT_TRUE(port.ok());
    EXPECT_GE(*port, Stack::kEphemeralPortFirst);
    ports.insert(*port);
  }
  EXPECT_EQ(ports.size(), 64u);
}

TEST_F(StackTest, ClosedSocketBecomesPortUnreachable) {
  start();
  learn();
  const UdpSocketId socket = bind(7);
  ASSERT_TRUE(stack_->udp_close(socket).ok());
  Ip ip;
  ip.protocol = IpProtocol::Udp;
  inject(ip_frame(ip, as_bytes(udp(1, 7, as_bytes(pattern(4))))));
  EXPECT_EQ(counter("icmp.tx_port_unreachable"), 1u);
}

// ================= transmit queue =================

TEST_F(StackTest, RefusedFramesWaitInTheBoundedTxQueue) {
  StackConfig config = default_config();
  config.tx_queue_frames_max = 2;
  link::QueueDeviceConfig device_config;
  device_config.tx_queue_frames = 1;
  reset(config, device_config);
  start();
  learn();
  const UdpSocketId socket = bind(7);
  const ByteVector payload = pattern(10);
  ASSERT_TRUE(stack_->udp_send_to(socket, kPeerIp, 9, as_bytes(payload)).ok());  // taken by the device
  ASSERT_TRUE(stack_->udp_send_to(socket, kPeerIp, 9, as_bytes(payload)).ok());  // refused: queued
  ASSERT_TRUE(stack_->udp_send_to(socket, kPeerIp, 9, as_bytes(payload)).ok());  // queued behind it
  EXPECT_EQ(stack_->tx_queue_frames(), 2u);
  EXPECT_EQ(counter("eth.tx_deferred"), 2u);
  EXPECT_EQ(stack_->memory_held(), 2 * Stack::kEthernetFrameMin);
  auto blocked = stack_->udp_send_to(socket, kPeerIp, 9, as_bytes(payload));
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error(), SocketError::WouldBlock);
  // Replies generated by the stack itself overflow the queue and are counted.
  inject(ip_frame(Ip{}, as_bytes(echo_request(1, 1, as_bytes(payload)))));
  EXPECT_EQ(counter("eth.tx_queue_overflow"), 1u);
  EXPECT_EQ(poll(), now_ + config.tx_retry_interval);

  // The device drains: the next polls send the queued frames in order.
  EXPECT_EQ(sent().size(), 1u);
  poll();
  EXPECT_EQ(sent().size(), 1u);
  poll();
  EXPECT_EQ(sent().size(), 1u);
  EXPECT_EQ(stack_->tx_queue_frames(), 0u);
  EXPECT_EQ(stack_->memory_held(), 0u);
  // Nothing queued: the next deadline is the peer's ARP entry expiry.
  EXPECT_EQ(poll(), now_ + config.arp.entry_lifetime);
}

// A device whose every transmission fails (an unplugged TAP).
class FailingDevice final : public link::Device {
 public:
  wire::MacAddress mac() const override { return kOurMac; }
  std::size_t mtu() const override { return 1500; }
  link::DeviceCapabilities capabilities() const override { return {}; }
  link::DeviceCounters counters() const override { return {}; }
  Result<std::size_t, link::DeviceError> transmit_batch(std::span<const link::Frame>) override {
    return fail(link::DeviceError::Io);
  }
  Result<std::size_t, link::DeviceError> receive(link::FrameBatch&) override { return std::size_t{0}; }
};

TEST(StackDeviceErrors, FramesTheDeviceFailsAreDroppedAndCounted) {
  FailingDevice device;
  Stack stack(default_config(), device, 7);
  (void)stack.poll(Instant::epoch());  // the gratuitous ARP fails
  EXPECT_EQ(*stack.counter("eth.tx_device_errors"), 1u);
  EXPECT_EQ(*stack.counter("eth.tx_frames"), 0u);
  EXPECT_EQ(stack.tx_queue_frames(), 0u);  // not kept: retrying an I/O error would not help
}

// ================= counters =================

TEST_F(StackTest, CounterNamesAreUniqueDottedAndStable) {
  std::vector<std::string> names;
  stack_->visit_counters([&](std::string_view name, std::uint64_t) { names.emplace_back(name); });
  std::set<std::string> unique(names.begin(), names.end());
  EXPECT_EQ(unique.size(), names.size());
  for (const std::string& name : names) {
    const bool known_layer = name.starts_with("eth.") || name.starts_with("arp.") || name.starts_with("ip.") ||
                             name.starts_with("icmp.") || name.starts_with("udp.") || name.starts_with("tcp.");
    EXPECT_TRUE(known_layer) << name;
  }
  for (const char* expected : {"eth.rx_not_for_us", "arp.requests_sent", "arp.pending_dropped_give_up",
                               "ip.rx_bad_checksum", "ip.reassembly.timeouts", "icmp.errors_rate_limited",
                               "udp.rx_no_port", "eth.tx_queue_overflow"}) {
    EXPECT_TRUE(unique.contains(expected)) << expected;
  }
  EXPECT_FALSE(stack_->counter("no.such.counter").has_value());
}

TEST_F(StackTest, MemoryLimitIsTheSumOfTheConfiguredLimits) {
  const StackConfig& c = stack_->config();
  EXPECT_EQ(stack_->memory_limit(), c.arp.pending_bytes_total_max + c.reassembly.total_bytes_max +
                                        c.udp.sockets_max * c.udp.receive_queue_bytes_max +
                                        c.icmp.echo_reply_bytes_max + c.tx_queue_frames_max * 1514 +
                                        c.tcp.connections_max * (c.tcp.send_buffer_bytes + c.tcp.receive_buffer_bytes));
}

}  // namespace
}  // namespace tapstack
