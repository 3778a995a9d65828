#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# bench-servers.sh - stormboot against the reference servers, same lab, same run.
#
#   sudo perf/bench-servers.sh [--quick] [--only dhcp|tftp] [--servers LIST]
#                              [--build DIR] [--image-mib N] [--clients "1 16 64"]
#                              [--client curl|atftp] [--blksize B] [--windowsize W]
#                              [--step-secs S] [--max-minutes M]
#                              [--client-cpus LIST|""] [--keep]
#
# DHCP (ISC perfdhcp, relayed unicast with giaddr, random MACs from a list):
#   DORA/s at < 1 % drops (rate stepped up, then bisected; best passing rate) and
#   the time to provision an avalanche of 5,000 clients, against dnsmasq, Kea
#   (multi-threaded, memfile persist false, and persist true) and stormboot.
#   Also perfdhcp's own ceiling, so it is not mistaken for a server's.
# TFTP (N parallel clients fetching one image, every download compared with cmp):
#   aggregate MB/s and per-client completion p50/max for N = 1, 16, 64 against
#   dnsmasq, tftpd-hpa and stormboot, three times: lockstep (N curl processes,
#   blksize only), lockstep with tftp_load (perf/tftp_load.c from the build dir:
#   the N clients in one epoll process, each block compared as it arrives; a
#   curl costs 40-70 us of client CPU per block, so on a small machine the N curls
#   are the bottleneck, tftp_load much less: its figures are the servers'), and
#   windowed (atftp asking for windowsize W, RFC 7440; a server without RFC 7440
#   answers lockstep, which the table says: that difference is the servers').
# Prints a table with stormboot's ratio to each reference and the RSS of every
# server at start and end; a copy goes to perf/results/<date>.txt.
#
# Lab: network namespaces sbperf-srv and sbperf-cli joined by one veth pair,
# addresses from 198.18.0.0/15 only. Everything started here is killed by PID
# and the namespaces are deleted on exit. The run is bounded (--max-minutes).
# docs/PERFORMANCE.md explains the figures and the fairness settings.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

# ---------------------------------------------------------------- settings
quick=0
only=all
servers_opt=""
build_dir=""
image_mib=32
clients_list="1 16 64"
tftp_client=curl
step_secs=5
max_minutes="" # default: 40 (8 with --quick)
blksize=1468
windowsize=8 # windowed phase (atftp); 0 skips it
# Clients (perfdhcp, curl/atftp) run on these CPUs; stormboot's lcore on
# SB_CPUS (1). Reference servers are not pinned: they may use every CPU.
client_cpus=0
[ "$(nproc)" -lt 2 ] && client_cpus=""
keep=0 # --keep: leave the run directory (configs, server logs, perfdhcp output)

usage() {
	sed -n '4,11p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--only) only=$2; shift ;;
	--servers) servers_opt=$2; shift ;;
	--build) build_dir=$2; shift ;;
	--image-mib) image_mib=$2; shift ;;
	--clients) clients_list=$2; shift ;;
	--client) tftp_client=$2; shift ;;
	--step-secs) step_secs=$2; shift ;;
	--max-minutes) max_minutes=$2; shift ;;
	--blksize) blksize=$2; shift ;;
	--windowsize) windowsize=$2; shift ;;
	--keep) keep=1 ;;
	--client-cpus) client_cpus=$2; shift ;;
	-h | --help) usage ;;
	*) echo "bench-servers: unknown option $1" >&2; usage ;;
	esac
	shift
done

if [ $quick = 1 ]; then
	step_secs=2
	image_mib=8
	clients_list="1 16"
	: "${max_minutes:=8}"
fi
# A full run takes about 25 minutes: DHCP ~6, TFTP two phases x 3 servers x N = 1, 16, 64.
: "${max_minutes:=40}"
case "$only" in all | dhcp | tftp) ;; *) echo "--only dhcp|tftp" >&2; exit 2 ;; esac
case "$tftp_client" in curl | atftp) ;; *) echo "--client curl|atftp" >&2; exit 2 ;; esac

if [ "$(id -u)" != 0 ]; then
	echo "bench-servers: needs root (network namespaces)" >&2
	exit 2
fi

# DHCP figures per server configuration; TFTP per server.
# stormboot-durable: the dataplane with stormboot-control (-C): an ACK leaves only
# once its lease is on disk (group commit, docs/CONTROL.md); next to kea-durable.
dhcp_servers="dnsmasq kea kea-durable stormboot stormboot-durable"
[ $quick = 1 ] && dhcp_servers="dnsmasq kea stormboot stormboot-durable"
tftp_servers="dnsmasq tftpd-hpa stormboot"
if [ -n "$servers_opt" ]; then
	pick() {
		local out="" s
		for s in $1; do
			case ",$servers_opt," in *",$s,"*) out="$out $s" ;; esac
		done
		echo $out
	}
	dhcp_servers=$(pick "$dhcp_servers")
	tftp_servers=$(pick "$tftp_servers")
fi

# Lab addresses (198.18.0.0/15 only). The client address doubles as the relay
# address (giaddr) that perfdhcp puts in every request.
NS_S=sbperf-srv
NS_C=sbperf-cli
IF_S=sbperf-s
IF_C=sbperf-c
SRV_IP=198.18.0.1
CLI_IP=198.18.0.2
PREFIX=15
NETMASK=255.254.0.0
POOL_LO=198.18.1.0
POOL_HI=198.19.255.250 # 130,811 addresses: far more than the MACs we use
DHCP_MACS=10000	       # distinct clients in the rate steps (they renew when picked again)
AVALANCHE=5000

