# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# memif-lib.sh - the engine alone: stormboot-dataplane (or dpdk-testpmd) on the server end of
# a net_memif pair, stormboot-storm on the client end, two DPDK processes, shared memory, no
# kernel and no network namespace in the path. Sourced by perf/storm/storm-engine.sh and
# tests/storm/storm-memif.sh.
#
#   mf_init                      root and commands, work dir $MF_WORK, EXIT trap (every process
#                                started here stopped by its PID, runtime dirs removed)
#   mf_image NAME BYTES          a random image $MF_WORK/img/NAME
#   mf_config [JSON-FRAGMENT]    $MF_CFG: dpdk_port net_memif0 (server) on $MF_SOCK, server
#                                198.18.0.1, subnet 198.18.0.0/16 with a pool of 12,288, every
#                                image made by mf_image; the fragment is merged one level deep
#   mf_dp_start [BIN]            the dataplane (default $MF_DP_BIN) on CPU $MF_DP_CPU, nice -10,
#                                file prefix $MF_DP_PREFIX, its own options $MF_DP_ARGS (e.g.
#                                "-H 0"); waits until its telemetry answers
#   mf_dp_stop                   SIGINT, its exit report kept in $MF_WORK/dataplane.log
#   mf_storm_begin / _end        a generator run held connected until the dataplane stopped
#   mf_tpmd_start                dpdk-testpmd --forward-mode=macswap on the server end, its
#                                forwarding lcore on $MF_DP_CPU (main lcore on $MF_GEN_CPU)
#   mf_tpmd_stop
#   mf_storm OUT ARGS...         the generator on $MF_GEN_CPU (client end): report OUT.json,
#                                progress OUT.log; returns its exit status
#   mf_tel CMD [KEY]             the dataplane's telemetry (dp-tel.py)
#
# Names: SB_PREFIX (default "mf") in the work dir, the memif socket and every DPDK
# --file-prefix (${SB_PREFIX}-dp, -tpmd, -storm). CPUs: MF_DP_CPU (default the last),
# MF_GEN_CPU (default 0). No addresses leave the two processes: memif is shared memory.

export SB_PREFIX=${SB_PREFIX:-mf}
MF_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$MF_HERE/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
SB_RUN=${SB_RUN:-/tmp/${SB_PREFIX}-run}
. "$SOURCE_DIR/tests/lab/lib.sh"
MF_PY=/usr/bin/python3
MF_TEL=$SOURCE_DIR/tests/dataplane/dp-tel.py
MF_DP_BIN=${MF_DP_BIN:-$BUILD_DIR/dataplane/engine/stormboot-dataplane}
MF_STORM=${MF_STORM:-$BUILD_DIR/perf/storm/stormboot-storm}
MF_NCPU=$(nproc)
MF_DP_CPU=${MF_DP_CPU:-$((MF_NCPU - 1))}
MF_GEN_CPU=${MF_GEN_CPU:-0}
MF_DP_PREFIX=${SB_PREFIX}-dp
MF_RSIZE=${MF_RSIZE:-11} # memif rings of 2^11 slots both ways

mf_cleanup() {
	local rc=$?
	set +e
	sb_stop tpmd 5
	if [ -f "$SB_RUN/dataplane.pid" ]; then
		sb_stop dataplane 10
		cp "$SB_RUN/dataplane.log" "$MF_WORK/dataplane.log" 2>/dev/null
	fi
	if [ "$rc" != 0 ] && [ -f "${MF_WORK:-/nonexistent}/dataplane.log" ]; then
		echo "--- dataplane log (last 30 lines)" >&2
		tail -n 30 "$MF_WORK/dataplane.log" >&2
	fi
	rm -rf "/var/run/dpdk/$MF_DP_PREFIX" "/var/run/dpdk/${SB_PREFIX}-tpmd" \
		"/var/run/dpdk/${SB_PREFIX}-storm" "$SB_RUN"
	[ -n "${MF_KEEP:-}" ] || rm -rf "${MF_WORK:-/nonexistent}"
	exit "$rc"
}

mf_init() {
	sb_need_root
	sb_need_cmd "$MF_PY" setsid taskset timeout nice
	[ -x "$MF_DP_BIN" ] || sb_fail "no dataplane at $MF_DP_BIN (build first; BUILD_DIR=$BUILD_DIR)"
	[ -x "$MF_STORM" ] || sb_fail "no generator at $MF_STORM (build first; BUILD_DIR=$BUILD_DIR)"
	[ "$MF_DP_CPU" != "$MF_GEN_CPU" ] || sb_fail "MF_DP_CPU and MF_GEN_CPU must differ"
	MF_WORK=$(mktemp -d "/tmp/${SB_PREFIX}-memif.XXXXXX")
	chmod 755 "$MF_WORK"
	mkdir -p "$MF_WORK/img"
	MF_SOCK=$MF_WORK/memif.sock
	MF_CFG=$MF_WORK/stormboot.json
	rm -rf "$SB_RUN"
	trap mf_cleanup EXIT
	trap 'exit 130' INT TERM
}

mf_image() { head -c "$2" /dev/urandom >"$MF_WORK/img/$1"; }

