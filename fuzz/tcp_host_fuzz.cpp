// The whole Stack at the TCP level (issue 5 "Fuzz"): a listener, an active and
// a passive connection set up by a scripted handshake at the start of every
// input, then a sequence of segments, raw frames, time steps and socket calls
// chosen by the input, with invariants checked after every step.
//
// The stack: MAC 02:00:00:00:00:01, address 10.0.0.1/24, gateway 10.0.0.254,
// TCP limits small enough to be reached (8 KiB buffers, so no window scaling
// on our side; 16 TCBs, backlog 4, 4 out-of-order ranges). The peers:
// 10.0.0.2 (..:02), 10.0.0.3 (..:03, unresolved until the input answers its
// ARP) and anything beyond the gateway (..:fe).
//
// Set-up (the same for every input, through the same code paths as the records):
//   - poll (gratuitous ARP), tcp_listen(80, 4);
//   - tcp_connect(10.0.0.2:5000): the stack asks for 10.0.0.2 by ARP, the harness
//     answers, the SYN goes, the harness answers with a SYN-ACK (MSS 1000, WS 1),
//     the stack ACKs: ESTABLISHED;
//   - 10.0.0.2:40000 opens to port 80 (SYN with MSS 1460, WS 3), the stack sends
//     its SYN-ACK, the harness ACKs, tcp_accept.
//
// The harness keeps a table of 4-tuples (those it set up, those it invents,
// those the stack sends on) with what each side has sent, so segments can be
// aimed exactly: SEG.SEQ relative to what the peer sent so far or to what the
// stack acknowledged, SEG.ACK relative to what the stack sent, or raw values.
//
// Input encoding: a sequence of records (at most kRecordsMax), each a tag byte
// and its operands; a record cut short by the end of the input is dropped.
//   tag % 8 == 0, 1  SEGMENT   u8 tuple selector (bit 7: a new tuple, see pick_tuple()),
//                              u8 flags (FIN SYN RST PSH ACK URG ECE CWR), u8 modes:
//                                bits 0-1 SEQ: 0 peer's next, 1 that + i16, 2 stack's
//                                         last ACK + i16, 3 raw u32
//                                bits 2-3 ACK: 0 stack's highest sent, 1 that + i16,
//                                         2 the peer's last ACK + i16, 3 raw u32
//                                bits 4-6 options: 0 none, 1 MSS u16, 2 WS u8, 3 MSS u16
//                                         WS u8, 4 SACK-permitted + TS u32, 5 TS u32 u32,
//                                         6 u8 n + n raw option bytes (kept if they parse),
//                                         7 MSS u16 WS u8 SACK-permitted TS u32 (Linux's SYN)
//                              the operands of those modes in that order, u16 window,
//                              u16 payload length (cut to what fits 1500 bytes of IP)
//   tag % 8 == 2     TIME      u16 milliseconds
//   tag % 8 == 3     TIME_LONG u8 seconds
//   tag % 8 == 4     APP       u8 action, u8 arg: a socket call (see Harness::app)
//   tag % 8 == 5     RAW       u16 length n, n bytes: a frame as it is; tag bit 3: the
//                              harness first fixes the IPv4 and TCP/UDP/ICMP checksums
//   tag % 8 == 6     ARP       u8: bits 0-1 which peer, bit 7 a request (else a reply)
//   tag % 8 == 7     DATA      u8 tuple selector, u16 length: in-sequence ACK|PSH data
//                              acknowledging everything the stack sent, window 65535
// The upper bits of the tag are ignored but for RAW's bit 3. Payloads the
// harness builds carry the low byte of each byte's sequence number, so the
// stream an app reads must count up by one (mod 256), as long as no RAW frame
// was injected. Data the app sends is a known function of the stream offset.
//
// Invariants, checked after every record (std::abort() on violation):
//   - memory_held() <= memory_limit(); tcp_connections() <= connections_max;
//   - poll(now) repeated at the same instant stops sending within a few rounds
//     and then returns a deadline after now (no busy loop);
//   - every frame the stack sends is 60..1514 bytes from our MAC: ARP well
//     formed, or IPv4 from us with a valid header checksum, no options, TTL 64;
//     ICMP only of the kinds the host sends; TCP with a valid checksum and
//     options, non-zero ports, sane flags (never SYN with RST or FIN, no payload
//     on SYN or RST, ACK on everything but a first SYN or a RST, no URG, no
//     reserved bits), payload within the MSS the peer offered;
//   - per connection (from the stack's SYN on): ACK and the window's right edge
//     never move back; data sent is what the app wrote at that stream offset,
//     never beyond it;
//   - socket calls: no data after end of stream, read data in order (above),
//     tcp_info within the buffer sizes, an error event comes with an error,
//     a released handle is BadSocket;
// and at the end, after every handle is aborted and the clock moved far ahead:
// no TCB is left and nothing is held (memory_held() == 0).
//
// TAPSTACK_FUZZ_TRACE=1 in the environment prints every TCP segment both ways
// and every socket call, to read what a crashing input does.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz/fuzz_support.hpp"
#include "stack/stack.hpp"
#include "stack/wire/arp.hpp"
#include "stack/wire/checksum.hpp"
#include "stack/wire/ethernet.hpp"
#include "stack/wire/icmp.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

using namespace tapstack;
using wire::TcpFlags;

