# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# clu-lib.sh - the scale-out lab (docs/SCALE-OUT.md): an etcd cluster and N stormboot servers
# in network namespaces on one bridge. Source it (after tests/lab/lib.sh's variables); or run
# tests/cluster/cluster-lab.sh up|down for a lab by hand.
#
#   P = $SB_PREFIX (default "ec")
#   ${P}sw    switch namespace, bridge ${P}br
#   ${P}s<i>  server i (1..N): veth ${P}<i>, boot address 198.18.0.<i>/24 and etcd-side
#             address 198.18.7.<10+i>/24 on the same veth, MAC 02:5c:00:00:00:0<i>, route to
#             the relayed clients' 198.18.16.0/20; stormboot-control and stormboot-dataplane
#             (net_af_xdp on ${P}<i>, its own --file-prefix sb-${P}<i>, -I idle sleep so that
#             N pollers share 2 CPUs) both run inside it, control's sockets under
#             $CLU_WORK/s<i>/
#   ${P}et    etcd namespace: veth ${P}e, 198.18.7.1..M/24, one etcd member per address
#             (client port 2379, peer port 2380), data under $CLU_WORK/etcd<m>/
#   ${P}cl    client namespace: veth ${P}c0, 198.18.16.1/20 (perfdhcp's giaddr: it sends
#             broadcast DISCOVERs as a relay, every server hears them)
#   ${P}uc    a real client's namespace (busybox udhcpc): veth ${P}u0 on the bridge
#   with CLU_RELAY=1, one more server (number N+1) behind a DHCP relay:
#   ${P}rl    relay namespace: ISC dhcrelay; veth ${P}r0 on the bridge (198.18.0.254/24,
#             198.18.7.254/24: its giaddr, and the router to etcd), veth ${P}r1 198.18.8.1/24
#             to server N+1's boot veth ${P}<N+1> 198.18.8.<N+1>/24; it forwards (ip_forward),
#             so server N+1 reaches etcd and perfdhcp's giaddr through it. Server N+1 hears
#             no broadcast of the bridge: only what dhcrelay relays to it.
#
#   clu_init                     root/commands check, work dir, EXIT trap (everything down)
#   clu_up N M                   namespaces, veths, bridge for N servers and M etcd members
#                                (CLU_RELAY=1: and server N+1 behind the relay, dhcrelay started)
#   clu_ip i                     server i's address (its DHCP server identifier)
#   clu_etcd_start M             the M members, waits for a leader
#   clu_etcd_kill m              kill -9 member m
#   clu_config i                 write server i's config
#   clu_server_start i           control + dataplane of server i, waits until ready
#   clu_server_kill i            kill -9 both processes of server i
#   clu_cut i / clu_uncut i      server i loses / gets back its routes to etcd (blackhole)
#   clu_status i                 `stormbootctl --json status` of server i
#   clu_cl i KEY                 one field of its "cluster" status (python expression)
#   clu_bucket MAC               the MAC's RFC 3074 bucket (the dataplane's own table)
#   clu_owner MAC                which server answers MAC now (from each one's bucket_map)
#   clu_udhcpc MAC OUT           busybox udhcpc as MAC in ${P}uc: "ip=.. serverid=.." in OUT
#   clu_down                     everything this lab started, by PID, and its namespaces
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-ec}
CLU_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$CLU_HERE/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
. "$SOURCE_DIR/tests/lab/lib.sh"
P=$SB_PREFIX
CLU_CTLD=$BUILD_DIR/control/stormboot-control
CLU_CTL=$BUILD_DIR/control/stormbootctl
CLU_DP=$BUILD_DIR/dataplane/engine/stormboot-dataplane
CLU_XDP=$BUILD_DIR/bpf/stormboot_xdp.o
CLU_PY=/usr/bin/python3
CLU_IDLE_US=${CLU_IDLE_US:-50}
CLU_TTL=${CLU_TTL:-3}
CLU_LCORE=${CLU_LCORE:-$(($(nproc) - 1))}
CLU_N=0 CLU_M=0 CLU_R=0 # bridge servers, etcd members, the server behind the relay (0: none)

clu_cleanup() {
	local rc=$?
	set +e
	clu_down
	[ -n "${CLU_KEEP:-}" ] || rm -rf "${CLU_WORK:-/nonexistent}"
	exit "$rc"
}

clu_init() {
	sb_need_root
	sb_need_cmd ip etcd etcdctl perfdhcp tcpdump busybox "$CLU_PY"
	[ "${CLU_RELAY:-0}" = 0 ] || sb_need_cmd dhcrelay
	[ -x "$CLU_DP" ] && [ -x "$CLU_CTLD" ] || sb_fail "build first (BUILD_DIR=$BUILD_DIR)"
	CLU_WORK=$(mktemp -d "/tmp/${P}-clu.XXXXXX")
	chmod 755 "$CLU_WORK"
	trap clu_cleanup EXIT
	trap 'exit 130' INT TERM
}

