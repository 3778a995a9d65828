#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ctl-restrict.sh - per-client image lists and pinned digests where images are served
# (issue 15, items 3 and 4), with real clients: stormboot-control (HTTP boot on
# 198.18.0.1:8080, in the server namespace) + stormboot-dataplane (-C) in the lab.
#   config: the subnet 198.18.0.0/24 allows "undionly.kpxe" and "allowed*"; the reservation of
#   client 2's MAC allows "secret.img" only.
#   1. TFTP (curl): client 1 gets allowed.img; secret.img is ERROR 2 access violation (curl exit
#      69) and counted as tftp_image_forbidden; client 2 gets secret.img, not allowed.img;
#   2. HTTP: client 1 gets allowed.img (200), secret.img is 403 and counted (http-status);
#   3. a pinned SHA-256 that the file does not have: the dataplane refuses to start, naming
#      the image and both digests.
#
# Usage (root): BUILD_DIR=build tests/control/ctl-restrict.sh     (SB_PREFIX default "crs")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-crs}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../ops/ops-lib.sh"
ops_init
sb_need_cmd curl
CTL=$OPS_CTL
CLI2_MAC=02:5b:00:00:01:02 # lab.sh: the second client namespace
NS_CLI2=${SB_PREFIX}cli2

dp_image undionly.kpxe 65536
dp_image allowed.img 30000
dp_image secret.img 20000
dp_config '{"dhcp": {"mode": "full", "boot": {"bios": "undionly.kpxe"}, "subnets": [
	{"network": "198.18.0.0/24", "pool": {"start": "198.18.0.100", "end": "198.18.0.199"},
	 "router": "198.18.0.1", "lease_time": 600,
	 "images_allowed": ["undionly.kpxe", "allowed*"]}],
	"reservations": [{"mac": "'$CLI2_MAC'", "images_allowed": ["secret.img"]}]},
	"http": {"listen": "198.18.0.1:8080"}}'
ops_up --clients 2 --tx-csum-off
sb_in "$SB_NS_CLI" ip addr add 198.18.0.10/24 dev "$SB_IF_CLI"
sb_in "$NS_CLI2" ip addr add 198.18.0.11/24 dev "$SB_IF_CLI"


tftp_get() { # NS NAME OUT: curl's exit code
	local rc=0
	sb_in "$1" timeout 20 curl -sS -o "$3" "tftp://$DP_SRV/$2" >"$3.log" 2>&1 || rc=$?
	echo "$rc"
}
mkdir -p "$DP_WORK/dl"

# --- 1. TFTP in the dataplane
dp_snap /stormboot/stats "$DP_WORK/s.1"
rc=$(tftp_get "$SB_NS_CLI" allowed.img "$DP_WORK/dl/a1")
sb_check "client 1 (subnet list): allowed.img downloaded (curl $rc)" \
	cmp -s "$DP_WORK/img/allowed.img" "$DP_WORK/dl/a1"
rc=$(tftp_get "$SB_NS_CLI" secret.img "$DP_WORK/dl/s1")
sb_log "client 1, secret.img: curl exit $rc: $(head -c 200 "$DP_WORK/dl/s1.log")"
# curl: 69 = CURLE_TFTP_PERM, the server's ERROR 2 (access violation)
sb_check "client 1: secret.img refused with ERROR 2 access violation (curl exit 69)" test "$rc" = 69
rc=$(tftp_get "$NS_CLI2" secret.img "$DP_WORK/dl/s2")
sb_check "client 2 (its reservation's list): secret.img downloaded (curl $rc)" \
	cmp -s "$DP_WORK/img/secret.img" "$DP_WORK/dl/s2"
rc=$(tftp_get "$NS_CLI2" allowed.img "$DP_WORK/dl/a2")
sb_check "client 2: allowed.img refused (the reservation's list decides; curl $rc)" test "$rc" = 69
rc=$(tftp_get "$SB_NS_CLI" nosuch.img "$DP_WORK/dl/n1")
sb_check "a name not in the catalog is still ERROR 1 file not found (curl $rc)" test "$rc" = 68
d=$(dp_delta "$DP_WORK/s.1" /stormboot/stats drop_tftp_image_forbidden)
sb_check "tftp_image_forbidden counted the two refusals (+$d)" test "$d" -ge 2

# --- 2. HTTP in control
code() { sb_in "$SB_NS_CLI" curl -s -o /dev/null -w '%{http_code}' "http://$DP_SRV:8080/$1"; }
sb_check "HTTP: client 1 gets allowed.img (200)" test "$(code allowed.img)" = 200
sb_check "HTTP: client 1 gets secret.img: 403" test "$(code secret.img)" = 403
sb_check "... counted in http-status" \
	test "$("$CTL" --json http-status | "$DP_PY" -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["counters"]["images_forbidden"])')" -ge 1

# --- 3. a pinned digest the file does not have: the dataplane refuses to start
sb_stop dataplane 10
want=0000000000000000000000000000000000000000000000000000000000000000
have=$(sha256sum "$DP_WORK/img/secret.img" | cut -d' ' -f1)
"$DP_PY" - "$DP_CFG" "$DP_WORK/pinned.json" "$want" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
for im in cfg["images"]:
    if im["name"] == "secret.img":
        im["sha256"] = sys.argv[3]
json.dump(cfg, open(sys.argv[2], "w"), indent=2)
PY
rc=0
sb_in "$SB_NS_SRV" sh -c "mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec timeout 60 '$DP_BIN' -- -c '$DP_WORK/pinned.json' -x '$DP_XDP' -l $DP_LCORE" \
	>"$DP_WORK/pinned.log" 2>&1 || rc=$?
sb_log "dataplane with a wrong pin: exit $rc: $(grep -i sha-256 "$DP_WORK/pinned.log" | head -2)"
sb_check "the dataplane refuses to start (exit $rc)" test "$rc" != 0 -a "$rc" != 124
sb_check "... naming the image and both digests" \
	grep -q "image \"secret.img\": SHA-256 of .*secret.img is $have, but the config pins $want" "$DP_WORK/pinned.log"
sb_check "control still running" sb_alive control
sb_stop control 5
sb_summary
