#!/usr/bin/env bash
# Live: tapstack's HTTP/1.1 server (`--serve http:80:DIR`) against curl and
# socat on the Linux kernel's TCP in the client namespace (ci/lab): static files
# byte-exact, /bytes/N of several sizes up to 100 MiB (size and sha256 against
# the pattern made independently here), 404, path escapes refused, 405 with
# Allow, HEAD without a body (checked on the wire: a GET pipelined behind it on
# the same connection comes back intact), 50 requests on one keep-alive
# connection, 100 sequential and 20 parallel connections, orderly closes (no
# RST from tapstack), and a capture tshark reads cleanly.
#
#   tests/live/live_http_test.sh BUILD_DIR
#
# Exit: 0 passed, 1 failed, 77 skipped (not root, no /dev/net/tun, a tool missing).
# TAPSTACK_CAPTURE_DIR=DIR: also keep tapstack's capture there (live_http.pcap; the
# 100 MiB download runs without a capture).
set -euo pipefail
source "$(dirname "$0")/live_lib.sh"
live_init live_http_test "${1:?usage: live_http_test.sh BUILD_DIR}" curl socat sha256sum

www="$live_work/www"
mkdir -p "$www/sub"
head -c 1000003 /dev/urandom >"$www/random.bin"  # not a multiple of anything the stack uses
printf 'a nested file\n' >"$www/sub/nested.txt"
head -c 4096 /dev/urandom >"$www/with space.bin"
ln -s /etc/passwd "$www/escape-link"             # inside DIR, pointing out of it

base="http://$stack_ip"
# TCP connections the client opened to port 80, counted from curl's -v logs and socat runs:
# the http app must have accepted exactly as many.
connections=0

# fetch NAME URL [CURL-ARGS...]: curl in the client; body in $live_work/NAME.body, response
# headers in NAME.hdr, the -v log in NAME.log. Sets $code (000 when no response) and $size.
fetch() {
  local name="$1" url="$2" out
  shift 2
  out="$(in_client timeout 60 curl -sS -v --path-as-is -o "$live_work/$name.body" -D "$live_work/$name.hdr" \
    -w '%{http_code} %{size_download}' "$@" "$url" 2>"$live_work/$name.log")" || true
  code="${out% *}"
  size="${out#* }"
  connections=$((connections + $(connected "$live_work/$name.log")))
}

# connected LOG: how many TCP connections curl's -v LOG says it opened.
connected() { grep -o '\* Connected to ' "$1" | wc -l; }

# header NAME FIELD: the value of FIELD in NAME.hdr (last one, without CR).
header() {
  grep -i "^$2:" "$live_work/$1.hdr" | tail -n 1 | cut -d: -f2- | tr -d ' \r'
}

sha() { sha256sum | cut -d' ' -f1; }

pcap="$live_work/live_http.pcap"
start_tapstack "$pcap" --serve "http:80:$www"

echo "== static files below DIR"
fetch random "$base/random.bin"
check "GET /random.bin: 200, 1000003 bytes (code $code, $size bytes)" [ "$code" = 200 -a "$size" = 1000003 ]
check "GET /random.bin: Content-Length 1000003 ($(header random Content-Length))" [ "$(header random Content-Length)" = 1000003 ]
check "GET /random.bin: byte-exact" cmp -s "$www/random.bin" "$live_work/random.body"
fetch nested "$base/sub/nested.txt"
check "GET /sub/nested.txt: 200, byte-exact (code $code)" cmp -s "$www/sub/nested.txt" "$live_work/nested.body"
fetch space "$base/with%20space.bin"
check "GET /with%20space.bin (percent-encoded name): 200, byte-exact (code $code)" \
  cmp -s "$www/with space.bin" "$live_work/space.body"

echo "== /bytes/N (byte i = 'a' + i % 26)"
for n in 0 1 1460 1461 65536 1048576; do
  fetch "bytes$n" "$base/bytes/$n"
  want="$(bytes_pattern "$n" | sha)"
  got="$(sha <"$live_work/bytes$n.body")"
  check "GET /bytes/$n: 200, $n bytes, Content-Length $n (code $code, $size bytes, length $(header "bytes$n" Content-Length))" \
    [ "$code" = 200 -a "$size" = "$n" -a "$(header "bytes$n" Content-Length)" = "$n" ]
  check "GET /bytes/$n: sha256 matches the pattern" [ "$got" = "$want" ]
