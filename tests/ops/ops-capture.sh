#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ops-capture.sh - a pcapng of the fast path with DPDK's dpdk-dumpcap (issue 18, item 4): the
# dataplane started with -P (multi-process EAL, rte_pdump_init), dpdk-dumpcap attached as a
# secondary process with a capture filter on one client's MAC; that client (busybox udhcpc,
# tftp-hpa) and a second one (other MAC) boot; tshark must decode, from the file, the first
# client's DISCOVER/OFFER/REQUEST/ACK and its TFTP read request, data and acks in both
# directions, and nothing of the second client.
#
# Usage (root): BUILD_DIR=build tests/ops/ops-capture.sh     (SB_PREFIX default "mec")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-mec}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ops-lib.sh"
ops_init
sb_need_cmd dpdk-dumpcap tshark tftp busybox
CLI_MAC=02:5b:00:00:01:01 CLI2_MAC=02:5b:00:00:01:02 # lab.sh's client MACs
NS_CLI2=${SB_PREFIX}cli2

dp_image boot.img 100000
dp_image undionly.kpxe 65536
dp_config "{}"
dp_lab_up --clients 2 --tx-csum-off
sb_start dataplane "$SB_NS_SRV" sh -c \
	"mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec nice -n -10 '$DP_BIN' -- -c '$DP_CFG' -x '$DP_XDP' -l $DP_LCORE -P"
sb_wait_for 40 grep -q "serving " "$SB_RUN/dataplane.log" || {
	cat "$SB_RUN/dataplane.log" >&2
	sb_fail "dataplane did not come up"
}
sb_check "the dataplane says where to attach" grep -q "capture: ready: dpdk-dumpcap --file-prefix=$DP_TEL_PREFIX -i 0" "$SB_RUN/dataplane.log"

# dumpcap: a DPDK secondary process of the dataplane's prefix; only the first client's frames
sb_start dumpcap "" dpdk-dumpcap --file-prefix="$DP_TEL_PREFIX" -i 0 -p \
	-f "ether host $CLI_MAC" -w "$DP_WORK/boot.pcapng" -a duration:60
OPS_STOP=dumpcap
# "Packets captured:" is printed once the capture is enabled in the dataplane
capturing() { grep -q "Packets captured" "$SB_RUN/dumpcap.log"; }
sb_wait_for 30 capturing || {
	cat "$SB_RUN/dumpcap.log" >&2
	sb_fail "dpdk-dumpcap did not attach"
}
sb_log "dumpcap: $(head -c 300 "$SB_RUN/dumpcap.log" | tr '\r\n' '  ')"

ops_udhcpc "$SB_NS_CLI" "$DP_WORK/lease1" || sb_fail "client 1: no lease"
ops_udhcpc "$NS_CLI2" "$DP_WORK/lease2" || sb_fail "client 2: no lease"
mkdir -p "$DP_WORK/dl"
ops_tftp "$SB_NS_CLI" boot.img "$DP_WORK/dl/b1" >/dev/null
ops_tftp "$NS_CLI2" undionly.kpxe "$DP_WORK/dl/u2" >/dev/null
sb_check "client 1: boot.img downloaded" cmp -s "$DP_WORK/img/boot.img" "$DP_WORK/dl/b1"
sb_check "client 2: undionly.kpxe downloaded" cmp -s "$DP_WORK/img/undionly.kpxe" "$DP_WORK/dl/u2"
dp_idle 10 || true
# SIGINT: dumpcap writes its statistics block and closes the file
kill -INT "$(sb_pid dumpcap)"
sb_wait_for 15 sh -c "! kill -0 $(sb_pid dumpcap) 2>/dev/null" || sb_fail "dumpcap did not stop on SIGINT"
sb_log "dumpcap: $(tail -c 300 "$SB_RUN/dumpcap.log" | tr '\r\n' '  ')"
sb_check "a pcapng file was written" test -s "$DP_WORK/boot.pcapng"
sb_check "... in pcapng format (section header block 0x0a0d0d0a)" \
	test "$(head -c 4 "$DP_WORK/boot.pcapng" | od -An -tx1 | tr -d ' ')" = 0a0d0d0a
capinfos -tc "$DP_WORK/boot.pcapng" 2>/dev/null | sed 's/^/  capinfos: /' >&2 || true

ts() { tshark -r "$DP_WORK/boot.pcapng" -Y "$1" -T fields "${@:2}" 2>/dev/null; }
dhcp_types=$(ts dhcp -e dhcp.option.dhcp | sort -u | tr '\n' ' ')
sb_log "DHCP message types decoded: $dhcp_types"
for t in 1 2 3 5; do
	sb_check "tshark decodes DHCP message type $t (1 DISCOVER, 2 OFFER, 3 REQUEST, 5 ACK)" \
		grep -qw "$t" <<<"$dhcp_types"
done
sb_check "the OFFER carries boot file undionly.kpxe" \
	grep -q undionly.kpxe <<<"$(ts 'dhcp.option.dhcp == 2' -e dhcp.file)"
sb_check "tshark decodes the TFTP read request for boot.img" \
	grep -qx boot.img <<<"$(ts 'tftp.opcode == 1' -e tftp.source_file)"
n_data=$(ts 'tftp.opcode == 3' -e frame.number | wc -l)
n_ack=$(ts 'tftp.opcode == 4' -e frame.number | wc -l)
sb_log "TFTP DATA frames: $n_data, ACK frames: $n_ack"
sb_check "tshark decodes the DATA blocks from the dataplane (>= 100000/1468 = 69): $n_data" test "$n_data" -ge 69
sb_check "... and the client's ACKs: $n_ack" test "$n_ack" -ge 69
sb_check "the fast path both ways: frames from and to $CLI_MAC" \
	test "$(ts "eth.src == $CLI_MAC" -e frame.number | wc -l)" -gt 0 -a \
	"$(ts "eth.dst == $CLI_MAC" -e frame.number | wc -l)" -gt 0
sb_check "the filter kept the other client out (no frame of $CLI2_MAC)" \
	test "$(ts "eth.addr == $CLI2_MAC" -e frame.number | wc -l)" = 0
sb_check "no request for undionly.kpxe (client 2's) in the file" \
	sh -c "! tshark -r '$DP_WORK/boot.pcapng' -Y 'tftp.opcode == 1' -T fields -e tftp.source_file 2>/dev/null | grep -q undionly"
sb_summary
