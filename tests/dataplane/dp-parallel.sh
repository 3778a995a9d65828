#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-parallel.sh - 200 TFTP downloads at once from stormboot-dataplane (XDP + AF_XDP):
# curl and atftp (half each, blksize 1468, atftp with a window of 4), a 512 KiB image.
# Every download completes byte-identical; the server counts 200 sessions started and
# completed, none refused, given up or aborted, none left open, no session-table drop.
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-parallel.sh     (SB_PREFIX default "dpt")
# Env: DP_PARALLEL (200)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init
sb_need_cmd atftp curl

N=${DP_PARALLEL:-200}
dp_image img512k.bin 524288
dp_config '{"dhcp": {"mode": "off"}, "tftp": {"max_sessions": 512, "timeout_ms": 1000, "retries": 5}}'
dp_lab_up --tx-csum-off
sb_in "$SB_NS_CLI" ip addr add 198.18.0.10/24 dev "$SB_IF_CLI"
dp_start
mkdir -p "$DP_WORK/dl"
sb_assert "client reaches the server's kernel" \
	sb_wait_for 5 sb_in "$SB_NS_CLI" busybox ping -q -c 1 -W 1 $DP_SRV
dp_snap /stormboot/stats "$DP_WORK/s.before"

# One shell in the client namespace starts all N clients, then waits for each one and
# writes its exit status. Bounded: every client has a timeout.
cat >"$DP_WORK/parallel.sh" <<'EOF'
#!/bin/bash
dir=$1 n=$2 srv=$3
pids=()
for ((i = 1; i <= n; i++)); do
	if ((i % 2)); then
		timeout 120 curl -sS --tftp-blksize 1468 -o "$dir/f$i" "tftp://$srv/img512k.bin" \
			>"$dir/f$i.log" 2>&1 &
	else
		timeout 120 atftp --option "blksize 1468" --option "windowsize 4" -g -r img512k.bin \
			-l "$dir/f$i" "$srv" >"$dir/f$i.log" 2>&1 &
	fi
	pids[i]=$!
done
for ((i = 1; i <= n; i++)); do
	wait "${pids[i]}"
	echo "$i $?" >>"$dir/rc"
done
EOF
chmod +x "$DP_WORK/parallel.sh"
start=$(date +%s.%N)
dp_in_cli timeout 180 "$DP_WORK/parallel.sh" "$DP_WORK/dl" "$N" $DP_SRV || true
secs=$(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo '?')
sb_log "$N downloads finished in $secs s"

ok_rc=$(awk '$2 == 0' "$DP_WORK/dl/rc" 2>/dev/null | wc -l)
sb_check "$N clients exited 0 (got $ok_rc; failures: $(awk '$2 != 0 { printf "f%s=%s ", $1, $2 }' "$DP_WORK/dl/rc" | head -c 200))" \
	test "$ok_rc" = "$N"
same=0
for ((i = 1; i <= N; i++)); do
	cmp -s "$DP_WORK/img/img512k.bin" "$DP_WORK/dl/f$i" && same=$((same + 1))
done
sb_check "$N files byte-identical (got $same)" test "$same" = "$N"

dp_idle 5 || true
eval "$(dp_deltas "$DP_WORK/s.before" /stormboot/stats)"
sb_log "sessions: started $d_tftp_sessions_started completed $d_tftp_sessions_completed" \
	"given_up $d_tftp_sessions_given_up aborted $d_tftp_sessions_aborted refused" \
	"$d_tftp_sessions_refused, retransmitted $d_tx_tftp_retransmit, bytes $d_tftp_bytes_served"
sb_check "telemetry: $N sessions started and completed" \
	test "$d_tftp_sessions_started/$d_tftp_sessions_completed" = "$N/$N"
sb_check "telemetry: none refused, given up or aborted" \
	test "$d_tftp_sessions_refused/$d_tftp_sessions_given_up/$d_tftp_sessions_aborted" = 0/0/0
sb_check "telemetry: bytes served = $N x 512 KiB (+ retransmissions not counted)" \
	test "$d_tftp_bytes_served" = $((N * 524288))
sb_check "telemetry: no session-table or mbuf drop (full/unknown/no_mbuf/tx_full)" test \
	"$d_drop_tftp_sessions_full/$d_drop_tftp_unknown_session/$d_drop_no_mbuf/$d_drop_tx_full" = 0/0/0/0
sb_check "telemetry /stormboot/sessions: none left open" \
	test "$(dp_get /stormboot/sessions active)" = 0
sb_check "dataplane still running" sb_alive dataplane
sb_summary
