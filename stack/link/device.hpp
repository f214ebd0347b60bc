#pragma once
// The abstract network device the stack transmits through and receives from,
// plus the pieces every device shares:
//
//   Frame / FrameOffload   one Ethernet frame (a view) and its offload metadata
//   FrameBatch             caller-owned storage a device receives frames into,
//                          allocated once, so a live loop drains a TAP in
//                          batches with no per-frame allocation
//   DeviceCapabilities     what a device offloads; all off for now
//   DeviceCounters         what went through, and every reason for a drop
//   Device                 the interface (TapDevice, QueueDevice, sim ports)
//   DeviceDecorator        forwards everything to a wrapped device; the pcap
//                          recorder and fault injector override what they change
//   QueueDevice            an in-memory device with bounded queues, for tests
//                          and the simulator
//
// Standard C++ only: no OS headers, no clock. Frames are Ethernet II without
// the FCS (what a TAP device exchanges). Nothing here blocks: a full device
// refuses frames and the caller keeps them; an empty one returns no frames.
//
// Offload design: the metadata mirrors the Linux virtio-net header
// (struct virtio_net_hdr, which a TAP with IFF_VNET_HDR prepends to every
// frame, with TUNSETOFFLOAD choosing which offloads the kernel may use), so
// checksum offload and TSO/GSO segments can be switched on later without
// changing the stack's side of this interface. Only plain frames of at most
// max_frame_len() bytes are implemented now: every device reports all offload
// capabilities off and refuses frames that carry offload metadata.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/address.hpp"

namespace tapstack::link {

// Length of an Ethernet II header without VLAN tag: what is added to the IP MTU
// to get the largest plain frame.
inline constexpr std::size_t kEthernetHeaderLen = 14;
// The IP MTU of an Ethernet link (RFC 894): the default for every device.
inline constexpr std::size_t kDefaultMtu = 1500;
// Largest plain frame at the default MTU: 1514 bytes (no FCS).
inline constexpr std::size_t kDefaultMaxFrameLen = kDefaultMtu + kEthernetHeaderLen;

// Why a device call failed. Refusing a frame because the device is full is
// NOT an error (transmit returns how many frames it took); these are.
enum class DeviceError : std::uint8_t {
  FrameTooShort,       // shorter than an Ethernet header (kEthernetHeaderLen)
  FrameTooLong,        // longer than max_frame_len() (plain frames) or tso_max_size (GSO frames)
  OffloadUnsupported,  // the frame carries offload metadata the device's capabilities do not allow
  BufferTooSmall,      // receive: the batch's slot_len() is below the device's rx_buffer_len()
  Io,                  // the OS call failed (the device keeps errno for diagnostics)
  Closed,              // the device is gone (TAP fd closed, interface deleted)
};

// A short lowercase description, for logs and CLI output.
constexpr std::string_view to_string(DeviceError e) {
  switch (e) {
    case DeviceError::FrameTooShort: return "frame too short";
    case DeviceError::FrameTooLong: return "frame too long";
    case DeviceError::OffloadUnsupported: return "offload unsupported";
    case DeviceError::BufferTooSmall: return "receive buffer too small";
    case DeviceError::Io: return "i/o error";
    case DeviceError::Closed: return "device closed";
  }
  return "unknown";
}

// Segmentation offload kind of a frame (virtio_net_hdr gso_type).
enum class GsoType : std::uint8_t {
  None,   // a plain frame (VIRTIO_NET_HDR_GSO_NONE)
  TcpV4,  // one large TCP/IPv4 segment to cut into gso_size-byte segments (VIRTIO_NET_HDR_GSO_TCPV4)
};

// Offload metadata that travels with a frame. A default-constructed value
// means "plain frame, nothing offloaded", the only kind implemented now.
struct FrameOffload {
  // Receive: the L4 checksum was already verified (by the host kernel or the
  // NIC; virtio VIRTIO_NET_HDR_F_DATA_VALID), so the stack may skip it
  // (wire::ChecksumCheck::Skip). Only set by devices whose capabilities have
  // rx_checksum_verified.
  bool checksum_verified = false;
  // Transmit: the L4 checksum is incomplete; the device computes the Internet
  // checksum of the bytes from checksum_start to the end of the frame and
  // stores it at checksum_start + checksum_offset (virtio
  // VIRTIO_NET_HDR_F_NEEDS_CSUM). Needs tx_checksum_offload.
  bool needs_checksum = false;
  // Offset from the start of the frame where checksumming begins (the L4 header).
  std::uint16_t checksum_start = 0;
  // Offset of the checksum field from checksum_start (16 for TCP, 6 for UDP).
  std::uint16_t checksum_offset = 0;
  // Transmit: segmentation offload kind; anything but None needs tso_max_size > 0.
  GsoType gso_type = GsoType::None;
  // Transmit: payload bytes per segment (the MSS) when gso_type is not None.
  std::uint16_t gso_size = 0;

