#pragma once
// TapDevice: a Linux TAP interface (/dev/net/tun, IFF_TAP | IFF_NO_PI) as a
// link::Device. The kernel sees an Ethernet interface; every frame the kernel
// sends on it is read() here, and every frame written here arrives at the
// kernel as if from a wire. The stack is one host on that wire and the
// kernel, with the interface's addresses, is another.
//
// Non-blocking: the file descriptor is opened O_NONBLOCK and exposed by fd()
// for an epoll loop (EPOLLIN: frames to receive; transmit never waits).
// receive() drains up to one FrameBatch of frames until EAGAIN; transmit
// writes one frame per write(), and a full kernel queue (EAGAIN) is a refusal,
// not an error.
//
// Plain frames only now. Room for IFF_VNET_HDR (checksum offload, TSO/GSO) is
// left where marked "vnet": the open flags, a TUNSETVNETHDRSZ/TUNSETOFFLOAD
// step, and receive/transmit translating a struct virtio_net_hdr in front of
// each frame to and from link::FrameOffload.
//
// This is the only place in stack/ besides other stack/os/ files that includes
// Linux headers, and it does so in the .cpp only.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "stack/base/result.hpp"
#include "stack/link/device.hpp"
#include "stack/wire/address.hpp"

namespace tapstack::os {

// Why opening a TAP device failed.
enum class TapErrorCode : std::uint8_t {
  NameTooLong,   // the name has IFNAMSIZ (16) or more bytes; checked before any syscall
  NoPermission,  // EPERM/EACCES: creating or configuring the interface needs CAP_NET_ADMIN
  NoTunDevice,   // ENOENT/ENODEV/ENXIO: no /dev/net/tun (tun module not loaded, no device node)
  Busy,          // EBUSY: another process has the interface open
  System,        // any other errno (the message carries strerror)
};

constexpr std::string_view to_string(TapErrorCode c) {
  switch (c) {
    case TapErrorCode::NameTooLong: return "name too long";
    case TapErrorCode::NoPermission: return "no permission";
    case TapErrorCode::NoTunDevice: return "no tun device";
    case TapErrorCode::Busy: return "busy";
    case TapErrorCode::System: return "system error";
  }
  return "unknown";
}

// A failed open: the code to branch on, the errno (0 when no syscall failed),
// and a one-line message for people that names the interface and the step,
// e.g. "tap0: TUNSETIFF: Operation not permitted (needs CAP_NET_ADMIN)".
struct TapError {
  TapErrorCode code = TapErrorCode::System;
  int sys_errno = 0;
  std::string message;
};

struct TapConfig {
  // Interface to attach to, or to create if it does not exist. Empty: the
  // kernel creates one and picks the name (tap0, tap1, ...); name() tells it.
  std::string name;
  // Set IFF_UP on the interface after opening (SIOCSIFFLAGS; needs
  // CAP_NET_ADMIN). Off: leave the link state to whoever configured it.
  bool bring_up = false;
  // The stack's own Ethernet address, the source of the frames it sends
  // (Device::mac()). All zero: derived from the interface's address by
  // setting the locally administered bit and flipping the last octet's low
  // bit, so it never equals the kernel's side.
  wire::MacAddress mac{};
  // The clone device. Only tests change it (to provoke the open errors).
  std::string device_path = "/dev/net/tun";
};

class TapDevice final : public link::Device {
 public:
  // Longest interface name: IFNAMSIZ - 1 bytes (the kernel's buffer holds a NUL).
  static constexpr std::size_t kMaxNameLen = 15;

  // Opens the clone device, attaches to or creates the interface
  // (TUNSETIFF), reads the interface's MAC address and MTU, and brings the
  // link up if asked. Every failure is a TapError; no exceptions.
  static Result<TapDevice, TapError> open(const TapConfig& config);

  TapDevice(TapDevice&& other) noexcept;
  TapDevice& operator=(TapDevice&& other) noexcept;
  // Closes the file descriptor. A non-persistent interface (one this device
  // created) disappears with it; a persistent one (`ip tuntap add`) stays.
  ~TapDevice() override;

  // The non-blocking file descriptor, for epoll; -1 after a move.
  int fd() const { return fd_; }
  // The interface name as the kernel knows it.
  const std::string& name() const { return name_; }
  // The interface's (the kernel side's) Ethernet address, for information:
  // the kernel answers ARP with it and sends from it.
  wire::MacAddress interface_mac() const { return interface_mac_; }
  // The interface index (SIOCGIFINDEX).
  int interface_index() const { return ifindex_; }
  // errno of the last failed read() or write(), 0 if none (DeviceError::Io
  // carries no detail; this is where it is).
  int last_errno() const { return last_errno_; }

  // link::Device
  wire::MacAddress mac() const override { return mac_; }
  std::size_t mtu() const override { return mtu_; }
  link::DeviceCapabilities capabilities() const override;
  link::DeviceCounters counters() const override { return counters_; }
  // One write() per frame, in order. EAGAIN/ENOBUFS: the frame and the rest
  // are refused (counted in tx_full) and the count taken so far is returned.
  Result<std::size_t, link::DeviceError> transmit_batch(std::span<const link::Frame> frames) override;
  // read()s frames into the batch until EAGAIN or the batch is full. Frames
  // shorter than an Ethernet header or longer than max_frame_len() are
  // dropped (rx_invalid).
  Result<std::size_t, link::DeviceError> receive(link::FrameBatch& batch) override;

 private:
  TapDevice(int fd, std::string name, wire::MacAddress interface_mac, wire::MacAddress mac, std::size_t mtu,
            int ifindex);
  void close_fd();

  int fd_ = -1;
  std::string name_;
  wire::MacAddress interface_mac_;
  wire::MacAddress mac_;
  std::size_t mtu_ = link::kDefaultMtu;
  int ifindex_ = 0;
  int last_errno_ = 0;
  link::DeviceCounters counters_;
};

}  // namespace tapstack::os
