#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-probe.sh - conflict detection before an OFFER (issue 15 item 9, dhcp.conflict_probe_ms):
# a host squatting on a pool address (configured by hand, its kernel answering ARP) must not
# have that address handed to a DHCP client as well.
#
# Two client namespaces on one bridge (lab.sh --clients 2). Round 1, probing off (the
# default): busybox udhcpc in the second namespace gets address X and releases it. X is then
# configured statically on the first namespace's interface: the squatter. Round 2, the
# dataplane restarted with "conflict_probe_ms": 300: the same udhcpc (same MAC, same fresh
# pool, which would offer X first again) must get another pool address, and the counters
# show the probe that found X in use (dhcp_probe_conflicts, the XDP program's
# redirected_arp_probe) and the one that found the next address free (dhcp_probes_clear).
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-probe.sh      (SB_PREFIX default "dpc")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-dpc}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init
sb_need_cmd busybox

dp_image undionly.kpxe 4096
POOL='"subnets": [{"network": "198.18.0.0/24",
	"pool": {"start": "198.18.0.100", "end": "198.18.0.109"},
	"router": "198.18.0.1", "lease_time": 600}]'
dp_config "{\"dhcp\": {$POOL}}"
dp_lab_up --clients 2 --tx-csum-off
NS_SQUAT=$SB_NS_CLI
NS_REAL=${SB_NS_CLIENTS#* }
dp_start

cat >"$DP_WORK/udhcpc.script" <<'EOS'
#!/bin/sh
case "$1" in
bound | renew) echo "$ip" >"$LEASE_OUT" ;;
esac
exit 0
EOS
chmod +x "$DP_WORK/udhcpc.script"

lease() { # NAME: udhcpc in NS_REAL, the bound address in $DP_WORK/lease.NAME
	rm -f "$DP_WORK/lease.$1"
	# -R: release on exit, so the next round asks for an address again
	ip netns exec "$NS_REAL" env LEASE_OUT="$DP_WORK/lease.$1" timeout 30 busybox udhcpc \
		-i "$SB_IF_CLI" -n -q -R -t 8 -T 2 -s "$DP_WORK/udhcpc.script" \
		>"$DP_WORK/udhcpc.$1" 2>&1 || true
	cat "$DP_WORK/lease.$1" 2>/dev/null || echo none
}

# Round 1: no probe; which address does this client get first?
X=$(lease off)
sb_log "probing off: udhcpc got $X"
sb_check "probing off: udhcpc got a pool address ($X)" \
	sh -c "echo '$X' | grep -Eq '^198\.18\.0\.10[0-9]$'"
[ "$X" != none ] || { sb_summary; exit 1; }

# The squatter: X by hand, its kernel answers ARP for it.
ip -n "$NS_SQUAT" addr add "$X/24" dev "$SB_IF_CLI"
SQ_MAC=$(ip -n "$NS_SQUAT" -o link show "$SB_IF_CLI" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)

# Round 2: the dataplane again, now probing.
sb_stop dataplane 10
dp_config "{\"dhcp\": {$POOL, \"conflict_probe_ms\": 300}}"
dp_start
sb_check "the log says probing is on" grep -q "dhcp.conflict_probe_ms 300" "$SB_RUN/dataplane.log"
dp_snap /stormboot/stats "$DP_WORK/s0"
xdp_arp() { ip netns exec "$SB_NS_SRV" "$BUILD_DIR/bpf/xdp_dump" "$SB_IF_SRV" 2>/dev/null | sed -n "s/^redirected_arp_probe //p"; }
xdp0=$(xdp_arp)
Y=$(lease on)
eval "$(dp_deltas "$DP_WORK/s0" /stormboot/stats | grep -E '^d_(dhcp_probes_sent|dhcp_probes_clear|dhcp_probe_conflicts|drop_arp_probe_reply_ignored|drop_dhcp_probe_table_full|tx_dhcp|rx_arp)=')"
sb_log "probing on: udhcpc got $Y; probes sent +$d_dhcp_probes_sent, clear +$d_dhcp_probes_clear, conflicts +$d_dhcp_probe_conflicts, replies ignored +$d_drop_arp_probe_reply_ignored, rx_arp +$d_rx_arp"
sb_check "probing on: udhcpc got a pool address ($Y)" \
	sh -c "echo '$Y' | grep -Eq '^198\.18\.0\.10[0-9]$'"
sb_check "... not the squatter's $X" test "$Y" != "$X"
sb_check "one conflict counted (dhcp_probe_conflicts +$d_dhcp_probe_conflicts)" \
	test "$d_dhcp_probe_conflicts" = 1
xdp1=$(xdp_arp)
sb_check "the XDP program steered the squatter's reply (redirected_arp_probe $xdp0 -> $xdp1)" \
	test "${xdp1:-0}" -gt "${xdp0:-0}"
sb_check "the probe reply reached the dataplane (rx_arp +$d_rx_arp)" test "$d_rx_arp" -ge 1
sb_check "the next address was probed and found free (dhcp_probes_clear +$d_dhcp_probes_clear)" \
	test "$d_dhcp_probes_clear" -ge 1
sb_check "probes sent = conflicts + clear + still pending 0 ($d_dhcp_probes_sent)" \
	test "$d_dhcp_probes_sent" = $((d_dhcp_probe_conflicts + d_dhcp_probes_clear))
sb_check "the log names the address in use and the squatter's MAC ($SQ_MAC)" \
	grep -q "$X is in use by $SQ_MAC" "$SB_RUN/dataplane.log"
sb_check "the squatter still has $X" sh -c "ip -n '$NS_SQUAT' -4 addr show dev '$SB_IF_CLI' | grep -q 'inet $X/'"
sb_check "dataplane still running" sb_alive dataplane
sb_summary
