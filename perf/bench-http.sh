#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# bench-http.sh - the HTTP boot server of stormboot-control, by real clients (curl) from
# the lab's client namespace: large-file goodput (1 client; 8 in parallel) and small
# requests per second over keep-alive. Every large copy is compared with the original.
#
# Usage (root): perf/bench-http.sh [--runs N] [--size MIB] [--small N] [BUILD_DIR...]
#   Each BUILD_DIR (default SOURCE_DIR/build) is a build whose control/stormboot-control is
#   measured; several are measured interleaved, run by run, so that a neighbour's burst of
#   load does not hit one only (compare an old build with a new one in the same run).
#   --size   MiB of the large file (default 256); the parallel case fetches it 8 times
#   --small  requests of a 13-byte image on one keep-alive connection (default 2000)
#   --runs   runs per build (default 3); the medians are printed
#
# Prints a table and one "RESULT ..." line per figure. SB_PREFIX (default hbn) names the lab.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/.." && pwd)}
export SB_PREFIX=${SB_PREFIX:-hbn}
. "$SOURCE_DIR/tests/lab/lib.sh"

RUNS=3 SIZE_MIB=256 SMALL=2000 BUILDS=()
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift ;;
	--size) SIZE_MIB=$2; shift ;;
	--small) SMALL=$2; shift ;;
	-*) sed -n '7,13p' "$0" >&2; exit 2 ;;
	*) BUILDS+=("$1") ;;
	esac
	shift
done
[ ${#BUILDS[@]} -gt 0 ] || BUILDS=("$SOURCE_DIR/build")
[[ $RUNS =~ ^[1-9]$ ]] || sb_fail "--runs: 1..9"
[[ $SIZE_MIB =~ ^[1-9][0-9]{0,3}$ ]] || sb_fail "--size: MiB, 1..9999"
[[ $SMALL =~ ^[1-9][0-9]{0,4}$ ]] || sb_fail "--small: 1..99999"
sb_need_root
sb_need_cmd curl ip sha256sum
LAB=$SOURCE_DIR/tests/lab/lab.sh
W=$(mktemp -d /tmp/sb-bench-http.XXXXXX)
cleanup() {
	sb_stop ctl || true
	"$LAB" down >/dev/null 2>&1 || true
	rm -rf "$W"
}
trap cleanup EXIT
"$LAB" down >/dev/null 2>&1 || true
"$LAB" up --no-prepare >/dev/null
eval "$("$LAB" env)"
ip -n "$SB_NS_CLI" addr add 198.18.0.50/24 dev "$SB_IF_CLI"
cli() { ip netns exec "$SB_NS_CLI" "$@"; }
URL=http://$SB_SRV_ADDR:8080

head -c $((SIZE_MIB << 20)) /dev/urandom >"$W/big.img"
sum=$(sha256sum <"$W/big.img" | cut -d' ' -f1)
printf 'kernel bytes\n' >"$W/small"
cat >"$W/stormboot.json" <<EOC
{
  "interface": "$SB_IF_SRV",
  "server_ip": "$SB_SRV_ADDR",
  "dhcp": {"subnets": [{"network": "198.18.0.0/24",
                        "pool": {"start": "198.18.0.60", "end": "198.18.0.99"}}]},
  "http": {"listen": "$SB_SRV_ADDR:8080"},
  "images": [{"name": "big.img", "path": "$W/big.img"}, {"name": "small", "path": "$W/small"}]
}
EOC
for ((i = 0; i < SMALL; i++)); do echo "url = \"$URL/small\""; echo "output = /dev/null"; done >"$W/small.curl"
cat "$W/big.img" >/dev/null # in the page cache for everyone

secs() { awk -v ns=$(($2 - $1)) 'BEGIN { printf "%.3f\n", ns / 1e9 }'; }
# one_run BUILD: prints "one_s par8_s small_s"
one_run() {
	local b=$1 t0 t1 one par small pids="" i
	sb_start ctl "$SB_NS_SRV" "$b/control/stormboot-control" -c "$W/stormboot.json" \
		-s "$W/api.sock" -d "$W/state" -f
	sb_wait_for 10 cli curl -sf -o /dev/null "$URL/small" || sb_fail "$b: no HTTP"
	t0=$(date +%s%N)
	cli curl -sSf -o "$W/out" "$URL/big.img"
	t1=$(date +%s%N)
	one=$(secs "$t0" "$t1")
	[ "$(sha256sum <"$W/out" | cut -d' ' -f1)" = "$sum" ] || sb_fail "$b: copy differs"
	t0=$(date +%s%N)
	for i in 1 2 3 4 5 6 7 8; do
		cli curl -sSf -o "$W/out$i" "$URL/big.img" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || sb_fail "$b: a parallel GET failed"; done
	t1=$(date +%s%N)
	par=$(secs "$t0" "$t1")
	for i in 1 2 3 4 5 6 7 8; do
		[ "$(sha256sum <"$W/out$i" | cut -d' ' -f1)" = "$sum" ] || sb_fail "$b: copy $i differs"
		rm -f "$W/out$i"
	done
	t0=$(date +%s%N)
	cli curl -sSf -K "$W/small.curl"
	t1=$(date +%s%N)
	small=$(secs "$t0" "$t1")
	sb_stop ctl
	rm -rf "$W/state" "$W/out"
	echo "$one $par $small"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

: >"$W/runs"
for ((r = 1; r <= RUNS; r++)); do
	for b in "${BUILDS[@]}"; do
		sb_log "run $r/$RUNS: $b"
		echo "$b $(one_run "$b")" >>"$W/runs"
	done
done
echo
echo "HTTP boot server: ${SIZE_MIB} MiB random file and $SMALL small GETs, lab veth, curl"
printf '%-40s %12s %14s %14s\n' build "1 GET MiB/s" "8 GETs MiB/s" "small req/s"
for b in "${BUILDS[@]}"; do
	one=$(grep "^$b " "$W/runs" | awk '{ print $2 }' | median)
	par=$(grep "^$b " "$W/runs" | awk '{ print $3 }' | median)
	small=$(grep "^$b " "$W/runs" | awk '{ print $4 }' | median)
	o=$(awk -v s="$one" -v m="$SIZE_MIB" 'BEGIN { printf "%.1f", m / s }')
	p=$(awk -v s="$par" -v m="$SIZE_MIB" 'BEGIN { printf "%.1f", 8 * m / s }')
	q=$(awk -v s="$small" -v n="$SMALL" 'BEGIN { printf "%.0f", n / s }')
	printf '%-40s %12s %14s %14s\n' "$b" "$o" "$p" "$q"
	echo "RESULT http build=$b runs=$RUNS one_mib_s=$o par8_mib_s=$p small_req_s=$q" \
		"raw=\"$(grep "^$b " "$W/runs" | cut -d' ' -f2- | tr '\n' ';')\""
done
