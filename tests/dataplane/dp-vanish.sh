#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-vanish.sh - TFTP clients that disappear mid-transfer leave no session behind.
# Config: timeout_ms 1000, give_up_ms 5000. Three clients vanish:
#   A. dp-vanish.py (plain RRQ) ACKs blocks 1-3 and goes silent after DATA 4;
#   B. dp-vanish.py (RRQ with blksize/windowsize) never acknowledges the OACK;
#   C. curl, killed with SIGKILL in the middle of a 32 MiB download (its RFC 2349
#      timeout option, 1 s, is what the server then waits).
# For each: the session is open (/stormboot/sessions active 1) right after the client
# stops, the server retransmits the unacknowledged packet with back-off, 1 s, 2 s and 4 s
# after the last progress (3 times, A and B: seen by the client), then gives up 5 s after
# the last progress: active 0, given_up +1, the port freed
# (a late ACK to it gets no answer and counts as drop tftp_unknown_session).
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-vanish.sh     (SB_PREFIX default "dpt")
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init
sb_need_cmd curl

TIMEOUT_MS=1000
GIVE_UP_MS=5000
RESENDS=3                            # at 1, 2 (then the wait doubles) and 4 s
GIVE_UP_S=$((GIVE_UP_MS / 1000 + 1)) # rounded up
dp_image img1m.bin 1048576
dp_image img32m.bin 33554432
dp_config "{\"dhcp\": {\"mode\": \"off\"}, \"tftp\": {\"timeout_ms\": $TIMEOUT_MS, \"give_up_ms\": $GIVE_UP_MS}}"
dp_lab_up --tx-csum-off
sb_in "$SB_NS_CLI" ip addr add 198.18.0.10/24 dev "$SB_IF_CLI"
dp_start
sb_assert "client reaches the server's kernel" \
	sb_wait_for 5 sb_in "$SB_NS_CLI" busybox ping -q -c 1 -W 1 $DP_SRV

# vanish TAG ACKS OPTIONS...: a dp-vanish.py client; checks while it is silent and after
vanish() {
	local tag=$1 acks=$2 out=$DP_WORK/vanish-$1
	shift 2
	local d_tftp_sessions_given_up d_tftp_sessions_started d_tftp_sessions_active active
	dp_snap /stormboot/sessions "$out.before"
	dp_snap /stormboot/stats "$out.stats"
	sb_start "vanish-$tag" "$SB_NS_CLI" taskset -c "$DP_CLI_CPUS" "$DP_PY" "$HERE/dp-vanish.py" \
		$DP_SRV img1m.bin "$acks" $((GIVE_UP_S + 2)) "$@"
	sb_wait_for 10 grep -q '^stopped$' "$SB_RUN/vanish-$tag.log" || true
	active=$(dp_get /stormboot/sessions tftp_sessions_active)
	sb_check "$tag: client silent, its session still open (active $active)" test "$active" = 1
	sb_wait_for $((GIVE_UP_S + 10)) bash -c "! kill -0 $(sb_pid "vanish-$tag") 2>/dev/null" || true
	sb_stop "vanish-$tag" 1
	tail -n 1 "$SB_RUN/vanish-$tag.log" >"$out.json"
	sb_log "$tag: client saw $(cat "$out.json")"
	seen() { "$DP_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$out.json" "$1" 2>/dev/null; }
	sb_check "$tag: server retransmitted the unacknowledged packet $RESENDS times ($(seen retransmits))" \
		test "$(seen retransmits)" = "$RESENDS"
	sb_check "$tag: a late ACK to the freed transfer port gets no answer ($(seen late_answer))" \
		test "$(seen late_answer)" = None
	eval "$(dp_deltas "$out.before" /stormboot/sessions | grep -E '^d_tftp_sessions_(given_up|started|active)=')"
	sb_check "$tag: one session started and given up (started +$d_tftp_sessions_started, given_up +$d_tftp_sessions_given_up)" \
		test "$d_tftp_sessions_started/$d_tftp_sessions_given_up" = 1/1
	sb_check "$tag: no session left (active $(dp_get /stormboot/sessions tftp_sessions_active))" \
		test "$(dp_get /stormboot/sessions tftp_sessions_active)" = 0
	sb_check "$tag: the late ACK counted as drop tftp_unknown_session" \
		test "$(dp_delta "$out.stats" /stormboot/stats drop_tftp_unknown_session)" = 1
}

vanish plain 3
vanish oack 0 blksize=1468 windowsize=4

# --- C: a real client killed mid-transfer. curl sends the RFC 2349 timeout option
# (its default: 6 s); --connect-timeout 3 makes it ask for 1 s, which the server
# honours over timeout_ms (3 x 1 s fit in give_up_ms): the session is given up 5 s later.
dp_snap /stormboot/sessions "$DP_WORK/curl.before"
sb_start curl "$SB_NS_CLI" taskset -c "$DP_CLI_CPUS" curl -sS --connect-timeout 3 --tftp-blksize 512 \
	-o "$DP_WORK/curl.out" "tftp://$DP_SRV/img32m.bin"
sb_wait_for 30 bash -c "[ \$(stat -c %s '$DP_WORK/curl.out' 2>/dev/null || echo 0) -ge 262144 ]" || true
size=$(stat -c %s "$DP_WORK/curl.out" 2>/dev/null || echo 0)
kill -KILL "$(sb_pid curl)" 2>/dev/null || true
wait "$(sb_pid curl)" 2>/dev/null || true
sb_stop curl 1
sb_check "curl: killed mid-transfer ($size of 33554432 bytes)" \
	test "$size" -gt 0 -a "$size" -lt 33554432
sb_check "curl: its session still open right after the kill" \
	test "$(dp_get /stormboot/sessions tftp_sessions_active)" = 1
sleep $((GIVE_UP_S - 1))
sb_check "curl: session gone give_up_ms after its last ACK" dp_idle 5
eval "$(dp_deltas "$DP_WORK/curl.before" /stormboot/sessions | grep -E '^d_tftp_sessions_(given_up|started|completed)=')"
sb_check "curl: given_up +1, not completed (started +$d_tftp_sessions_started, given_up +$d_tftp_sessions_given_up, completed +$d_tftp_sessions_completed)" \
	test "$d_tftp_sessions_started/$d_tftp_sessions_given_up/$d_tftp_sessions_completed" = 1/1/0

# the server still serves, from a fresh session
rc=0
dp_in_cli timeout 60 curl -sS --tftp-blksize 1468 -o "$DP_WORK/after.bin" "tftp://$DP_SRV/img1m.bin" || rc=$?
sb_check "a new download after the vanished clients is byte-identical (curl rc $rc)" \
	cmp -s "$DP_WORK/img/img1m.bin" "$DP_WORK/after.bin"
sb_check "telemetry /stormboot/sessions: none left open" dp_idle 5
sb_check "dataplane still running" sb_alive dataplane
sb_summary
