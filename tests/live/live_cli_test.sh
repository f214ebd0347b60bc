#!/usr/bin/env bash
# Live: the `tapstack live` command line (../shared/CLI.md) and its life cycle.
#   1. Bad flags and values: exit 2, one line on stderr naming the flag, and
#      nothing started (as root: run in a private namespace, then no TAP exists).
#   2. Without CAP_NET_ADMIN (as an unprivileged user): a clear error, exit 1.
#   3. A TAP that does not exist is created and brought up; the kernel on it
#      (10.98.0.1) pings tapstack; --stats prints periodically; a second
#      tapstack on the same TAP is refused (busy); SIGINT ends it with exit 0 and
#      the counters; the TAP it created is gone afterwards.
#
#   tests/live/live_cli_test.sh BUILD_DIR
#
# Exit: 0 passed, 1 failed, 77 skipped (part 1 still runs without root, but
# 2 and 3 need root and /dev/net/tun).
set -euo pipefail

build="${1:?usage: live_cli_test.sh BUILD_DIR}"
tapstack="$build/tools/tapstack"
name=live_cli_test
failures=0
pids=()
ns=""
work="$(mktemp -d /tmp/tapstack-live-cli.XXXXXX)"

ok() { echo "  ok   $*"; }
bad() {
  echo "  FAIL $*"
  failures=$((failures + 1))
}
check() {
  local what="$1"
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$ns" ]; then
    ip netns del "$ns" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x "$tapstack" ]; then
  echo "FAILED: $name: $tapstack is not built"
  exit 1
fi

root=0
if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ] && command -v ip >/dev/null; then
  root=1
  ns="tapstack-cli-$$"
  ip netns add "$ns"
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$ns" link set lo up
fi
# Runs tapstack in the private namespace when there is one.
run_tapstack() {
  if [ "$root" -eq 1 ]; then
    ip netns exec "$ns" "$tapstack" "$@"
  else
    "$tapstack" "$@"
  fi
}

