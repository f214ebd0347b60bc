// The whole IPv4 host (tapstack::Stack) under a sequence of frames, time steps
// and socket calls. A fresh stack per input: MAC 02:00:00:00:00:01, address
// 10.0.0.1/24, gateway 10.0.0.254, small limits (below) so that inputs reach
// them, UDP sockets bound on 7 (echo: the harness sends back what arrives), 9,
// 53 and one ephemeral port.
//
// Input encoding: a sequence of records (at most kRecordsMax), each a tag byte
// and its operands; a record cut short by the end of the input is dropped.
//   tag % 4 == 0  FRAME        u16 big-endian length n, n bytes: receive(frame, now)
//   tag % 4 == 1  FRAME_FIXED  the same, but the harness first recomputes the IPv4
//                              header checksum and, for an unfragmented UDP or ICMP
//                              datagram, the transport checksum, so that mutations
//                              get past checksum validation
//   tag % 4 == 2  TIME         u16 big-endian milliseconds d: now += d, then poll(now)
//   tag % 4 == 3  APP          u8 action, u8 arg: a socket call (see app())
// The upper six bits of the tag are ignored. Seeds (corpus/fuzz/host/) are
// captures from corpus/pcap: the frames the kernel sent, rewritten to the
// stack's addresses (10.78.0.2 -> 10.0.0.1, 10.78.0.1 -> 10.0.0.2, MACs alike,
// checksums recomputed), with TIME records for the gaps between them.
//
// Invariants, checked after every record (std::abort() on violation):
//   - memory_held() <= memory_limit() (the sum of the configured limits);
//   - every frame the stack sent is 60..1514 bytes, Ethernet II from our MAC,
//     ARP (well formed, from our addresses) or IPv4 (header checksum valid,
//     source ours, no options, within the MTU); an unfragmented UDP or ICMP
//     datagram (and every fragmented one the harness can put back together)
//     has a valid transport checksum, and the ICMP types are only those the
//     stack may send;
// and at the end, after the sockets are drained and the clock is moved far
// ahead: every timer has fired and nothing is held (memory_held() == 0).

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "fuzz/fuzz_support.hpp"
#include "stack/stack.hpp"
#include "stack/wire/arp.hpp"
#include "stack/wire/checksum.hpp"
#include "stack/wire/ethernet.hpp"
#include "stack/wire/icmp.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/udp.hpp"

using namespace tapstack;
using tapstack::fuzz::require;

namespace {

constexpr std::size_t kRecordsMax = 4096;
constexpr wire::MacAddress kOurMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
constexpr wire::Ipv4Address kOurIp = wire::Ipv4Address::from_octets(10, 0, 0, 1);
constexpr std::array<wire::Ipv4Address, 4> kDestinations = {
    wire::Ipv4Address::from_octets(10, 0, 0, 2),    // the peer in the seeds
    wire::Ipv4Address::from_octets(192, 0, 2, 7),   // through the gateway
    wire::Ipv4Address::broadcast(),
    wire::Ipv4Address::from_octets(10, 0, 0, 3),    // a neighbour nobody answers for
};

StackConfig fuzz_config() {
  StackConfig c;
  c.interface.mac = kOurMac;
  c.interface.address = kOurIp;
  c.interface.prefix_len = 24;
  c.interface.gateway = wire::Ipv4Address::from_octets(10, 0, 0, 254);
  c.arp.cache_entries_max = 8;
  c.arp.pending_packets_per_neighbor_max = 4;
  c.arp.pending_bytes_total_max = 16 * 1024;
  c.reassembly.timeout = Duration::seconds(10);
  c.reassembly.datagrams_max = 4;
  c.reassembly.datagram_bytes_max = 20000;
  c.reassembly.total_bytes_max = 32 * 1024;
  c.icmp.errors_per_second = 10;
  c.icmp.error_burst = 5;
  c.icmp.echo_replies_queued_max = 4;
  c.icmp.echo_reply_bytes_max = 16 * 1024;
  c.udp.sockets_max = 6;
  c.udp.receive_queue_datagrams_max = 4;
  c.udp.receive_queue_bytes_max = 8 * 1024;
  c.tx_queue_frames_max = 32;
  return c;
}

class Reader {
 public:
  explicit Reader(Bytes input) : input_(input) {}
  bool done() const { return at_ >= input_.size(); }
  std::optional<std::uint8_t> u8() {
    if (at_ + 1 > input_.size()) {
      return std::nullopt;
    }
    return load_u8(input_, at_++);
  }
  std::optional<std::uint16_t> u16() {
    if (at_ + 2 > input_.size()) {
      at_ = input_.size();
      return std::nullopt;
    }
    const std::uint16_t v = load_be16(input_, at_);
    at_ += 2;
    return v;
  }
  std::optional<Bytes> take(std::size_t n) {
    if (at_ + n > input_.size()) {
      at_ = input_.size();
      return std::nullopt;
    }
    Bytes out = input_.subspan(at_, n);
    at_ += n;
    return out;
  }

