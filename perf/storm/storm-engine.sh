#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# storm-engine.sh - the engine's own limit: stormboot-dataplane on one lcore at the server end
# of a net_memif pair, stormboot-storm on the other CPU at the client end (no kernel in the
# path), each beside dpdk-testpmd --forward-mode=macswap on the same memif pair:
#   1. ceiling: testpmd forwards, the generator --reflect's frames of 1514 bytes (a 1468-byte
#      DATA block's frame) and of DHCP-reply size: what the generator and memif carry
#   2. TFTP: --loop saturation, VMs fetching an image with blksize 1468 windowsize W again and
#      again (every byte compared): DATA packets/s sent by the dataplane, from its own
#      counters over a window of S seconds in the middle of the run
#   3. DHCP: --dhcp-only --loop, DORAs from many MACs as fast as they are answered: DHCP
#      replies/s (OFFER + ACK) sent by the dataplane
#   each repeated --runs times (median shown), with the fraction of testpmd's rate; then
#   4. per-stage costs, from a -Dstage_cycles=true build (--stages-build DIR, made if missing):
#      the TSC cycles of rx, parse, lookup, session, dhcp, alloc, build, checksum, tx and
#      free, per item and per reply, for the TFTP and the DHCP saturation runs
#   5. latency at half of the measured maximum (--loop-gap-ms paced VMs): engine time (rx
#      burst to the tx call) and with transmit (to its return), p50/p99/p99.9/max, against
#      the targets (engine p99 < 10 us, p99.9 < 50 us)
# Who was the limit: the dataplane's lcore busy share over the window and the generator's
# own verdict (its report's "limit") are printed beside each figure.
#
# Usage (root): perf/storm/storm-engine.sh [--build DIR] [--stages-build DIR | --no-stages]
#                   [--seconds S] [--runs N] [--tftp-vms N] [--window W] [--dhcp-vms N]
#                   [--image-kib K] [--json] [--latency-only TFTP_VMS,DHCP_VMS]
#                   [--half-timer-budget N]
#   defaults: --seconds 5 --runs 3 --tftp-vms 32 --window 16 --dhcp-vms 256 --image-kib 4096
# --half-timer-budget N: the half-load generator fires at most N VM timers per loop iteration
# (its --timer-budget; default 32: each millisecond's VMs leave as bursts of 32 frames; 1: one
# by one, the dataplane sees the load spread instead of microbursts).
# --latency-only T,D: only step 5, with T paced TFTP VMs and D paced DHCP VMs (the counts a
# full run printed for half load): a quick before/after of the latency; the dataplane's
# rx burst sizes and its lcore's involuntary context switches are printed with it.
# --json: the figures as one JSON object on stdout (the table goes to stderr); without it the
# table on stdout and a last line "storm-engine-json: {...}" for scripts.
# CPUs: dataplane/testpmd forwarding lcore on MF_DP_CPU (default the last CPU), generator on
# MF_GEN_CPU (default 0). Names: SB_PREFIX (default "mf"): work dir, memif socket, DPDK file
# prefixes. Run it under the lab lock on a shared host: flock /tmp/sb-lab.lock ...
set -euo pipefail

export SB_PREFIX=${SB_PREFIX:-mf}
HERE=$(cd "$(dirname "$0")" && pwd)
export SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
seconds=5 runs=3 tftp_vms=32 window=16 dhcp_vms=256 image_kib=4096 json=0 lat_only= half_budget=32
stages=${SOURCE_DIR}/build-stages
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD_DIR=$(cd "$2" && pwd); shift ;;
	--stages-build) stages=$2; shift ;;
	--no-stages) stages= ;;
	--seconds) seconds=$2; shift ;;
	--runs) runs=$2; shift ;;
	--tftp-vms) tftp_vms=$2; shift ;;
	--window) window=$2; shift ;;
	--dhcp-vms) dhcp_vms=$2; shift ;;
	--image-kib) image_kib=$2; shift ;;
	--json) json=1 ;;
	--latency-only) lat_only=$2; shift ;;
	--half-timer-budget) half_budget=$2; shift ;;
	*) sed -n '4,39p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
	shift