echo "== bad flags and values"
tap=tscli0
good=(--tap "$tap" --ip 10.98.0.2/24)
# expect_usage FLAG ARGS...: exit 2, exactly one line on stderr, naming FLAG.
expect_usage() {
  local flag="$1" status=0
  shift
  run_tapstack live "$@" >"$work/out" 2>"$work/err" </dev/null || status=$?
  local lines
  lines="$(wc -l <"$work/err")"
  if [ "$status" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q -- "$flag" "$work/err" && [ ! -s "$work/out" ]; then
    ok "live $* -> exit 2: $(cat "$work/err")"
  else
    bad "live $* -> exit $status, $lines stderr lines (want 2, one line naming $flag): $(head -c 300 "$work/err")"
  fi
}
expect_usage --tap --ip 10.98.0.2/24
expect_usage --ip --tap "$tap"
expect_usage --tap --tap "" --ip 10.98.0.2/24
expect_usage --tap --tap waytoolongname0123 --ip 10.98.0.2/24
expect_usage --ip --tap "$tap" --ip 10.98.0.2
expect_usage --ip --tap "$tap" --ip 10.98.0.256/24
expect_usage --ip --tap "$tap" --ip 10.98.0.2/33
expect_usage --ip --tap "$tap" --ip 10.98.0.2/x
expect_usage --ip --tap "$tap" --ip 10.98.0.255/24
expect_usage --ip --tap "$tap" --ip 10.98.0.0/24
expect_usage --ip --tap "$tap" --ip 224.0.0.1/24
expect_usage --ip --tap "$tap" --ip 127.0.0.2/8
expect_usage --mac "${good[@]}" --mac 01:00:5e:00:00:01
expect_usage --mac "${good[@]}" --mac 00:00:00:00:00:00
expect_usage --mac "${good[@]}" --mac 02:54:0a:63:00
expect_usage --mac "${good[@]}" --mac zz:54:0a:63:00:02
expect_usage --gateway "${good[@]}" --gateway 10.98.1.1
expect_usage --gateway "${good[@]}" --gateway 10.98.0.2
expect_usage --gateway "${good[@]}" --gateway 10.98.0.255
expect_usage --gateway "${good[@]}" --gateway gateway
expect_usage --serve "${good[@]}" --serve echo
expect_usage --serve "${good[@]}" --serve echo:0
expect_usage --serve "${good[@]}" --serve echo:65536
expect_usage --serve "${good[@]}" --serve echo:7x
expect_usage --serve "${good[@]}" --serve telnet:23
expect_usage --serve "${good[@]}" --serve echo:7 --serve discard:7
expect_usage --stats-interval "${good[@]}" --stats-interval 0
expect_usage --pcap "${good[@]}" --pcap "$work/no/such/dir/x.pcap"
expect_usage --bogus "${good[@]}" --bogus
# An http directory that does not exist, and --connect targets that cannot work.
expect_usage --serve "${good[@]}" --serve http:8080:/nonexistent/tapstack-dir
expect_usage --connect "${good[@]}" --connect 10.98.0.2:80
expect_usage --connect "${good[@]}" --connect 10.98.0.3:0
expect_usage --connect "${good[@]}" --connect 10.98.0.3
expect_usage --connect "${good[@]}" --connect host:80
status=0
"$tapstack" live --help >"$work/help" 2>&1 || status=$?
check "live --help exits 0 and documents every flag" \
  bash -c "[ $status -eq 0 ] && for f in --tap --ip --mac --gateway --serve --connect --pcap --stats; do grep -q -- \"\$f\" '$work/help' || exit 1; done"

if [ "$root" -ne 1 ]; then
  if [ "$failures" -ne 0 ]; then
    echo "FAILED: $name ($failures checks failed)"
    exit 1
  fi
  echo "SKIPPED: live.$name: the TAP checks need root and /dev/net/tun (the flag checks passed)"
  exit 77
fi
check "nothing was started: no interface $tap in the namespace" bash -c "! ip -n '$ns' link show '$tap' >/dev/null 2>&1"

echo "== without CAP_NET_ADMIN"
if command -v setpriv >/dev/null; then
  status=0
  ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
    "$tapstack" live --tap "$tap" --ip 10.98.0.2/24 >"$work/out" 2>"$work/err" </dev/null || status=$?
  if [ "$status" -eq 126 ] || [ "$status" -eq 127 ]; then
    echo "  (skipped: user nobody cannot execute $tapstack)"
  else
    check "unprivileged: exit 1 ($status)" [ "$status" -eq 1 ]
    check "unprivileged: the error says CAP_NET_ADMIN: $(head -c 300 "$work/err")" grep -q "CAP_NET_ADMIN" "$work/err"
    check "unprivileged: no interface was created" bash -c "! ip -n '$ns' link show '$tap' >/dev/null 2>&1"
  fi
else
  echo "  (skipped: setpriv is missing)"
fi

echo "== creates the TAP, stats, busy, SIGINT"
log="$work/tapstack.log"
# A plain background command: ip execs into tapstack, so $! is tapstack's PID.
ip netns exec "$ns" "$tapstack" live --tap "$tap" --ip 10.98.0.2/24 --stats --stats-interval 1 >"$log" 2>&1 &
pid=$!
pids+=("$pid")
tries=200
until grep -q "running;" "$log" 2>/dev/null || [ "$tries" -le 0 ]; do
  sleep 0.05
  tries=$((tries - 1))
done
check "tapstack started" grep -q "running;" "$log"
check "the missing TAP $tap was created and is up" bash -c "ip -n '$ns' link show '$tap' | grep -q '<.*UP.*>'"
ip -n "$ns" addr add 10.98.0.1/24 dev "$tap"
check "the kernel on $tap pings tapstack" bash -c "ip netns exec '$ns' timeout 10 ping -n -q -c 3 -i 0.1 -W 2 10.98.0.2 >/dev/null"
status=0
ip netns exec "$ns" timeout 10 "$tapstack" live --tap "$tap" --ip 10.98.0.3/24 >"$work/out" 2>"$work/err" </dev/null ||
  status=$?
check "a second tapstack on the same TAP: exit 1, busy ($status: $(head -c 200 "$work/err"))" \
  bash -c "[ $status -eq 1 ] && grep -q 'busy\|Busy\|another process' '$work/err'"
tries=60
until grep -q "counters at" "$log" || [ "$tries" -le 0 ]; do
  sleep 0.05
  tries=$((tries - 1))
done
check "--stats --stats-interval 1 printed the counters while running" grep -q "counters at" "$log"
kill -INT "$pid"
tries=200
while kill -0 "$pid" 2>/dev/null && [ "$tries" -gt 0 ]; do
  sleep 0.05
  tries=$((tries - 1))
done
status=0
if kill -0 "$pid" 2>/dev/null; then
  bad "tapstack exits within 10 s of SIGINT"
  kill -KILL "$pid" 2>/dev/null || true
fi
wait "$pid" || status=$?
check "SIGINT: exit 0 ($status)" [ "$status" -eq 0 ]
check "SIGINT: reported and counters printed" \
  bash -c "grep -q 'stopped by SIGINT' '$log' && grep -qE '^  icmp.tx_echo_replies +[1-9]' '$log'"
check "no ASan/UBSan report" bash -c "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$log'"
check "the TAP tapstack created is gone after it exits" bash -c "! ip -n '$ns' link show '$tap' >/dev/null 2>&1"

if [ "$failures" -ne 0 ]; then
  echo "--- tapstack log"
  cat "$log"
  echo "FAILED: live.$name ($failures checks failed)"
  exit 1
fi
echo "PASSED: live.$name"
