#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# cluster-failover.sh - scale-out under failures (issue 19, docs/SCALE-OUT.md), checked
# against the DHCPACKs seen on the wire. The lab (clu-lib.sh): a 3-member etcd cluster,
# CLU_SERVERS stormboot servers (default 3) in namespaces on one bridge and one more (number
# CLU_SERVERS+1) behind ISC dhcrelay (CLU_RELAY=0: none). First, with real clients (busybox
# udhcpc): a reservation added through server 1's API for a MAC that the relayed server
# answers is served by that server at once (the client starts when the API has answered),
# and one added through the relayed server for a MAC of server 2 likewise. Then ISC perfdhcp
# as a relay (random MACs, DISCOVERs broadcast: every server of the bridge hears each one,
# dhcrelay relays them to the last one, and only the owner of the client's RFC 3074 bucket
# answers) runs while the test:
#   1. kill -9s server 2 (control and dataplane): its buckets move to the others;
#   2. kill -9s etcd member 3 (2 of 3 left: a quorum);
#   3. starts server 2 again: it takes its share back;
#   4. cuts server 1 off from etcd (blackhole routes to every member): it stops ACKing, says
#      so in its status, and the others take its buckets.
# Every DHCPACK on the relay's wire (chaddr, yiaddr, option 54, time; tcpdump + scapy) is
# compared with etcd at the end:
#   lost = 0      every ACKed address is bound to its MAC in etcd;
#   doubled = 0   no address ACKed to two MACs;
#   no ACK from a server while it is dead, nor (after 1 s) while it is cut off;
#   clients whose bucket the lost (or cut) server answered are ACKed by the others within
#   lease_ttl_s + 3 s: the take-over time is printed;
#   every server ACKed clients, the relayed one too (its ACKs came back through dhcrelay).
# Usage (root): BUILD_DIR=build tests/cluster/cluster-failover.sh   (SB_PREFIX default "ec")
#   CLU_SERVERS=... CLU_RELAY=0|1 CLU_RATE=... CLU_SECS=...
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/clu-lib.sh"
export CLU_RELAY=${CLU_RELAY:-1}
NB=${CLU_SERVERS:-3} # servers on the bridge
RATE=${CLU_RATE:-60}
SECS=${CLU_SECS:-36}
clu_init
clu_up "$NB" 3
N=$((NB + (CLU_R > 0))) # every server, the relayed one last
clu_etcd_start 3
for ((i = 1; i <= N; i++)); do clu_config "$i"; done
for ((i = 1; i <= N; i++)); do clu_server_start "$i"; done
views() { # distinct views of the live set, and the size of the first
	for ((i = 1; i <= N; i++)); do clu_cl "$i" "['servers']"; done | sort -u | wc -l
}
for _ in $(seq 50); do [ "$(views)" = 1 ] && [ "$(clu_cl 1 "['servers'].__len__()")" = "$N" ] && break; sleep 0.1; done
sb_check "all $N servers agree on $N live servers: $(clu_cl 1 "['servers']")" \
	sh -c "[ '$(views)' = 1 ] && [ '$(clu_cl 1 "['servers'].__len__()")' = '$N' ]"
tot=0
for ((i = 1; i <= N; i++)); do tot=$((tot + $(clu_cl "$i" "['buckets_owned']"))); done
sb_check "the 256 buckets are split among the servers ($tot)" [ "$tot" = 256 ]

