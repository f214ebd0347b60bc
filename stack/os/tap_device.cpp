#include "stack/os/tap_device.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace tapstack::os {

namespace {

// Per receive() call, at most this many frames are dropped as invalid before
// returning, so a flood of runts cannot hold the event loop; the fd stays
// readable and the next call goes on.
constexpr std::size_t kRxInvalidBudget = 64;
// A non-blocking read() or write() interrupted by a signal is retried this
// many times at most.
constexpr int kEintrRetries = 8;

static_assert(TapDevice::kMaxNameLen + 1 == IFNAMSIZ, "kMaxNameLen must follow the kernel's IFNAMSIZ");

TapErrorCode classify(int err) {
  switch (err) {
    case EPERM:
    case EACCES:
      return TapErrorCode::NoPermission;
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return TapErrorCode::NoTunDevice;
    case EBUSY:
      return TapErrorCode::Busy;
    default:
      return TapErrorCode::System;
  }
}

// "<ifname>: <step>: <strerror> (<hint>)"
TapError os_error(std::string_view ifname, std::string_view step, int err) {
  TapError e;
  e.code = classify(err);
  e.sys_errno = err;
  e.message.append(ifname).append(": ").append(step).append(": ").append(std::strerror(err));
  switch (e.code) {
    case TapErrorCode::NoPermission:
      e.message.append(" (needs CAP_NET_ADMIN: run as root or grant the capability)");
      break;
    case TapErrorCode::NoTunDevice:
      e.message.append(" (no TUN/TAP support: is the tun module loaded and /dev/net/tun present?)");
      break;
    case TapErrorCode::Busy:
      e.message.append(" (another process has the interface open)");
      break;
    case TapErrorCode::NameTooLong:
    case TapErrorCode::System:
      break;
  }
  return e;
}

// Closes a descriptor on every return path of open().
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

ifreq make_ifreq(const std::string& name) {
  ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  // name.size() < IFNAMSIZ was checked, so the name stays NUL-terminated.
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  return ifr;
}

bool is_zero(const wire::MacAddress& m) { return m == wire::MacAddress{}; }

// A unicast, locally administered (IEEE 802 U/L bit) address that differs
// from the interface's own.
wire::MacAddress derive_stack_mac(wire::MacAddress interface_mac) {
  wire::MacAddress m = interface_mac;
  m.octets[0] = static_cast<std::uint8_t>((m.octets[0] | 0x02) & ~0x01);
  m.octets[5] = static_cast<std::uint8_t>(m.octets[5] ^ 0x01);
  return m;
}

}  // namespace

Result<TapDevice, TapError> TapDevice::open(const TapConfig& config) {
  // Checked before any syscall: the kernel would silently truncate it.
  if (config.name.size() > kMaxNameLen) {
    TapError e;
    e.code = TapErrorCode::NameTooLong;
    e.message = config.name + ": interface name is " + std::to_string(config.name.size()) +
                " bytes; at most " + std::to_string(kMaxNameLen) + " fit (IFNAMSIZ " + std::to_string(IFNAMSIZ) +
                ")";
    return fail(std::move(e));
  }
  const std::string shown = config.name.empty() ? std::string("(new tap)") : config.name;

  FdGuard fd(::open(config.device_path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) {
    return fail(os_error(shown, "open " + config.device_path, errno));
  }

  // Attaches to the interface if it exists, creates it otherwise.
  // Documentation/networking/tuntap.rst: IFF_TAP for Ethernet frames,
  // IFF_NO_PI for no 4-byte packet information prefix.
  // vnet: IFF_VNET_HDR goes here; then TUNSETVNETHDRSZ (sizeof(struct
  // virtio_net_hdr)) and TUNSETOFFLOAD (TUN_F_CSUM | TUN_F_TSO4) after
  // TUNSETIFF, and capabilities() reports what was granted.
  ifreq ifr = make_ifreq(config.name);
  ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI);
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
    return fail(os_error(shown, "TUNSETIFF", errno));
  }
  // The kernel's name for it (chosen by the kernel if the config had none).
  std::string name(ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ));

  // Interface queries and flag changes go through any socket of the
  // interface's network namespace (netdevice(7)).
  FdGuard ctl(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (ctl.get() < 0) {
    return fail(os_error(name, "socket(AF_INET, SOCK_DGRAM)", errno));
  }

  ifr = make_ifreq(name);
  if (::ioctl(ctl.get(), SIOCGIFHWADDR, &ifr) < 0) {
    return fail(os_error(name, "SIOCGIFHWADDR", errno));
  }
  wire::MacAddress interface_mac;
  for (std::size_t i = 0; i < interface_mac.octets.size(); ++i) {
    interface_mac.octets[i] = static_cast<std::uint8_t>(ifr.ifr_hwaddr.sa_data[i]);
  }

  ifr = make_ifreq(name);
  if (::ioctl(ctl.get(), SIOCGIFMTU, &ifr) < 0) {
    return fail(os_error(name, "SIOCGIFMTU", errno));
  }
  const std::size_t mtu = ifr.ifr_mtu > 0 ? static_cast<std::size_t>(ifr.ifr_mtu) : link::kDefaultMtu;

  ifr = make_ifreq(name);
  if (::ioctl(ctl.get(), SIOCGIFINDEX, &ifr) < 0) {
    return fail(os_error(name, "SIOCGIFINDEX", errno));
  }
  const int ifindex = ifr.ifr_ifindex;

  if (config.bring_up) {
    ifr = make_ifreq(name);
    if (::ioctl(ctl.get(), SIOCGIFFLAGS, &ifr) < 0) {
      return fail(os_error(name, "SIOCGIFFLAGS", errno));
    }
    if ((ifr.ifr_flags & IFF_UP) == 0) {
      ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
      if (::ioctl(ctl.get(), SIOCSIFFLAGS, &ifr) < 0) {
        return fail(os_error(name, "SIOCSIFFLAGS (IFF_UP)", errno));
      }
    }
  }

  const wire::MacAddress mac = is_zero(config.mac) ? derive_stack_mac(interface_mac) : config.mac;
  return TapDevice(fd.release(), std::move(name), interface_mac, mac, mtu, ifindex);
}

