#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-ra-auto.sh - "ipv6_ra": "auto" (the default): the dataplane answers IPv6 router
# solicitations only while no other router advertises on the segment. The XDP program
# watches router advertisements (always passed to the kernel) and, while another router
# is live, leaves solicitations to the kernel (XDP counter pass_rs_foreign_router).
#   1. no other router: rdisc6 gets our advertisement (router lifetime 0);
#   2. a foreign router advertises (scapy, lifetime 1800, from the client namespace):
#      the next solicitation gets no answer from us, rdisc6 times out, the XDP counter
#      moves and the dataplane sees no solicitation;
#   3. the foreign router leaves (an advertisement with lifetime 0): we answer again.
# DHCP keeps working throughout.
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-ra-auto.sh     (SB_PREFIX default "xgd")
set -euo pipefail

export SB_PREFIX=${SB_PREFIX:-xgd}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init
sb_need_cmd rdisc6 busybox
"$DP_PY" -c 'import scapy.all' 2>/dev/null || sb_fail "$DP_PY has no scapy (apt-get install python3-scapy)"
XDP_DUMP=$BUILD_DIR/bpf/xdp_dump
[ -x "$XDP_DUMP" ] || sb_fail "no $XDP_DUMP (build first)"
ROUTER_MAC=02:5b:00:00:0f:01 # the foreign router's

dp_image undionly.kpxe 65536
dp_config '{}' # no "ipv6_ra": the default is "auto"
dp_lab_up
sb_in "$SB_NS_CLI" sysctl -qw "net.ipv6.conf.$SB_IF_CLI.disable_ipv6=0"
dp_start

# xdp_get NAME: an XDP counter (or "settings" line field) of the program on the server veth
xdp_get() { sb_in "$SB_NS_SRV" "$XDP_DUMP" "$SB_IF_SRV" | awk -v k="$1" '$1 == k { print $2 }'; }
xdp_dump() { sb_in "$SB_NS_SRV" "$XDP_DUMP" "$SB_IF_SRV"; }
# xdp_has_router "lifetime L count N live 0|1": the program's record of the foreign router
xdp_has_router() { xdp_dump | grep -q "^router vlan 0.0 mac $ROUTER_MAC $1\$"; }

flags=$(xdp_dump | awk '$1 == "settings" { print $3 }')
mask=$(xdp_dump | awk '$1 == "settings" { print $5 }')
sb_log "XDP settings: flags $flags port_mask $mask"
sb_check "XDP: router solicitations steered (port_mask $mask has bit 3)" test $((mask & 8)) = 8
sb_check "XDP: in auto mode (flags $flags has bit 2)" test $((flags & 4)) = 4

ll=$("$DP_PY" -c 'import sys, ipaddress
m = [int(x, 16) for x in sys.argv[1].split(":")]
b = bytes([0xfe, 0x80] + [0] * 6 + [m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]])
print(ipaddress.IPv6Address(b))' "$SB_SRV_MAC")
sb_log "server MAC $SB_SRV_MAC, link-local $ll"
sb_wait_for 10 sh -c "ip -n '$SB_NS_CLI' -6 addr show dev '$SB_IF_CLI' scope link | grep -q 'inet6' &&
	! ip -n '$SB_NS_CLI' -6 addr show dev '$SB_IF_CLI' | grep -q tentative" ||
	sb_fail "no IPv6 link-local address on the client"

# rdisc6_try FILE: one solicitation round (2 tries, 1.5 s each); rdisc6's output in FILE
rdisc6_try() { dp_in_cli timeout 20 rdisc6 -1 -r 2 -w 1500 "$SB_IF_CLI" >"$1" 2>&1 || true; }

# foreign_ra LIFETIME: one advertisement from "another router" into the segment
foreign_ra() {
	dp_in_cli timeout 30 "$DP_PY" - "$SB_IF_CLI" "$ROUTER_MAC" "$1" <<'PY' >>"$DP_WORK/ra.log" 2>&1
import sys
from scapy.all import Ether, IPv6, ICMPv6ND_RA, ICMPv6NDOptSrcLLAddr, sendp
ifc, mac, life = sys.argv[1], sys.argv[2], int(sys.argv[3])
sendp(Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src="fe80::5b:ff:fe00:f01", dst="ff02::1", hlim=255) /
      ICMPv6ND_RA(routerlifetime=life) / ICMPv6NDOptSrcLLAddr(lladdr=mac), iface=ifc, verbose=False)
