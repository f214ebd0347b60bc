// tap_probe: talks to the Linux kernel through a TapDevice, as a host on the
// TAP's wire would. Run by tests/live/tap_device_test.sh inside a private
// network namespace where the kernel side of the TAP has KERNEL_IP.
//
//   tap_probe IFNAME KERNEL_IP PROBE_IP
//
// 1. ARP: sends "who has KERNEL_IP, tell PROBE_IP" from a locally administered
//    MAC and expects the kernel's reply (RFC 826): opcode 2, sender
//    KERNEL_IP at the interface's MAC, target PROBE_IP at ours.
// 2. ICMP: sends echo requests to KERNEL_IP (RFC 792) and expects replies
//    with the same identifier, sequence number and data, and valid IPv4 and
//    ICMP checksums. One has an odd-length payload (RFC 1071 pads the last
//    byte), one is near the MTU.
// Also checks that a second open of the interface reports Busy.
//
// Every wait is bounded (poll() with a deadline); frames the probe is not
// waiting for (there should be none with IPv6 off) are counted and ignored.
// Exit status: 0 all checks passed, 1 a check failed, 2 usage or open error.

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "stack/base/bytes.hpp"
#include "stack/link/device.hpp"
#include "stack/os/tap_device.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/arp.hpp"
#include "stack/wire/checksum.hpp"
#include "stack/wire/ethernet.hpp"
#include "stack/wire/icmp.hpp"
#include "stack/wire/ipv4.hpp"

namespace {

using namespace tapstack;
using Clock = std::chrono::steady_clock;

// How long to wait for each answer; a request is repeated every kResend
// until then (the kernel may still be bringing the link up).
constexpr auto kAnswerTimeout = std::chrono::seconds(4);
constexpr auto kResend = std::chrono::milliseconds(500);

constexpr wire::MacAddress kProbeMac{{0x02, 0x00, 0x00, 0x77, 0x00, 0x02}};  // locally administered

int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) {
    failures++;
  }
}

// Sends `frame` (again every kResend) until a received frame satisfies
// `wanted` or the deadline passes. Returns a copy of the matching frame.
std::optional<ByteVector> exchange(os::TapDevice& dev, const ByteVector& frame,
                                   const std::function<bool(Bytes)>& wanted) {
  link::FrameBatch batch(link::FrameBatch::kDefaultCapacity, dev.rx_buffer_len());
  const auto deadline = Clock::now() + kAnswerTimeout;
  auto next_send = Clock::now();
  int ignored = 0;
  while (true) {
    const auto now = Clock::now();
    if (now >= deadline) {
      std::printf("  (timed out; %d other frames ignored)\n", ignored);
      return std::nullopt;
    }
    if (now >= next_send) {
      auto sent = dev.transmit(as_bytes(frame));
      if (!sent.ok()) {
        std::printf("  transmit failed: %s (errno %d)\n", std::string(link::to_string(sent.error())).c_str(),
                    dev.last_errno());
        return std::nullopt;
      }
      next_send = now + kResend;
    }
    batch.clear();
    auto got = dev.receive(batch);
    if (!got.ok()) {
      std::printf("  receive failed: %s (errno %d)\n", std::string(link::to_string(got.error())).c_str(),
                  dev.last_errno());
      return std::nullopt;
    }
    for (const link::Frame& f : batch) {
      if (wanted(f.data)) {
        return ByteVector(f.data.begin(), f.data.end());
      }
      ignored++;
    }
    if (*got > 0) {
      continue;
    }
    const auto wake = std::min(deadline, next_send);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now()).count();
    pollfd pfd{dev.fd(), POLLIN, 0};
    ::poll(&pfd, 1, static_cast<int>(std::max<long long>(ms, 1)));
  }
}

// --- ARP ---------------------------------------------------------------------

ByteVector arp_request(wire::Ipv4Address sender_ip, wire::Ipv4Address target_ip) {
  wire::EthernetRepr eth{wire::MacAddress::broadcast(), kProbeMac, wire::EtherType::Arp, std::nullopt};
  wire::ArpRepr arp{wire::ArpOperation::Request, kProbeMac, sender_ip, wire::MacAddress{}, target_ip};
  ByteVector frame(eth.header_len() + wire::ArpRepr::buffer_len());
  eth.emit(MutableBytes{frame});
  arp.emit(MutableBytes{frame}.subspan(eth.header_len()));
  return frame;
}

