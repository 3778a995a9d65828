#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# http-lib.sh - the lab the HTTP tests share (test-http.sh, test-https.sh, test-http-slow.sh,
# test-http-tokens.sh): stormboot-control alone in the lab's server namespace, on the kernel's
# TCP path (no dataplane), curl and other clients in the client namespace.
#
# Sourced after `set -euo pipefail` with SB_PREFIX exported (the test's own prefix). Sets SRC,
# BUILD (the test's first argument, else BUILD_DIR, else SRC/build), CTLD, CTL, FAKE, LAB and
# API; sources tests/lab/lib.sh; needs root and the built control binaries.
#
#   http_lab_up TAG ADDR...  a work dir W=/tmp/sb-TAG.XXXXXX; on exit stormboot-control is
#                            stopped, the lab taken down and W removed; the lab comes up
#                            (no host preparation: no dataplane) with 198.18.0.ADDR/24 on
#                            the client's veth for each ADDR
#   http_start_ctl           stormboot-control on $W/stormboot.json, API socket $API, state
#                            in $W/state (the test then waits for its first answer)
#   cli CMD...               CMD in the client namespace
#   ctl ARGS...              stormbootctl on $API
HTTP_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=${SOURCE_DIR:-$(cd "$HTTP_LIB_DIR/../.." && pwd)}
BUILD=${1:-${BUILD_DIR:-$SRC/build}}
. "$SRC/tests/lab/lib.sh"

sb_need_root
CTLD=$BUILD/control/stormboot-control
CTL=$BUILD/control/stormbootctl
FAKE=$BUILD/control/sb-fake-dataplane
for f in "$CTLD" "$CTL" "$FAKE"; do [ -x "$f" ] || sb_fail "not built: $f"; done
LAB=$SRC/tests/lab/lab.sh

http_lab_cleanup() {
	sb_stop ctl || true
	"$LAB" down >/dev/null 2>&1 || true
	rm -rf "$W"
}

http_lab_up() { # TAG ADDR...
	local a
	W=$(mktemp -d "/tmp/sb-$1.XXXXXX")
	API=$W/api.sock
	shift
	trap http_lab_cleanup EXIT
	"$LAB" down >/dev/null 2>&1 || true
	"$LAB" up --no-prepare >/dev/null
	eval "$("$LAB" env)"
	for a in "$@"; do ip -n "$SB_NS_CLI" addr add "198.18.0.$a/24" dev "$SB_IF_CLI"; done
}

http_start_ctl() {
	sb_start ctl "$SB_NS_SRV" "$CTLD" -c "$W/stormboot.json" -s "$API" -d "$W/state" -f
}

cli() { ip netns exec "$SB_NS_CLI" "$@"; }
ctl() { "$CTL" -s "$API" "$@"; }
