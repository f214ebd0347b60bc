#pragma once
// A simulated network interface: the link::Device a host transmits through,
// attached to one end of a point-to-point link or to a port of a segment.
//
// Transmit: frames are validated like any device does (length, MTU, offload)
// and pushed, at the virtual clock's now(), into the wire direction leaving
// the port; when that direction holds its maximum of frames in flight the
// port refuses further frames (tx_full), like a full NIC ring.
//
// Receive: a frame arriving from the wire goes to the attached receiver (the
// world's driver of the host, which calls Host::receive then Host::poll);
// with no receiver attached it waits in a bounded queue that
// Device::receive(batch) drains, so a test can use a bare port as a device.
// The port passes every frame up, whatever its destination address, as a TAP
// device does: filtering is the stack's job.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/base/time.hpp"
#include "stack/link/device.hpp"
#include "stack/wire/address.hpp"

namespace tapstack::sim {

class Recorder;
class Scheduler;

// Anything frames can be pushed into: a wire direction, a port, a switch input.
class FrameSink {
 public:
  // False when the sink is full and a frame pushed now would be refused.
  virtual bool has_room() const = 0;
  // Takes a copy of `frame` (the view is only valid during the call) at `now`.
  virtual void push(Bytes frame, Instant now) = 0;

 protected:
  FrameSink() = default;
  FrameSink(const FrameSink&) = default;
  FrameSink& operator=(const FrameSink&) = default;
  ~FrameSink() = default;
};

// Where a port hands the frames that arrive for it (the world's host driver).
class PortReceiver {
 public:
  virtual void port_received(Bytes frame, Instant now) = 0;

 protected:
  PortReceiver() = default;
  PortReceiver(const PortReceiver&) = default;
  PortReceiver& operator=(const PortReceiver&) = default;
  ~PortReceiver() = default;
};

// Names of ports, links, segments and hosts: 1..kNameLenMax characters of
// [A-Za-z0-9_.-], so they read unambiguously in logs and command lines.
inline constexpr std::size_t kNameLenMax = 32;
// Ok, or an error naming `option` ("link.name: ...").
Result<Unit, std::string> check_name(std::string_view option, std::string_view name);

// A locally administered unicast address derived from `name` (02:xx:xx:xx:xx:xx,
// a hash of the name), the default address of a port.
wire::MacAddress mac_from_name(std::string_view name);

struct PortConfig {
  std::string name;                              // unique in the world
  wire::MacAddress mac{};                        // all zero: mac_from_name(name)
  std::size_t mtu = link::kDefaultMtu;           // IP MTU; frames up to mtu + 14 bytes
  std::size_t rx_queue_frames = 256;             // bound of the queue used when no host is attached

  // Largest IP MTU a port accepts (the largest frame then still fits 16 bits).
  static constexpr std::size_t kMtuMax = 65535 - link::kEthernetHeaderLen;
  // Smallest IP MTU (RFC 791: every internet module must handle 68 octets).
  static constexpr std::size_t kMtuMin = 68;

  // An error naming the option (prefixed with `option`, e.g. "link wan.a") for
  // a bad name, a multicast address, an MTU outside [68, 65521], or an empty
  // receive queue.
  Result<Unit, std::string> validate(std::string_view option) const;
  // The address the port uses (mac, or the one derived from the name).
  wire::MacAddress effective_mac() const;
};

class Port final : public link::Device, public FrameSink {
 public:
  // Transmitted frames are timestamped with scheduler.now(); recorder (may be
  // null) captures the port's frames when told to. `config` must validate.
  Port(const PortConfig& config, Scheduler& scheduler, Recorder* recorder);

  // ---- link::Device: the host side ----
  wire::MacAddress mac() const override { return mac_; }
  std::size_t mtu() const override { return mtu_; }
  link::DeviceCapabilities capabilities() const override;
  link::DeviceCounters counters() const override { return counters_; }
  // Validates each frame and pushes it into the wire at now(); stops at the
  // first frame the wire has no room for (tx_full). A port not connected to
  // a wire fails with DeviceError::Closed.
  Result<std::size_t, link::DeviceError> transmit_batch(std::span<const link::Frame> frames) override;
  // Frames queued while no receiver is attached, oldest first.
  Result<std::size_t, link::DeviceError> receive(link::FrameBatch& batch) override;

  // ---- the wire side ----
  const std::string& name() const { return name_; }
  // Where transmitted frames go: the wire direction leaving this port.
  void connect(FrameSink& outlet) { outlet_ = &outlet; }
  // Frames arriving from now on go to `receiver` instead of the queue.
  void attach(PortReceiver& receiver) { receiver_ = &receiver; }
  bool attached() const { return receiver_ != nullptr; }
  // Records this port's frames (both directions) in the recorder's pcap.
  void set_capture(bool capture) { capture_ = capture && recorder_ != nullptr; }
  bool capture() const { return capture_; }
  // Always room: arriving frames beyond the queue bound are dropped and counted.
  bool has_room() const override { return true; }
  // A frame arriving from the wire. Frames longer than max_frame_len() are
  // dropped (rx_invalid), as a NIC drops giants.
  void push(Bytes frame, Instant now) override;
  // Frames waiting in the queue (no receiver attached).
  std::size_t rx_pending() const { return rx_queue_.size(); }

 private:
  std::string name_;
  wire::MacAddress mac_;
  std::size_t mtu_;
  std::size_t rx_queue_frames_;
  Scheduler& scheduler_;
  Recorder* recorder_;
  FrameSink* outlet_ = nullptr;
  PortReceiver* receiver_ = nullptr;
  bool capture_ = false;
  link::DeviceCounters counters_;
  std::deque<ByteVector> rx_queue_;  // only without a receiver; at most rx_queue_frames_
};

}  // namespace tapstack::sim
