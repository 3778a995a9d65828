#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-dhcp.sh - stormboot-dataplane as the DHCP server for real clients, through
# XDP and AF_XDP, in the lab (switch topology: two clients and a relay):
#   - busybox udhcpc gets a lease with next-server (siaddr) and boot file (what
#     udhcpc's script is told: ip, siaddr, boot_file, serverid, router, lease);
#   - ISC dhclient gets a lease: its lease file names the address, the boot file
#     and the server; its script is told next-server;
#   - ISC perfdhcp in the relay namespace (relayed unicast, giaddr 198.18.16.1 on
#     a second address of the relay) completes thousands of DORAs with no drops,
#     no rejected leases, every address in the relayed subnet;
#   - the dataplane's drop counters (telemetry /stormboot/stats) stay zero.
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-dhcp.sh     (SB_PREFIX default "dpt")
# Env: DP_PERF_CLIENTS (2000) DP_PERF_RATE (500 DORA/s: a correctness test, perf/ measures)
#
# perfdhcp never retransmits: a frame lost anywhere is a perfdhcp "drop". If a run
# lost frames outside stormboot - its port's rx ring overflowed (DPDK telemetry
# /ethdev/stats imissed grew: the lcore was off its CPU, e.g. on a host shared with
# other busy pollers) or it answered every DHCP frame it received (rx_dhcp = tx_dhcp)
# or perfdhcp's own socket buffer overflowed (UdpRcvbufErrors in the relay namespace)
# - that run says nothing about the server and is done again, up to 3 runs; one
# must be clean.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init
sb_need_cmd busybox dhclient perfdhcp

PERF_N=${DP_PERF_CLIENTS:-2000}
PERF_RATE=${DP_PERF_RATE:-500}
RELAY_NET=198.18.16.0/20
GIADDR=198.18.16.1

dp_image undionly.kpxe 65536
dp_config '{"dhcp": {"mode": "full", "boot": {"bios": "undionly.kpxe"}, "subnets": [
	{"network": "198.18.0.0/24", "pool": {"start": "198.18.0.100", "end": "198.18.0.199"},
	 "router": "198.18.0.1", "lease_time": 600},
	{"network": "198.18.16.0/20", "pool": {"start": "198.18.16.10", "end": "198.18.31.250"},
	 "router": "198.18.16.1", "lease_time": 600}]}}'
dp_lab_up --clients 2 --relay --tx-csum-off
# a second, larger relayed network: perfdhcp's giaddr, replies routed back on the boot link
sb_in "$SB_NS_RLY" ip addr add $GIADDR/20 dev "$SB_IF_RLY"
sb_in "$SB_NS_SRV" ip route add $RELAY_NET dev "$SB_IF_SRV"
dp_start
NS_CLI2=$(echo "$SB_NS_CLIENTS" | awk '{print $2}')

# --- busybox udhcpc
cat >"$DP_WORK/udhcpc.script" <<'EOF'
#!/bin/sh
case "$1" in
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	echo "ip=$ip siaddr=$siaddr boot_file=$boot_file serverid=$serverid router=$router lease=$lease" >"$LEASE_OUT"
	;;
deconfig) ip addr flush dev "$interface" ;;
esac
exit 0
EOF
chmod +x "$DP_WORK/udhcpc.script"
sb_in "$SB_NS_CLI" env LEASE_OUT="$DP_WORK/udhcpc.lease" timeout 30 busybox udhcpc \
	-i "$SB_IF_CLI" -n -q -t 5 -T 2 -s "$DP_WORK/udhcpc.script" >"$DP_WORK/udhcpc.log" 2>&1 || true
