#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# storm-lib.sh - what the storm root tests share: the generator (perf/storm), its run's
# outcome, the report checks and the "the check can fail" run with one byte changed.
# Sourced after tests/dataplane/dp-lib.sh (storm-short.sh, storm-mtftp.sh: the lab veth) or
# perf/storm/memif-lib.sh (storm-memif.sh: net_memif), once BUILD_DIR is set.
#
#   storm_gen SECS OUT ARGS...   (dp-lib labs) the generator in the client namespace on the
#                                lab veth (net_af_xdp), on the clients' first CPU, killed
#                                after SECS: report OUT.json, per-VM lines OUT.csv, progress
#                                OUT.log; returns its exit status
#   storm_gen_ok OUT RC          its progress to stderr, then: exit status RC is 0, a report
#   storm_verify WORK VMS LOADER IMAGE TRANSFERS PROBES
#                                tests/storm/storm-check.py's checks on WORK/run.* (the report,
#                                its counters, the per-VM lines, the dataplane's counters)
#   storm_bad_image IMG OUT OFFSET  OUT: a copy of IMG with the byte at OFFSET changed
#   storm_bad_ok OUT RC          the run with that image: exit 1, 4 VMs failed bytes_mismatch
STORM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STORM=${STORM:-$BUILD_DIR/perf/storm/stormboot-storm}
STORM_PY=/usr/bin/python3
[ -x "$STORM" ] || sb_fail "no generator at $STORM (build first; BUILD_DIR=$BUILD_DIR)"

storm_gen() {
	local secs=$1 out=$2 cpu=${DP_CLI_CPUS%%[-,]*}
	shift 2
	# setsid: a session (autogroup) of its own; in the test's session it would share the
	# scheduler's group weight with the dataplane (nice -10) and starve on a busy host
	ip netns exec "$SB_NS_CLI" setsid -w timeout "$secs" taskset -c "$cpu" "$STORM" \
		-l "$cpu" --no-pci --in-memory --file-prefix "${SB_PREFIX}-storm" --no-telemetry \
		--log-level=lib.eal:warning --vdev "net_af_xdp0,iface=$SB_IF_CLI" -- \
		--json --vm-csv "$out.csv" "$@" >"$out.json" 2>"$out.log"
}

storm_gen_ok() {
	grep -v '^\[' "$1.log" >&2 || true
	tail -n 2 "$1.log" >&2
	sb_check "generator exit 0 (got $2)" test "$2" = 0
	[ -s "$1.json" ] || sb_fail "no report from the generator"
}

storm_verify() {
	local verdict desc
	"$STORM_PY" "$STORM_LIB_DIR/storm-check.py" "$@" >"$1/checks"
	while IFS=$'\t' read -r verdict desc; do
		sb_check "$desc" test "$verdict" = ok
	done <"$1/checks"
}

storm_bad_image() {
	cp "$1" "$2"
	printf '\x00' | dd of="$2" bs=1 seek="$3" conv=notrunc status=none
	if cmp -s "$1" "$2"; then
		printf '\x01' | dd of="$2" bs=1 seek="$3" conv=notrunc status=none
	fi
}

storm_bad_ok() {
	sb_check "a changed byte: generator exit 1 (got $2)" test "$2" = 1
	sb_check "a changed byte: 4 VMs failed with bytes_mismatch" test "$("$STORM_PY" -c \
		'import json,sys; r=json.load(open(sys.argv[1])); print(r["failed"], r["fail_reasons"]["bytes_mismatch"])' \
		"$1.json")" = "4 4"
}