run=$(mktemp -d /tmp/sbperf.XXXXXX)
chmod 755 "$run"
dl=$(mktemp -d /dev/shm/sbperf.XXXXXX) # downloads (tmpfs), removed as they are checked
started_pids=()
declare -A R     # R[server|figure] = value
declare -A RSS   # RSS[server|phase] = "start_kB end_kB"
notes=()

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# ---------------------------------------------------------------- cleanup
kill_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup() {
	local p
	trap - EXIT INT TERM
	kill -TERM -- -"$watchdog_pid" 2>/dev/null
	for p in "${started_pids[@]}"; do
		kill_pid "$p"
	done
	ip netns del $NS_S 2>/dev/null
	ip netns del $NS_C 2>/dev/null
	rm -rf "$dl"
	if [ $keep = 1 ]; then
		rm -f "$run/tftp/image.bin"
		echo "bench-servers: run directory kept: $run" >&2
	else
		rm -rf "$run"
	fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# Bound the whole run: the watchdog sends us SIGTERM, the trap cleans up. It
# runs in its own process group (setsid) so that its sleep dies with it.
setsid bash -c "sleep $((max_minutes * 60)); echo 'bench-servers: time limit of $max_minutes minutes reached, stopping' >&2; kill -TERM $$" \
	</dev/null >/dev/null 2>&1 &
watchdog_pid=$!

# ---------------------------------------------------------------- lab
lab_up() {
	ip netns del $NS_S 2>/dev/null
	ip netns del $NS_C 2>/dev/null
	ip netns add $NS_S || return 1
	ip netns add $NS_C || return 1
	# One queue pair: the dataplane polls one queue on one lcore (config "queues": 1).
	# (veth XDP wants at least as many rx queues as the peer has tx queues.)
	ip link add $IF_S netns $NS_S numrxqueues 1 numtxqueues 1 type veth \
		peer name $IF_C netns $NS_C numrxqueues 1 numtxqueues 1 || return 1
	ip -n $NS_S addr add $SRV_IP/$PREFIX dev $IF_S
	ip -n $NS_C addr add $CLI_IP/$PREFIX dev $IF_C
	ip -n $NS_S link set lo up
	ip -n $NS_C link set lo up
	ip -n $NS_S link set $IF_S up
	ip -n $NS_C link set $IF_C up
}

# Run a client in the client namespace, on the client CPUs (--client-cpus).
cli_exec() {
	if [ -n "$client_cpus" ]; then
		ip netns exec $NS_C taskset -c "$client_cpus" "$@"
	else
		ip netns exec $NS_C "$@"
	fi
}

# Start a command in the server namespace in the background; its PID in $bg_pid.
# (ip netns exec execs the command, so the PID is the server's own.)
start_in_srv() {
	local logf=$1
	shift
	ip netns exec $NS_S "$@" >"$logf" 2>&1 &
	bg_pid=$!
	started_pids+=($bg_pid)
}

stop_pid() {
	kill_pid "$1"
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo "?"
}

hugepages_used_kb() {
	awk '/^HugePages_Total:/ { t = $2 } /^HugePages_Free:/ { f = $2 }
	     /^Hugepagesize:/ { s = $2 } END { print (t - f) * s }' /proc/meminfo
}

# CPU ticks (user + system, all threads) of a process.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

wait_udp_port() { # ns port seconds
	local i
	for i in $(seq 1 $(($3 * 10))); do
		ip netns exec "$1" ss -Hlun "sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- servers
# Each start function sets srv_pid (0 on failure) and leaves its log in $run.

dnsmasq_start() { # mode: dhcp | dhcp-durable | tftp
	local mode=$1 args
	args=(--no-daemon --conf-file=/dev/null --port=0 --interface=$IF_S --bind-interfaces
		--pid-file="$run/dnsmasq.pid" --log-facility="$run/dnsmasq.log")
	case $mode in
	dhcp | dhcp-durable)
		# Fairness: a range as big as Kea's, no lease limit in the way,
		# no ping before offering (Kea does none), no per-lease log line.
		args+=(--dhcp-range=$POOL_LO,$POOL_HI,$NETMASK,1h --dhcp-lease-max=200000
			--dhcp-authoritative --no-ping --quiet-dhcp)
		if [ $mode = dhcp ]; then
			args+=(--leasefile-ro)
		else
			args+=(--dhcp-leasefile="$run/dnsmasq.leases")
		fi
		;;
	tftp)
		args+=(--enable-tftp --tftp-root="$run/tftp" --tftp-max=1000 --quiet-tftp)
		;;
	esac
	start_in_srv "$run/dnsmasq.out" dnsmasq "${args[@]}"
	srv_pid=$bg_pid
	local port=67
	[ $mode = tftp ] && port=69
	wait_udp_port $NS_S $port 5 || { log "dnsmasq did not start: $(tail -3 "$run/dnsmasq.out")"; srv_pid=0; }
}

kea_start() { # mode: dhcp | dhcp-durable
	local persist=false
	[ "$1" = dhcp-durable ] && persist=true
	rm -f "$run/kea-leases4.csv"*
	cat >"$run/kea-dhcp4.json" <<-EOF
	{ "Dhcp4": {
	  "interfaces-config": { "interfaces": [ "$IF_S" ], "dhcp-socket-type": "udp" },
	  "lease-database": { "type": "memfile", "persist": $persist,
	                      "name": "$run/kea-leases4.csv", "lfc-interval": 0 },
	  "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2,
	                       "packet-queue-size": 64 },
	  "valid-lifetime": 3600,
	  "subnet4": [ { "id": 1, "subnet": "198.18.0.0/$PREFIX",
	                 "pools": [ { "pool": "$POOL_LO - $POOL_HI" } ] } ],
	  "loggers": [
	    { "name": "kea-dhcp4", "severity": "WARN",
	      "output_options": [ { "output": "$run/kea.log" } ] },
	    { "name": "kea-dhcp4.options", "severity": "WARN",
	      "output_options": [ { "output": "$run/kea.log" } ] } ]
	} }
	EOF
	start_in_srv "$run/kea.out" env KEA_PIDFILE_DIR="$run" KEA_LOCKFILE_DIR="$run" \
		kea-dhcp4 -c "$run/kea-dhcp4.json"
	srv_pid=$bg_pid
	wait_udp_port $NS_S 67 10 || { log "kea did not start: $(tail -3 "$run/kea.out")"; srv_pid=0; }
}

tftpd_start() {
	# -L foreground, -s chroot to the root, -B max blksize as large as we ask for.
	start_in_srv "$run/tftpd.out" in.tftpd -L -4 -s -B 65464 -a $SRV_IP:69 "$run/tftp"
	srv_pid=$bg_pid
	wait_udp_port $NS_S 69 5 || { log "in.tftpd did not start: $(tail -3 "$run/tftpd.out")"; srv_pid=0; }
}

# ------------------------------------------------- stormboot (pluggable)
# The dataplane binary from the build dir; SB_DATAPLANE=path overrides it,
# SB_EAL_ARGS / SB_APP_ARGS override how it is started.
sb_bin=""
sb_find() {
	local d
	if [ -n "${SB_DATAPLANE:-}" ]; then
		sb_bin=$SB_DATAPLANE
	else
		for d in "$build_dir" "$top/build" /tmp/build-*; do
			[ -n "$d" ] && [ -x "$d/dataplane/engine/stormboot-dataplane" ] &&
				{ sb_bin="$d/dataplane/engine/stormboot-dataplane"; break; }
		done
	fi
	[ -n "$sb_bin" ] && [ -x "$sb_bin" ]
}