sb_log "udhcpc: $(cat "$DP_WORK/udhcpc.lease" 2>/dev/null || echo 'no lease'; tail -n 3 "$DP_WORK/udhcpc.log")"
sb_check "udhcpc: lease in the pool with siaddr 198.18.0.1 and boot file undionly.kpxe" \
	grep -Eq '^ip=198\.18\.0\.1[0-9][0-9] siaddr=198\.18\.0\.1 boot_file=undionly\.kpxe serverid=198\.18\.0\.1 router=198\.18\.0\.1 lease=600$' \
	"$DP_WORK/udhcpc.lease"
UDHCPC_IP=$(sed -n 's/^ip=\([0-9.]*\) .*/\1/p' "$DP_WORK/udhcpc.lease" 2>/dev/null || true)
sb_check "udhcpc: address configured, server reachable by ping through XDP_PASS" \
	sb_in "$SB_NS_CLI" busybox ping -q -c 1 -W 2 $DP_SRV >/dev/null

# --- ISC dhclient (own config, lease file, pid file and script: the host stays untouched)
cat >"$DP_WORK/dhclient.conf" <<'EOF'
request subnet-mask, routers, domain-name-servers;
EOF
# dhclient gives its script only its own variables: the output path is written in
cat >"$DP_WORK/dhclient.script" <<EOF
#!/bin/sh
env | grep -E '^(reason|new_ip_address|new_next_server|new_filename|new_dhcp_server_identifier|new_routers)=' |
	sort >>"$DP_WORK/dhclient.env"
echo -- >>"$DP_WORK/dhclient.env"
exit 0
EOF
chmod +x "$DP_WORK/dhclient.script"
: >"$DP_WORK/dhclient.leases"
sb_start dhclient "$NS_CLI2" timeout 60 dhclient -4 -d -1 -v \
	-cf "$DP_WORK/dhclient.conf" -lf "$DP_WORK/dhclient.leases" -pf "$DP_WORK/dhclient.pid" \
	-sf "$DP_WORK/dhclient.script" "$SB_IF_CLI"
sb_wait_for 30 grep -q "fixed-address" "$DP_WORK/dhclient.leases" || true
sleep 0.3
sb_stop dhclient 3
sb_log "dhclient lease file: $(tr -s '\n ' ' ' <"$DP_WORK/dhclient.leases")"
sb_check "dhclient: lease file has an address of the pool" \
	grep -Eq '^  fixed-address 198\.18\.0\.1[0-9][0-9];$' "$DP_WORK/dhclient.leases"
sb_check "dhclient: lease file has the boot file" \
	grep -q '^  filename "undionly.kpxe";$' "$DP_WORK/dhclient.leases"
sb_check "dhclient: lease file has server identifier 198.18.0.1" \
	grep -q '^  option dhcp-server-identifier 198.18.0.1;$' "$DP_WORK/dhclient.leases"
sb_check "dhclient: script told next-server 198.18.0.1 (BOUND)" \
	bash -c "grep -q '^reason=BOUND$' '$DP_WORK/dhclient.env' && grep -q '^new_next_server=198.18.0.1$' '$DP_WORK/dhclient.env'"
DHCLIENT_IP=$(sed -n 's/^  fixed-address \([0-9.]*\);/\1/p' "$DP_WORK/dhclient.leases" | tail -n 1)
sb_check "dhclient and udhcpc got different addresses ($DHCLIENT_IP, $UDHCPC_IP)" \
	test -n "$DHCLIENT_IP" -a -n "$UDHCPC_IP" -a "$DHCLIENT_IP" != "$UDHCPC_IP"

# --- perfdhcp through the relay: relayed unicast, giaddr set, thousands of DORAs
dp_snap /stormboot/stats "$DP_WORK/stats.before"
# the first relayed requests and replies, as seen on the relay (giaddr, yiaddr, siaddr, file)
sb_start tcpdump "$SB_NS_RLY" timeout 60 tcpdump -i "$SB_IF_RLY" -n -c 300 -s 600 -U \
	-w "$DP_WORK/relay.pcap" udp port 67