done

echo "== errors"
fetch missing "$base/missing.bin"
check "GET /missing.bin: 404 (code $code)" [ "$code" = 404 ]
escapes=(/../etc/passwd /../../../../etc/passwd /sub/../../etc/passwd /%2e%2e/etc/passwd /sub/%2E%2E/%2e%2e/etc/passwd
  /..%2fetc/passwd /escape-link)
i=0
for path in "${escapes[@]}"; do
  i=$((i + 1))
  fetch "escape$i" "$base$path"
  refused=false
  case "$code" in 400 | 403 | 404) refused=true ;; esac
  check "GET $path (escape from DIR): refused (code $code)" $refused
  check "GET $path: no /etc/passwd content" bash -c "! grep -q '^root:' '$live_work/escape$i.body'"
done
fetch post "$base/bytes/10" -X POST --data-binary 'x=1'
check "POST /bytes/10: 405 (code $code)" [ "$code" = 405 ]
# RFC 9110 15.5.6: a 405 MUST carry Allow with the methods the resource supports.
check "405 has an Allow header naming GET ($(header post Allow))" grep -q GET <<<"$(header post Allow)"

echo "== HEAD"
fetch head "$base/bytes/1048576" --head
check "HEAD /bytes/1048576: 200, Content-Length 1048576, no body (code $code, $size body bytes, length $(header head Content-Length))" \
  [ "$code" = 200 -a "$size" = 0 -a "$(header head Content-Length)" = 1048576 ]
fetch headfile "$base/random.bin" --head
check "HEAD /random.bin: 200, Content-Length 1000003, no body (code $code, $size body bytes)" \
  [ "$code" = 200 -a "$size" = 0 -a "$(header headfile Content-Length)" = 1000003 ]
# On the wire: HEAD and a GET pipelined on one connection (RFC 9112 9.3.2: responses in order).
# A body after the HEAD response would show up in front of the GET's response.
printf 'HEAD /bytes/1000 HTTP/1.1\r\nHost: %s\r\n\r\nGET /bytes/5 HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' \
  "$stack_ip" "$stack_ip" >"$live_work/pipelined.req"
in_client timeout 20 socat -t 10 - "TCP4:$stack_ip:80" <"$live_work/pipelined.req" >"$live_work/pipelined.out" 2>&1 || true
connections=$((connections + 1))
response="$(cat "$live_work/pipelined.out")"
second="${response#*$'\r\n\r\n'}"
body="${second#*$'\r\n\r\n'}"
check "HEAD then pipelined GET on one connection: two responses, the GET's body exactly 'abcde' (got $(head -c 120 "$live_work/pipelined.out" | tr '\r\n' '  ')...)" \
  [ "${response:0:15}" = "HTTP/1.1 200 OK" -a "${second:0:15}" = "HTTP/1.1 200 OK" -a "$body" = abcde ]

echo "== 50 requests on one keep-alive connection"
args=()
for i in $(seq 1 50); do
  args+=(-o "$live_work/ka.$i" "$base/bytes/$((i * 997 % 7001))")
done
in_client timeout 120 curl -sS -v "${args[@]}" >/dev/null 2>"$live_work/ka.log" || true
opened="$(connected "$live_work/ka.log")"
reused="$(grep -c '^\* Re-using existing connection' "$live_work/ka.log" || true)"
connections=$((connections + opened))
check "curl opened 1 connection and reused it 49 times (opened $opened, reused $reused)" [ "$opened" -eq 1 -a "$reused" -eq 49 ]
good=0
for i in $(seq 1 50); do
  if [ -f "$live_work/ka.$i" ] && cmp -s <(bytes_pattern $((i * 997 % 7001))) "$live_work/ka.$i"; then
    good=$((good + 1))
  fi
done
check "all 50 keep-alive responses byte-exact ($good)" [ "$good" -eq 50 ]
check "no 'Connection: close' from tapstack on the keep-alive connection" bash -c "! grep -qi '^< Connection: close' '$live_work/ka.log'"

