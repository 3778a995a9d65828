#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# storm-stall.sh - the soak's storm round (perf/soak.sh: 200 VMs, half OVMF-like windowed,
# half iPXE-like lock-step, a 256 KiB loader and a 1 MiB image, generator TFTP timeout
# 500 ms x 20 tries) against stormboot-dataplane, with the generator held back the way a
# shared host holds it back: --pause S stops it (SIGSTOP) for S seconds, --pause-at T
# seconds into the round; --hog runs a nice -10 busy loop on the generator's CPU for the
# round (the generator then gets ~10 % of it, as in the soak's failed rounds).
# --blackout S drops every frame towards the generator (the egress of its bridge port, with
# tests/lab/lossy-link) for S seconds, --blackout-at T seconds into the round: a one-way
# fault, the generator's ACKs still reach the server. --give-up-ms N sets tftp.give_up_ms
# (default: the soak's config, timeout_ms 1000 x (retries 5 + 1) = 6000 ms). Prints each
# round's outcome and the dataplane's TFTP counters.
#
# Usage (root): perf/storm/storm-stall.sh [--build DIR] [--vms N] [--rounds N]
#                   [--pause S] [--pause-at T] [--hog] [--blackout S] [--blackout-at T]
#                   [--give-up-ms N] [--image-kib K] [-- more stormboot-storm options]
#   DATAPLANE=path: another dataplane binary (e.g. a build of an older commit)
set -euo pipefail

export SB_PREFIX=${SB_PREFIX:-sts}
HERE=$(cd "$(dirname "$0")" && pwd)
export SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
vms=200 image_kib=1024 rounds=1 pause=0 pause_at=2 hog=0 give_up='' blackout=0 blackout_at=2 extra=()
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD_DIR=$2; shift ;;
	--vms) vms=$2; shift ;;
	--image-kib) image_kib=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--pause) pause=$2; shift ;;
	--pause-at) pause_at=$2; shift ;;
	--hog) hog=1 ;;
	--blackout) blackout=$2; shift ;;
	--blackout-at) blackout_at=$2; shift ;;
	--) shift; extra=("$@"); break ;;
	--give-up-ms) give_up=$2; shift ;;
	*) sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
	shift
done
export BUILD_DIR
. "$SOURCE_DIR/tests/dataplane/dp-lib.sh"
# DATAPLANE=path: another dataplane binary (e.g. a build of an older commit) against the same
# generator and lab.
DP_BIN=${DATAPLANE:-$DP_BIN}
dp_init
sb_need_cmd setsid taskset timeout
STORM=$BUILD_DIR/perf/storm/stormboot-storm
[ -x "$STORM" ] || sb_fail "no generator at $STORM (--build DIR)"
STORM_CPU=${DP_CLI_CPUS%%[-,]*}
LOSSY=$BUILD_DIR/tests/lab/lossy-link
LOSSY_OBJ=$BUILD_DIR/tests/lab/lossy_link.bpf.o

dp_image loader.efi 262144
dp_image loader-bios.bin 262144
dp_image image.bin $((image_kib * 1024))
gu=
[ -n "$give_up" ] && gu=', "give_up_ms": '$give_up
dp_config '{"dhcp": {"mode": "full",
                     "boot": {"bios": "loader-bios.bin", "uefi_x64": "loader.efi"},
                     "subnets": [{"network": "198.18.0.0/16",
                                  "pool": {"start": "198.18.16.0", "end": "198.18.31.255"},
                                  "router": "198.18.0.1", "lease_time": 7200}]},
            "tftp": {"max_sessions": 1024, "windowsize_max": 16'"$gu"'}}'
dp_lab_up --clients 2 --tx-csum-off
PORT_GEN=${SB_PREFIX}swc1
dp_start

# descendant PID NAME: the process called NAME below PID (ours only, never another's).
descendant() {
	local p c
	for c in $(pgrep -P "$1" || true); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$2" ] && { echo "$c"; return; }
		p=$(descendant "$c" "$2")
		[ -n "$p" ] && { echo "$p"; return; }
	done
}

