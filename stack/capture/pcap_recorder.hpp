#pragma once
// A device decorator that records every frame passing through it, in both
// directions, to a pcap file: what `tcpdump -i tap0` would show, but written
// by the stack itself, in the order the stack saw the frames, so a live run or
// a simulated one can be inspected with Wireshark afterwards.
//
// Timestamps come from a caller-supplied clock (live: the monotonic clock;
// sim: the virtual clock), so simulated runs give byte-identical files. The
// clock is read once per transmit_batch or receive call that moves frames;
// all frames of one batch share that timestamp.
//
// A failure to write the capture never disturbs traffic: frames still pass,
// the failure is counted and its first message kept.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "stack/base/time.hpp"
#include "stack/capture/pcap_file.hpp"
#include "stack/link/device.hpp"

namespace tapstack::capture {

class PcapRecorder : public link::DeviceDecorator {
 public:
  // Records frames through `inner` (which must outlive the recorder) to
  // `writer` (owned from now on), stamped with `clock()`.
  PcapRecorder(link::Device& inner, PcapWriter writer, std::function<Instant()> clock);

  // Forwards to the wrapped device, then records the frames it took, in order.
  // Frames refused (device full) or rejected (invalid) are not recorded: they
  // did not leave.
  Result<std::size_t, link::DeviceError> transmit_batch(std::span<const link::Frame> frames) override;
  // Forwards to the wrapped device, then records the frames it appended.
  Result<std::size_t, link::DeviceError> receive(link::FrameBatch& batch) override;

  // The capture file, e.g. to flush() it from a live loop.
  PcapWriter& writer() { return writer_; }
  // Frames recorded (both directions).
  std::uint64_t frames_recorded() const { return frames_recorded_; }
  // Frames that could not be written to the capture (they still passed).
  std::uint64_t write_errors() const { return write_errors_; }
  // The message of the first write error, if any.
  const std::optional<std::string>& first_write_error() const { return first_write_error_; }

 private:
  void record(Instant timestamp, Bytes frame);

  PcapWriter writer_;
  std::function<Instant()> clock_;
  std::uint64_t frames_recorded_ = 0;
  std::uint64_t write_errors_ = 0;
  std::optional<std::string> first_write_error_;
};

}  // namespace tapstack::capture
