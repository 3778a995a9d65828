#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ctl-doctor.sh - `stormbootctl doctor` (issue 18, item 3): each check broken in the lab and
# diagnosed. stormboot-control + stormboot-dataplane (-C) in the lab, pool of 2 addresses.
#   0. all well: exit 0, no FAIL;
#   1. a boot file removed from disk: FAIL images naming the file (exit 1); removed from the
#      registry (image-del): FAIL boot files, the client asking for it gets ERROR 1 and `trace`
#      shows the refusal;
#   2. the pool full (two udhcpc clients): FAIL pools;
#   3. a client whose boot failed (TFTP of a missing name): FAIL clients naming its MAC and step;
#   4. dnsmasq with TFTP on this host: FAIL other servers naming dnsmasq and UDP 69; dnsmasq
#      as a DHCP server in another namespace of the segment: its replies, counted by the XDP
#      program (pass_dhcp_server_reply), reported under other servers;
#   5. the interface's MTU below tftp.mtu: FAIL mtu;
#   6. the dataplane stopped: FAIL dataplane, FAIL xdp (no program on the interface).
#
# Usage (root): BUILD_DIR=build tests/control/ctl-doctor.sh     (SB_PREFIX default "trd")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-trd}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../ops/ops-lib.sh"
ops_init
sb_need_cmd curl busybox dnsmasq
CTL=$OPS_CTL
OPS_STOP="dnsmasq dnsmasq2"

dp_image undionly.kpxe 65536
dp_image other.img 30000
dp_config '{"dhcp": {"subnets": [{"network": "198.18.0.0/24",
	"pool": {"start": "198.18.0.100", "end": "198.18.0.101"}, "router": "198.18.0.1",
	"lease_time": 600}]}}'
ops_up --clients 2 --tx-csum-off
NS_CLI2=${SB_PREFIX}cli2


N=0
doctor() { # the verdicts in $DP_WORK/doctor.N, the exit code in DRC
	N=$((N + 1))
	DRC=0
	sb_in "$SB_NS_SRV" "$CTL" doctor >"$DP_WORK/doctor.$N" 2>&1 || DRC=$?
	sed "s/^/    doctor.$N: /" "$DP_WORK/doctor.$N" >&2
}
has() { grep -Eq "$1" "$DP_WORK/doctor.$N"; }

# --- 0. all well
doctor
sb_check "all well: exit 0 ($DRC), no FAIL" sh -c "test $DRC = 0 && ! grep -q '^FAIL' '$DP_WORK/doctor.$N'"
sb_check "... config ok" has "^ok +config"
sb_check "... images ok" has "^ok +images +2 image"
sb_check "... XDP program attached" has "^ok +xdp +sb_xdp_steer .* attached to ${SB_PREFIX}0"
sb_check "... dataplane connected" has "^ok +dataplane +connected"

# --- 1. a boot file removed
mv "$DP_WORK/img/undionly.kpxe" "$DP_WORK/undionly.kpxe.away"
doctor
sb_check "boot file removed: exit 1, FAIL images naming it" sh -c \
	"test $DRC = 1 && grep -Eq '^FAIL +images +undionly.kpxe: .*undionly.kpxe: No such file or directory' '$DP_WORK/doctor.$N'"
sb_check "... with a hint" has "hint: put the file back at .*undionly.kpxe, or remove the image"
mv "$DP_WORK/undionly.kpxe.away" "$DP_WORK/img/undionly.kpxe"
# (the dataplane still serves the bytes it holds in hugepages; a restart would refuse to start)

# --- 1b. the boot file removed from the registry: clients get ERROR 1
"$CTL" image-del undionly.kpxe >/dev/null
doctor
sb_check "boot file no longer an image: FAIL boot files naming dhcp.boot.bios" \
	has '^FAIL +boot files +dhcp.boot.bios "undionly.kpxe" is not an image'
rc=0
sb_in "$SB_NS_CLI" ip addr add 198.18.0.10/24 dev "$SB_IF_CLI"
sb_in "$SB_NS_CLI" timeout 20 curl -sS -o "$DP_WORK/u" "tftp://$DP_SRV/undionly.kpxe" 2>/dev/null || rc=$?
sb_check "the client asking for it gets ERROR 1 (curl exit $rc)" test "$rc" = 68
"$CTL" trace "$SB_CLI_MAC" >"$DP_WORK/trace.1" 2>&1 || true
sed 's/^/    trace: /' "$DP_WORK/trace.1" >&2
sb_check "trace shows the request refused: TFTP not-found undionly.kpxe" \
	grep -Eq 'TFTP not-found +tftp-refused +undionly.kpxe' "$DP_WORK/trace.1"
