#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-client-cap.sh - resource limits on the fast path (issue 15 item 6), with real sockets
# (tests/dataplane/dp-client-cap.py in the client namespace):
# - tftp.max_sessions_per_client: one client address opening many sessions from new source
#   ports gets CAP of them; its other RRQs are held unanswered (no ERROR) and counted
#   (drop_tftp_rrq_client_cap), a WARNING names the client; another address is not held
#   back; once two of its sessions end, two of its retransmitted RRQs are answered;
# - transfer ports: consecutive sessions do not get consecutive ports (they did: the free
#   ports were handed out in order), every port inside tftp.transfer_ports.
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-client-cap.sh     (SB_PREFIX default "dpc")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-dpc}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init
CAP=4
SEQ=16
A=198.18.0.10
B=198.18.0.11

dp_image cap.bin 65536
dp_config "{\"dhcp\": {\"mode\": \"off\"}, \"tftp\": {\"max_sessions_per_client\": $CAP, \"give_up_ms\": 20000}}"
dp_lab_up --tx-csum-off
sb_in "$SB_NS_CLI" ip addr add $A/24 dev "$SB_IF_CLI"
sb_in "$SB_NS_CLI" ip addr add $B/24 dev "$SB_IF_CLI"
dp_start
dp_snap /stormboot/stats "$DP_WORK/s.before"

dp_in_cli timeout 60 "$DP_PY" "$HERE/dp-client-cap.py" "$DP_SRV" cap.bin $A $B $CAP $SEQ \
	>"$DP_WORK/client.out"
cat "$DP_WORK/client.out" >&2
val() { awk -v k="$1" '$1 == k {$1 = ""; sub(/^ /, ""); print}' "$DP_WORK/client.out"; }
eval "$(dp_deltas "$DP_WORK/s.before" /stormboot/stats | grep -E '^d_(drop_tftp_rrq_client_cap|drop_tftp_rrq_paced|tx_tftp_error|tftp_sessions_started)=')"

sb_check "one address, $((3 * CAP)) RRQs from new ports: $CAP answered (got $(val phase1_answered))" \
	test "$(val phase1_answered)" = $CAP
sb_check "the other $((2 * CAP)) held unanswered (got $(val phase1_held)), no ERROR (got $(val phase1_errors))" \
	test "$(val phase1_held)/$(val phase1_errors)" = "$((2 * CAP))/0"
sb_check "another address is answered meanwhile" test "$(val other_client_answered)" = 1
sb_check "two sessions ended: two of three retransmitted RRQs answered (got $(val after_close_answered))" \
	test "$(val after_close_answered)" = 2
sb_check "held RRQs counted: drop_tftp_rrq_client_cap +$d_drop_tftp_rrq_client_cap = $((2 * CAP + 1))" \
	test "$d_drop_tftp_rrq_client_cap" = $((2 * CAP + 1))
sb_check "not counted as the session cap (drop_tftp_rrq_paced +$d_drop_tftp_rrq_paced)" \
	test "$d_drop_tftp_rrq_paced" = 0
sb_check "no TFTP ERROR sent (tx_tftp_error +$d_tx_tftp_error)" test "$d_tx_tftp_error" = 0
sb_check "the WARNING names the client and the cap" \
	grep -q "TFTP client $A has $CAP sessions (tftp.max_sessions_per_client $CAP)" "$SB_RUN/dataplane.log"

read -r -a ports <<<"$(val seq_ports) $(val phase1_ports)"
read -r -a seq_ports <<<"$(val seq_ports)"
in_seq=0 out=0
for ((i = 1; i < ${#seq_ports[@]}; i++)); do
	[ "${seq_ports[i]}" = $((seq_ports[i - 1] + 1)) ] && in_seq=$((in_seq + 1))
done
for p in "${ports[@]}"; do
	{ [ "$p" -ge 61000 ] && [ "$p" -le 61999 ]; } || out=$((out + 1))
done
sb_log "ports of $SEQ consecutive sessions: ${seq_ports[*]}"
sb_check "$SEQ consecutive sessions were served (got ${#seq_ports[@]})" test "${#seq_ports[@]}" = $SEQ
sb_check "their transfer ports are not in sequence ($in_seq of $((SEQ - 1)) one above the last)" \
	test "$in_seq" -lt 3
sb_check "every transfer port inside tftp.transfer_ports 61000-61999 ($out outside)" test "$out" = 0
sb_check "dataplane still running" sb_alive dataplane
sb_summary