  // True when nothing is offloaded: what every device handles.
  constexpr bool is_plain() const { return !checksum_verified && !needs_checksum && gso_type == GsoType::None; }

  bool operator==(const FrameOffload&) const = default;
};

// One Ethernet frame: a view of bytes owned elsewhere (the stack's transmit
// buffer, or a FrameBatch slot), plus its offload metadata.
struct Frame {
  Bytes data;             // the whole frame, Ethernet header first, no FCS
  FrameOffload offload{};  // default: a plain frame
};

// What a device can offload. Everything is off for every device now; the
// fields exist so a TAP with IFF_VNET_HDR can turn offloads on later.
struct DeviceCapabilities {
  // Frames per transmit_batch() or receive() call the device handles in one go
  // (a hint for sizing FrameBatch and transmit arrays; callers may pass more,
  // the device then takes what it can).
  std::size_t max_batch = 1;
  // Received frames may carry FrameOffload::checksum_verified.
  bool rx_checksum_verified = false;
  // Transmitted frames may carry FrameOffload::needs_checksum.
  bool tx_checksum_offload = false;
  // Largest GSO frame (gso_type != None) the device accepts; 0: no TSO.
  std::size_t tso_max_size = 0;
  // Largest coalesced frame the device may deliver on receive (GRO/LRO, the
  // kernel handing over merged TCP segments); 0: receive frames are never
  // larger than max_frame_len().
  std::size_t lro_max_size = 0;
  // The device exchanges a virtio_net_hdr with the kernel in front of each
  // frame (TAP IFF_VNET_HDR). Informational: the header never reaches the
  // stack, its contents are translated to and from FrameOffload.
  bool vnet_header = false;

  bool operator==(const DeviceCapabilities&) const = default;
};

// Counters of one device. Every frame that is not delivered is counted under
// exactly one reason. Counters only grow.
struct DeviceCounters {
  std::uint64_t tx_frames = 0;   // frames taken by transmit (sent, or queued for sending)
  std::uint64_t tx_bytes = 0;    // bytes of those frames
  std::uint64_t tx_full = 0;     // frames refused because the device was full (not taken: the caller
                                 // still holds them; a frame refused twice counts twice)
  std::uint64_t tx_invalid = 0;  // frames rejected as invalid (too short, too long, unsupported offload)
  std::uint64_t tx_errors = 0;   // frames lost to an I/O error
  std::uint64_t rx_frames = 0;   // frames delivered by receive()
  std::uint64_t rx_bytes = 0;    // bytes of those frames
  std::uint64_t rx_dropped = 0;  // frames that arrived but were dropped because the receive queue was full
  std::uint64_t rx_invalid = 0;  // frames that arrived but were dropped as too short or too long
  std::uint64_t rx_errors = 0;   // failed receive calls (I/O errors)

  bool operator==(const DeviceCounters&) const = default;
};

// Storage for a batch of received frames, allocated once by the caller and
// reused: capacity() slots of slot_len() bytes each, plus per-frame metadata.
// A device appends frames with next_slot() + commit() (or push()); the caller
// reads them through frames() and calls clear() before the next receive.
//
// Frame views point into the batch's own storage: they stay valid until
// clear() or destruction (moving the batch keeps them valid; copying is
// disabled because the copy's views would point into the original).
// Misuse (committing past capacity, a length beyond the slot) is a programmer
// error and aborts, like reading the wrong alternative of a Result.
class FrameBatch {
 public:
  // Frames per batch a live loop reads before returning to the event loop.
  static constexpr std::size_t kDefaultCapacity = 64;

  // capacity: number of frames (>= 1); slot_len: bytes per frame slot, at
  // least the receiving device's rx_buffer_len().
  explicit FrameBatch(std::size_t capacity = kDefaultCapacity, std::size_t slot_len = kDefaultMaxFrameLen);
  FrameBatch(const FrameBatch&) = delete;
  FrameBatch& operator=(const FrameBatch&) = delete;
  FrameBatch(FrameBatch&&) noexcept = default;
  FrameBatch& operator=(FrameBatch&&) noexcept = default;
  ~FrameBatch() = default;

