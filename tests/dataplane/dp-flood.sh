#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-flood.sh - a DHCP flood does not keep a real client from its lease (issue 15 item 4,
# the lab part). Two client namespaces on one bridge (lab.sh --clients 2): the first floods
# DHCPDISCOVERs for ~10 s from a raw socket (tests/dataplane/dp-discover.py, as fast as one
# CPU sends them, bounded in time and count) into a pool of 50 addresses; meanwhile a real
# busybox udhcpc in the second asks for a lease. Twice: DISCOVERs from random MACs (every one
# takes an offer: the pool is full of offers within milliseconds, dhcp.offer_reuse makes the
# oldest one again), then all from one MAC.
# Checked each time: udhcpc is bound to a pool address before the flood ends; the pool never
# reported exhaustion (drop_dhcp_pool_exhausted stays 0) and udhcpc saw no NAK; the flood
# reached the dataplane (and what it could not take is counted: xsk_*, drops).
#
# The flood is sent to the server's MAC, not to the Ethernet broadcast address: a broadcast
# flood reaches every port of the bridge, and busybox udhcpc (no socket filter in this build)
# reads each of those frames in user space, about as fast as one CPU sends them; its socket
# buffer overflows and it loses the server's OFFER, which did reach its interface (tcpdump
# shows it). Broadcast storms on a segment are the switch's to stop (storm control), not the
# DHCP server's; what is under test here is the server.
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-flood.sh     (SB_PREFIX default "dpf")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-dpf}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init
sb_need_cmd busybox
FLOOD_SECS=${FLOOD_SECS:-10}
FLOOD_MAX=${FLOOD_MAX:-3000000}

dp_image undionly.kpxe 65536
dp_config '{"dhcp": {"subnets": [{"network": "198.18.0.0/24",
	"pool": {"start": "198.18.0.100", "end": "198.18.0.149"},
	"router": "198.18.0.1", "lease_time": 600}]}}'
dp_lab_up --clients 2 --tx-csum-off
NS_FLOOD=$SB_NS_CLI
NS_REAL=${SB_NS_CLIENTS#* }
dp_start

cat >"$DP_WORK/udhcpc.script" <<'EOS'
#!/bin/sh
case "$1" in
bound | renew) echo "ip=$ip serverid=$serverid lease=$lease" >"$LEASE_OUT" ;;
esac
exit 0
EOS
chmod +x "$DP_WORK/udhcpc.script"

flood() { # NAME MACS
	local name=$1 macs=$2 t0 t1 lease ip flood_pid alive
	dp_snap /stormboot/stats "$DP_WORK/s.$name"
	sb_log "$name: flood of DISCOVERs ($macs MACs) from $NS_FLOOD for $FLOOD_SECS s"
	ip netns exec "$NS_FLOOD" taskset -c "$DP_CLI_CPUS" timeout $((FLOOD_SECS + 20)) \
		"$DP_PY" "$HERE/dp-discover.py" "$SB_IF_CLI" --count "$FLOOD_MAX" \
		--seconds "$FLOOD_SECS" --macs "$macs" --seed "${#name}" --dst "$SB_SRV_MAC" \
		>"$DP_WORK/flood.$name" 2>&1 &
	flood_pid=$!
	sleep 2
	t0=$(date +%s.%N)
	rm -f "$DP_WORK/lease.$name"
	# -R: release on exit, so the next round asks for an address again
	ip netns exec "$NS_REAL" env LEASE_OUT="$DP_WORK/lease.$name" timeout 20 busybox udhcpc \
		-i "$SB_IF_CLI" -n -q -R -t 6 -T 1 -s "$DP_WORK/udhcpc.script" \
		>"$DP_WORK/udhcpc.$name" 2>&1 || true
	t1=$(date +%s.%N)
	alive=no
	kill -0 "$flood_pid" 2>/dev/null && alive=yes
	wait "$flood_pid" || true
	lease=$(cat "$DP_WORK/lease.$name" 2>/dev/null || echo "no lease")
	ip=$(sed -n 's/^ip=\([0-9.]*\) .*/\1/p' "$DP_WORK/lease.$name" 2>/dev/null || true)
	eval "$(dp_deltas "$DP_WORK/s.$name" /stormboot/stats | grep -E '^d_(rx_dhcp|tx_dhcp|drop_dhcp_pool_exhausted|xsk_rx_ring_full|xsk_rx_dropped|drop_tx_full|drop_no_mbuf|busy_ns)=')"
	sb_log "$name: flooder: $(cat "$DP_WORK/flood.$name"); udhcpc: $lease after $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s ($(tr '\n' ' ' <"$DP_WORK/udhcpc.$name" | cut -c1-200))"
	sb_log "$name: dataplane rx_dhcp +$d_rx_dhcp, tx_dhcp +$d_tx_dhcp, drop_dhcp_pool_exhausted +$d_drop_dhcp_pool_exhausted, xsk_rx_ring_full +$d_xsk_rx_ring_full, xsk_rx_dropped +$d_xsk_rx_dropped, tx_full +$d_drop_tx_full, no_mbuf +$d_drop_no_mbuf, busy $((d_busy_ns / 1000000)) ms"
	sb_check "$name: the real client is bound to a pool address ($lease)" \
		sh -c "echo '$ip' | grep -Eq '^198\.18\.0\.1([0-3][0-9]|4[0-9])$'"
	sb_check "$name: ... while the flood was still running" test "$alive" = yes
	sb_check "$name: the pool never reported exhaustion (drop_dhcp_pool_exhausted +$d_drop_dhcp_pool_exhausted)" \
		test "$d_drop_dhcp_pool_exhausted" = 0
	sb_check "$name: udhcpc saw no NAK" sh -c "! grep -qi nak '$DP_WORK/udhcpc.$name'"
	sb_check "$name: the flood reached the dataplane (rx_dhcp +$d_rx_dhcp > 10000)" \
		test "$d_rx_dhcp" -gt 10000
}

flood random random
flood one-mac one
sb_check "dataplane still running" sb_alive dataplane
sb_summary
