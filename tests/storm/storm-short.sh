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
. "$HERE/storm-lib.sh" # storm_gen, storm_gen_ok, storm_verify, storm_bad_*

VMS=100
LOADER=262144
IMAGE=2097152

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

# storm OUT_PREFIX ARGS...: the generator in the client namespace (storm-lib.sh)
storm() { storm_gen 60 "$1" --backoff-scale 0.01 --tftp-timeout-ms 500 --timeout 40 "${@:2}"; }

dp_snap /stormboot/stats "$DP_WORK/s.before"
rc=0
storm "$DP_WORK/run" --vms $VMS --ovmf-ratio 0.5 \
	--file "loader.efi=$DP_WORK/img/loader.efi" \
	--file "loader-bios.bin=$DP_WORK/img/loader-bios.bin" \
	--file "image.bin=$DP_WORK/img/image.bin" --image image.bin || rc=$?
storm_gen_ok "$DP_WORK/run" $rc
eval "$(dp_deltas "$DP_WORK/s.before" /stormboot/stats | grep -E '^d_[a-z0-9_]+=[0-9-]+$')"

# The report, its counters, the per-VM lines and the dataplane's counters.
storm_verify "$DP_WORK" $VMS $LOADER $IMAGE \
	"${d_tftp_sessions_completed:-x}" "${d_tftp_sessions_size_probe:-x}"
sb_log "figures: $("$DP_PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("last VM %.2f s, p50 %.2f p99 %.2f s, rx %.0f pps tx %.0f pps, %.0f ns/packet, busy %.0f %%, retrans ours %d theirs %d; %s" % (r["time_to_last_vm_s"], r["completion_s"]["p50"], r["completion_s"]["p99"], r["rx_pps"], r["tx_pps"], r["ns_per_pkt"], r["busy_pct"], r["retrans_ours"], r["retrans_theirs"], r["limit"]))' "$DP_WORK/run.json")"

# The check can fail: an expected image with one byte changed.
storm_bad_image "$DP_WORK/img/image.bin" "$DP_WORK/bad-image.bin" 1000000
rc=0
storm "$DP_WORK/bad" --vms 4 --seed 7 \
	--file "loader.efi=$DP_WORK/img/loader.efi" \
	--file "loader-bios.bin=$DP_WORK/img/loader-bios.bin" \
	--file "image.bin=$DP_WORK/bad-image.bin" --image image.bin || rc=$?
storm_bad_ok "$DP_WORK/bad" $rc
sb_summary