 private:
  Bytes input_;
  std::size_t at_ = 0;
};

// Recomputes the checksums a mutation broke (FRAME_FIXED).
void fix_checksums(ByteVector& frame) {
  if (frame.size() < 14 + 20 || load_be16(frame, 12) != 0x0800) {
    return;
  }
  MutableBytes ip = MutableBytes(frame).subspan(14);
  const std::size_t ihl = (load_u8(ip, 0) & 0x0f) * std::size_t{4};
  if (ihl < 20 || ihl > ip.size()) {
    return;
  }
  store_be16(ip, 10, 0);
  store_be16(ip, 10, wire::internet_checksum(ip.first(ihl)));
  const std::size_t total = load_be16(ip, 2);
  const bool fragment = (load_be16(ip, 6) & 0x3fff) != 0;
  if (fragment || total < ihl || total > ip.size()) {
    return;
  }
  MutableBytes payload = ip.subspan(ihl, total - ihl);
  const std::uint8_t protocol = load_u8(ip, 9);
  if (protocol == 1 && payload.size() >= 8) {
    store_be16(payload, 2, 0);
    store_be16(payload, 2, wire::internet_checksum(payload));
  } else if (protocol == 17 && payload.size() >= 8) {
    store_be16(payload, 6, 0);
    wire::Checksum sum;
    sum.add_pseudo_header(wire::Ipv4Address::load(ip, 12), wire::Ipv4Address::load(ip, 16), 17,
                          static_cast<std::uint16_t>(payload.size()));
    sum.add(payload);
    const std::uint16_t value = sum.finish();
    store_be16(payload, 6, value == 0 ? 0xffff : value);
  }
}

// Checks the transport checksum of a whole datagram the stack sent.
void check_transport(wire::IpProtocol protocol, wire::Ipv4Address dst, Bytes payload) {
  if (protocol == wire::IpProtocol::Icmp) {
    auto icmp = wire::IcmpView::parse(payload);
    require(icmp.ok());
    require(icmp->verify_checksum());
    const auto type = icmp->type();
    require(type == wire::IcmpType::EchoReply || type == wire::IcmpType::EchoRequest ||
            (type == wire::IcmpType::DestinationUnreachable && (icmp->code() == 2 || icmp->code() == 3)) ||
            (type == wire::IcmpType::TimeExceeded && icmp->code() == 1));
    if (type == wire::IcmpType::DestinationUnreachable || type == wire::IcmpType::TimeExceeded) {
      // RFC 1122 3.2.2: errors go to a unicast source only.
      require(!dst.is_broadcast() && !dst.is_multicast());
    }
  } else if (protocol == wire::IpProtocol::Udp) {
    auto udp = wire::UdpView::parse(payload);
    require(udp.ok());
    require(udp->length() == payload.size());
    require(udp->has_checksum());
    require(udp->verify_checksum(kOurIp, dst));
  } else {
    require(false);  // the stack originates nothing else
  }
}

// Puts the fragments the stack sent back together (bounded), to check their transport checksum.
class FragmentChecker {
 public:
  void add(const wire::Ipv4Repr& header, Bytes payload) {
    if (parts_.size() >= 16 && !parts_.contains(header.identification)) {
      parts_.clear();
    }
    Parts& p = parts_[header.identification];
    p.protocol = header.protocol;
    p.destination = header.destination;
    p.pieces[header.fragment_offset] = ByteVector(payload.begin(), payload.end());
    if (!header.more_fragments) {
      p.end = header.fragment_offset + payload.size();
    }
    if (!p.end.has_value()) {
      return;
    }
    ByteVector whole;
    for (const auto& [offset, bytes] : p.pieces) {
      if (offset != whole.size()) {
        return;  // a hole (a fragment dropped in an ARP queue, or not sent yet)
      }
      whole.insert(whole.end(), bytes.begin(), bytes.end());
    }
    if (whole.size() == *p.end) {
      check_transport(p.protocol, p.destination, as_bytes(whole));
      parts_.erase(header.identification);
    }
  }