clu_ns_del() {
	local ns=$1 p
	ip netns list | awk '{print $1}' | grep -qx "$ns" || return 0
	for p in $(ip netns pids "$ns" 2>/dev/null); do sb_kill_pid "$p" 3; done
	ip netns del "$ns"
}

clu_down() {
	local ns
	sb_stop_all
	for ns in $(ip netns list | awk '{print $1}'); do
		case $ns in "${P}sw" | "${P}et" | "${P}cl" | "${P}uc" | "${P}rl" | "${P}s"[0-9]*) clu_ns_del "$ns" ;; esac
	done
}

clu_newns() {
	ip netns add "$1"
	sb_in "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	sb_in "$1" ip link set lo up
}

# clu_port NS IF SWNAME: a veth from NS to the bridge
clu_port() {
	ip link add "$2" netns "$1" type veth peer name "$3" netns "${P}sw"
	sb_in "${P}sw" ip link set "$3" master "${P}br" up
}

clu_up() {
	local n=$1 m=$2 i
	CLU_N=$n CLU_M=$m
	"$SOURCE_DIR/tests/lab/prepare-host.sh" >/dev/null 2>&1 || sb_log "warning: host preparation incomplete"
	clu_down
	clu_newns "${P}sw"
	sb_in "${P}sw" ip link add "${P}br" type bridge stp_state 0 forward_delay 0
	sb_in "${P}sw" ip link set "${P}br" up
	for ((i = 1; i <= n; i++)); do
		clu_newns "${P}s$i"
		clu_port "${P}s$i" "${P}$i" "${P}w$i"
		sb_in "${P}s$i" ip link set "${P}$i" address "02:5c:00:00:00:0$i"
		sb_in "${P}s$i" ip addr add "198.18.0.$i/24" dev "${P}$i"
		sb_in "${P}s$i" ip addr add "198.18.7.$((10 + i))/24" dev "${P}$i"
		sb_in "${P}s$i" ip link set "${P}$i" up
		sb_in "${P}s$i" ip route add 198.18.16.0/20 dev "${P}$i"
		mkdir -p "$CLU_WORK/s$i"
	done
	clu_newns "${P}et"
	clu_port "${P}et" "${P}e" "${P}we"
	for ((i = 1; i <= m; i++)); do sb_in "${P}et" ip addr add "198.18.7.$i/24" dev "${P}e"; done
	sb_in "${P}et" ip link set "${P}e" up
	clu_newns "${P}cl"
	clu_port "${P}cl" "${P}c0" "${P}wc"
	sb_in "${P}cl" ip link set "${P}c0" address 02:5c:00:00:01:01
	sb_in "${P}cl" ethtool -K "${P}c0" tx off >/dev/null
	sb_in "${P}cl" ip addr add 198.18.16.1/20 dev "${P}c0"
	sb_in "${P}cl" ip link set "${P}c0" up
	sb_in "${P}cl" ip route add 198.18.0.0/24 dev "${P}c0"
	sb_in "${P}cl" ip route add 198.18.8.0/24 via 198.18.0.254
	clu_newns "${P}uc"
	clu_port "${P}uc" "${P}u0" "${P}wu"
	[ "${CLU_RELAY:-0}" = 0 ] || clu_relay_up
	sb_log "cluster lab up: $n servers on the bridge$([ "$CLU_R" = 0 ] || echo " and server $CLU_R behind a relay"), $m etcd members (prefix $P, work $CLU_WORK)"
}

clu_ip() { if [ "$1" = "$CLU_R" ]; then echo "198.18.8.$1"; else echo "198.18.0.$1"; fi; }

