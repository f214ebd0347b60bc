#!/usr/bin/env bash
# Live: tapstack's TCP against the Linux kernel's in the client namespace
# (ci/lab), with socat and nc: RFC 862 echo of 10 MB of random data byte-exact,
# RFC 864 chargen's line pattern, RFC 863 discard of 10 MB counted by the app,
# 100 sequential and 50 concurrent connections (all open at once), RST for a
# closed port ("Connection refused"), and `--connect` both ways: 10 MB from
# tapstack's standard input to a kernel `nc -l`, 3 MB from a kernel socat to
# tapstack's standard output, exact, tapstack exiting 0. tshark reads every
# capture without a malformed frame or a bad checksum.
#
#   tests/live/live_tcp_test.sh BUILD_DIR
#
# Exit: 0 passed, 1 failed, 77 skipped (not root, no /dev/net/tun, a tool missing).
# TAPSTACK_CAPTURE_DIR=DIR: also keep tapstack's captures there (live_tcp.pcap,
# live_tcp_connect.pcap, live_tcp_connect_rx.pcap).
set -euo pipefail
source "$(dirname "$0")/live_lib.sh"
live_init live_tcp_test "${1:?usage: live_tcp_test.sh BUILD_DIR}" socat nc ss curl

# Random payloads on these ports have no dissector; without this tshark hands them to
# heuristic dissectors (Thrift, ...), which may call them malformed.
live_tshark_args=(-d tcp.port==7,data -d tcp.port==9,data -d tcp.port==19,data -d tcp.port==5000,data
  -d tcp.port==5001,data)

mb10="$live_work/10mb"
head -c 10000000 /dev/urandom >"$mb10"

# established PORT: TCP connections the client has established to tapstack:PORT.
established() {
  in_client ss -Htn state established "( dst $stack_ip and dport = :$1 )" | wc -l
}
# all_established PORT N: at least N of them.
all_established() { [ "$(established "$1")" -ge "$2" ]; }
# listening PORT: a kernel socket listens on PORT in the client.
listening() { [ -n "$(in_client ss -Hltn "sport = :$1")" ]; }

pcap="$live_work/live_tcp.pcap"
start_tapstack "$pcap" --serve echo:7 --serve discard:9 --serve chargen:19

echo "== echo (RFC 862): 10 MB of random data"
status=0
# shut-down: at the end of input socat half-closes (FIN) and goes on reading until tapstack,
# having echoed everything, closes too; -t bounds that wait.
in_client timeout 120 socat -b 65536 -t 60 - "TCP4:$stack_ip:7,shut-down" <"$mb10" >"$live_work/10mb.echo" \
  2>"$live_work/echo.err" || status=$?
check "socat echo exits 0 (status $status: $(head -c 200 "$live_work/echo.err"))" [ "$status" -eq 0 ]
check "10 MB echoed byte for byte ($(stat -c %s "$live_work/10mb.echo") bytes back)" cmp -s "$mb10" "$live_work/10mb.echo"

echo "== chargen (RFC 864)"
# Reads the first 100 kB, then closes with data unread (the kernel then resets the connection).
in_client timeout 20 socat -u "TCP4:$stack_ip:19" - 2>/dev/null | head -c 100000 >"$live_work/chargen" || true
check "chargen: 100000 bytes read ($(stat -c %s "$live_work/chargen"))" [ "$(stat -c %s "$live_work/chargen")" -eq 100000 ]
check "chargen: 72-character lines of the rotating 95 printing characters, CR LF (RFC 864)" \
  cmp -s <(chargen_pattern 100000) "$live_work/chargen"

echo "== discard (RFC 863): 10 MB"
status=0
in_client timeout 120 socat -b 65536 -u - "TCP4:$stack_ip:9" <"$mb10" 2>"$live_work/discard.err" || status=$?
check "socat upload to discard exits 0 (status $status: $(head -c 200 "$live_work/discard.err"))" [ "$status" -eq 0 ]

echo "== 100 sequential connections (echo)"
good=0
deadline=$((SECONDS + 120))
for i in $(seq 1 100); do
  [ "$SECONDS" -lt "$deadline" ] || break
  got="$(printf 'connection %d\n' "$i" | in_client timeout 10 socat -t 5 - "TCP4:$stack_ip:7,shut-down" 2>/dev/null)" || true
  if [ "$got" = "connection $i" ]; then
    good=$((good + 1))
  fi
done
check "100 sequential echo connections, each answered exactly ($good)" [ "$good" -eq 100 ]