for ((n = 1; n <= rounds; n++)); do
	dp_snap /stormboot/stats "$DP_WORK/s.$n"
	hog_pid=
	if [ "$hog" = 1 ]; then
		timeout 120 taskset -c "$STORM_CPU" nice -n -10 sh -c 'while :; do :; done' &
		hog_pid=$!
	fi
	ip netns exec "$SB_NS_CLI" setsid -w timeout 150 taskset -c "$STORM_CPU" "$STORM" \
		-l "$STORM_CPU" --no-pci --in-memory --file-prefix "${SB_PREFIX}-storm" --no-telemetry \
		--log-level=lib.eal:warning --vdev "net_af_xdp0,iface=$SB_IF_CLI" -- \
		--vms "$vms" --ovmf-ratio 0.5 --seed "$n" --backoff-scale 0.05 --dhcp-tries 10 \
		--tftp-timeout-ms 500 --tftp-retries 20 --timeout 120 --json --progress 1 \
		--file "loader.efi=$DP_WORK/img/loader.efi" \
		--file "loader-bios.bin=$DP_WORK/img/loader-bios.bin" \
		--file "image.bin=$DP_WORK/img/image.bin" --image image.bin \
		--vm-csv "$DP_WORK/round-$n.csv" "${extra[@]}" >"$DP_WORK/round-$n.json" \
		2>"$DP_WORK/round-$n.log" &
	spid=$!
	if [ "$pause" != 0 ]; then
		sleep "$pause_at"
		gpid=$(descendant "$spid" stormboot-storm)
		if [ -n "$gpid" ]; then
			kill -STOP "$gpid"
			sleep "$pause"
			kill -CONT "$gpid"
		fi
	fi
	if [ "$blackout" != 0 ]; then
		# T seconds after the generator's start (its EAL set up)
		for ((i = 0; i < 200; i++)); do
			grep -q "^stormboot-storm: port" "$DP_WORK/round-$n.log" 2>/dev/null && break
			sleep 0.1
		done
		sleep "$blackout_at"
		ip netns exec "${SB_PREFIX}sw" timeout "$blackout" "$LOSSY" "$LOSSY_OBJ" "$PORT_GEN" \
			100 0 60 egress >"$DP_WORK/lossy-$n.log" 2>&1 || true
		sb_log "  blackout: $(tr '\n' ' ' <"$DP_WORK/lossy-$n.log")"
	fi
	rc=0
	wait $spid || rc=$?
	[ -n "$hog_pid" ] && { kill "$hog_pid" 2>/dev/null || true; wait "$hog_pid" 2>/dev/null || true; }
	res=$("$DP_PY" -c 'import json,sys,csv,collections
r=json.load(open(sys.argv[1])); rows=list(csv.DictReader(open(sys.argv[2])))
c=collections.Counter((x["kind"],x["fail_state"]) for x in rows if x["state"]=="failed")
print("%d/%d done, failed %s, last VM %.1f s, lcore ran %.0f %% of the time" % (r["done"], r["vms"], dict(c), r["time_to_last_vm_s"], r["cpu_share_pct"]))' \
		"$DP_WORK/round-$n.json" "$DP_WORK/round-$n.csv" 2>&1 || echo "no report")
	sb_log "round $n (pause ${pause}s at ${pause_at}s, hog $hog, blackout ${blackout}s at ${blackout_at}s, give_up ${give_up:-6000 (retries 5)}): exit $rc, $res"
	sb_log "  dataplane: $(dp_deltas "$DP_WORK/s.$n" /stormboot/stats | grep -E '^d_(tftp_sessions_(started|completed|given_up)|tx_tftp_retransmit|drop_tftp_(ack_duplicate|unknown_session|rrq_duplicate|ack_stale)|xsk_rx_ring_full|drop_tx_full|drop_no_mbuf)=' | tr '\n' ' ')"
	grep -v '^libbpf\|^libxdp\|^EAL' "$DP_WORK/round-$n.log" | grep -E 'failed [1-9]|^\[' | tail -4 >&2 || true
done
