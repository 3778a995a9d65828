#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ctl-reload.sh - live reconfiguration under load (issue 6, item 6), with real clients.
# stormboot-control + stormboot-dataplane (-C) in the lab; 64 TFTP downloads of an 8 MiB
# image (curl and tftp-hpa, half each; plus one paced download, tftp-paced.py, that
# stays open until the reconfiguration is over) run from the client namespace while the test
#   1. rewrites the config file (lease_time 600 -> 900, a DNS server and a domain for the
#      subnet, tftp.mtu 9000 and blksize_max 8192, a new image) and runs
#      `stormbootctl config-reload`,
#   2. `stormbootctl reservation-add` for the second client's MAC,
#   3. `stormbootctl image-add` of another new image,
# each one applied by the dataplane (a new RCU snapshot) while the transfers go on, and
#   4. a reload that changes tftp.transfer_ports: the dataplane refuses it naming the field
#      and keeps serving; the reload fails with that reason and control keeps the running
#      generation (the file put back is that config: unchanged).
# Then: all 64 downloads complete byte-identical; busybox udhcpc with the reserved MAC
# gets the reserved address with the new lease time and DNS server; both new images
# download over TFTP byte-identical, also when the client asks for 8192-byte blocks (the
# 1500-byte veth still limits them); the 3 replaced snapshots are freed while the paced
# transfer that began under the first one is still open (it holds its image, not its
# config), and the reloads read only the images that were new (image_cache_reads); the
# dataplane refused no snapshot and is still running.
#
# Usage (root): BUILD_DIR=build tests/control/ctl-reload.sh     (SB_PREFIX default "ctr")
# Env: CTL_RELOAD_N (64 downloads), CTL_RELOAD_MIB (8)
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-ctr}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../dataplane/dp-lib.sh"
dp_init
sb_need_cmd curl tftp busybox
CTLD=$BUILD_DIR/control/stormboot-control
CTL=$BUILD_DIR/control/stormbootctl
RUN=$DP_WORK/run
export STORMBOOT_SOCKET=$RUN/control.sock
N=${CTL_RELOAD_N:-64}
MIB=${CTL_RELOAD_MIB:-8}
RESV_MAC=02:5b:00:00:01:02 # lab.sh: MAC of the second client namespace
RESV_IP=198.18.0.60

dp_image undionly.kpxe 65536
dp_image big.img $((MIB * 1048576))
mkdir -p "$DP_WORK/new"
head -c 1500000 /dev/urandom >"$DP_WORK/new/reload.img" # added by config-reload
head -c 700001 /dev/urandom >"$DP_WORK/new/added.img"   # added by image-add
# image-add takes files from control.images_dirs only (docs/SECURITY.md); 64 downloads from one
# client address: no per-client cap (tftp.max_sessions_per_client 0)
dp_config '{"tftp": {"max_sessions": 512, "max_sessions_per_client": 0, "timeout_ms": 1000,
	"retries": 6}, "control": {"images_dirs": ["'"$DP_WORK/new"'"]}}'
cp "$DP_CFG" "$DP_WORK/stormboot.orig.json"
dp_lab_up --clients 2 --tx-csum-off
sb_in "$SB_NS_CLI" ip addr add 198.18.0.10/24 dev "$SB_IF_CLI"