print("sent", life)
PY
}

# --- 1. nobody else advertises: we answer
dp_snap /stormboot/stats "$DP_WORK/s.1"
rdisc6_try "$DP_WORK/rdisc6.1"
sb_log "rdisc6 (no router): $(tr -s ' \n' ' ' <"$DP_WORK/rdisc6.1" | cut -c1-200)"
sb_check "1: rdisc6 got our advertisement from $ll" grep -q "from $ll" "$DP_WORK/rdisc6.1"
sb_check "1: router lifetime 0" grep -Eq 'Router lifetime *: *0 \(0x00000000\)' "$DP_WORK/rdisc6.1"
d_tx_ra=$(dp_delta "$DP_WORK/s.1" /stormboot/stats tx_ra)
sb_check "1: the dataplane sent it (tx_ra +$d_tx_ra)" test "$d_tx_ra" -ge 1

# --- 2. a foreign router (lifetime 1800): its RA is recorded, solicitations go to the kernel
foreign0=$(xdp_get pass_ra_foreign)
foreign_ra 1800
sb_check "2: scapy sent the foreign advertisement" grep -q '^sent 1800' "$DP_WORK/ra.log"
sb_wait_for 5 xdp_has_router "lifetime 1800 count 1 live 1" || true
xdp_dump | grep '^router' >&2 || true
sb_check "2: XDP recorded the router, live" xdp_has_router "lifetime 1800 count 1 live 1"
sb_check "2: the advertisement was counted pass_ra_foreign" test "$(xdp_get pass_ra_foreign)" -gt "$foreign0"
rs_passed0=$(xdp_get pass_rs_foreign_router)
dp_snap /stormboot/stats "$DP_WORK/s.2"
rdisc6_try "$DP_WORK/rdisc6.2"
sb_log "rdisc6 (foreign router live): $(tr -s ' \n' ' ' <"$DP_WORK/rdisc6.2" | cut -c1-200)"
sb_check "2: no advertisement from us" sh -c "! grep -q 'from $ll' '$DP_WORK/rdisc6.2'"
sb_check "2: rdisc6 timed out" grep -qi 'no response' "$DP_WORK/rdisc6.2"
rs_passed=$(($(xdp_get pass_rs_foreign_router) - rs_passed0))
sb_check "2: XDP passed the solicitations to the kernel (pass_rs_foreign_router +$rs_passed)" \
	test "$rs_passed" -ge 2
eval "$(dp_deltas "$DP_WORK/s.2" /stormboot/stats | grep -E '^d_(tx_ra|rx_ipv6)=')"
sb_check "2: the dataplane saw none (rx_ipv6 +$d_rx_ipv6) and sent none (tx_ra +$d_tx_ra)" \
	test "$d_rx_ipv6" = 0 -a "$d_tx_ra" = 0

# --- DHCP meanwhile
sb_in "$SB_NS_CLI" timeout 30 busybox udhcpc -i "$SB_IF_CLI" -n -q -t 5 -T 2 -s /bin/true \
	>"$DP_WORK/udhcpc.log" 2>&1 || true
sb_check "udhcpc gets a lease while the foreign router is live" \
	grep -q "lease of 198.18.0.1[0-9][0-9] obtained" "$DP_WORK/udhcpc.log"

# --- 3. the foreign router leaves (lifetime 0): we answer again
foreign_ra 0
sb_check "3: scapy sent the leaving advertisement" grep -q '^sent 0$' "$DP_WORK/ra.log"
sb_wait_for 5 xdp_has_router "lifetime 0 count 2 live 0" || true
sb_check "3: XDP recorded that it left" xdp_has_router "lifetime 0 count 2 live 0"
dp_snap /stormboot/stats "$DP_WORK/s.3"
rdisc6_try "$DP_WORK/rdisc6.3"
sb_log "rdisc6 (router left): $(tr -s ' \n' ' ' <"$DP_WORK/rdisc6.3" | cut -c1-200)"
sb_check "3: rdisc6 gets our advertisement again" grep -q "from $ll" "$DP_WORK/rdisc6.3"
d_tx_ra=$(dp_delta "$DP_WORK/s.3" /stormboot/stats tx_ra)
sb_check "3: the dataplane sent it (tx_ra +$d_tx_ra)" test "$d_tx_ra" -ge 1
sb_check "dataplane still running" sb_alive dataplane
sb_summary
