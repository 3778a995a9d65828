#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ctl-trace.sh - boot timelines and firmware logs (issue 18, items 1-3 and 7), with real
# clients: stormboot-control (HTTP on 198.18.0.1:8080, syslog receiver on UDP 514) +
# stormboot-dataplane (-C) in the lab.
#   1. busybox udhcpc as a PXE client (vendor class PXEClient) gets a lease with option 7
#      (log server) = 198.18.0.1; curl fetches undionly.kpxe (TFTP), asks for nosuch.img
#      (ERROR 1), fetches other.img over HTTP; util-linux logger sends a syslog line like iPXE's
#      ("ipxe: Connection timed out ...") from the client's address;
#   2. `stormbootctl trace MAC` shows every step in order (DISCOVER>OFFER, REQUEST>ACK, TFTP
#      RRQ with its options, TFTP done, TFTP not-found, HTTP 200, the firmware's message) with
#      times relative to the first; `--follow` shows a step made while it runs;
#   3. `stormbootctl clients` lists the client as failed (its last step is the firmware error),
#      with counts per state; --state filters; a bad state is refused;
#   4. control's log has one line per step that matters (lease given, boot file served, request
#      refused, firmware says) naming the MAC; the dataplane lost no step.
#
# Usage (root): BUILD_DIR=build tests/control/ctl-trace.sh     (SB_PREFIX default "tr")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-tr}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../ops/ops-lib.sh"
ops_init
sb_need_cmd curl logger busybox
CTL=$OPS_CTL

dp_image undionly.kpxe 65536
dp_image other.img 30000
dp_config '{"http": {"listen": "198.18.0.1:8080"}, "syslog": {"enabled": true, "port": 514}}'
ops_up --clients 1 --tx-csum-off
MAC=$SB_CLI_MAC

sb_check "control receives syslog on UDP 514" \
	sh -c "\"$CTL\" status | grep -Eq '^timeline.syslog_port +514$'"

# --- 1. a PXE client's steps
cat >"$DP_WORK/udhcpc.script" <<'SCRIPT'
#!/bin/sh
case "$1" in
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	echo "ip=$ip boot_file=$boot_file opt7=$opt7" >"$LEASE_OUT"
	;;
esac
SCRIPT
chmod +x "$DP_WORK/udhcpc.script"
sb_in "$SB_NS_CLI" env LEASE_OUT="$DP_WORK/lease" timeout 30 busybox udhcpc -i "$SB_IF_CLI" \
	-n -q -t 5 -T 2 -V PXEClient:Arch:00000:UNDI:002001 -O 7 \
	-s "$DP_WORK/udhcpc.script" >"$DP_WORK/udhcpc.log" 2>&1 || true
sb_log "udhcpc: $(cat "$DP_WORK/lease" 2>/dev/null || tail -n 3 "$DP_WORK/udhcpc.log")"
# busybox names option 7 by number: opt7 in hex (c6120001 = 198.18.0.1)
sb_check "udhcpc (PXEClient): lease, boot file, option 7 log server 198.18.0.1" \
	grep -Eq '^ip=198\.18\.0\.1[0-9][0-9] boot_file=undionly\.kpxe opt7=c6120001$' "$DP_WORK/lease"
IP=$(sed -n 's/^ip=\([0-9.]*\) .*/\1/p' "$DP_WORK/lease" 2>/dev/null || true)
[ -n "$IP" ] || sb_fail "no lease: nothing to trace"

mkdir -p "$DP_WORK/dl"
sb_check "TFTP: undionly.kpxe downloaded" sb_in "$SB_NS_CLI" timeout 20 curl -sS --tftp-blksize 1024 \
	-o "$DP_WORK/dl/u" "tftp://$DP_SRV/undionly.kpxe"
rc=0
sb_in "$SB_NS_CLI" timeout 20 curl -sS -o "$DP_WORK/dl/n" "tftp://$DP_SRV/nosuch.img" 2>/dev/null || rc=$?
sb_check "TFTP: nosuch.img is ERROR 1 (curl exit $rc)" test "$rc" = 68
sb_check "HTTP: other.img (200)" test "$(sb_in "$SB_NS_CLI" curl -s -o /dev/null -w '%{http_code}' \
	"http://$DP_SRV:8080/other.img")" = 200
# what iPXE sends when a download fails (iPXE: "<PRI>ipxe: MESSAGE"), from the client's address
sb_in "$SB_NS_CLI" logger --rfc3164 -d -n "$DP_SRV" -P 514 -t ipxe \
	"Could not boot image: Connection timed out (https://ipxe.org/4c0a6035)"
sb_wait_for 5 sh -c "\"$CTL\" --json trace $MAC | grep -q 'Connection timed out'" || true

