#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-dup-rrq.sh - a retransmitted RRQ (same client address and port, same request,
# sent again because the first answer was late) does not open a second session.
# Clients resend their RRQ when the OACK/DATA 1 is slow (curl after ~6 s, atftp,
# PXE ROMs); a second session would answer from a second transfer port and the
# client, already talking to the first, aborts ("unexpected OACK" in atftp). Seen
# first as dp-parallel failures on a loaded host. Also: once a session has ended,
# the same client port can start a new one (the by-client key is removed).
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-dup-rrq.sh     (SB_PREFIX default "dpt")
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init

dp_image img1m.bin 1048576
dp_image tiny.bin 100
dp_config '{"dhcp": {"mode": "off"}, "tftp": {"timeout_ms": 2000, "retries": 1}}'
dp_lab_up --tx-csum-off
sb_in "$SB_NS_CLI" ip addr add 198.18.0.10/24 dev "$SB_IF_CLI"
dp_start
sb_assert "client reaches the server's kernel" \
	sb_wait_for 5 sb_in "$SB_NS_CLI" busybox ping -q -c 1 -W 1 $DP_SRV
dp_snap /stormboot/sessions "$DP_WORK/before"
dp_snap /stormboot/stats "$DP_WORK/stats.before"

for opts in "" "blksize 1468"; do
	dp_in_cli "$DP_PY" - $DP_SRV "$opts" >"$DP_WORK/dup.json" <<-'EOF'
	import json, socket, struct, sys, time
	srv, opts = sys.argv[1], sys.argv[2].split()
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.bind(("0.0.0.0", 0))
	rrq = b"\x00\x01img1m.bin\x00octet\x00" + b"".join(o.encode() + b"\x00" for o in opts)
	s.sendto(rrq, (srv, 69))
	time.sleep(0.05)
	s.sendto(rrq, (srv, 69))  # the client's retransmission
	s.settimeout(0.2)
	seen, end = [], time.monotonic() + 1.0  # before the server's 2 s timeout
	while time.monotonic() < end:
	    try:
	        data, peer = s.recvfrom(65536)
	    except socket.timeout:
	        continue
	    seen.append([peer[1], struct.unpack("!H", data[:2])[0]])
	print(json.dumps({"answers": seen, "ports": sorted({p for p, _ in seen})}))
	EOF
	sb_log "RRQ twice${opts:+ ($opts)}: $(cat "$DP_WORK/dup.json")"
	sb_check "RRQ sent twice${opts:+ ($opts)}: answered from one transfer port, once" \
		"$DP_PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (len(d["ports"]) == 1 and len(d["answers"]) == 1))' \
		"$DP_WORK/dup.json"
done
sb_check "two sessions started for two clients (started +$(dp_delta "$DP_WORK/before" /stormboot/sessions tftp_sessions_started))" \
	test "$(dp_delta "$DP_WORK/before" /stormboot/sessions tftp_sessions_started)" = 2
sb_check "the two resent RRQs counted as drop tftp_rrq_duplicate" \
	test "$(dp_delta "$DP_WORK/stats.before" /stormboot/stats drop_tftp_rrq_duplicate)" = 2

# one client port, two transfers one after the other: the second RRQ is not a duplicate
dp_snap /stormboot/sessions "$DP_WORK/before"
dp_in_cli "$DP_PY" - $DP_SRV >"$DP_WORK/again.json" <<-'EOF'
	import json, socket, struct, sys
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.bind(("0.0.0.0", 0))
	s.settimeout(3)
	got = []
	for i in range(2):
	    s.sendto(b"\x00\x01tiny.bin\x00octet\x00", (sys.argv[1], 69))
	    data, peer = s.recvfrom(65536)
	    got.append([peer[1], len(data) - 4])
	    s.sendto(struct.pack("!HH", 4, 1), peer)  # the 100-byte DATA 1 is the last block
	print(json.dumps(got))
	EOF
sb_log "same port, two transfers: $(cat "$DP_WORK/again.json")"
dp_idle 3 || true
sb_check "same client port after a completed transfer: a new session serves it" test \
	"$(dp_delta "$DP_WORK/before" /stormboot/sessions tftp_sessions_started)/$(dp_delta "$DP_WORK/before" /stormboot/sessions tftp_sessions_completed)" = 2/2
sb_check "no session left open" dp_idle 5
sb_summary