# The relay: server N+1 on a segment of its own, ISC dhcrelay between it and the bridge.
clu_relay_up() {
	local r=$((CLU_N + 1))
	CLU_R=$r
	clu_newns "${P}rl"
	clu_port "${P}rl" "${P}r0" "${P}wr"
	sb_in "${P}rl" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
	sb_in "${P}rl" ip addr add 198.18.0.254/24 dev "${P}r0"
	sb_in "${P}rl" ip addr add 198.18.7.254/24 dev "${P}r0"
	sb_in "${P}rl" ip link set "${P}r0" up
	sb_in "${P}rl" ip route add 198.18.16.0/20 dev "${P}r0"
	clu_newns "${P}s$r"
	ip link add "${P}r1" netns "${P}rl" type veth peer name "${P}$r" netns "${P}s$r"
	sb_in "${P}rl" ip addr add 198.18.8.1/24 dev "${P}r1"
	sb_in "${P}rl" ip link set "${P}r1" up
	sb_in "${P}s$r" ip link set "${P}$r" address "02:5c:00:00:00:0$r"
	sb_in "${P}s$r" ip addr add "198.18.8.$r/24" dev "${P}$r"
	sb_in "${P}s$r" ip link set "${P}$r" up
	for net in 198.18.0.0/24 198.18.7.0/24 198.18.16.0/20; do
		sb_in "${P}s$r" ip route add "$net" via 198.18.8.1
	done
	sb_in "${P}et" ip route add 198.18.8.0/24 via 198.18.7.254
	mkdir -p "$CLU_WORK/s$r"
	# -id: where clients are (giaddr 198.18.0.254 when a client's request has none);
	# -iu: towards the server; replies come back to port 67 of 198.18.0.254 / 198.18.8.1
	sb_start dhcrelay "${P}rl" dhcrelay -d -4 -q -pf "$CLU_WORK/dhcrelay.pid" \
		-id "${P}r0" -iu "${P}r1" "198.18.8.$r"
	sb_wait_for 10 sb_in "${P}rl" sh -c "ss -lun | grep -q ':67 '" ||
		sb_fail "dhcrelay did not start: $(tail -5 "$SB_RUN/dhcrelay.log")"
}

clu_bucket() {
	"$CLU_PY" - "$SOURCE_DIR/dataplane/core/dhcp_lb.c" "$1" <<-'PY'
	import re, sys
	src = open(sys.argv[1]).read()
	tbl = [int(x) for x in re.findall(r"\d+", src.split("loadb_mx_tbl[256] = {")[1].split("}")[0])]
	mac = bytes(int(x, 16) for x in sys.argv[2].split(":"))
	h = len(mac)
	for b in mac:
	    h = tbl[h ^ b]
	print(h)
	PY
}