# The TFTP load generator (perf/tftp_load.c): from stormboot's build dir if it
# has one, else from the first build dir that does.
tl_bin=""
tl_find() {
	local d
	for d in ${sb_bin:+"$(dirname "$(dirname "$(dirname "$sb_bin")")")"} "$build_dir" "$top/build" /tmp/build-*; do
		[ -n "$d" ] && [ -x "$d/perf/tftp_load" ] && { tl_bin="$d/perf/tftp_load"; return 0; }
	done
	return 1
}

# stormboot-control from the same build, if it was built (durable leases).
sb_ctl_bin() {
	local d
	d=$(dirname "$(dirname "$(dirname "$sb_bin")")")
	[ -x "$d/control/stormboot-control" ] && echo "$d/control/stormboot-control"
}

sb_xdp_obj() {
	local d
	d=$(dirname "$(dirname "$(dirname "$sb_bin")")")
	ls "$d"/bpf/stormboot_xdp.o "$d"/bpf/*.o 2>/dev/null | head -1
}

sb_prepare_host() {
	if [ -x "$top/tests/lab/prepare-host.sh" ]; then
		"$top/tests/lab/prepare-host.sh" >/dev/null || return 1
	else
		[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 512 ] || echo 512 >/proc/sys/vm/nr_hugepages
		mountpoint -q /dev/hugepages ||
			{ mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages; }
		mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	fi
}

# The same pool, lease time and image as the reference servers (docs/CONFIG.md).
sb_config() { # file
	cat >"$1" <<-EOF
	{
	  "interface": "$IF_S",
	  "server_ip": "$SRV_IP",
	  "queues": 1,
	  "udp_checksum": "accept",
	  "dhcp": {
	    "mode": "full",
	    "boot": { "bios": "undionly.kpxe", "uefi_x64": "ipxe.efi", "ipxe_script": "boot.ipxe" },
	    "subnets": [ { "network": "198.18.0.0/$PREFIX",
	                   "pool": { "start": "$POOL_LO", "end": "$POOL_HI" },
	                   "lease_time": 3600 } ]
	  },
	  "tftp": { "max_sessions": 4096, "max_sessions_per_client": 0, "blksize_max": 1468 },
	  "images": [ { "name": "image.bin", "path": "$run/tftp/image.bin" },
	              { "name": "probe.bin", "path": "$run/tftp/probe.bin" } ]
	}
	EOF
}

# One polling lcore on CPU 1 (the issue's figure is "on one lcore"); stormboot
# builds its EAL arguments itself (net_af_xdp on the veth with our XDP object).
sb_start() {
	local xdp app i ctl_arg="" ctl
	sb_config "$run/stormboot.json"
	[ -f "$run/tftp/image.bin" ] || make_image
	xdp=$(sb_xdp_obj)
	sb_ctl_pid=0
	if [ "$1" = dhcp-durable ]; then
		# Control first, its lease store on the run directory's file system.
		ctl=$(sb_ctl_bin)
		rm -rf "$run/sbstate" "$run/sbctl.sock" "$run/sbdp.sock"
		mkdir -p "$run/sbstate"
		start_in_srv "$run/stormboot-control.out" "$ctl" -f -c "$run/stormboot.json" \
			-s "$run/sbctl.sock" -p "$run/sbdp.sock" -d "$run/sbstate"
		sb_ctl_pid=$bg_pid
		for i in $(seq 1 50); do [ -S "$run/sbdp.sock" ] && break; sleep 0.1; done
		if [ ! -S "$run/sbdp.sock" ]; then
			log "stormboot-control did not start: $(tail -3 "$run/stormboot-control.out")"
			kill_pid $sb_ctl_pid
			srv_pid=0
			return
		fi
		ctl_arg=" -C $run/sbdp.sock"
	fi
	app=${SB_APP_ARGS:-"-c $run/stormboot.json -l ${SB_CPUS:-1}${xdp:+ -x $xdp}"}$ctl_arg
	# `ip netns exec` mounts a fresh /sys, without the bpffs that libbpf pins the
	# XDP settings map in: mount one in that private mount namespace, then exec
	# (the PID stays stormboot's).
	# shellcheck disable=SC2086
	start_in_srv "$run/stormboot.out" sh -c \
		'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$0" "$@"' \
		"$sb_bin" ${SB_EAL_ARGS:-} -- $app
	srv_pid=$bg_pid
	for i in $(seq 1 150); do
		kill -0 $srv_pid 2>/dev/null || break
		grep -q 'serving ' "$run/stormboot.out" && break
		sleep 0.1
	done
	if ! kill -0 $srv_pid 2>/dev/null || ! grep -q 'serving ' "$run/stormboot.out"; then
		log "stormboot did not start: $(tail -5 "$run/stormboot.out")"
		kill_pid $srv_pid
		srv_pid=0
		return
	fi
	sleep 0.5 # XDP attach, link up
}

# stormboot prints its own memory figures (RSS, hugepages) at start and exit.
sb_stop() {
	if [ "${sb_ctl_pid:-0}" != 0 ]; then
		# How many ACKs waited for the disk, and how many left without it.
		"$(dirname "$(sb_ctl_bin)")/stormbootctl" -s "$run/sbctl.sock" --json stats 2>/dev/null |
			tr ',{}' '\n\n\n' | grep -E '"acks_(held|durable|undurable|refused)"' | tr -d ' "' |
			tr '\n' ' ' | sed "s/^/  ($1) control channel: /;s/$/\n/" >>"$run/sb-memory.txt"
	fi
	# Frames the kernel dropped at the AF_XDP socket (ring full while the lcore
	# was not polling): DPDK's imissed, not in stormboot's own drop counters.
	echo /ethdev/stats,0 | timeout 5 dpdk-telemetry.py -f "sb-$IF_S" 2>/dev/null |
		grep -o '"imissed": [0-9]*' | sed "s/^/  ($1) port rx frames lost before the dataplane: /" \
		>>"$run/sb-memory.txt"
	kill_pid $srv_pid
	if [ "${sb_ctl_pid:-0}" != 0 ]; then
		kill_pid $sb_ctl_pid
		sb_ctl_pid=0
	fi
	# The exit report lists non-zero values by their telemetry names (docs/METRICS.md).
	grep -E 'memory at|^  latency_|^  drop_' "$run/stormboot.out" | sed "s/^/  ($1) /" \
		>>"$run/sb-memory.txt"
	cp "$run/stormboot.out" "$run/stormboot-$1.out"
}

# Stop what server_start started (stormboot-durable: the dataplane and control).
server_stop() { # server
	case $1 in
	stormboot*) sb_stop "$1" ;;
	*) stop_pid $srv_pid ;;
	esac
}

# Start server $1 for figure family $2 (dhcp | dhcp-durable | tftp); srv_pid.
server_start() {
	srv_pid=0
	case $1 in
	dnsmasq) dnsmasq_start $2 ;;
	kea) kea_start dhcp ;;
	kea-durable) kea_start dhcp-durable ;;
	tftpd-hpa) tftpd_start ;;
	stormboot) sb_start $2 ;;
	stormboot-durable) sb_start dhcp-durable ;;
	esac
	[ "$srv_pid" != 0 ]
}

# ---------------------------------------------------------------- DHCP
mac_list() { # count seed file: locally administered unicast MACs, random
	awk -v n="$1" -v seed="$2" 'BEGIN { srand(seed);
		for (i = 0; i < n; i++) {
			printf "02"; for (j = 0; j < 5; j++) printf ":%02x", int(rand() * 256); printf "\n" } }' |
		sort -u >"$3"
}

# Replies lost in the client namespace before perfdhcp read them: UDP receive
# buffer overflows plus drops counted on the client veth.
client_losses() {
	local udp link
	udp=$(ip netns exec $NS_C awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
		else print $c["RcvbufErrors"] }' /proc/net/snmp)
	link=$(ip -n $NS_C -s link show $IF_C | awk '/RX:/ { getline; print $4; exit }')
	echo $((${udp:-0} + ${link:-0}))
}

# One perfdhcp step at rate $1 for $step_secs; sets st_rate, st_drop (max of
# the two exchanges, %), st_cpu (perfdhcp CPU %), st_srv_cpu (server CPU %).
perfdhcp_step() {
	local r=$1 out=$run/perfdhcp-$cur_name-r$1.txt t0 t1 c0 c1 hz
	hz=$(getconf CLK_TCK)
	c0=$(cpu_ticks $srv_pid)
	local l0 l1
	l0=$(client_losses)
	t0=$(date +%s%N)
	cli_exec timeout $((step_secs + 15)) /usr/bin/time -f '%U %S %e' -o "$run/perfdhcp.time" \
		perfdhcp -4 -l $IF_C -M "$run/macs.txt" -r "$r" -p "$step_secs" -d 1 $SRV_IP \
		>"$out" 2>&1
	t1=$(date +%s%N)
	c1=$(cpu_ticks $srv_pid)
	l1=$(client_losses)
	st_closs=$((l1 - l0))
	st_rate=$(awk '/^Rate:/ { print int($2); exit }' "$out")
	st_drop=$(awk 'BEGIN { m = 0 } /drops ratio:/ { v = $3 + 0; if (v > m) m = v; n++ }
		END { if (n < 2) print 100; else print m }' "$out")
	st_cpu=$(tail -1 "$run/perfdhcp.time" | awk '{ if ($3 > 0) printf "%d", 100 * ($1 + $2) / $3; else print 0 }')
	st_srv_cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v ns="$((t1 - t0))" \
		'BEGIN { printf "%d", 100 * (b - a) / hz / (ns / 1e9) }')
	[ -n "$st_rate" ] || st_rate=0
}

# One step at rate $1, logged; returns 0 if it passed (< 1 % drops) and
# records it as the best so far.
rate_try() { # name rate
	perfdhcp_step $2
	log "  $1: -r $2 -> $st_rate DORA/s, drops $st_drop %, cpu: server $st_srv_cpu %, perfdhcp $st_cpu %, replies lost in the client ns $st_closs"
	sleep 1 # let the queues drain before the next step
	if ! awk -v d="$st_drop" 'BEGIN { exit !(d < 1) }'; then
		if [ -z "$first_fail" ] || [ "$2" -lt "${first_fail%% *}" ]; then
			first_fail="$2 $st_drop $st_closs $(awk '/drops:/ { d += $2 } END { print d + 0 }' "$run/perfdhcp-$1-r$2.txt")"
		fi
		return 1
	fi
	if [ "$st_rate" -gt "$best" ]; then
		best=$st_rate
		best_cpu="$st_srv_cpu/$st_cpu"
	fi
	return 0
}

# DORA/s at < 1 % drops: double (or halve) the rate until the first step that
# fails (passes), then bisect the bracket. The figure is the best rate achieved
# in a passing step.
dhcp_rate_search() {
	local name=$1 r lo=0 hi=0 limited=0 i n_bisect=2
	cur_name=$name
	first_fail=""
	best=0
	best_cpu="-"
	r=1000
	[ $quick = 1 ] && n_bisect=1
	while [ $r -ge 60 ] && [ $r -le 64000 ]; do
		if rate_try $name $r; then
			lo=$r
			# perfdhcp did not reach the requested rate and nothing was lost:
			# the client is the limit, stepping higher measures only perfdhcp.
			if [ "$st_rate" -lt $((r * 85 / 100)) ]; then
				limited=1
				break
			fi
			[ $hi -gt 0 ] && break
			r=$((r * 2))
		else
			hi=$r
			[ $lo -gt 0 ] && break
			r=$((r / 2))
		fi
	done
	if [ $lo -gt 0 ] && [ $hi -gt 0 ] && [ $limited = 0 ]; then
		for i in $(seq 1 $n_bisect); do
			r=$(((lo + hi) / 2))
			[ $((hi - lo)) -le $((lo / 10)) ] && break
			if rate_try $name $r; then lo=$r; else hi=$r; fi
		done
	fi
	R[$name|dora]=$best
	R[$name|dora_cpu]=$best_cpu
	if [ -n "$first_fail" ]; then
		set -- $first_fail
		notes+=("$name: lowest failing step -r $1: $2 % drops ($4 exchanges lost, $3 replies of them dropped in the client namespace, i.e. by perfdhcp's socket or veth)")
		if [ "$4" -gt 0 ] && [ $(($3 * 2)) -ge "$4" ]; then
			notes+=("$name: most losses were replies that perfdhcp did not read in time: $best DORA/s is perfdhcp's ceiling on this machine, not $name's")
		fi
	fi
	[ $limited = 1 ] && notes+=("$name: perfdhcp did not send faster than $best DORA/s with no drops: that figure is perfdhcp's ceiling, not $name's")
}

# Avalanche: perfdhcp sends all DISCOVERs at once, then retries with back-off
# until every client is bound. perfdhcp 2.2 never restarts a client after a NAK,
# so a server that NAKs (dnsmasq does not hold its offers) never completes: then
# the figure is "incomplete", with how many clients were still waiting.
dhcp_avalanche() {
	local name=$1 out=$run/perfdhcp.aval secs t waiting naks
	t=$((step_secs * 12))
	[ $t -gt 60 ] && t=60
	cli_exec timeout $t perfdhcp -4 -l $IF_C -M "$run/macs-aval.txt" \
		--scenario avalanche -R $AVALANCHE $SRV_IP >"$out" 2>&1
	secs=$(sed -n 's/^It took \([0-9]*\):\([0-9]*\):\([0-9.]*\) to provision.*/\1 \2 \3/p' "$out" |
		awk '{ printf "%.2f", $1 * 3600 + $2 * 60 + $3 }')
	if [ -z "$secs" ]; then
		waiting=$(awk '/still waiting for/ { for (i = 1; i <= NF; i++) if ($i == "for") w[$3] = $(i + 1) }
			END { print (w["DISCOVER-OFFER:"] + 0) + (w["REQUEST-ACK:"] + 0) }' "$out")
		secs="incomplete"
		log "  $name: avalanche incomplete after $t s: about $waiting of $AVALANCHE clients still unbound"
		notes+=("$name: avalanche of $AVALANCHE did not complete in $t s (about $waiting clients unbound; perfdhcp 2.2 never restarts a client after a NAK)")
	else
		log "  $name: avalanche of $AVALANCHE clients provisioned in $secs s"
	fi
	R[$name|aval]=$secs
}

