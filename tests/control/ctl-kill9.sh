#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ctl-kill9.sh - durable leases under kill -9 (issue 6 item 5, issue 15 item 7), with real
# clients, once per dhcp.durability mode. stormboot-control + stormboot-dataplane (-C) in the
# lab; ISC perfdhcp in the relay namespace runs DORAs (random MACs, relayed) while the test
#   1. kill -9s the dataplane and restarts it (it detaches the XDP program the killed one
#      left, with a WARNING naming it);
#   2. kill -9s control, lets the dataplane serve alone for a while, then kill -9s the
#      dataplane too: both are dead, and what was only in the dataplane is gone;
#   3. starts the dataplane again with control still dead (it must wait for control's
#      leases), then control.
# Every DHCPACK seen on the wire (tcpdump on the relay, chaddr/yiaddr/time read back with
# scapy) is compared with `stormbootctl lease-list --json` at the end:
#   strict    (the default): every ACKed MAC/IP pair is leased (0 lost); no ACK at all left
#             while control was away; no address ACKed to two MACs; the dataplane said so
#             at start; its counters show ACKs dropped for durability, none sent undurable;
#   available: what the docs promise: an ACK that left while control was connected is
#             leased; the ACKs lost are only ones sent while control was away (counted
#             acks_undurable) - and some are, when the dataplane dies before control is
#             back; an address given to two MACs only among those.
#
# Usage (root): BUILD_DIR=build tests/control/ctl-kill9.sh [strict|available]...
#               (default: both; SB_PREFIX default "ctl")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-ctl}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../dataplane/dp-lib.sh"
dp_init
sb_need_cmd perfdhcp tcpdump
CTLD=$BUILD_DIR/control/stormboot-control
CTL=$BUILD_DIR/control/stormbootctl
RATE=${CTL_PERF_RATE:-120}
SECS=${CTL_PERF_SECS:-40}
AWAY=${CTL_AWAY_SECS:-3}
GIADDR=198.18.16.1
MODES=("$@")
[ ${#MODES[@]} -gt 0 ] || MODES=(strict available)

dp_image undionly.kpxe 65536
dp_lab_up --relay --tx-csum-off
sb_in "$SB_NS_RLY" ip addr add $GIADDR/20 dev "$SB_IF_RLY"
sb_in "$SB_NS_SRV" ip route add 198.18.16.0/20 dev "$SB_IF_SRV"

ctl_start() {
	sb_start control "" "$CTLD" -f -c "$DP_CFG" -s "$RUN/control.sock" -d "$RUN/state"
	sb_wait_for 10 "$CTL" status >/dev/null 2>&1 || sb_fail "control did not start"
}
dpl_start() { # [nowait]: control is not there, do not wait for the link
	sb_start dataplane "$SB_NS_SRV" sh -c \
		"mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec '$DP_BIN' -- -c '$DP_CFG' -x '$DP_XDP' -C '$RUN/dataplane.sock'"
	sb_wait_for 30 grep -q "serving " "$SB_RUN/dataplane.log" || {
		cat "$SB_RUN/dataplane.log" >&2
		sb_fail "dataplane did not come up"
	}
	[ "${1:-}" = nowait ] && return 0
	sb_wait_for 10 sh -c "\"$CTL\" status | grep -q 'dataplane.connected *yes'" ||
		sb_fail "dataplane did not connect to control"
}
kill9() { # NAME: kill -9 by PID, wait until it is gone
	local pid
	pid=$(sb_pid "$1")
	kill -9 "$pid"
	sb_wait_for 10 sh -c "! kill -0 $pid 2>/dev/null" || true
	rm -f "$SB_RUN/$1.pid"
	cat "$SB_RUN/$1.log" >>"$RUN/$1.all.log"
}
now() { date +%s.%N; }

run_mode() {
	local mode=$1
	RUN=$DP_WORK/$mode
	mkdir -p "$RUN"
	export STORMBOOT_SOCKET=$RUN/control.sock
	dp_config '{"dhcp": {"mode": "full", "durability": "'"$mode"'", "boot": {"bios": "undionly.kpxe"}, "subnets": [
		{"network": "198.18.0.0/24", "pool": {"start": "198.18.0.100", "end": "198.18.0.199"},
		 "router": "198.18.0.1", "lease_time": 600},
		{"network": "198.18.16.0/20", "pool": {"start": "198.18.16.10", "end": "198.18.31.250"},
		 "router": "198.18.16.1", "lease_time": 600}]}}'
	sb_log "=== dhcp.durability \"$mode\""
	ctl_start
	dpl_start
	sb_check "$mode: the dataplane's log states the durability at start" \
		grep -q "dhcp.durability \"$mode\"" "$SB_RUN/dataplane.log"
	sb_start tcpdump "$SB_NS_RLY" tcpdump -i "$SB_IF_RLY" -n -s 600 -U -w "$RUN/relay.pcap" udp port 67
	sleep 1
	sb_in "$SB_NS_RLY" timeout $((SECS + 30)) perfdhcp -4 -l $GIADDR -r "$RATE" -R 20000 \
		-p "$SECS" "$DP_SRV" >"$RUN/perfdhcp.log" 2>&1 &
	PERF=$!
	sleep $((SECS / 6))

	sb_log "$mode: kill -9 dataplane (bound so far: $("$CTL" --json status | "$DP_PY" -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["leases"]["bound"])'))"
	kill9 dataplane
	sb_check "$mode: kill -9 left the XDP program on $SB_IF_SRV" \
		sh -c "ip -n '$SB_NS_SRV' link show dev '$SB_IF_SRV' | grep -q 'prog/xdp'"
	sleep 1
	dpl_start
	sb_check "$mode: the restarted dataplane detached the stale XDP program (WARNING naming it)" \
		grep -q "detached stale XDP program sb_xdp_steer" "$SB_RUN/dataplane.log"
	sleep $((SECS / 6))

	sb_log "$mode: kill -9 control; the dataplane serves alone for ${AWAY} s, then kill -9 it too"
	T_KILL=$(now)
	kill9 control
	T_DEAD=$(now)
	sleep "$AWAY"
	dp_tel /stormboot/stats >"$RUN/stats.alone.json" || echo '{}' >"$RUN/stats.alone.json"
	kill9 dataplane
	sleep 1
	sb_log "$mode: dataplane restarted without control; control follows in ${AWAY} s"
	dpl_start nowait
	sleep "$AWAY"
	dp_tel /stormboot/stats >"$RUN/stats.nocontrol.json" || echo '{}' >"$RUN/stats.nocontrol.json"
	T_CTL=$(now)
	ctl_start
	sb_wait_for 10 sh -c "\"$CTL\" status | grep -q 'dataplane.connected *yes'" ||
		sb_fail "dataplane did not connect to the restarted control"
	T_BACK=$(now)
	echo "control killed $T_KILL, gone $T_DEAD, started again $T_CTL, connected by $T_BACK" >"$RUN/times.txt"
	wait "$PERF" || true
	sleep 2
	sb_stop tcpdump 5
	"$CTL" --json lease-list >"$RUN/leases.json"
	"$CTL" --json stats >"$RUN/stats.json" || true
	sb_stop dataplane 10
	sb_stop control 5
	cat "$SB_RUN/dataplane.log" >>"$RUN/dataplane.all.log"

	# every DHCPACK on the relay's wire: "time chaddr yiaddr"
	"$DP_PY" - "$RUN/relay.pcap" <<-'PY' >"$RUN/acked.txt"
	import sys
	from scapy.all import BOOTP, DHCP, PcapReader
	for p in PcapReader(sys.argv[1]):
	    if DHCP in p and ("message-type", 5) in p[DHCP].options:
	        m = p[BOOTP].chaddr[:6]
	        print("%.6f" % float(p.time), ":".join("%02x" % b for b in m), p[BOOTP].yiaddr)
	PY
	"$DP_PY" - "$RUN/acked.txt" "$RUN/leases.json" "$T_KILL" "$T_DEAD" "$T_CTL" "$T_BACK" >"$RUN/verdict.txt" <<-'PY' || true
	import json, sys
	acked = [l.split() for l in open(sys.argv[1]) if l.strip()]
	leases = json.load(open(sys.argv[2])).get("arguments", {}).get("leases", [])
	# control killed at t_kill, gone at t_dead, started again at t_ctl, the dataplane
	# connected to it by t_back (polled: it may have been a little earlier)
	t_kill, t_dead, t_ctl, t_back = (float(a) for a in sys.argv[3:7])
	have = {(l["mac"], l["ip"]) for l in leases if l["state"] == "bound"}
	ips = [l["ip"] for l in leases if l["state"] == "bound"]
	# a MAC ACKed twice (renewal, or a new address after the old one was released) keeps its last
	last = {}
	for t, mac, ip in acked:
	    last[mac] = (float(t), ip)
	away = lambda t: t_kill <= t <= t_back
	lost = [(m, i, t) for m, (t, i) in last.items() if (m, i) not in have]
	wire = {}  # perfdhcp never releases: an address ACKed to two MACs was given away twice
	for t, mac, ip in acked:
	    wire.setdefault(ip, []).append((float(t), mac))
	dup = len(ips) - len(set(ips))
	dup_ok = 0  # given twice, one of its ACKs while control was away (the "available" risk)
	for ip, v in wire.items():
	    if len({m for _, m in v}) > 1:
	        if any(away(t) for t, _ in v):
	            dup_ok += 1
	        else:
	            dup += 1
	acks_away = sum(1 for t, _, _ in acked if t_dead <= float(t) <= t_ctl)
	lost_outside = [x for x in lost if not away(x[2])]
	print("acked", len(last), "leased", len(have), "lost", len(lost), "lost_outside", len(lost_outside),
	      "dup_ips", dup, "dup_away", dup_ok, "acks_away", acks_away)
	for m, i, t in lost[:5] + lost_outside[:5]:
	    print("LOST", m, i, "%.3f s after control was killed" % (t - t_kill))
	PY
	cat "$RUN/verdict.txt" >&2
	read -r _ n_acked _ _ _ n_lost _ n_lost_out _ n_dup _ n_dup_away _ n_away <<<"$(head -1 "$RUN/verdict.txt")"
	alone() { "$DP_PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))' "$RUN/stats.$1.json" "$2"; }
	sb_log "$mode: perfdhcp: $(grep -E 'sent packets|received packets' "$RUN/perfdhcp.log" | tr -s ' ' | tr '\n' ' ')"
	sb_log "$mode: dataplane alone: acks_undurable $(alone alone acks_undurable), acks_durable $(alone alone acks_durable), drop_dhcp_ack_control_away $(alone alone drop_dhcp_ack_control_away), drop_dhcp_ack_not_durable $(alone alone drop_dhcp_ack_not_durable); restarted without control: drop_dhcp_waiting_for_leases $(alone nocontrol drop_dhcp_waiting_for_leases), tx_dhcp $(alone nocontrol tx_dhcp)"
	sb_check "$mode: perfdhcp got ACKs across the kills ($n_acked MACs)" test "${n_acked:-0}" -gt $((RATE * SECS / 6))
	sb_check "$mode: the restarted dataplane answered no DHCP before control's leases (tx_dhcp $(alone nocontrol tx_dhcp), held $(alone nocontrol drop_dhcp_waiting_for_leases))" \
		test "$(alone nocontrol tx_dhcp)" = 0 -a "$(alone nocontrol drop_dhcp_waiting_for_leases)" -gt 0
	if [ "$mode" = strict ]; then
		sb_check "strict: every ACKed MAC/IP pair is still leased (lost: $n_lost)" test "${n_lost:-1}" = 0
		sb_check "strict: no ACK on the wire while control was dead ($n_away)" test "${n_away:-1}" = 0
		sb_check "strict: no address held by two MACs (lease store, and ACKs on the wire: $n_dup + $n_dup_away)" \
			test "${n_dup:-1}/${n_dup_away:-1}" = 0/0
		sb_check "strict: the ACKs of the clients served while control was away were dropped and counted (drop_dhcp_ack_control_away $(alone alone drop_dhcp_ack_control_away))" \
			test "$(alone alone drop_dhcp_ack_control_away)" -gt 0
		sb_check "strict: no ACK sent undurable (acks_undurable $(alone alone acks_undurable))" \
			test "$(alone alone acks_undurable)" = 0
		sb_check "strict: the log at start says DHCP waits for control" \
			grep -q "no DHCP is answered until control has connected" "$RUN/dataplane.all.log"
	else
		sb_check "available: every ACK that left while control was connected is leased (lost outside the away window: $n_lost_out)" \
			test "${n_lost_out:-1}" = 0
		sb_check "available: ACKs left while control was dead ($n_away), counted acks_undurable ($(alone alone acks_undurable))" \
			test "${n_away:-0}" -gt 0 -a "$(alone alone acks_undurable)" -gt 0
		sb_check "available: as documented, ACKs of that window are lost when the dataplane dies first ($n_lost lost)" \
			test "${n_lost:-0}" -gt 0
		sb_check "available: an address is given to two MACs only among those ($n_dup outside, $n_dup_away inside)" \
			test "${n_dup:-1}" = 0
	fi
}

for m in "${MODES[@]}"; do
	case $m in strict | available) run_mode "$m" ;; *) sb_fail "mode: strict or available, not '$m'" ;; esac
done
sb_summary
