// TapDevice open errors, without touching the host's network: the clone
// device path is injectable, privileges are dropped in a forked child, and
// anything that creates an interface does so in a forked child inside its own
// network namespace (root only; skipped loudly otherwise). The live exchange
// with the kernel is tests/live/tap_device_test.sh.

#include "stack/os/tap_device.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include <gtest/gtest.h>

namespace tapstack::os {
namespace {

constexpr const char* kTunPath = "/dev/net/tun";
constexpr const char* kMissingPath = "/nonexistent-tapstack/net/tun";

bool is_root() { return ::geteuid() == 0; }
bool tun_present() { return ::access(kTunPath, F_OK) == 0; }

// Runs fn in a forked child and returns its exit code (or 200 + signal).
// The child must not return into GoogleTest: it _exit()s with fn's result.
int run_in_child(const std::function<int()>& fn) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    return 255;
  }
  if (pid == 0) {
    ::_exit(fn());
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) {
    return 254;
  }
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return 200 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

// In a child: become nobody (uid/gid 65534) with no supplementary groups and
// so no capabilities. Returns false if that failed.
bool drop_to_nobody() {
  return ::setgroups(0, nullptr) == 0 && ::setgid(65534) == 0 && ::setuid(65534) == 0 && ::geteuid() == 65534;
}

// Exit code for a child reporting which error an open produced: 1 + code,
// 0 if the open succeeded.
int exit_code_of(const Result<TapDevice, TapError>& r) {
  if (r.ok()) {
    return 0;
  }
  return 1 + static_cast<int>(r.error().code);
}
constexpr int exit_code_of(TapErrorCode c) { return 1 + static_cast<int>(c); }

TapConfig config_for(std::string name, std::string path = kTunPath) {
  TapConfig c;
  c.name = std::move(name);
  c.device_path = std::move(path);
  return c;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(TapDevice, NameOfIfnamsizBytesIsRejectedBeforeAnySyscall) {
  // 16 bytes: one more than fits. The path does not exist, so had open()
  // reached a syscall the error would be NoTunDevice instead.
  const std::string name = "tapstack-0123456";
  ASSERT_EQ(name.size(), 16u);
  auto r = TapDevice::open(config_for(name, kMissingPath));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, TapErrorCode::NameTooLong);
  EXPECT_EQ(r.error().sys_errno, 0);
  EXPECT_TRUE(contains(r.error().message, name)) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, "IFNAMSIZ")) << r.error().message;
}

TEST(TapDevice, MuchLongerNameIsRejected) {
  auto r = TapDevice::open(config_for(std::string(100, 'x'), kMissingPath));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, TapErrorCode::NameTooLong);
}

TEST(TapDevice, NameOfFifteenBytesPassesTheNameCheck) {
  const std::string name = "tapstack-012345";
  ASSERT_EQ(name.size(), TapDevice::kMaxNameLen);
  auto r = TapDevice::open(config_for(name, kMissingPath));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, TapErrorCode::NoTunDevice);
}

TEST(TapDevice, MissingCloneDeviceIsNoTunDevice) {
  auto r = TapDevice::open(config_for("tapx0", kMissingPath));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, TapErrorCode::NoTunDevice);
  EXPECT_EQ(r.error().sys_errno, ENOENT);
  EXPECT_TRUE(contains(r.error().message, "tapx0")) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, kMissingPath)) << r.error().message;
}

TEST(TapDevice, UnnamedInterfaceIsNamedInTheMessageAsNew) {
  auto r = TapDevice::open(config_for("", kMissingPath));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error().message, "(new tap)")) << r.error().message;
}

TEST(TapDevice, CloneDeviceThatIsNotTunIsASystemErrorWithStrerror) {
  // /dev/null opens fine but knows no TUNSETIFF: ENOTTY.
  auto r = TapDevice::open(config_for("tapx1", "/dev/null"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, TapErrorCode::System);
  EXPECT_EQ(r.error().sys_errno, ENOTTY);
  EXPECT_TRUE(contains(r.error().message, "tapx1: TUNSETIFF: ")) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, std::strerror(ENOTTY))) << r.error().message;
}

TEST(TapDevice, UnreadableCloneDeviceIsNoPermission) {
  // A file nobody may open stands in for a /dev/net/tun without access.
  std::array<char, 64> path{};
  std::snprintf(path.data(), path.size(), "/tmp/tapstack-tun-XXXXXX");
  const int fd = ::mkstemp(path.data());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fchmod(fd, 0), 0);
  ::close(fd);
  const std::string p = path.data();
  int code = 0;
  if (is_root()) {
    // Root reads anything (CAP_DAC_OVERRIDE): try as nobody.
    code = run_in_child([&] { return drop_to_nobody() ? exit_code_of(TapDevice::open(config_for("tapx2", p))) : 100; });
  } else {
    code = exit_code_of(TapDevice::open(config_for("tapx2", p)));
  }
  ::unlink(p.c_str());
  ASSERT_NE(code, 100) << "could not drop privileges to uid 65534";
  EXPECT_EQ(code, exit_code_of(TapErrorCode::NoPermission));
}

TEST(TapDevice, NoPermissionMessageSaysCapNetAdmin) {
  std::array<char, 64> path{};
  std::snprintf(path.data(), path.size(), "/tmp/tapstack-tun-XXXXXX");
  const int fd = ::mkstemp(path.data());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fchmod(fd, 0), 0);
  ::close(fd);
  const std::string p = path.data();
  auto check = [&] {
    auto r = TapDevice::open(config_for("tapx3", p));
    return !r.ok() && contains(r.error().message, "tapx3") && contains(r.error().message, "needs CAP_NET_ADMIN") ? 0
                                                                                                                   : 1;
  };
  const int code = is_root() ? run_in_child([&] { return drop_to_nobody() ? check() : 100; }) : check();
  ::unlink(p.c_str());
  EXPECT_EQ(code, 0);
}

