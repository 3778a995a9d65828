# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# ops-lib.sh - shared part of the operations lab tests (tests/ops/ops-*.sh): the dataplane lab
# of tests/dataplane/dp-lib.sh with stormboot-control (-C link) beside it.
#
#   ops_init                     dp_init + control's paths; EXIT trap stops control too, and
#                                first the names (sb_start) listed in OPS_STOP
#   ops_up [lab.sh up args]      lab up, control then the dataplane in the server namespace,
#                                wait until they are connected
#   ops_ctl ARGS...              stormbootctl against this control
#   ops_udhcpc NS OUT            busybox udhcpc in NS: a lease (ip=... line in OUT), address set
#   ops_tftp NS NAME OUT         tftp-hpa get of NAME into OUT from NS; tftp's exit code echoed
#   ops_in_srv CMD...            CMD in the server namespace (where control's listener is)
#
# Variables: OPS_CTLD, OPS_CTL, OPS_RUN, STORMBOOT_SOCKET, and dp-lib's.

OPS_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$OPS_HERE/../dataplane/dp-lib.sh"

ops_cleanup() {
	local rc=$? n
	set +e
	for n in ${OPS_STOP:-}; do sb_stop "$n" 10; done # the test's own processes first
	if [ -n "${DP_WORK:-}" ] && [ -f "$SB_RUN/control.pid" ]; then
		sb_stop control 5
		cp "$SB_RUN/control.log" "$DP_WORK/control.log" 2>/dev/null
		[ "$rc" != 0 ] && { echo "--- control log (last 30 lines)" >&2; tail -n 30 "$DP_WORK/control.log" >&2; }
	fi
	(exit "$rc")
	dp_cleanup
}

ops_init() {
	dp_init
	OPS_CTLD=$BUILD_DIR/control/stormboot-control
	OPS_CTL=$BUILD_DIR/control/stormbootctl
	OPS_RUN=$DP_WORK/run
	mkdir -p "$OPS_RUN"
	export STORMBOOT_SOCKET=$OPS_RUN/control.sock
	trap ops_cleanup EXIT
}

ops_ctl() { "$OPS_CTL" "$@"; }

ops_in_srv() { ip netns exec "$SB_NS_SRV" "$@"; }

ops_up() {
	dp_lab_up "$@"
	sb_start control "$SB_NS_SRV" "$OPS_CTLD" -f -c "$DP_CFG" -s "$OPS_RUN/control.sock" -d "$DP_WORK/state"
	sb_wait_for 10 "$OPS_CTL" status >/dev/null 2>&1 || sb_fail "control did not start: $(tail -5 "$SB_RUN/control.log")"
	sb_start dataplane "$SB_NS_SRV" sh -c \
		"mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec nice -n -10 '$DP_BIN' -- -c '$DP_CFG' -x '$DP_XDP' -l $DP_LCORE -C '$OPS_RUN/dataplane.sock'"
	sb_wait_for 40 grep -q "serving " "$SB_RUN/dataplane.log" || {
		cat "$SB_RUN/dataplane.log" >&2
		sb_fail "dataplane did not come up"
	}
	sb_wait_for 15 sh -c "\"$OPS_CTL\" status | grep -q 'dataplane.connected *yes'" ||
		sb_fail "dataplane did not connect to control"
	sb_log "control and dataplane up"
}

ops_udhcpc() {
	cat >"$DP_WORK/udhcpc.script" <<-'EOS'
	#!/bin/sh
	case "$1" in
	bound | renew)
		ip addr flush dev "$interface"
		ip addr add "$ip/$mask" dev "$interface"
		echo "ip=$ip siaddr=$siaddr boot_file=$boot_file" >"$LEASE_OUT"
		;;
	deconfig) ip addr flush dev "$interface" ;;
	esac
	exit 0
	EOS
	chmod +x "$DP_WORK/udhcpc.script"
	sb_in "$1" env LEASE_OUT="$2" timeout 30 busybox udhcpc -i "$SB_IF_CLI" -n -q -t 5 -T 2 \
		-s "$DP_WORK/udhcpc.script" >"$2.log" 2>&1 || true
	grep -q '^ip=198\.18\.0\.' "$2" 2>/dev/null
}

ops_tftp() {
	local rc=0 dir
	dir=$(dirname "$3")
	(cd "$dir" && sb_in "$1" timeout 60 tftp -m binary "$DP_SRV" -c get "$2" "$(basename "$3")") \
		>"$3.log" 2>&1 || rc=$?
	echo "$rc"
}
