#!/usr/bin/env bash
# Determinism of the simulator across processes: sim_probe (built from
# tests/sim/sim_probe.cpp) runs the standard scenario (ping-pong and a flood
# over faulty links and a switched segment, every fault on) twice, in two
# processes, with the same seed and options; the pcap and the event log must
# be identical byte for byte. A third run with another seed must differ in both.
#
#   tests/sim/determinism_test.sh BUILD_DIR
#
# Exit: 0 passed, 1 failed.
set -euo pipefail

build="${1:?usage: determinism_test.sh BUILD_DIR}"
probe="$build/tests/sim_probe"
if [ ! -x "$probe" ]; then
  echo "FAILED: $probe is not built (cmake --build $build --target sim_probe)"
  exit 1
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/tapstack-sim-determinism.XXXXXX")"
trap 'rm -rf "$dir"' EXIT

# Options beyond the scenario's defaults, so that non-default flags are
# exercised too: more loss on the links, longer frames.
options=(--link-loss-probability=0.1 --frame-len=100 '--pcap-point=*')

run() {
  local name="$1" seed="$2"
  if ! "$probe" --seed="$seed" "${options[@]}" --pcap="$dir/$name.pcap" --log="$dir/$name.log" \
      >"$dir/$name.out" 2>&1; then
    echo "FAILED: sim_probe run $name (seed $seed) did not pass:"
    cat "$dir/$name.out"
    exit 1
  fi
  if [ ! -s "$dir/$name.pcap" ] || [ ! -s "$dir/$name.log" ]; then
    echo "FAILED: sim_probe run $name wrote an empty pcap or log"
    exit 1
  fi
}

run first 42
run second 42
run other 43

status=0
for kind in pcap log; do
  if ! cmp "$dir/first.$kind" "$dir/second.$kind"; then
    echo "FAILED: two runs with seed 42 wrote different ${kind} files"
    status=1
  fi
  if cmp -s "$dir/first.$kind" "$dir/other.$kind"; then
    echo "FAILED: seeds 42 and 43 wrote identical ${kind} files"
    status=1
  fi
done
# The printed summaries name the pcap/log paths nowhere, so they must match too.
if ! cmp "$dir/first.out" "$dir/second.out"; then
  echo "FAILED: two runs with seed 42 printed different summaries"
  status=1
fi
if [ "$status" -eq 0 ]; then
  echo "PASSED: seed 42 twice: identical pcap ($(wc -c <"$dir/first.pcap") bytes) and log ($(wc -l <"$dir/first.log") lines); seed 43 differs"
fi
exit "$status"
