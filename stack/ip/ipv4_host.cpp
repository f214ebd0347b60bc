// The IPv4 host's core: construction, the poll() driver, counters and memory
// accounting. The layers live in ethernet_input.cpp, ipv4_input.cpp,
// ipv4_output.cpp, icmp_handling.cpp and udp/udp_layer.cpp.

#include <stdexcept>
#include <string>

#include "stack/stack.hpp"

namespace tapstack {

namespace {

StackConfig checked(StackConfig config, const link::Device& device) {
  if (auto ok = config.validate(); !ok.ok()) {
    throw std::invalid_argument("stack config: " + ok.error());
  }
  if (config.interface.mtu > device.mtu()) {
    throw std::invalid_argument("stack config: interface.mtu " + std::to_string(config.interface.mtu) +
                                " exceeds the device MTU " + std::to_string(device.mtu()));
  }
  return config;
}

}  // namespace

Stack::Stack(StackConfig config, link::Device& device, std::uint64_t seed)
    : config_(checked(std::move(config), device)),
      device_(device),
      rng_(seed),
      arp_(config_.arp, config_.interface.address),
      reassembler_(config_.reassembly),
      icmp_errors_(config_.icmp.errors_per_second, config_.icmp.error_burst),
      tcp_challenge_acks_(config_.tcp.challenge_acks_per_second, config_.tcp.challenge_acks_per_second) {
  // RFC 6528 3: the ISN key is secret and random; here it comes from its own stream of the
  // caller's seed, so adding TCP did not change the other draws of a seeded run.
  Rng isn_rng(derive_seed(seed, 0x7463702d69736e00ULL));  // "tcp-isn"
  isn_key_ = tcp::IsnKey::generate(isn_rng);
  // RFC 6864 4.1 / RFC 791: the identification only has to be unique per (source, destination,
  // protocol) within a reassembly lifetime; a counter from a random start does that and does not
  // reveal how many datagrams this host sent since boot.
  next_ip_id_ = static_cast<std::uint16_t>(rng_.next_u32());
}

void Stack::announce() { announce_pending_ = true; }

Instant Stack::poll(Instant now) {
  advance(now);
  if (!started_) {
    // RFC 5227 3: announce our address once the interface comes up, so neighbours that
    // cached an older mapping update it.
    started_ = true;
    announce_pending_ = true;
  }
  flush_tx_queue();
  if (announce_pending_) {
    announce_pending_ = false;
    send_gratuitous_arp();
  }
  arp_.poll(
      now_, [this](wire::Ipv4Address ip) { send_arp_request(ip); },
      // The datagrams were ours (this host does not forward), so there is nobody to send
      // ICMP host unreachable to: the cache counted them (arp.pending_dropped_give_up).
      [](wire::Ipv4Address, std::size_t, Bytes) {});
  reassembler_.poll(now_, [this](const ip::ExpiredDatagram& expired) { reassembly_expired(expired, now_); });

  Instant next = std::min({arp_.next_deadline(), reassembler_.next_deadline(), tcp_poll()});
  if (!tx_queue_.empty()) {
    next = std::min(next, now_ + config_.tx_retry_interval);
  }
  return next;
}

void Stack::for_each_counter(const std::function<void(std::string_view, std::uint64_t)>& f) const {
  auto prefixed = [&f](std::string_view prefix) {
    return [&f, prefix](std::string_view name, std::uint64_t value) {
      std::string full;
      full.reserve(prefix.size() + name.size());
      full.append(prefix);
      full.append(name);
      f(full, value);
    };
  };
  counters_.eth.visit(prefixed("eth."));
  counters_.arp.visit(prefixed("arp."));
  arp_.counters().visit(prefixed("arp."));
  counters_.ip.visit(prefixed("ip."));
  reassembler_.counters().visit(prefixed("ip.reassembly."));
  counters_.icmp.visit(prefixed("icmp."));
  counters_.udp.visit(prefixed("udp."));
  tcp_counters_.visit(prefixed("tcp."));
}

std::optional<std::uint64_t> Stack::counter(std::string_view name) const {
  std::optional<std::uint64_t> found;
  for_each_counter([&](std::string_view n, std::uint64_t value) {
    if (n == name) {
      found = value;
    }
  });
  return found;
}

std::size_t Stack::memory_held() const {
  std::size_t udp = 0;
  for (const auto& [id, socket] : sockets_) {
    udp += socket.queued_bytes;
  }
  std::size_t tcp = 0;
  for (const auto& [id, entry] : tcp_entries_) {
    tcp += entry.connection ? entry.connection->memory_held() : 0;
  }
  return arp_.pending_bytes() + reassembler_.bytes_held() + udp + echo_reply_bytes_ + tx_queue_bytes_ + tcp;
}

std::size_t Stack::memory_limit() const {
  const std::size_t frame_max = std::max(config_.interface.mtu + link::kEthernetHeaderLen, kEthernetFrameMin);
  return config_.arp.pending_bytes_total_max + config_.reassembly.total_bytes_max +
         config_.udp.sockets_max * config_.udp.receive_queue_bytes_max + config_.icmp.echo_reply_bytes_max +
         config_.tx_queue_frames_max * frame_max +
         config_.tcp.connections_max * (config_.tcp.send_buffer_bytes + config_.tcp.receive_buffer_bytes);
}

}  // namespace tapstack