TapDevice::TapDevice(int fd, std::string name, wire::MacAddress interface_mac, wire::MacAddress mac,
                     std::size_t mtu, int ifindex)
    : fd_(fd), name_(std::move(name)), interface_mac_(interface_mac), mac_(mac), mtu_(mtu), ifindex_(ifindex) {}

TapDevice::TapDevice(TapDevice&& other) noexcept
    : Device(),
      fd_(std::exchange(other.fd_, -1)),
      name_(std::move(other.name_)),
      interface_mac_(other.interface_mac_),
      mac_(other.mac_),
      mtu_(other.mtu_),
      ifindex_(other.ifindex_),
      last_errno_(other.last_errno_),
      counters_(other.counters_) {}

TapDevice& TapDevice::operator=(TapDevice&& other) noexcept {
  if (this != &other) {
    close_fd();
    fd_ = std::exchange(other.fd_, -1);
    name_ = std::move(other.name_);
    interface_mac_ = other.interface_mac_;
    mac_ = other.mac_;
    mtu_ = other.mtu_;
    ifindex_ = other.ifindex_;
    last_errno_ = other.last_errno_;
    counters_ = other.counters_;
  }
  return *this;
}

TapDevice::~TapDevice() { close_fd(); }

void TapDevice::close_fd() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

link::DeviceCapabilities TapDevice::capabilities() const {
  link::DeviceCapabilities caps;
  caps.max_batch = link::FrameBatch::kDefaultCapacity;
  // vnet: with IFF_VNET_HDR, rx_checksum_verified, tx_checksum_offload,
  // tso_max_size and vnet_header follow what TUNSETOFFLOAD accepted.
  return caps;
}

Result<std::size_t, link::DeviceError> TapDevice::transmit_batch(std::span<const link::Frame> frames) {
  if (fd_ < 0) {
    return fail(link::DeviceError::Closed);
  }
  std::size_t taken = 0;
  for (const link::Frame& frame : frames) {
    if (auto invalid = validate_tx(frame)) {
      if (taken == 0) {
        counters_.tx_invalid++;
        return fail(*invalid);
      }
      break;  // the next call starts at this frame and reports it
    }
    // vnet: writev() a virtio_net_hdr built from frame.offload, then the frame.
    ssize_t n = -1;
    int err = 0;
    for (int attempt = 0; attempt <= kEintrRetries; ++attempt) {
      n = ::write(fd_, frame.data.data(), frame.data.size());
      err = n < 0 ? errno : 0;
      if (err != EINTR) {
        break;
      }
    }
    if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS)) {
      // The kernel's queue is full: a refusal, the caller keeps the frames.
      counters_.tx_full += frames.size() - taken;
      break;
    }
    if (n < 0 || static_cast<std::size_t>(n) != frame.data.size()) {
      // A TAP write takes a whole frame or fails; a short count is an error too.
      if (taken > 0) {
        break;  // the next call starts at this frame and reports it
      }
      last_errno_ = n < 0 ? err : EIO;
      counters_.tx_errors++;
      return fail(err == EBADFD ? link::DeviceError::Closed : link::DeviceError::Io);
    }
    counters_.tx_frames++;
    counters_.tx_bytes += frame.data.size();
    taken++;
  }
  return taken;
}

Result<std::size_t, link::DeviceError> TapDevice::receive(link::FrameBatch& batch) {
  if (fd_ < 0) {
    return fail(link::DeviceError::Closed);
  }
  if (batch.slot_len() < rx_buffer_len()) {
    return fail(link::DeviceError::BufferTooSmall);
  }
  std::size_t appended = 0;
  std::size_t invalid = 0;
  int interrupted = 0;
  while (!batch.full() && invalid < kRxInvalidBudget) {
    // vnet: readv() the virtio_net_hdr and the frame; translate its flags
    // into the FrameOffload passed to commit().
    MutableBytes slot = batch.next_slot();
    const ssize_t n = ::read(fd_, slot.data(), slot.size());
    if (n < 0) {
      const int err = errno;
      if (err == EINTR && ++interrupted <= kEintrRetries) {
        continue;
      }
      if (err == EAGAIN || err == EWOULDBLOCK) {
        break;  // drained
      }
      last_errno_ = err;
      counters_.rx_errors++;
      if (appended > 0) {
        break;  // deliver what arrived; the error shows again on the next call
      }
      // EBADFD: the interface was deleted under the open fd.
      return fail(err == EBADFD ? link::DeviceError::Closed : link::DeviceError::Io);
    }
    const auto len = static_cast<std::size_t>(n);
    // A frame larger than the slot is cut short by read() but its full length
    // is returned, so `len > max_frame_len()` also catches truncation.
    if (len < link::kEthernetHeaderLen || len > max_frame_len()) {
      counters_.rx_invalid++;
      invalid++;
      continue;
    }
    batch.commit(len);
    counters_.rx_frames++;
    counters_.rx_bytes += len;
    appended++;
  }
  return appended;
}

}  // namespace tapstack::os
