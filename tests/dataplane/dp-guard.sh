#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-guard.sh - the "guard" config section reaches the XDP program when the dataplane starts
# and stops floods before the dataplane: two clients behind a bridge,
#   client 1 (02:5b:00:00:01:01) is on guard.mac_deny: udhcpc gets no lease and its TFTP
#     request no answer; the XDP counter drop_mac_deny moves, the dataplane sees nothing;
#   client 2 is limited by guard.dhcp_rate (1/s, burst 4): udhcpc gets its lease (DISCOVER +
#     REQUEST fit the burst), then 30 DISCOVERs sent at once with scapy: at most a handful
#     reach the dataplane, the rest are dropped (drop_rate_dhcp).
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-guard.sh     (SB_PREFIX default "xgd")
set -euo pipefail

export SB_PREFIX=${SB_PREFIX:-xgd}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init
sb_need_cmd busybox
"$DP_PY" -c 'import scapy.all' 2>/dev/null || sb_fail "$DP_PY has no scapy (apt-get install python3-scapy)"
XDP_DUMP=$BUILD_DIR/bpf/xdp_dump
[ -x "$XDP_DUMP" ] || sb_fail "no $XDP_DUMP (build first)"
DENIED=02:5b:00:00:01:01 # lab.sh: client 1

dp_image undionly.kpxe 65536
dp_config '{"guard": {"mac_deny": ["'$DENIED'"], "dhcp_rate": {"per_second": 1, "burst": 4}}}'
dp_lab_up --clients 2
dp_start

xdp_get() { sb_in "$SB_NS_SRV" "$XDP_DUMP" "$SB_IF_SRV" | awk -v k="$1" '$1 == k { print $2 }'; }
NS_CLI2=${SB_PREFIX}cli2

# --- client 1: denied
dp_snap /stormboot/stats "$DP_WORK/s.1"
sb_in "$SB_NS_CLI" timeout 30 busybox udhcpc -i "$SB_IF_CLI" -n -q -t 3 -T 1 -s /bin/true \
	>"$DP_WORK/udhcpc.1" 2>&1 || true
sb_check "denied client: no lease" sh -c "! grep -q 'obtained' '$DP_WORK/udhcpc.1'"
sb_in "$SB_NS_CLI" ip addr add 198.18.0.250/24 dev "$SB_IF_CLI"
sb_in "$SB_NS_CLI" timeout 10 busybox tftp -g -r undionly.kpxe -l /dev/null "$DP_SRV" \
	>"$DP_WORK/tftp.1" 2>&1 || true
denied=$(xdp_get drop_mac_deny)
sb_check "XDP dropped its DISCOVERs and its TFTP request (drop_mac_deny $denied)" test "$denied" -ge 4
eval "$(dp_deltas "$DP_WORK/s.1" /stormboot/stats | grep -E '^d_(rx_dhcp|rx_tftp_req)=')"
sb_check "the dataplane saw none of them (rx_dhcp +$d_rx_dhcp, rx_tftp_req +$d_rx_tftp_req)" \
	test "$d_rx_dhcp" = 0 -a "$d_rx_tftp_req" = 0

# --- client 2: rate-limited, but a normal client gets its lease
sb_in "$NS_CLI2" timeout 30 busybox udhcpc -i "$SB_IF_CLI" -n -q -t 5 -T 2 -s /bin/true \
	>"$DP_WORK/udhcpc.2" 2>&1 || true
sb_check "rate-limited client: lease obtained" grep -q "lease of 198.18.0.1[0-9][0-9] obtained" "$DP_WORK/udhcpc.2"
sleep 4 # the bucket fills up again (1/s, burst 4)
limited0=$(xdp_get drop_rate_dhcp)
dp_snap /stormboot/stats "$DP_WORK/s.2"
sb_in "$NS_CLI2" timeout 30 "$DP_PY" - "$SB_IF_CLI" <<'PY' >"$DP_WORK/flood.log" 2>&1 || true
import sys
from scapy.all import Ether, IP, UDP, BOOTP, DHCP, sendp, get_if_hwaddr
ifc = sys.argv[1]
mac = get_if_hwaddr(ifc)
chaddr = bytes.fromhex(mac.replace(":", ""))
p = Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") / \
    UDP(sport=68, dport=67) / BOOTP(chaddr=chaddr, xid=0x5b5b, flags=0x8000) / \
    DHCP(options=[("message-type", "discover"), "end"])
sendp([p] * 30, iface=ifc, verbose=False)
print("sent 30")
PY
sleep 1
limited=$(($(xdp_get drop_rate_dhcp) - limited0))
d_rx_dhcp=$(dp_delta "$DP_WORK/s.2" /stormboot/stats rx_dhcp)
sb_log "30 DISCOVERs at once: $limited dropped in XDP, $d_rx_dhcp reached the dataplane"
sb_check "scapy sent the flood" grep -q '^sent 30' "$DP_WORK/flood.log"
sb_check "XDP dropped most of it (drop_rate_dhcp +$limited)" test "$limited" -ge 24
sb_check "the burst got through (rx_dhcp +$d_rx_dhcp, 4..6)" test "$d_rx_dhcp" -ge 4 -a "$d_rx_dhcp" -le 6
sb_check "dataplane still running" sb_alive dataplane
sb_summary
