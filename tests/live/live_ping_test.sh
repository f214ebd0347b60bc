#!/usr/bin/env bash
# Live: tapstack as a host on a bridge (ci/lab), the Linux kernel in the client
# namespace as its peer: ARP both ways, ping, fragmented ping both ways, a ping
# flood, and a capture that tshark reads without a single complaint.
#
#   tests/live/live_ping_test.sh BUILD_DIR
#
# Exit: 0 passed, 1 failed, 77 skipped (not root, no /dev/net/tun, a tool missing).
# TAPSTACK_CAPTURE_DIR=DIR: also keep tapstack's captures there (live_ping.pcap,
# live_ping_flood.pcap) for replay regressions.
set -euo pipefail
source "$(dirname "$0")/live_lib.sh"
live_init live_ping_test "${1:?usage: live_ping_test.sh BUILD_DIR}" ping arping

# ping_all COUNT ARGS...: the client pings tapstack; every request answered.
ping_all() {
  local count="$1"
  shift
  local out="$live_work/ping.out"
  in_client timeout 60 ping -n -c "$count" "$@" "$stack_ip" >"$out" 2>&1 || true
  local summary
  summary="$(grep 'packets transmitted' "$out" || echo "no summary: $(tail -n 2 "$out")")"
  if grep -q "$count packets transmitted, $count received, 0% packet loss" "$out"; then
    ok "ping -c $count $*: $summary"
  else
    bad "ping -c $count $*: $summary"
  fi
}

echo "== ARP, ping, fragmentation"
pcap="$live_work/live_ping.pcap"
start_tapstack "$pcap"

# The kernel learnt tapstack's MAC (from tapstack's ARP reply to its request).
neigh="$(in_client ip neigh show "$stack_ip" dev eth0)"
check "client's ip neigh has $stack_ip at $stack_mac ($neigh)" grep -q "lladdr $stack_mac" <<<"$neigh"
arping_out="$(in_client timeout 10 arping -c 2 -i eth0 "$stack_ip" 2>&1 || true)"
check "arping gets answers from $stack_mac" grep -qi "$stack_mac" <<<"$arping_out"

ping_all 20 -i 0.05 -W 1
# 1472 data + 8 ICMP + 20 IPv4 = 1500: exactly one full frame, no fragments.
ping_all 5 -i 0.05 -W 1 -s 1472
# 8008 ICMP bytes: 6 fragments each way (the kernel's, reassembled by tapstack; tapstack's,
# reassembled by the kernel).
ping_all 5 -i 0.05 -W 1 -s 8000
# With DF set and 1473 data bytes the kernel refuses locally: nothing of ours to test there.

stop_tapstack
check "tapstack reassembled the 5 fragmented requests ($(counter ip.reassembly.datagrams_reassembled))" \
  [ "$(counter ip.reassembly.datagrams_reassembled)" -ge 5 ]
check "tapstack answered every echo request ($(counter icmp.tx_echo_replies) of $(counter icmp.rx_echo_requests))" \
  [ "$(counter icmp.tx_echo_replies)" -eq "$(counter icmp.rx_echo_requests)" ]
check "tapstack sent its gratuitous ARP" [ "$(tshark_count "$pcap" "arp.isgratuitous == 1 && eth.src == $stack_mac")" -ge 1 ]
check "tapstack answered the kernel's ARP request" \
  [ "$(tshark_count "$pcap" "arp.opcode == 2 && arp.src.hw_mac == $stack_mac && arp.dst.proto_ipv4 == $client_ip")" -ge 1 ]
from_client="$(tshark_count "$pcap" "ip.src == $client_ip && (ip.flags.mf == 1 || ip.frag_offset > 0)")"
from_stack="$(tshark_count "$pcap" "eth.src == $stack_mac && (ip.flags.mf == 1 || ip.frag_offset > 0)")"
check "kernel -> tapstack fragments in the capture ($from_client, want >= 30)" [ "$from_client" -ge 30 ]
check "tapstack -> kernel fragments in the capture ($from_stack, want >= 30)" [ "$from_stack" -ge 30 ]
big_replies="$(tshark_count "$pcap" "icmp.type == 0 && ip.src == $stack_ip && ip.reassembled.length == 8008")"
check "5 echo replies of 8008 bytes, reassembled by tshark too ($big_replies)" [ "$big_replies" -eq 5 ]
check_pcap "$pcap"
save_capture live_ping "$pcap"

echo "== ping flood"
flood_pcap="$live_work/live_ping_flood.pcap"
start_tapstack "$flood_pcap"
ping_all 3000 -f -W 1 -w 60
stop_tapstack
check_pcap "$flood_pcap"
save_capture live_ping_flood "$flood_pcap"

finish
