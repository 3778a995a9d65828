#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ops-tftp-root.sh - "tftp_root" (issue 18, item 8): stormboot-control with tftp_root (no images
# listed but one) + the dataplane in the lab; tftp-hpa in the client namespace:
#   1. a file under the root (and one in a subdirectory) is served by its path below the root;
#   2. a file added is served within seconds (control's inotify, a new config generation), and
#      the dataplane reads only that file (image_cache_reads +1, the others are cache hits);
#   3. a file changed in place is served with its new bytes;
#   4. a file removed is TFTP ERROR 1 (file not found);
#   5. the config file on disk never gets the found files.
#
# Usage (root): BUILD_DIR=build tests/ops/ops-tftp-root.sh     (SB_PREFIX default "mer")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-mer}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ops-lib.sh"
ops_init
sb_need_cmd tftp
R=$DP_WORK/root
mkdir -p "$R/pxelinux.cfg" "$DP_WORK/dl"
head -c 500000 /dev/urandom >"$R/big.img"
echo "DEFAULT linux" >"$R/pxelinux.cfg/default"
dp_image undionly.kpxe 65536
dp_config '{"tftp_root": "'"$R"'"}'
cp "$DP_CFG" "$DP_WORK/config.before"
dp_lab_up --tx-csum-off
sb_in "$SB_NS_CLI" ip addr add 198.18.0.10/24 dev "$SB_IF_CLI"
# control, then the dataplane (as ops_up, with the lab above)
sb_start control "$SB_NS_SRV" "$OPS_CTLD" -f -c "$DP_CFG" -s "$OPS_RUN/control.sock" -d "$DP_WORK/state"
sb_wait_for 10 "$OPS_CTL" status >/dev/null 2>&1 || sb_fail "control did not start"
sb_start dataplane "$SB_NS_SRV" sh -c \
	"mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec nice -n -10 '$DP_BIN' -- -c '$DP_CFG' -x '$DP_XDP' -l $DP_LCORE -C '$OPS_RUN/dataplane.sock'"
sb_wait_for 40 grep -q "serving " "$SB_RUN/dataplane.log" || sb_fail "dataplane did not come up"
sb_wait_for 15 sh -c "\"$OPS_CTL\" status | grep -q 'dataplane.connected *yes'" || sb_fail "dataplane not connected"
sb_log "dataplane: $(grep -o 'tftp_root .*' "$SB_RUN/dataplane.log" | head -1)"

get() { ops_tftp "$SB_NS_CLI" "$1" "$DP_WORK/dl/$2"; }
# served NAME FILE: the client gets NAME with FILE's bytes (retried: a change takes a moment)
served() {
	local i
	for ((i = 0; i < 20; i++)); do
		get "$1" out >/dev/null
		cmp -s "$2" "$DP_WORK/dl/out" && return 0
		sleep 0.5
	done
	return 1
}
gone() {
	local i
	for ((i = 0; i < 20; i++)); do
		rm -f "$DP_WORK/dl/gone"
		get "$1" gone >/dev/null
		grep -qi "not found" "$DP_WORK/dl/gone.log" && return 0
		sleep 0.5
	done
	return 1
}

# --- 1. what was there at start
sb_check "big.img served from tftp_root" served big.img "$R/big.img"
sb_check "pxelinux.cfg/default: a file in a subdirectory, named by its path" served pxelinux.cfg/default "$R/pxelinux.cfg/default"
sb_check "undionly.kpxe (listed in images) still served" served undionly.kpxe "$DP_WORK/img/undionly.kpxe"

# --- 2. a file added
stat_reads() { ops_ctl --json stats | "$DP_PY" -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["dataplane"]["image_cache_reads"])'; }
reads0=$(stat_reads)
gen0=$(ops_ctl --json status | "$DP_PY" -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["config"]["generation"])')
head -c 70000 /dev/urandom >"$R/new.img.part"
mv "$R/new.img.part" "$R/new.img" # as a copy tool does: write aside, rename into place
sb_check "new.img added: served within 10 s" served new.img "$R/new.img"
reads1=$(stat_reads)
gen1=$(ops_ctl --json status | "$DP_PY" -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["config"]["generation"])')
sb_log "config generation $gen0 -> $gen1, dataplane image_cache_reads $reads0 -> $reads1"
sb_check "one new config generation for the new file" test "$gen1" -gt "$gen0"
sb_check "the dataplane read only the new file (image_cache_reads +$((reads1 - reads0)))" test $((reads1 - reads0)) = 1
sb_check "image-list shows it, from tftp_root" sh -c "'$OPS_CTL' image-list | grep -q '^new.img '"

# --- 3. a file changed in place
head -c 90000 /dev/urandom >"$DP_WORK/new2"
cat "$DP_WORK/new2" >"$R/new.img"
sb_check "new.img changed in place: its new bytes are served" served new.img "$R/new.img"
reads2=$(stat_reads)
sb_check "... and only it was read again (+$((reads2 - reads1)))" test $((reads2 - reads1)) = 1

# --- 4. a file removed
rm "$R/new.img"
sb_check "new.img removed: TFTP ERROR 1 (file not found)" gone new.img
sb_check "big.img still served" served big.img "$R/big.img"

# --- 5. the config file keeps tftp_root, not the files
sb_check "the config file on disk has no found file" sh -c "! grep -q from_tftp_root '$DP_CFG'"
from_root=$(ops_ctl --json config-get | "$DP_PY" -c 'import json,sys; print(" ".join(sorted(i["name"] for i in json.load(sys.stdin)["arguments"]["images"] if i.get("from_tftp_root"))))')
sb_check "config-get shows the found files as from_tftp_root ($from_root)" test "$from_root" = "big.img pxelinux.cfg/default"
sb_log "control: $(grep -c 'tftp_root: configuration generation' "$SB_RUN/control.log") tftp_root changes logged"
sb_summary
