# Shared by the tests/live/live_*_test.sh scripts (sourced, not run; not a
# test itself: ctest registers only *_test.sh). Each test runs tapstack live in
# its own lab (ci/lab, namespaces named after the test and its PID) and talks
# to it from the client namespace with the kernel's ping, socat and friends.
#
#   live_init NAME BUILD_DIR [TOOL...]  skip checks (exit 77), the lab, cleanup trap
#   lab ARGS...                          ci/lab for this test's lab
#   start_tapstack PCAP [ARGS...]        tapstack live in the lab, recording to PCAP ("-": no
#                                        capture); waits until it runs and the client has resolved it
#   stop_tapstack                        SIGTERM, bounded wait, checks exit 0 and the counters
#   counter NAME                         a counter from the last stopped run's exit report (0 if absent)
#   check_pcap PCAP                      tshark: frames parse, zero malformed, zero bad checksums
#                                        (IPv4, ICMP, UDP, TCP); live_tshark_args: extra tshark options
#   bytes_pattern N                      the body of tapstack's /bytes/N on stdout
#   chargen_pattern N                    the first N bytes of an RFC 864 chargen stream on stdout
#   save_capture NAME PCAP               copy to $TAPSTACK_CAPTURE_DIR/NAME.pcap when that is set
#   ok / bad MESSAGE                     record a check; finish prints PASSED/FAILED and exits
#
# Every wait is bounded in tries and time; only processes this test started are
# signalled, by PID.

live_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# The lab's fixed addresses (ci/lab).
readonly stack_ip=10.99.0.2
readonly stack_prefix=24
readonly gateway_ip=10.99.0.1
readonly client_ip=10.99.0.3
readonly stack_mac=02:54:0a:63:00:02 # tapstack's default MAC for 10.99.0.2 (02:54 + the address)

live_failures=0
live_pids=()
tapstack_pid=""

live_skip() {
  echo "SKIPPED: live.$live_name: $*"
  echo "*** live.$live_name did NOT run: $* ***" >&2
  exit 77
}

ok() { echo "  ok   $*"; }
bad() {
  echo "  FAIL $*"
  live_failures=$((live_failures + 1))
}
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
  local what="$1"
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

finish() {
  if [ "$live_failures" -ne 0 ]; then
    echo "FAILED: live.$live_name ($live_failures checks failed; logs in $live_work)"
    live_keep_work=1
    exit 1
  fi
  echo "PASSED: live.$live_name"
  exit 0
}

lab() { TAPSTACK_LAB="$live_lab" "$live_repo/ci/lab" "$@"; }
in_client() { lab client "$@"; }

live_cleanup() {
  local pid
  for pid in "${live_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${live_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  lab down >/dev/null 2>&1 || true
  if [ -z "${live_keep_work:-}" ] && [ -z "${KEEP_WORK:-}" ]; then
    rm -rf "$live_work"
  fi
}

live_init() {
  live_name="$1"
  live_build="$2"
  shift 2
  tapstack="$live_build/tools/tapstack"
  if [ "$(id -u)" -ne 0 ]; then
    live_skip "needs root (creates network namespaces and a TAP interface)"
  fi
  if [ ! -c /dev/net/tun ]; then
    live_skip "/dev/net/tun is missing (no TUN/TAP support in this kernel or container)"
  fi
  local tool
  for tool in ip timeout tshark "$@"; do
    command -v "$tool" >/dev/null || live_skip "$tool is missing (run ci/bootstrap)"
  done
  if [ ! -x "$tapstack" ]; then
    echo "FAILED: live.$live_name: $tapstack is not built (cmake --build $live_build --target tapstack)"
    exit 1
  fi
  # Short: namespace names end up in /run/netns; PID keeps parallel runs apart.
  live_lab="ts-${live_name%_test}-$$"
  live_work="$(mktemp -d "/tmp/tapstack-$live_name.XXXXXX")"
  trap live_cleanup EXIT
  lab up >/dev/null
}

# wait_until SECONDS WHAT COMMAND...: polls every 50 ms; false after SECONDS.
wait_until() {
  local seconds="$1" what="$2"
  shift 2
  local tries=$((seconds * 20))
  while ! "$@" >/dev/null 2>&1; do
    tries=$((tries - 1))
    if [ "$tries" -le 0 ]; then
      echo "  (timed out after ${seconds}s waiting for $what)"
      return 1
    fi
    sleep 0.05
  done
}

