#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# storm-short.sh - a short boot storm against stormboot-dataplane:
#   - a lab (prefix SB_PREFIX, default "stm"): stormboot-dataplane in the server namespace,
#     started as tests/dataplane/dp-lib.sh does (XDP + net_af_xdp on stm0), a pool of 128
#     addresses, boot files by architecture: loader.efi (x64 UEFI) and loader-bios.bin
#     (BIOS: the iPXE-like VMs), 256 KiB each, and image.bin (2 MiB);
#   - stormboot-storm on the client veth (net_af_xdp, DPDK's own XDP program there):
#     100 VMs, half OVMF-like (size probe, blksize 1468, windowsize 4), half iPXE-like
#     (blksize 1432, lock-step), RFC 2131 back-off scaled by 0.01;
#   - asserts: 0 failed VMs, every VM leased a distinct address of the pool, both files of
#     every VM checked byte for byte and by SHA-256 by the generator, and the report's
#     counters agree with each other and with the dataplane's own (DORAs = 100, transfers
#     = 200, DATA blocks = what the block sizes give, size probes = 50);
#   - the check can fail: 4 VMs expecting an image with one byte changed all fail with
#     bytes_mismatch.
# Usage (root): BUILD_DIR=build tests/storm/storm-short.sh
set -euo pipefail

export SB_PREFIX=${SB_PREFIX:-stm}
HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
. "$SOURCE_DIR/tests/dataplane/dp-lib.sh"
dp_init

STORM=$BUILD_DIR/perf/storm/stormboot-storm
[ -x "$STORM" ] || sb_fail "no generator at $STORM (build first; BUILD_DIR=$BUILD_DIR)"
VMS=100
LOADER=262144
IMAGE=2097152
STORM_CPU=${DP_CLI_CPUS%%[-,]*}

dp_image loader.efi $LOADER
dp_image loader-bios.bin $LOADER
dp_image image.bin $IMAGE
dp_config '{"dhcp": {"mode": "full",
                     "boot": {"bios": "loader-bios.bin", "uefi_x64": "loader.efi"},
                     "subnets": [{"network": "198.18.0.0/24",
                                  "pool": {"start": "198.18.0.100", "end": "198.18.0.227"},
                                  "router": "198.18.0.1", "lease_time": 600}]},
            "tftp": {"max_sessions": 512, "windowsize_max": 16}}'
dp_lab_up
dp_start

# storm OUT_PREFIX ARGS...: the generator in the client namespace; report OUT.json,
# per-VM lines OUT.csv, progress OUT.log; returns its exit status
storm() {
	local out=$1
	shift
	# setsid: a session (autogroup) of its own; in the test's session it would share the
	# scheduler's group weight with the dataplane (nice -10) and starve on a busy host
	ip netns exec "$SB_NS_CLI" setsid -w timeout 60 taskset -c "$STORM_CPU" "$STORM" \
		-l "$STORM_CPU" --no-pci --in-memory --file-prefix "${SB_PREFIX}-storm" --no-telemetry \
		--log-level=lib.eal:warning --vdev "net_af_xdp0,iface=$SB_IF_CLI" -- \
		--backoff-scale 0.01 --tftp-timeout-ms 500 --timeout 40 --json \
		--vm-csv "$out.csv" "$@" >"$out.json" 2>"$out.log"
}

dp_snap /stormboot/stats "$DP_WORK/s.before"
rc=0
storm "$DP_WORK/run" --vms $VMS --ovmf-ratio 0.5 \
	--file "loader.efi=$DP_WORK/img/loader.efi" \
	--file "loader-bios.bin=$DP_WORK/img/loader-bios.bin" \
	--file "image.bin=$DP_WORK/img/image.bin" --image image.bin || rc=$?
grep -v '^\[' "$DP_WORK/run.log" >&2 || true
tail -n 2 "$DP_WORK/run.log" >&2
sb_check "generator exit 0 (got $rc)" test "$rc" = 0
[ -s "$DP_WORK/run.json" ] || sb_fail "no report from the generator"
eval "$(dp_deltas "$DP_WORK/s.before" /stormboot/stats | grep -E '^d_[a-z0-9_]+=[0-9-]+$')"

