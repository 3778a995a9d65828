#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# lab.sh - the standard stormboot lab: network namespaces joined by veth,
# addresses only from 198.18.0.0/15.
#
# Usage (root):
#   lab.sh up [--queues N] [--clients N] [--relay] [--tx-csum-off] [--ipv6] [--no-prepare]
#   lab.sh down
#   lab.sh status
#   lab.sh env                 print the lab's variables (eval "$(lab.sh env)")
#   lab.sh exec NS CMD...      run CMD in namespace NS (srv, cli, cli2.., rly, or a name)
#
# Names (P = $SB_PREFIX, default "sb"; set another prefix to run a second lab
# at the same time, e.g. SB_PREFIX=t1):
#   ${P}srv   server namespace: veth ${P}0, 198.18.0.1/24, MAC 02:5b:00:00:00:01,
#             N rx/tx queues (--queues, default 1, also on the peer)
#   ${P}cli   client namespace: veth ${P}c0, no address (DHCP clients), MAC
#             02:5b:00:00:01:01; more clients: ${P}cli2.. (MAC ..:01:02, ..)
#   ${P}rly   relay namespace (--relay): veth ${P}r0, 198.18.1.1/24, MAC
#             02:5b:00:00:02:01, route to 198.18.0.0/24; the server gets a route
#             to 198.18.1.0/24 on ${P}0 so replies to giaddr go back on the boot
#             interface
#   ${P}sw    switch namespace with bridge ${P}br, only when there is more than
#             one client or a relay; otherwise ${P}0 and ${P}c0 are one veth pair
# With --tx-csum-off the client and relay veths compute UDP checksums in
# software (ethtool -K IF tx off), so frames carry complete checksums.
# IPv6 is off in every lab namespace (no ND/MLD noise on the boot interface)
# unless --ipv6.
#
# State: tests/lab/run/${P}/lab.env (what was made) and *.pid (processes that
# lab tests start through lib.sh's sb_start). `down` stops those PIDs, every
# process left in the lab's namespaces, and deletes the namespaces.
# `up` runs prepare-host.sh first (hugepages, hugetlbfs, bpffs) unless
# --no-prepare.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

P=$SB_PREFIX
ENVF=$SB_RUN/lab.env
NS_SRV=${P}srv NS_SW=${P}sw NS_RLY=${P}rly
IF_SRV=${P}0 IF_BR=${P}br IF_RLY=${P}r0
SRV_ADDR=198.18.0.1
RLY_ADDR=198.18.1.1