# A reservation added on one server, served by another at once (a real client).
# resv_case ON MAC_SUFFIX_BASE WANT IP: a MAC answered by server WANT, reserved through server ON
resv_case() {
	local on=$1 base=$2 want=$3 ip=$4 mac="" k out
	for k in $(seq 1 200); do
		mac=$(printf '52:54:00:5c:%02x:%02x' "$base" "$k")
		[ "$(clu_owner "$mac")" = "$want" ] && break
	done
	out=$(STORMBOOT_SOCKET=$CLU_WORK/s$on/control.sock "$CLU_CTL" reservation-add "$mac" "$ip" 2>&1) ||
		sb_check "reservation-add $mac $ip on server $on: $out" false
	# the API answers once every live server applied it (cluster_apply.h)
	sb_check "reservation-add through server $on in effect on all $N servers when it answers: $out" \
		grep -q "in effect on all $N live servers" <<<"$out"
	clu_udhcpc "$mac" "$CLU_WORK/resv$on.lease" || true
	sb_check "reserved $mac -> $ip through server $on, served by server $want ($(clu_ip "$want")) at once: $(cat "$CLU_WORK/resv$on.lease" 2>/dev/null || tail -3 "$CLU_WORK/resv$on.lease.log")" \
		grep -qx "ip=$ip serverid=$(clu_ip "$want") siaddr=.*" "$CLU_WORK/resv$on.lease"
	echo "$mac $ip" >>"$CLU_WORK/resv.txt"
}
resv_case 1 1 "$N" 198.18.0.50
resv_case "$N" 2 2 198.18.0.51
# how long server 1's API waits for the others (a figure printed, not checked): 10 changes
for k in 0 1 2 3 4 5 6 7 8 9; do
	STORMBOOT_SOCKET=$CLU_WORK/s1/control.sock "$CLU_CTL" reservation-add "52:54:00:5d:00:0$k" "198.18.0.6$k" >/dev/null 2>&1 || true
	STORMBOOT_SOCKET=$CLU_WORK/s1/control.sock "$CLU_CTL" reservation-del "52:54:00:5d:00:0$k" >/dev/null 2>&1 || true
done
sb_log "server 1's API waited for the $((N - 1)) others: $(clu_cl 1 "['shared']['apply_waits']") changes, avg $(clu_cl 1 "['shared']['apply_wait_us_avg']") us, max $(clu_cl 1 "['shared']['apply_wait_us_max']") us, $(clu_cl 1 "['shared']['apply_timeouts']") timeouts"

now() { date +%s.%N; }
sb_start tcpdump "${P}cl" tcpdump -i "${P}c0" -n -s 600 -U -w "$CLU_WORK/relay.pcap" udp port 67
sleep 1
T0=$(now)
sb_in "${P}cl" timeout $((SECS + 20)) perfdhcp -4 -l "${P}c0" -r "$RATE" -R 30000 -p "$SECS" all \
	>"$CLU_WORK/perfdhcp.log" 2>&1 &
PERF=$!
at() { # at SECONDS: sleep until T0 + SECONDS
	local d
	d=$("$CLU_PY" -c "import sys,time; print(max(0, float(sys.argv[1]) + float(sys.argv[2]) - time.time()))" "$T0" "$1")
	sleep "$d"
}

at $((SECS / 6))
sb_log "kill -9 server 2"
T_KILL=$(now)
clu_server_kill 2
at $((SECS * 2 / 6))
sb_log "kill -9 etcd member 3"
T_EKILL=$(now)
clu_etcd_kill 3
at $((SECS * 3 / 6))
sb_log "server 2 starts again"
clu_server_start 2
T_BACK=$(now)
at $((SECS * 4 / 6))
sb_log "server 1 cut off from etcd"
T_CUT=$(now)
clu_cut 1
sb_wait_for 8 sh -c "[ \"\$(STORMBOOT_SOCKET='$CLU_WORK/s1/control.sock' '$CLU_CTL' --json status | '$CLU_PY' -c 'import json,sys; c=json.load(sys.stdin)[\"arguments\"][\"cluster\"]; print(c[\"ready\"], c[\"buckets_owned\"])')\" = 'False 0' ]" || true
clu_status 1 >"$CLU_WORK/s1.cut.json"
wait "$PERF" || true
sleep 2
clu_uncut 1
sb_stop tcpdump 5
for ((i = 1; i <= N; i++)); do clu_status "$i" >"$CLU_WORK/s$i.end.json" || true; done
clu_etcdctl get --prefix /stormboot/leases/ >"$CLU_WORK/etcd.dump"
echo "start $T0 kill $T_KILL etcd_kill $T_EKILL back $T_BACK cut $T_CUT" >"$CLU_WORK/times.txt"

