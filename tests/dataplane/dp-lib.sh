# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# dp-lib.sh - shared part of the dataplane lab tests (tests/dataplane/dp-*.sh).
# Source it after setting nothing; it sources tests/lab/lib.sh.
#
#   dp_init                       root/commands check, work dir, EXIT trap (lab down,
#                                 dataplane stopped by its PID, work dir removed)
#   dp_image NAME BYTES           a random image in $DP_WORK/img/NAME
#   dp_config [JSON-FRAGMENT]     write $DP_CFG: server 198.18.0.1 on ${P}0, subnet
#                                 198.18.0.0/24 (pool .100-.199), boot file undionly.kpxe,
#                                 every image made by dp_image; JSON-FRAGMENT is a jq-free
#                                 python dict update applied to the config (e.g.
#                                 '{"tftp": {"timeout_ms": 300}}', merged one level deep)
#   dp_lab_up [lab.sh up args]    lab up (prefix $SB_PREFIX), lab variables in the env
#   dp_start                      start stormboot-dataplane in the server namespace and
#                                 wait until its telemetry answers (its own options
#                                 $DP_APP_ARGS appended, e.g. "-v" for the debug log)
#   dp_tel CMD                    telemetry CMD's answer as JSON (the value under CMD)
#   dp_get CMD KEY                one value of CMD's dict (empty if missing)
#   dp_snap CMD FILE              save CMD's dict to FILE
#   dp_delta FILE CMD KEY         KEY now minus KEY in FILE
#   dp_deltas FILE CMD            lines d_KEY=N for every counter (eval them)
#   dp_idle SECS                  wait until no TFTP session is active (false after SECS)
#   dp_in_cli CMD...              CMD in the (first) client namespace, on the client CPUs
#
# CPUs: the dataplane busy-polls one CPU (DP_LCORE, default the last one); clients run
# on the others (DP_CLI_CPUS), so a lock-step client never waits for the poller's slice.
# The dataplane runs at nice -10: on a host shared with other work it still gets its CPU.
#
# Variables: DP_WORK, DP_CFG, DP_BIN, DP_XDP, DP_TEL_PREFIX, SB_* from lab.sh env.
# Prefix: SB_PREFIX (default "dpt"), so this lab does not clash with other labs.

export SB_PREFIX=${SB_PREFIX:-dpt}
DP_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$DP_HERE/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
. "$SOURCE_DIR/tests/lab/lib.sh"
DP_LAB=$SOURCE_DIR/tests/lab/lab.sh
DP_BIN=$BUILD_DIR/dataplane/engine/stormboot-dataplane
DP_XDP=$BUILD_DIR/bpf/stormboot_xdp.o
DP_PY=/usr/bin/python3
DP_TEL_PREFIX=sb-${SB_PREFIX}0
DP_TEL_SOCK=/var/run/dpdk/$DP_TEL_PREFIX/dpdk_telemetry.v2
DP_SRV=198.18.0.1
DP_NCPU=$(nproc)
DP_LCORE=${DP_LCORE:-$((DP_NCPU - 1))}
if [ "$DP_NCPU" -gt 1 ]; then DP_CLI_CPUS=${DP_CLI_CPUS:-0-$((DP_NCPU - 2))}; else DP_CLI_CPUS=${DP_CLI_CPUS:-0}; fi

dp_cleanup() {
	local rc=$?
	set +e
	if [ -n "${DP_WORK:-}" ] && [ -f "$SB_RUN/dataplane.pid" ]; then
		sb_stop dataplane 10
		cp "$SB_RUN/dataplane.log" "$DP_WORK/dataplane.log" 2>/dev/null
	fi
	"$DP_LAB" down >/dev/null 2>&1
	if [ "$rc" != 0 ] && [ -n "${DP_WORK:-}" ] && [ -f "$DP_WORK/dataplane.log" ]; then
		echo "--- dataplane log (last 40 lines)" >&2
		tail -n 40 "$DP_WORK/dataplane.log" >&2
	fi
	[ -n "${DP_KEEP:-}" ] || rm -rf "${DP_WORK:-/nonexistent}"
	exit "$rc"
}