sb_wait_for 5 test -s "$DP_WORK/relay.pcap" || true
run_perfdhcp() {
	sb_in "$SB_NS_RLY" nstat -n >/dev/null 2>&1 || true
	# perfdhcp reads its replies late when starved of CPU, and its socket's receive buffer
	# (about 160 replies) overflows (UdpRcvbufErrors): it runs at a higher priority, on
	# the client CPUs (not beside the dataplane's poller)
	sb_in "$SB_NS_RLY" nice -n -10 taskset -c "$DP_CLI_CPUS" timeout 120 perfdhcp -4 -l $GIADDR -r "$PERF_RATE" -R "$PERF_N" \
		-n "$PERF_N" -p $((PERF_N / PERF_RATE + 30)) -W 2000000 $DP_SRV \
		>"$DP_WORK/perfdhcp.log" 2>&1 || true
}
# perf_clean: both exchanges report "drops: 0"
perf_clean() { [ "$(grep -c '^drops: 0$' "$DP_WORK/perfdhcp.log")" = 2 ]; }
for attempt in 1 2 3; do
	missed0=$(dp_get /ethdev/stats,0 imissed || echo 0)
	dp_snap /stormboot/stats "$DP_WORK/stats.run"
	run_perfdhcp
	perf_clean && break
	missed1=$(dp_get /ethdev/stats,0 imissed || echo 0)
	rx1=$(dp_delta "$DP_WORK/stats.run" /stormboot/stats rx_dhcp)
	tx1=$(dp_delta "$DP_WORK/stats.run" /stormboot/stats tx_dhcp)
	rcvbuf=$(sb_in "$SB_NS_RLY" nstat -z 2>/dev/null | awk '$1 == "UdpRcvbufErrors" { print $2 }')
	sb_log "perfdhcp run $attempt: $(grep -E '^(sent packets|received packets|drops):' \
		"$DP_WORK/perfdhcp.log" | tr '\n' ' ')"
	# lost outside stormboot: perfdhcp's socket buffer overflowed, the port's rx ring
	# overflowed (lcore off its CPU), or stormboot answered every frame it received
	if [ "${rcvbuf:-0}" -gt 0 ] || [ "${missed1:-0}" != "${missed0:-0}" ] || [ "$rx1" = "$tx1" ]; then
		sb_log "perfdhcp run $attempt lost replies outside the server (relay UdpRcvbufErrors" \
			"${rcvbuf:-0}, imissed +$((${missed1:-0} - ${missed0:-0})), rx_dhcp +$rx1 tx_dhcp +$tx1):" \
			"host overloaded"
		cp "$DP_WORK/perfdhcp.log" "$DP_WORK/perfdhcp.$attempt.log"
		continue
	fi
	break
done
sb_log "perfdhcp run $attempt: relay $(sb_in "$SB_NS_RLY" nstat -z 2>/dev/null | awk '/UdpRcvbufErrors|UdpSndbufErrors|UdpInErrors/ { printf "%s %s ", $1, $2 }')"
sb_log "server veth: $(sb_in "$SB_NS_SRV" ethtool -S "$SB_IF_SRV" 2>/dev/null | grep -E 'xdp|drop' | tr -s ' \n' ' ')"
perf_stat() { # exchange key: the value of "key:" in that exchange's block
	awk -v ex="$1" -v key="$2" '
		/^\*\*\*Statistics for: / { f = index($0, ex) > 0 }
		f && index($0, key ":") == 1 { sub(/^[^:]*: */, ""); print $1 + 0; exit }' \
		"$DP_WORK/perfdhcp.log"
}
DO_SENT=$(perf_stat DISCOVER-OFFER "sent packets")
DO_RECV=$(perf_stat DISCOVER-OFFER "received packets")
RA_SENT=$(perf_stat REQUEST-ACK "sent packets")
RA_RECV=$(perf_stat REQUEST-ACK "received packets")
sb_log "perfdhcp: DISCOVER-OFFER $DO_SENT/$DO_RECV, REQUEST-ACK $RA_SENT/$RA_RECV"
sb_check "perfdhcp: $PERF_N DISCOVERs sent and all offered (got ${DO_RECV:-none})" \
	test "${DO_SENT:-0}" -ge "$PERF_N" -a "${DO_RECV:-0}" = "${DO_SENT:-x}"