done
export BUILD_DIR
. "$SOURCE_DIR/perf/storm/memif-lib.sh"
# in_range NAME VALUE MIN MAX
in_range() {
	if ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
		sb_fail "--$1 $2: expected $3..$4"
	fi
}
in_range seconds "$seconds" 2 60
in_range runs "$runs" 1 9
in_range window "$window" 1 64
in_range tftp-vms "$tftp_vms" 1 10000
in_range dhcp-vms "$dhcp_vms" 1 10000
in_range half-timer-budget "$half_budget" 1 4096
if [ -n "$lat_only" ]; then
	[[ $lat_only =~ ^([0-9]+),([0-9]+)$ ]] || sb_fail "--latency-only $lat_only: expected TFTP_VMS,DHCP_VMS"
	half_tftp_vms=${BASH_REMATCH[1]} half_dhcp_vms=${BASH_REMATCH[2]}
	in_range "latency-only (TFTP)" "$half_tftp_vms" 1 10000
	in_range "latency-only (DHCP)" "$half_dhcp_vms" 1 10000
	runs=0 stages=
fi
sb_need_cmd dpdk-testpmd
mf_init
RES=$MF_WORK/results
mkdir -p "$RES"

# Stage costs need a build with -Dstage_cycles=true (a few rdtsc per packet: not the default).
if [ -n "$stages" ] && [ ! -x "$stages/dataplane/engine/stormboot-dataplane" ]; then
	sb_log "making the stage-cost build in $stages (meson -Dstage_cycles=true)"
	{ [ -d "$stages" ] || meson setup "$stages" "$SOURCE_DIR" -Dstage_cycles=true -Dtests=false; } >&2
	ninja -C "$stages" dataplane/engine/stormboot-dataplane >&2 || sb_fail "stage build"
fi

mf_image image.bin $((image_kib * 1024))
mf_image small.bin 65536 # the paced TFTP run (half load): 45 blocks per transfer
mf_image loader.efi 65536
mf_image loader-bios.bin 65536
mf_config '{"tftp": {"max_sessions": 1000, "windowsize_max": 64, "timeout_ms": 500, "retries": 20}}'
STORM_TFTP=(--ovmf-ratio 1 --no-probe --ovmf-window "$window" --backoff-scale 0.01
	--dhcp-tries 50 --tftp-timeout-ms 300 --tftp-retries 20 --verify cmp --loop --progress 0)
STORM_DHCP=(--dhcp-only --loop --backoff-scale 0.01 --dhcp-tries 50 --progress 0)
DHCP_FRAME=${DHCP_FRAME:-389} # bytes of an OFFER/ACK frame here (checked against tx_bytes)

# window NAME: the dataplane's stats and latency at the start and the end of a window of
# $seconds seconds inside a running generator, into $RES/NAME.win.json
window() {
	"$MF_PY" - "$MF_TEL" "$MF_DP_PREFIX" "$seconds" "$RES/$1.win.json" \
		"$(cat "$SB_RUN/dataplane.pid" 2>/dev/null || echo 0)" <<-'EOF'
	import glob, json, subprocess, sys, time
	tel, prefix, secs, out, pid = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5]
	def switches():
	    # per thread of the dataplane: the kernel took the CPU from it (preempted) / it gave it up
	    r = {}
	    for t in glob.glob(f"/proc/{pid}/task/*"):
	        try:
	            comm = open(t + "/comm").read().strip()
	            v = dict((a.strip(), b) for a, b in (l.split(":", 1) for l in open(t + "/sched").read().splitlines() if ":" in l))
	            r[t.rsplit("/", 1)[1] + " " + comm] = [int(float(v[k].strip())) for k in
	                ("nr_involuntary_switches", "nr_voluntary_switches")]
	        except (OSError, KeyError, ValueError):
	            pass
	    return r
	def snap():
	    t = time.monotonic()
	    s = json.loads(subprocess.check_output([sys.executable, tel, prefix, "/stormboot/stats"]))
	    return t, s, switches()
	t0, a, sa = snap()
	time.sleep(secs)
	t1, b, sb = snap()
	d = {k: b[k] - a[k] for k in b if isinstance(b.get(k), int) and isinstance(a.get(k), int)}
	sw = {k: [sb[k][0] - sa[k][0], sb[k][1] - sa[k][1]] for k in sb if k in sa}
	json.dump({"secs": t1 - t0, "delta": d, "switches": sw}, open(out, "w"))
	EOF
}

# dp_phase NAME BIN ARGS...: dataplane BIN up, the generator with ARGS for the window plus a
# warm-up of 2 s, the window in the middle; results NAME.json (generator), NAME.win.json,
# NAME.lat.json (latency view at the end), the generator's log NAME.log
dp_phase() {
	local name=$1 bin=$2 rc=0
	shift 2
	mf_dp_start "$bin"
	# held: the dataplane stops before the generator closes its port (memif-lib.sh)
	mf_storm_start "$RES/$name" --timeout $((seconds + 3)) "$@"
	sleep 2
	window "$name" || sb_log "$name: telemetry window failed"
	mf_tel /stormboot/latency >"$RES/$name.lat.json" || true
	mf_storm_reported "$RES/$name"
	mf_dp_stop
	mf_storm_end "$RES/$name"
	rc=$MF_GEN_RC
	[ "$rc" = 0 ] || sb_log "$name: generator exit $rc: $(tail -n 3 "$RES/$name.log" | tr '\n' ' ')"
}

