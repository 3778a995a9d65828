#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# cluster-bench.sh - scale-out figures for docs/SCALE-OUT.md, in one lab (tests/cluster/
# clu-lib.sh: 3 etcd members, N stormboot servers, ISC perfdhcp as a broadcasting relay with
# 3000 random MACs), in one run:
#   1. local:    server 1 alone, leases in its local log (no "cluster" key)      -> DORA/s
#   2. etcd x1:  server 1 in cluster mode, every ACK waits for its etcd commit    -> DORA/s,
#                transactions, leases per transaction (mean, max), commit time
#   3. etcd xN:  N servers in cluster mode sharing the clients by RFC 3074 bucket -> DORA/s,
#                the same per server, conflicts between servers
#   4. take-over: kill -9 of server N during 3's load; time until the survivors own every
#                bucket (read from their status every 50 ms)
# With --steps "R1 R2 ...", each of 1-3 is run at R1, R2, ... (ascending) until perfdhcp sees
# >= 1 % drops: the last rate under 1 % is that mode's ceiling on this machine.
# The dataplanes share one CPU with -I (idle sleep), perfdhcp runs on the other: the figures
# compare the modes on this machine, they are not a server's ceiling (perfdhcp's own is about
# 5-6k DORA/s on 2 cores: docs/PERFORMANCE.md).
# Usage (root): BUILD_DIR=build perf/cluster-bench.sh [--servers N] [--rate R] [--secs S]
#                                                     [--steps "R1 R2 ..."]
set -euo pipefail
N=3 RATE=800 SECS=10 STEPS=""
while [ $# -gt 0 ]; do
	case $1 in
	--servers) N=$2; shift ;;
	--rate) RATE=$2; shift ;;
	--secs) SECS=$2; shift ;;
	--steps) STEPS=$2; shift ;;
	*) echo "usage: $0 [--servers N] [--rate R] [--secs S] [--steps \"R1 R2 ...\"]" >&2; exit 2 ;;
	esac
	shift
done
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/cluster/clu-lib.sh"
clu_init
clu_up "$N" 3
clu_etcd_start 3