# start_tapstack PCAP [ARGS...]
start_tapstack() {
  local pcap="$1"
  shift
  tapstack_log="$live_work/tapstack.$((${#live_pids[@]} + 1)).log"
  # A plain command (not the lab function, which would fork a subshell) and `ci/lab exec`
  # execs into tapstack: $! is tapstack's own PID.
  local record=(--pcap "$pcap")
  if [ "$pcap" = - ]; then
    record=()
  fi
  TAPSTACK_LAB="$live_lab" "$live_repo/ci/lab" exec "$tapstack" live --tap tap0 --ip "$stack_ip/$stack_prefix" --gateway "$gateway_ip" "${record[@]}" \
    "$@" >"$tapstack_log" 2>&1 &
  tapstack_pid=$!
  live_pids+=("$tapstack_pid")
  if ! wait_until 10 "tapstack to start" grep -q "running;" "$tapstack_log"; then
    bad "tapstack started"
    cat "$tapstack_log"
    finish
  fi
  # The gratuitous ARP may be seen before the client has an entry; one ping makes the
  # client resolve tapstack (ARP request from the kernel, reply from tapstack).
  if ! wait_until 10 "the client to reach tapstack" in_client ping -c 1 -W 1 "$stack_ip"; then
    bad "the client reaches tapstack"
    cat "$tapstack_log"
    finish
  fi
}

# stop_tapstack: SIGTERM, at most 10 s for a clean exit; checks status 0 and the exit report.
stop_tapstack() {
  local status=0 tries=200
  kill -TERM "$tapstack_pid" 2>/dev/null || true
  while kill -0 "$tapstack_pid" 2>/dev/null && [ "$tries" -gt 0 ]; do
    sleep 0.05
    tries=$((tries - 1))
  done
  if kill -0 "$tapstack_pid" 2>/dev/null; then
    bad "tapstack exits within 10 s of SIGTERM"
    kill -KILL "$tapstack_pid" 2>/dev/null || true
  fi
  wait "$tapstack_pid" || status=$?
  check "tapstack exits 0 on SIGTERM (status $status)" [ "$status" -eq 0 ]
  check "tapstack reports the stop and prints its counters" \
    grep -q "stopped by SIGTERM" "$tapstack_log"
  check "exit report has the frame counters" grep -qE '^  eth\.rx_frames +[1-9]' "$tapstack_log"
  check "no ASan/UBSan report" bash -c "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$tapstack_log'"
}

# counter NAME: its value in the last run's exit report (counters at 0 are not listed).
counter() {
  local v
  v="$(sed -n '/^tapstack live: counters$/,$p' "$tapstack_log" | awk -v n="$1" '$1 == n {print $2}' | tail -n 1)"
  echo "${v:-0}"
}

# Extra tshark options for tshark_count and check_pcap, e.g. (-d tcp.port==9,data): random
# payloads on ports without a dissector otherwise go to heuristic dissectors (Thrift, ...) that
# may call them malformed.
live_tshark_args=()

# The frames of PCAP tshark flags, with checksum validation on for every layer.
tshark_count() {
  local pcap="$1" filter="$2"
  tshark -n -r "$pcap" "${live_tshark_args[@]}" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
    -o tcp.check_checksum:TRUE -Y "$filter" -T fields -e frame.number 2>/dev/null | wc -l
}

# TCP: the kernel now and then sends 0xffff where the sum is 0x0000 (one's complement -0, which
# RFC 1624 section 3 shows a receiver must accept as +0); tshark calls it bad. Forgiven in the
# kernel's frames only: tapstack computes its checksums whole and must send +0.
readonly live_bad_checksum_filter="ip.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\" || icmp.checksum.status == \"Bad\" || (tcp.checksum.status == \"Bad\" && !(tcp.checksum.ffff && eth.src != $stack_mac)) || ip.checksum_bad.expert || udp.checksum.bad || icmp.checksum_bad || tcp.checksum_bad.expert"

