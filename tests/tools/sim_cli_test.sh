#!/usr/bin/env bash
# tapstack sim end to end (../shared/CLI.md): bad flags and values give one
# line naming the flag and exit 2; --json prints one parseable JSON object;
# the same flags give the same stdout and a byte-identical pcap; a transfer
# that cannot complete exits 1 with the replay line, and that line repeats the
# run exactly; --sweep prints a tally.
set -euo pipefail
tapstack="$1/tools/tapstack"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Bad flags and values: exit 2, one line on stderr naming the flag.
expect_usage_error() {
  local flag="$1"
  shift
  local status=0
  "$tapstack" sim "$@" >"$work/out" 2>"$work/err" || status=$?
  [ "$status" -eq 2 ] || fail "'sim $*' exited $status, expected 2"
  [ "$(wc -l <"$work/err")" -eq 1 ] || fail "'sim $*' printed $(wc -l <"$work/err") error lines: $(cat "$work/err")"
  grep -q -- "$flag" "$work/err" || fail "'sim $*' did not name $flag: $(cat "$work/err")"
  [ ! -s "$work/out" ] || fail "'sim $*' printed on stdout: $(cat "$work/out")"
}
expect_usage_error --loss --loss 2
expect_usage_error --loss --loss abc
expect_usage_error --reorder --reorder=-0.5
expect_usage_error --duplicate --duplicate 1.01
expect_usage_error --corrupt --corrupt nan
expect_usage_error --delay --delay -1
expect_usage_error --jitter --jitter x
expect_usage_error --rate --rate 0.0000001
expect_usage_error --mtu --mtu 60
expect_usage_error --mtu --mtu 70000
expect_usage_error --bytes --bytes -5
expect_usage_error --connections --connections 0
expect_usage_error --connections --connections 1001
expect_usage_error --seed --seed 1.5
expect_usage_error --partition-duration --partition-interval 100
expect_usage_error --time-limit --time-limit -3
expect_usage_error --no-such-flag --no-such-flag
expect_usage_error --sweep --sweep 0
expect_usage_error --loss --sweep 3 --loss 0.1
expect_usage_error --pcap --sweep 3 --pcap "$work/x.pcap"
expect_usage_error --pcap --bytes 1000 --pcap "$work/no/such/dir/x.pcap"

"$tapstack" sim --help >"$work/help" || fail "sim --help failed"
for flag in --seed --loss --reorder --duplicate --corrupt --delay --jitter --rate --mtu --bytes --connections \
  --pcap --json --sweep; do
  grep -q -- "$flag" "$work/help" || fail "sim --help does not list $flag"
done

# A fault-free run: exit 0 and the summary.
"$tapstack" sim --bytes 100000 --connections 2 >"$work/clean" || fail "fault-free run failed: $(cat "$work/clean")"
grep -q '^result: ok$' "$work/clean" || fail "no 'result: ok' line"
grep -q '^transfers: 2 of 2 complete byte-exact$' "$work/clean" || fail "transfers line: $(cat "$work/clean")"
for word in 'virtual duration' goodput retransmissions dropped reordered duplicated corrupted; do
  grep -q "$word" "$work/clean" || fail "summary lacks '$word'"
done
! grep -q '^replay:' "$work/clean" || fail "a passing run printed a replay line"

# --json: one JSON object with the figures.
"$tapstack" sim --bytes 30000 --connections 2 --loss 0.02 --reorder 0.05 --json >"$work/json" \
  || fail "--json run failed: $(cat "$work/json")"
[ "$(wc -l <"$work/json")" -eq 1 ] || fail "--json printed more than one line"
python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["ok"] is True, j
assert j["bytes_verified"] == 60000, j
assert j["connections"] == 2 and j["bytes"] == 30000
assert j["faults"]["loss"] == 0.02 and j["faults"]["reorder"] == 0.05
assert j["all_closed"] is True
assert len(j["per_connection"]) == 2 and all(c["complete"] for c in j["per_connection"])
for key in ("virtual_duration_s", "goodput_bits_per_second", "retransmissions", "frames", "replay"):
    assert key in j, key