namespace {

// tapstack::fuzz::require, naming the invariant's line first, so a crash report says which one broke.
void require_at(bool invariant_holds, int line) {
  if (!invariant_holds) {
    std::fprintf(stderr, "tcp_host_fuzz.cpp:%d: invariant violated\n", line);
    tapstack::fuzz::require(false);
  }
}
#define REQUIRE(invariant) require_at((invariant), __LINE__)

constexpr std::size_t kRecordsMax = 2048;
constexpr std::size_t kTuplesMax = 48;
constexpr std::size_t kHandlesMax = 24;
constexpr std::size_t kMtu = 1500;
constexpr int kPollRoundsMax = 16;  // poll(now) at one instant must settle within this many rounds

constexpr wire::MacAddress kOurMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
constexpr wire::Ipv4Address kOurIp = wire::Ipv4Address::from_octets(10, 0, 0, 1);
constexpr wire::Ipv4Address kGateway = wire::Ipv4Address::from_octets(10, 0, 0, 254);

struct Peer {
  wire::Ipv4Address ip;
  wire::MacAddress mac;
};
constexpr std::array<Peer, 3> kPeers = {
    Peer{wire::Ipv4Address::from_octets(10, 0, 0, 2), wire::MacAddress{{0x02, 0, 0, 0, 0, 0x02}}},
    Peer{wire::Ipv4Address::from_octets(10, 0, 0, 3), wire::MacAddress{{0x02, 0, 0, 0, 0, 0x03}}},
    Peer{kGateway, wire::MacAddress{{0x02, 0, 0, 0, 0, 0xfe}}},
};
constexpr wire::Ipv4Address kBeyondGateway = wire::Ipv4Address::from_octets(192, 0, 2, 7);

// The timer invariants: (a) a connection with something to send or acknowledge has a timer
// running (poll() does not return never), and (b) a peer that goes silent sees every connection
// end on its own. They caught three leaks, fixed since (regression inputs regression_*.bin):
// zero-window probes nobody answers, a window too small to send into with nothing in flight (RFC
// 1122 4.2.3.4's override timeout), and tcp_close in FIN-WAIT-2 arming no FIN-WAIT-2 limit.
// Off (for experiments): finish() resets what is left with exact-match RSTs instead.
constexpr bool kStrictTimers = true;

constexpr std::uint16_t kListenPort = 80;
constexpr std::uint16_t kSetupRemotePort = 5000;   // the active connection's peer port
constexpr std::uint16_t kSetupClientPort = 40000;  // the passive connection's peer port

StackConfig fuzz_config() {
  StackConfig c;
  c.interface.mac = kOurMac;
  c.interface.address = kOurIp;
  c.interface.prefix_len = 24;
  c.interface.gateway = kGateway;
  c.interface.mtu = kMtu;
  c.arp.cache_entries_max = 8;
  c.arp.pending_packets_per_neighbor_max = 4;
  c.arp.pending_bytes_total_max = 16 * 1024;
  c.reassembly.datagrams_max = 2;
  c.reassembly.total_bytes_max = 16 * 1024;
  c.reassembly.datagram_bytes_max = 8 * 1024;
  c.icmp.echo_replies_queued_max = 2;
  c.icmp.echo_reply_bytes_max = 4 * 1024;
  c.udp.sockets_max = 1;
  c.udp.receive_queue_bytes_max = 1024;
  c.tx_queue_frames_max = 64;
  c.tcp.connections_max = 16;
  c.tcp.listeners_max = 4;
  c.tcp.backlog_max = 4;
  c.tcp.send_buffer_bytes = 8 * 1024;
  c.tcp.receive_buffer_bytes = 8 * 1024;
  c.tcp.out_of_order_ranges_max = 4;
  c.tcp.challenge_acks_per_second = 10;
  c.tcp.keepalive_idle = Duration::seconds(60);  // within a few TIME_LONG records
  c.tcp.keepalive_interval = Duration::seconds(10);
  c.tcp.keepalive_probes = 3;
  return c;
}

// Wrap-aware "a is after b" (RFC 9293 3.4 arithmetic, modulo 2^32).
const bool kTrace = std::getenv("TAPSTACK_FUZZ_TRACE") != nullptr;

void trace_segment(const char* direction, double now_s, const wire::TcpRepr& tcp, std::size_t payload) {
  if (kTrace) {
    std::fprintf(stderr, "%10.3f %s %u>%u %s seq=%u ack=%u win=%u len=%zu\n", now_s, direction,
                 unsigned{tcp.source_port}, unsigned{tcp.destination_port}, tcp.flags.to_string().c_str(),
                 tcp.seq_number, tcp.ack_number, unsigned{tcp.window}, payload);
  }
}

bool seq_after(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) > 0; }

// The byte an app writes at stream offset k (a function of k alone, so any segment can be checked).
std::byte app_byte(std::uint64_t k) { return static_cast<std::byte>(k * 7 + (k >> 8) + 0x5a); }
// The byte the harness sends at sequence number s: the stream read must count up by one.
std::byte peer_byte(std::uint32_t s) { return static_cast<std::byte>(s & 0xff); }

