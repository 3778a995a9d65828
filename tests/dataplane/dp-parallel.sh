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
# Retransmission timeouts well above the scheduling stalls of 200 clients sharing one
# loaded CPU: atftp 0.8 aborts on a retransmitted OACK ("unexpected OACK") when its
# own ACK was merely late, and resends its RRQ after its timeout (a duplicate RRQ is
# ignored by the server, see dp-dup-rrq.sh). Lost frames are not what this test is about.
# The 200 clients share one address: no per-client cap (tftp.max_sessions_per_client 0).
dp_config '{"dhcp": {"mode": "off"}, "tftp": {"max_sessions": 512, "max_sessions_per_client": 0, "timeout_ms": 8000, "retries": 5}}'
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
		timeout 180 curl -sS --tftp-blksize 1468 -o "$dir/f$i" "tftp://$srv/img512k.bin" \
			>"$dir/f$i.log" 2>&1 &
	else
		timeout 180 atftp --tftp-timeout 15 --option "blksize 1468" --option "windowsize 4" -g -r img512k.bin \
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
dp_in_cli timeout 240 "$DP_WORK/parallel.sh" "$DP_WORK/dl" "$N" $DP_SRV || true
secs=$(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo '?')
sb_log "$N downloads finished in $secs s"

ok_rc=$(awk '$2 == 0' "$DP_WORK/dl/rc" 2>/dev/null | wc -l)
sb_check "$N clients exited 0 (got $ok_rc; failures: $(awk '$2 != 0 { printf "f%s=%s ", $1, $2 }' "$DP_WORK/dl/rc" | head -c 200))" \
	test "$ok_rc" = "$N"
ref=$(md5sum <"$DP_WORK/img/img512k.bin" | cut -d' ' -f1)
same=$(cd "$DP_WORK/dl" && md5sum f*[0-9] 2>/dev/null | awk -v r="$ref" '$1 == r' | grep -c . || true)
for f in $(awk '$2 != 0 { print "f" $1 }' "$DP_WORK/dl/rc" | head -n 5); do
	sb_log "client $f failed: $(tail -n 5 "$DP_WORK/dl/$f.log" | tr '\n' ' ')"
done
sb_check "$N files byte-identical (got $same)" test "$same" = "$N"

dp_idle 5 || true
eval "$(dp_deltas "$DP_WORK/s.before" /stormboot/stats)"
sb_log "sessions: started $d_tftp_sessions_started completed $d_tftp_sessions_completed" \
	"given_up $d_tftp_sessions_given_up aborted $d_tftp_sessions_aborted paced" \
	"$d_drop_tftp_rrq_paced, retransmitted $d_tx_tftp_retransmit, bytes $d_tftp_bytes_served"
sb_check "telemetry: $N sessions started and completed" \
	test "$d_tftp_sessions_started/$d_tftp_sessions_completed" = "$N/$N"
sb_check "telemetry: none paced, given up or aborted" \
	test "$d_drop_tftp_rrq_paced/$d_tftp_sessions_given_up/$d_tftp_sessions_aborted" = 0/0/0
sb_check "telemetry: bytes served = $N x 512 KiB (+ retransmissions not counted)" \
	test "$d_tftp_bytes_served" = $((N * 524288))
sb_check "telemetry: no session-table or mbuf drop (full/unknown/no_mbuf/tx_full)" test \
	"$d_drop_tftp_rrq_paced/$d_drop_tftp_unknown_session/$d_drop_no_mbuf/$d_drop_tx_full" = 0/0/0/0
sb_check "telemetry /stormboot/sessions: none left open" \
	test "$(dp_get /stormboot/sessions tftp_sessions_active)" = 0
sb_check "dataplane still running" sb_alive dataplane
sb_summary