# The report, its counters, the per-VM lines and the dataplane's counters.
"$DP_PY" - "$DP_WORK" $VMS $LOADER $IMAGE "${d_tftp_sessions_completed:-x}" \
	"${d_tftp_sessions_size_probe:-x}" >"$DP_WORK/checks" <<-'EOF'
	import csv, hashlib, json, math, os, sys
	work, vms, loader, image = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
	srv_completed, srv_probes = sys.argv[5], sys.argv[6]
	r = json.load(open(os.path.join(work, "run.json")))
	c = r["counters"]
	ovmf, ipxe = r["ovmf"], r["ipxe"]
	def blocks(size, blk):  # RFC 1350 6: a last block shorter than blksize, maybe empty
	    return size // blk + 1
	data = ovmf * (blocks(loader, 1468) + blocks(image, 1468)) + \
	       ipxe * (blocks(loader, 1432) + blocks(image, 1432))
	checks = []
	def check(desc, ok):
	    checks.append((desc, bool(ok)))
	check(f"{vms} VMs, 50/50 OVMF/iPXE ({ovmf}/{ipxe})", r["vms"] == vms and ovmf == vms // 2 and ipxe == vms - ovmf)
	check(f"0 failed VMs (failed {r['failed']}: {r['fail_reasons']})", r["failed"] == 0)
	check(f"every VM done ({r['done']})", r["done"] == vms)
	check(f"every VM leased ({r['leases']})", r["leases"] == vms)
	check(f"DORA count = {vms} (ACKs {c['dhcp_ack_rx']}, OFFERs {c['dhcp_offer_rx']})",
	      c["dhcp_ack_rx"] == vms and c["dhcp_offer_rx"] == vms)
	check(f"DISCOVERs, REQUESTs >= {vms} ({c['dhcp_discover_tx']}, {c['dhcp_request_tx']}), "
	      f"resends = DHCP retransmissions ({c['dhcp_retrans_tx']})",
	      c["dhcp_discover_tx"] >= vms and c["dhcp_request_tx"] >= vms and
	      c["dhcp_discover_tx"] + c["dhcp_request_tx"] == 2 * vms + c["dhcp_retrans_tx"])
	check(f"transfers = {2 * vms} ({c['tftp_transfers']})", c["tftp_transfers"] == 2 * vms)
	check(f"bytes = {vms * (loader + image)} ({c['tftp_data_bytes']})",
	      c["tftp_data_bytes"] == vms * (loader + image))
	check(f"DATA taken = {data} blocks ({c['tftp_data_rx']})", c["tftp_data_rx"] == data)
	check(f"OACKs = transfers + OVMF probes = {2 * vms + ovmf} ({c['tftp_oack_rx']})",
	      c["tftp_oack_rx"] == 2 * vms + ovmf)
	check(f"RRQs >= {2 * vms + ovmf} ({c['tftp_rrq_tx']}, resent {c['tftp_rrq_retrans']})",
	      c["tftp_rrq_tx"] == 2 * vms + ovmf + c["tftp_rrq_retrans"])
	check(f"ERRORs sent >= {ovmf} probes ({c['tftp_err_tx']}), received 0 ({c['tftp_err_rx']})",
	      c["tftp_err_tx"] >= ovmf and c["tftp_err_rx"] == 0)
	check(f"frames: rx {r['rx_frames']} >= DATA + OACK + OFFER + ACK", r["rx_frames"] >=
	      c["tftp_data_rx"] + c["tftp_dup_data_rx"] + c["tftp_oack_rx"] + 2 * vms)
	check(f"frames: tx {r['tx_frames']} = everything the fleet built", r["tx_frames"] ==
	      c["dhcp_discover_tx"] + c["dhcp_request_tx"] + c["tftp_rrq_tx"] + c["tftp_ack_tx"] +
	      c["tftp_err_tx"] + c["arp_reply_tx"])
	check(f"nothing malformed ({c['rx_malformed']}), no tx trouble ({r['tx_dropped']} dropped, "
	      f"{c['tx_nobuf']} no buffer)",
	      c["rx_malformed"] == 0 and r["tx_dropped"] == 0 and c["tx_nobuf"] == 0)
	check(f"completion p50 <= p90 <= p99 <= max = time to last VM ({r['completion_s']}, "
	      f"{r['time_to_last_vm_s']})",
	      0 < r["completion_s"]["p50"] <= r["completion_s"]["p90"] <= r["completion_s"]["p99"]
	      <= r["completion_s"]["max"] <= r["time_to_last_vm_s"] + 1e-3)
	check(f"packets/s and CPU per packet reported ({r['rx_pps']:.0f}, {r['tx_pps']:.0f}, "
	      f"{r['ns_per_pkt']:.0f} ns)", r["rx_pps"] > 0 and r["tx_pps"] > 0 and r["ns_per_pkt"] > 0)
	check(f"dataplane: {2 * vms} sessions completed ({srv_completed})", srv_completed == str(2 * vms))
	check(f"dataplane: {ovmf} size probes ({srv_probes})", srv_probes == str(ovmf))
	# Per VM: distinct MACs and addresses inside the pool, the right loader by kind.
	rows = list(csv.DictReader(open(os.path.join(work, "run.csv"))))
	sha = {n: hashlib.sha256(open(os.path.join(work, "img", n), "rb").read()).hexdigest()
	       for n in ("loader.efi", "loader-bios.bin")}
	ips = {row["ip"] for row in rows}
	pool = {f"198.18.0.{i}" for i in range(100, 228)}
	check(f"{vms} lines, all done", len(rows) == vms and all(x["state"] == "done" for x in rows))
	check(f"{vms} distinct MACs", len({x["mac"] for x in rows}) == vms)
	check(f"{vms} distinct addresses, all in the pool", len(ips) == vms and ips <= pool)
	check("OVMF VMs got loader.efi, iPXE VMs loader-bios.bin (and matched its SHA-256)",
	      all(x["bootfile"] == ("loader.efi" if x["kind"] == "ovmf" else "loader-bios.bin") and
	          x["loader_sha256"] == sha[x["bootfile"]] for x in rows))
	for desc, ok in checks:
	    print(("ok" if ok else "FAIL") + "\t" + desc)
	EOF
while IFS=$'\t' read -r verdict desc; do
	sb_check "$desc" test "$verdict" = ok
done <"$DP_WORK/checks"
sb_log "figures: $("$DP_PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("last VM %.2f s, p50 %.2f p99 %.2f s, rx %.0f pps tx %.0f pps, %.0f ns/packet, busy %.0f %%, retrans ours %d theirs %d; %s" % (r["time_to_last_vm_s"], r["completion_s"]["p50"], r["completion_s"]["p99"], r["rx_pps"], r["tx_pps"], r["ns_per_pkt"], r["busy_pct"], r["retrans_ours"], r["retrans_theirs"], r["limit"]))' "$DP_WORK/run.json")"

# The check can fail: an expected image with one byte changed.
cp "$DP_WORK/img/image.bin" "$DP_WORK/bad-image.bin"
printf '\x00' | dd of="$DP_WORK/bad-image.bin" bs=1 seek=1000000 conv=notrunc status=none
if cmp -s "$DP_WORK/img/image.bin" "$DP_WORK/bad-image.bin"; then
	printf '\x01' | dd of="$DP_WORK/bad-image.bin" bs=1 seek=1000000 conv=notrunc status=none
fi
rc=0
storm "$DP_WORK/bad" --vms 4 --seed 7 \
	--file "loader.efi=$DP_WORK/img/loader.efi" \
	--file "loader-bios.bin=$DP_WORK/img/loader-bios.bin" \
	--file "image.bin=$DP_WORK/bad-image.bin" --image image.bin || rc=$?
sb_check "a changed byte: generator exit 1 (got $rc)" test "$rc" = 1
sb_check "a changed byte: 4 VMs failed with bytes_mismatch" test "$("$DP_PY" -c \
	'import json,sys; r=json.load(open(sys.argv[1])); print(r["failed"], r["fail_reasons"]["bytes_mismatch"])' \
	"$DP_WORK/bad.json")" = "4 4"
sb_summary
