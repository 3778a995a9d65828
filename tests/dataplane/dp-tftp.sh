#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-tftp.sh - real TFTP clients download from stormboot-dataplane (XDP + AF_XDP):
#   - tftp-hpa (no option support: blksize 512, lock-step), curl (--tftp-blksize
#     512 and 1468, no windowsize) and atftp (blksize 512 and 1468, and windowsize)
#     fetch a 1 MiB and a 32 MiB image byte-identical (cmp);
#   - per download, the server's counters (telemetry) show one session started and
#     completed, DATA frames sent = blocks for the negotiated blksize, and with
#     windowsize W about one ACK per W blocks;
#   - a missing file gets TFTP ERROR 1 (each client's own report) and counts as
#     tftp_not_found; a WRQ (tftp-hpa put, atftp -p) gets ERROR 2.
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-tftp.sh     (SB_PREFIX default "dpt")
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init
sb_need_cmd tftp atftp curl

dp_image img1m.bin 1048576
dp_image img32m.bin 33554432
WIN_MAX=16
dp_config '{"dhcp": {"mode": "off"}, "tftp": {"windowsize_max": 16}}'
dp_lab_up --tx-csum-off
sb_in "$SB_NS_CLI" ip addr add 198.18.0.10/24 dev "$SB_IF_CLI"
dp_start
mkdir -p "$DP_WORK/dl"
sb_assert "client reaches the server's kernel (ARP, ICMP pass XDP)" \
	sb_wait_for 5 sb_in "$SB_NS_CLI" busybox ping -q -c 1 -W 1 $DP_SRV

# run_client CLIENT IMG BLK WIN OUT: one download; client output in OUT.log
run_client() {
	local client=$1 img=$2 blk=$3 win=$4 out=$5
	case $client in
	tftp-hpa)
		(cd "$DP_WORK/dl" && dp_in_cli timeout 240 tftp -m binary $DP_SRV -c get "$img" "$out")
		;;
	curl)
		dp_in_cli timeout 240 curl -sS --tftp-blksize "$blk" -o "$out" "tftp://$DP_SRV/$img"
		;;
	atftp)
		local opts=(--option "blksize $blk")
		if [ "$win" -gt 1 ]; then opts+=(--option "windowsize $win"); fi
		dp_in_cli timeout 240 atftp "${opts[@]}" -g -r "$img" -l "$out" $DP_SRV
		;;
	esac
}

# download CLIENT IMG BLK WIN: byte-identical, and the server's counters agree
download() {
	local client=$1 img=$2 blk=$3 win=$4 size blocks tag out rc=0 data grant
	local d_tx_tftp d_tx_tftp_retransmit d_rx_tftp_xfer d_tftp_sessions_started
	local d_tftp_sessions_completed
	size=$(stat -c %s "$DP_WORK/img/$img")
	blocks=$((size / blk + 1)) # RFC 1350 6: a last block shorter than blksize, maybe empty
	grant=$((win < WIN_MAX ? win : WIN_MAX))
	tag="$client $img blksize $blk"
	if [ "$win" -gt 1 ]; then tag="$tag windowsize $win"; fi
	out=$DP_WORK/dl/$client-$blk-$win-$img
	dp_snap /stormboot/stats "$DP_WORK/s.before"
	run_client "$client" "$img" "$blk" "$win" "$out" >"$out.log" 2>&1 || rc=$?
	sb_check "$tag: client exit 0 (got $rc)" test "$rc" = 0
	if [ "$rc" != 0 ]; then sb_log "$tag: client said: $(tail -n 5 "$out.log" | tr '\n' ' ')"; fi
	sb_check "$tag: byte-identical" cmp -s "$DP_WORK/img/$img" "$out"
	eval "$(dp_deltas "$DP_WORK/s.before" /stormboot/stats | grep -E '^d_(tx_tftp|tx_tftp_retransmit|rx_tftp_xfer|tftp_sessions_started|tftp_sessions_completed)=')"
	data=$((d_tx_tftp - d_tx_tftp_retransmit))
	sb_log "$tag: rc $rc, tx_tftp +$d_tx_tftp (retransmitted $d_tx_tftp_retransmit), rx_tftp_xfer +$d_rx_tftp_xfer"
	sb_check "$tag: one session started and completed" \
		test "$d_tftp_sessions_started/$d_tftp_sessions_completed" = 1/1
	# DATA blocks of the negotiated size, plus an OACK when the client sent options
	sb_check "$tag: $blocks DATA frames sent (tx_tftp - retransmits = $data)" \
		test "$data" -ge "$blocks" -a "$data" -le $((blocks + 1))
	if [ "$grant" -gt 1 ]; then
		sb_check "$tag: about one ACK per window of $grant ($d_rx_tftp_xfer for $blocks blocks)" \
			test "$d_rx_tftp_xfer" -le $((blocks / grant + blocks / (4 * grant) + 8))
	else
		sb_check "$tag: lock-step, one ACK per block ($d_rx_tftp_xfer for $blocks blocks)" \
			test "$d_rx_tftp_xfer" -ge "$blocks"
	fi
	rm -f "$out"
}

