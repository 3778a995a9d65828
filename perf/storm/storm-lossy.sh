#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# storm-lossy.sh - the storm generator's firmware-like VMs over a lossy link (issue 15 item 2
# and 4): one storm per loss rate, each VM's files checked by SHA-256 and byte for byte by the
# generator, and what stormboot sent against what the files need.
#
# lab.sh --clients 2 (a bridge in namespace ${P}sw; the second client is idle): lossy-link
# (tests/lab/lossy_link.c) on the bridge port of the generator's client, both ways. Not on the
# client's own veth: the generator sends through AF_XDP, which bypasses that veth's tc egress,
# and receives through XDP, which runs before its tc ingress; the bridge port sees every frame
# as an ordinary skb. Per rate: VMS VMs (half OVMF-like: tsize probe, blksize 1468, window 4;
# half iPXE-like: blksize 1432, lock-step) fetch a 256 KiB loader and a 1 MiB image.
# Printed per rate: VMs done / failed (by reason), time to the last VM, the link's counts,
# the generator's retransmissions, and the dataplane's TFTP frames sent / DATA blocks the
# files need (the amplification). Checked: every VM done, 0 bytes_mismatch.
#
# Usage (root): perf/storm/storm-lossy.sh [--vms N] [RATE...]
#   default --vms 100, rates "1 5" (%), duplication 1 % each. SB_PREFIX default "sls".
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-sls}
HERE=$(cd "$(dirname "$0")" && pwd)
export SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
vms=100
if [ "${1:-}" = --vms ]; then vms=$2; shift 2; fi
RATES=("$@")
[ ${#RATES[@]} -gt 0 ] || RATES=(1 5)
. "$SOURCE_DIR/tests/dataplane/dp-lib.sh"
dp_init
sb_need_cmd setsid taskset timeout
STORM=$BUILD_DIR/perf/storm/stormboot-storm
LOSSY=$BUILD_DIR/tests/lab/lossy-link
LOSSY_OBJ=$BUILD_DIR/tests/lab/lossy_link.bpf.o
for f in "$STORM" "$LOSSY" "$LOSSY_OBJ"; do [ -e "$f" ] || sb_fail "missing $f (build first)"; done
STORM_CPU=${DP_CLI_CPUS%%[-,]*}
LOADER=262144 IMAGE=1048576

dp_image loader.efi $LOADER
dp_image loader-bios.bin $LOADER
dp_image image.bin $IMAGE
dp_config '{"dhcp": {"mode": "full",
                     "boot": {"bios": "loader-bios.bin", "uefi_x64": "loader.efi"},
                     "subnets": [{"network": "198.18.0.0/16",
                                  "pool": {"start": "198.18.16.0", "end": "198.18.31.255"},
                                  "router": "198.18.0.1", "lease_time": 3600}]},
            "tftp": {"max_sessions": 1024, "windowsize_max": 16}}'
dp_lab_up --clients 2 --tx-csum-off
dp_start
NS_SW=${SB_PREFIX}sw
PORT_GEN=${SB_PREFIX}swc1

for rate in "${RATES[@]}"; do
	out=$DP_WORK/storm-$rate
	dp_snap /stormboot/stats "$out.before"
	sb_start lossy "$NS_SW" "$LOSSY" "$LOSSY_OBJ" "$PORT_GEN" "$rate" 1 600
	sb_wait_for 5 grep -q "^lossy-link: " "$SB_RUN/lossy.log" || sb_fail "lossy-link did not start"
	rc=0
	ip netns exec "$SB_NS_CLI" setsid -w timeout 400 taskset -c "$STORM_CPU" "$STORM" \
		-l "$STORM_CPU" --no-pci --in-memory --file-prefix "${SB_PREFIX}-storm" --no-telemetry \
		--log-level=lib.eal:warning --vdev "net_af_xdp0,iface=$SB_IF_CLI" -- \
		--vms "$vms" --ovmf-ratio 0.5 --seed "$rate" --backoff-scale 0.05 --dhcp-tries 10 \
		--tftp-timeout-ms 500 --tftp-retries 20 --timeout 300 --json --progress 0 \
		--file "loader.efi=$DP_WORK/img/loader.efi" \
		--file "loader-bios.bin=$DP_WORK/img/loader-bios.bin" \
		--file "image.bin=$DP_WORK/img/image.bin" --image image.bin \
		--vm-csv "$out.csv" >"$out.json" 2>"$out.log" || rc=$?
	sb_stop lossy 5
	link=$(grep -E '^(egress|ingress)' "$SB_RUN/lossy.log" | tr '\n' ' ')
	eval "$(dp_deltas "$out.before" /stormboot/stats | grep -E '^d_(tx_tftp|tx_tftp_retransmit|tftp_sessions_completed|tftp_sessions_given_up|tx_dhcp|rx_dhcp)=')"
	"$DP_PY" - "$out.json" "$vms" "$LOADER" "$IMAGE" "$d_tx_tftp" "$d_tx_tftp_retransmit" \
		"$rate" "$link" >"$out.verdict" <<-'EOF'
	import json, sys
	r = json.load(open(sys.argv[1]))
	vms, loader, image = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
	tx, retx, rate, link = int(sys.argv[5]), int(sys.argv[6]), sys.argv[7], sys.argv[8]
	ovmf, ipxe = r["ovmf"], r["ipxe"]
	blocks = lambda size, blk: size // blk + 1
	need = ovmf * (blocks(loader, 1468) + blocks(image, 1468) + 1) + \
	       ipxe * (blocks(loader, 1432) + blocks(image, 1432))  # + the OVMF probe's OACK
	c = r["counters"]
	reasons = {k: v for k, v in r["fail_reasons"].items() if v}
	print(f"figure\t{rate} % loss + 1 % dup: {r['done']}/{vms} VMs done, failed {r['failed']} "
	      f"{reasons}, last VM {r['time_to_last_vm_s']:.1f} s, p50 {r['completion_s']['p50']:.1f} s; "
	      f"stormboot sent {tx} TFTP frames for {need} needed = {tx / need:.3f}x "
	      f"({retx} by its timers); generator resent {c['tftp_rrq_retrans']} RRQs, "
	      f"{c['dhcp_retrans_tx']} DHCP; link: {link}")
	print(f"ok\t{rate} %: every VM done ({r['done']}/{vms})" if r["done"] == vms
	      else f"FAIL\t{rate} %: every VM done ({r['done']}/{vms}, {reasons})")
	mism = r["fail_reasons"].get("bytes_mismatch", 0)
	print(f"{'ok' if mism == 0 else 'FAIL'}\t{rate} %: every file byte-identical (bytes_mismatch {mism})")
	EOF
	while IFS=$'\t' read -r verdict desc; do
		if [ "$verdict" = figure ]; then sb_log "$desc"; else sb_check "$desc" test "$verdict" = ok; fi
	done <"$out.verdict"
	sb_check "$rate %: generator exit 0 (got $rc)" test "$rc" = 0
done
sb_check "dataplane still running" sb_alive dataplane
sb_summary