check_pcap() {
  local pcap="$1" frames malformed badsum
  if ! tshark -n -r "$pcap" "${live_tshark_args[@]}" >/dev/null 2>"$live_work/tshark.err"; then
    bad "tshark reads $pcap: $(head -c 300 "$live_work/tshark.err")"
    return
  fi
  frames="$(tshark -n -r "$pcap" "${live_tshark_args[@]}" -T fields -e frame.number 2>/dev/null | wc -l)"
  malformed="$(tshark_count "$pcap" '_ws.malformed')"
  badsum="$(tshark_count "$pcap" "$live_bad_checksum_filter")"
  check "tshark parses the capture ($frames frames)" [ "$frames" -gt 0 ]
  check "zero malformed frames ($malformed)" [ "$malformed" -eq 0 ]
  check "zero bad checksums: IPv4, ICMP, UDP, TCP ($badsum)" [ "$badsum" -eq 0 ]
  local minus_zero
  minus_zero="$(tshark_count "$pcap" "tcp.checksum.ffff && eth.src != $stack_mac")"
  if [ "$minus_zero" -gt 0 ]; then
    echo "  (the kernel sent $minus_zero TCP segments with checksum 0xffff for 0x0000, RFC 1624: accepted)"
  fi
  # The checker must be able to fail: a copy with one IPv4 header byte flipped is flagged, and
  # when the capture has TCP, a copy with one byte of a TCP header flipped too.
  if command -v python3 >/dev/null; then
    local canary="$live_work/canary.pcap" layer
    for layer in ip tcp; do
      if python3 - "$pcap" "$canary" "$layer" <<'EOF'; then
import sys
data = bytearray(open(sys.argv[1], "rb").read())
layer = sys.argv[3]
# pcap: 24-byte file header, then 16-byte record headers. ip: corrupt the first IPv4 frame's
# TTL; tcp: the window field of the first unfragmented IPv4 TCP segment.
order = "little" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else "big"
off = 24
while off + 16 <= len(data):
    caplen = int.from_bytes(data[off + 8:off + 12], order)
    frame = off + 16
    ip = frame + 14
    if data[frame + 12:frame + 14] == b"\x08\x00" and caplen >= 34:
        if layer == "ip":
            data[ip + 8] ^= 0x01
            break
        ihl = (data[ip] & 0x0F) * 4
        unfragmented = (int.from_bytes(data[ip + 6:ip + 8], "big") & 0x3FFF) == 0
        if data[ip + 9] == 6 and unfragmented and caplen >= 14 + ihl + 20:
            data[ip + ihl + 14] ^= 0x01
            break
    off = frame + caplen
else:
    sys.exit(1)  # no such frame: nothing to corrupt
# Only the frames up to the corrupted one: tshark need not read a large capture again.
open(sys.argv[2], "wb").write(data[:frame + caplen])
EOF
        check "the checksum check catches a copy with a corrupted $layer header" \
          [ "$(tshark_count "$canary" "$live_bad_checksum_filter")" -ge 1 ]
      fi
    done
  fi
}

# bytes_pattern N: tapstack's /bytes/N body (byte i is 'a' + i % 26), made independently of it.
bytes_pattern() {
  (
    set +o pipefail
    yes abcdefghijklmnopqrstuvwxyz | tr -d '\n' | head -c "$1"
  )
}

# chargen_pattern N: the first N bytes of the RFC 864 pattern, from its text: the 95 printing
# characters in ASCII order (space first) as a ring; line k holds characters k .. k + 71 (mod 95)
# and ends with CR LF.
chargen_pattern() {
  awk -v n="$1" 'BEGIN {
    for (k = 0; n > 0; k++) {
      line = ""
      for (j = 0; j < 72; j++) { line = line sprintf("%c", 32 + (k + j) % 95) }
      line = line "\r\n"
      if (length(line) > n) { line = substr(line, 1, n) }
      printf "%s", line
      n -= length(line)
    }
  }'
}

save_capture() {
  local name="$1" pcap="$2"
  if [ -n "${TAPSTACK_CAPTURE_DIR:-}" ]; then
    mkdir -p "$TAPSTACK_CAPTURE_DIR"
    cp "$pcap" "$TAPSTACK_CAPTURE_DIR/$name.pcap"
    echo "  (capture saved to $TAPSTACK_CAPTURE_DIR/$name.pcap)"
  fi
}
