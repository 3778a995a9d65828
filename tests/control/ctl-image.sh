#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ctl-image.sh - a change is in effect when the API says so (issue 13, item 3), with a real
# TFTP client. stormboot-control + stormboot-dataplane (-C) in the lab; while other downloads
# run (a paced one held open for the whole test, and a loop of full downloads), CTL_IMAGE_N
# times in a row (default 100):
#   1. `stormbootctl image-add imgK PATH` (a new file each time), then AT ONCE a TFTP
#      download of imgK: byte-identical;
#   2. `stormbootctl image-del imgK`, then AT ONCE a download of imgK: TFTP ERROR 1
#      (file not found).
# No sleep, no poll between the command and the download: the command's answer is the
# promise. Then every background download is byte-identical and the dataplane refused no
# snapshot.
#
# Usage (root): BUILD_DIR=build tests/control/ctl-image.sh     (SB_PREFIX default "cti")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-cti}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../ops/ops-lib.sh"
ops_init
sb_need_cmd curl
CTL=$OPS_CTL
N=${CTL_IMAGE_N:-100}

dp_image big.img $((4 * 1048576))
mkdir -p "$DP_WORK/new" "$DP_WORK/dl"
# image-add takes files from control.images_dirs only (docs/SECURITY.md)
dp_config '{"tftp": {"max_sessions": 256, "timeout_ms": 1000, "retries": 6},
	"control": {"images_dirs": ["'"$DP_WORK/new"'"]}}'
ops_up --tx-csum-off
sb_in "$SB_NS_CLI" ip addr add 198.18.0.10/24 dev "$SB_IF_CLI"

# The dataplane adopted control's first snapshot (its hello answer): from here on every
# change goes through the API.
sb_wait_for 10 grep -q "control: connected" "$SB_RUN/dataplane.log" || true

# Other downloads run throughout: one held open, and full ones one after the other.
dp_in_cli timeout 600 "$DP_PY" "$HERE/tftp-paced.py" $DP_SRV big.img "$DP_WORK/img/big.img" \
	"$DP_WORK/paced.go" >"$DP_WORK/paced.out" 2>&1 &
PACED=$!
cat >"$DP_WORK/loop.sh" <<'EOF'
#!/bin/bash
# Full downloads of big.img until STOP exists (at most 600 s); one line per download.
dir=$1 srv=$2 ref=$3 end=$((SECONDS + 600)) i=0
while [ ! -e "$dir/STOP" ] && [ $SECONDS -lt $end ]; do
	i=$((i + 1))
	timeout 60 curl -sS --tftp-blksize 1468 -o "$dir/bg" "tftp://$srv/big.img" 2>/dev/null
	rc=$?
	cmp -s "$ref" "$dir/bg" && same=1 || same=0
	echo "$i $rc $same" >>"$dir/bg.log"
done
EOF
chmod +x "$DP_WORK/loop.sh"
dp_in_cli "$DP_WORK/loop.sh" "$DP_WORK/dl" $DP_SRV "$DP_WORK/img/big.img" &
LOOP=$!

added_ok=0 gone_ok=0 first_fail=""
for ((k = 1; k <= N; k++)); do
	name=img$k.bin
	# A size that differs each time, so a stale image could never pass the comparison.
	head -c $((20000 + k * 997)) /dev/urandom >"$DP_WORK/new/$name"
	if ! out=$("$CTL" image-add "$name" "$DP_WORK/new/$name" 2>&1); then
		first_fail=${first_fail:-"image-add $name: $out"}
		continue
	fi
	rm -f "$DP_WORK/dl/$name"
	dp_in_cli timeout 20 curl -sS --tftp-blksize 1468 -o "$DP_WORK/dl/$name" \
		"tftp://$DP_SRV/$name" >"$DP_WORK/dl/$name.log" 2>&1 || true
	if cmp -s "$DP_WORK/new/$name" "$DP_WORK/dl/$name"; then
		added_ok=$((added_ok + 1))
	else
		first_fail=${first_fail:-"download of $name right after image-add ($out): $(head -c 200 "$DP_WORK/dl/$name.log")"}
	fi
	if ! out=$("$CTL" image-del "$name" 2>&1); then
		first_fail=${first_fail:-"image-del $name: $out"}
		continue
	fi
	rc=0
	dp_in_cli timeout 20 curl -sS -o "$DP_WORK/dl/$name.gone" "tftp://$DP_SRV/$name" \
		>"$DP_WORK/dl/$name.gone.log" 2>&1 || rc=$?
	# curl: 68 = CURLE_TFTP_NOTFOUND, the server's ERROR 1.
	if [ "$rc" = 68 ]; then
		gone_ok=$((gone_ok + 1))
	else
		first_fail=${first_fail:-"download of $name right after image-del ($out): curl exit $rc, $(head -c 200 "$DP_WORK/dl/$name.gone.log")"}
	fi
done
[ -z "$first_fail" ] || sb_log "first failure: $first_fail"
sb_check "$N times image-add then at once a byte-identical download (got $added_ok)" \
	test "$added_ok" = "$N"
sb_check "$N times image-del then at once ERROR 1 file not found (got $gone_ok)" \
	test "$gone_ok" = "$N"

touch "$DP_WORK/dl/STOP" "$DP_WORK/paced.go"
wait "$PACED" || true
wait "$LOOP" || true
sb_check "the download held open across all $((2 * N)) changes is byte-identical ($(cat "$DP_WORK/paced.out"))" \
	grep -q '^ok ' "$DP_WORK/paced.out"
bg_n=$(wc -l <"$DP_WORK/dl/bg.log" 2>/dev/null || echo 0)
bg_bad=$(awk '$2 != 0 || $3 != 1' "$DP_WORK/dl/bg.log" 2>/dev/null | wc -l)
sb_check "background downloads during the changes: $bg_n, all byte-identical (bad: $bg_bad)" \
	test "$bg_n" -gt 0 -a "$bg_bad" = 0
"$CTL" --json stats >"$DP_WORK/stats.json" || true
dp_stat() { "$DP_PY" -c "import json,sys; print(json.load(sys.stdin)['arguments']['dataplane']['$1'])" <"$DP_WORK/stats.json" 2>/dev/null || echo '?'; }
sb_log "dataplane: snapshots $(dp_stat snapshots), errors $(dp_stat snapshot_errors), freed $(dp_stat snapshots_freed)"
sb_check "the dataplane adopted all $((2 * N)) snapshots and refused none" \
	test "$(dp_stat snapshots)/$(dp_stat snapshot_errors)" = "$((2 * N))/0"
sb_check "dataplane still running" sb_alive dataplane
sb_check "control still running" sb_alive control
sb_stop dataplane 10
sb_stop control 5
sb_summary