std::optional<wire::ArpRepr> as_arp(Bytes frame) {
  auto eth = wire::EthernetView::parse(frame);
  if (!eth.ok() || eth->ethertype() != wire::EtherType::Arp) {
    return std::nullopt;
  }
  auto arp = wire::ArpView::parse(eth->payload());
  if (!arp.ok()) {
    return std::nullopt;
  }
  return wire::ArpRepr::parse(*arp);
}

void test_arp(os::TapDevice& dev, wire::Ipv4Address kernel_ip, wire::Ipv4Address probe_ip) {
  std::printf("ARP: who has %s? tell %s (%s)\n", kernel_ip.to_string().c_str(), probe_ip.to_string().c_str(),
              kProbeMac.to_string().c_str());
  auto reply = exchange(dev, arp_request(probe_ip, kernel_ip), [&](Bytes f) {
    auto arp = as_arp(f);
    return arp && arp->operation == wire::ArpOperation::Reply && arp->sender_ip == kernel_ip;
  });
  check(reply.has_value(), "kernel answered the ARP request");
  if (!reply) {
    return;
  }
  auto eth = wire::EthernetRepr::parse(*wire::EthernetView::parse(as_bytes(*reply)));
  auto arp = *as_arp(as_bytes(*reply));
  check(arp.operation == wire::ArpOperation::Reply, "opcode is reply (2)");
  check(arp.sender_ip == kernel_ip, "sender IP is " + kernel_ip.to_string());
  check(arp.sender_mac == dev.interface_mac(),
        "sender MAC " + arp.sender_mac.to_string() + " is the interface MAC " + dev.interface_mac().to_string());
  check(arp.target_ip == probe_ip, "target IP is ours");
  check(arp.target_mac == kProbeMac, "target MAC is ours");
  check(eth.destination == kProbeMac, "frame sent to our MAC (unicast)");
  check(eth.source == dev.interface_mac(), "frame sent from the interface MAC");
}

// --- ICMP echo -----------------------------------------------------------------

ByteVector echo_request(wire::MacAddress kernel_mac, wire::Ipv4Address src, wire::Ipv4Address dst,
                        std::uint16_t ident, std::uint16_t seq, const ByteVector& data) {
  wire::IcmpRepr icmp{wire::IcmpEchoRequest{ident, seq, as_bytes(data)}};
  wire::Ipv4Repr ip;
  ip.identification = seq;
  ip.ttl = 64;
  ip.protocol = wire::IpProtocol::Icmp;
  ip.source = src;
  ip.destination = dst;
  ip.payload_len = static_cast<std::uint16_t>(icmp.buffer_len());
  wire::EthernetRepr eth{kernel_mac, kProbeMac, wire::EtherType::Ipv4, std::nullopt};

  ByteVector frame(eth.header_len() + ip.buffer_len());
  MutableBytes out{frame};
  eth.emit(out);
  ip.emit(out.subspan(eth.header_len()));
  icmp.emit(out.subspan(eth.header_len() + ip.header_len()));
  return frame;
}

struct EchoSeen {
  wire::Ipv4Address source;
  wire::Ipv4Address destination;
  bool ip_checksum_ok = false;
  bool icmp_checksum_ok = false;
  wire::IcmpType type{};
  std::uint8_t code = 0;
  std::uint16_t ident = 0;
  std::uint16_t seq = 0;
  ByteVector data;
};

std::optional<EchoSeen> as_icmp(Bytes frame) {
  auto eth = wire::EthernetView::parse(frame);
  if (!eth.ok() || eth->ethertype() != wire::EtherType::Ipv4) {
    return std::nullopt;
  }
  auto ip = wire::Ipv4View::parse(eth->payload());
  if (!ip.ok() || ip->protocol() != wire::IpProtocol::Icmp) {
    return std::nullopt;
  }
  auto icmp = wire::IcmpView::parse(ip->payload());
  if (!icmp.ok()) {
    return std::nullopt;
  }
  EchoSeen e;
  e.source = ip->source();
  e.destination = ip->destination();
  // Checked both ways: by the parsers and by summing the bytes directly.
  e.ip_checksum_ok = ip->verify_checksum() && wire::internet_checksum(ip->header()) == 0;
  e.icmp_checksum_ok = icmp->verify_checksum() && wire::internet_checksum(icmp->bytes()) == 0 &&
                       wire::IcmpRepr::parse(*icmp, wire::ChecksumCheck::Verify).ok();
  e.type = icmp->type();
  e.code = icmp->code();
  e.ident = icmp->echo_identifier();
  e.seq = icmp->echo_sequence();
  e.data.assign(icmp->data().begin(), icmp->data().end());
  return e;
}

