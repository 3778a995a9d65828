# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# lib.sh - shared helpers for lab scripts and lab tests. Source it:
#
#   . "$(dirname "$0")/lib.sh"
#
# Everything here is bounded in time, and stops only processes it started,
# by the PID it recorded (one PID file per process in $SB_RUN).
#
#   sb_log MSG...                 message on stderr
#   sb_fail MSG...                message on stderr, exit 1 (EXIT traps run)
#   sb_need_root                  fail unless root
#   sb_need_cmd CMD...            fail if a command is missing
#   sb_in NS CMD...               run CMD in network namespace NS ("" = here)
#   sb_wait_for SECS CMD...       retry CMD every 0.1 s until it succeeds;
#                                 returns 1 after SECS seconds
#   sb_assert DESC CMD...         fail with DESC unless CMD succeeds
#   sb_assert_eq DESC WANT GOT    fail with DESC unless WANT = GOT
#   sb_check DESC CMD...          like sb_assert but records pass/fail and goes on
#   sb_summary                    prints "N passed, N failed", returns 1 on failure
#   sb_start NAME NS CMD...       start CMD in the background in NS ("" = here),
#                                 PID in $SB_RUN/NAME.pid, output in $SB_RUN/NAME.log
#   sb_pid NAME                   print the recorded PID of NAME
#   sb_alive NAME                 true if NAME's recorded PID is running
#   sb_stop NAME [SECS]           SIGTERM, wait up to SECS (default 5), then SIGKILL
#   sb_stop_all                   sb_stop every PID file in $SB_RUN
#   sb_kill_pid PID [SECS]        the same for a bare PID
#
# SB_RUN defaults to tests/lab/run/<SB_PREFIX> (SB_PREFIX defaults to "sb").

SB_LAB_DIR=${SB_LAB_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
SB_PREFIX=${SB_PREFIX:-sb}
SB_RUN=${SB_RUN:-$SB_LAB_DIR/run/$SB_PREFIX}

SB_PASSED=0
SB_FAILED=0

sb_log() { echo "[$(date +%T)] $*" >&2; }

sb_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

sb_need_root() { [ "$(id -u)" = 0 ] || sb_fail "must run as root"; }

sb_need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || sb_fail "missing command: $c"
	done
}

sb_in() {
	local ns=$1
	shift
	if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

sb_wait_for() {
	local secs=$1 i n
	shift
	n=$((secs * 10))
	[ "$n" -gt 0 ] || n=1
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@" >/dev/null 2>&1
}

sb_assert() {
	local desc=$1
	shift
	"$@" || sb_fail "$desc (command: $*)"
}

sb_assert_eq() {
	[ "$2" = "$3" ] || sb_fail "$1: want '$2', got '$3'"
}

sb_check() {
	local desc=$1
	shift
	if "$@"; then
		SB_PASSED=$((SB_PASSED + 1))
		echo "ok - $desc" >&2
	else
		SB_FAILED=$((SB_FAILED + 1))
		echo "not ok - $desc (command: $*)" >&2
	fi
}

sb_summary() {
	echo "$SB_PASSED passed, $SB_FAILED failed"
	[ "$SB_FAILED" = 0 ]
}

sb_kill_pid() {
	local p=$1 secs=${2:-5} i
	[ -n "$p" ] || return 0
	kill -0 "$p" 2>/dev/null || return 0
	kill -TERM "$p" 2>/dev/null || true
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$p" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null || true
	for ((i = 0; i < 20; i++)); do
		kill -0 "$p" 2>/dev/null || return 0
		sleep 0.1
	done
}

sb_start() {
	local name=$1 ns=$2
	shift 2
	mkdir -p "$SB_RUN"
	if [ -n "$ns" ]; then
		# ip netns exec execs CMD, so $! is CMD's own PID
		ip netns exec "$ns" "$@" >"$SB_RUN/$name.log" 2>&1 &
	else
		"$@" >"$SB_RUN/$name.log" 2>&1 &
	fi
	echo $! >"$SB_RUN/$name.pid"
}

sb_pid() { cat "$SB_RUN/$1.pid" 2>/dev/null; }

sb_alive() {
	local p
	p=$(sb_pid "$1") || return 1
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null
}

sb_stop() {
	local name=$1 secs=${2:-5}
	[ -f "$SB_RUN/$name.pid" ] || return 0
	sb_kill_pid "$(sb_pid "$name")" "$secs"
	rm -f "$SB_RUN/$name.pid"
}

sb_stop_all() {
	local f
	for f in "$SB_RUN"/*.pid; do
		[ -f "$f" ] || continue
		sb_stop "$(basename "$f" .pid)"
	done
}