dhcp_bench() {
	local s mode
	mac_list $DHCP_MACS 42 "$run/macs.txt"
	# The avalanche draws 5,000 MACs at random from this list; large, so that
	# few are drawn twice.
	mac_list 200000 7 "$run/macs-aval.txt"
	for s in $dhcp_servers; do
		case $s in stormboot*) [ -z "$sb_bin" ] && continue ;; esac
		if [ $s = stormboot-durable ] && [ -z "$(sb_ctl_bin)" ]; then
			notes+=("stormboot-durable: not measured (no control/stormboot-control in the build dir)")
			continue
		fi
		mode=dhcp
		[ $s = kea-durable ] && mode=dhcp-durable
		log "DHCP: $s"
		# A fresh server for the avalanche (a cold storm), then the rate steps.
		server_start $s $mode || { R[$s|dora]=error; continue; }
		RSS[$s|dhcp]="$(rss_kb $srv_pid)"
		[ $s = stormboot ] && R[$s|huge_start]=$(hugepages_used_kb)
		[ $s = stormboot-durable ] && RSS[stormboot-control|dhcp]="$(rss_kb $sb_ctl_pid)"
		dhcp_avalanche $s
		sleep 1
		dhcp_rate_search $s
		RSS[$s|dhcp]="${RSS[$s|dhcp]} $(rss_kb $srv_pid)"
		[ $s = stormboot-durable ] && RSS[stormboot-control|dhcp]="${RSS[stormboot-control|dhcp]} $(rss_kb $sb_ctl_pid)"
		if [ $s = stormboot ] || [ $s = stormboot-durable ]; then
			R[stormboot|huge_end]=$(hugepages_used_kb)
			sb_stop $s
		else
			stop_pid $srv_pid
		fi
		sleep 0.5
	done
}