class Reader {
 public:
  explicit Reader(Bytes input) : input_(input) {}
  bool done() const { return at_ >= input_.size(); }
  std::optional<std::uint8_t> u8() {
    if (at_ + 1 > input_.size()) {
      at_ = input_.size();
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
  std::optional<std::uint32_t> u32() {
    if (at_ + 4 > input_.size()) {
      at_ = input_.size();
      return std::nullopt;
    }
    const std::uint32_t v = load_be32(input_, at_);
    at_ += 4;
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

// Recomputes the checksums a mutation broke (RAW with bit 3).
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
  std::size_t at = 0;
  if (protocol == 1 && payload.size() >= 8) {
    store_be16(payload, 2, 0);
    store_be16(payload, 2, wire::internet_checksum(payload));
    return;
  }
  if (protocol == 6 && payload.size() >= 20) {
    at = 16;
  } else if (protocol == 17 && payload.size() >= 8) {
    at = 6;
  } else {
    return;
  }
  store_be16(payload, at, 0);
  wire::Checksum sum;
  sum.add_pseudo_header(wire::Ipv4Address::load(ip, 12), wire::Ipv4Address::load(ip, 16), protocol,
                        static_cast<std::uint16_t>(payload.size()));
  sum.add(payload);
  const std::uint16_t value = sum.finish();
  store_be16(payload, at, (protocol == 17 && value == 0) ? 0xffff : value);
}

// One 4-tuple as the harness knows it (ours: kOurIp:local_port).
struct Tuple {
  std::uint16_t local_port = 0;
  wire::Ipv4Address remote_ip;
  std::uint16_t remote_port = 0;
  // The peer side (the harness).
  std::uint32_t peer_nxt = 0;    // the sequence number after the last in-order byte the peer sent
  std::uint32_t peer_acked = 0;  // the last ACK number the peer sent
  std::uint16_t mss_max = 0;     // the largest MSS the peer offered in any SYN (536 for none); 0: no SYN yet
  // The stack side, from the stack's latest SYN on this tuple on (one connection).
  bool stack_synced = false;
  std::uint32_t stack_iss = 0;
  std::uint32_t stack_max = 0;   // the sequence number after the highest the stack sent
  bool acked_any = false;
  std::uint32_t stack_ack = 0;   // the last ACK number the stack sent
  std::uint32_t right_edge = 0;  // stack_ack + window of the latest ACK
  std::optional<TcpSocketId> owner;  // the handle whose data this connection sends
};

// What the harness remembers of a handle it got from the stack.
struct Handle {
  bool listener = false;
  bool released = false;       // closed or aborted: every call must say BadSocket
  std::uint64_t sent = 0;      // bytes tcp_send took
  std::optional<std::byte> last_read;
  bool eof = false;            // tcp_receive returned end of stream
};

template <class T>
bool bad_socket(const Result<T, SocketError>& r) {
  return !r.ok() && r.error() == SocketError::BadSocket;
}

wire::MacAddress mac_of(wire::Ipv4Address ip) {
  for (const Peer& p : kPeers) {
    if (p.ip == ip) {
      return p.mac;
    }
  }
  return kPeers[2].mac;  // beyond the gateway
}

ByteVector build_frame(wire::Ipv4Address source, const wire::TcpRepr& tcp, std::uint32_t payload_seq) {
  const std::size_t segment_len = tcp.buffer_len();
  wire::Ipv4Repr ip;
  ip.identification = static_cast<std::uint16_t>(payload_seq);
  ip.protocol = wire::IpProtocol::Tcp;
  ip.source = source;
  ip.destination = kOurIp;
  ip.payload_len = static_cast<std::uint16_t>(segment_len);
  const std::size_t len = std::max<std::size_t>(14 + ip.buffer_len(), Stack::kEthernetFrameMin);
  ByteVector frame(len);
  MutableBytes out(frame);
  wire::EthernetRepr{kOurMac, mac_of(source), wire::EtherType::Ipv4, std::nullopt}.emit(out);
  MutableBytes datagram = out.subspan(14, ip.buffer_len());
  ip.emit(datagram);
  MutableBytes segment = datagram.subspan(ip.header_len());
  for (std::size_t i = 0; i < tcp.payload_len; ++i) {
    segment[tcp.header_len() + i] = peer_byte(payload_seq + static_cast<std::uint32_t>(i));
  }
  tcp.emit(segment, source, kOurIp);
  return frame;
}

ByteVector build_arp(const Peer& peer, wire::ArpOperation operation) {
  ByteVector frame(Stack::kEthernetFrameMin);
  MutableBytes out(frame);
  const bool request = operation == wire::ArpOperation::Request;
  wire::EthernetRepr{request ? wire::MacAddress::broadcast() : kOurMac, peer.mac, wire::EtherType::Arp,
                     std::nullopt}
      .emit(out);
  wire::ArpRepr arp{operation, peer.mac, peer.ip, request ? wire::MacAddress{} : kOurMac, kOurIp};
  arp.emit(out.subspan(14));
  return frame;
}

class Harness {
 public:
  Harness() {
    tuples_.reserve(kTuplesMax + 1);  // references into the table stay valid while a record runs
    setup();
  }

  // ---- records ----

  void segment(Reader& in, bool data_only) {
    auto sel = in.u8();
    if (!sel) {
      return;
    }
    Tuple* t = pick_tuple(*sel);
    if (t == nullptr) {
      return;
    }
    wire::TcpRepr tcp;
    tcp.source_port = t->remote_port;
    tcp.destination_port = t->local_port;
    std::size_t payload = 0;
    bool in_order = true;
    if (data_only) {
      auto len = in.u16();
      if (!len) {
        return;
      }
      tcp.flags = TcpFlags::Ack | TcpFlags::Psh;
      tcp.seq_number = t->peer_nxt;
      tcp.ack_number = t->stack_max;
      tcp.window = 0xffff;
      payload = *len % 1461;
    } else {
      auto flags = in.u8();
      auto modes = in.u8();
      if (!flags || !modes) {
        return;
      }
      tcp.flags = TcpFlags(*flags);
      const std::uint8_t seq_mode = *modes & 3;
      const std::uint8_t ack_mode = (*modes >> 2) & 3;
      const std::uint8_t options = (*modes >> 4) & 7;
      auto delta16 = [&in]() -> std::optional<std::uint32_t> {
        auto v = in.u16();
        if (!v) {
          return std::nullopt;
        }
        return static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::int16_t>(*v)));
      };
      std::optional<std::uint32_t> seq;
      switch (seq_mode) {
        case 0: seq = t->peer_nxt; break;
        case 1: if (auto d = delta16()) { seq = t->peer_nxt + *d; } break;
        case 2: if (auto d = delta16()) { seq = t->stack_ack + *d; } break;
        default: seq = in.u32(); break;
      }
      std::optional<std::uint32_t> ack;
      switch (ack_mode) {
        case 0: ack = t->stack_max; break;
        case 1: if (auto d = delta16()) { ack = t->stack_max + *d; } break;
        case 2: if (auto d = delta16()) { ack = t->peer_acked + *d; } break;
        default: ack = in.u32(); break;
      }
      if (!seq || !ack || !read_options(in, options, tcp.options)) {
        return;
      }
      auto window = in.u16();
      auto len = in.u16();
      if (!window || !len) {
        return;
      }
      tcp.seq_number = *seq;
      tcp.ack_number = *ack;
      tcp.window = *window;
      in_order = seq_mode == 0;
      payload = *len;
    }
    tcp.options.pad();
    const std::size_t room = kMtu - 20 - tcp.header_len();
    tcp.payload_len = std::min(payload, room);
    send_segment(*t, tcp, in_order);
  }

  void time(Duration d) {
    now_ += d;
    const Instant next = stack_.poll(now_);
    if (kTrace) {
      std::fprintf(stderr, "%10.3f time (next deadline %.3f)\n", now_.since_epoch().seconds_f(),
                   next.since_epoch().seconds_f());
    }
  }

  void raw(Bytes bytes, bool fix) {
    ByteVector frame(bytes.begin(), bytes.end());
    if (fix) {
      fix_checksums(frame);
    }
    tainted_ = true;  // arbitrary payloads: the read stream is no longer the harness's pattern
    for (Tuple& t : tuples_) {
      t.stack_synced = false;  // it may have opened a connection anywhere (see send_segment)
      t.acked_any = false;
    }
    if (kTrace) {
      std::fprintf(stderr, "%10.3f raw frame of %zu bytes\n", now_.since_epoch().seconds_f(), frame.size());
    }
    stack_.receive(as_bytes(frame), now_);
  }

  void arp(std::uint8_t which) {
    const Peer& peer = kPeers[(which & 3) % kPeers.size()];
    const auto op = (which & 0x80) != 0 ? wire::ArpOperation::Request : wire::ArpOperation::Reply;
    stack_.receive(as_bytes(build_arp(peer, op)), now_);
  }

  // action % 12: 0 accept, 1 send (arg + 1) * 64 bytes, 2 receive up to (arg + 1) * 32, 3 shutdown,
  // 4 close, 5 abort, 6 connect (arg picks the destination and port, some invalid), 7 listen on
  // 80/81/82 with backlog arg / 4, 8 Nagle (arg bit 6) and keepalive (bit 7), 9 drain (accept and
  // read everything), 10 calls on released and unknown handles, 11 poll. `arg` also picks the
  // handle (among those not released) for 1-5 and 8.
  void app(std::uint8_t action, std::uint8_t arg) {
    const std::optional<TcpSocketId> socket = pick_handle(arg);
    if (kTrace) {
      std::fprintf(stderr, "%10.3f app %u arg %u socket %u\n", now_.since_epoch().seconds_f(), unsigned{action % 12U},
                   unsigned{arg}, socket.value_or(0));
    }
    switch (action % 12) {
      case 0: accept(arg); break;
      case 1:
        if (socket) {
          send(*socket, (std::size_t{arg} + 1) * 64);
        }
        break;
      case 2:
        if (socket) {
          read(*socket, (std::size_t{arg} + 1) * 32);
        }
        break;
      case 3:
        if (socket) {
          (void)stack_.tcp_shutdown(*socket);
        }
        break;
      case 4:
        if (socket) {
          REQUIRE(stack_.tcp_close(*socket).ok());
          release(*socket);
        }
        break;
      case 5:
        if (socket) {
          REQUIRE(stack_.tcp_abort(*socket).ok());
          release(*socket);
        }
        break;
      case 6: {
        constexpr std::array<wire::Ipv4Address, 5> kTargets = {
            kPeers[0].ip, kPeers[1].ip, kBeyondGateway, kOurIp, wire::Ipv4Address::from_octets(10, 0, 0, 255)};
        constexpr std::array<std::uint16_t, 3> kPorts = {kSetupRemotePort, kListenPort, 0};
        connect(kTargets[arg % kTargets.size()], kPorts[(arg >> 4) % kPorts.size()]);
        break;
      }
      case 7: {
        constexpr std::array<std::uint16_t, 3> kPorts = {kListenPort, 81, 82};
        auto listener = stack_.tcp_listen(kPorts[arg % kPorts.size()], arg >> 2);
        if (listener.ok()) {
          add_handle(*listener, true);
        }
        break;
      }
      case 8:
        if (socket) {
          (void)stack_.tcp_set_nagle(*socket, (arg & 0x40) != 0);
          (void)stack_.tcp_set_keepalive(*socket, (arg & 0x80) != 0);
        }
        break;
      case 9: drain(); break;
      case 10: {
        // Released and never-issued handles.
        for (auto& [id, h] : handles_) {
          if (h.released) {
            REQUIRE(bad_socket(stack_.tcp_info(id)));
            REQUIRE(bad_socket(stack_.tcp_send(id, as_bytes(scratch_))));
            REQUIRE(bad_socket(stack_.tcp_close(id)));
          }
        }
        REQUIRE(bad_socket(stack_.tcp_abort(0xfffffff0U)));
        break;
      }
      default: (void)stack_.poll(now_); break;
    }
  }

  // ---- invariants ----

  // After every record: poll at the same instant until quiet, then the global invariants.
  void check() {
    Instant deadline = stack_.poll(now_);
    std::size_t frames = drain_frames();
    for (int round = 1; frames > 0; ++round) {
      // Busy loop: the stack keeps sending at one instant without the peer saying anything.
      REQUIRE(round < kPollRoundsMax);
      deadline = stack_.poll(now_);
      frames = drain_frames();
    }
    // RFC 9293 3.8 timers: what was due has run, so the next deadline is in the future.
    REQUIRE(deadline > now_);
    bool needs_timer = false;
    REQUIRE(stack_.memory_held() <= stack_.memory_limit());
    REQUIRE(stack_.tcp_connections() <= stack_.config().tcp.connections_max);
    for (auto& [id, h] : handles_) {
      if (h.released) {
        continue;
      }
      auto info = stack_.tcp_info(id);
      REQUIRE(info.ok());
      const TcpLimits& limits = stack_.config().tcp;
      if (h.listener) {
        REQUIRE(info->state == TcpState::Listen);
        REQUIRE(info->pending_accept <= limits.backlog_max);
        continue;
      }
      REQUIRE(info->state != TcpState::Listen);
      REQUIRE(info->readable <= limits.receive_buffer_bytes);
      REQUIRE(info->unacknowledged <= limits.send_buffer_bytes);
      REQUIRE(info->writable + info->unacknowledged <= limits.send_buffer_bytes);
      REQUIRE(info->unacknowledged <= h.sent);
      switch (info->state) {
        case TcpState::SynSent:
        case TcpState::SynReceived:
        case TcpState::FinWait1:
        case TcpState::Closing:
        case TcpState::LastAck:
        case TcpState::TimeWait: needs_timer = true; break;  // a SYN or FIN unacknowledged, or 2 MSL
        case TcpState::Established:
        case TcpState::CloseWait: needs_timer = needs_timer || info->unacknowledged > 0; break;
        default: break;
      }
      const std::uint32_t events = stack_.tcp_take_events(id);
      if ((events & (tcp_event::Reset | tcp_event::Refused | tcp_event::TimedOut)) != 0) {
        REQUIRE(info->error.has_value());
      }
    }
    if (kStrictTimers && needs_timer) {
      // Retransmission, persist or TIME-WAIT: something must wake the connection up again.
      REQUIRE(deadline != Instant::never());
    }
  }

  // The end of an input: release everything, let every timer run out; nothing may be left.
  void finish() {
    drain();
    for (auto& [id, h] : handles_) {
      if (!h.released) {
        REQUIRE(stack_.tcp_abort(id).ok());
        h.released = true;
      }
    }
    check();
    // A silent peer: retransmissions give up, TIME-WAIT and orphaned FIN-WAIT-2 end.
    for (int round = 0; round < 64; ++round) {
      time(Duration::seconds(20));
      check();
    }
    if (!kStrictTimers) {
      // What is left probes a zero window forever or waits without a timer (see kStrictTimers).
      // Make every connection say where it is (a segment far outside its window is answered with
      // an ACK, RFC 9293 3.10.7.4) and answer everything it sends with an exact-match RST
      // (RFC 5961 3.2), for a few rounds (the answers may wait for ARP or a rate limit).
      reset_replies_ = true;
      for (int round = 0; round < 8 && stack_.tcp_connections() > 0; ++round) {
        for (std::uint8_t peer = 0; peer < kPeers.size(); ++peer) {
          arp(peer);
        }
        for (Tuple& t : tuples_) {
          wire::TcpRepr probe;
          probe.source_port = t.remote_port;
          probe.destination_port = t.local_port;
          probe.seq_number = t.peer_nxt + 0x80000000U;
          probe.ack_number = t.stack_max;
          probe.flags = TcpFlags::Ack;
          send_segment(t, probe, false);
        }
        check();
        time(Duration::seconds(60));
        check();
      }
      // Then what waited for those ARP replies drains (ARP queues give up or send).
      for (int round = 0; round < 4; ++round) {
        time(Duration::seconds(20));
        check();
      }
    }
    if (kTrace) {
      for (std::uint8_t s = 0; s <= static_cast<std::uint8_t>(TcpState::TimeWait); ++s) {
        if (const std::size_t n = stack_.tcp_connections_in(static_cast<TcpState>(s)); n > 0) {
          std::fprintf(stderr, "left at the end: %zu in %s\n", n, std::string(to_string(static_cast<TcpState>(s))).c_str());
        }
      }
      std::fprintf(stderr, "held at the end: %zu bytes (ARP pending %zu, tx queue %zu frames)\n", stack_.memory_held(),
                   stack_.arp_cache().pending_bytes(), stack_.tx_queue_frames());
      stack_.visit_counters([](std::string_view name, std::uint64_t value) {
        if (value != 0 && name.starts_with("tcp.")) {
          std::fprintf(stderr, "counter %.*s %llu\n", static_cast<int>(name.size()), name.data(),
                       static_cast<unsigned long long>(value));
        }
      });
    }
    REQUIRE(stack_.tcp_connections() == 0);
    REQUIRE(stack_.memory_held() == 0);
  }

 private:
  void setup() {
    (void)stack_.poll(now_);
    REQUIRE(drain_frames() == 1);  // the gratuitous ARP
    auto listener = stack_.tcp_listen(kListenPort, 4);
    REQUIRE(listener.ok());
    add_handle(*listener, true);

    // Active open: ARP, SYN, our SYN-ACK, the stack's ACK.
    connect(kPeers[0].ip, kSetupRemotePort);
    REQUIRE(handles_.size() == 2);
    const TcpSocketId active = handles_.rbegin()->first;
    arp(0);
    check();
    Tuple* t = find_tuple(stack_.tcp_info(active)->local.port, kPeers[0].ip, kSetupRemotePort);
    REQUIRE(t != nullptr && t->stack_synced);
    wire::TcpRepr syn_ack;
    syn_ack.source_port = kSetupRemotePort;
    syn_ack.destination_port = t->local_port;
    syn_ack.seq_number = 0x10000000;
    syn_ack.ack_number = t->stack_max;
    syn_ack.flags = TcpFlags::Syn | TcpFlags::Ack;
    syn_ack.window = 16000;
    (void)syn_ack.options.add_mss(1000);
    (void)syn_ack.options.add_window_scale(1);
    syn_ack.options.pad();
    send_segment(*t, syn_ack, true);
    check();
    REQUIRE(stack_.tcp_info(active)->state == TcpState::Established);

    // Passive open: SYN to the listener, the stack's SYN-ACK, our ACK, accept.
    Tuple& p = add_tuple(kListenPort, kPeers[0].ip, kSetupClientPort);
    wire::TcpRepr syn;
    syn.source_port = kSetupClientPort;
    syn.destination_port = kListenPort;
    syn.seq_number = 0x20000000;
    syn.flags = TcpFlags::Syn;
    syn.window = 64240;
    (void)syn.options.add_mss(1460);
    (void)syn.options.add_window_scale(3);
    syn.options.pad();
    send_segment(p, syn, true);
    check();
    REQUIRE(p.stack_synced);
    wire::TcpRepr ack;
    ack.source_port = kSetupClientPort;
    ack.destination_port = kListenPort;
    ack.seq_number = p.peer_nxt;
    ack.ack_number = p.stack_max;
    ack.flags = TcpFlags::Ack;
    ack.window = 4096;
    send_segment(p, ack, true);
    check();
    accept(0);
    REQUIRE(handles_.size() == 3);
  }

  Tuple* find_tuple(std::uint16_t local_port, wire::Ipv4Address remote_ip, std::uint16_t remote_port) {
    for (Tuple& t : tuples_) {
      if (t.local_port == local_port && t.remote_ip == remote_ip && t.remote_port == remote_port) {
        return &t;
      }
    }
    return nullptr;
  }

  Tuple& add_tuple(std::uint16_t local_port, wire::Ipv4Address remote_ip, std::uint16_t remote_port) {
    if (Tuple* t = find_tuple(local_port, remote_ip, remote_port)) {
      return *t;
    }
    if (tuples_.size() >= kTuplesMax) {
      tuples_.erase(tuples_.begin() + 2);  // keep the two set-up connections
    }
    Tuple t;
    t.local_port = local_port;
    t.remote_ip = remote_ip;
    t.remote_port = remote_port;
    tuples_.push_back(t);
    return tuples_.back();
  }

  // Bit 7 set: a new tuple, bits 0-3 the remote port (40001 + n), bits 4-5 the local port
  // (80, 80, 81, 5000: the listener, another one if the input opened it, a closed port),
  // bit 6 the remote host (10.0.0.2 or 10.0.0.3). Else an existing tuple.
  Tuple* pick_tuple(std::uint8_t sel) {
    if ((sel & 0x80) != 0) {
      constexpr std::array<std::uint16_t, 4> kLocal = {kListenPort, kListenPort, 81, 5000};
      const wire::Ipv4Address remote = kPeers[(sel >> 6) & 1].ip;
      return &add_tuple(kLocal[(sel >> 4) & 3], remote, static_cast<std::uint16_t>(40001 + (sel & 0x0f)));
    }
    if (tuples_.empty()) {
      return nullptr;
    }
    return &tuples_[sel % tuples_.size()];
  }

  std::optional<TcpSocketId> pick_handle(std::uint8_t arg) {
    std::vector<TcpSocketId> live;
    for (const auto& [id, h] : handles_) {
      if (!h.released) {
        live.push_back(id);
      }
    }
    if (live.empty()) {
      return std::nullopt;
    }
    return live[arg % live.size()];
  }

  void add_handle(TcpSocketId id, bool listener) {
    REQUIRE(!handles_.contains(id));  // handles are never reused
    Handle h;
    h.listener = listener;
    handles_[id] = h;
  }

  void release(TcpSocketId id) {
    handles_.at(id).released = true;
    REQUIRE(bad_socket(stack_.tcp_info(id)));
    // Keep the table bounded: forget the oldest released handles nobody's tuple points to.
    if (handles_.size() > 4 * kHandlesMax) {
      for (auto it = handles_.begin(); it != handles_.end();) {
        const TcpSocketId old = it->first;
        const bool owned = std::any_of(tuples_.begin(), tuples_.end(),
                                       [old](const Tuple& t) { return t.owner == old; });
        it = (it->second.released && !owned) ? handles_.erase(it) : std::next(it);
      }
    }
  }

  std::size_t live_handles() const {
    return static_cast<std::size_t>(
        std::count_if(handles_.begin(), handles_.end(), [](const auto& kv) { return !kv.second.released; }));
  }

  void own(TcpSocketId id) {
    auto info = stack_.tcp_info(id);
    REQUIRE(info.ok());
    REQUIRE(info->local.address == kOurIp);
    Tuple& t = add_tuple(info->local.port, info->remote.address, info->remote.port);
    t.owner = id;
  }

  void connect(wire::Ipv4Address destination, std::uint16_t port) {
    if (live_handles() >= kHandlesMax) {
      return;
    }
    auto socket = stack_.tcp_connect(destination, port);
    const bool valid = port != 0 && destination != kOurIp && !destination.is_broadcast() &&
                       destination != wire::Ipv4Address::from_octets(10, 0, 0, 255);
    if (!valid) {
      REQUIRE(!socket.ok());
      return;
    }
    if (!socket.ok()) {
      REQUIRE(socket.error() == SocketError::TooManySockets);
      return;
    }
    add_handle(*socket, false);
    own(*socket);
  }

  // arg picks the listener; 0xff: every listener, as long as there is room for handles.
  void accept(std::uint8_t arg) {
    std::vector<TcpSocketId> listeners;
    for (const auto& [id, h] : handles_) {
      if (h.listener && !h.released) {
        listeners.push_back(id);
      }
    }
    if (listeners.empty()) {
      return;
    }
    if (arg != 0xff) {
      listeners = {listeners[arg % listeners.size()]};
    }
    for (TcpSocketId id : listeners) {
      // Bounded: a listener holds at most backlog_max connections.
      while (live_handles() < kHandlesMax) {
        auto child = stack_.tcp_accept(id);
        if (!child.ok()) {
          REQUIRE(child.error() == SocketError::WouldBlock);
          break;
        }
        add_handle(*child, false);
        own(*child);
        if (arg != 0xff) {
          return;
        }
      }
    }
  }

  void send(TcpSocketId id, std::size_t n) {
    Handle& h = handles_.at(id);
    scratch_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      scratch_[i] = app_byte(h.sent + i);
    }
    auto taken = stack_.tcp_send(id, as_bytes(scratch_));
    if (kTrace) {
      std::fprintf(stderr, "           send %zu to %u: %s\n", n, id,
                   taken.ok() ? std::to_string(*taken).c_str() : std::string(to_string(taken.error())).c_str());
    }
    if (taken.ok()) {
      REQUIRE(*taken <= n);
      h.sent += *taken;
    }
  }