"$CLU_PY" - "$CLU_WORK" "$SOURCE_DIR/dataplane/core/dhcp_lb.c" "$CLU_TTL" "$T0" "$T_KILL" \
	"$T_EKILL" "$T_BACK" "$T_CUT" "$N" "$(for ((i = 1; i <= N; i++)); do clu_ip "$i"; done | paste -sd,)" \
	<<-'PY' >"$CLU_WORK/verdict.txt"
	import json, re, sys
	from scapy.all import BOOTP, DHCP, PcapReader
	work, lbc, ttl = sys.argv[1], sys.argv[2], float(sys.argv[3])
	t0, t_kill, t_ekill, t_back, t_cut = map(float, sys.argv[4:9])
	n = int(sys.argv[9])
	ips = sys.argv[10].split(",")
	# RFC 3074 table, read from the dataplane's own source
	src = open(lbc).read()
	tbl = [int(x) for x in re.findall(r"\d+", src.split("loadb_mx_tbl[256] = {")[1].split("}")[0])]
	assert len(tbl) == 256
	def bucket(mac):
	    h = len(mac)
	    for b in mac:
	        h = tbl[h ^ b]
	    return h
	acks = []
	for p in PcapReader(work + "/relay.pcap"):
	    if DHCP not in p:
	        continue
	    o = dict(x for x in p[DHCP].options if isinstance(x, tuple) and len(x) == 2)
	    if o.get("message-type") != 5:
	        continue
	    m = bytes(p[BOOTP].chaddr[:6])
	    acks.append((float(p.time), ":".join("%02x" % b for b in m), p[BOOTP].yiaddr,
	                 o.get("server_id"), bucket(m)))
	lines = open(work + "/etcd.dump").read().split("\n")
	etcd = {}
	for k, v in zip(lines[0::2], lines[1::2]):
	    if k:
	        etcd[k.rsplit("/", 1)[1]] = json.loads(v)
	lost = [a for a in acks if etcd.get(a[2], {}).get("mac") != a[1]]
	by_ip = {}
	for a in acks:
	    by_ip.setdefault(a[2], set()).add(a[1])
	doubled = [ip for ip, macs in by_ip.items() if len(macs) > 1]
	s1, s2 = "198.18.0.1", "198.18.0.2"
	dead = [a for a in acks if a[3] == s2 and t_kill + 0.2 < a[0] < t_back - 3]
	cut = [a for a in acks if a[3] == s1 and a[0] > t_cut + 1.0]
	# buckets seen served by server 2 before its kill, by server 1 before its cut
	b2 = {a[4] for a in acks if a[3] == s2 and a[0] < t_kill}
	b1 = {a[4] for a in acks if a[3] == s1 and t_back + 2 < a[0] < t_cut}
	took2 = [a for a in acks if a[3] != s2 and a[4] in b2 and t_kill < a[0] < t_back]
	took1 = [a for a in acks if a[3] != s1 and a[4] in b1 and a[0] > t_cut]
	after_ekill = [a for a in acks if t_ekill + 1 < a[0] < t_back]
	tk2 = min(a[0] for a in took2) - t_kill if took2 else -1
	tk1 = min(a[0] for a in took1) - t_cut if took1 else -1
	span = (max(a[0] for a in acks) - min(a[0] for a in acks)) if acks else 0
	print("acks=%d" % len(acks))
	print("lost=%d" % len(lost))
	print("doubled=%d" % len(doubled))
	print("acks_from_dead=%d" % len(dead))
	print("acks_from_cut=%d" % len(cut))
	print("buckets_of_s2=%d taken_over=%d takeover_kill_s=%.2f" % (len(b2), len(took2), tk2))
	print("buckets_of_s1=%d taken_over=%d takeover_cut_s=%.2f" % (len(b1), len(took1), tk1))
	print("acks_after_etcd_member_kill=%d" % len(after_ekill))
	per = [sum(1 for a in acks if a[3] == ip) for ip in ips]
	print("acks_per_server=%s" % ",".join(map(str, per)))
	print("servers_silent=%d" % sum(1 for x in per if x == 0))
	for l in open(work + "/resv.txt"):
	    mac, ip = l.split()
	    print("reservation %s %s in etcd: %s" % (mac, ip, etcd.get(ip, {}).get("mac") == mac))
	print("ack_rate=%.1f" % (len(acks) / span if span else 0))
	for a in lost[:5]:
	    print("LOST %s %s %s at +%.2f s (etcd: %s)" % (a[1], a[2], a[3], a[0] - t0, etcd.get(a[2])))
	for ip in doubled[:5]:
	    print("DOUBLED %s %s" % (ip, sorted(by_ip[ip])))
	PY