# perfdhcp's ceiling: unthrottled, against the fastest server measured.
perfdhcp_ceiling() {
	local s best=0 fastest="" out=$run/perfdhcp.ceil mode
	for s in $dhcp_servers; do
		[[ "${R[$s|dora]:-0}" =~ ^[0-9]+$ ]] || continue
		if [ "${R[$s|dora]:-0}" -gt $best ]; then best=${R[$s|dora]}; fastest=$s; fi
	done
	[ -n "$fastest" ] || return
	mode=dhcp
	[ $fastest = kea-durable ] && mode=dhcp-durable
	log "perfdhcp ceiling: unthrottled against $fastest"
	server_start $fastest $mode || return
	cli_exec timeout $((step_secs + 15)) /usr/bin/time -f '%U %S %e' -o "$run/perfdhcp.time" \
		perfdhcp -4 -l $IF_C -M "$run/macs.txt" -p "$step_secs" -d 1 $SRV_IP >"$out" 2>&1
	server_stop $fastest
	local sent cpu rate
	sent=$(awk '/sent packets:/ { print $3; exit }' "$out")
	rate=$(awk '/^Rate:/ { print int($2); exit }' "$out")
	cpu=$(tail -1 "$run/perfdhcp.time" | awk '{ if ($3 > 0) printf "%d", 100 * ($1 + $2) / $3 }')
	R[perfdhcp|send]=$((${sent:-0} / step_secs))
	R[perfdhcp|dora]=${rate:-0}
	R[perfdhcp|cpu]=${cpu:-0}
	R[perfdhcp|against]=$fastest
}

# ---------------------------------------------------------------- TFTP
make_image() {
	mkdir -p "$run/tftp"
	head -c $((image_mib * 1048576)) /dev/urandom >"$run/tftp/image.bin"
	head -c 20000 /dev/urandom >"$run/tftp/probe.bin" # windowsize probe (RFC 7440)
	chmod 644 "$run/tftp/image.bin" "$run/tftp/probe.bin"
	chmod 755 "$run/tftp"
}

# One client: fetch into tmpfs, compare byte for byte, record "start_ns end_ns status"
# (status 99: the file differs). $cur_client: curl | atftp (lockstep) | atftp-w
# (atftp asking for windowsize $windowsize). (load: tftp_load_run, not this.)
tftp_one() { # index timeout
	local i=$1 t=$2 s e rc
	# The client's own CPU (user + system; the kernel's work for the ACKs it
	# sends is charged to it, the work for the DATA it receives to the server).
	local ctime="/usr/bin/time -f %U_%S -o $run/c/$i.time"
	s=$(date +%s%N)
	case $cur_client in
	curl)
		cli_exec timeout "$t" $ctime curl -sS --max-time "$t" --tftp-blksize $blksize \
			"tftp://$SRV_IP/image.bin" -o "$dl/$i" 2>"$run/c/$i.err"
		;;
	atftp)
		cli_exec timeout "$t" $ctime atftp --option "blksize $blksize" --get -r image.bin \
			-l "$dl/$i" $SRV_IP 2>"$run/c/$i.err"
		;;
	atftp-w)
		cli_exec timeout "$t" $ctime atftp --option "blksize $blksize" --option "windowsize $windowsize" \
			--get -r image.bin -l "$dl/$i" $SRV_IP 2>"$run/c/$i.err"
		;;
	esac
	rc=$?
	e=$(date +%s%N)
	# Verified after the clock stopped, so that the check costs no client CPU
	# during the transfers.
	[ $rc = 0 ] && { cmp -s "$dl/$i" "$run/tftp/image.bin" || rc=99; }
	rm -f "$dl/$i"
	echo "$s $e $rc" >"$run/c/$i.res"
}