void test_echo(os::TapDevice& dev, wire::Ipv4Address kernel_ip, wire::Ipv4Address probe_ip, std::uint16_t seq,
               std::size_t data_len) {
  constexpr std::uint16_t kIdent = 0x7a70;
  ByteVector data(data_len);
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<std::byte>((i * 7 + seq) & 0xff);
  }
  std::printf("ICMP: echo request id 0x%04x seq %u, %zu data bytes, to %s\n", kIdent, seq, data_len,
              kernel_ip.to_string().c_str());
  auto reply = exchange(dev, echo_request(dev.interface_mac(), probe_ip, kernel_ip, kIdent, seq, data), [&](Bytes f) {
    auto e = as_icmp(f);
    return e && e->type == wire::IcmpType::EchoReply && e->source == kernel_ip && e->seq == seq;
  });
  check(reply.has_value(), "kernel answered the echo request");
  if (!reply) {
    return;
  }
  auto e = *as_icmp(as_bytes(*reply));
  auto eth = wire::EthernetRepr::parse(*wire::EthernetView::parse(as_bytes(*reply)));
  check(eth.destination == kProbeMac && eth.source == dev.interface_mac(), "frame from the interface MAC to ours");
  check(e.destination == probe_ip, "reply addressed to " + probe_ip.to_string());
  check(e.code == 0, "code 0");
  check(e.ident == kIdent, "identifier echoed");
  check(e.seq == seq, "sequence number echoed");
  check(e.data == data, "data echoed exactly (" + std::to_string(e.data.size()) + " bytes)");
  check(e.ip_checksum_ok, "IPv4 header checksum valid");
  check(e.icmp_checksum_ok, "ICMP checksum valid");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s IFNAME KERNEL_IP PROBE_IP\n", argv[0]);
    return 2;
  }
  auto kernel_ip = wire::Ipv4Address::parse(argv[2]);
  auto probe_ip = wire::Ipv4Address::parse(argv[3]);
  if (!kernel_ip || !probe_ip) {
    std::fprintf(stderr, "tap_probe: bad address\n");
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  os::TapConfig config;
  config.name = argv[1];
  config.mac = kProbeMac;
  auto opened = os::TapDevice::open(config);
  if (!opened.ok()) {
    std::fprintf(stderr, "tap_probe: %s\n", opened.error().message.c_str());
    return 2;
  }
  os::TapDevice dev = std::move(*opened);
  std::printf("opened %s: ifindex %d, interface MAC %s, MTU %zu, our MAC %s\n", dev.name().c_str(),
              dev.interface_index(), dev.interface_mac().to_string().c_str(), dev.mtu(),
              dev.mac().to_string().c_str());

  auto again = os::TapDevice::open(config);
  check(!again.ok() && again.error().code == os::TapErrorCode::Busy,
        "second open while attached reports busy: " + (again.ok() ? std::string("opened!") : again.error().message));

  test_arp(dev, *kernel_ip, *probe_ip);
  test_echo(dev, *kernel_ip, *probe_ip, 1, 37);  // odd length
  const std::size_t near_mtu = dev.mtu() - 20 - 8;
  test_echo(dev, *kernel_ip, *probe_ip, 2, near_mtu);

  const link::DeviceCounters c = dev.counters();
  std::printf("counters: tx %llu frames %llu bytes (full %llu, invalid %llu, errors %llu); "
              "rx %llu frames %llu bytes (invalid %llu, errors %llu)\n",
              static_cast<unsigned long long>(c.tx_frames), static_cast<unsigned long long>(c.tx_bytes),
              static_cast<unsigned long long>(c.tx_full), static_cast<unsigned long long>(c.tx_invalid),
              static_cast<unsigned long long>(c.tx_errors), static_cast<unsigned long long>(c.rx_frames),
              static_cast<unsigned long long>(c.rx_bytes), static_cast<unsigned long long>(c.rx_invalid),
              static_cast<unsigned long long>(c.rx_errors));
  check(c.tx_errors == 0 && c.rx_errors == 0 && c.tx_invalid == 0, "no device errors");

  if (failures > 0) {
    std::printf("tap_probe: %d check(s) FAILED\n", failures);
    return 1;
  }
  std::printf("tap_probe: all checks passed\n");
  return 0;
}