  void read(TcpSocketId id, std::size_t n) {
    Handle& h = handles_.at(id);
    scratch_.resize(n);
    auto got = stack_.tcp_receive(id, MutableBytes(scratch_));
    if (!got.ok()) {
      return;
    }
    REQUIRE(*got <= n);
    if (kTrace) {
      std::fprintf(stderr, "           read %zu from %u\n", *got, id);
    }
    if (*got == 0) {
      h.eof = true;
      return;
    }
    REQUIRE(!h.eof);  // nothing after the end of the stream
    for (std::size_t i = 0; i < *got; ++i) {
      if (!tainted_ && h.last_read.has_value()) {
        REQUIRE(scratch_[i] == static_cast<std::byte>(std::to_integer<std::uint8_t>(*h.last_read) + 1));
      }
      h.last_read = scratch_[i];
    }
  }

  void drain() {
    for (int pass = 0; pass < 2; ++pass) {
      accept(0xff);
      for (auto& [id, h] : handles_) {
        if (h.released || h.listener) {
          continue;
        }
        // Bounded: a receive buffer holds at most receive_buffer_bytes.
        for (int i = 0; i < 4; ++i) {
          read(id, stack_.config().tcp.receive_buffer_bytes);
        }
      }
    }
  }

  bool read_options(Reader& in, std::uint8_t which, wire::TcpOptions& options) {
    auto mss = [&]() {
      auto v = in.u16();
      return v && options.add_mss(*v);
    };
    auto ws = [&]() {
      auto v = in.u8();
      return v && options.add_window_scale(*v);
    };
    switch (which) {
      case 0: return true;
      case 1: return mss();
      case 2: return ws();
      case 3: return mss() && ws();
      case 4: {
        auto v = in.u32();
        return v && options.add_sack_permitted_and_timestamps(*v, 0);
      }
      case 5: {
        auto v = in.u32();
        auto e = in.u32();
        return v && e && options.add_timestamps(*v, *e);
      }
      case 6: {
        auto n = in.u8();
        if (!n) {
          return false;
        }
        auto bytes = in.take(*n % (wire::TcpOptions::kMaxLen + 1));
        if (!bytes) {
          return false;
        }
        if (auto parsed = wire::TcpOptions::parse(*bytes); parsed.ok()) {
          options = *parsed;
        }
        return true;
      }
      default: {
        if (!mss() || !ws()) {
          return false;
        }
        auto v = in.u32();
        return v && options.add_sack_permitted_and_timestamps(*v, 0);
      }
    }
  }