# --- 2. the trace
"$CTL" trace "$MAC" >"$DP_WORK/trace.txt" || true
cat "$DP_WORK/trace.txt" >&2
"$CTL" --json trace "$MAC" >"$DP_WORK/trace.json"
steps=$("$DP_PY" - "$DP_WORK/trace.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["arguments"]
print(" | ".join(s["step"] + ": " + s["detail"] for s in a["steps"]))
PY
)
order_ok() { # the steps in this order (others may come between)
	"$DP_PY" - "$DP_WORK/trace.json" "$@" <<-'PY'
	import json, re, sys
	steps = json.load(open(sys.argv[1]))["arguments"]["steps"]
	want, i = sys.argv[2:], 0
	for s in steps:
	    if i < len(want) and re.search(want[i], s["step"] + " " + s["detail"]):
	        i += 1
	sys.exit(0 if i == len(want) else 1)
	PY
}
sb_check "trace: every step in order ($steps)" order_ok \
	"^DISCOVER>OFFER $IP pxe file undionly.kpxe" "^REQUEST>ACK $IP pxe file undionly.kpxe" \
	"^TFTP RRQ undionly.kpxe blksize 1024 tsize 65536" "^TFTP done undionly.kpxe 6[45] blocks" \
	"^TFTP not-found nosuch.img" "^HTTP 200 /other.img 29 KiB" \
	"^firmware err Could not boot image: Connection timed out"
sb_check "trace: the table has times relative to the first step" \
	grep -Eq '^ +0\.000 +- +DISCOVER>OFFER' "$DP_WORK/trace.txt"
sb_check "trace: errors are marked" grep -Eq 'TFTP not-found .*!!$' "$DP_WORK/trace.txt"
sb_check "trace: state failed (the firmware's error is the last step)" \
	grep -q "state failed" "$DP_WORK/trace.txt"

# --follow: a step made while it runs shows up
timeout 5 "$CTL" trace "$MAC" --follow >"$DP_WORK/follow.txt" 2>&1 &
fpid=$!
sleep 1.5
sb_in "$SB_NS_CLI" timeout 20 curl -sS -o "$DP_WORK/dl/o" "tftp://$DP_SRV/other.img" || true
wait $fpid || true
sb_check "trace --follow: the new transfer appears (after the history)" \
	sh -c "grep -q 'TFTP not-found' '$DP_WORK/follow.txt' && grep -Eq 'TFTP done +tftp-end +other.img' '$DP_WORK/follow.txt'"

# --- 3. clients
"$CTL" clients >"$DP_WORK/clients.txt"
cat "$DP_WORK/clients.txt" >&2
sb_check "clients: one client, counted as booting (a transfer just ended)" \
	grep -Eq '^clients 1: +booting 1 +done 0 +stuck 0 +failed 0' "$DP_WORK/clients.txt"
sb_check "clients: its row names the last step" \
	grep -Eq "^$MAC +$IP +booting +[0-9]+ +[0-9]+s +TFTP done +other.img" "$DP_WORK/clients.txt"
sb_in "$SB_NS_CLI" logger --rfc3164 -d -n "$DP_SRV" -P 514 -t ipxe "No such file or directory"
sb_wait_for 5 sh -c "\"$CTL\" clients --state failed | grep -q '^$MAC'" || true
sb_check "clients --state failed: the client after the firmware's error" \
	sh -c "\"$CTL\" clients --state failed | grep -Eq '^$MAC .* failed .*firmware err +No such file'"
sb_check "clients --state done: none" sh -c "\"$CTL\" clients --state done | grep -Eq '^clients 1: .*failed 1'"
rc=0
"$CTL" clients --state sleeping >/dev/null 2>&1 || rc=$?
sb_check "clients --state sleeping is refused (exit $rc)" test "$rc" = 1

# --- 4. the log, and nothing lost
sb_check "log: lease given, with the MAC" grep -q "client $MAC: lease given, REQUEST>ACK: $IP" "$SB_RUN/control.log"
sb_check "log: boot file served" grep -q "client $MAC: boot file served, TFTP done: undionly.kpxe" "$SB_RUN/control.log"
sb_check "log: request refused, why" grep -q "client $MAC: TFTP request refused, TFTP not-found: nosuch.img" "$SB_RUN/control.log"
sb_check "log: the firmware's message" grep -q "client $MAC: firmware says, firmware err: Could not boot image" "$SB_RUN/control.log"
lost=$(dp_get /stormboot/stats timeline_events_lost)
sent=$(dp_get /stormboot/stats timeline_events_sent)
sb_check "dataplane: steps sent to control ($sent), none lost ($lost)" test "$sent" -ge 6 -a "$lost" = 0
sb_stop dataplane 10
sb_stop control 5
sb_summary
