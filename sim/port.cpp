#include "sim/port.hpp"

#include <cstdlib>

#include "sim/recording.hpp"
#include "sim/scheduler.hpp"

namespace tapstack::sim {

Result<Unit, std::string> check_name(std::string_view option, std::string_view name) {
  if (name.empty()) {
    return fail(std::string(option) + ": must not be empty");
  }
  if (name.size() > kNameLenMax) {
    return fail(std::string(option) + ": \"" + std::string(name) + "\" is longer than " +
                std::to_string(kNameLenMax) + " characters");
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) {
      return fail(std::string(option) + ": \"" + std::string(name) +
                  "\" may only contain letters, digits, '_', '-' and '.'");
    }
  }
  return Unit{};
}

wire::MacAddress mac_from_name(std::string_view name) {
  // FNV-1a 64: a fixed, documented hash, so the address never changes.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : name) {
    h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  wire::MacAddress mac;
  // 0x02: locally administered (U/L bit set), unicast (I/G bit clear), IEEE 802 clause 8.
  mac.octets[0] = 0x02;
  for (std::size_t i = 1; i < 6; ++i) {
    mac.octets[i] = static_cast<std::uint8_t>(h >> (8 * (i - 1)));
  }
  return mac;
}

Result<Unit, std::string> PortConfig::validate(std::string_view option) const {
  const std::string prefix(option);
  if (auto named = check_name(prefix + ".name", name); !named.ok()) {
    return named;
  }
  if (mac.is_multicast()) {
    return fail(prefix + ".mac: " + mac.to_string() + " is a group address; a port needs a unicast address");
  }
  if (mtu < kMtuMin || mtu > kMtuMax) {
    return fail(prefix + ".mtu: must be in [" + std::to_string(kMtuMin) + ", " + std::to_string(kMtuMax) +
                "], got " + std::to_string(mtu));
  }
  if (rx_queue_frames == 0) {
    return fail(prefix + ".rx_queue_frames: must be at least 1");
  }
  return Unit{};
}

wire::MacAddress PortConfig::effective_mac() const {
  return mac == wire::MacAddress{} ? mac_from_name(name) : mac;
}

Port::Port(const PortConfig& config, Scheduler& scheduler, Recorder* recorder)
    : name_(config.name),
      mac_(config.effective_mac()),
      mtu_(config.mtu),
      rx_queue_frames_(config.rx_queue_frames),
      scheduler_(scheduler),
      recorder_(recorder) {
  if (!config.validate("port").ok()) {
    std::abort();
  }
}

link::DeviceCapabilities Port::capabilities() const {
  link::DeviceCapabilities caps;
  caps.max_batch = link::FrameBatch::kDefaultCapacity;
  return caps;
}

Result<std::size_t, link::DeviceError> Port::transmit_batch(std::span<const link::Frame> frames) {
  if (outlet_ == nullptr) {
    return fail(link::DeviceError::Closed);
  }
  const Instant now = scheduler_.now();
  std::size_t taken = 0;
  const std::size_t frame_len_max = max_frame_len();
  for (const link::Frame& frame : frames) {
    // Fast path for the plain frames of the right size that make up all
    // traffic; anything else gets the full check (and its error).
    const bool plain_and_sized = frame.offload.is_plain() && frame.data.size() >= link::kEthernetHeaderLen &&
                                 frame.data.size() <= frame_len_max;
    if (auto invalid = plain_and_sized ? std::nullopt : validate_tx(frame)) {
      if (taken == 0) {
        counters_.tx_invalid++;
        return fail(*invalid);
      }
      // Reported (and counted) by the next call, which starts at this frame.
      break;
    }
    if (!outlet_->has_room()) {
      counters_.tx_full += frames.size() - taken;
      break;
    }
    counters_.tx_frames++;
    counters_.tx_bytes += frame.data.size();
    if (capture_) {
      recorder_->capture(frame.data, now);
    }
    outlet_->push(frame.data, now);
    taken++;
  }
  return taken;
}

Result<std::size_t, link::DeviceError> Port::receive(link::FrameBatch& batch) {
  if (batch.slot_len() < rx_buffer_len()) {
    return fail(link::DeviceError::BufferTooSmall);
  }
  std::size_t appended = 0;
  while (!rx_queue_.empty() && !batch.full()) {
    // push() admits no frame longer than max_frame_len() <= slot_len().
    if (!batch.push(as_bytes(rx_queue_.front()))) {
      std::abort();
    }
    counters_.rx_frames++;
    counters_.rx_bytes += rx_queue_.front().size();
    rx_queue_.pop_front();
    appended++;
  }
  return appended;
}

void Port::push(Bytes frame, Instant now) {
  if (frame.size() < link::kEthernetHeaderLen || frame.size() > max_frame_len()) {
    counters_.rx_invalid++;
    if (recorder_ != nullptr) {
      recorder_->port_dropped(name_, "rx_invalid", frame.size(), now);
    }
    return;
  }
  if (capture_) {
    recorder_->capture(frame, now);
  }
  if (receiver_ != nullptr) {
    counters_.rx_frames++;
    counters_.rx_bytes += frame.size();
    receiver_->port_received(frame, now);
    return;
  }
  if (rx_queue_.size() >= rx_queue_frames_) {
    counters_.rx_dropped++;
    if (recorder_ != nullptr) {
      recorder_->port_dropped(name_, "rx_queue_full", frame.size(), now);
    }
    return;
  }
  rx_queue_.emplace_back(frame.begin(), frame.end());
}

}  // namespace tapstack::sim