echo "== 50 concurrent connections (echo)"
# Each client connects at once but holds its data back until every one of the 50 connections
# is established (counted with ss in the client), then all send 64 kB at the same time.
go="$live_work/go"
client_pids=()
for i in $(seq 1 50); do
  head -c 65536 /dev/urandom >"$live_work/conc.$i"
  {
    for _ in $(seq 1 400); do # at most 20 s
      [ -e "$go" ] && break
      sleep 0.05
    done
    cat "$live_work/conc.$i"
  } | in_client timeout 60 socat -b 65536 -t 30 - "TCP4:$stack_ip:7,shut-down" >"$live_work/conc.$i.echo" 2>/dev/null &
  client_pids+=("$!")
  live_pids+=("$!")
done
if wait_until 20 "50 established connections" all_established 7 50; then
  ok "50 connections established at the same time"
else
  bad "50 connections established at the same time ($(established 7))"
fi
touch "$go"
for pid in "${client_pids[@]}"; do
  wait "$pid" || true
done
good=0
for i in $(seq 1 50); do
  if cmp -s "$live_work/conc.$i" "$live_work/conc.$i.echo"; then
    good=$((good + 1))
  fi
done
check "50 concurrent echoes of 64 kB, all byte-exact ($good)" [ "$good" -eq 50 ]

echo "== closed port"
status=0
in_client timeout 10 socat -t 1 - "TCP4:$stack_ip:5555" </dev/null >/dev/null 2>"$live_work/closed.err" || status=$?
check "socat to closed port 5555: 'Connection refused' (status $status: $(head -c 200 "$live_work/closed.err"))" \
  grep -q "Connection refused" "$live_work/closed.err"
status=0
in_client timeout 10 curl -sS "http://$stack_ip:5556/" >/dev/null 2>"$live_work/closed-curl.err" || status=$?
# curl's exit 7: "Failed to connect to host" (its message for ECONNREFUSED is "Couldn't connect").
check "curl to closed port 5556: exit 7, failed to connect (status $status: $(head -c 200 "$live_work/closed-curl.err"))" [ "$status" -eq 7 ]

stop_tapstack
check "echo app echoed every byte: 10 MB + 100 lines + 50 x 64 kB ($(counter app.tcp_echo_7.bytes_received) in, $(counter app.tcp_echo_7.bytes_sent) out)" \
  [ "$(counter app.tcp_echo_7.bytes_received)" -eq "$(counter app.tcp_echo_7.bytes_sent)" -a \
  "$(counter app.tcp_echo_7.bytes_received)" -eq $((10000000 + 50 * 65536 + $(seq 1 100 | sed 's/^/connection /' | wc -c))) ]
check "echo app: 151 connections accepted and closed, none reset ($(counter app.tcp_echo_7.connections_accepted) accepted, $(counter app.tcp_echo_7.connections_closed) closed, $(counter app.tcp_echo_7.connections_reset) reset)" \
  [ "$(counter app.tcp_echo_7.connections_accepted)" -eq 151 -a "$(counter app.tcp_echo_7.connections_closed)" -eq 151 -a \
  "$(counter app.tcp_echo_7.connections_reset)" -eq 0 ]
check "discard app received the 10 MB ($(counter app.tcp_discard_9.bytes_received))" [ "$(counter app.tcp_discard_9.bytes_received)" -eq 10000000 ]
check "discard app sent nothing ($(counter app.tcp_discard_9.bytes_sent))" [ "$(counter app.tcp_discard_9.bytes_sent)" -eq 0 ]
check "chargen app sent at least the 100000 bytes read ($(counter app.tcp_chargen_19.bytes_sent))" \
  [ "$(counter app.tcp_chargen_19.bytes_sent)" -ge 100000 ]
check "stack counted the 2 SYNs to closed ports ($(counter tcp.rx_closed_port))" [ "$(counter tcp.rx_closed_port)" -eq 2 ]
echo "  (tcp.retransmissions $(counter tcp.retransmissions), tcp.retransmission_timeouts $(counter tcp.retransmission_timeouts))"
for port in 5555 5556; do
  rst="$(tshark_count "$pcap" "ip.src == $stack_ip && tcp.srcport == $port && tcp.flags.reset == 1 && tcp.flags.ack == 1 && tcp.seq_raw == 0")"
  check "capture: RST+ACK (seq 0, RFC 9293 3.10.7.1) answers the SYN to closed port $port ($rst)" [ "$rst" -eq 1 ]
