#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-paced.sh - storms are paced, never refused (issue 14 item 5). With "max_sessions": 32,
# 128 downloads started together (curl and tftp-hpa, half each; atftp is not used: it gives
# up at once on a missing first answer) all complete byte-identical: a RRQ that finds the
# table full is held unanswered and counted (drop_tftp_rrq_paced), no TFTP ERROR is sent (PXE
# firmware takes one as fatal), and a free slot goes to the oldest waiting client: the
# admission queue (tftp_wait_*) starts its session at once from the RRQ it kept, without
# waiting for the client's retransmission. Every client that waited was admitted from the
# queue (none expired, none failed) and the queue is empty at the end.
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-paced.sh     (SB_PREFIX default "dpp")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-dpp}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init
sb_need_cmd curl tftp
N=${PACED_N:-128}
CAP=32

dp_image paced.bin 262144
# the clients share one address: the per-client cap off, the session cap is under test
dp_config "{\"dhcp\": {\"mode\": \"off\"}, \"tftp\": {\"max_sessions\": $CAP, \"max_sessions_per_client\": 0}}"
dp_lab_up --tx-csum-off
sb_in "$SB_NS_CLI" ip addr add 198.18.0.10/24 dev "$SB_IF_CLI"
dp_start
dp_snap /stormboot/stats "$DP_WORK/s.before"

cat >"$DP_WORK/parallel.sh" <<'EOS'
#!/bin/bash
dir=$1 n=$2 srv=$3
pids=()
for ((i = 1; i <= n; i++)); do
	if ((i % 2)); then
		timeout 240 curl -sS --tftp-blksize 1468 -o "$dir/f$i" "tftp://$srv/paced.bin" \
			>"$dir/f$i.log" 2>&1 &
	else
		(cd "$dir" && exec timeout 240 tftp -m binary "$srv" -c get paced.bin "f$i") \
			>"$dir/f$i.log" 2>&1 &
	fi
	pids[i]=$!
done
for ((i = 1; i <= n; i++)); do
	wait "${pids[i]}"
	echo "$i $?" >>"$dir/rc"
done
EOS
chmod +x "$DP_WORK/parallel.sh"
mkdir -p "$DP_WORK/dl"
dp_in_cli timeout 300 "$DP_WORK/parallel.sh" "$DP_WORK/dl" "$N" $DP_SRV || true
ok_rc=$(awk '$2 == 0' "$DP_WORK/dl/rc" 2>/dev/null | wc -l)
same=0
for ((i = 1; i <= N; i++)); do
	cmp -s "$DP_WORK/img/paced.bin" "$DP_WORK/dl/f$i" && same=$((same + 1))
done
sb_check "$N clients started together against a cap of $CAP: all exited 0 (got $ok_rc; $(grep -l . "$DP_WORK"/dl/f*.log 2>/dev/null | head -3 | xargs -r cat | head -c 200))" \
	test "$ok_rc" = "$N"
sb_check "$N downloads byte-identical (got $same)" test "$same" = "$N"
dp_idle 10 || true
eval "$(dp_deltas "$DP_WORK/s.before" /stormboot/stats | grep -E '^d_(drop_tftp_rrq_paced|tx_tftp_error|tftp_sessions_started|tftp_sessions_completed|tftp_wait_held|tftp_wait_admitted|tftp_wait_expired|tftp_wait_failed|tftp_wait_full)=')"
waiting=$(dp_get /stormboot/stats tftp_waiting)
sb_log "paced RRQs $d_drop_tftp_rrq_paced, sessions started $d_tftp_sessions_started, completed $d_tftp_sessions_completed, TFTP ERRORs sent $d_tx_tftp_error"
sb_check "the cap was reached: RRQs were held (drop_tftp_rrq_paced $d_drop_tftp_rrq_paced > 0)" \
	test "$d_drop_tftp_rrq_paced" -gt 0
sb_check "no TFTP ERROR sent (tx_tftp_error $d_tx_tftp_error)" test "$d_tx_tftp_error" = 0
sb_check "$N sessions started and completed" \
	test "$d_tftp_sessions_started/$d_tftp_sessions_completed" = "$N/$N"
sb_log "admission queue: held $d_tftp_wait_held, admitted $d_tftp_wait_admitted, expired $d_tftp_wait_expired, failed $d_tftp_wait_failed, full $d_tftp_wait_full, waiting now $waiting"
sb_check "clients waited in the admission queue (tftp_wait_held $d_tftp_wait_held > 0)" \
	test "$d_tftp_wait_held" -gt 0
sb_check "every waiting client was admitted from the queue, in arrival order (admitted $d_tftp_wait_admitted = held $d_tftp_wait_held; expired $d_tftp_wait_expired, failed $d_tftp_wait_failed)" \
	test "$d_tftp_wait_admitted/$d_tftp_wait_expired/$d_tftp_wait_failed" = "$d_tftp_wait_held/0/0"
sb_check "the admission queue is empty at the end (tftp_waiting $waiting)" test "$waiting" = 0
sb_check "the WARNING names the held requests" grep -q "requests held unanswered" "$SB_RUN/dataplane.log"
sb_check "dataplane still running" sb_alive dataplane
sb_summary