TEST(TapDevice, RealTunWithoutPrivilegeIsNoPermission) {
  if (!tun_present()) {
    GTEST_SKIP() << "SKIPPED: " << kTunPath << " is missing on this machine; cannot test the unprivileged open";
  }
  // Without CAP_NET_ADMIN either open() fails (a 0600 node: EACCES) or
  // TUNSETIFF does (a 0666 node: EPERM for creating an interface). Nothing is
  // created either way.
  auto attempt = [] { return exit_code_of(TapDevice::open(config_for("tapstk-noperm"))); };
  const int code = is_root() ? run_in_child([&] { return drop_to_nobody() ? attempt() : 100; }) : attempt();
  ASSERT_NE(code, 100) << "could not drop privileges to uid 65534";
  if (code == 0) {
    GTEST_SKIP() << "SKIPPED: this unprivileged user may create TAP interfaces (CAP_NET_ADMIN?)";
  }
  EXPECT_EQ(code, exit_code_of(TapErrorCode::NoPermission));
}

// Root only: in a forked child inside a fresh network namespace (so nothing
// appears on the host), creates an interface and checks what open() reports.
// Child exit codes: 0 ok, 10 + step that failed.
int in_private_netns(const std::function<int()>& fn) {
  return run_in_child([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      return 99;
    }
    return fn();
  });
}

TEST(TapDevice, CreatesAttachesAndReportsBusyInAPrivateNetns) {
  if (!is_root() || !tun_present()) {
    GTEST_SKIP() << "SKIPPED: needs root and " << kTunPath << " (creates a TAP in a private network namespace)";
  }
  const int code = in_private_netns([] {
    TapConfig c = config_for("tapstk-busy");
    c.bring_up = true;
    auto first = TapDevice::open(c);
    if (!first.ok()) {
      std::fprintf(stderr, "open: %s\n", first.error().message.c_str());
      return 10;
    }
    TapDevice dev = std::move(*first);
    if (dev.name() != "tapstk-busy" || dev.fd() < 0 || dev.interface_index() <= 0) {
      return 11;
    }
    if ((::fcntl(dev.fd(), F_GETFL) & O_NONBLOCK) == 0) {
      return 12;
    }
    // The stack's address is unicast, locally administered, and not the kernel's.
    if (dev.mac() == dev.interface_mac() || !dev.mac().is_unicast() || (dev.mac().octets[0] & 0x02) == 0) {
      return 13;
    }
    if (dev.mtu() != 1500) {
      return 14;
    }
    // A second attach to a single-queue interface in use: EBUSY.
    auto second = TapDevice::open(config_for("tapstk-busy"));
    if (second.ok() || second.error().code != TapErrorCode::Busy ||
        !contains(second.error().message, "tapstk-busy")) {
      return 15;
    }
    // Nothing has been sent to the stack yet (no IPv6 in a bare netns
    // either, the link has no address): receive drains nothing, no error.
    link::FrameBatch batch;
    auto got = dev.receive(batch);
    if (!got.ok() || *got != 0) {
      return 16;
    }
    // A too-small batch is refused before any read.
    link::FrameBatch small(4, 100);
    auto refused = dev.receive(small);
    if (refused.ok() || refused.error() != link::DeviceError::BufferTooSmall) {
      return 17;
    }
    // Invalid frames never reach write().
    std::array<std::byte, 10> runt{};
    auto tx = dev.transmit(Bytes{runt});
    if (tx.ok() || tx.error() != link::DeviceError::FrameTooShort || dev.counters().tx_invalid != 1) {
      return 18;
    }
    // A moved-from device is closed.
    TapDevice moved = std::move(dev);
    if (dev.fd() != -1 || moved.fd() < 0) {  // NOLINT(bugprone-use-after-move): checking the moved-from state
      return 19;
    }
    auto closed = dev.receive(batch);  // NOLINT(bugprone-use-after-move)
    if (closed.ok() || closed.error() != link::DeviceError::Closed) {
      return 20;
    }
    return 0;
  });
  EXPECT_EQ(code, 0) << "child failed at step " << code << " (see the test source)";
}

TEST(TapDevice, KernelPicksTheNameWhenNoneIsGiven) {
  if (!is_root() || !tun_present()) {
    GTEST_SKIP() << "SKIPPED: needs root and " << kTunPath << " (creates a TAP in a private network namespace)";
  }
  const int code = in_private_netns([] {
    auto r = TapDevice::open(config_for(""));
    if (!r.ok()) {
      return 10;
    }
    return r->name().rfind("tap", 0) == 0 ? 0 : 11;
  });
  EXPECT_EQ(code, 0);
}

TEST(TapDevice, ErrorCodesHaveNames) {
  EXPECT_EQ(to_string(TapErrorCode::NameTooLong), "name too long");
  EXPECT_EQ(to_string(TapErrorCode::NoPermission), "no permission");
  EXPECT_EQ(to_string(TapErrorCode::NoTunDevice), "no tun device");
  EXPECT_EQ(to_string(TapErrorCode::Busy), "busy");
  EXPECT_EQ(to_string(TapErrorCode::System), "system error");
}

}  // namespace
}  // namespace tapstack::os
