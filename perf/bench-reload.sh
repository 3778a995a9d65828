#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# bench-reload.sh - what one `stormbootctl image-add` costs the dataplane when it already
# serves gigabytes of other images: time until the new config is applied, and the hugepage
# memory at the peak of the reload.
#
#   sudo perf/bench-reload.sh [--build DIR] [--label TEXT] [--other-mib N] [--other-count K]
#                             [--runs R] [--pages P]
#
#   --build DIR      the build to measure (default: build/ of this tree); run it once with a
#                    build of the code before a change and once after, same options
#   --label TEXT     a word for the results file (e.g. before, after)
#   --other-mib N    the other images, N MiB in all (default 2048), as K sparse files under
#   --other-count K  the run's /tmp directory (default 8); sparse: reading them costs page
#                    cache copies and SHA-256 like any cached file, without filling the disk
#   --runs R         image-adds of a new 1 MiB random image, one after the other (default 3)
#   --pages P        2 MiB hugepages free during the run (default: twice the images plus 512
#                    MiB, what a reload that copies every image needs); raised if fewer are
#                    free, put back to the host's count on exit
#
# Lab (tests/lab/lab.sh, SB_PREFIX default "sbrl", 198.18.0.0/24 in its own namespaces):
# stormboot-control and stormboot-dataplane -C on the lab's boot veth, the dataplane pinned
# to the last CPU. Each run: start reload-sampler.py (the dataplane's hugepage heap in use,
# DPDK telemetry /eal/heap_info, and the host's hugepages in use, every 5 ms), run
# `stormbootctl image-add oneK.img PATH`, wait until the dataplane logs "config generation
# N applied" (or "refused": out of hugepages, say), stop the sampler. Prints per run: image-add -> applied (ms, end to end), the
# command's own time, the dataplane's heap before and at the peak, the host's hugepages at
# the peak; a copy goes to perf/results/<date>-reload-<label>.txt.
#
# Bounded: every wait has a timeout (control and the dataplane: 120 s and 300 s to come up,
# 120 s to connect; each reload 300 s). Everything started here is stopped by its PID; the
# lab is taken down on exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
export SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/.." && pwd)}
export SB_PREFIX=${SB_PREFIX:-sbrl}
label=run
other_mib=2048
other_count=8
runs=3
pages=""

usage() {
	sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD_DIR=$(cd "$2" && pwd); shift 2 ;;
	--label) label=$2; shift 2 ;;
	--other-mib) other_mib=$2; shift 2 ;;
	--other-count) other_count=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--pages) pages=$2; shift 2 ;;
	*) usage ;;
	esac
done
export BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
[ -n "$pages" ] || pages=$(((2 * other_mib + 512) / 2))

. "$SOURCE_DIR/tests/dataplane/dp-lib.sh"
dp_init
CTLD=$BUILD_DIR/control/stormboot-control
CTL=$BUILD_DIR/control/stormbootctl
[ -x "$CTLD" ] && [ -x "$CTL" ] || sb_fail "no stormboot-control/stormbootctl in $BUILD_DIR"
RUN=$DP_WORK/run
export STORMBOOT_SOCKET=$RUN/control.sock
HP=/sys/kernel/mm/hugepages/hugepages-2048kB
HP_ORIG=$(cat $HP/nr_hugepages)
HP_SET=0
OUT=$SOURCE_DIR/perf/results/$(date +%Y-%m-%d-%H%M)-reload-$label.txt

bench_cleanup() {
	local rc=$?
	set +e
	touch "$DP_WORK/sampler.stop" 2>/dev/null
	if [ "$rc" != 0 ] && [ -f "$SB_RUN/dataplane.log" ]; then
		echo "--- dataplane log (last 20 lines)" >&2
		tail -n 20 "$SB_RUN/dataplane.log" >&2
	fi
	sb_stop dataplane 20
	sb_stop control 5
	if [ "$HP_SET" = 1 ]; then
		echo "$HP_ORIG" >/proc/sys/vm/nr_hugepages
		sb_log "nr_hugepages back to $HP_ORIG (now $(cat $HP/nr_hugepages))"
	fi
	(exit "$rc")
	dp_cleanup
}
trap bench_cleanup EXIT