dp_init() {
	sb_need_root
	sb_need_cmd ip "$DP_PY" dpdk-telemetry.py cmp
	[ -x "$DP_BIN" ] || sb_fail "no dataplane binary at $DP_BIN (build first; BUILD_DIR=$BUILD_DIR)"
	[ -f "$DP_XDP" ] || sb_fail "no XDP object at $DP_XDP"
	DP_WORK=$(mktemp -d "/tmp/${SB_PREFIX}-test.XXXXXX")
	chmod 755 "$DP_WORK"
	mkdir -p "$DP_WORK/img"
	DP_CFG=$DP_WORK/stormboot.json
	trap dp_cleanup EXIT
	trap 'exit 130' INT TERM
}

dp_image() {
	head -c "$2" /dev/urandom >"$DP_WORK/img/$1"
}

dp_config() {
	"$DP_PY" - "$DP_WORK/img" "$DP_CFG" "${1:-{\}}" "$SB_PREFIX" <<-'EOF'
	import json, os, sys
	img, out, extra, p = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
	cfg = {
	    "interface": p + "0",
	    "server_ip": "198.18.0.1",
	    "queues": 1,
	    "dhcp": {
	        "mode": "full",
	        "boot": {"bios": "undionly.kpxe"},
	        "subnets": [{
	            "network": "198.18.0.0/24",
	            "pool": {"start": "198.18.0.100", "end": "198.18.0.199"},
	            "router": "198.18.0.1",
	            "lease_time": 600,
	        }],
	    },
	    "tftp": {"transfer_ports": {"first": 61000, "last": 61999},
	             "max_sessions": 512, "timeout_ms": 1000, "retries": 5,
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

dp_lab_up() {
	"$DP_LAB" up "$@" 2>"$DP_WORK/lab-up.log" || {
		cat "$DP_WORK/lab-up.log" >&2
		sb_fail "lab up $*"
	}
	eval "$("$DP_LAB" env)"
}

dp_tel() { "$DP_PY" "$DP_HERE/dp-tel.py" "$DP_TEL_PREFIX" "$1"; }

dp_get() { "$DP_PY" "$DP_HERE/dp-tel.py" "$DP_TEL_PREFIX" "$1" "$2"; }

dp_snap() { dp_tel "$1" >"$2"; }

dp_delta() {
	"$DP_PY" "$DP_HERE/dp-tel.py" "$DP_TEL_PREFIX" --delta "$1" "$2" | sed -n "s/^d_$3=//p"
}

dp_deltas() { "$DP_PY" "$DP_HERE/dp-tel.py" "$DP_TEL_PREFIX" --delta "$1" "$2"; }

dp_start() {
	[ -n "${SB_NS_SRV:-}" ] || sb_fail "dp_start before dp_lab_up"
	sb_start dataplane "$SB_NS_SRV" sh -c \
		"mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec nice -n -10 '$DP_BIN' -- -c '$DP_CFG' -x '$DP_XDP' -l $DP_LCORE ${DP_APP_ARGS:-}"
	if ! sb_wait_for 30 dp_tel /stormboot/stats; then
		cat "$SB_RUN/dataplane.log" >&2
		sb_fail "dataplane did not come up (telemetry $DP_TEL_SOCK)"
	fi
	sb_wait_for 10 grep -q "serving " "$SB_RUN/dataplane.log" || sb_fail "no 'serving' line in the log"
	sb_log "dataplane up: pid $(sb_pid dataplane), $(grep -o 'serving .*' "$SB_RUN/dataplane.log")"
}

# dp_idle SECS: wait until /stormboot/sessions shows no active session
dp_idle() {
	local i
	for ((i = 0; i < $1 * 5; i++)); do
		[ "$(dp_get /stormboot/sessions tftp_sessions_active)" = 0 ] && return 0
		sleep 0.2
	done
	[ "$(dp_get /stormboot/sessions tftp_sessions_active)" = 0 ]
}

dp_in_cli() { ip netns exec "$SB_NS_CLI" taskset -c "$DP_CLI_CPUS" "$@"; }