  // Sends a segment from the peer of `t` and updates what the peer has sent.
  void send_segment(Tuple& t, const wire::TcpRepr& tcp, bool in_order) {
    const bool syn = tcp.flags.has(TcpFlags::Syn);
    const std::uint32_t payload_seq = tcp.seq_number + (syn ? 1U : 0U);
    const std::uint32_t seg_len = static_cast<std::uint32_t>(tcp.payload_len) + (syn ? 1U : 0U) +
                                  (tcp.flags.has(TcpFlags::Fin) ? 1U : 0U);
    if (syn) {
      // A peer (re)starting: its sequence space begins here. The stack honours the MSS of a SYN.
      t.peer_nxt = tcp.seq_number + seg_len;
      if (!tcp.flags.has(TcpFlags::Ack)) {
        // It may open a new connection on this tuple whose SYN-ACK we never see (dropped in a
        // full ARP queue): track the stack's side again only from its next SYN on.
        t.stack_synced = false;
        t.acked_any = false;
      }
      const std::uint16_t offered = tcp.options.mss().value_or(536);
      t.mss_max = std::max(t.mss_max, std::max<std::uint16_t>(offered, 536));
    } else if (in_order) {
      t.peer_nxt = tcp.seq_number + seg_len;
    }
    if (tcp.flags.has(TcpFlags::Ack)) {
      t.peer_acked = tcp.ack_number;
    }
    trace_segment("in ", now_.since_epoch().seconds_f(), tcp, tcp.payload_len);
    const ByteVector frame = build_frame(t.remote_ip, tcp, payload_seq);
    stack_.receive(as_bytes(frame), now_);
  }