echo "== 100 sequential connections"
good=0
deadline=$((SECONDS + 120))
for i in $(seq 1 100); do
  [ "$SECONDS" -lt "$deadline" ] || break
  fetch seq "$base/bytes/$((i * 13))"
  if [ "$code" = 200 ] && cmp -s <(bytes_pattern $((i * 13))) "$live_work/seq.body"; then
    good=$((good + 1))
  fi
done
check "100 sequential connections, each a byte-exact response ($good)" [ "$good" -eq 100 ]

echo "== 20 parallel connections"
args=()
for i in $(seq 1 20); do
  args+=(-o "$live_work/par.$i" "$base/bytes/$((200000 + i))")
done
in_client timeout 120 curl -sS --no-progress-meter -v --parallel --parallel-immediate --parallel-max 20 "${args[@]}" \
  >/dev/null 2>"$live_work/par.log" || true
connections=$((connections + $(connected "$live_work/par.log")))
good=0
for i in $(seq 1 20); do
  if [ -f "$live_work/par.$i" ] && cmp -s <(bytes_pattern $((200000 + i))) "$live_work/par.$i"; then
    good=$((good + 1))
  fi
done
check "20 parallel downloads of 200 kB, all byte-exact ($good; $(connected "$live_work/par.log") connections)" \
  [ "$good" -eq 20 ]

stop_tapstack
check "http app accepted as many connections as the client opened ($(counter app.http_80.connections_accepted) of $connections)" \
  [ "$(counter app.http_80.connections_accepted)" -eq "$connections" ]
check "every connection closed, none reset or timed out (closed $(counter app.http_80.connections_closed), reset $(counter app.http_80.connections_reset), timed out $(counter app.http_80.connections_timed_out))" \
  [ "$(counter app.http_80.connections_closed)" -eq "$connections" -a "$(counter app.http_80.connections_reset)" -eq 0 -a "$(counter app.http_80.connections_timed_out)" -eq 0 ]
check "one 405 counted ($(counter app.http_80.responses_405))" [ "$(counter app.http_80.responses_405)" -eq 1 ]
check "three HEAD requests counted ($(counter app.http_80.requests_head))" [ "$(counter app.http_80.requests_head)" -eq 3 ]
echo "  (tcp.retransmissions $(counter tcp.retransmissions), tcp.retransmission_timeouts $(counter tcp.retransmission_timeouts))"
rst="$(tshark_count "$pcap" "tcp.flags.reset == 1 && ip.src == $stack_ip")"
check "capture: no RST from tapstack: every connection closed in order ($rst)" [ "$rst" -eq 0 ]
fins="$(tshark_count "$pcap" "tcp.flags.fin == 1 && ip.src == $stack_ip")"
check "capture: tapstack sent a FIN on each connection ($fins of $connections)" [ "$fins" -ge "$connections" ]
check_pcap "$pcap"
save_capture live_http "$pcap"

echo "== 100 MiB download (no capture)"
start_tapstack - --serve http:80
n=104857600
want="$(bytes_pattern "$n" | sha)"
got="$(in_client timeout 180 curl -sS -D "$live_work/big.hdr" -w '%{stderr}%{http_code} %{size_download} %{speed_download}\n' \
  "$base/bytes/$n" 2>"$live_work/big.err" | sha)" || true
read -r code size speed < <(tail -n 1 "$live_work/big.err") || true
check "GET /bytes/$n: 200, $n bytes (code $code, $size bytes, $(awk -v s="${speed:-0}" 'BEGIN { printf "%.1f MB/s", s / 1e6 }'))" \
  [ "$code" = 200 -a "$size" = "$n" ]
check "GET /bytes/$n: sha256 matches the pattern" [ "$got" = "$want" ]
stop_tapstack
check "http app sent $n body bytes ($(counter app.http_80.body_bytes_sent))" [ "$(counter app.http_80.body_bytes_sent)" -eq "$n" ]
check "the download's connection closed, not reset ($(counter app.http_80.connections_closed) closed, $(counter app.http_80.connections_reset) reset)" \
  [ "$(counter app.http_80.connections_closed)" -eq 1 -a "$(counter app.http_80.connections_reset)" -eq 0 ]

finish
