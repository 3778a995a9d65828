#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# storm-memif.sh - a short boot storm over net_memif: the engine alone, no kernel in the path.
#   - stormboot-dataplane on the server end of a memif pair (config "dpdk_port":
#     "net_memif0,role=server,socket=..."; no XDP program, no namespace), a pool of 128
#     addresses, boot files by architecture: loader.efi (x64 UEFI) and loader-bios.bin (BIOS:
#     the iPXE-like VMs), 256 KiB each, and image.bin (2 MiB);
#   - stormboot-storm on the client end (net_memif, role=client): 100 VMs, half OVMF-like
#     (size probe, blksize 1468, windowsize 4), half iPXE-like (blksize 1432, lock-step), RFC
#     2131 back-off scaled by 0.01; each VM asks the TFTP server's MAC with an ARP request
#     after its ACK, as PXE firmware does (--arp), and only the dataplane can answer it here;
#   - asserts (tests/storm/storm-check.py, shared with storm-short.sh): 0 failed VMs, every
#     VM leased a distinct address of the pool, both files of every VM checked byte for byte
#     and by SHA-256, the report's counters agree with each other and with the dataplane's
#     (DORAs = 100, transfers = 200, DATA blocks = what the block sizes give, size probes =
#     50); and the dataplane answered the 100 ARP requests itself (tx_arp), the generator
#     took 100 ARP replies with the server's MAC;
#   - the check can fail: 4 VMs expecting an image with one byte changed all fail with
#     bytes_mismatch.
# Usage (root): BUILD_DIR=build tests/storm/storm-memif.sh   (prefix SB_PREFIX, default "mfs")
set -euo pipefail

export SB_PREFIX=${SB_PREFIX:-mfs}
HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
. "$SOURCE_DIR/perf/storm/memif-lib.sh"
mf_init
. "$HERE/storm-lib.sh" # storm_gen_ok, storm_verify, storm_bad_*

VMS=100
LOADER=262144
IMAGE=2097152

mf_image loader.efi $LOADER
mf_image loader-bios.bin $LOADER
mf_image image.bin $IMAGE
mf_config '{"dhcp": {"mode": "full",
                     "boot": {"bios": "loader-bios.bin", "uefi_x64": "loader.efi"},
                     "subnets": [{"network": "198.18.0.0/24",
                                  "pool": {"start": "198.18.0.100", "end": "198.18.0.227"},
                                  "router": "198.18.0.1", "lease_time": 600}]},
            "tftp": {"max_sessions": 512, "windowsize_max": 16}}'
mf_dp_start "$MF_DP_BIN"
sb_log "dataplane up: $(grep -o 'serving .*' "$SB_RUN/dataplane.log")"
sb_check "the dataplane serves net_memif and answers ARP itself" \
	grep -q "serving 198.18.0.1 on port 0 (net_memif, answering ARP)" "$SB_RUN/dataplane.log"
mf_tel /stormboot/stats >"$MF_WORK/s.before"

# Held: the dataplane is read, then stopped, before the generator closes its port
# (memif-lib.sh, mf_storm_begin).
mf_storm_begin "$MF_WORK/run" --vms $VMS --ovmf-ratio 0.5 --arp --backoff-scale 0.01 \
	--tftp-timeout-ms 500 --timeout 40 --vm-csv "$MF_WORK/run.csv" \
	--file "loader.efi=$MF_WORK/img/loader.efi" \
	--file "loader-bios.bin=$MF_WORK/img/loader-bios.bin" \
	--file "image.bin=$MF_WORK/img/image.bin" --image image.bin
eval "$(mf_tel --delta "$MF_WORK/s.before" /stormboot/stats | grep -E '^d_[a-z0-9_]+=[0-9-]+$')"
mf_dp_stop
mf_storm_end "$MF_WORK/run"
storm_gen_ok "$MF_WORK/run" $MF_GEN_RC
storm_verify "$MF_WORK" $VMS $LOADER $IMAGE \
	"${d_tftp_sessions_completed:-x}" "${d_tftp_sessions_size_probe:-x}"
read -r arp_rx arp_mac < <("$MF_PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); c=r["counters"]; print(c["arp_reply_rx"], c["arp_server_mac_ok"])' "$MF_WORK/run.json")
sb_check "ARP: the dataplane answered $VMS requests (rx_arp ${d_rx_arp:-x}, tx_arp ${d_tx_arp:-x})" \
	test "${d_rx_arp:-x}" = $VMS -a "${d_tx_arp:-x}" = $VMS
sb_check "ARP: $VMS replies taken ($arp_rx), each naming the MAC that sent the OFFER ($arp_mac)" \
	test "$arp_rx" = $VMS -a "$arp_mac" = $VMS
sb_check "every UDP checksum the dataplane sent verified (rx_csum_partial $("$MF_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["counters"]["rx_csum_partial"])' "$MF_WORK/run.json"))" \
	test "$("$MF_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["counters"]["rx_csum_partial"])' "$MF_WORK/run.json")" = 0
sb_check "no frame lost by the dataplane (drop_tx_full ${d_drop_tx_full:-x}, drop_no_mbuf ${d_drop_no_mbuf:-x})" \
	test "${d_drop_tx_full:-x}" = 0 -a "${d_drop_no_mbuf:-x}" = 0
sb_log "figures: $("$MF_PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("last VM %.2f s, p50 %.2f p99 %.2f s, rx %.0f pps tx %.0f pps, %.0f ns/packet; %s" % (r["time_to_last_vm_s"], r["completion_s"]["p50"], r["completion_s"]["p99"], r["rx_pps"], r["tx_pps"], r["ns_per_pkt"], r["limit"]))' "$MF_WORK/run.json")"

# The check can fail: an expected image with one byte changed.
storm_bad_image "$MF_WORK/img/image.bin" "$MF_WORK/bad-image.bin" 1000000
mf_dp_start "$MF_DP_BIN"
mf_storm_begin "$MF_WORK/bad" --vms 4 --seed 7 --backoff-scale 0.01 --tftp-timeout-ms 500 \
	--timeout 40 \
	--file "loader.efi=$MF_WORK/img/loader.efi" \
	--file "loader-bios.bin=$MF_WORK/img/loader-bios.bin" \
	--file "image.bin=$MF_WORK/bad-image.bin" --image image.bin
mf_dp_stop
mf_storm_end "$MF_WORK/bad"
storm_bad_ok "$MF_WORK/bad" $MF_GEN_RC
sb_summary
