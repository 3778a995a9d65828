#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test-http.sh - the HTTP boot server of stormboot-control, in the lab (root).
#
# stormboot-control runs in the lab's server namespace with "http": {"listen":
# "198.18.0.1:8080"}; curl runs in the client namespace (static address 198.18.0.50) and
# checks: a 32 MiB image byte-identical (GET, also 8 at once), HEAD, a byte range, 404 for
# uncatalogued names and for every traversal attempt, 405/400 for bad requests, a per-MAC
# iPXE template rendered (?mac= and by the lease of the source address), the counters and
# the access log, a config reload that moves the port, and the connection limit (503).
#
# Usage: test-http.sh [BUILD_DIR]   (meson passes BUILD_DIR and SOURCE_DIR in the env)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
export SB_PREFIX=${SB_PREFIX:-http}
. "$HERE/http-lib.sh" # the lab: cli, ctl, http_start_ctl (tests/http/http-lib.sh)
sb_need_cmd curl ip cmp sha256sum dd
PY=/usr/bin/python3
CLI_IP=198.18.0.50
PORT=8080
http_lab_up http "${CLI_IP##*.}"
URL=http://$SB_SRV_ADDR:$PORT

head -c $((32 << 20)) /dev/urandom >"$W/big.img"
printf 'kernel bytes\n' >"$W/vmlinuz"
MAC=02:5b:00:00:01:01 # the client's reservation
write_config() {      # PORT MAX_CONNECTIONS
	cat >"$W/stormboot.json" <<EOF
{
  "interface": "$SB_IF_SRV",
  "server_ip": "$SB_SRV_ADDR",
  "dhcp": {
    "boot": {"bios": "undionly.kpxe",
             "ipxe_script": "http://$SB_SRV_ADDR:$1/ipxe/boot.ipxe?mac=\${mac}&arch=\${buildarch}"},
    "subnets": [{"network": "198.18.0.0/24",
                 "pool": {"start": "198.18.0.50", "end": "198.18.0.99"}}],
    "reservations": [{"mac": "$MAC", "hostname": "node-one",
                      "ipxe_script": "http://$SB_SRV_ADDR:$1/ipxe/special.ipxe?mac=\${mac}"}]
  },
  "http": {"listen": "$SB_SRV_ADDR:$1", "max_connections": $2, "idle_timeout_ms": 3000},
  "images": [
    {"name": "big.img", "path": "$W/big.img"},
    {"name": "linux/vmlinuz", "path": "$W/vmlinuz"}
  ]
}
EOF
}
write_config $PORT 64
http_start_ctl
LOG=$SB_RUN/ctl.log
sb_wait_for 5 cli curl -sf -o /dev/null "$URL/linux/vmlinuz" ||
	sb_fail "stormboot-control does not answer HTTP on $URL ($(tail -5 "$LOG"))"

code() { cli curl -s -o /dev/null -w '%{http_code}' "$@"; }

# ---- images ----
cli curl -s -o "$W/got.img" -w '%{http_code} %{size_download}\n' "$URL/big.img" >"$W/get.out"
sb_check "GET 32 MiB: 200, 33554432 bytes" grep -qx '200 33554432' "$W/get.out"
sb_check "GET 32 MiB: byte-identical" cmp -s "$W/big.img" "$W/got.img"
rm -f "$W/got.img"

pids=""
for i in 1 2 3 4 5 6 7 8; do
	cli curl -s -m 60 -o "$W/par$i.img" "$URL/big.img" &
	pids="$pids $!"
done
for p in $pids; do wait "$p" || true; done # not a bare wait: the daemon is a child too
ok=0
for i in 1 2 3 4 5 6 7 8; do
	cmp -s "$W/big.img" "$W/par$i.img" && ok=$((ok + 1))
	rm -f "$W/par$i.img"
done
sb_check "8 parallel GETs byte-identical ($ok/8)" [ "$ok" = 8 ]

cli curl -s -I "$URL/big.img" | tr -d '\r' >"$W/head.out"
sb_check "HEAD: 200 with Content-Length 33554432" \
	sh -c "grep -q '^HTTP/1.1 200' '$W/head.out' && grep -qi '^Content-Length: 33554432$' '$W/head.out'"

cli curl -s -r 1000000-1999999 -o "$W/part" -w '%{http_code}' "$URL/big.img" >"$W/range.out"
dd if="$W/big.img" of="$W/part.want" bs=1000000 skip=1 count=1 status=none
sb_check "Range bytes=1000000-1999999: 206, the right bytes" \
	sh -c "[ \"\$(cat '$W/range.out')\" = 206 ] && cmp -s '$W/part' '$W/part.want'"
