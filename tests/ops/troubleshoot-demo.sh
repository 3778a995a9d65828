#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# troubleshoot-demo.sh - the failures of docs/TROUBLESHOOTING.md, made on purpose in the lab,
# with what stormboot shows for each (counters, metrics, logs, client output), printed to
# stdout as the document quotes them. Not a test: it asserts nothing, it shows.
#   client 1 (cli):  udhcpc (BIOS, then as UEFI, then as iPXE), tftp-hpa, atftp, rdisc6
#   client 2 (cli2): dnsmasq as a foreign DHCP server on 198.18.0.2, then a second udhcpc
# Config: a pool of ONE address (198.18.0.100), BIOS boot file only, ipxe_script boot.ipxe,
# tftp.give_up_ms 3000, metrics on 127.0.0.1:9100.
#
# Usage (root): BUILD_DIR=build tests/ops/troubleshoot-demo.sh >out.txt   (SB_PREFIX "met")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-met}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ops-lib.sh"
ops_init
NS_CLI2=${SB_PREFIX}cli2
MET=127.0.0.1:9100

dp_image undionly.kpxe 65536
dp_image big.img 8000000
dp_config '{"dhcp": {"mode": "full", "boot": {"bios": "undionly.kpxe", "ipxe_script": "boot.ipxe"},
  "subnets": [{"network": "198.18.0.0/24", "pool": {"start": "198.18.0.100", "end": "198.18.0.100"},
  "router": "198.18.0.1", "lease_time": 600}]},
  "tftp": {"give_up_ms": 3000, "timeout_ms": 1000},
  "ipv6_ra": true, "metrics": {"listen": "'$MET'"}}'
ops_up --clients 2 --tx-csum-off --ipv6

h() { printf '\n===== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@" 2>&1 || true; }
prom() { ops_in_srv curl -s "http://$MET/metrics" | grep -E "$1" | grep -v '^#'; }
udhcpc_run() { # NS [extra udhcpc options]: its output, the lease line
	local ns=$1
	shift
	cat >"$DP_WORK/u.script" <<-'EOS'
	#!/bin/sh
	[ "$1" = bound ] && echo "lease: ip=$ip siaddr=$siaddr serverid=$serverid boot_file=$boot_file"
	exit 0
	EOS
	chmod +x "$DP_WORK/u.script"
	sb_in "$ns" timeout 20 busybox udhcpc -i "$SB_IF_CLI" -n -q -t 3 -T 1 -s "$DP_WORK/u.script" "$@" 2>&1 | sed 's/^/    /' || true
}

h "1. lease and boot file (BIOS client)"
udhcpc_run "$SB_NS_CLI"

h "2. wrong boot file for the architecture: the same MAC as a UEFI x64 client (option 93 = 7), no uefi_x64 boot file configured"
udhcpc_run "$SB_NS_CLI" -x 0x5d:0007
echo '$ stormbootctl --json stats   (these counters)'
"$OPS_CTL" --json stats | "$DP_PY" -c 'import json,sys; d=json.load(sys.stdin)["arguments"]["dataplane"]; [print("   ", k, v) for k, v in d.items() if k in ("rx_dhcp_discover","tx_dhcp_offer","drop_dhcp_no_bootfile","tx_dhcp_ack")]'

h "3. chainload loop avoided: the client says it is iPXE (option 77 \"iPXE\")"
udhcpc_run "$SB_NS_CLI" -x 0x4d:69505845

h "4. pool exhausted: a second client while the pool's only address is bound"
udhcpc_run "$NS_CLI2"
prom 'stormboot_leases|stormboot_pool_addresses|reason="dhcp_pool_exhausted"'
grep -i "exhaust" "$SB_RUN/dataplane.log" | tail -3 | sed 's/^/    dataplane log: /' || true

h "5. foreign DHCP server: dnsmasq on the same segment (198.18.0.2, client 1's namespace); client 2, for which stormboot's pool has no address left, takes dnsmasq's offer"
sb_in "$SB_NS_CLI" ip addr add 198.18.0.2/24 dev "$SB_IF_CLI"
sb_in "$SB_NS_CLI" dnsmasq --no-daemon --port=0 --interface="$SB_IF_CLI" --bind-interfaces \
	--dhcp-range=198.18.0.50,198.18.0.60,600 --dhcp-leasefile="$DP_WORK/dnsmasq.leases" \
	--pid-file="$DP_WORK/dnsmasq.pid" --log-facility=- >"$DP_WORK/dnsmasq.log" 2>&1 &
sleep 1
udhcpc_run "$NS_CLI2"
prom 'reason="dhcp_not_for_us"|reason="dhcp_pool_exhausted"|type="request"'
grep -E "DHCPOFFER|DHCPACK" "$DP_WORK/dnsmasq.log" | head -4 | sed 's/^/    dnsmasq: /' || true
kill "$(cat "$DP_WORK/dnsmasq.pid")" 2>/dev/null || true
sb_in "$NS_CLI2" ip addr flush dev "$SB_IF_CLI"

sb_in "$SB_NS_CLI" ip addr flush dev "$SB_IF_CLI"
sb_in "$SB_NS_CLI" ip addr add 198.18.0.10/24 dev "$SB_IF_CLI"
h "6. file missing"
(cd "$DP_WORK" && show sb_in "$SB_NS_CLI" tftp -m binary 198.18.0.1 -c get pxelinux.0 /dev/null)
prom 'reason="tftp_not_found_refused"|stormboot_tftp_errors_sent_total'

h "7. blksize against the MTU: atftp asks for blksize 9000 on a 1500-byte link"
show sb_in "$SB_NS_CLI" timeout 20 atftp --verbose --option "blksize 9000" -g -r undionly.kpxe -l /dev/null 198.18.0.1
show "$OPS_CTL" config-get
"$OPS_CTL" --json config-get | "$DP_PY" -c 'import json,sys; t=json.load(sys.stdin)["arguments"]["tftp"]; print("    tftp.mtu", t["mtu"], "tftp.blksize_max", t["blksize_max"])'

h "8. TFTP timeout: a client that stops in the middle of big.img (tftp-hpa killed)"
sb_in "$SB_NS_CLI" timeout -s KILL 0.5 tftp -m binary 198.18.0.1 -c get big.img /dev/null || true
show "$OPS_CTL" sessions
sleep 5
prom 'stormboot_tftp_sessions_ended_total|stormboot_tftp_retransmits_total|stormboot_tftp_sessions_active'

h "9. IPv6 router wait: a router solicitation answered (ipv6_ra)"
show sb_in "$SB_NS_CLI" timeout 10 rdisc6 -1 -r 2 -w 2000 "$SB_IF_CLI"
prom 'protocol="router_advertisement"|protocol="ipv6"'

h "the dataplane's log"
sed 's/^/    /' "$SB_RUN/dataplane.log" | grep -v "^    EAL\|^    $" | tail -25
h "control's log"
sed 's/^/    /' "$SB_RUN/control.log" | grep -v "api: connection" | tail -20
