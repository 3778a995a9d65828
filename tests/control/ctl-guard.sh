#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ctl-guard.sh - the XDP guard at run time through stormbootctl (issue 15, item 5):
# stormboot-control + stormboot-dataplane (-C) in the lab, control in the server namespace so
# that it finds the XDP program on the boot interface. With a real client (busybox udhcpc):
#   1. a lease as usual;
#   2. `stormbootctl guard-deny-add MAC`: no lease, and drop_mac_deny (guard-show) moves, the
#      MAC's own drop count in guard-deny-list too; the dataplane sees none of it;
#   3. `stormbootctl guard-deny-del MAC`: a lease again;
#   4. guard-rate-set / guard-allow-enforce: in force in guard-show, refused when they make no
#      sense (allow list empty, half a rate); the config file is not written.
#
# Usage (root): BUILD_DIR=build tests/control/ctl-guard.sh     (SB_PREFIX default "cgd")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-cgd}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../ops/ops-lib.sh"
ops_init
sb_need_cmd busybox
CTL=$OPS_CTL

dp_image undionly.kpxe 65536
dp_config '{}'
ops_up
MAC=$(sb_in "$SB_NS_CLI" cat "/sys/class/net/$SB_IF_CLI/address")

cp "$DP_CFG" "$DP_WORK/config.before"

jq_() { "$DP_PY" -c "import json,sys; a=json.load(sys.stdin)['arguments']; print($1)"; }
deny_drops() { "$CTL" --json guard-show | jq_ "a['drops']['drop_mac_deny']"; }
lease() { # OUT: one udhcpc run (3 DISCOVERs, 1 s apart), its output in OUT
	sb_in "$SB_NS_CLI" timeout 30 busybox udhcpc -i "$SB_IF_CLI" -n -q -t 3 -T 1 \
		-s /bin/true >"$1" 2>&1 || true
}

# --- 1. a lease as usual
out=$("$CTL" guard-show 2>&1) || sb_fail "guard-show: $out"
sb_log "guard-show: $(tr '\n' '|' <<<"$out")"
sb_check "guard-show finds the program on $SB_IF_SRV" grep -q "maps interface $SB_IF_SRV" <<<"$out"
lease "$DP_WORK/udhcpc.1"
sb_check "client $MAC: lease obtained" grep -q "lease of 198.18.0.1[0-9][0-9] obtained" "$DP_WORK/udhcpc.1"

# --- 2. denied at run time
d0=$(deny_drops)
dp_snap /stormboot/stats "$DP_WORK/s.2"
out=$("$CTL" guard-deny-add "$MAC" 2>&1)
sb_check "guard-deny-add $MAC: $out" grep -q "is on the deny list" <<<"$out"
sb_check "... says it is not written to the config file" grep -q "not written to the config file" <<<"$out"
lease "$DP_WORK/udhcpc.2"
sb_check "denied client: no lease" sh -c "! grep -q obtained '$DP_WORK/udhcpc.2'"
d1=$(deny_drops)
sb_log "drop_mac_deny $d0 -> $d1"
sb_check "drop_mac_deny moved by the DISCOVERs (+$((d1 - d0)), at least 3)" test $((d1 - d0)) -ge 3
eval "$(dp_deltas "$DP_WORK/s.2" /stormboot/stats | grep -E '^d_rx_dhcp=')"
sb_check "the dataplane saw none of them (rx_dhcp +$d_rx_dhcp)" test "$d_rx_dhcp" = 0
out=$("$CTL" --json guard-deny-list)
sb_check "guard-deny-list: $MAC with its drops" \
	test "$(jq_ "[m['drops'] for m in a['macs'] if m['mac'] == '$MAC'][0]" <<<"$out")" -ge 3

# --- 3. allowed again
out=$("$CTL" guard-deny-del "$MAC" 2>&1)
sb_check "guard-deny-del $MAC: $out" grep -q "is no longer on the deny list" <<<"$out"
rc=0
"$CTL" guard-deny-del "$MAC" >/dev/null 2>&1 || rc=$?
sb_check "guard-deny-del again: nothing to delete (exit 0, empty)" test "$rc" = 0
lease "$DP_WORK/udhcpc.3"
sb_check "client: lease obtained again" grep -q "lease of 198.18.0.1[0-9][0-9] obtained" "$DP_WORK/udhcpc.3"
sb_check "drop_mac_deny did not move since" test "$(deny_drops)" = "$d1"

# --- 4. rates and the allow list
sb_check "guard-rate-set dhcp 5 20" "$CTL" guard-rate-set dhcp 5 20
sb_check "... in force" test "$("$CTL" --json guard-show | jq_ "a['dhcp_rate']['per_second'], a['dhcp_rate']['burst']")" = "5 20"
rc=0
out=$("$CTL" guard-rate-set tftp 5 0 2>&1) || rc=$?
sb_check "guard-rate-set with half a rate refused: $out" test "$rc" = 1
sb_check "guard-rate-set dhcp 0 0 (none)" "$CTL" guard-rate-set dhcp 0 0
sb_check "... none in force" test "$("$CTL" --json guard-show | jq_ "a['dhcp_rate']['per_second']")" = 0
rc=0
out=$("$CTL" guard-allow-enforce on 2>&1) || rc=$?
sb_check "guard-allow-enforce on with an empty allow list refused: $out" \
	sh -c "[ $rc = 1 ] && echo '$out' | grep -q 'allow list is empty'"
sb_check "guard-allow-add $MAC" "$CTL" guard-allow-add "$MAC"
sb_check "guard-allow-enforce on" "$CTL" guard-allow-enforce on
sb_check "... in force" test "$("$CTL" --json guard-show | jq_ "a['allow_enforced']")" = True
lease "$DP_WORK/udhcpc.4"
sb_check "the allow-listed client: lease obtained" grep -q "obtained" "$DP_WORK/udhcpc.4"
sb_check "guard-allow-enforce off" "$CTL" guard-allow-enforce off
sb_check "guard-allow-del $MAC" "$CTL" guard-allow-del "$MAC"
sb_check "the config file was not written" cmp -s "$DP_CFG" "$DP_WORK/config.before"
sb_check "dataplane still running" sb_alive dataplane
sb_check "control still running" sb_alive control
sb_stop dataplane 10
sb_stop control 5
sb_summary