cat "$CLU_WORK/verdict.txt"
v() { sed -n "s/^$1=\([0-9.-]*\).*/\1/p" "$CLU_WORK/verdict.txt"; }
vv() { grep -o "$1=[0-9.-]*" "$CLU_WORK/verdict.txt" | cut -d= -f2; }
sb_check "DHCPACKs seen on the wire ($(v acks))" [ "$(v acks)" -gt $((RATE * SECS / 10)) ]
sb_check "lost = 0: every ACKed address is bound to its MAC in etcd" [ "$(v lost)" = 0 ]
sb_check "doubled = 0: no address ACKed to two MACs" [ "$(v doubled)" = 0 ]
sb_check "no ACK from server 2 while it was dead" [ "$(v acks_from_dead)" = 0 ]
sb_check "no ACK from server 1 after it was cut off from etcd (1 s grace)" [ "$(v acks_from_cut)" = 0 ]
tk2=$(vv takeover_kill_s) tk1=$(vv takeover_cut_s)
sb_check "clients of the killed server 2 served by the others (take-over ${tk2} s)" \
	"$CLU_PY" -c "import sys; t=float(sys.argv[1]); sys.exit(not (0 <= t <= $CLU_TTL + 3))" "$tk2"
sb_check "clients of the cut-off server 1 served by the others (take-over ${tk1} s)" \
	"$CLU_PY" -c "import sys; t=float(sys.argv[1]); sys.exit(not (0 <= t <= $CLU_TTL + 3))" "$tk1"
sb_check "ACKs go on with one etcd member of 3 dead ($(v acks_after_etcd_member_kill))" \
	[ "$(v acks_after_etcd_member_kill)" -gt 0 ]
sb_check "every server ACKed clients, the one behind the relay too (ACKs per server $(grep -o 'acks_per_server=.*' "$CLU_WORK/verdict.txt" | cut -d= -f2))" \
	[ "$(v servers_silent)" = 0 ]
sb_check "the reserved clients' leases are bound to their MACs in etcd" \
	sh -c "! grep -q '^reservation .* in etcd: False' '$CLU_WORK/verdict.txt'"
sb_check "server 1 cut off says so: ready false, etcd unreachable, no bucket" \
	"$CLU_PY" -c "import json,sys; c=json.load(open(sys.argv[1]))['arguments']['cluster']; sys.exit(not (c['ready'] is False and c['etcd']['reachable'] is False and c['buckets_owned'] == 0))" "$CLU_WORK/s1.cut.json"
sb_check "server 1's log says why it stopped" grep -q "NOT ready" "$SB_RUN/ctl1.log"
for ((i = 1; i <= N; i++)); do
	"$CLU_PY" -c "import json,sys; c=json.load(open(sys.argv[1]))['arguments']['cluster']['leases']; print('s%s commits: %s' % (sys.argv[2], json.dumps(c)))" "$CLU_WORK/s$i.end.json" "$i" || true
done
grep -E "Rate|Drops|DO|RA" "$CLU_WORK/perfdhcp.log" | head -8 || true
sb_summary
