#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test-http-slow.sh - slow clients cannot hold the HTTP boot server (root, lab).
#
# stormboot-control with "http": {"max_connections": 12, "max_connections_per_ip": 6,
# "header_timeout_ms": 2000}. From the client namespace (three addresses):
#  - 10 connections from one address send a request head a byte every 0.2 s: 6 are taken,
#    4 refused with 503 (per-address cap); a client at another address is served meanwhile;
#    the 6 slow ones are closed at the header deadline, before their head is complete;
#  - 12 silent connections from two addresses fill the overall cap: a third address is
#    refused with 503;
#  - every refusal and every cut is counted by reason in http-status.
#
# Usage: test-http-slow.sh [BUILD_DIR]
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
export SB_PREFIX=${SB_PREFIX:-hslw}
. "$HERE/http-lib.sh" # the lab: cli, ctl, http_start_ctl (tests/http/http-lib.sh)
sb_need_cmd curl ip python3
PORT=8080
http_lab_up http-slow 50 51 52
URL=http://$SB_SRV_ADDR:$PORT

printf 'kernel bytes\n' >"$W/vmlinuz"
cat >"$W/stormboot.json" <<EOC
{
  "interface": "$SB_IF_SRV",
  "server_ip": "$SB_SRV_ADDR",
  "dhcp": {"subnets": [{"network": "198.18.0.0/24",
                        "pool": {"start": "198.18.0.60", "end": "198.18.0.99"}}]},
  "http": {"listen": "$SB_SRV_ADDR:$PORT", "max_connections": 12,
           "max_connections_per_ip": 6, "header_timeout_ms": 2000, "idle_timeout_ms": 30000},
  "images": [{"name": "linux/vmlinuz", "path": "$W/vmlinuz"}]
}
EOC
http_start_ctl
sb_wait_for 5 cli curl -sf -o /dev/null "$URL/linux/vmlinuz" ||
	sb_fail "stormboot-control does not answer HTTP on $URL"

cli python3 "$HERE/slow_clients.py" "$SB_SRV_ADDR" $PORT 198.18.0.50 10 198.18.0.51 \
	/linux/vmlinuz >"$W/slow.json"
cat "$W/slow.json"
J() { python3 -c "import json,sys; print(json.load(open('$W/slow.json'))['$1'])"; }
sb_check "per-address cap: 6 slow connections taken" [ "$(J accepted)" = 6 ]
sb_check "per-address cap: 4 refused with 503" [ "$(J refused)" = 4 ]
sb_check "another client served while the slow ones hold" [ "$(J good)" = 200 ]
sb_check "every slow connection cut before its head was complete" [ "$(J cut)" = 6 ]
sb_check "no slow connection got an answer" [ "$(J answered)" = 0 ]

# the overall cap: 6 + 6 silent connections, then a third address
sb_check "overall cap: a 13th connection (third address) gets 503" cli python3 -c "
import socket, time
held = []
for src in ['198.18.0.50'] * 6 + ['198.18.0.51'] * 6:
    held.append(socket.create_connection(('$SB_SRV_ADDR', $PORT), timeout=5, source_address=(src, 0)))
time.sleep(0.3)
c = socket.create_connection(('$SB_SRV_ADDR', $PORT), timeout=5, source_address=('198.18.0.52', 0))
r = c.recv(100)
assert r.startswith(b'HTTP/1.1 503 '), r
"
sb_wait_for 5 cli curl -sf -o /dev/null "$URL/linux/vmlinuz" || true
sb_check "served again once the slots are free" \
	[ "$(cli curl -s -o /dev/null -w '%{http_code}' "$URL/linux/vmlinuz")" = 200 ]

ctl --json http-status >"$W/status.json"
sb_check "http-status counts each refusal and cut by reason" python3 -c "
import json
a = json.load(open('$W/status.json'))['arguments']['counters']
print(a)
assert a['refused_per_ip'] >= 4, a
assert a['refused_conn_limit'] >= 1, a
assert a['header_timeouts'] >= 6, a
assert a['refused'] == a['refused_per_ip'] + a['refused_conn_limit'] + a['refused_library'], a
"
sb_check "stormboot-control still running" sb_alive ctl
sb_summary
