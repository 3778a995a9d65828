#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-rings.sh - every lost frame is counted (issue 15 item 3). The dataplane is stopped
# (SIGSTOP) while the client namespace sends N DHCPDISCOVERs (a bounded raw-socket loop,
# tests/dataplane/dp-discover.py); the kernel keeps steering them to the AF_XDP socket, whose
# rx ring fills and overflows; then SIGCONT. The loss must show in the socket's own counters
# (getsockopt XDP_STATISTICS: xsk0_rx_ring_full / xsk0_rx_dropped, summed as xsk_*), and the
# books must balance: frames sent = frames the dataplane received (rx_dhcp) + the sockets'
# drops + what the client's veth could not hand to the server's (its TX dropped), and the
# server veth's own count of XDP drops (its RX dropped) agrees with the sockets'. The same
# numbers in telemetry and in the exit report.
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-rings.sh     (SB_PREFIX default "dpr")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-dpr}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init
N=${RINGS_N:-4000}

dp_image undionly.kpxe 65536
dp_config '{}'
dp_lab_up
dp_start
PID=$(sb_pid dataplane)

# "dropped" of ip -s link: DIR (RX or TX) of interface IF in namespace NS. The client's TX
# dropped are frames its veth could not hand to the server's (lost before XDP); the server's
# RX dropped count what XDP dropped there, failed redirects to a full socket included.
veth_dropped() { # NS IF DIR
	ip -n "$1" -s link show "$2" | awk -v d="$3:" '$1 == d {getline; print $4 + 0}'
}

dp_snap /stormboot/stats "$DP_WORK/s.start"
for k in xsk_rx_ring_full xsk_rx_dropped xsk0_rx_ring_full xsk0_rx_fill_ring_empty_descs \
	xsk0_rx_invalid_descs xsk0_tx_invalid_descs xsk0_tx_ring_empty_descs port_rx_missed \
	port_rx_errors port_rx_no_mbuf port_tx_errors drop_tftp_rrq_client_cap; do
	sb_check "telemetry /stormboot/stats has $k" \
		"$DP_PY" -c "import json,sys; sys.exit('$k' not in json.load(open(sys.argv[1])))" "$DP_WORK/s.start"
done
sb_check "the AF_XDP socket was found (no warning about its counters)" \
	sh -c "! grep -q 'AF_XDP sockets in this process' '$SB_RUN/dataplane.log'"

dp_snap /stormboot/stats "$DP_WORK/s.before"
c0=$(veth_dropped "$SB_NS_CLI" "$SB_IF_CLI" TX)
s0=$(veth_dropped "$SB_NS_SRV" "$SB_IF_SRV" RX)
sb_log "SIGSTOP dataplane ($PID), $N DISCOVERs from the client namespace"
kill -STOP "$PID"
sent=$(dp_in_cli timeout 60 "$DP_PY" "$HERE/dp-discover.py" "$SB_IF_CLI" --count "$N" --seconds 30)
sleep 1 # the kernel's softirq has long handed every frame to XDP by now
kill -CONT "$PID"
sb_log "sender: $sent; SIGCONT"
n_sent=$(echo "$sent" | awk '{print $2}')
# the dataplane drains what its ring held: wait until rx_dhcp stops moving
prev=-1
for ((i = 0; i < 50; i++)); do
	cur=$(dp_get /stormboot/stats rx_dhcp)
	[ "$cur" = "$prev" ] && break
	prev=$cur
	sleep 0.2
done
c1=$(veth_dropped "$SB_NS_CLI" "$SB_IF_CLI" TX)
s1=$(veth_dropped "$SB_NS_SRV" "$SB_IF_SRV" RX)
eval "$(dp_deltas "$DP_WORK/s.before" /stormboot/stats | grep -E '^d_(rx_pkts|rx_dhcp|tx_dhcp|xsk_rx_ring_full|xsk_rx_dropped|xsk_rx_fill_ring_empty_descs|xsk_rx_invalid_descs|port_rx_missed|port_rx_pkts)=')"
veth=$((c1 - c0))
veth_xdp=$((s1 - s0))
lost=$((d_xsk_rx_ring_full + d_xsk_rx_dropped))
sb_log "sent $n_sent: dataplane rx_dhcp +$d_rx_dhcp (rx_pkts +$d_rx_pkts, port_rx_pkts +$d_port_rx_pkts), xsk rx_ring_full +$d_xsk_rx_ring_full, rx_dropped +$d_xsk_rx_dropped (fill ring empty +$d_xsk_rx_fill_ring_empty_descs), port_rx_missed +$d_port_rx_missed; client veth TX dropped +$veth, server veth RX dropped +$veth_xdp; tx_dhcp +$d_tx_dhcp"
sb_check "all $N frames sent" test "$n_sent" = "$N"
sb_check "the overflow is counted by the AF_XDP socket (rx_ring_full + rx_dropped = $lost > 0)" \
	test "$lost" -gt 0
sb_check "the books balance: sent $n_sent = received $d_rx_dhcp + socket drops $lost + lost before XDP $veth" \
	test "$n_sent" = $((d_rx_dhcp + lost + veth))
sb_check "the kernel's count of XDP drops on the server veth ($veth_xdp) is the sockets' ($lost)" \
	test "$veth_xdp" = "$lost"
sb_check "rx_dhcp equals the port's rx count (+$d_rx_dhcp, port_rx_pkts +$d_port_rx_pkts)" \
	test "$d_rx_dhcp" = "$d_port_rx_pkts"
sb_check "the dataplane serves on after the overflow (OFFERs sent: tx_dhcp +$d_tx_dhcp)" \
	test "$d_tx_dhcp" -gt 0

# the exit report shows the same totals under the same names (non-zero values only)
full=$(dp_get /stormboot/stats xsk_rx_ring_full)
drop=$(dp_get /stormboot/stats xsk_rx_dropped)
sb_stop dataplane 10
report() { awk -v k="$1" '$1 == k {print $2}' "$SB_RUN/dataplane.log" | tail -1; }
sb_check "exit report: xsk_rx_ring_full $(report xsk_rx_ring_full) = telemetry $full" \
	test "$(report xsk_rx_ring_full)" = "$([ "$full" = 0 ] && echo "" || echo "$full")"
sb_check "exit report: xsk_rx_dropped $(report xsk_rx_dropped) = telemetry $drop" \
	test "$(report xsk_rx_dropped)" = "$([ "$drop" = 0 ] && echo "" || echo "$drop")"
sb_check "exit report: xsk0_rx_ring_full or xsk0_rx_dropped shown" \
	sh -c "grep -qE '^ +xsk0_rx_(ring_full|dropped) +[1-9]' '$SB_RUN/dataplane.log'"
cp "$SB_RUN/dataplane.log" "$DP_WORK/dataplane.log"
sb_summary
