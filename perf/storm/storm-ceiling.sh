#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# storm-ceiling.sh - what stormboot-storm itself can do on a port type: its ceiling.
#
# The lab's veth pair (tests/lab/lab.sh), dpdk-testpmd --forward-mode=macswap on the server
# end (net_af_xdp, one forwarding lcore), stormboot-storm --reflect on the client end
# (net_af_xdp): every VM keeps W frames of B bytes in flight, testpmd sends each one back
# with the MACs swapped, and the generator treats each returning frame as it treats a TFTP
# DATA block (parse, IPv4 and UDP checksums, SHA-256 of the payload) and sends the next.
# testpmd does almost nothing per frame, so the figure is the generator's and the port's
# (on veth: the kernel's copy-mode AF_XDP path) - the most a real run could show.
#
# Usage (root): perf/storm/storm-ceiling.sh [--build DIR] [--vms N] [--window W]
#                   [--size B] [--seconds S] [--verify sha|none] [--json]
#   defaults: --vms 64 --window 4 --size 1514 --seconds 10 --verify sha
# CPUs: testpmd forwards on the last CPU, the generator polls CPU 0 (STORM_CPU,
# TESTPMD_CPU); each runs in a session of its own (setsid), so that the scheduler's
# autogroups give both the same standing. Lab prefix SB_PREFIX (default "stc").
# Addresses: the VMs use 198.19.0.0/16 (inside 198.18.0.0/15); nothing is routed.
set -euo pipefail

export SB_PREFIX=${SB_PREFIX:-stc}
HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=$(cd "$HERE/../.." && pwd)
. "$SOURCE_DIR/tests/lab/lib.sh"
LAB=$SOURCE_DIR/tests/lab/lab.sh

build=${BUILD_DIR:-$SOURCE_DIR/build}
vms=64 window=4 size=1514 seconds=10 verify=sha json=
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift ;;
	--vms) vms=$2; shift ;;
	--window) window=$2; shift ;;
	--size) size=$2; shift ;;
	--seconds) seconds=$2; shift ;;
	--verify) verify=$2; shift ;;
	--json) json=--json ;;
	*) sed -n '4,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
	shift
done
STORM=$build/perf/storm/stormboot-storm
ncpu=$(nproc)
STORM_CPU=${STORM_CPU:-0}
TESTPMD_CPU=${TESTPMD_CPU:-$((ncpu - 1))}

sb_need_root
sb_need_cmd dpdk-testpmd setsid taskset timeout ip
[ -x "$STORM" ] || sb_fail "no generator at $STORM (--build DIR)"
[ "$seconds" -ge 1 ] && [ "$seconds" -le 120 ] || sb_fail "--seconds 1..120"

work=$(mktemp -d "/tmp/${SB_PREFIX}-ceiling.XXXXXX")
cleanup() {
	local rc=$?
	set +e
	sb_stop testpmd 5
	"$LAB" down >/dev/null 2>&1
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$LAB" up 2>"$work/lab.log" || { cat "$work/lab.log" >&2; sb_fail "lab up"; }
eval "$("$LAB" env)"

# testpmd: main lcore on the generator's CPU (it only sleeps between stats), one forwarding
# lcore on its own CPU; DPDK's own XDP program on the server veth (nothing else runs there).
main_cpu=$STORM_CPU
[ "$main_cpu" = "$TESTPMD_CPU" ] && sb_fail "STORM_CPU and TESTPMD_CPU must differ"
sb_start testpmd "$SB_NS_SRV" setsid dpdk-testpmd -l "$main_cpu,$TESTPMD_CPU" \
	--main-lcore "$main_cpu" --no-pci --in-memory --file-prefix "${SB_PREFIX}-tpmd" \
	--no-telemetry --log-level=lib.eal:warning --vdev "net_af_xdp0,iface=$SB_IF_SRV" -- \
	--forward-mode=macswap --nb-cores=1 --auto-start --stats-period "$seconds"
sb_wait_for 20 grep -q "Start automatic packet forwarding\|Port statistics" "$SB_RUN/testpmd.log" ||
	{ cat "$SB_RUN/testpmd.log" >&2; sb_fail "testpmd did not start"; }
sleep 1

rc=0
ip netns exec "$SB_NS_CLI" setsid -w timeout $((seconds + 30)) taskset -c "$STORM_CPU" \
	"$STORM" -l "$STORM_CPU" --no-pci --in-memory --file-prefix "${SB_PREFIX}-storm" \
	--no-telemetry --log-level=lib.eal:warning --vdev "net_af_xdp0,iface=$SB_IF_CLI" -- \
	--reflect --vms "$vms" --reflect-window "$window" --reflect-size "$size" \
	--verify "$verify" --timeout "$seconds" $json 2>"$work/storm.log" || rc=$?
grep -v '^libbpf\|^libxdp' "$work/storm.log" | grep -v '^\[' >&2 || true
sb_log "testpmd (forwarding lcore on CPU $TESTPMD_CPU), last statistics:"
grep -E "RX-packets|TX-packets" "$SB_RUN/testpmd.log" | tail -n 2 >&2 || true
exit "$rc"