ctl_status() { # PY-EXPR over the status reply's arguments (a)
	"$CTL" --json status | "$DP_PY" -c "import json,sys; a=json.load(sys.stdin)['arguments']; print($1)"
}
# wait_gen GEN: the dataplane acknowledged config generation GEN (or later) without error
wait_gen() {
	local i g
	for ((i = 0; i < 100; i++)); do
		g=$(ctl_status "a['dataplane'].get('config_generation', 0)" 2>/dev/null || echo 0)
		[ "${g:-0}" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
active() { "$CTL" --json sessions | "$DP_PY" -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["tftp_sessions_active"])'; }

sb_start control "" "$CTLD" -f -c "$DP_CFG" -s "$RUN/control.sock" -d "$DP_WORK/state"
sb_wait_for 10 "$CTL" status >/dev/null 2>&1 || sb_fail "control did not start"
sb_start dataplane "$SB_NS_SRV" sh -c \
	"mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec '$DP_BIN' -- -c '$DP_CFG' -x '$DP_XDP' -l $DP_LCORE -C '$RUN/dataplane.sock'"
sb_wait_for 30 grep -q "serving " "$SB_RUN/dataplane.log" || {
	cat "$SB_RUN/dataplane.log" >&2
	sb_fail "dataplane did not come up"
}
sb_wait_for 10 sh -c "\"$CTL\" status | grep -q 'dataplane.connected *yes'" ||
	sb_fail "dataplane did not connect to control"
sb_assert "client reaches the server's kernel" \
	sb_wait_for 5 sb_in "$SB_NS_CLI" busybox ping -q -c 1 -W 1 $DP_SRV
GEN0=$(ctl_status "a['config']['generation']")
sb_log "control up (config generation $GEN0), dataplane connected"

# One shell in the client namespace starts all N clients, then waits for each one.
cat >"$DP_WORK/parallel.sh" <<'EOF'
#!/bin/bash
dir=$1 n=$2 srv=$3
pids=()
for ((i = 1; i <= n; i++)); do
	if ((i % 2)); then
		timeout 240 curl -sS --tftp-blksize 1468 -o "$dir/f$i" "tftp://$srv/big.img" \
			>"$dir/f$i.log" 2>&1 &
	else
		(cd "$dir" && exec timeout 240 tftp -m binary "$srv" -c get big.img "f$i") \
			>"$dir/f$i.log" 2>&1 &
	fi
	pids[i]=$!
done
for ((i = 1; i <= n; i++)); do
	wait "${pids[i]}"
	echo "$i $?" >>"$dir/rc"
done
EOF
chmod +x "$DP_WORK/parallel.sh"
mkdir -p "$DP_WORK/dl"
# One more download that ACKs slowly until the reconfiguration is over, so that a transfer is
# certainly in progress across it, however fast the host finishes the N others.
dp_in_cli timeout 600 "$DP_PY" "$HERE/tftp-paced.py" $DP_SRV big.img "$DP_WORK/img/big.img" \
	"$DP_WORK/paced.go" >"$DP_WORK/paced.out" 2>&1 &
PACED=$!
dp_in_cli timeout 300 "$DP_WORK/parallel.sh" "$DP_WORK/dl" "$N" $DP_SRV &
PAR=$!
sb_wait_for 20 sh -c "[ \"\$(\"$CTL\" --json sessions | \"$DP_PY\" -c 'import json,sys; print(json.load(sys.stdin)[\"arguments\"][\"tftp_sessions_active\"])')\" -ge $((N / 2)) ]" ||
	sb_log "WARNING: fewer than $((N / 2)) sessions seen active"
lat_max() { "$CTL" --json latency | "$DP_PY" -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["latency_max_ns"] // 1000000)' 2>/dev/null || echo '?'; }
A0=$(active)
sb_log "$A0 TFTP sessions active, latency max so far $(lat_max) ms: reconfiguring"

# 1. a changed file: new lease time, DNS and domain for the subnet, one more image
"$DP_PY" - "$DP_CFG" "$DP_WORK/new/reload.img" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
s = cfg["dhcp"]["subnets"][0]
s["lease_time"] = 900
s["dns"] = ["198.18.0.53"]
s["domain"] = "reload.test"
# jumbo limits in the file: the dataplane must still clamp blocks to the port's MTU and mbufs
cfg["tftp"]["mtu"] = 9000
cfg["tftp"]["blksize_max"] = 8192
cfg["images"].append({"name": "reload.img", "path": sys.argv[2]})
json.dump(cfg, open(sys.argv[1] + ".tmp", "w"), indent=2)
PY
mv "$DP_CFG.tmp" "$DP_CFG"
sb_check "config-reload of the changed file" "$CTL" config-reload
GEN1=$(ctl_status "a['config']['generation']")
sb_check "dataplane applied generation $GEN1 (reload)" wait_gen "$GEN1"
A1=$(active)
# 2. a reservation for the second client
sb_check "reservation-add $RESV_MAC $RESV_IP" "$CTL" reservation-add $RESV_MAC $RESV_IP --hostname resv1
GEN2=$(ctl_status "a['config']['generation']")
sb_check "dataplane applied generation $GEN2 (reservation)" wait_gen "$GEN2"
# 3. an image through the API
sb_check "image-add added.img" "$CTL" image-add added.img "$DP_WORK/new/added.img"
GEN3=$(ctl_status "a['config']['generation']")
sb_check "dataplane applied generation $GEN3 (image)" wait_gen "$GEN3"
# 4. a change the running dataplane cannot take: refused with the field's name, running
#    config kept, transfers untouched; the file put back is the running config again
cp "$DP_CFG" "$DP_WORK/cfg.good"
"$DP_PY" - "$DP_CFG" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["tftp"]["transfer_ports"] = {"first": 51000, "last": 51999}
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
PY
#    (control answers once the dataplane replied: the reload fails with the dataplane's reason
#    and control keeps running what the dataplane runs)
rc=0
out=$("$CTL" config-reload 2>&1) || rc=$?
GEN4=$(ctl_status "a['config']['generation']")
sb_check "the dataplane refused the reload (exit $rc), naming tftp.transfer_ports" \
	sh -c 'test "$1" = 1 && printf "%s" "$2" | grep -q "tftp.transfer_ports: changing it needs a dataplane restart"' \
	_ "$rc" "$out"
sb_check "control kept generation $GEN3 (running: $GEN4)" test "$GEN4" = "$GEN3"
cp "$DP_WORK/cfg.good" "$DP_CFG"
sb_check "the file put back is the running config: unchanged" \
	sh -c '"$1" config-reload | grep -q "configuration unchanged"' _ "$CTL"
A3=$(active)
sb_log "latency max after the reconfiguration $(lat_max) ms"
sb_log "generations $GEN0 -> $GEN1 -> $GEN2 -> $GEN3; sessions active: $A0 before, $A1 after the reload, $A3 after image-add"
sb_check "the reconfiguration ran while transfers were in progress ($A3 active after the last one)" \
	test "$A3" -gt 0
dpstat() { "$CTL" --json stats | "$DP_PY" -c "import json,sys; print(json.load(sys.stdin)['arguments']['dataplane'].get('$1', '?'))" 2>/dev/null || echo '?'; }
sb_check "the paced download is still open" kill -0 "$PACED"
sb_check "the 3 replaced snapshots were freed while it is open ($(dpstat snapshots_freed))" \
	sb_wait_for 5 sh -c "[ \"\$(\"$CTL\" --json stats | \"$DP_PY\" -c 'import json,sys; print(json.load(sys.stdin)[\"arguments\"][\"dataplane\"][\"snapshots_freed\"])')\" = 3 ]"
sb_check "the reloads read only the new images: 2 at start, reload.img, added.img (image_cache_reads $(dpstat image_cache_reads))" \
	test "$(dpstat image_cache_reads)" = 4
touch "$DP_WORK/paced.go"
wait "$PACED" || true
sb_check "the download held open across every reconfiguration is byte-identical ($(cat "$DP_WORK/paced.out"))" \
	grep -q '^ok ' "$DP_WORK/paced.out"
sb_check "control and the dataplane run the same generation" \
	test "$(ctl_status "a['config']['generation']")" = "$(ctl_status "a['dataplane']['config_generation']")"

wait "$PAR" || true
ok_rc=$(awk '$2 == 0' "$DP_WORK/dl/rc" 2>/dev/null | wc -l)
sb_check "$N clients exited 0 (got $ok_rc; failures: $(awk '$2 != 0 { printf "f%s=%s ", $1, $2 }' "$DP_WORK/dl/rc" | head -c 200))" \
	test "$ok_rc" = "$N"
same=0
for ((i = 1; i <= N; i++)); do
	cmp -s "$DP_WORK/img/big.img" "$DP_WORK/dl/f$i" && same=$((same + 1))
done
sb_check "$N downloads byte-identical (got $same)" test "$same" = "$N"

# The reservation and the new subnet options reach a real client.
cat >"$DP_WORK/udhcpc.script" <<'EOF'
#!/bin/sh
case "$1" in
bound | renew)
	echo "ip=$ip lease=$lease dns=$dns domain=$domain boot_file=$boot_file" >"$LEASE_OUT"
	;;
esac
exit 0
EOF
chmod +x "$DP_WORK/udhcpc.script"
sb_in "${SB_PREFIX}cli2" env LEASE_OUT="$DP_WORK/udhcpc.lease" timeout 30 busybox udhcpc \
	-i "$SB_IF_CLI" -n -q -t 5 -T 2 -s "$DP_WORK/udhcpc.script" >"$DP_WORK/udhcpc.log" 2>&1 || true
sb_log "udhcpc ($RESV_MAC): $(cat "$DP_WORK/udhcpc.lease" 2>/dev/null || echo 'no lease'; tail -n 2 "$DP_WORK/udhcpc.log")"
sb_check "udhcpc with the reserved MAC gets $RESV_IP, lease 900, DNS 198.18.0.53, domain reload.test" \
	grep -Eq "^ip=${RESV_IP//./\\.} lease=900 dns=198\.18\.0\.53 domain=reload\.test " "$DP_WORK/udhcpc.lease"
sb_check "the lease is in control's store" sh -c "\"$CTL\" lease-get $RESV_MAC | grep -q $RESV_IP"

for img in reload.img added.img; do
	rm -f "$DP_WORK/dl/$img"
	dp_in_cli timeout 60 curl -sS --tftp-blksize 1468 -o "$DP_WORK/dl/$img" \
		"tftp://$DP_SRV/$img" >"$DP_WORK/dl/$img.log" 2>&1 || true
	sb_check "new image $img downloads byte-identical" cmp -s "$DP_WORK/new/$img" "$DP_WORK/dl/$img"
done
rm -f "$DP_WORK/dl/jumbo"
dp_in_cli timeout 60 curl -sS --tftp-blksize 8192 -o "$DP_WORK/dl/jumbo" \
	"tftp://$DP_SRV/reload.img" >"$DP_WORK/dl/jumbo.log" 2>&1 || true
sb_check "blksize 8192 asked, blocks clamped to the link: reload.img byte-identical" \
	cmp -s "$DP_WORK/new/reload.img" "$DP_WORK/dl/jumbo"
rm -f "$DP_WORK/dl/big.again"
dp_in_cli timeout 60 curl -sS --tftp-blksize 1468 -o "$DP_WORK/dl/big.again" \
	"tftp://$DP_SRV/big.img" >/dev/null 2>&1 || true
sb_check "big.img still downloads from the new snapshot" cmp -s "$DP_WORK/img/big.img" "$DP_WORK/dl/big.again"

"$CTL" --json stats >"$DP_WORK/stats.json" || true
drop() { "$DP_PY" -c "import json,sys; print(json.load(sys.stdin)['arguments']['dataplane'].get('drop_$1', 0))" <"$DP_WORK/stats.json" 2>/dev/null || echo '?'; }
sb_check "no reply too big for its mbuf (drop reply_too_big: $(drop reply_too_big))" test "$(drop reply_too_big)" = 0
dur() { "$DP_PY" -c "import json,sys; print(json.load(sys.stdin)['arguments']['dataplane']['$1'])" <"$DP_WORK/stats.json" 2>/dev/null || echo '?'; }
sb_log "dataplane: snapshots $(dur snapshots), snapshot_errors $(dur snapshot_errors)"
sb_check "dataplane applied 3 snapshots, refused 1" test "$(dur snapshots)/$(dur snapshot_errors)" = 3/1
sb_check "still 3 replaced snapshots freed ($(dur snapshots_freed))" test "$(dur snapshots_freed)" = 3
sb_check "4 images in the cache, none freed (no file changed): $(dur image_cache_images)/$(dur image_cache_freed)" \
	test "$(dur image_cache_images)/$(dur image_cache_freed)" = 4/0
sb_check "no TFTP session left open" sb_wait_for 5 sh -c "[ \"\$(\"$CTL\" --json sessions | \"$DP_PY\" -c 'import json,sys; print(json.load(sys.stdin)[\"arguments\"][\"tftp_sessions_active\"])')\" = 0 ]"
sb_check "config file written back with the reservation and the image" \
	"$DP_PY" -c "import json,sys; c=json.load(open('$DP_CFG')); assert any(r['mac']=='$RESV_MAC' for r in c['dhcp']['reservations']); assert any(i['name']=='added.img' for i in c['images'])"
sb_check "dataplane still running" sb_alive dataplane
sb_check "control still running" sb_alive control
grep -E "control: (config|retired)" "$SB_RUN/dataplane.log" >&2 || true
sb_stop dataplane 10
sb_stop control 5
sb_summary
