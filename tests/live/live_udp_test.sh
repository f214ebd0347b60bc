#!/usr/bin/env bash
# Live: tapstack's UDP services (RFC 862 echo on port 7, RFC 863 discard on
# port 9) against the Linux kernel's UDP in the client namespace (socat), in
# the ci/lab topology: exact content both ways, datagrams that need
# fragmentation up to the largest UDP datagram, port unreachable for a closed
# port, no echo to a broadcast, and a capture tshark reads cleanly.
#
#   tests/live/live_udp_test.sh BUILD_DIR
#
# Exit: 0 passed, 1 failed, 77 skipped (not root, no /dev/net/tun, a tool missing).
# TAPSTACK_CAPTURE_DIR=DIR: also keep tapstack's capture there (live_udp.pcap).
set -euo pipefail
source "$(dirname "$0")/live_lib.sh"
live_init live_udp_test "${1:?usage: live_udp_test.sh BUILD_DIR}" socat

# udp_exchange FILE PORT OUT [SOCAT-ADDRESS-OPTIONS]: one datagram with FILE's bytes from the
# client to tapstack:PORT; what comes back in OUT, socat's stderr in OUT.err, its status echoed.
# -b: one read of stdin, so one datagram, up to the largest UDP payload. -t: how long to wait for
# an answer after sending.
udp_exchange() {
  local file="$1" port="$2" out="$3" opts="${4:-}" status=0
  in_client timeout 10 socat -b 65536 -t 0.5 - "UDP4:$stack_ip:$port$opts" <"$file" >"$out" 2>"$out.err" || status=$?
  echo "$status"
}

hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }

pcap="$live_work/live_udp.pcap"
start_tapstack "$pcap" --serve echo:7 --serve discard:9

echo "== echo (RFC 862)"
printf 'hello, tapstack\n' >"$live_work/small"
head -c 1400 /dev/urandom >"$live_work/mtu"        # one frame
head -c 8000 /dev/urandom >"$live_work/frag"       # 6 fragments each way
head -c 65507 /dev/urandom >"$live_work/largest"   # the largest UDP payload: 45 fragments each way
echo_bytes=0
for name in small mtu frag largest; do
  size="$(stat -c %s "$live_work/$name")"
  status="$(udp_exchange "$live_work/$name" 7 "$live_work/$name.echo")"
  check "echo of $size bytes comes back byte for byte (socat status $status)" cmp -s "$live_work/$name" "$live_work/$name.echo"
  echo_bytes=$((echo_bytes + size))
done

echo "== discard (RFC 863)"
discard_bytes=0
for name in small mtu frag; do
  size="$(stat -c %s "$live_work/$name")"
  status="$(udp_exchange "$live_work/$name" 9 "$live_work/$name.discard")"
  check "discard of $size bytes: no answer (socat status $status)" [ ! -s "$live_work/$name.discard" ]
  discard_bytes=$((discard_bytes + size))
done

echo "== closed port"
status="$(udp_exchange "$live_work/small" 5555 "$live_work/closed")"
check "socat to closed port 5555 sees 'Connection refused' (status $status: $(head -c 200 "$live_work/closed.err"))" \
  grep -q "Connection refused" "$live_work/closed.err"

echo "== broadcast"
# RFC 862 says nothing of broadcasts; tapstack does not echo them (one datagram to a broadcast
# address would draw an answer from every echo service on the link).
in_client timeout 10 socat -t 0.5 - "UDP4-DATAGRAM:10.99.0.255:7,broadcast" <"$live_work/small" \
  >"$live_work/broadcast" 2>"$live_work/broadcast.err" || true
check "no echo for a datagram to the subnet broadcast" [ ! -s "$live_work/broadcast" ]

stop_tapstack
check "echo app echoed 4 datagrams ($(counter app.udp_echo_7.datagrams_echoed))" \
  [ "$(counter app.udp_echo_7.datagrams_echoed)" -eq 4 ]
check "echo app echoed $echo_bytes bytes ($(counter app.udp_echo_7.bytes_echoed))" \
  [ "$(counter app.udp_echo_7.bytes_echoed)" -eq "$echo_bytes" ]
check "echo app ignored the broadcast ($(counter app.udp_echo_7.ignored_broadcast))" \
  [ "$(counter app.udp_echo_7.ignored_broadcast)" -eq 1 ]
check "discard app received 3 datagrams ($(counter app.udp_discard_9.datagrams_received))" \
  [ "$(counter app.udp_discard_9.datagrams_received)" -eq 3 ]
check "discard app received $discard_bytes bytes ($(counter app.udp_discard_9.bytes_received))" \
  [ "$(counter app.udp_discard_9.bytes_received)" -eq "$discard_bytes" ]
check "stack counted the datagram to the closed port ($(counter udp.rx_no_port))" [ "$(counter udp.rx_no_port)" -eq 1 ]

# What reached the discard service, as tshark reads it from tapstack's capture (reassembled).
i=0
for name in small mtu frag; do
  i=$((i + 1))
  got="$(tshark -n -r "$pcap" -Y "udp.dstport == 9 && ip.src == $client_ip" -T fields -e data.data 2>/dev/null |
    sed -n "${i}p" | tr -d ':')"
  check "discarded datagram $i in the capture has the exact bytes sent" [ "$got" = "$(hex "$live_work/$name")" ]
done
unreachable="$(tshark_count "$pcap" "icmp.type == 3 && icmp.code == 3 && ip.src == $stack_ip && udp.dstport == 5555")"
check "capture: ICMP port unreachable quoting the datagram to 5555 ($unreachable)" [ "$unreachable" -eq 1 ]
check_pcap "$pcap"
save_capture live_udp "$pcap"

finish