# Busy and total jiffies of every CPU, "busy total" per line (/proc/stat).
cpu_snapshot() {
	awk '/^cpu[0-9]/ { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}

# "cpu0 N% cpu1 M%" between two snapshots.
cpu_busy() { # before after
	paste -d' ' <(echo "$1") <(echo "$2") |
		awk '{ d = $4 - $2; printf "cpu%d %d%% ", NR - 1, (d > 0 ? 100 * ($3 - $1) / d : 0) }'
}

# $cur_client load: the N clients are one tftp_load process (lockstep, every
# block compared with the image as it arrives; files are not written). Leaves
# its output in $run/c/load.out; the same bound as N separate clients.
tftp_load_run() { # N timeout
	cli_exec timeout $(($2 + 10)) "$tl_bin" -s $SRV_IP -f image.bin -n "$1" -b $blksize \
		-c "$run/tftp/image.bin" -T "$2" >"$run/c/load.out" 2>"$run/c/load.err"
	echo $? >"$run/c/load.rc"
}

# A figure from tftp_load's summary line ("... name value ...").
tl_field() { # name
	awk -v k="$1" '$1 == "clients" { for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }' \
		"$run/c/load.out" 2>/dev/null
}

# N parallel clients: sets R[server|<phase>N_mbs], _p50, _max (seconds), _cpu
# (server CPU % of one CPU, children included) for phase $cur_phase.
tftp_round() { # server N
	local s=$1 n=$2 i t pids=() fails k=$cur_phase$2 hz st0 st1 ns0 ns1
	# Bound: generous for a slow server (2 MB/s per client) plus a floor.
	t=$((image_mib * n / 2 + 30))
	[ $t -gt 240 ] && t=240
	rm -rf "$run/c"
	mkdir -p "$run/c"
	local c0 c1
	hz=$(getconf CLK_TCK)
	c0=$(cpu_snapshot)
	st0=$(cpu_ticks_all $srv_pid)
	local tel0="" tel1=""
	[ $s = stormboot ] && tel0=$(sb_tel_busy)
	ns0=$(date +%s%N)
	if [ $cur_client = load ]; then
		tftp_load_run "$n" "$t"
	else
		for i in $(seq 1 "$n"); do
			tftp_one "$i" "$t" &
			pids+=($!)
		done
		for i in "${pids[@]}"; do wait "$i"; done
	fi
	ns1=$(date +%s%N)
	st1=$(cpu_ticks_all $srv_pid)
	[ $s = stormboot ] && tel1=$(sb_tel_busy)
	c1=$(cpu_snapshot)
	R[$s|${k}_cpu]=$(awk -v a="$st0" -v b="$st1" -v hz="$hz" -v ns="$((ns1 - ns0))" \
		'BEGIN { printf "%d", 100 * (b - a) / hz / (ns / 1e9) }')
	# CPU per DATA block (us): the server's, and the clients' (sum over clients).
	local blocks=$((n * (image_mib * 1048576 / blksize + 1)))
	R[$s|${k}_sus]=$(awk -v a="$st0" -v b="$st1" -v hz="$hz" -v bl="$blocks" \
		'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / bl }')
	R[$s|${k}_cus]=$(cat "$run"/c/*.time 2>/dev/null | tr _ ' ' |
		awk -v bl="$blocks" '{ c += $1 + $2 } END { printf "%.1f", c * 1e6 / bl }')
	[ $cur_client = load ] && R[$s|${k}_cus]=$(tl_field cpu_us_per_block | awk '{ printf "%.1f", $1 }')
	# in.tftpd ignores SIGCHLD, so its transfer children's CPU is never added to it.
	[ $s = tftpd-hpa ] && R[$s|${k}_sus]="n/a"
	# stormboot polls: its process CPU includes spinning. Its own busy time
	# (bursts with frames, rx to tx flush incl. the send syscall; wall clock, so
	# on a shared CPU it also counts time preempted inside a burst) per frame sent:
	if [ -n "$tel0" ] && [ -n "$tel1" ]; then
		R[$s|${k}_work]=$(echo "$tel0 $tel1" | awk '{ if ($4 > $2) printf "%.1f", ($3 - $1) / 1e3 / ($4 - $2); else print "-" }')
	fi
	if [ $cur_client = load ]; then
		tftp_load_summary "$s" "$n" "$k" "$c0" "$c1"
		return
	fi
	fails=$(cat "$run"/c/*.res | awk '$3 != 0' | wc -l)
	local got=$(ls "$run"/c/*.res 2>/dev/null | wc -l)
	fails=$((fails + n - got))
	if [ "$fails" -gt 0 ]; then
		log "  $s N=$n: $fails of $n downloads failed or differ: $(cat "$run"/c/*.err | sort | uniq -c | head -3 | tr '\n' ' ')"
		R[$s|${k}_mbs]="FAIL($fails/$n)"
		R[$s|${k}_p50]="-"
		R[$s|${k}_max]="-"
		return
	fi
	cat "$run"/c/*.res | awk -v n="$n" -v bytes="$((image_mib * 1048576))" '
		{ d[NR] = ($2 - $1) / 1e9; if (NR == 1 || $1 < s0) s0 = $1; if ($2 > e1) e1 = $2 }
		END {
			# sort the durations (small n: insertion sort)
			for (i = 2; i <= NR; i++) { v = d[i]; for (j = i - 1; j >= 1 && d[j] > v; j--) d[j + 1] = d[j]; d[j + 1] = v }
			p50 = d[int((NR + 1) / 2)]
			printf "%.1f %.2f %.2f\n", n * bytes / ((e1 - s0) / 1e9) / 1e6, p50, d[NR]
		}' >"$run/c/summary"
	local mbs p50 max
	read -r mbs p50 max <"$run/c/summary"
	R[$s|${k}_mbs]=$mbs
	R[$s|${k}_p50]=$p50
	R[$s|${k}_max]=$max
	log "  $s N=$n: $mbs MB/s aggregate, completion p50 $p50 s, max $max s (all $n files identical; busy $(cpu_busy "$c0" "$c1"); server ${R[$s|${k}_cpu]} % of a CPU; CPU per block: server ${R[$s|${k}_sus]} us${R[$s|${k}_work]:+ (busy ${R[$s|${k}_work]} us)}, clients ${R[$s|${k}_cus]} us)"
}

# R[...] figures of a tftp_load round from its summary line (tftp_round's tail).
tftp_load_summary() { # server N key cpu_before cpu_after
	local s=$1 n=$2 k=$3 ok rc
	ok=$(tl_field ok)
	rc=$(cat "$run/c/load.rc" 2>/dev/null)
	if [ "${rc:-1}" != 0 ] || [ "${ok:-0}" != "$n" ]; then
		log "  $s N=$n: tftp_load: ${ok:-0} of $n downloads complete (exit ${rc:-?}): $(grep -h '^fail' "$run/c/load.out" |
			cut -d' ' -f3- | sort | uniq -c | head -3 | tr '\n' ' ')$(head -2 "$run/c/load.err" | tr '\n' ' ')"
		R[$s|${k}_mbs]="FAIL($((n - ${ok:-0}))/$n)"
		R[$s|${k}_p50]="-"
		R[$s|${k}_max]="-"
		return
	fi
	R[$s|${k}_mbs]=$(tl_field mbs)
	R[$s|${k}_p50]=$(tl_field p50_s | awk '{ printf "%.2f", $1 }')
	R[$s|${k}_max]=$(tl_field max_s | awk '{ printf "%.2f", $1 }')
	log "  $s N=$n: ${R[$s|${k}_mbs]} MB/s aggregate, completion p50 ${R[$s|${k}_p50]} s, max ${R[$s|${k}_max]} s (tftp_load: all $n files identical, $(tl_field retransmits) retransmits; busy $(cpu_busy "$4" "$5"); server ${R[$s|${k}_cpu]} % of a CPU; CPU per block: server ${R[$s|${k}_sus]} us${R[$s|${k}_work]:+ (busy ${R[$s|${k}_work]} us)}, tftp_load ${R[$s|${k}_cus]} us)"
}

# stormboot's own counters through DPDK telemetry: "busy_ns tx_tftp".
sb_tel_busy() {
	echo /stormboot/stats | timeout 5 dpdk-telemetry.py -f "sb-$IF_S" 2>/dev/null |
		awk '{ b = t = 0
		       if (match($0, /"busy_ns": [0-9]+/)) b = substr($0, RSTART + 11, RLENGTH - 11)
		       if (match($0, /"tx_tftp": [0-9]+/)) t = substr($0, RSTART + 11, RLENGTH - 11) }
		     END { print b + 0, t + 0 }'
}

# CPU ticks of a process and its reaped children (in.tftpd forks per client).
cpu_ticks_all() {
	awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# Does the server grant windowsize (RFC 7440)? One small transfer with
# atftp --trace: R[server|win_neg] = the windowsize in its OACK, else 1.
tftp_window_probe() { # server
	local out w
	out=$(cli_exec timeout 20 atftp --trace --option "blksize $blksize" \
		--option "windowsize $windowsize" --get -r probe.bin -l "$dl/probe" $SRV_IP 2>&1)
	rm -f "$dl/probe"
	w=$(echo "$out" | sed -n 's/^received OACK <.*windowsize: *\([0-9]*\).*/\1/p' | head -1)
	R[$1|win_neg]=${w:-1}
	log "  $1: asked for windowsize $windowsize, granted ${w:-none (lockstep)}"
}

tftp_bench() {
	local s n
	make_image
	for s in $tftp_servers; do
		if [ $s = stormboot ] && [ -z "$sb_bin" ]; then
			continue
		fi
		log "TFTP: $s ($image_mib MiB image, blksize $blksize; lockstep: $tftp_client${tl_bin:+ and tftp_load}; windowed: atftp windowsize $windowsize)"
		server_start $s tftp || { R[$s|lock1_mbs]=error; continue; }
		RSS[$s|tftp]="$(rss_kb $srv_pid)"
		[ $s = stormboot ] && R[$s|huge_start]=$(hugepages_used_kb)
		cur_phase=lock
		cur_client=$tftp_client
		for n in $clients_list; do
			tftp_round $s "$n"
			sleep 1
		done
		if [ -n "$tl_bin" ]; then
			cur_phase=load
			cur_client=load
			for n in $clients_list; do
				tftp_round $s "$n"
				sleep 1
			done
		fi
		if [ "$windowsize" -gt 0 ]; then
			tftp_window_probe $s
			cur_phase=win
			cur_client=atftp-w
			for n in $clients_list; do
				tftp_round $s "$n"
				sleep 1
			done
		fi
		RSS[$s|tftp]="${RSS[$s|tftp]} $(rss_kb $srv_pid)"
		if [ $s = stormboot ]; then
			R[$s|huge_end]=$(hugepages_used_kb)
			sb_stop tftp
		else
			stop_pid $srv_pid
		fi
		sleep 0.5
	done
}

# ---------------------------------------------------------------- report
# ratio: stormboot / reference for rates; reference / stormboot for times, so
# that > 1 always means stormboot is better.
ratio() { # sb ref kind(rate|time)
	awk -v a="$1" -v b="$2" -v k="$3" 'BEGIN {
		if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || a + 0 == 0 || b + 0 == 0) { print "-"; exit }
		if (k == "rate") printf "%.2fx", a / b; else printf "%.2fx", b / a }'
}