  // Maximum number of frames the batch holds.
  std::size_t capacity() const { return capacity_; }
  // Bytes available to each frame.
  std::size_t slot_len() const { return slot_len_; }
  // Number of frames held.
  std::size_t size() const { return frames_.size(); }
  // No frames held.
  bool empty() const { return frames_.empty(); }
  // No free slot left: receive() appends nothing more.
  bool full() const { return frames_.size() == capacity_; }
  // Free slots left.
  std::size_t remaining() const { return capacity_ - frames_.size(); }

  // The frames held, in arrival order; the span can be passed straight to
  // Device::transmit_batch (e.g. a simulated link forwarding a batch).
  std::span<const Frame> frames() const { return frames_; }
  // Frame i. Precondition: i < size().
  const Frame& operator[](std::size_t i) const;
  // Writable bytes of frame i (i < size()), for in-place rewriting (a fault
  // injector corrupting a byte).
  MutableBytes mutable_data(std::size_t i);
  // Iteration over the frames held, in arrival order.
  auto begin() const { return frames_.begin(); }
  // End of the frames held.
  auto end() const { return frames_.end(); }

  // Forgets all frames; the storage is kept for the next receive.
  void clear() { frames_.clear(); }

  // Device side: the whole slot_len()-byte storage of the next free slot, to
  // read a frame into. Precondition: !full(). Nothing is added until commit().
  MutableBytes next_slot();
  // Device side: appends the frame of `len` bytes just written into
  // next_slot(), with its offload metadata. Precondition: !full(), len <= slot_len().
  void commit(std::size_t len, FrameOffload offload = {});
  // Copies a frame into the next slot. Returns false, adding nothing, when
  // the batch is full or the frame is longer than slot_len().
  bool push(const Frame& frame);
  // Same, for a plain frame.
  bool push(Bytes frame) { return push(Frame{frame}); }

 private:
  std::size_t capacity_;
  std::size_t slot_len_;
  ByteVector storage_;         // capacity_ * slot_len_ bytes, allocated once
  std::vector<Frame> frames_;  // views into storage_; capacity reserved once
};

// A network device: where the stack's Ethernet frames go out and come in.
// Implementations: os::TapDevice (live), QueueDevice (tests), simulator ports,
// and decorators around any of them. Not thread-safe; never blocks.
class Device {
 public:
  Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  virtual ~Device() = default;

  // The device's own Ethernet address (the source of frames the stack sends).
  virtual wire::MacAddress mac() const = 0;
  // The IP MTU in bytes (default kDefaultMtu): the largest IP datagram a plain
  // frame carries.
  virtual std::size_t mtu() const = 0;
  // What the device offloads (see DeviceCapabilities; all off for now).
  virtual DeviceCapabilities capabilities() const = 0;
  // Counters since the device was created.
  virtual DeviceCounters counters() const = 0;

  // Offers frames for transmission, in order, without blocking. Returns how
  // many leading frames were taken (sent, or queued by the device); frames
  // after those were not taken and remain the caller's to retry or drop. A
  // full device takes fewer than offered, possibly 0: that is not an error.
  // An invalid first frame (too short, too long, unsupported offload) or an
  // I/O failure before any frame was taken is returned as the error; if it
  // happens after some frames were taken, the count is returned and the next
  // call, starting at the offending frame, reports it. The device does not
  // keep the views: their bytes may be reused as soon as the call returns.
  virtual Result<std::size_t, DeviceError> transmit_batch(std::span<const Frame> frames) = 0;

  // Appends waiting received frames to `batch` (at most batch.remaining()),
  // without blocking, and returns how many it appended (0: none waiting, or
  // the batch is full). Frames already in the batch are left alone. Fails
  // with BufferTooSmall when batch.slot_len() < rx_buffer_len(). Received
  // frames that are malformed (too short, too long) are dropped and counted,
  // never returned.
  virtual Result<std::size_t, DeviceError> receive(FrameBatch& batch) = 0;

  // Largest plain frame: mtu() + kEthernetHeaderLen (1514 at MTU 1500).
  std::size_t max_frame_len() const { return mtu() + kEthernetHeaderLen; }
  // The slot_len() a FrameBatch needs for receive(): max_frame_len(), or the
  // LRO size if the device delivers coalesced frames.
  std::size_t rx_buffer_len() const;

  // Transmits one plain frame: true if taken, false if refused because the
  // device is full; errors as for transmit_batch. (Non-virtual: goes through
  // transmit_batch, so decorators see every frame there.)
  Result<bool, DeviceError> transmit(Bytes frame);
  // Same, for a frame with offload metadata.
  Result<bool, DeviceError> transmit(const Frame& frame);