sb_in "$SB_NS_CLI" ip addr flush dev "$SB_IF_CLI"

# --- 2. the pool full
for ns in "$SB_NS_CLI" "$NS_CLI2"; do
	sb_in "$ns" timeout 30 busybox udhcpc -i "$SB_IF_CLI" -n -q -t 5 -T 2 -s /bin/true \
		>/dev/null 2>&1 || true
done
doctor
sb_check "pool full: FAIL pools" has "^FAIL +pools +every address taken \(2 of 2\)"

# --- 3. a client whose boot failed
sb_in "$SB_NS_CLI" ip addr add 198.18.0.10/24 dev "$SB_IF_CLI"
sb_in "$SB_NS_CLI" timeout 20 curl -sS -o "$DP_WORK/n" "tftp://$DP_SRV/nosuch.img" 2>/dev/null || true
doctor
sb_check "failed client: FAIL clients naming its MAC and step" sh -c \
	"grep -Eq '^FAIL +clients +1 client\(s\) failed' '$DP_WORK/doctor.$N' && grep -Eq '$SB_CLI_MAC .*TFTP not-found nosuch.img' '$DP_WORK/doctor.$N'"

# --- 4. another TFTP server on this host
mkdir -p "$DP_WORK/tftproot"
sb_start dnsmasq "$SB_NS_SRV" dnsmasq --no-daemon --port=0 --enable-tftp \
	--tftp-root="$DP_WORK/tftproot" --interface=lo --bind-interfaces --pid-file= \
	--conf-file=/dev/null
sb_wait_for 5 sh -c "ip netns exec $SB_NS_SRV grep -q ':0045 ' /proc/net/udp" || true
doctor
sb_check "dnsmasq: FAIL other servers naming it and UDP 69" \
	has "^FAIL +other servers +dnsmasq \(pid [0-9]+\) holds UDP 69 \(TFTP\)"
sb_stop dnsmasq 5

# --- 4b. another DHCP server on the segment: dnsmasq in the second client's namespace
sb_in "$NS_CLI2" ip addr add 198.18.0.12/24 dev "$SB_IF_CLI"
sb_start dnsmasq2 "$NS_CLI2" dnsmasq --no-daemon --port=0 --interface="$SB_IF_CLI" \
	--bind-interfaces --dhcp-range=198.18.0.150,198.18.0.160,600 --pid-file= \
	--conf-file=/dev/null --dhcp-leasefile="$DP_WORK/dnsmasq2.leases"
sleep 1
sb_in "$SB_NS_CLI" ip addr flush dev "$SB_IF_CLI"
sb_in "$SB_NS_CLI" timeout 15 busybox udhcpc -i "$SB_IF_CLI" -B -n -q -t 3 -T 1 -s /bin/true \
	>/dev/null 2>&1 || true
# dnsmasq's OFFER may come after udhcpc gave up (it pings the address first): ask again, bounded
for _ in 1 2 3 4 5 6 7 8 9 10; do
	doctor
	has "^(warn|FAIL) +other servers +[0-9]+ DHCP reply\(ies\) of another server" && break
	sleep 1
done
sb_check "dnsmasq answering DHCP on the segment: its replies seen by XDP (other servers)" \
	has "^(warn|FAIL) +other servers +[0-9]+ DHCP reply\(ies\) of another server"
sb_stop dnsmasq2 5

# --- 5. MTU below tftp.mtu
sb_in "$SB_NS_SRV" ip link set dev "${SB_PREFIX}0" mtu 1400
doctor
sb_check "MTU 1400 < tftp.mtu 1500: FAIL mtu" has "^FAIL +mtu +tftp.mtu 1500 is above ${SB_PREFIX}0's MTU 1400"
sb_in "$SB_NS_SRV" ip link set dev "${SB_PREFIX}0" mtu 1500

# --- 6. the dataplane stopped
sb_stop dataplane 10
sb_wait_for 10 sh -c "! \"$CTL\" status | grep -q 'dataplane.connected *yes'" || true
doctor
sb_check "dataplane stopped: exit 1, FAIL dataplane and FAIL xdp" sh -c \
	"test $DRC = 1 && grep -Eq '^FAIL +dataplane +not connected' '$DP_WORK/doctor.$N' && grep -Eq '^FAIL +xdp +no XDP program attached to ${SB_PREFIX}0' '$DP_WORK/doctor.$N'"
sb_stop control 5
sb_summary