say() { echo "$*" | tee -a "$OUT"; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
ctl_gen() { "$CTL" --json status | "$DP_PY" -c "import json,sys; print(json.load(sys.stdin)['arguments']['config']['generation'])"; }
# wait_line PATTERN SECS: PATTERN appears in the dataplane's log (polled every 5 ms)
wait_line() {
	local end=$((SECONDS + $2))
	until grep -q "$1" "$SB_RUN/dataplane.log"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.005
	done
}

# --- images: K sparse files of N/K MiB (the "other" images), the boot file, and the new ones
dp_image undionly.kpxe 65536
for ((i = 1; i <= other_count; i++)); do
	truncate -s $((other_mib / other_count))M "$DP_WORK/img/other$i.img"
done
mkdir -p "$DP_WORK/new"
for ((k = 1; k <= runs; k++)); do
	head -c 1048576 /dev/urandom >"$DP_WORK/new/one$k.img"
done
# image-add takes files from control.images_dirs only (docs/SECURITY.md)
dp_config '{"tftp": {"max_sessions": 64}, "control": {"images_dirs": ["'"$DP_WORK/new"'"]}}'

# --- hugepages: P free for the run
free=$(cat $HP/free_hugepages)
if [ "$free" -lt "$pages" ]; then
	HP_SET=1
	echo $((HP_ORIG + pages - free)) >/proc/sys/vm/nr_hugepages
	if [ "$(cat $HP/free_hugepages)" -lt "$pages" ]; then # fragmented: compact once, again
		echo 1 >/proc/sys/vm/compact_memory 2>/dev/null || true
		echo $((HP_ORIG + pages - free)) >/proc/sys/vm/nr_hugepages
	fi
	free=$(cat $HP/free_hugepages)
	[ "$free" -ge "$pages" ] || sb_fail "only $free hugepages free after raising nr_hugepages (wanted $pages)"
fi
sb_log "hugepages: $free free (2 MiB), nr_hugepages $(cat $HP/nr_hugepages) (was $HP_ORIG)"

dp_lab_up
sb_start control "" "$CTLD" -f -c "$DP_CFG" -s "$RUN/control.sock" -d "$DP_WORK/state"
sb_wait_for 120 "$CTL" status >/dev/null 2>&1 || sb_fail "control did not start"
rm -f "$SB_RUN/dataplane.log" # a log of an earlier run must not answer the waits below
t=$(date +%s%N)
sb_start dataplane "$SB_NS_SRV" sh -c \
	"mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec '$DP_BIN' -- -c '$DP_CFG' -x '$DP_XDP' -l $DP_LCORE -C '$RUN/dataplane.sock'"
wait_line "serving " 300 || sb_fail "dataplane did not come up"
start_ms=$(ms_since "$t")
sb_wait_for 120 sh -c "\"$CTL\" status | grep -q 'dataplane.connected *yes'" ||
	sb_fail "dataplane did not connect to control"
sb_wait_for 10 dp_tel /eal/heap_info,0 || sb_fail "no telemetry at $DP_TEL_SOCK"

: >"$OUT"
src=$("$DP_PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['directories']['source'])" "$BUILD_DIR/meson-info/meson-info.json" 2>/dev/null || echo '?')
say "# bench-reload $(date -Is) label=$label build=$BUILD_DIR of $src ($(git -C "$src" describe --always --dirty 2>/dev/null || echo 'not a git tree'))"
say "# $((other_count + 1)) images served: $other_count x $((other_mib / other_count)) MiB sparse + undionly.kpxe 64 KiB; dataplane on CPU $DP_LCORE; hugepages free $free"
say "# dataplane start (EAL to 'serving', all images read): $start_ms ms"
say "# run  add->applied_ms  command_ms  heap_before_mib  heap_peak_mib  heap_growth_mib  host_hugepages_peak_mib  applied_line"
for ((k = 1; k <= runs; k++)); do
	gen=$(ctl_gen)
	want=$((gen + 1))
	rm -f "$DP_WORK/sampler.stop"
	"$DP_PY" "$HERE/reload-sampler.py" "$DP_TEL_SOCK" "$DP_WORK/sampler.stop" >"$DP_WORK/sample$k" &
	sampler=$!
	sleep 0.3 # the sampler's first sample is the baseline
	t=$(date +%s%N)
	"$CTL" image-add "one$k.img" "$DP_WORK/new/one$k.img" >"$DP_WORK/add$k.out" 2>&1 &
	cmd=$!
	wait_line "config generation $want \(applied\|refused\)" 300 ||
		sb_fail "run $k: generation $want neither applied nor refused"
	applied_ms=$(ms_since "$t")
	wait "$cmd" || true # its answer, or its error, is in add$k.out
	cmd_ms=$(ms_since "$t") # the command's answer, or later if it came before the line
	touch "$DP_WORK/sampler.stop"
	wait "$sampler" || sb_fail "run $k: sampler failed"
	[ "$(ctl_gen)" = "$want" ] || sb_fail "run $k: control is at generation $(ctl_gen), expected $want"
	eval "$(tr ' ' '\n' <"$DP_WORK/sample$k")"
	line=$(grep -o "config generation $want \(applied\|refused\).*" "$SB_RUN/dataplane.log" | head -n 1)
	say "$k  $applied_ms  $cmd_ms  $heap_start_mib  $heap_max_mib  $((heap_max_mib - heap_start_mib))  $host_max_mib  \"$line\""
done
say "# dataplane log lines about images and the cache:"
{ grep -E "image cache|retired|read in" "$SB_RUN/dataplane.log" || true; } | sed 's/^/#   /' |
	tail -n 8 | tee -a "$OUT"
sb_log "results in $OUT"