done
# The echo and discard services never reset: every connection there ended in FINs both ways.
rst="$(tshark_count "$pcap" "ip.src == $stack_ip && tcp.flags.reset == 1 && (tcp.srcport == 7 || tcp.srcport == 9)")"
check "capture: no RST from tapstack's echo and discard ($rst)" [ "$rst" -eq 0 ]
check_pcap "$pcap"
save_capture live_tcp "$pcap"

# run_connect NAME PORT IN OUT: tapstack --connect CLIENT:PORT with standard input IN and output OUT,
# recording to $live_work/NAME.pcap; waits at most 60 s for it to exit by itself, checks status 0.
run_connect() {
  local name="$1" port="$2" in="$3" out="$4" status=0 tries=1200
  tapstack_log="$live_work/$name.log"
  TAPSTACK_LAB="$live_lab" "$live_repo/ci/lab" exec "$tapstack" live --tap tap0 --ip "$stack_ip/$stack_prefix" \
    --gateway "$gateway_ip" --pcap "$live_work/$name.pcap" --connect "$client_ip:$port" <"$in" >"$out" 2>"$tapstack_log" &
  tapstack_pid=$!
  live_pids+=("$tapstack_pid")
  while kill -0 "$tapstack_pid" 2>/dev/null && [ "$tries" -gt 0 ]; do
    sleep 0.05
    tries=$((tries - 1))
  done
  if kill -0 "$tapstack_pid" 2>/dev/null; then
    bad "tapstack --connect exits by itself within 60 s"
    kill -TERM "$tapstack_pid" 2>/dev/null || true
  fi
  wait "$tapstack_pid" || status=$?
  check "tapstack --connect $client_ip:$port exits 0 (status $status: $(grep -m 1 -- '--connect' "$tapstack_log" || true))" [ "$status" -eq 0 ]
  check "no ASan/UBSan report" bash -c "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$tapstack_log'"
}

echo "== --connect: 10 MB from tapstack's standard input to a kernel nc -l"
in_client timeout 90 nc -l "$client_ip" 5000 </dev/null >"$live_work/nc.out" 2>"$live_work/nc.err" &
nc_pid=$!
live_pids+=("$nc_pid")
wait_until 10 "nc to listen" listening 5000 || bad "nc listens on port 5000"
run_connect live_tcp_connect 5000 "$mb10" "$live_work/connect.out"
status=0
wait "$nc_pid" || status=$?
check "nc -l exits 0 once tapstack has closed (status $status)" [ "$status" -eq 0 ]
check "nc received the 10 MB byte for byte ($(stat -c %s "$live_work/nc.out") bytes)" cmp -s "$mb10" "$live_work/nc.out"
check "connect app sent 10000000 bytes ($(counter app.connect.bytes_sent))" [ "$(counter app.connect.bytes_sent)" -eq 10000000 ]
syns="$(tshark_count "$live_work/live_tcp_connect.pcap" "ip.src == $stack_ip && tcp.flags.syn == 1")"
# The initial RTO is 1 s (RFC 6298 2.1); the kernel answers within milliseconds.
check "capture: tapstack sent exactly one SYN ($syns)" [ "$syns" -eq 1 ]
check_pcap "$live_work/live_tcp_connect.pcap"
save_capture live_tcp_connect "$live_work/live_tcp_connect.pcap"

echo "== --connect: 3 MB from a kernel socat to tapstack's standard output"
head -c 3000000 /dev/urandom >"$live_work/3mb"
# -u: socat only sends; it closes after the file, whatever tapstack does with its own side.
in_client timeout 90 socat -u "OPEN:$live_work/3mb" "TCP4-LISTEN:5001,bind=$client_ip,reuseaddr" 2>"$live_work/socat-listen.err" &
listen_pid=$!
live_pids+=("$listen_pid")
wait_until 10 "socat to listen" listening 5001 || bad "socat listens on port 5001"
run_connect live_tcp_connect_rx 5001 /dev/null "$live_work/connect_rx.out"
status=0
wait "$listen_pid" || status=$?
check "socat TCP-LISTEN exits 0 (status $status: $(head -c 200 "$live_work/socat-listen.err"))" [ "$status" -eq 0 ]
check "tapstack's standard output has the 3 MB byte for byte ($(stat -c %s "$live_work/connect_rx.out") bytes)" \
  cmp -s "$live_work/3mb" "$live_work/connect_rx.out"
check "connect app received 3000000 bytes ($(counter app.connect.bytes_received))" [ "$(counter app.connect.bytes_received)" -eq 3000000 ]
check_pcap "$live_work/live_tcp_connect_rx.pcap"
save_capture live_tcp_connect_rx "$live_work/live_tcp_connect_rx.pcap"

finish