clu_owner() {
	local b i map byte
	b=$(clu_bucket "$1")
	for ((i = 1; i <= CLU_N + (CLU_R > 0); i++)); do
		map=$(clu_cl "$i" "['bucket_map']") || continue
		byte=$((16#${map:$((b / 8 * 2)):2}))
		if (((byte >> (b % 8)) & 1)); then
			echo "$i"
			return 0
		fi
	done
	return 1
}

clu_udhcpc() {
	local mac=$1 out=$2
	cat >"$CLU_WORK/udhcpc.script" <<-'EOS'
	#!/bin/sh
	case "$1" in
	bound | renew) echo "ip=$ip serverid=$serverid siaddr=$siaddr" >"$LEASE_OUT" ;;
	esac
	exit 0
	EOS
	chmod +x "$CLU_WORK/udhcpc.script"
	sb_in "${P}uc" ip link set "${P}u0" down
	sb_in "${P}uc" ip link set "${P}u0" address "$mac"
	sb_in "${P}uc" ip link set "${P}u0" up
	rm -f "$out"
	sb_in "${P}uc" env LEASE_OUT="$out" timeout 30 busybox udhcpc -i "${P}u0" -n -q -t 5 -T 2 \
		-s "$CLU_WORK/udhcpc.script" >"$out.log" 2>&1 || true
	grep -q '^ip=' "$out" 2>/dev/null
}

clu_endpoints() { # JSON list of the members' client URLs
	local i s=""
	for ((i = 1; i <= CLU_M; i++)); do s="$s${s:+, }\"http://198.18.7.$i:2379\""; done
	echo "[$s]"
}

clu_etcd_start() {
	local m=$1 i init=""
	for ((i = 1; i <= m; i++)); do init="$init${init:+,}e$i=http://198.18.7.$i:2380"; done
	for ((i = 1; i <= m; i++)); do
		# heartbeat/election tighter than the defaults: a lost member's leadership moves
		# quickly; max-txn-ops: a group commit of up to 1024 leases
		sb_start "etcd$i" "${P}et" etcd --name "e$i" --data-dir "$CLU_WORK/etcd$i" \
			--listen-client-urls "http://198.18.7.$i:2379" \
			--advertise-client-urls "http://198.18.7.$i:2379" \
			--listen-peer-urls "http://198.18.7.$i:2380" \
			--initial-advertise-peer-urls "http://198.18.7.$i:2380" \
			--initial-cluster "$init" --initial-cluster-state new \
			--heartbeat-interval 100 --election-timeout 1000 --max-txn-ops 1024 \
			--log-level warn
	done
	sb_wait_for 30 sb_in "${P}et" env ETCDCTL_API=3 etcdctl \
		--endpoints "http://198.18.7.1:2379" endpoint health >/dev/null 2>&1 ||
		sb_fail "etcd did not come up: $(tail -5 "$SB_RUN/etcd1.log")"
}

clu_etcd_kill() {
	local pid
	pid=$(sb_pid "etcd$1")
	kill -9 "$pid"
	sb_wait_for 5 sh -c "! kill -0 $pid 2>/dev/null" || true
	rm -f "$SB_RUN/etcd$1.pid"
}

clu_etcdctl() { sb_in "${P}et" env ETCDCTL_API=3 etcdctl --endpoints "http://198.18.7.1:2379,http://198.18.7.2:2379,http://198.18.7.3:2379" --command-timeout=5s "$@"; }

# clu_config i [batch|local]: server i's config ("local": no cluster, leases in the local log);
# CLU_BOOT (a "dhcp.boot" object) and CLU_TFTP ('"tftp": {...}, "images": [...]') for boots
clu_config() {
	local i=$1 batch=${2:-128} cluster tftp boot
	cluster=", \"cluster\": { \"server_id\": \"s$i\", \"etcd\": { \"endpoints\": $(clu_endpoints), \"timeout_ms\": 800 }, \"lease_ttl_s\": $CLU_TTL, \"commit_batch_max\": $batch }"
	[ "$batch" = local ] && cluster=""
	tftp=${CLU_TFTP:-'"tftp": { "enabled": false }'}
	boot=""
	[ -z "${CLU_BOOT:-}" ] || boot=" \"boot\": $CLU_BOOT,"
	cat >"$CLU_WORK/s$i/stormboot.json" <<-EOF
	{ "interface": "${P}$i", "server_ip": "$(clu_ip "$i")", "queues": 1,
	  "dhcp": { "mode": "full", "durability": "strict",$boot
	            "subnets": [
	              { "network": "198.18.0.0/24", "pool": { "start": "198.18.0.100", "end": "198.18.0.199" },
	                "lease_time": 600 },
	              { "network": "198.18.16.0/20", "pool": { "start": "198.18.16.10", "end": "198.18.31.250" },
	                "router": "198.18.16.1", "lease_time": 600 } ] },
	  $tftp$cluster }
	EOF
}

clu_status() { STORMBOOT_SOCKET=$CLU_WORK/s$1/control.sock "$CLU_CTL" --json status 2>/dev/null; }
clu_cl() {
	clu_status "$1" | "$CLU_PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' \
		"d['arguments']['cluster']$2" 2>/dev/null
}

clu_server_start() {
	local i=$1 w=$CLU_WORK/s$1
	sb_start "ctl$i" "${P}s$i" "$CLU_CTLD" -f -c "$w/stormboot.json" -s "$w/control.sock" -d "$w/state"
	sb_wait_for 10 test -S "$w/control.sock" || sb_fail "control s$i did not start: $(tail -5 "$SB_RUN/ctl$i.log")"
	sb_start "dp$i" "${P}s$i" sh -c \
		"mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec '$CLU_DP' -- -c '$w/stormboot.json' -x '$CLU_XDP' -C '$w/dataplane.sock' -l $CLU_LCORE -I $CLU_IDLE_US"
	sb_wait_for 30 grep -q "serving " "$SB_RUN/dp$i.log" || {
		tail -20 "$SB_RUN/dp$i.log" >&2
		sb_fail "dataplane s$i did not come up"
	}
	sb_wait_for 15 sh -c "[ \"\$(STORMBOOT_SOCKET='$w/control.sock' '$CLU_CTL' --json status | '$CLU_PY' -c 'import json,sys; d=json.load(sys.stdin)[\"arguments\"]; print(d[\"dataplane\"][\"connected\"] and d.get(\"cluster\", {\"ready\": True})[\"ready\"])')\" = True ]" ||
		sb_fail "server s$i not ready: $(clu_status "$i" | head -c 600)"
}

clu_server_kill() {
	local i=$1 n pid
	for n in "dp$i" "ctl$i"; do
		pid=$(sb_pid "$n") || continue
		kill -9 "$pid" 2>/dev/null || true
		sb_wait_for 5 sh -c "! kill -0 $pid 2>/dev/null" || true
		cat "$SB_RUN/$n.log" >>"$CLU_WORK/$n.all.log"
		rm -f "$SB_RUN/$n.pid"
	done
}

clu_cut() {
	local m
	for ((m = 1; m <= CLU_M; m++)); do sb_in "${P}s$1" ip route add blackhole "198.18.7.$m/32"; done
}

clu_uncut() {
	local m
	for ((m = 1; m <= CLU_M; m++)); do sb_in "${P}s$1" ip route del blackhole "198.18.7.$m/32"; done
}