# perf_run NAME: perfdhcp for SECS s; prints "NAME rate drops%" (drops: the larger "drops
# ratio" of perfdhcp's two exchanges, DISCOVER-OFFER and REQUEST-ACK; 100 when it printed none)
perf_run() {
	local r=${2:-$RATE} log=$CLU_WORK/perf.$1.${2:-$RATE}.log rate drops
	sb_in "${P}cl" timeout $((SECS + 15)) taskset -c 0 perfdhcp -4 -l "${P}c0" -r "$r" \
		-R 3000 -p "$SECS" all >"$log" 2>&1 || true
	rate=$(awk '/^Rate:/ { print $2; exit }' "$log")
	drops=$(awk 'BEGIN { m = 0 } /drops ratio:/ { v = $3 + 0; if (v > m) m = v; n++ }
		END { if (n < 2) print 100; else print m }' "$log")
	echo "$1 $r ${rate:-0} ${drops:-?}"
}
# perf_steps NAME: perf_run at RATE, or at each of STEPS until drops >= 1 % (one line each)
perf_steps() {
	local r l
	for r in ${STEPS:-$RATE}; do
		l=$(perf_run "$1" "$r")
		echo "$l"
		sb_log "  $l"
		# shellcheck disable=SC2086
		awk -v d="$(set -- $l; echo "$4")" 'BEGIN { exit !(d < 1) }' || break
		sleep 1
	done
}
commits() { # server i: txns committed batch_max commit_us_avg txn_conflicts refused_in_use
	clu_status "$1" | "$CLU_PY" -c 'import json,sys
c = json.load(sys.stdin)["arguments"]["cluster"]["leases"]
print(c["txns"], c["committed"], c["batch_max"], c["commit_us_avg"], c["txn_conflicts"], c["refused_in_use"])'
}
# buckets_ready I..J: wait until servers I..J answer all 256 buckets between them (a server
# that has just registered owns none until it has read the live set)
buckets_ready() {
	local i tot
	for _ in $(seq 100); do
		tot=0
		for ((i = $1; i <= $2; i++)); do tot=$((tot + $(clu_cl "$i" "['buckets_owned']" || echo 0))); done
		[ "$tot" = 256 ] && return 0
		sleep 0.1
	done
	sb_log "warning: servers $1..$2 own $tot of 256 buckets"
}
stop_server() {
	sb_stop "dp$1" 10
	sb_stop "ctl$1" 5
	rm -rf "$CLU_WORK/s$1/state"
}

OUT=()
clu_config 1 local
clu_server_start 1
mapfile -t -O "${#OUT[@]}" OUT < <(perf_steps local)
stop_server 1

clu_config 1
clu_server_start 1
buckets_ready 1 1
mapfile -t -O "${#OUT[@]}" OUT < <(perf_steps etcd_x1)
C1=$(commits 1)
stop_server 1
clu_etcdctl del --prefix /stormboot/leases/ >/dev/null

for ((i = 1; i <= N; i++)); do clu_config "$i"; done
for ((i = 1; i <= N; i++)); do clu_server_start "$i"; done
sb_wait_for 10 sh -c "[ \"\$(STORMBOOT_SOCKET='$CLU_WORK/s1/control.sock' '$CLU_CTL' --json status | '$CLU_PY' -c 'import json,sys; print(len(json.load(sys.stdin)[\"arguments\"][\"cluster\"][\"servers\"]))')\" = $N ]" || true
buckets_ready 1 "$N"
mapfile -t -O "${#OUT[@]}" OUT < <(perf_steps "etcd_x$N")
declare -a CN
for ((i = 1; i <= N; i++)); do CN+=("$(commits "$i")"); done

# take-over: a load in the background, kill -9 of server N, survivors polled
sb_in "${P}cl" timeout $((SECS + 15)) perfdhcp -4 -l "${P}c0" -r "$RATE" -R 3000 -p "$SECS" all \
	>"$CLU_WORK/perf.takeover.log" 2>&1 &
PERF=$!
sleep 2
t0=$(date +%s%3N)
clu_server_kill "$N"
took=-1
for _ in $(seq 200); do
	tot=0
	for ((i = 1; i < N; i++)); do tot=$((tot + $(clu_cl "$i" "['buckets_owned']" || echo 0))); done
	if [ "$tot" = 256 ]; then took=$(($(date +%s%3N) - t0)); break; fi
	sleep 0.05
done
wait "$PERF" || true

echo
echo "cluster-bench: $N servers, 3 etcd members, perfdhcp -r ${STEPS:-$RATE} for $SECS s each (3000 random MACs), $(date -Is)"
printf '%-10s %8s %10s %8s\n' mode asked DORA/s 'drops %'
for l in "${OUT[@]}"; do
	# shellcheck disable=SC2086
	set -- $l
	printf '%-10s %8s %10s %8s\n' "$1" "$2" "$3" "$4"
done
echo
echo "etcd commits (txns, leases committed, largest txn, mean txn us, txns with a failed compare, leases refused: another MAC's)"
read -r t c m u x r <<<"$C1"
printf '  etcd_x1 s1: %s txns, %s leases, %.1f per txn (max %s), %s us per txn, %s conflicts, %s refused\n' \
	"$t" "$c" "$("$CLU_PY" -c "print($c / max($t, 1))")" "$m" "$u" "$x" "$r"
for ((i = 1; i <= N; i++)); do
	read -r t c m u x r <<<"${CN[$((i - 1))]}"
	printf '  etcd_x%s s%s: %s txns, %s leases, %.1f per txn (max %s), %s us per txn, %s conflicts, %s refused\n' \
		"$N" "$i" "$t" "$c" "$("$CLU_PY" -c "print($c / max($t, 1))")" "$m" "$u" "$x" "$r"
done
echo "take-over after kill -9 of s$N: $took ms until the survivors owned all 256 buckets (lease_ttl_s $CLU_TTL)"
