# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# bench-lib.sh - the parts the server comparisons share (perf/storm-bench.sh,
# perf/storm-mtftp.sh): servers started in the lab's server namespace on the server CPU and
# stopped by their PIDs, a wait for a UDP port, the lab with a /16 on the server side, and the
# host's ARP table raised for 10,000 clients and put back. Source it after tests/lab/lib.sh;
# set LAB (tests/lab/lab.sh), SRV_IP, SRV_CPU and work first.
#
#   bench_log MSG...         a timestamped line on stderr
#   start_srv LOG CMD...     CMD in the server namespace on SRV_CPU, its own session; PID kept
#   kill_pids                stop every server started (sb_kill_pid)
#   wait_udp PORT SECS       until something listens on UDP PORT in the server namespace
#   bench_lab_up             lab up, its variables in the environment, SRV_IP/16 on the server
#   neigh_raise              room for 10,000 clients in the kernel's ARP table (once)
#   neigh_restore            the thresholds as they were (for the EXIT trap)
#   bench_traps NAME         the EXIT trap: the watchdog (if any) and every server stopped,
#                            the lab down, the ARP thresholds back, work removed (kept with
#                            keep=1); INT and TERM exit 130
#   bench_clock_start        t_start and load_start (the load average), for the report
#   bench_clock_stop         t_run (seconds since bench_clock_start) and load_end
#   bench_host_line NOTE     the report's host line: CPUs, kernel, the load at start and end
#   bench_json_dump DIR OUT  the raw reports DIR/NAME.json as one JSON object {NAME: report}

srv_pids=()

bench_log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

start_srv() {
	local logf=$1
	shift
	ip netns exec "$SB_NS_SRV" setsid taskset -c "$SRV_CPU" "$@" >"$logf" 2>&1 </dev/null &
	srv_pids+=($!)
}

kill_pids() {
	local p
	for p in "${srv_pids[@]}"; do sb_kill_pid "$p" 5; done
	srv_pids=()
}

wait_udp() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		ip netns exec "$SB_NS_SRV" ss -Hlun "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

bench_lab_up() {
	"$LAB" up >"$work/lab.log" 2>&1 || { cat "$work/lab.log" >&2; exit 1; }
	eval "$("$LAB" env)"
	# A /16 on the server side, so that kernel servers own the pool's subnet.
	ip -n "$SB_NS_SRV" addr flush dev "$SB_IF_SRV"
	ip -n "$SB_NS_SRV" addr add "$SRV_IP/16" dev "$SB_IF_SRV"
}

# Kernel servers drop their replies beyond the ARP table's gc_thresh3 (default 1,024,
# "neighbor table overflow"). The table and its thresholds are the host's (shared by every
# namespace): raised for the run, put back on exit.
neigh_raise() {
	[ -z "${neigh_saved:-}" ] || return 0
	neigh_saved=$(sysctl -n net.ipv4.neigh.default.gc_thresh1 net.ipv4.neigh.default.gc_thresh2 \
		net.ipv4.neigh.default.gc_thresh3 | tr '\n' ' ')
	set -- $neigh_saved
	[ "$3" -lt 65536 ] && sysctl -qw net.ipv4.neigh.default.gc_thresh3=65536 \
		net.ipv4.neigh.default.gc_thresh2=32768 net.ipv4.neigh.default.gc_thresh1=16384
	return 0
}

neigh_restore() {
	[ -n "${neigh_saved:-}" ] || return 0
	set -- $neigh_saved
	sysctl -qw net.ipv4.neigh.default.gc_thresh1="$1" net.ipv4.neigh.default.gc_thresh2="$2" \
		net.ipv4.neigh.default.gc_thresh3="$3"
}

bench_clock_start() {
	t_start=$(date +%s)
	load_start=$(cut -d' ' -f1-3 /proc/loadavg)
}

bench_clock_stop() {
	t_run=$(($(date +%s) - t_start))
	load_end=$(cut -d' ' -f1-3 /proc/loadavg)
}

bench_host_line() {
	echo "host: $(nproc) CPUs, kernel $(uname -r); load average at start $load_start, at end $load_end ($1)"
}

bench_json_dump() {
	python3 - "$1" >"$2" <<-'EOF'
	import json, os, sys
	d = sys.argv[1]
	out = {}
	for f in sorted(os.listdir(d)):
	    try:
	        out[f[:-5]] = json.load(open(os.path.join(d, f)))
	    except Exception as e:
	        out[f[:-5]] = {"error": str(e)}
	json.dump(out, sys.stdout, indent=1)
	EOF
}

bench_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	[ -n "${watchdog:-}" ] && kill -TERM -- "-$watchdog" 2>/dev/null
	kill_pids
	"$LAB" down >/dev/null 2>&1
	neigh_restore
	if [ "${keep:-0}" = 1 ]; then echo "$1: work directory kept: $work" >&2; else rm -rf "$work"; fi
	exit "$rc"
}

bench_traps() {
	trap "bench_cleanup $1" EXIT
	trap 'bench_log "interrupted"; exit 130' INT TERM
}