 protected:
  // For implementations: checks a frame against mtu() and capabilities()
  // before transmitting it. Returns the error transmit_batch should report,
  // or nullopt if the frame is acceptable.
  std::optional<DeviceError> validate_tx(const Frame& frame) const;
};

// A device that forwards every call to a wrapped device. Decorators (pcap
// recording, fault injection) derive from it and override only what they
// change. It does not own the wrapped device, which must outlive it.
class DeviceDecorator : public Device {
 public:
  // Wraps `inner`; every call is forwarded to it unless overridden. To wrap
  // a decorator of the very same type, pass it as Device&
  // (`Faulty outer(static_cast<Device&>(inner_faulty))`): given the derived
  // type, overload resolution picks the deleted copy constructor instead.
  explicit DeviceDecorator(Device& inner) : inner_(inner) {}

  // Forwarded to the wrapped device.
  wire::MacAddress mac() const override { return inner_.mac(); }
  // Forwarded to the wrapped device.
  std::size_t mtu() const override { return inner_.mtu(); }
  // Forwarded to the wrapped device.
  DeviceCapabilities capabilities() const override { return inner_.capabilities(); }
  // Forwarded to the wrapped device (decorators keep their own counters separately).
  DeviceCounters counters() const override { return inner_.counters(); }
  // Forwarded to the wrapped device.
  Result<std::size_t, DeviceError> transmit_batch(std::span<const Frame> frames) override {
    return inner_.transmit_batch(frames);
  }
  // Forwarded to the wrapped device.
  Result<std::size_t, DeviceError> receive(FrameBatch& batch) override { return inner_.receive(batch); }

 protected:
  // The wrapped device.
  Device& inner() { return inner_; }
  // The wrapped device.
  const Device& inner() const { return inner_; }

 private:
  Device& inner_;
};

// Configuration of a QueueDevice. Queue bounds are in frames.
struct QueueDeviceConfig {
  wire::MacAddress mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};  // locally administered
  std::size_t mtu = kDefaultMtu;
  std::size_t tx_queue_frames = 256;  // transmitted frames kept for inspection; beyond: refused (tx_full)
  std::size_t rx_queue_frames = 256;  // injected frames waiting for receive(); beyond: dropped (rx_dropped)
  std::size_t max_batch = FrameBatch::kDefaultCapacity;  // reported in capabilities().max_batch
};

// An in-memory device for tests and the simulator: frames transmitted by the
// stack are copied into a bounded queue the test inspects and pops; frames
// injected by the test wait in a bounded queue and are what receive()
// returns. Behaves like a real device at its limits: a full transmit queue
// refuses frames (the caller keeps them), a full receive queue drops injected
// frames and counts them. Plain frames only (no offloads).
class QueueDevice : public Device {
 public:
  // A device with the given address, MTU and queue bounds.
  explicit QueueDevice(QueueDeviceConfig config = {});

  // The configured address.
  wire::MacAddress mac() const override { return config_.mac; }
  // The configured MTU.
  std::size_t mtu() const override { return config_.mtu; }
  // All offloads off; max_batch as configured.
  DeviceCapabilities capabilities() const override;
  // The device's counters.
  DeviceCounters counters() const override { return counters_; }
  // Copies frames into the transmit queue until it is full (see Device).
  Result<std::size_t, DeviceError> transmit_batch(std::span<const Frame> frames) override;
  // Moves injected frames into the batch, oldest first (see Device).
  Result<std::size_t, DeviceError> receive(FrameBatch& batch) override;

  // Test side: a frame arriving from the wire. Returns false, counting the
  // frame, when it is dropped: rx_invalid if shorter than an Ethernet header or
  // longer than max_frame_len(), rx_dropped if the receive queue is full.
  bool inject(Bytes frame);
  // Frames injected and not yet received.
  std::size_t rx_pending() const { return rx_queue_.size(); }

  // Test side: the transmitted frames not yet popped, oldest first.
  const std::deque<ByteVector>& transmitted() const { return tx_queue_; }
  // Test side: removes and returns the oldest transmitted frame; nullopt if none.
  std::optional<ByteVector> pop_transmitted();
  // Test side: forgets all transmitted frames (frees the transmit queue).
  void clear_transmitted() { tx_queue_.clear(); }

 private:
  QueueDeviceConfig config_;  // address, MTU and queue bounds
  DeviceCounters counters_;   // what Device::counters() reports
  std::deque<ByteVector> tx_queue_;  // at most config_.tx_queue_frames
  std::deque<ByteVector> rx_queue_;  // at most config_.rx_queue_frames
};

}  // namespace tapstack::link
