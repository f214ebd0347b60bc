#include "stack/capture/pcap_recorder.hpp"

#include <utility>

namespace tapstack::capture {

PcapRecorder::PcapRecorder(link::Device& inner, PcapWriter writer, std::function<Instant()> clock)
    : DeviceDecorator(inner), writer_(std::move(writer)), clock_(std::move(clock)) {}

Result<std::size_t, link::DeviceError> PcapRecorder::transmit_batch(std::span<const link::Frame> frames) {
  auto taken = inner().transmit_batch(frames);
  if (taken.ok() && *taken > 0) {
    const Instant now = clock_();
    for (const link::Frame& frame : frames.first(*taken)) {
      record(now, frame.data);
    }
  }
  return taken;
}

Result<std::size_t, link::DeviceError> PcapRecorder::receive(link::FrameBatch& batch) {
  // Only the frames this call appends are recorded, not ones already held.
  const std::size_t before = batch.size();
  auto appended = inner().receive(batch);
  if (appended.ok() && *appended > 0) {
    const Instant now = clock_();
    for (const link::Frame& frame : batch.frames().subspan(before)) {
      record(now, frame.data);
    }
  }
  return appended;
}

void PcapRecorder::record(Instant timestamp, Bytes frame) {
  auto written = writer_.write(timestamp, frame);
  if (!written.ok()) {
    write_errors_++;
    if (!first_write_error_) {
      first_write_error_ = written.error();
    }
    return;
  }
  frames_recorded_++;
}

}  // namespace tapstack::capture