  // Pops and checks every frame the stack sent; returns how many.
  std::size_t drain_frames() {
    std::size_t n = 0;
    while (auto frame = device_.pop_transmitted()) {
      check_frame(as_bytes(*frame));
      ++n;
    }
    for (const auto& [tuple, seq] : resets_due_) {
      wire::TcpRepr rst;
      rst.source_port = tuple.remote_port;
      rst.destination_port = tuple.local_port;
      rst.seq_number = seq;
      rst.flags = TcpFlags::Rst;
      stack_.receive(as_bytes(build_frame(tuple.remote_ip, rst, seq)), now_);
    }
    resets_due_.clear();
    return n;
  }

  void check_frame(Bytes frame) {
    REQUIRE(frame.size() >= Stack::kEthernetFrameMin);
    REQUIRE(frame.size() <= kMtu + wire::EthernetView::kHeaderLen);
    auto eth = wire::EthernetView::parse(frame);
    REQUIRE(eth.ok());
    REQUIRE(eth->source() == kOurMac);
    REQUIRE(!eth->vlan_tci().has_value());
    if (eth->ethertype() == wire::EtherType::Arp) {
      auto arp = wire::ArpView::parse(eth->payload());
      REQUIRE(arp.ok());
      const wire::ArpRepr repr = wire::ArpRepr::parse(*arp);
      REQUIRE(repr.sender_mac == kOurMac && repr.sender_ip == kOurIp);
      if (repr.operation == wire::ArpOperation::Request) {
        REQUIRE(eth->destination().is_broadcast());
      } else {
        REQUIRE(repr.operation == wire::ArpOperation::Reply);
        REQUIRE(eth->destination() == repr.target_mac && repr.target_mac.is_unicast());
      }
      return;
    }
    REQUIRE(eth->ethertype() == wire::EtherType::Ipv4);
    REQUIRE(eth->destination().is_unicast() || eth->destination().is_broadcast());
    auto view = wire::Ipv4View::parse(eth->payload());
    REQUIRE(view.ok());
    auto ip = wire::Ipv4Repr::parse(*view, wire::ChecksumCheck::Verify);
    REQUIRE(ip.ok());
    REQUIRE(ip->source == kOurIp);
    REQUIRE(ip->options.empty());
    REQUIRE(ip->ttl == 64);
    REQUIRE(ip->buffer_len() <= kMtu);
    if (ip->more_fragments || ip->fragment_offset != 0) {
      REQUIRE(ip->protocol == wire::IpProtocol::Icmp);  // only an echo reply to a large raw request
      return;
    }
    if (ip->protocol == wire::IpProtocol::Icmp) {
      auto icmp = wire::IcmpView::parse(view->payload());
      REQUIRE(icmp.ok());
      REQUIRE(icmp->verify_checksum());
      const auto type = icmp->type();
      REQUIRE(type == wire::IcmpType::EchoReply ||
              (type == wire::IcmpType::DestinationUnreachable && (icmp->code() == 2 || icmp->code() == 3)) ||
              (type == wire::IcmpType::TimeExceeded && icmp->code() == 1));
      return;
    }
    REQUIRE(ip->protocol == wire::IpProtocol::Tcp);
    REQUIRE(!ip->destination.is_broadcast() && !ip->destination.is_multicast() && ip->destination != kOurIp);
    check_tcp(ip->destination, view->payload());
  }