mf_config() {
	"$MF_PY" - "$MF_WORK/img" "$MF_CFG" "${1:-{\}}" "$MF_SOCK" "$MF_RSIZE" <<-'EOF'
	import json, os, sys
	img, out, extra, sock, rsize = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
	cfg = {
	    "dpdk_port": f"net_memif0,role=server,socket={sock},rsize={rsize}",
	    "server_ip": "198.18.0.1",
	    "queues": 1,
	    "dhcp": {
	        "mode": "full",
	        "boot": {"bios": "loader-bios.bin", "uefi_x64": "loader.efi"},
	        "subnets": [{"network": "198.18.0.0/16",
	                     "pool": {"start": "198.18.16.0", "end": "198.18.63.255"},
	                     "router": "198.18.0.1", "lease_time": 3600}],
	    },
	    "tftp": {"transfer_ports": {"first": 61000, "last": 61999},
	             "max_sessions": 1000, "timeout_ms": 1000, "retries": 5,
	             "blksize_max": 1468, "windowsize_max": 16},
	    "images": [{"name": n, "path": os.path.join(img, n)} for n in sorted(os.listdir(img))],
	}
	for k, v in extra.items():
	    if isinstance(v, dict) and isinstance(cfg.get(k), dict):
	        cfg[k].update(v)
	    else:
	        cfg[k] = v
	json.dump(cfg, open(out, "w"), indent=2)
	EOF
}

mf_tel() { "$MF_PY" "$MF_TEL" "$MF_DP_PREFIX" "$@"; }

# The EAL arguments are given (not built from dpdk_port) to choose the file prefix.
mf_dp_start() {
	local bin=${1:-$MF_DP_BIN} port
	port=$("$MF_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["dpdk_port"])' "$MF_CFG")
	rm -f "$MF_SOCK"
	sb_start dataplane "" setsid taskset -c "$MF_DP_CPU" nice -n -10 "$bin" -l "$MF_DP_CPU" \
		--file-prefix "$MF_DP_PREFIX" --huge-unlink --no-pci --vdev "$port" -- -c "$MF_CFG" ${MF_DP_ARGS:-}
	if ! sb_wait_for 30 mf_tel /stormboot/stats; then
		cat "$SB_RUN/dataplane.log" >&2
		sb_fail "dataplane did not come up (telemetry prefix $MF_DP_PREFIX)"
	fi
	sb_wait_for 10 grep -q "serving " "$SB_RUN/dataplane.log" || sb_fail "no 'serving' line"
}

mf_dp_stop() {
	local p
	p=$(sb_pid dataplane)
	[ -n "$p" ] || return 0
	kill -INT "$p" 2>/dev/null || sb_log "dataplane $p was gone before its stop (see its log)"
	sb_stop dataplane 10
	cp "$SB_RUN/dataplane.log" "$MF_WORK/dataplane.log" 2>/dev/null || true
}

mf_tpmd_start() {
	rm -f "$MF_SOCK"
	sb_start tpmd "" setsid dpdk-testpmd -l "$MF_GEN_CPU,$MF_DP_CPU" --main-lcore "$MF_GEN_CPU" \
		--file-prefix "${SB_PREFIX}-tpmd" --huge-unlink --no-pci --no-telemetry \
		--log-level=lib.eal:warning \
		--vdev "net_memif0,role=server,socket=$MF_SOCK,rsize=$MF_RSIZE" -- \
		--forward-mode=macswap --nb-cores=1 --auto-start --stats-period 3600
	sb_wait_for 20 grep -q "Start automatic packet forwarding\|Port statistics\|Press enter" \
		"$SB_RUN/tpmd.log" || { cat "$SB_RUN/tpmd.log" >&2; sb_fail "testpmd did not start"; }
}

mf_tpmd_stop() {
	local p
	p=$(sb_pid tpmd)
	[ -n "$p" ] || return 0
	# dpdk-testpmd 22.11 may die on its way out after a memif peer left (a segfault in its
	# port close): its figure is the generator's report, taken before.
	kill -INT "$p" 2>/dev/null || true
	sb_stop tpmd 5
}

mf_storm() {
	local out=$1
	shift
	setsid -w timeout 300 taskset -c "$MF_GEN_CPU" "$MF_STORM" -l "$MF_GEN_CPU" --no-pci \
		--file-prefix "${SB_PREFIX}-storm" --huge-unlink --no-telemetry \
		--log-level=lib.eal:warning \
		--vdev "net_memif0,role=client,socket=$MF_SOCK,rsize=$MF_RSIZE" -- \
		--json "$@" >"$out.json" 2>"$out.log"
}

# DPDK 22.11's memif PMD unmaps a port's shared memory from its interrupt thread when the peer
# goes, with no guard against an lcore inside rx/tx: the dataplane can crash (SIGSEGV in
# eth_memif_rx) when the generator closes while it polls. So a run that keeps the dataplane
# for more is held: the generator reports, then waits connected (not polling, --hold) until
# mf_storm_end, after the caller has stopped the dataplane.
#   mf_storm_begin OUT ARGS...   the generator in the background; returns once its report
#                                is in OUT.json (or it exited)
#   mf_storm_end OUT             let it go; its exit code in MF_GEN_RC
mf_storm_begin() {
	mf_storm_start "$@"
	mf_storm_reported "$1"
}
mf_storm_start() { # OUT ARGS...: the held generator in the background, at once
	local out=$1
	shift
	: >"$out.hold"
	mf_storm "$out" --hold "$out.hold" "$@" &
	MF_GEN_PID=$!
}
mf_storm_reported() { # OUT: until its report is in OUT.json, or it exited (at most 300 s)
	local i
	for ((i = 0; i < 3000; i++)); do
		kill -0 "$MF_GEN_PID" 2>/dev/null || return 0
		"$MF_PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$1.json" 2>/dev/null && return 0
		sleep 0.1
	done
}
mf_storm_end() {
	rm -f "$1.hold"
	MF_GEN_RC=0
	wait "$MF_GEN_PID" || MF_GEN_RC=$?
}
