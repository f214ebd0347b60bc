#include "stack/link/device.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace tapstack::link {

// ---- FrameBatch ----

FrameBatch::FrameBatch(std::size_t capacity, std::size_t slot_len)
    : capacity_(capacity), slot_len_(slot_len), storage_(capacity * slot_len) {
  if (capacity == 0 || slot_len == 0) {
    std::abort();
  }
  frames_.reserve(capacity);
}

const Frame& FrameBatch::operator[](std::size_t i) const {
  if (i >= frames_.size()) {
    std::abort();
  }
  return frames_[i];
}

MutableBytes FrameBatch::mutable_data(std::size_t i) {
  if (i >= frames_.size()) {
    std::abort();
  }
  return MutableBytes{storage_.data() + i * slot_len_, frames_[i].data.size()};
}

MutableBytes FrameBatch::next_slot() {
  if (full()) {
    std::abort();
  }
  return MutableBytes{storage_.data() + frames_.size() * slot_len_, slot_len_};
}

void FrameBatch::commit(std::size_t len, FrameOffload offload) {
  if (full() || len > slot_len_) {
    std::abort();
  }
  const std::byte* start = storage_.data() + frames_.size() * slot_len_;
  frames_.push_back(Frame{Bytes{start, len}, offload});
}

bool FrameBatch::push(const Frame& frame) {
  if (full() || frame.data.size() > slot_len_) {
    return false;
  }
  MutableBytes slot = next_slot();
  if (!frame.data.empty()) {
    std::memcpy(slot.data(), frame.data.data(), frame.data.size());
  }
  commit(frame.data.size(), frame.offload);
  return true;
}

// ---- Device ----

std::size_t Device::rx_buffer_len() const { return std::max(max_frame_len(), capabilities().lro_max_size); }

Result<bool, DeviceError> Device::transmit(Bytes frame) { return transmit(Frame{frame}); }

Result<bool, DeviceError> Device::transmit(const Frame& frame) {
  auto taken = transmit_batch(std::span<const Frame>{&frame, 1});
  if (!taken.ok()) {
    return fail(taken.error());
  }
  return *taken == 1;
}

std::optional<DeviceError> Device::validate_tx(const Frame& frame) const {
  if (frame.data.size() < kEthernetHeaderLen) {
    return DeviceError::FrameTooShort;
  }
  const FrameOffload& off = frame.offload;
  // checksum_verified describes a received frame; on transmit it means nothing
  // a device could do, so it is refused like any other unsupported offload.
  if (off.checksum_verified) {
    return DeviceError::OffloadUnsupported;
  }
  const DeviceCapabilities caps = capabilities();
  if (off.needs_checksum) {
    if (!caps.tx_checksum_offload) {
      return DeviceError::OffloadUnsupported;
    }
    // The checksum field must lie inside the frame.
    if (std::size_t{off.checksum_start} + off.checksum_offset + 2 > frame.data.size()) {
      return DeviceError::OffloadUnsupported;
    }
  }
  if (off.gso_type != GsoType::None) {
    if (caps.tso_max_size == 0 || off.gso_size == 0 || !off.needs_checksum) {
      return DeviceError::OffloadUnsupported;
    }
    if (frame.data.size() > caps.tso_max_size) {
      return DeviceError::FrameTooLong;
    }
    return std::nullopt;
  }
  if (frame.data.size() > max_frame_len()) {
    return DeviceError::FrameTooLong;
  }
  return std::nullopt;
}

// ---- QueueDevice ----

QueueDevice::QueueDevice(QueueDeviceConfig config) : config_(config) {}

DeviceCapabilities QueueDevice::capabilities() const {
  DeviceCapabilities caps;
  caps.max_batch = config_.max_batch;
  return caps;
}

Result<std::size_t, DeviceError> QueueDevice::transmit_batch(std::span<const Frame> frames) {
  std::size_t taken = 0;
  for (const Frame& frame : frames) {
    if (auto invalid = validate_tx(frame)) {
      if (taken == 0) {
        counters_.tx_invalid++;
        return fail(*invalid);
      }
      // Reported (and counted) by the next call, which starts at this frame.
      break;
    }
    if (tx_queue_.size() >= config_.tx_queue_frames) {
      counters_.tx_full += frames.size() - taken;
      break;
    }
    tx_queue_.emplace_back(frame.data.begin(), frame.data.end());
    counters_.tx_frames++;
    counters_.tx_bytes += frame.data.size();
    taken++;
  }
  return taken;
}

Result<std::size_t, DeviceError> QueueDevice::receive(FrameBatch& batch) {
  if (batch.slot_len() < rx_buffer_len()) {
    return fail(DeviceError::BufferTooSmall);
  }
  std::size_t appended = 0;
  while (!rx_queue_.empty() && !batch.full()) {
    // inject() admits no frame longer than max_frame_len() <= slot_len().
    const bool pushed = batch.push(as_bytes(rx_queue_.front()));
    if (!pushed) {
      std::abort();
    }
    counters_.rx_frames++;
    counters_.rx_bytes += rx_queue_.front().size();
    rx_queue_.pop_front();
    appended++;
  }
  return appended;
}

bool QueueDevice::inject(Bytes frame) {
  if (frame.size() < kEthernetHeaderLen || frame.size() > max_frame_len()) {
    counters_.rx_invalid++;
    return false;
  }
  if (rx_queue_.size() >= config_.rx_queue_frames) {
    counters_.rx_dropped++;
    return false;
  }
  rx_queue_.emplace_back(frame.begin(), frame.end());
  return true;
}

std::optional<ByteVector> QueueDevice::pop_transmitted() {
  if (tx_queue_.empty()) {
    return std::nullopt;
  }
  ByteVector frame = std::move(tx_queue_.front());
  tx_queue_.pop_front();
  return frame;
}

}  // namespace tapstack::link