# One TFTP table: phase (lock | win) and its title.
tftp_table() {
	local ph=$1 s n check="every file verified with cmp"
	[ $ph = load ] && check="every block compared as it arrived"
	echo
	echo "TFTP $2 ($image_mib MiB image, blksize $blksize; aggregate MB/s (10^6 B/s), higher is"
	echo "      better; per-client completion p50/max in s, lower is better; $check)"
	printf '%-14s' server
	for n in $clients_list; do printf ' %22s' "N=$n MB/s p50/max"; done
	[ $ph = win ] && printf ' %8s' window
	echo
	for s in $tftp_servers; do
		[ $s = stormboot ] && [ -z "$sb_bin" ] && continue
		printf '%-14s' $s
		for n in $clients_list; do
			printf ' %22s' "${R[$s|$ph${n}_mbs]:--} ${R[$s|$ph${n}_p50]:--}/${R[$s|$ph${n}_max]:--}"
		done
		[ $ph = win ] && printf ' %8s' "${R[$s|win_neg]:--}"
		echo
	done
	if [ -n "$sb_bin" ]; then
		for s in $tftp_servers; do
			[ $s = stormboot ] && continue
			printf '%-14s' "sb / $s"
			for n in $clients_list; do
				printf ' %22s' "$(ratio "${R[stormboot|$ph${n}_mbs]:-}" "${R[$s|$ph${n}_mbs]:-}" rate) $(ratio "${R[stormboot|$ph${n}_p50]:-}" "${R[$s|$ph${n}_p50]:-}" time)/$(ratio "${R[stormboot|$ph${n}_max]:-}" "${R[$s|$ph${n}_max]:-}" time)"
			done
			echo
		done
	fi
	echo "CPU per DATA block in us, server / clients (the server's process, incl. the kernel"
	echo "work of its sends; the clients' processes, incl. the kernel work of their ACKs;"
	echo "stormboot's process time includes polling; in brackets its busy time per frame, wall"
	echo "clock from rx burst to tx flush: CPU time on a quiet CPU, more when it is preempted):"
	for s in $tftp_servers; do
		[ $s = stormboot ] && [ -z "$sb_bin" ] && continue
		printf '%-14s' "  $s"
		for n in $clients_list; do
			printf ' %22s' "${R[$s|$ph${n}_sus]:--}${R[$s|$ph${n}_work]:+ [${R[$s|$ph${n}_work]}]} / ${R[$s|$ph${n}_cus]:--}"
		done
		echo
	done
}