 private:
  struct Parts {
    wire::IpProtocol protocol = wire::IpProtocol::Udp;
    wire::Ipv4Address destination;
    std::map<std::uint16_t, ByteVector> pieces;
    std::optional<std::size_t> end;
  };
  std::map<std::uint16_t, Parts> parts_;
};

void check_frame(Bytes frame, std::size_t mtu, FragmentChecker& fragments) {
  require(frame.size() >= Stack::kEthernetFrameMin);
  require(frame.size() <= mtu + wire::EthernetView::kHeaderLen);
  auto eth = wire::EthernetView::parse(frame);
  require(eth.ok());
  require(eth->source() == kOurMac);
  require(!eth->vlan_tci().has_value());
  if (eth->ethertype() == wire::EtherType::Arp) {
    auto arp = wire::ArpView::parse(eth->payload());
    require(arp.ok());
    const wire::ArpRepr repr = wire::ArpRepr::parse(*arp);
    require(repr.sender_mac == kOurMac && repr.sender_ip == kOurIp);
    if (repr.operation == wire::ArpOperation::Request) {
      require(eth->destination().is_broadcast());
    } else {
      require(repr.operation == wire::ArpOperation::Reply);
      require(eth->destination() == repr.target_mac && repr.target_mac.is_unicast());
    }
    return;
  }
  require(eth->ethertype() == wire::EtherType::Ipv4);
  auto view = wire::Ipv4View::parse(eth->payload());
  require(view.ok());
  auto ip = wire::Ipv4Repr::parse(*view, wire::ChecksumCheck::Verify);
  require(ip.ok());
  require(ip->source == kOurIp);
  require(ip->options.empty());
  require(!ip->dont_fragment);
  require(ip->buffer_len() <= mtu);
  require(ip->ttl == 64);
  if (ip->more_fragments || ip->fragment_offset != 0) {
    fragments.add(*ip, view->payload());
  } else {
    check_transport(ip->protocol, ip->destination, view->payload());
  }
}

struct Harness {
  link::QueueDevice device{link::QueueDeviceConfig{kOurMac, 1500, 16, 16, 64}};
  Stack stack{fuzz_config(), device, 1};
  std::vector<UdpSocketId> sockets;
  Instant now = Instant::epoch();
  FragmentChecker fragments;

  Harness() {
    for (std::uint16_t port : {7, 9, 53, 0}) {
      auto socket = stack.udp_bind(port);
      require(socket.ok());
      sockets.push_back(*socket);
    }
  }

  void check() {
    require(stack.memory_held() <= stack.memory_limit());
    while (auto frame = device.pop_transmitted()) {
      check_frame(as_bytes(*frame), stack.config().interface.mtu, fragments);
    }
  }

  void drain_sockets() {
    for (UdpSocketId socket : sockets) {
      const bool echo = stack.udp_local_port(socket).ok() && *stack.udp_local_port(socket) == 7;
      // Bounded: each socket holds at most receive_queue_datagrams_max datagrams.
      while (auto d = stack.udp_receive(socket)) {
        require(d->payload.size() <= Stack::kUdpPayloadMax);
        if (echo) {
          (void)stack.udp_send_to(socket, d->source, d->source_port, as_bytes(d->payload));
          check();
        }
      }
    }
  }

  void app(std::uint8_t action, std::uint8_t arg) {
    const wire::Ipv4Address dst = kDestinations[(arg >> 4) % kDestinations.size()];
    UdpSocketId& socket = sockets[arg % sockets.size()];
    const ByteVector payload(std::size_t{arg} * 64, std::byte{arg});
    switch (action % 8) {
      case 0: drain_sockets(); break;
      case 1: (void)stack.udp_send_to(socket, dst, 9, as_bytes(payload)); break;
      case 2: (void)stack.send_echo_request(dst, arg, static_cast<std::uint16_t>(arg * 3), as_bytes(payload)); break;
      case 3: {
        auto port = stack.udp_local_port(socket);
        (void)stack.udp_close(socket);
        auto again = stack.udp_bind(port.ok() ? *port : 0);
        if (again.ok()) {
          socket = *again;
        }
        break;
      }
      case 4: stack.announce(); break;
      case 5:
        while (auto reply = stack.take_echo_reply()) {
          require(reply->data.size() <= Stack::kEchoDataMax);
        }
        break;
      case 6: {
        auto bound = stack.udp_bind(arg);
        if (bound.ok() && sockets.size() < 8) {
          sockets.push_back(*bound);
        }
        break;
      }
      default: (void)stack.poll(now); break;
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Harness h;
  Reader in(Bytes(reinterpret_cast<const std::byte*>(data), size));
  (void)h.stack.poll(h.now);  // the gratuitous ARP
  h.check();
  for (std::size_t record = 0; record < kRecordsMax && !in.done(); ++record) {
    const std::uint8_t tag = *in.u8();
    switch (tag % 4) {
      case 0:
      case 1: {
        auto len = in.u16();
        if (!len) {
          break;
        }
        auto bytes = in.take(*len);
        if (!bytes) {
          break;
        }
        ByteVector frame(bytes->begin(), bytes->end());
        if (tag % 4 == 1) {
          fix_checksums(frame);
        }
        h.stack.receive(as_bytes(frame), h.now);
        break;
      }
      case 2: {
        auto ms = in.u16();
        if (!ms) {
          break;
        }
        h.now += Duration::milliseconds(*ms);
        (void)h.stack.poll(h.now);
        break;
      }
      default: {
        auto action = in.u8();
        auto arg = in.u8();
        if (!action || !arg) {
          break;
        }
        h.app(*action, *arg);
        break;
      }
    }
    h.check();
  }
  // Let every timer fire: ARP gives up or expires, reassembly times out, the transmit queue
  // drains into the (emptied) device. Then nothing may be held.
  h.drain_sockets();
  while (h.stack.take_echo_reply()) {
  }
  for (int round = 0; round < 8; ++round) {
    h.now += Duration::seconds(100);
    (void)h.stack.poll(h.now);
    h.check();
  }
  require(h.stack.memory_held() == 0);
  return 0;
}
