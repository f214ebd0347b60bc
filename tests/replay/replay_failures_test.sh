#!/usr/bin/env bash
# Replay's failure modes, on a committed capture:
#   - a golden with one byte flipped: exit 1, and the report names the frame
#     and the byte offset and decodes both frames;
#   - a golden with one frame fewer: exit 1, naming the missing frame;
#   - a truncated input capture: exit 2 with a one-line error;
#   - an unreadable input, a bad --ip, a bad --serve: exit 2;
#   - the same replay twice gives byte-identical output (determinism).
#
#   tests/replay/replay_failures_test.sh BUILD_DIR
set -uo pipefail
build="${1:?usage: replay_failures_test.sh BUILD_DIR}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
dir="$repo/corpus/pcap/replay"
tapstack="$build/tools/tapstack"
name=kernel_session
read -r -a args <"$dir/$name.args"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
ok() { echo "  ok   $*"; }
bad() {
  echo "  FAIL $*"
  failures=$((failures + 1))
}
# expect_status WANT DESCRIPTION CMD...: runs CMD, output in $work/out, checks its exit status.
expect_status() {
  local want="$1" what="$2"
  shift 2
  "$@" >"$work/out" 2>&1
  local got=$?
  if [ "$got" -eq "$want" ]; then ok "$what: exit $got"; else bad "$what: exit $got, want $want"; sed 's/^/      /' "$work/out"; fi
}
# contains PATTERN DESCRIPTION: the last command's output matches PATTERN (grep -E).
contains() {
  if grep -qE -e "$1" "$work/out"; then ok "$2"; else bad "$2 (no /$1/ in:)"; sed 's/^/      /' "$work/out"; fi
}

echo "== the committed golden matches"
expect_status 0 "replay --expect $name.golden.pcap" "$tapstack" replay "$dir/$name.pcap" "${args[@]}" \
  --expect "$dir/$name.golden.pcap" --out "$work/a.pcap"

echo "== determinism"
"$tapstack" replay "$dir/$name.pcap" "${args[@]}" --out "$work/b.pcap" >/dev/null 2>&1
if cmp -s "$work/a.pcap" "$work/b.pcap"; then ok "two runs give byte-identical output"; else bad "two runs differ"; fi

echo "== a golden with one byte flipped"
# Frame 2's record starts after the 24-byte file header, frame 1 (16-byte record header + its
# bytes) and frame 2's 16-byte record header; flip its byte at offset 20 (inside the IPv4 or ARP header).
python3 - "$dir/$name.golden.pcap" "$work/flipped.pcap" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
pos = 24
incl = struct.unpack_from("<I", data, pos + 8)[0]
pos += 16 + incl          # frame 2's record header
data[pos + 16 + 20] ^= 0xff
open(sys.argv[2], "wb").write(data)
PY
expect_status 1 "flipped byte" "$tapstack" replay "$dir/$name.pcap" "${args[@]}" --expect "$work/flipped.pcap"
contains "differs from .*flipped.pcap at frame 2: first differing byte at offset 20" "names frame 2 and offset 20"
contains "^  output frame 2 at [0-9]+\.[0-9]{6}, [0-9]+ bytes:" "decodes our frame"
contains "^  golden frame 2 at " "decodes the golden frame"
contains "^    ethernet: " "one line per layer (ethernet)"

echo "== a golden with a frame missing"
tcpdump -r "$dir/$name.golden.pcap" -w "$work/short.pcap" -c 1 2>/dev/null
expect_status 1 "golden of 1 frame" "$tapstack" replay "$dir/$name.pcap" "${args[@]}" --expect "$work/short.pcap"
contains "at frame 2: the golden ends \(1 frames\)" "names the extra frame"

echo "== a truncated input"
size=$(stat -c %s "$dir/$name.pcap")
head -c $((size - 7)) "$dir/$name.pcap" >"$work/truncated.pcap"
expect_status 2 "truncated capture" "$tapstack" replay "$work/truncated.pcap" "${args[@]}"
if [ "$(wc -l <"$work/out")" -eq 1 ]; then ok "one-line error: $(cat "$work/out")"; else bad "not one line:"; cat "$work/out"; fi
head -c 10 "$dir/$name.pcap" >"$work/header.pcap"
expect_status 2 "capture cut inside the file header" "$tapstack" replay "$work/header.pcap" "${args[@]}"

echo "== unreadable files and bad flags"
expect_status 2 "missing input" "$tapstack" replay "$work/nonexistent.pcap" "${args[@]}"
expect_status 2 "missing golden" "$tapstack" replay "$dir/$name.pcap" "${args[@]}" --expect "$work/nonexistent.pcap"
expect_status 2 "--out in a missing directory" "$tapstack" replay "$dir/$name.pcap" "${args[@]}" --out "$work/no/such/dir.pcap"
expect_status 2 "bad --ip" "$tapstack" replay "$dir/$name.pcap" --ip 10.78.0.2
contains "^tapstack replay: --ip: '10.78.0.2' has no /PREFIX" "names --ip and the form"
expect_status 2 "bad --serve" "$tapstack" replay "$dir/$name.pcap" --ip 10.78.0.2/24 --serve echo:0
contains "^tapstack replay: --serve: " "names --serve"
expect_status 2 "no --ip" "$tapstack" replay "$dir/$name.pcap"
expect_status 0 "--help" "$tapstack" replay --help
contains "--expect GOLDEN.pcap" "help lists --expect"

if [ "$failures" -eq 0 ]; then echo "PASSED: replay failures"; exit 0; fi
echo "FAILED: $failures checks"
exit 1