sb_check "perfdhcp: every REQUEST acknowledged (${RA_RECV:-none} of ${RA_SENT:-none})" \
	test "${RA_SENT:-0}" -ge "$PERF_N" -a "${RA_RECV:-0}" = "${RA_SENT:-x}"
for ex in DISCOVER-OFFER REQUEST-ACK; do
	for k in drops orphans "rejected leases" "non unique addresses"; do
		v=$(perf_stat $ex "$k")
		sb_check "perfdhcp: $ex $k = 0 (got ${v:-missing})" test "${v:-x}" = 0
	done
done
sb_wait_for 5 bash -c "! kill -0 $(sb_pid tcpdump) 2>/dev/null" || true
sb_stop tcpdump 2
tcpdump -r "$DP_WORK/relay.pcap" -n -v 2>/dev/null >"$DP_WORK/relay.txt" || true
REPLIES=$(grep -c 'BOOTP/DHCP, Reply' "$DP_WORK/relay.txt" || true)
REQUESTS=$(grep -c "$GIADDR\.67 > $DP_SRV\.67: BOOTP/DHCP, Request" "$DP_WORK/relay.txt" || true)
sb_check "relayed requests and replies captured (${REQUESTS:-0}, ${REPLIES:-0})" \
	test "${REPLIES:-0}" -ge 15 -a "${REQUESTS:-0}" -ge 15
sb_check "perfdhcp relays: every request and reply has Gateway-IP $GIADDR" \
	test "$(grep -c "Gateway-IP $GIADDR\$" "$DP_WORK/relay.txt")" = $((REQUESTS + REPLIES))
sb_check "relayed replies: every one to giaddr $GIADDR port 67" test "$(grep -c "> $GIADDR\.67: BOOTP/DHCP, Reply" "$DP_WORK/relay.txt")" = "${REPLIES:-x}"
sb_check "relayed replies: every yiaddr in $RELAY_NET" test "$(grep -Ec 'Your-IP 198\.18\.(1[6-9]|2[0-9]|3[01])\.[0-9]+$' "$DP_WORK/relay.txt")" = "${REPLIES:-x}"
sb_check "relayed replies: next-server and boot file" test "$(grep -Ec 'Server-IP 198\.18\.0\.1$' "$DP_WORK/relay.txt")" = "${REPLIES:-x}" -a \
	"$(grep -c 'file "undionly.kpxe"' "$DP_WORK/relay.txt")" = "${REPLIES:-x}"
sb_check "perfdhcp: the server saw relayed traffic (tx_dhcp +$(dp_delta "$DP_WORK/stats.before" /stormboot/stats tx_dhcp))" \
	test "$(dp_delta "$DP_WORK/stats.before" /stormboot/stats tx_dhcp)" -ge $((2 * PERF_N))

# --- drop counters, through telemetry: none at all after real clients
dp_tel /stormboot/stats >"$DP_WORK/stats.after"
NONZERO=$("$DP_PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join("%s=%d" % (k, v) for k, v in sorted(d.items()) if k.startswith("drop_") and v))' \
	"$DP_WORK/stats.after")
sb_check "telemetry: no drop counter above zero (${NONZERO:-none})" test -z "$NONZERO"
sb_check "telemetry: rx_dhcp counts the exchanges ($(dp_get /stormboot/stats rx_dhcp))" \
	test "$(dp_get /stormboot/stats rx_dhcp)" -ge $((2 * PERF_N + 4))
sb_check "dataplane still running" sb_alive dataplane

sb_summary
