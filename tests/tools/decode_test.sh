#!/usr/bin/env bash
# tapstack decode end to end: a real capture decodes layer by layer; a bad
# checksum and a malformed header are marked with the reason; unreadable files
# and bad flags give a one-line error and exit status 2.
set -euo pipefail
tapstack="$1/tools/tapstack"
corpus="$(cd "$(dirname "$0")/../../corpus/pcap" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Writes byte value $3 (hex) at offset $2 of file $1.
poke() { printf "\\x$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

out=$("$tapstack" decode "$corpus/tcp_handshake.pcap")
grep -q '\[SYN\]  seq 3537379264 win 64240 len 0  options \[MSS 1460, SACK_PERM, TS 1892244162/0, NOP, WS 10\]  checksum 0x9eef$' <<<"$out" \
  || fail "SYN line not as expected"
grep -q '^  ipv4      10.78.0.1 > 10.78.0.2  len 60 id 0x9f30 ttl 64 proto 6 (TCP) DF  checksum 0x86ed$' <<<"$out" \
  || fail "IPv4 line not as expected"
[ "$(grep -c '^[0-9]' <<<"$out")" -eq 10 ] || fail "expected 10 frames"
! grep -q '!!' <<<"$out" || fail "a clean capture reported a problem"

# Fragments and an ICMP error quoting a UDP header.
out=$("$tapstack" decode "$corpus/ping.pcap")
grep -q 'fragment offset 1480 MF' <<<"$out" || fail "fragment not shown"
out=$("$tapstack" decode "$corpus/udp.pcap")
grep -q 'destination unreachable (type 3 code 3)' <<<"$out" || fail "port unreachable not shown"
grep -q '^    udp     [0-9]* > 9  len 15  (quoted header)' <<<"$out" || fail "quoted UDP header not shown"

# Frame 1 starts at byte 40 (24-byte file header + 16-byte record header);
# IPv4 at 54, TCP at 74, the TCP checksum at 90.
cp "$corpus/tcp_handshake.pcap" "$work/badsum.pcap"
poke "$work/badsum.pcap" 90 00
out=$("$tapstack" decode "$work/badsum.pcap")
grep -q 'checksum 0x00ef BAD  !! bad checksum' <<<"$out" || fail "bad TCP checksum not marked"

cp "$corpus/tcp_handshake.pcap" "$work/ihl.pcap"
poke "$work/ihl.pcap" 54 44
out=$("$tapstack" decode "$work/ihl.pcap")
grep -q 'ipv4      MALFORMED (bad header length) in 60 bytes  !! malformed: bad header length' <<<"$out" \
  || fail "IHL 4 not marked malformed"

# Unreadable input: exit 2, one line on stderr.
expect_usage_error() {
  local status=0
  "$tapstack" "$@" >"$work/out" 2>"$work/err" || status=$?
  [ "$status" -eq 2 ] || fail "'$*' exited $status, expected 2"
  [ "$(wc -l <"$work/err")" -eq 1 ] || fail "'$*' printed more than one error line"
}
head -c 300 "$corpus/tcp_handshake.pcap" >"$work/truncated.pcap"
expect_usage_error decode "$work/truncated.pcap"
grep -qi 'truncated' "$work/err" || fail "truncated capture not called truncated: $(cat "$work/err")"
expect_usage_error decode "$work/missing.pcap"
echo "not a capture" >"$work/garbage.pcap"
expect_usage_error decode "$work/garbage.pcap"
expect_usage_error decode --no-such-flag "$corpus/arp.pcap"
expect_usage_error decode

echo "decode_test: all checks passed"