tpmd_phase() {
	local name=$1 rc=0
	shift
	mf_tpmd_start
	sleep 0.5
	mf_storm "$RES/$name" --reflect --verify none --progress 0 --timeout "$seconds" "$@" || rc=$?
	[ "$rc" = 0 ] || sb_log "$name: generator exit $rc"
	mf_tpmd_stop
}

sb_log "host: $(uptime | sed 's/.*load/load/'); $MF_NCPU CPUs; dataplane/testpmd on CPU $MF_DP_CPU, generator on CPU $MF_GEN_CPU"
for ((r = 1; r <= runs; r++)); do
	sb_log "run $r/$runs: testpmd macswap ceiling (1514 B, $tftp_vms x $window in flight)"
	tpmd_phase "ceil1514.$r" --vms "$tftp_vms" --reflect-window "$window" --reflect-size 1514
	sb_log "run $r/$runs: testpmd macswap ceiling ($DHCP_FRAME B, $dhcp_vms x 1 in flight)"
	tpmd_phase "ceildhcp.$r" --vms "$dhcp_vms" --reflect-window 1 --reflect-size "$DHCP_FRAME"
	sb_log "run $r/$runs: dataplane TFTP saturation ($tftp_vms VMs, windowsize $window, blksize 1468)"
	dp_phase "tftp.$r" "$MF_DP_BIN" --vms "$tftp_vms" "${STORM_TFTP[@]}" \
		--loader image.bin --file "image.bin=$MF_WORK/img/image.bin"
	sb_log "run $r/$runs: dataplane DHCP saturation ($dhcp_vms VMs, DORA after DORA)"
	dp_phase "dhcp.$r" "$MF_DP_BIN" --vms "$dhcp_vms" "${STORM_DHCP[@]}"
done
if [ -n "$stages" ]; then
	sb_log "stage costs: TFTP and DHCP saturation on the -Dstage_cycles=true build"
	dp_phase "stages-tftp" "$stages/dataplane/engine/stormboot-dataplane" --vms "$tftp_vms" \
		"${STORM_TFTP[@]}" --loader image.bin --file "image.bin=$MF_WORK/img/image.bin"
	dp_phase "stages-dhcp" "$stages/dataplane/engine/stormboot-dataplane" --vms "$dhcp_vms" \
		"${STORM_DHCP[@]}"
fi

# Half of the median maximum, paced: VMs x work per cycle / (gap + the cycle's own time).
if [ -z "$lat_only" ]; then read -r half_tftp_vms half_dhcp_vms < <("$MF_PY" - "$RES" "$runs" <<-'EOF'
	import json, statistics, sys
	res, runs = sys.argv[1], int(sys.argv[2])
	def rate(name, key):
	    v = []
	    for r in range(1, runs + 1):
	        try:
	            w = json.load(open(f"{res}/{name}.{r}.win.json"))
	            v.append(w["delta"].get(key, 0) / w["secs"])
	        except (OSError, ValueError):
	            pass
	    return statistics.median(v) if v else 0
	gap = 0.010
	t = rate("tftp", "tx_tftp") / 2 * gap / 46   # small.bin: 45 DATA + 1 OACK per transfer
	d = rate("dhcp", "tx_dhcp") / 2 * gap / 2    # OFFER + ACK per DORA
	print(max(1, min(10000, round(t))), max(1, min(10000, round(d))))
	EOF
)
fi
sb_log "latency at half load: TFTP $half_tftp_vms VMs fetching small.bin every 10 ms, DHCP $half_dhcp_vms VMs one DORA every 10 ms"
dp_phase "half-tftp" "$MF_DP_BIN" --vms "$half_tftp_vms" --ramp-ms 10 --loop-gap-ms 10 \
	--timer-budget "$half_budget" "${STORM_TFTP[@]}" --loader small.bin \
	--file "small.bin=$MF_WORK/img/small.bin"
dp_phase "half-dhcp" "$MF_DP_BIN" --vms "$half_dhcp_vms" --ramp-ms 10 --loop-gap-ms 10 \
	--timer-budget "$half_budget" "${STORM_DHCP[@]}"

load=$(uptime | sed 's/.*load average: //')
"$MF_PY" "$HERE/storm-engine-report.py" "$RES" "$runs" "$seconds" "$window" "$tftp_vms" \
	"$dhcp_vms" "$DHCP_FRAME" "$load" "$json"