  void check_tcp(wire::Ipv4Address destination, Bytes bytes) {
    auto view = wire::TcpView::parse(bytes);
    REQUIRE(view.ok());
    REQUIRE(view->verify_checksum(kOurIp, destination));
    auto tcp = wire::TcpRepr::parse(*view, kOurIp, destination, wire::ChecksumCheck::Verify);
    REQUIRE(tcp.ok());
    trace_segment("OUT", now_.since_epoch().seconds_f(), *tcp, view->payload().size());
    REQUIRE(tcp->source_port != 0 && tcp->destination_port != 0);
    REQUIRE(tcp->reserved == 0);
    const TcpFlags f = tcp->flags;
    const Bytes payload = view->payload();
    const bool syn = f.has(TcpFlags::Syn);
    const bool rst = f.has(TcpFlags::Rst);
    REQUIRE(!(syn && rst));
    REQUIRE(!(syn && f.has(TcpFlags::Fin)));
    REQUIRE(!(rst && f.has(TcpFlags::Fin)));
    REQUIRE(!f.any(TcpFlags::Urg | TcpFlags::Ece | TcpFlags::Cwr | TcpFlags::Ae));
    REQUIRE(!rst || payload.empty());  // RFC 9293 3.10.7.1: a RST carries no data (ours never do)
    REQUIRE(!syn || payload.empty());
    REQUIRE(syn || rst || f.has(TcpFlags::Ack));  // RFC 9293 3.10.7.4: ACK always on once synchronized
    REQUIRE(payload.size() <= kMtu - 40);

    Tuple& t = add_tuple(tcp->source_port, destination, tcp->destination_port);
    if (syn) {
      // A new connection on this tuple (or the same SYN again): track it from here.
      t.stack_synced = true;
      t.stack_iss = tcp->seq_number;
      t.stack_max = tcp->seq_number + 1;
      t.acked_any = false;
      REQUIRE(tcp->options.mss().has_value());  // RFC 9293 3.7.1: we always announce it
      if (f.has(TcpFlags::Ack)) {
        t.peer_nxt = tcp->ack_number;
      }
    }
    if (rst) {
      t.acked_any = false;  // the connection (if any) ends here
      return;
    }
    if (reset_replies_ && f.has(TcpFlags::Ack)) {
      resets_due_.emplace_back(t, tcp->ack_number);
    }
    if (!tainted_ && t.mss_max != 0) {
      REQUIRE(payload.size() <= t.mss_max);  // RFC 9293 3.7.1: never beyond the MSS offered
    }
    if (!t.stack_synced) {
      return;
    }
    const std::uint32_t seg_len = static_cast<std::uint32_t>(payload.size()) + (syn ? 1U : 0U) +
                                  (f.has(TcpFlags::Fin) ? 1U : 0U);
    const std::uint32_t end = tcp->seq_number + seg_len;
    if (seq_after(end, t.stack_max)) {
      t.stack_max = end;
    }
    if (f.has(TcpFlags::Ack)) {
      const std::uint32_t edge = tcp->ack_number + tcp->window;  // our window is never scaled (8 KiB)
      if (t.acked_any) {
        // RCV.NXT only advances; RFC 9293 3.8.6.2.2 / RFC 7323 2.4: the right edge does not shrink.
        REQUIRE(!seq_after(t.stack_ack, tcp->ack_number));
        REQUIRE(!seq_after(t.right_edge, edge));
      }
      t.acked_any = true;
      t.stack_ack = tcp->ack_number;
      t.right_edge = edge;
      if (seq_after(tcp->ack_number, t.peer_nxt)) {
        t.peer_nxt = tcp->ack_number;  // the peer's data got there some other way (a RAW frame)
      }
    }
    if (!payload.empty() && t.owner.has_value()) {
      const auto owner = handles_.find(*t.owner);
      if (owner == handles_.end()) {
        return;
      }
      // The data is what the app wrote at that offset of the stream, and nothing beyond it.
      const std::uint64_t k = tcp->seq_number - (t.stack_iss + 1);
      REQUIRE(k + payload.size() <= owner->second.sent);
      for (std::size_t i = 0; i < payload.size(); ++i) {
        REQUIRE(payload[i] == app_byte(k + i));
      }
    }
  }