report() {
	local s n row refs f
	echo
	echo "stormboot benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, kernel $(uname -r)"
	echo "lab: veth $IF_S/$IF_C in namespaces $NS_S/$NS_C; perfdhcp $(perfdhcp -v 2>&1 | awk '{ print $2 }'), relayed (giaddr $CLI_IP), random MACs"
	echo "CPUs: clients on ${client_cpus:-any}, stormboot's lcore on ${SB_CPUS:-1}, reference servers unpinned"
	[ -z "$sb_bin" ] && echo "stormboot: not measured (no stormboot-dataplane binary in the build dir)"
	if [ $only != tftp ]; then
		echo
		echo "DHCP ($DHCP_MACS random MACs, ${step_secs} s steps; DORA/s at < 1 % drops, higher is better;"
		echo "      avalanche = seconds to provision $AVALANCHE clients at once, lower is better)"
		printf '%-18s %12s %16s %14s\n' server "DORA/s" "srv/perfdhcp cpu%" "avalanche s"
		for s in $dhcp_servers; do
			case $s in stormboot*) [ -z "$sb_bin" ] && continue ;; esac
			printf '%-18s %12s %16s %14s\n' $s "${R[$s|dora]:--}" "${R[$s|dora_cpu]:--}" "${R[$s|aval]:--}"
		done
		if [ -n "$sb_bin" ]; then
			for s in $dhcp_servers; do
				case $s in stormboot*) continue ;; esac
				printf '%-18s %12s %16s %14s\n' "sb / $s" "$(ratio "${R[stormboot|dora]:-}" "${R[$s|dora]:-}" rate)" "" \
					"$(ratio "${R[stormboot|aval]:-}" "${R[$s|aval]:-}" time)"
			done
			case " $dhcp_servers " in *" stormboot-durable "*)
				for s in kea-durable kea; do
					case " $dhcp_servers " in *" $s "*) ;; *) continue ;; esac
					printf '%-18s %12s %16s %14s\n' "sb-durable / $s" \
						"$(ratio "${R[stormboot-durable|dora]:-}" "${R[$s|dora]:-}" rate)" "" \
						"$(ratio "${R[stormboot-durable|aval]:-}" "${R[$s|aval]:-}" time)"
				done ;;
			esac
		fi
		if [ -n "${R[perfdhcp|send]:-}" ]; then
			echo "perfdhcp ceiling: unthrottled against ${R[perfdhcp|against]}: ${R[perfdhcp|send]} DISCOVER/s sent," \
				"${R[perfdhcp|dora]} DORA/s completed, perfdhcp at ${R[perfdhcp|cpu]} % CPU (of $(nproc)00 %)"
		fi
	fi
	if [ $only != dhcp ]; then
		tftp_table lock "lockstep, $tftp_client (blksize only)"
		[ -n "$tl_bin" ] && tftp_table load "lockstep, tftp_load (N clients in one process)"
		[ "$windowsize" -gt 0 ] && tftp_table win "windowed, atftp asking for windowsize $windowsize"
	fi
	echo
	echo "Memory: RSS in kB at start and end of each phase (server process; in.tftpd: the listener)"
	for f in "${!RSS[@]}"; do
		echo "  ${f%|*} (${f#*|}): ${RSS[$f]% *} -> ${RSS[$f]#* }"
	done | sort
	[ -n "${R[stormboot|huge_start]:-}" ] &&
		echo "  stormboot hugepages in use (host-wide): ${R[stormboot|huge_start]} kB -> ${R[stormboot|huge_end]:-?} kB"
	if [ -s "$run/sb-memory.txt" ]; then
		echo "stormboot's own report at start/exit (memory, drops, rx->tx latency):"
		cat "$run/sb-memory.txt"
	fi
	echo
	echo "ratios: stormboot/reference for rates, reference/stormboot for times (> 1: stormboot better)"
	for f in "${notes[@]}"; do echo "note: $f"; done
	return 0
}

# ---------------------------------------------------------------- main
# Everything here comes from tests/setup.sh (Debian packages kea-admin, dnsmasq-base,
# kea-dhcp4-server, tftpd-hpa, curl, atftp, time, iproute2).
for t in perfdhcp dnsmasq kea-dhcp4 in.tftpd curl atftp cmp ss taskset setsid /usr/bin/time; do
	command -v $t >/dev/null || { echo "bench-servers: $t missing (run tests/setup.sh as root)" >&2; exit 2; }
done

if sb_find; then
	log "stormboot: $sb_bin"
	sb_prepare_host || { log "stormboot: host preparation (hugepages, bpffs) failed, skipping it"; sb_bin=""; }
else
	sb_bin=""
	log "stormboot: skipped - no stormboot-dataplane binary (build it: ninja -C build; or --build DIR / SB_DATAPLANE=path)"
fi

if [ $only != dhcp ]; then
	if tl_find; then
		log "tftp_load: $tl_bin"
	else
		log "tftp_load: skipped - not built (ninja -C build perf/tftp_load; or --build DIR)"
		notes+=("TFTP lockstep with tftp_load not measured: no perf/tftp_load in the build dir")
	fi
fi

lab_up || { echo "bench-servers: could not create the lab" >&2; exit 1; }
log "lab up: $NS_S ($SRV_IP) <-> $NS_C ($CLI_IP); run dir $run"

[ $only != tftp ] && { dhcp_bench; perfdhcp_ceiling; }
[ $only != dhcp ] && tftp_bench

mkdir -p "$top/perf/results"
out="$top/perf/results/$(date +%Y-%m-%d-%H%M).txt"
[ -e "$out" ] && out="${out%.txt}-$$.txt" # two runs in one minute: keep both
report | tee "$out"
log "results written to $out"
