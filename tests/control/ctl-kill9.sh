#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ctl-kill9.sh - durable leases under kill -9 (issue 6, item 5), with real clients.
# stormboot-control + stormboot-dataplane (-C) in the lab; ISC perfdhcp in the relay
# namespace runs DORAs while the test kill -9s the dataplane (and restarts it), then
# kill -9s control (and restarts it). Every DHCPACK seen on the wire (tcpdump on the relay,
# chaddr/yiaddr read back with scapy) must still be leased to that MAC in
# `stormbootctl lease-list --json` at the end, and no address may be held by two MACs.
#
# The restarted dataplane finds the XDP program the killed one left on the interface and
# detaches it itself (dataplane/engine/port.c), with a WARNING naming it.
#
# Usage (root): BUILD_DIR=build tests/control/ctl-kill9.sh     (SB_PREFIX default "ctl")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-ctl}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../dataplane/dp-lib.sh"
dp_init
sb_need_cmd perfdhcp tcpdump
CTLD=$BUILD_DIR/control/stormboot-control
CTL=$BUILD_DIR/control/stormbootctl
RUN=$DP_WORK/run
export STORMBOOT_SOCKET=$RUN/control.sock
RATE=${CTL_PERF_RATE:-300}
SECS=${CTL_PERF_SECS:-24}
GIADDR=198.18.16.1

dp_image undionly.kpxe 65536
dp_config '{"dhcp": {"mode": "full", "boot": {"bios": "undionly.kpxe"}, "subnets": [
	{"network": "198.18.0.0/24", "pool": {"start": "198.18.0.100", "end": "198.18.0.199"},
	 "router": "198.18.0.1", "lease_time": 600},
	{"network": "198.18.16.0/20", "pool": {"start": "198.18.16.10", "end": "198.18.31.250"},
	 "router": "198.18.16.1", "lease_time": 600}]}}'
dp_lab_up --relay --tx-csum-off
sb_in "$SB_NS_RLY" ip addr add $GIADDR/20 dev "$SB_IF_RLY"
sb_in "$SB_NS_SRV" ip route add 198.18.16.0/20 dev "$SB_IF_SRV"

ctl_start() {
	sb_start control "" "$CTLD" -f -c "$DP_CFG" -s "$RUN/control.sock" -d "$DP_WORK/state"
	sb_wait_for 10 "$CTL" status >/dev/null 2>&1 || sb_fail "control did not start"
}
dpl_start() {
	sb_start dataplane "$SB_NS_SRV" sh -c \
		"mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec '$DP_BIN' -- -c '$DP_CFG' -x '$DP_XDP' -C '$RUN/dataplane.sock'"
	sb_wait_for 30 grep -q "serving " "$SB_RUN/dataplane.log" || {
		cat "$SB_RUN/dataplane.log" >&2
		sb_fail "dataplane did not come up"
	}
	sb_wait_for 10 sh -c "\"$CTL\" status | grep -q 'dataplane.connected *yes'" ||
		sb_fail "dataplane did not connect to control"
}
kill9() { # NAME: kill -9 by PID, wait until it is gone
	local pid
	pid=$(sb_pid "$1")
	kill -9 "$pid"
	sb_wait_for 10 sh -c "! kill -0 $pid 2>/dev/null" || true
	rm -f "$SB_RUN/$1.pid"
	cat "$SB_RUN/$1.log" >>"$DP_WORK/$1.all.log"
}

ctl_start
dpl_start
sb_start tcpdump "$SB_NS_RLY" tcpdump -i "$SB_IF_RLY" -n -s 600 -U -w "$DP_WORK/relay.pcap" udp port 67
sleep 1
# random MACs (-b mac=...: perfdhcp draws them from the template), relayed unicast
sb_in "$SB_NS_RLY" timeout $((SECS + 30)) perfdhcp -4 -l $GIADDR -r "$RATE" -R 20000 \
	-p "$SECS" $DP_SRV >"$DP_WORK/perfdhcp.log" 2>&1 &