# Every client at both sizes and both block sizes (tftp-hpa: 512 only, it sends no
# options), lock-step; atftp's 32 MiB at 512 with a window (65537 lock-step round
# trips cost a minute on a loaded 2-core machine; its 512 lock-step run is the 1 MiB one).
for img in img1m.bin img32m.bin; do
	download tftp-hpa $img 512 1
	for blk in 512 1468; do download curl $img $blk 1; done
done
download atftp img1m.bin 512 1
download atftp img1m.bin 1468 1
download atftp img32m.bin 1468 1
download atftp img1m.bin 512 4
download atftp img32m.bin 512 8
download atftp img32m.bin 1468 16
download atftp img1m.bin 1468 64 # more than windowsize_max: granted WIN_MAX

# --- errors: a missing name gets ERROR 1 at once, a write request ERROR 2
dp_snap /stormboot/stats "$DP_WORK/s.before"
(cd "$DP_WORK/dl" && dp_in_cli timeout 20 tftp -m binary $DP_SRV -c get nothere.bin got-missing) \
	>"$DP_WORK/missing-hpa.log" 2>&1 || true
sb_check "tftp-hpa: missing file -> 'Error code 1: File not found'" \
	grep -q "Error code 1: File not found" "$DP_WORK/missing-hpa.log"
rc=0
dp_in_cli timeout 20 atftp -g -r nothere.bin -l "$DP_WORK/dl/got-missing-atftp" $DP_SRV \
	>"$DP_WORK/missing-atftp.log" 2>&1 || rc=$?
sb_check "atftp: missing file -> error 1 <File not found>, exit non-zero ($rc)" bash -c \
	"[ $rc != 0 ] && grep -Eiq 'error received from server <File not found>|error 1' '$DP_WORK/missing-atftp.log'"
rc=0
dp_in_cli timeout 20 curl -v -sS -o "$DP_WORK/dl/got-missing-curl" "tftp://$DP_SRV/nothere.bin" \
	>"$DP_WORK/missing-curl.log" 2>&1 || rc=$?
# curl maps TFTP ERROR 1 to CURLE_TFTP_NOTFOUND (68); -v shows the server's message
sb_check "curl: missing file -> exit 68, 'TFTP error: File not found' (got $rc)" bash -c \
	"[ $rc = 68 ] && grep -q 'TFTP error: File not found' '$DP_WORK/missing-curl.log'"
# (tftp-hpa 5.2 answers the ERROR with an ACK to port 69, which gets ERROR 4: not counted here)
eval "$(dp_deltas "$DP_WORK/s.before" /stormboot/stats | grep -E '^d_(tftp_not_found|drop_tftp_not_found_refused|tftp_sessions_started)=')"
sb_check "telemetry: tftp_not_found +3, drop_tftp_not_found_refused +3, no session" test \
	"$d_tftp_not_found/$d_drop_tftp_not_found_refused/$d_tftp_sessions_started" = 3/3/0

dp_snap /stormboot/stats "$DP_WORK/s.before"
(cd "$DP_WORK/dl" && dp_in_cli timeout 20 tftp -m binary $DP_SRV -c put "$DP_WORK/img/img1m.bin" up.bin) \
	>"$DP_WORK/wrq-hpa.log" 2>&1 || true
sb_check "tftp-hpa put: WRQ -> 'Error code 2: ...' ($(head -c 80 "$DP_WORK/wrq-hpa.log"))" \
	grep -q "Error code 2:" "$DP_WORK/wrq-hpa.log"
rc=0
dp_in_cli timeout 20 atftp -p -r up.bin -l "$DP_WORK/img/img1m.bin" $DP_SRV \
	>"$DP_WORK/wrq-atftp.log" 2>&1 || rc=$?
sb_check "atftp -p: WRQ refused, 'error received from server <Read-only server>', exit non-zero ($rc)" \
	bash -c "[ $rc != 0 ] && grep -q 'error received from server <Read-only server>' '$DP_WORK/wrq-atftp.log'"
eval "$(dp_deltas "$DP_WORK/s.before" /stormboot/stats | grep -E '^d_(drop_tftp_wrq_refused|tftp_sessions_started)=')"
sb_check "telemetry: drop_tftp_wrq_refused +2, no session" \
	test "$d_drop_tftp_wrq_refused/$d_tftp_sessions_started" = 2/0

sb_check "no session left open" test "$(dp_get /stormboot/sessions tftp_sessions_active)" = 0
sb_check "dataplane still running" sb_alive dataplane
sb_summary