sb_check "Range past the end: 416" [ "$(code -r 40000000- "$URL/big.img")" = 416 ]
sb_check "keep-alive: two GETs on one connection" \
	sh -c "[ \"\$(ip netns exec $SB_NS_CLI curl -s -o /dev/null -o /dev/null -w '%{num_connects}' '$URL/linux/vmlinuz' '$URL/linux/vmlinuz')\" = 10 ]"
sb_check "leading slash and // normalised like TFTP" [ "$(code "$URL//linux//vmlinuz")" = 200 ]

# ---- refusals ----
sb_check "uncatalogued name: 404" [ "$(code "$URL/nothing-here")" = 404 ]
sb_check "a real file outside the catalog: 404" [ "$(code "$URL/etc/passwd")" = 404 ]
sb_check "the image's directory is not browsable: 404" [ "$(code "$URL/")" = 404 ]
for p in /../../../../etc/passwd /linux/../big.img /linux/../../etc/passwd \
	/%2e%2e/%2e%2e/etc/passwd /linux/%2E%2E/big.img '/..%5c..%5cetc/passwd' \
	"/..$W/big.img" "/$W/big.img"; do
	sb_check "traversal $p: 404" [ "$(code --path-as-is "$URL$p")" = 404 ]
done
sb_check "POST: 405" [ "$(code -X POST "$URL/big.img")" = 405 ]
sb_check "NUL in the path: 400" [ "$(code --path-as-is "$URL/big.img%00.txt")" = 400 ]
sb_check "malformed request: 400" \
	sh -c "ip netns exec $SB_NS_CLI $PY -c '
import socket
s = socket.create_connection((\"$SB_SRV_ADDR\", $PORT), timeout=5)
s.sendall(b\"GET /big.img HTTP/1.1\r\nHost : x\r\n\r\n\")
r = s.recv(100)
assert r.startswith(b\"HTTP/1.1 400 \"), r
'"

# ---- iPXE templates ----
cat >"$W/boot.ipxe" <<'EOF'
#!ipxe
echo stormboot: ${hostname} mac ${mac} ip ${ip} arch ${arch} via ${server}
kernel ${base_url}/linux/vmlinuz console=ttyS0 BOOTIF=01-${net0/mac:hexhyp}
boot
EOF
ctl raw "$($PY -c 'import json,sys; print(json.dumps({"command": "template-add", "arguments": {"name": "boot.ipxe", "text": open(sys.argv[1]).read()}}))' "$W/boot.ipxe")" >/dev/null
ctl raw '{"command": "template-add", "arguments": {"name": "special.ipxe", "text": "#!ipxe\necho special ${mac}\n"}}' >/dev/null
sb_check "template-list shows 2 templates" sh -c "'$CTL' -s '$API' --json template-list | grep -q '\"2 templates\"'"

cli curl -s "$URL/ipxe/boot.ipxe?mac=$MAC&arch=x86_64" >"$W/rendered"
cat >"$W/want" <<EOF
#!ipxe
echo stormboot: node-one mac $MAC ip $CLI_IP arch x86_64 via $SB_SRV_ADDR
kernel http://$SB_SRV_ADDR:$PORT/linux/vmlinuz console=ttyS0 BOOTIF=01-\${net0/mac:hexhyp}
boot
EOF
sb_check "per-MAC iPXE script rendered" cmp -s "$W/want" "$W/rendered"
cmp -s "$W/want" "$W/rendered" || diff "$W/want" "$W/rendered" >&2 || true
sb_check "rendered script is text/plain" \
	sh -c "ip netns exec $SB_NS_CLI curl -s -I '$URL/ipxe/boot.ipxe?mac=$MAC' | grep -qi '^Content-Type: text/plain'"
sb_check "the reservation's script is a template too" \
	sh -c "ip netns exec $SB_NS_CLI curl -s '$URL/ipxe/special.ipxe?mac=$MAC' | grep -qx 'echo special $MAC'"
sb_check "bad mac parameter: 400" [ "$(code "$URL/ipxe/boot.ipxe?mac=nope")" = 400 ]
sb_check "unknown template: 404" [ "$(code "$URL/ipxe/none.ipxe?mac=$MAC")" = 404 ]

# without ?mac=, the client is the holder of the lease of its source address
"$FAKE" "$W/dataplane.sock" -b 1 -i "$CLI_IP" -m 0x77 >"$W/fake.out" 2>&1 || true
sb_check "fake dataplane bound $CLI_IP" grep -q "^acked" "$W/fake.out"
sb_check "client found by its lease" \
	sh -c "ip netns exec $SB_NS_CLI curl -s '$URL/ipxe/boot.ipxe' | grep -q 'mac 02:77:00:00:00:00 ip $CLI_IP'"

ctl raw '{"command": "template-del", "arguments": {"name": "special.ipxe"}}' >/dev/null
sb_check "deleted template: 404" [ "$(code "$URL/ipxe/special.ipxe?mac=$MAC")" = 404 ]

# ---- counters and access log ----
ctl --json http-status >"$W/status.json"
sb_check "http-status counts 404s and bytes" $PY -c "
import json
a = json.load(open('$W/status.json'))['arguments']['counters']
assert a['not_found'] >= 12, a
assert a['bytes_sent'] >= 9 * (32 << 20), a
assert a['bad_requests'] >= 2, a
"
sb_check "access log line for the 32 MiB GET" \
	grep -q "http $CLI_IP:[0-9]* \"GET /big.img HTTP/1.1\" 200 33554432/33554432 .* image big.img" "$LOG"
sb_check "access log says why a traversal was refused" grep -q "404 .* refused: '..' in path" "$LOG"

# ---- verified bytes: only what the registry hashed is sent ----
printf 'K' | dd of="$W/vmlinuz" bs=1 conv=notrunc status=none # in place: same size, inode
sb_check "a file changed in place after hashing: 503" [ "$(code "$URL/linux/vmlinuz")" = 503 ]
sb_check "... logged with the reason" grep -q "linux/vmlinuz: .*changed since it was hashed" "$LOG"
ctl config-reload >/dev/null # the same config: the changed file is hashed again
sb_wait_for 10 sh -c "[ \"\$(ip netns exec $SB_NS_CLI curl -s -o /dev/null -w '%{http_code}' '$URL/linux/vmlinuz')\" = 200 ]" || true
sb_check "re-registered (config-reload): served, the new bytes" \
	sh -c "ip netns exec $SB_NS_CLI curl -s '$URL/linux/vmlinuz' | cmp -s - '$W/vmlinuz'"
sb_check "images_unverified counted" sh -c "'$CTL' -s '$API' --json http-status | $PY -c 'import json,sys; assert json.load(sys.stdin)[\"arguments\"][\"counters\"][\"images_unverified\"] >= 1'"

# ---- reload: new port, connection limit ----
write_config 8081 2
ctl config-reload >/dev/null
sb_check "after reload: served on :8081" [ "$(code "http://$SB_SRV_ADDR:8081/linux/vmlinuz")" = 200 ]
sb_check "after reload: :8080 closed" [ "$(code "$URL/linux/vmlinuz")" = 000 ]
sb_check "third connection over max_connections 2: 503" \
	ip netns exec "$SB_NS_CLI" $PY -c "
import socket, time
a = socket.create_connection(('$SB_SRV_ADDR', 8081), timeout=5)
b = socket.create_connection(('$SB_SRV_ADDR', 8081), timeout=5)
time.sleep(0.3)
c = socket.create_connection(('$SB_SRV_ADDR', 8081), timeout=5)
r = c.recv(100)
assert r.startswith(b'HTTP/1.1 503 '), r
"
sb_check "idle connections closed after idle_timeout_ms" \
	ip netns exec "$SB_NS_CLI" $PY -c "
import socket, time
a = socket.create_connection(('$SB_SRV_ADDR', 8081), timeout=8)
t = time.time()
assert a.recv(100) == b''
assert 2 < time.time() - t < 7, time.time() - t
"
sb_check "stormboot-control still running" sb_alive ctl

# ---- restart: templates are kept in STATE_DIR/templates ----
sb_stop ctl
http_start_ctl
sb_wait_for 5 cli curl -s -o /dev/null "http://$SB_SRV_ADDR:8081/linux/vmlinuz" ||
	sb_fail "stormboot-control did not come back"
sb_check "template kept across a restart" \
	sh -c "ip netns exec $SB_NS_CLI curl -s 'http://$SB_SRV_ADDR:8081/ipxe/boot.ipxe?mac=$MAC' | grep -q 'node-one mac $MAC'"
sb_check "deleted template stays deleted" \
	[ "$(code "http://$SB_SRV_ADDR:8081/ipxe/special.ipxe?mac=$MAC")" = 404 ]
sb_summary