PERF=$!
sleep $((SECS / 4))
sb_log "kill -9 dataplane (acks so far: $("$CTL" --json status | "$DP_PY" -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["leases"]["bound"])'))"
kill9 dataplane
# kill -9 leaves our XDP program on the interface: the restarted dataplane detaches it
sb_check "kill -9 left the XDP program on $SB_IF_SRV" \
	sh -c "ip -n '$SB_NS_SRV' link show dev '$SB_IF_SRV' | grep -q 'prog/xdp'"
sleep 1
dpl_start
sb_check "the restarted dataplane detached the stale XDP program (WARNING naming it)" \
	grep -q "detached stale XDP program sb_xdp_steer" "$SB_RUN/dataplane.log"
sleep $((SECS / 4))
sb_log "kill -9 control"
kill9 control
sleep 1
ctl_start
sb_wait_for 10 sh -c "\"$CTL\" status | grep -q 'dataplane.connected *yes'" || sb_fail "dataplane did not reconnect"
wait "$PERF" || true
sleep 2
sb_stop tcpdump 5
"$CTL" --json lease-list >"$DP_WORK/leases.json"
"$CTL" --json stats >"$DP_WORK/stats.json" || true
# every DHCPACK on the relay's wire: "chaddr yiaddr"
"$DP_PY" - "$DP_WORK/relay.pcap" <<'PY' | sort -u >"$DP_WORK/acked.txt"
import sys
from scapy.all import BOOTP, DHCP, PcapReader
for p in PcapReader(sys.argv[1]):
    if DHCP in p and ("message-type", 5) in p[DHCP].options:
        m = p[BOOTP].chaddr[:6]
        print(":".join("%02x" % b for b in m), p[BOOTP].yiaddr)
PY
"$DP_PY" - "$DP_WORK/acked.txt" "$DP_WORK/leases.json" >"$DP_WORK/verdict.txt" <<'PY' || true
import json, sys
acked = [l.split() for l in open(sys.argv[1]) if l.strip()]
leases = json.load(open(sys.argv[2])).get("arguments", {}).get("leases", [])
have = {(l["mac"], l["ip"]) for l in leases if l["state"] == "bound"}
ips = [l["ip"] for l in leases if l["state"] == "bound"]
# a MAC ACKed twice (renewal, or a new address after the old one was released) keeps its last
last = {}
for mac, ip in acked:
    last[mac] = ip
lost = [(m, i) for m, i in last.items() if (m, i) not in have]
wire = {}  # perfdhcp never releases: an address ACKed to two MACs was given away twice
for mac, ip in acked:
    wire.setdefault(ip, set()).add(mac)
dup = len(ips) - len(set(ips)) + sum(1 for s in wire.values() if len(s) > 1)
print("acked", len(last), "leased", len(have), "lost", len(lost), "dup_ips", dup)
for m, i in lost[:10]:
    print("LOST", m, i)
PY
cat "$DP_WORK/verdict.txt"
read -r _ n_acked _ _ _ n_lost _ n_dup <<<"$(head -1 "$DP_WORK/verdict.txt")"
sb_log "perfdhcp: $(grep -E 'sent packets|received packets' "$DP_WORK/perfdhcp.log" | tr -s ' ' | tr '\n' ' ')"
sb_log "dataplane durability: $("$DP_PY" -c 'import json,sys; d = json.load(sys.stdin)["arguments"]["dataplane"]; print({k: v for k, v in d.items() if k.startswith("acks_") or k.startswith("snapshot")})' <"$DP_WORK/stats.json" 2>/dev/null || echo n/a)"
sb_check "perfdhcp got ACKs across both kills ($n_acked MACs)" test "${n_acked:-0}" -gt $((RATE * SECS / 4))
sb_check "every ACKed MAC/IP pair is still leased (lost: $n_lost)" test "${n_lost:-1}" = 0
sb_check "no address held by two MACs (lease store, and ACKs on the wire)" test "${n_dup:-1}" = 0
sb_stop dataplane 10
sb_stop control 5
sb_summary