[ ${#P} -le 8 ] || sb_fail "SB_PREFIX '$P' too long (at most 8 characters: interface names)"

usage() { sed -n '4,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

ns_cli() { [ "$1" = 1 ] && echo "${P}cli" || echo "${P}cli$1"; }

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

ns_del() {
	local ns=$1 p
	ns_exists "$ns" || return 0
	for p in $(ip netns pids "$ns" 2>/dev/null); do sb_kill_pid "$p" 3; done
	ip netns del "$ns"
}

cmd_down() {
	local list="" ns
	if [ -f "$ENVF" ]; then
		# shellcheck disable=SC1090
		list=$(. "$ENVF" && echo "$SB_LAB_NAMESPACES")
	fi
	sb_stop_all
	# also the fixed names of this prefix, in case lab.env was lost
	list="$list $NS_SRV $NS_SW $NS_RLY"
	for ns in $(ip netns list | awk '{print $1}'); do
		case $ns in "${P}cli" | "${P}cli"[0-9]*) list="$list $ns" ;; esac
	done
	for ns in $(echo "$list" | tr ' ' '\n' | sort -u); do
		[ -n "$ns" ] || continue
		ns_exists "$ns" && sb_log "lab down: namespace $ns"
		ns_del "$ns"
	done
	rm -f "$ENVF" "$SB_RUN"/*.pid # logs stay for a look after the run
}

cmd_up() {
	local queues=${SB_QUEUES:-1} clients=${SB_CLIENTS:-1} relay=${SB_RELAY:-0}
	local csum_off=${SB_TX_CSUM_OFF:-0} prepare=1 ipv6=${SB_IPV6:-0}
	while [ $# -gt 0 ]; do
		case $1 in
		--queues) queues=$2; shift ;;
		--clients) clients=$2; shift ;;
		--relay) relay=1 ;;
		--tx-csum-off) csum_off=1 ;;
		--ipv6) ipv6=1 ;;
		--no-prepare) prepare=0 ;;
		*) usage ;;
		esac
		shift
	done
	[[ $queues =~ ^[0-9]+$ && $queues -ge 1 && $queues -le 64 ]] || sb_fail "--queues 1..64"
	[[ $clients =~ ^[0-9]+$ && $clients -ge 1 && $clients -le 64 ]] || sb_fail "--clients 1..64"

	sb_need_root
	sb_need_cmd ip ethtool
	if [ $prepare = 1 ]; then
		"$HERE/prepare-host.sh" >&2 || sb_log "warning: host preparation incomplete (see above)"
	fi
	cmd_down 2>/dev/null || true
	mkdir -p "$SB_RUN"

	local switch=0 nslist="$NS_SRV" i ns mac
	{ [ "$clients" -gt 1 ] || [ "$relay" = 1 ]; } && switch=1
	trap 'sb_log "lab up failed, tearing down"; cmd_down' ERR
	# every namespace is made by newns, so IPv6 is off before any link exists
	newns() {
		ip netns add "$1"
		if [ "$ipv6" = 0 ]; then
			sb_in "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
				net.ipv6.conf.default.disable_ipv6=1
		fi
	}

	newns $NS_SRV
	sb_in $NS_SRV ip link set lo up
	local qopt="numrxqueues $queues numtxqueues $queues"
	if [ $switch = 0 ]; then
		ns=$(ns_cli 1)
		newns "$ns"
		nslist="$nslist $ns"
		# shellcheck disable=SC2086
		ip link add $IF_SRV $qopt netns $NS_SRV type veth peer name ${P}c0 $qopt netns "$ns"
	else
		newns $NS_SW
		nslist="$nslist $NS_SW"
		sb_in $NS_SW ip link set lo up
		sb_in $NS_SW ip link add $IF_BR type bridge stp_state 0 forward_delay 0
		sb_in $NS_SW ip link set $IF_BR up
		# shellcheck disable=SC2086
		ip link add $IF_SRV $qopt netns $NS_SRV type veth peer name ${P}sw0 $qopt netns $NS_SW
		sb_in $NS_SW ip link set ${P}sw0 master $IF_BR up
		for ((i = 1; i <= clients; i++)); do
			ns=$(ns_cli $i)
			newns "$ns"
			nslist="$nslist $ns"
			ip link add ${P}c0 netns "$ns" type veth peer name ${P}swc$i netns $NS_SW
			sb_in $NS_SW ip link set ${P}swc$i master $IF_BR up
		done
		if [ "$relay" = 1 ]; then
			newns $NS_RLY
			nslist="$nslist $NS_RLY"
			sb_in $NS_RLY ip link set lo up
			ip link add $IF_RLY netns $NS_RLY type veth peer name ${P}swr netns $NS_SW
			sb_in $NS_SW ip link set ${P}swr master $IF_BR up
			sb_in $NS_RLY ip link set $IF_RLY address 02:5b:00:00:02:01
			[ "$csum_off" = 1 ] && sb_in $NS_RLY ethtool -K $IF_RLY tx off >/dev/null
			sb_in $NS_RLY ip addr add $RLY_ADDR/24 dev $IF_RLY
			sb_in $NS_RLY ip link set $IF_RLY up
			sb_in $NS_RLY ip route add 198.18.0.0/24 dev $IF_RLY
		fi
	fi
	sb_in $NS_SRV ip link set $IF_SRV address 02:5b:00:00:00:01
	sb_in $NS_SRV ip addr add $SRV_ADDR/24 dev $IF_SRV
	sb_in $NS_SRV ip link set $IF_SRV up
	[ "$relay" = 1 ] && sb_in $NS_SRV ip route add 198.18.1.0/24 dev $IF_SRV
	for ((i = 1; i <= clients; i++)); do
		ns=$(ns_cli $i)
		mac=$(printf '02:5b:00:00:01:%02x' $i)
		sb_in "$ns" ip link set lo up
		sb_in "$ns" ip link set ${P}c0 address "$mac"
		[ "$csum_off" = 1 ] && sb_in "$ns" ethtool -K ${P}c0 tx off >/dev/null
		sb_in "$ns" ip link set ${P}c0 up
	done
	trap - ERR

	local clist=""
	for ((i = 1; i <= clients; i++)); do clist="$clist $(ns_cli $i)"; done
	cat >"$ENVF" <<-EOF
	# made by tests/lab/lab.sh up on $(date -Is)
	SB_PREFIX=$P
	SB_LAB_NAMESPACES="$nslist"
	SB_NS_SRV=$NS_SRV
	SB_IF_SRV=$IF_SRV
	SB_SRV_ADDR=$SRV_ADDR
	SB_SRV_MAC=02:5b:00:00:00:01
	SB_NS_CLI=$(ns_cli 1)
	SB_NS_CLIENTS="${clist# }"
	SB_IF_CLI=${P}c0
	SB_CLI_MAC=02:5b:00:00:01:01
	SB_QUEUES=$queues
	SB_SWITCH=$switch
	SB_RELAY=$relay
	SB_NS_RLY=$([ "$relay" = 1 ] && echo $NS_RLY)
	SB_IF_RLY=$([ "$relay" = 1 ] && echo $IF_RLY)
	SB_RLY_ADDR=$([ "$relay" = 1 ] && echo $RLY_ADDR)
	SB_TX_CSUM_OFF=$csum_off
	SB_IPV6=$ipv6
	SB_RUN=$SB_RUN
	EOF
	sb_log "lab up: $nslist (queues $queues, tx checksum offload $([ "$csum_off" = 1 ] && echo off || echo on))"
}

cmd_status() {
	if [ ! -f "$ENVF" ]; then
		echo "lab $P: down"
		return 1
	fi
	cat "$ENVF"
	local ns
	# shellcheck disable=SC1090
	for ns in $(. "$ENVF" && echo "$SB_LAB_NAMESPACES"); do
		echo "--- $ns"
		sb_in "$ns" ip -br addr 2>/dev/null || echo "(missing)"
	done
	local f
	for f in "$SB_RUN"/*.pid; do
		[ -f "$f" ] || continue
		echo "process $(basename "$f" .pid): pid $(cat "$f") $(kill -0 "$(cat "$f")" 2>/dev/null && echo running || echo gone)"
	done
}

cmd_exec() {
	[ $# -ge 2 ] || usage
	local ns=$1
	shift
	case $ns in
	cli1) ns=${P}cli ;;
	srv | cli | cli[0-9]* | rly | sw) ns=$P$ns ;;
	esac
	exec ip netns exec "$ns" "$@"
}

case ${1:-} in
up) shift; cmd_up "$@" ;;
down) sb_need_root; cmd_down ;;
status) cmd_status ;;
env) [ -f "$ENVF" ] && cat "$ENVF" || sb_fail "lab $P is down" ;;
exec) shift; cmd_exec "$@" ;;
*) usage ;;
esac
