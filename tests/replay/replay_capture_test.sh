#!/usr/bin/env bash
# Replay regression: one committed capture through `tapstack replay --expect`.
#
#   tests/replay/replay_capture_test.sh BUILD_DIR NAME
#
# Replays corpus/pcap/replay/NAME.pcap with the flags in NAME.args and requires
# the stack's output to equal NAME.golden.pcap frame by frame (bytes and
# timestamps). On a difference, tapstack prints the first differing frame,
# decoded layer by layer. Exit: 0 equal, 1 different (or replay failed).
# See docs/replay.md to add a capture or to update a golden deliberately.
set -euo pipefail
build="${1:?usage: replay_capture_test.sh BUILD_DIR NAME}"
name="${2:?usage: replay_capture_test.sh BUILD_DIR NAME}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
dir="$repo/corpus/pcap/replay"
tapstack="$build/tools/tapstack"
for f in "$dir/$name.pcap" "$dir/$name.golden.pcap" "$dir/$name.args" "$tapstack"; do
  if [ ! -e "$f" ]; then
    echo "FAIL: $f is missing"
    exit 1
  fi
done
# NAME.args: the flags, whitespace-separated, on one line (no quoting needed: addresses, specs).
read -r -a args <"$dir/$name.args"
set -x
exec "$tapstack" replay "$dir/$name.pcap" "${args[@]}" --expect "$dir/$name.golden.pcap"