for key in ("sent", "dropped", "reordered", "duplicated", "corrupted"):
    assert key in j["frames"], key
' <"$work/json" || fail "--json output not as expected: $(cat "$work/json")"

# Deterministic: the same flags twice, identical stdout and pcap; another seed differs.
flags=(--bytes 40000 --connections 3 --loss 0.05 --reorder 0.05 --duplicate 0.02 --corrupt 0.01 --jitter 2)
"$tapstack" sim --seed 9 "${flags[@]}" --pcap "$work/a.pcap" >"$work/a.out" || fail "run a failed: $(cat "$work/a.out")"
"$tapstack" sim --seed 9 "${flags[@]}" --pcap "$work/b.pcap" >"$work/b.out" || fail "run b failed: $(cat "$work/b.out")"
sed "s|$work/a.pcap|PCAP|" "$work/a.out" >"$work/a.norm"
sed "s|$work/b.pcap|PCAP|" "$work/b.out" >"$work/b.norm"
cmp -s "$work/a.norm" "$work/b.norm" || fail "same flags, different output: $(diff "$work/a.norm" "$work/b.norm")"
[ -s "$work/a.pcap" ] || fail "no pcap written"
cmp -s "$work/a.pcap" "$work/b.pcap" || fail "same flags, different pcap bytes"
"$tapstack" sim --seed 10 "${flags[@]}" --pcap "$work/c.pcap" >"$work/c.out" || fail "run c failed"
! cmp -s "$work/a.pcap" "$work/c.pcap" || fail "a different seed gave the same pcap"
if command -v tshark >/dev/null 2>&1; then
  frames=$(tshark -r "$work/a.pcap" 2>/dev/null | wc -l)
  [ "$frames" -gt 50 ] || fail "tshark read $frames frames from the pcap"
fi

# A transfer that cannot complete: exit 1, the replay line last, and the line replays it.
status=0
"$tapstack" sim --loss 1 --time-limit 5 >"$work/fail.out" || status=$?
[ "$status" -eq 1 ] || fail "impossible transfer exited $status, expected 1"
grep -q '^result: FAILED' "$work/fail.out" || fail "no FAILED result line"
[ "$(tail -n 1 "$work/fail.out")" = "replay: tapstack sim --seed=1 --loss=1 --time-limit=5" ] \
  || fail "last line is not the replay line: $(tail -n 1 "$work/fail.out")"
replay=$(tail -n 1 "$work/fail.out" | sed 's/^replay: tapstack //')
status=0
# shellcheck disable=SC2086
"$tapstack" $replay >"$work/replayed.out" || status=$?
[ "$status" -eq 1 ] || fail "the replay line exited $status"
cmp -s "$work/fail.out" "$work/replayed.out" || fail "the replay line gave a different run"
status=0
"$tapstack" sim --loss 1 --time-limit 5 --json >"$work/fail.json" 2>"$work/fail.err" || status=$?
[ "$status" -eq 1 ] || fail "impossible transfer with --json exited $status"
python3 -c 'import json, sys; j = json.load(sys.stdin); assert j["ok"] is False and j["failure"], j' <"$work/fail.json" \
  || fail "--json failure output: $(cat "$work/fail.json")"
grep -q '^replay: tapstack sim --seed=1 --loss=1 --time-limit=5$' "$work/fail.err" || fail "--json: no replay line on stderr"

# A short sweep: a tally, exit 0.
"$tapstack" sim --sweep 4 --seed 100 --bytes 4096 >"$work/sweep" || fail "sweep failed: $(cat "$work/sweep")"
grep -q '^sweep: 4 seeds (100..103), 3 connections x 4096 bytes each: 4 passed, 0 failed$' "$work/sweep" \
  || fail "sweep tally: $(cat "$work/sweep")"

echo "sim_cli_test: all checks passed"
