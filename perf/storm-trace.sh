#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# storm-trace.sh - the boot timeline under a storm (docs/TIMELINE.md): N VMs (default 1000,
# stormboot-storm on the client veth, as perf/storm/storm-lab.sh runs it) booting against
# stormboot-dataplane twice, back to back in one lab:
#   A. standalone (no control: no timeline rings, nothing recorded),
#   B. with stormboot-control (-C): every step in the rings, sent to control, logged through
#      the token bucket;
# and prints for each the generator's time to the last VM and the dataplane's rx->tx latency
# percentiles, then for B the timeline counters (steps recorded, lost, sent), control's log
# lines and suppressed lines, what `stormbootctl clients` shows for the storm (counts per
# state, the first rows) and one VM's trace. A benchmark: it times, and asserts nothing.
#
# Usage (root): perf/storm-trace.sh [--build DIR] [--vms N]     (SB_PREFIX default "trs")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-trs}
HERE=$(cd "$(dirname "$0")" && pwd)
export SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/.." && pwd)}
vms=1000
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD_DIR=$2; shift ;;
	--vms) vms=$2; shift ;;
	*) sed -n '4,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
	shift
done
export BUILD_DIR
. "$SOURCE_DIR/tests/dataplane/dp-lib.sh"
dp_init
sb_need_cmd setsid taskset timeout
STORM=$BUILD_DIR/perf/storm/stormboot-storm
CTLD=$BUILD_DIR/control/stormboot-control
CTL=$BUILD_DIR/control/stormbootctl
[ -x "$STORM" ] || sb_fail "no generator at $STORM (--build DIR)"
STORM_CPU=${DP_CLI_CPUS%%[-,]*}
RUN=$DP_WORK/run
export STORMBOOT_SOCKET=$RUN/control.sock
trap 'rc=$?; sb_stop control 5; (exit $rc); dp_cleanup' EXIT

dp_image loader.efi $((64 * 1024))
dp_image loader-bios.bin $((64 * 1024))
dp_image image.bin $((256 * 1024))
dp_config '{"dhcp": {"mode": "full", "durability": "available",
                     "boot": {"bios": "loader-bios.bin", "uefi_x64": "loader.efi"},
                     "subnets": [{"network": "198.18.0.0/16",
                                  "pool": {"start": "198.18.16.0", "end": "198.18.63.255"},
                                  "router": "198.18.0.1", "lease_time": 3600}]},
            "tftp": {"max_sessions": 4096, "windowsize_max": 16}}'
dp_lab_up

storm() { # OUT: the generator's JSON report in OUT
	ip netns exec "$SB_NS_CLI" setsid -w timeout 150 taskset -c "$STORM_CPU" \
		"$STORM" -l "$STORM_CPU" --no-pci --in-memory --file-prefix "${SB_PREFIX}-storm" \
		--no-telemetry --log-level=lib.eal:warning --vdev "net_af_xdp0,iface=$SB_IF_CLI" -- \
		--vms "$vms" --ovmf-ratio 0.5 --backoff-scale 0.01 --tftp-timeout-ms 500 \
		--file "loader.efi=$DP_WORK/img/loader.efi" \
		--file "loader-bios.bin=$DP_WORK/img/loader-bios.bin" \
		--file "image.bin=$DP_WORK/img/image.bin" --image image.bin --timeout 120 --json \
		>"$1" 2>"$1.log" || true
}
summary() { # WHAT REPORT
	"$DP_PY" - "$1" "$2" <<-'PY'
	import json, sys
	r = json.load(open(sys.argv[2]))
	keys = [k for k in r if any(w in k for w in ("time", "booted", "failed", "p50", "p99"))]
	print("%s: %s" % (sys.argv[1], " ".join("%s=%s" % (k, r[k]) for k in keys
	                                       if not isinstance(r[k], (dict, list)))))
	PY
	echo "$1: dataplane rx->tx latency (ns): $(dp_tel /stormboot/latency | "$DP_PY" -c 'import json,sys; s=json.load(sys.stdin); print(" ".join("%s=%s" % (k[8:], s[k]) for k in s if k.startswith("latency_") and k[8:] in ("count", "p50_ns", "p99_ns", "p99_9_ns", "max_ns")))')"
}

# --- A. standalone: no rings
dp_start
storm "$DP_WORK/a.json"
summary "A standalone" "$DP_WORK/a.json"
sb_stop dataplane 10

# --- B. with control: every step recorded
sb_start control "$SB_NS_SRV" "$CTLD" -f -c "$DP_CFG" -s "$RUN/control.sock" -d "$DP_WORK/state"
sb_wait_for 10 "$CTL" status >/dev/null 2>&1 || sb_fail "control did not start"
sb_start dataplane "$SB_NS_SRV" sh -c \
	"mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec nice -n -10 '$DP_BIN' -- -c '$DP_CFG' -x '$DP_XDP' -l $DP_LCORE -C '$RUN/dataplane.sock'"
sb_wait_for 30 dp_tel /stormboot/stats || sb_fail "dataplane did not come up"
sb_wait_for 15 sh -c "\"$CTL\" status | grep -q 'dataplane.connected *yes'" || sb_fail "not connected"
sleep 1
storm "$DP_WORK/b.json"
summary "B with control + timeline" "$DP_WORK/b.json"
echo "B: timeline_events=$(dp_get /stormboot/stats timeline_events) lost=$(dp_get /stormboot/stats timeline_events_lost) sent=$(dp_get /stormboot/stats timeline_events_sent) unsent=$(dp_get /stormboot/stats timeline_events_unsent)"
sleep 1
"$CTL" status | grep -E '^timeline\.' | tr -s ' ' | tr '\n' ' '
echo
echo "B: control log lines: $(wc -l <"$SB_RUN/control.log") ($(grep -c 'lease given' "$SB_RUN/control.log") 'lease given', $(grep -c 'boot file served' "$SB_RUN/control.log") 'boot file served', $(grep -c 'left out by the rate limit' "$SB_RUN/control.log") suppression notes)"
echo "--- stormbootctl clients --limit 8"
"$CTL" clients --limit 8
echo "--- stormbootctl clients --sort steps --limit 3"
"$CTL" clients --sort steps --limit 3
mac=$("$CTL" --json clients --limit 1 | "$DP_PY" -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["clients"][0]["mac"])')
echo "--- stormbootctl trace $mac"
"$CTL" trace "$mac"
sb_stop dataplane 10
sb_stop control 5
