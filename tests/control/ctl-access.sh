#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ctl-access.sh - who may use stormboot-control's sockets (issue 15, item 4; docs/SECURITY.md):
# the peer's credentials (SO_PEERCRED) against control.api_users/api_groups and
# control.dataplane_users/dataplane_groups, not only the file mode. No network: the daemon,
# stormbootctl and sb-fake-dataplane in a temp dir; other users through setpriv. The sockets
# are made world-writable (0666 in a 0755 directory) so that only the credential check stands
# between another user and them.
#   1. default config: nobody is refused on the API socket (one reply line naming its uid and
#      why) and on the dataplane socket (HELLO reply -EACCES); counted in status;
#   2. control.api_users/dataplane_users ["nobody"] (config-reload): nobody's stormbootctl
#      answers, nobody's dataplane is accepted; the user daemon is refused, unless its group
#      is in control.api_groups;
#   3. while that dataplane is alive, a second one - root's - is refused (-EBUSY) and its lease
#      event never reaches the store; once the first is gone, the next one is accepted.
#
# Usage (root): BUILD_DIR=build tests/control/ctl-access.sh     (SB_PREFIX default "cac")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-cac}
HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
. "$SOURCE_DIR/tests/lab/lib.sh"
sb_need_root
sb_need_cmd setpriv /usr/bin/python3
getent passwd nobody >/dev/null && getent passwd daemon >/dev/null ||
	sb_fail "needs the users nobody and daemon"
CTLD=$BUILD_DIR/control/stormboot-control
CTL=$BUILD_DIR/control/stormbootctl
FAKE=$BUILD_DIR/control/sb-fake-dataplane
for b in "$CTLD" "$CTL" "$FAKE"; do [ -x "$b" ] || sb_fail "no $b (build first)"; done

T=$(mktemp -d "/tmp/${SB_PREFIX}-test.XXXXXX")
chmod 755 "$T"
SB_RUN=$T/pids
CFG=$T/stormboot.json SOCK=$T/run/control.sock DPSOCK=$T/run/dataplane.sock
export STORMBOOT_SOCKET=$SOCK
cleanup() {
	local rc=$?
	set +e
	sb_stop_all
	if [ "$rc" != 0 ]; then
		echo "--- control log (last 30 lines)" >&2
		tail -n 30 "$SB_RUN/control.log" >&2
	fi
	[ -n "${KEEP:-}" ] || rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

as() { # USER[:GROUP] CMD...: run CMD as that user, with only that group
	local u=${1%%:*} g=${1#*:}
	[ "$g" = "$1" ] && g=$(id -gn "$u")
	shift
	setpriv --reuid="$u" --regid="$g" --clear-groups -- "$@"
}
jget() { /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
status() { "$CTL" --json status | jget "$1"; }
config() { # the control section ("" = none)
	cat >"$CFG" <<EOF
{ "interface": "sb0", "server_ip": "198.18.0.1",
  "dhcp": { "subnets": [ { "network": "198.18.0.0/24",
             "pool": { "start": "198.18.0.100", "end": "198.18.0.250" } } ] }${1:+,
  \"control\": $1} }
EOF
}

config ""
sb_start control "" "$CTLD" -f -c "$CFG" -s "$SOCK" -d "$T/state"
sb_wait_for 10 "$CTL" status >/dev/null 2>&1 || sb_fail "control did not start"
# only the credential check between other users and the sockets
chmod 755 "$T/run"
chmod 666 "$SOCK" "$DPSOCK"

# --- 1. the default: root, control's own user and the socket's group
rc=0
out=$(as nobody "$CTL" status 2>&1) || rc=$?
sb_log "nobody's stormbootctl status: exit $rc: $out"
sb_check "default config: nobody refused on the API socket" test "$rc" = 1
sb_check "... with a line that names its uid and why" \
	grep -q "access denied for uid 65534 (nobody): not in the socket's group 0" <<<"$out"
rc=0
as nobody "$FAKE" "$DPSOCK" -b 1 -i 198.18.0.150 -m 7 >"$T/fake-nobody.out" 2>&1 || rc=$?
sb_log "nobody's dataplane: $(tr '\n' '|' <"$T/fake-nobody.out")"
sb_check "default config: nobody refused on the dataplane socket (-EACCES, named)" \
	grep -q "^hello-refused -13 access denied for uid 65534 (nobody): not in control.dataplane_users/dataplane_groups" "$T/fake-nobody.out"
sb_check "... its lease event never reached the store" \
	test "$("$CTL" --json lease-get 02:07:00:00:00:00 | jget 'd["result"]')" = 3
sb_check "both refusals counted in status" \
	test "$(status 'd["arguments"]["access"]["api_refused"]')/$(status 'd["arguments"]["access"]["dataplane_refused"]')" = 1/1
sb_check "... and logged" grep -q "api: refused pid [0-9]*: access denied for uid 65534" "$SB_RUN/control.log"
sb_check "root still served" "$CTL" status

# --- 2. listed users (and a group) are allowed, others are not
config '{"api_users": ["nobody"], "api_groups": ["daemon"], "dataplane_users": ["nobody"]}'
sb_check "config-reload with control.api_users/dataplane_users" "$CTL" config-reload
sb_check "nobody's stormbootctl status answers" as nobody "$CTL" status
rc=0
out=$(as daemon:nogroup "$CTL" status 2>&1) || rc=$?
sb_check "daemon (group nogroup) refused: $out" \
	sh -c "[ $rc = 1 ] && grep -q 'access denied for uid 1 (daemon): not in control.api_users/api_groups' <<'X'
$out
X"
sb_check "daemon with its own group (in api_groups) answers" as daemon:daemon "$CTL" status
# not through as(): a function in the background is a subshell, and $! its PID
setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$FAKE" "$DPSOCK" -w 60 \
	>"$T/fake-first.out" 2>&1 &
FIRST=$!
echo "$FIRST" >"$SB_RUN/fake-first.pid"
sb_check "nobody's dataplane accepted" sb_wait_for 10 grep -q '^leases' "$T/fake-first.out"
sb_check "... connected, its pid in status" \
	sb_wait_for 5 sh -c "[ \"\$(\"$CTL\" --json status | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[\"arguments\"][\"dataplane\"].get(\"pid\"))')\" = $FIRST ]"

# --- 3. a second dataplane cannot displace the live one, not even root's
rc=0
"$FAKE" "$DPSOCK" -b 1 -i 198.18.0.151 -m 8 >"$T/fake-second.out" 2>&1 || rc=$?
sb_log "second dataplane: $(tr '\n' '|' <"$T/fake-second.out")"
sb_check "a second dataplane (root) refused while the first is alive (-EBUSY)" \
	grep -q "^hello-refused -16 another dataplane (pid $FIRST) is connected" "$T/fake-second.out"
sb_check "... its lease event never reached the store" \
	test "$("$CTL" --json lease-get 02:08:00:00:00:00 | jget 'd["result"]')" = 3
sb_check "... the first one still connected" test "$(status 'd["arguments"]["dataplane"]["pid"]')" = "$FIRST"
sb_check "... counted" test "$(status 'd["arguments"]["access"]["dataplane_busy"]')" -ge 1
sb_stop fake-first 5
"$FAKE" "$DPSOCK" -b 1 -i 198.18.0.152 -m 9 >"$T/fake-third.out" 2>&1 || true
sb_check "once the first is gone, the next one is accepted and its lease made durable" \
	grep -q "^acked 02:09:00:00:00:00 198.18.0.152" "$T/fake-third.out"
sb_check "control still running" sb_alive control
sb_stop control 5
sb_summary
