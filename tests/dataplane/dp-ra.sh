#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-ra.sh - "ipv6_ra": a real IPv6 client (rdisc6 from ndisc6, and the client's own
# kernel) sends router solicitations into the lab; the XDP program steers them to the
# dataplane, which answers with a router advertisement that configures nothing
# (router lifetime 0, M=O=0, no prefix) from its EUI-64 link-local address.
# Solicitations that RFC 4861 says to discard get no answer: a bad checksum or an
# option of length 0 is counted under its drop reason by the dataplane; one from
# another link (hop limit 64) or with code 1 is left to the kernel by XDP. DHCP keeps
# working beside it.
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-ra.sh     (SB_PREFIX default "dpt")
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init
sb_need_cmd rdisc6 busybox
"$DP_PY" -c 'import scapy.all' 2>/dev/null || sb_fail "$DP_PY has no scapy (apt-get install python3-scapy)"

dp_image undionly.kpxe 65536
dp_config '{"ipv6_ra": true}'
dp_lab_up
# the client needs IPv6 (a link-local address) to solicit from
sb_in "$SB_NS_CLI" sysctl -qw "net.ipv6.conf.$SB_IF_CLI.disable_ipv6=0"
dp_start
dp_snap /stormboot/stats "$DP_WORK/s.before"

# the server's link-local address, from its MAC (modified EUI-64, RFC 4291)
ll=$("$DP_PY" -c 'import sys, ipaddress
m = [int(x, 16) for x in sys.argv[1].split(":")]
b = bytes([0xfe, 0x80] + [0] * 6 + [m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]])
print(ipaddress.IPv6Address(b))' "$SB_SRV_MAC")
sb_log "server MAC $SB_SRV_MAC, link-local $ll"
# wait for the client's link-local address to leave DAD
sb_wait_for 10 sh -c "ip -n '$SB_NS_CLI' -6 addr show dev '$SB_IF_CLI' scope link | grep -q 'inet6' &&
	! ip -n '$SB_NS_CLI' -6 addr show dev '$SB_IF_CLI' | grep -q tentative" ||
	sb_fail "no IPv6 link-local address on the client"

# --- rdisc6: one solicitation, the advertisement decoded by a real client
dp_in_cli timeout 20 rdisc6 -1 -r 3 -w 2000 "$SB_IF_CLI" >"$DP_WORK/rdisc6.out" 2>&1 || true
sb_log "rdisc6: $(tr -s ' \n' ' ' <"$DP_WORK/rdisc6.out" | cut -c1-300)"
sb_check "rdisc6 got a router advertisement from $ll" grep -q "from $ll" "$DP_WORK/rdisc6.out"
sb_check "router lifetime 0: not a default router" \
	grep -Eq 'Router lifetime *: *0 \(0x00000000\)' "$DP_WORK/rdisc6.out"
sb_check "M flag clear: no DHCPv6 addresses" grep -Eq 'Stateful address conf\. *: *No' "$DP_WORK/rdisc6.out"
sb_check "O flag clear: no DHCPv6 options" grep -Eq 'Stateful other conf\. *: *No' "$DP_WORK/rdisc6.out"
sb_check "no prefix announced" sh -c "! grep -q Prefix '$DP_WORK/rdisc6.out'"
sb_check "source link-layer address is the server's MAC" grep -qi "Source link-layer address: *$SB_SRV_MAC" \
	"$DP_WORK/rdisc6.out"
sb_check "the client kernel installed no default route from it" \
	sh -c "! ip -n '$SB_NS_CLI' -6 route show default | grep -q ."

# --- solicitations to discard, and one from off-link
dp_snap /stormboot/stats "$DP_WORK/s.mid"
dp_in_cli timeout 60 "$DP_PY" - "$SB_IF_CLI" <<'PY' >"$DP_WORK/bad.log" 2>&1 || true
import sys
from scapy.all import Ether, IPv6, ICMPv6ND_RS, ICMPv6NDOptSrcLLAddr, sendp, get_if_hwaddr
ifc = sys.argv[1]
mac = get_if_hwaddr(ifc)
def rs(hlim=255, code=0, cksum=None, optlen=1):
    icmp = ICMPv6ND_RS(code=code) if cksum is None else ICMPv6ND_RS(code=code, cksum=cksum)
    return Ether(src=mac, dst="33:33:00:00:00:02") / \
        IPv6(src="fe80::1", dst="ff02::2", hlim=hlim) / icmp / \
        ICMPv6NDOptSrcLLAddr(len=optlen, lladdr=mac)
for _ in range(3):
    sendp(rs(cksum=0x1234), iface=ifc, verbose=False)   # bad checksum: dataplane drops
    sendp(rs(optlen=0), iface=ifc, verbose=False)       # option length 0: dataplane drops
    sendp(rs(hlim=64), iface=ifc, verbose=False)        # not from this link: XDP passes it
    sendp(rs(code=1), iface=ifc, verbose=False)         # code 1: XDP passes it
print("sent")
PY
sleep 1
eval "$(dp_deltas "$DP_WORK/s.mid" /stormboot/stats | grep -E '^d_(tx_ra|rx_ipv6|drop_rs_bad_checksum|drop_rs_invalid)=')"
sb_log "malformed: rx_ipv6 +$d_rx_ipv6 tx_ra +$d_tx_ra rs_bad_checksum +$d_drop_rs_bad_checksum rs_invalid +$d_drop_rs_invalid"
sb_check "scapy sent the bad solicitations" grep -q '^sent' "$DP_WORK/bad.log"
sb_check "3 bad checksums counted (rs_bad_checksum +$d_drop_rs_bad_checksum)" \
	test "$d_drop_rs_bad_checksum" = 3
sb_check "3 options of length 0 counted (rs_invalid +$d_drop_rs_invalid)" test "$d_drop_rs_invalid" = 3
sb_check "hop limit 64 and code 1 never reached the dataplane (rx_ipv6 +$d_rx_ipv6)" \
	test "$d_rx_ipv6" = 6
sb_check "no advertisement for any of them" test "$d_tx_ra" = 0

# --- DHCP beside it
sb_in "$SB_NS_CLI" timeout 30 busybox udhcpc -i "$SB_IF_CLI" -n -q -t 5 -T 2 -s /bin/true \
	>"$DP_WORK/udhcpc.log" 2>&1
sb_check "udhcpc still gets a lease" grep -q "lease of 198.18.0.1[0-9][0-9] obtained" "$DP_WORK/udhcpc.log"
eval "$(dp_deltas "$DP_WORK/s.before" /stormboot/stats | grep -E '^d_tx_ra=')"
sb_check "advertisements sent in all: $d_tx_ra (rdisc6's solicitation at least)" test "$d_tx_ra" -ge 1
sb_check "dataplane still running" sb_alive dataplane
sb_summary