  link::QueueDevice device_{link::QueueDeviceConfig{kOurMac, kMtu, 16, 16, 64}};
  Stack stack_{fuzz_config(), device_, 7};
  Instant now_ = Instant::epoch();
  std::vector<Tuple> tuples_;
  std::map<TcpSocketId, Handle> handles_;
  ByteVector scratch_;
  bool tainted_ = false;
  bool reset_replies_ = false;                            // finish(): answer everything with a RST
  std::vector<std::pair<Tuple, std::uint32_t>> resets_due_;  // (tuple, SEG.SEQ) to send after a drain
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Harness h;
  Reader in(Bytes(reinterpret_cast<const std::byte*>(data), size));
  for (std::size_t record = 0; record < kRecordsMax && !in.done(); ++record) {
    const std::uint8_t tag = *in.u8();
    switch (tag % 8) {
      case 0:
      case 1: h.segment(in, false); break;
      case 2:
        if (auto ms = in.u16()) {
          h.time(Duration::milliseconds(*ms));
        }
        break;
      case 3:
        if (auto s = in.u8()) {
          h.time(Duration::seconds(*s));
        }
        break;
      case 4: {
        auto action = in.u8();
        auto arg = in.u8();
        if (action && arg) {
          h.app(*action, *arg);
        }
        break;
      }
      case 5: {
        auto len = in.u16();
        if (!len) {
          break;
        }
        if (auto bytes = in.take(*len % 2048)) {
          h.raw(*bytes, (tag & 0x08) != 0);
        }
        break;
      }
      case 6:
        if (auto which = in.u8()) {
          h.arp(*which);
        }
        break;
      default: h.segment(in, true); break;
    }
    h.check();
  }
  h.finish();
  return 0;
}
