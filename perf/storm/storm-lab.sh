#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# storm-lab.sh - a boot storm against stormboot-dataplane in the standard lab: the
# dataplane in the server namespace (started as tests/dataplane/dp-lib.sh does: XDP +
# net_af_xdp, nice -10, its lcore on the last CPU), stormboot-storm on the client veth
# (net_af_xdp, CPU 0, a session of its own), random files of the given sizes, one run,
# the generator's report on stdout.
#
# Usage (root): perf/storm/storm-lab.sh [--build DIR] [--vms N] [--loader-kib K]
#                   [--image-kib K] [--ovmf-ratio R] [--timeout S] [--ports N] [--cap N]
#                   [--firmware] [--json] [-- more stormboot-storm options]
#   defaults: --vms 1000 --loader-kib 64 --image-kib 256 --ovmf-ratio 0.5 --timeout 120
# The config: subnet 198.18.0.0/16, pool 198.18.16.0-198.18.63.255 (12,288 addresses),
# boot files loader.efi (x64 UEFI) and loader-bios.bin (BIOS, what iPXE-like VMs get),
# image.bin, TFTP max_sessions 4096, windowsize_max 16, transfer ports 61000-61999 (the
# default; --ports N: 61000 to 61000+N-1; the session table holds one session per port).
# --cap N: tftp.max_sessions N (default 4096). tftp.give_up_ms is the product's default,
# 30 s (the lab library's base config gives up after 6 s: timeout_ms 1000 x (retries 5 + 1),
# shorter than two of OVMF's 4 s retries: 20-68 VMs failed that way, docs/PERFORMANCE.md
# "4,096 sessions at once"). Lab prefix SB_PREFIX (default
# "stl"). The generator's RFC 2131 back-off is scaled by 0.01 (--backoff-scale), its TFTP
# timeout is 500 ms; --firmware: the firmware-like defaults instead (back-off 4/8/16 s,
# OVMF 4 s x 6, iPXE 250 ms doubled to 10 s), random MACs, an 8192-descriptor rx ring:
# what perf/storm-bench.sh's storm rows run. STORM_VDEV_ARGS is appended to the generator's vdev (e.g.
# ",busy_budget=0"), DP_APP_ARGS to the dataplane's options (e.g. "-v": its log then has one
# line per TFTP session start and end). At the end: the dataplane's counters and the veth
# drop counters.
set -euo pipefail

export SB_PREFIX=${SB_PREFIX:-stl}
HERE=$(cd "$(dirname "$0")" && pwd)
export SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
vms=1000 loader_kib=64 image_kib=256 ratio=0.5 timeout=120 ports=1000 cap=4096 json= extra=()
firmware=0
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD_DIR=$2; shift ;;
	--vms) vms=$2; shift ;;
	--loader-kib) loader_kib=$2; shift ;;
	--image-kib) image_kib=$2; shift ;;
	--ovmf-ratio) ratio=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--ports) ports=$2; shift ;;
	--cap) cap=$2; shift ;;
	--firmware) firmware=1 ;;
	--json) json=--json ;;
	--) shift; extra=("$@"); break ;;
	*) sed -n '4,28p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
	shift
done
export BUILD_DIR
. "$SOURCE_DIR/tests/dataplane/dp-lib.sh"
dp_init
sb_need_cmd setsid taskset timeout
STORM=$BUILD_DIR/perf/storm/stormboot-storm
[ -x "$STORM" ] || sb_fail "no generator at $STORM (--build DIR)"
STORM_CPU=${DP_CLI_CPUS%%[-,]*}

dp_image loader.efi $((loader_kib * 1024))
dp_image loader-bios.bin $((loader_kib * 1024))
dp_image image.bin $((image_kib * 1024))
dp_config '{"dhcp": {"mode": "full",
                     "boot": {"bios": "loader-bios.bin", "uefi_x64": "loader.efi"},
                     "subnets": [{"network": "198.18.0.0/16",
                                  "pool": {"start": "198.18.16.0", "end": "198.18.63.255"},
                                  "router": "198.18.0.1", "lease_time": 3600}]},
            "tftp": {"max_sessions": '$cap', "windowsize_max": 16, "give_up_ms": 30000,
                     "transfer_ports": {"first": 61000, "last": '$((61000 + ports - 1))'}}}'
dp_lab_up
dp_start
dp_snap /stormboot/stats "$DP_WORK/s.before"

timing=(--backoff-scale 0.01 --tftp-timeout-ms 500)
[ $firmware = 1 ] && timing=(--random-macs --rxd 8192)
rc=0
ip netns exec "$SB_NS_CLI" setsid -w timeout $((timeout + 30)) taskset -c "$STORM_CPU" \
	"$STORM" -l "$STORM_CPU" --no-pci --in-memory --file-prefix "${SB_PREFIX}-storm" \
	--no-telemetry --log-level=lib.eal:warning --vdev "net_af_xdp0,iface=$SB_IF_CLI${STORM_VDEV_ARGS:-}" -- \
	--vms "$vms" --ovmf-ratio "$ratio" "${timing[@]}" \
	--file "loader.efi=$DP_WORK/img/loader.efi" \
	--file "loader-bios.bin=$DP_WORK/img/loader-bios.bin" \
	--file "image.bin=$DP_WORK/img/image.bin" --image image.bin --timeout "$timeout" \
	$json "${extra[@]}" 2>"$DP_WORK/storm.log" || rc=$?
grep -v '^libbpf\|^libxdp' "$DP_WORK/storm.log" >&2 || true
sb_log "dataplane counters over the run (non-zero):"
dp_deltas "$DP_WORK/s.before" /stormboot/stats | grep -vE '=0$|=-' | tr '\n' ' ' >&2
echo >&2
sb_log "dataplane rx->tx latency (ns): $(dp_tel /stormboot/latency | "$DP_PY" -c 'import json,sys; s=json.load(sys.stdin); print(" ".join("%s=%s" % (k[8:], s[k]) for k in s if k.startswith("latency_") and k[8:] in ("count", "p50_ns", "p99_ns", "max_ns")))'); port imissed $(dp_get /ethdev/stats,0 imissed)"
# Frames the kernel dropped between the two AF_XDP sockets (veth's XDP ring: TX dropped of
# the sending end); neither process's counters see them.
for ns_if in "$SB_NS_SRV:$SB_IF_SRV" "$SB_NS_CLI:$SB_IF_CLI"; do
	sb_log "veth ${ns_if#*:}: $(ip -n "${ns_if%%:*}" -s link show "${ns_if#*:}" |
		awk '/RX:/ {getline; rx = $1 " packets, dropped " $4} /TX:/ {getline; tx = $1 " packets, dropped " $4} END {print "rx " rx "; tx " tx}')"
done
exit "$rc"
