#!/usr/bin/env bash
# Live test of TapDevice against the Linux kernel, in a private network
# namespace: the kernel side of a TAP has 10.77.0.1/24, and tap_probe (built
# from tests/live/tap_probe.cpp) attaches to the TAP as 10.77.0.2, resolves
# the kernel with ARP and pings it. Nothing is sent outside the namespace.
#
#   tests/live/tap_device_test.sh BUILD_DIR
#
# Exit: 0 passed, 1 failed, 77 skipped (not root, or no /dev/net/tun).
set -euo pipefail

build="${1:?usage: tap_device_test.sh BUILD_DIR}"
probe="$build/tests/tap_probe"

skip() {
  echo "SKIPPED: live.tap_device_test: $*"
  exit 77
}
if [ "$(id -u)" -ne 0 ]; then
  skip "needs root (creates a network namespace and a TAP interface)"
fi
if [ ! -c /dev/net/tun ]; then
  skip "/dev/net/tun is missing (no TUN/TAP support in this kernel or container)"
fi
for tool in ip timeout; do
  command -v "$tool" >/dev/null || skip "$tool is missing (run ci/bootstrap)"
done
if [ ! -x "$probe" ]; then
  echo "FAILED: $probe is not built (cmake --build $build --target tap_probe)"
  exit 1
fi

ns="tapstack-live-tap-$$"
ifname="tapl0"
kernel_ip=10.77.0.1
probe_ip=10.77.0.2

cleanup() {
  # Anything still running in the namespace was started by this script.
  local pid
  for pid in $(ip netns pids "$ns" 2>/dev/null); do
    kill "$pid" 2>/dev/null || true
  done
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT

in_ns() { ip netns exec "$ns" "$@"; }

ip netns add "$ns"
# No IPv6, so that no router solicitation or MLD report crosses the TAP.
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
in_ns ip link set lo up
# A persistent TAP (IFF_TAP | IFF_NO_PI) that the probe attaches to.
in_ns ip tuntap add dev "$ifname" mode tap
in_ns ip addr add "$kernel_ip/24" dev "$ifname"
in_ns ip link set "$ifname" up

status=0
in_ns timeout 20 "$probe" "$ifname" "$kernel_ip" "$probe_ip" || status=$?

# The kernel's side of the story: its counters for the interface saw the
# probe's frames (3 written: ARP request, 2 echo requests) and its answers
# (3 sent). They outlive the probe; the neighbour entry does not (the kernel
# flushes it when the TAP loses carrier as the probe closes its fd).
kernel_rx="$(in_ns cat "/sys/class/net/$ifname/statistics/rx_packets")"
kernel_tx="$(in_ns cat "/sys/class/net/$ifname/statistics/tx_packets")"
echo "kernel counters for $ifname: rx_packets $kernel_rx, tx_packets $kernel_tx"
if [ "$kernel_rx" -lt 3 ] || [ "$kernel_tx" -lt 3 ]; then
  echo "FAIL the kernel counted fewer than 3 frames each way"
  status=1
fi

if [ "$status" -ne 0 ]; then
  echo "FAILED: live.tap_device_test (status $status)"
  exit 1
fi
echo "PASSED: live.tap_device_test"
