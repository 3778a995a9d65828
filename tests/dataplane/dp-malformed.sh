#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-malformed.sh - malformed DHCP and TFTP packets sent into the lab (scapy, from the
# client namespace, through XDP to the dataplane) are each counted under their own
# drop reason in /stormboot/stats (DPDK telemetry), nothing else moves, and the server
# keeps serving: afterwards busybox udhcpc gets a lease with its boot file, and
# tftp-hpa and curl download an image byte-identical.
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-malformed.sh     (SB_PREFIX default "dpt")
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init
sb_need_cmd busybox tftp curl
"$DP_PY" -c 'import scapy.all' 2>/dev/null || sb_fail "$DP_PY has no scapy (apt-get install python3-scapy)"

ROUNDS=3
dp_image img1m.bin 1048576
dp_image undionly.kpxe 65536
dp_config
dp_lab_up --tx-csum-off
sb_in "$SB_NS_CLI" ip addr add 198.18.0.10/24 dev "$SB_IF_CLI"
dp_start
dp_snap /stormboot/stats "$DP_WORK/s.before"

# --- every case: its own drop reason +ROUNDS, no other drop reason
dp_in_cli timeout 300 "$DP_PY" "$HERE/dp-malformed.py" "$SB_IF_CLI" "$DP_TEL_PREFIX" \
	"$SB_SRV_MAC" $ROUNDS >"$DP_WORK/malformed.log" 2>&1 || true
n_cases=0
while IFS= read -r line; do
	case $line in
	"ok - "*) sb_check "${line#ok - }" true; n_cases=$((n_cases + 1)) ;;
	"not ok - "*) sb_check "${line#not ok - }" false; n_cases=$((n_cases + 1)) ;;
	esac
done <"$DP_WORK/malformed.log"
sb_check "malformed cases ran ($n_cases; output: $(grep -v '^ok - \|^not ok - ' "$DP_WORK/malformed.log" | tail -n 3 | tr '\n' ' '))" \
	test "$n_cases" -ge 30
eval "$(dp_deltas "$DP_WORK/s.before" /stormboot/stats | grep -E '^d_(rx_dhcp|rx_tftp_req|rx_tftp_xfer|tftp_sessions_started|dhcp_replies)=')"
sb_log "after the malformed packets: rx_dhcp +$d_rx_dhcp rx_tftp_req +$d_rx_tftp_req rx_tftp_xfer +$d_rx_tftp_xfer"
sb_check "no DHCP reply and no TFTP session for any of them" \
	test "$d_dhcp_replies/$d_tftp_sessions_started" = 0/0
sb_check "dataplane still running" sb_alive dataplane

# --- the server keeps serving real clients
cat >"$DP_WORK/udhcpc.script" <<'EOF'
#!/bin/sh
case "$1" in
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	echo "ip=$ip siaddr=$siaddr boot_file=$boot_file" >"$LEASE_OUT"
	;;
esac
exit 0
EOF
chmod +x "$DP_WORK/udhcpc.script"
sb_in "$SB_NS_CLI" env LEASE_OUT="$DP_WORK/udhcpc.lease" timeout 30 busybox udhcpc \
	-i "$SB_IF_CLI" -n -q -t 5 -T 2 -s "$DP_WORK/udhcpc.script" >"$DP_WORK/udhcpc.log" 2>&1 || true
sb_check "udhcpc afterwards: lease with siaddr and boot file ($(cat "$DP_WORK/udhcpc.lease" 2>/dev/null))" \
	grep -Eq '^ip=198\.18\.0\.1[0-9][0-9] siaddr=198\.18\.0\.1 boot_file=undionly\.kpxe$' \
	"$DP_WORK/udhcpc.lease"
(cd "$DP_WORK" && dp_in_cli timeout 60 tftp -m binary $DP_SRV -c get img1m.bin got-hpa) \
	>"$DP_WORK/tftp.log" 2>&1 || true
sb_check "tftp-hpa afterwards: 1 MiB byte-identical" cmp -s "$DP_WORK/img/img1m.bin" "$DP_WORK/got-hpa"
dp_in_cli timeout 60 curl -sS --tftp-blksize 1468 -o "$DP_WORK/got-curl" "tftp://$DP_SRV/undionly.kpxe" \
	>"$DP_WORK/curl.log" 2>&1 || true
sb_check "curl afterwards: boot file byte-identical" cmp -s "$DP_WORK/img/undionly.kpxe" "$DP_WORK/got-curl"
sb_check "no session left open" dp_idle 5
sb_check "dataplane still running" sb_alive dataplane
sb_summary
