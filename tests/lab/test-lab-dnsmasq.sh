#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test-lab-dnsmasq.sh - proves the lab itself works, with dnsmasq as the
# server (no stormboot involved): in both topologies (one veth pair; switch
# with two clients and a relay) a busybox udhcpc gets a lease with next-server
# and boot file, tftp-hpa downloads a 1 MiB file byte-identical, and (switch)
# perfdhcp through the relay namespace gets relayed leases.
#
# Usage (root): tests/lab/test-lab-dnsmasq.sh      SB_PREFIX defaults to "sbt"
# Prints "N passed, N failed" and exits non-zero on any failure.
set -euo pipefail

export SB_PREFIX=${SB_PREFIX:-sbt}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
sb_need_root
sb_need_cmd ip dnsmasq busybox tftp perfdhcp cmp

LAB=$HERE/lab.sh
WORK=$(mktemp -d /tmp/sb-labtest.XXXXXX)
chmod 755 "$WORK"
cleanup() {
	set +e
	"$LAB" down >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/tftp"
head -c 1048576 /dev/urandom >"$WORK/tftp/test1m.bin"
chmod -R a+rX "$WORK/tftp"
cat >"$WORK/udhcpc.script" <<'EOF'
#!/bin/sh
# records what the server offered, and sets the address so TFTP can follow
case "$1" in
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/$subnet" dev "$interface"
	echo "ip=$ip siaddr=$siaddr boot_file=$boot_file" >"$LEASE_OUT"
	;;
deconfig) ip addr flush dev "$interface" ;;
esac
exit 0
EOF
chmod +x "$WORK/udhcpc.script"

start_dnsmasq() { # relay: 0/1
	cat >"$WORK/dnsmasq.conf" <<-EOF
	port=0
	interface=${SB_PREFIX}0
	bind-interfaces
	user=root
	no-ping
	log-dhcp
	log-facility=$WORK/dnsmasq.log
	dhcp-leasefile=$WORK/dnsmasq.leases
	dhcp-authoritative
	dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,10m
	dhcp-range=198.18.1.100,198.18.1.250,255.255.255.0,10m
	dhcp-boot=undionly.kpxe,,198.18.0.1
	enable-tftp
	tftp-root=$WORK/tftp
	EOF
	: >"$WORK/dnsmasq.leases"
	sb_start dnsmasq "$SB_NS_SRV" dnsmasq -k --conf-file="$WORK/dnsmasq.conf"
	sb_wait_for 5 grep -q "TFTP root" "$WORK/dnsmasq.log"
}

lease_ok() { # file: udhcpc got an address with next-server and boot file
	grep -Eq '^ip=198\.18\.0\.[0-9]+ siaddr=198\.18\.0\.1 boot_file=undionly\.kpxe$' "$1"
}

client_round() { # ns tag
	local ns=$1 tag=$2
	sb_in "$ns" env LEASE_OUT="$WORK/lease.$tag" timeout 30 busybox udhcpc -i "$SB_IF_CLI" -n -q \
		-s "$WORK/udhcpc.script" -t 5 -T 2 >"$WORK/udhcpc.$tag.log" 2>&1 || true
	sb_check "$tag: udhcpc lease with next-server and boot file" lease_ok "$WORK/lease.$tag"
	(cd "$WORK" && sb_in "$ns" timeout 60 tftp -m binary 198.18.0.1 \
		-c get test1m.bin "dl.$tag" >/dev/null 2>&1) || true
	sb_check "$tag: tftp-hpa 1 MiB download identical" \
		cmp -s "$WORK/tftp/test1m.bin" "$WORK/dl.$tag"
}

# --- 1: one veth pair
"$LAB" up --tx-csum-off 2>"$WORK/up1.log" || { cat "$WORK/up1.log" >&2; sb_fail "lab up"; }
eval "$("$LAB" env)"
sb_check "direct: server address on ${SB_IF_SRV}" bash -c \
	"ip netns exec $SB_NS_SRV ip -4 -o addr show dev $SB_IF_SRV | grep -q 'inet 198.18.0.1/24'"
start_dnsmasq
sb_check "direct: dnsmasq running" sb_alive dnsmasq
client_round "$SB_NS_CLI" direct
dpid=$(sb_pid dnsmasq)
"$LAB" down 2>/dev/null
sb_check "direct: namespaces gone after down" \
	bash -c "! ip netns list | grep -Eq '^${SB_PREFIX}(srv|cli|sw|rly)'"
sb_check "direct: dnsmasq stopped by down" bash -c "[ -n '$dpid' ] && ! kill -0 '$dpid' 2>/dev/null"

# --- 2: switch, two clients, relay, 2 queues on the boot interface
"$LAB" up --no-prepare --clients 2 --relay --queues 2 2>"$WORK/up2.log" ||
	{ cat "$WORK/up2.log" >&2; sb_fail "lab up (switch)"; }
eval "$("$LAB" env)"
sb_check "switch: ${SB_IF_SRV} has 2 rx queues (sysfs in netns)" bash -c \
	"[ \$(ip netns exec $SB_NS_SRV ls -d /sys/class/net/$SB_IF_SRV/queues/rx-0 /sys/class/net/$SB_IF_SRV/queues/rx-1 | wc -l) = 2 ]"
start_dnsmasq
for ns in $SB_NS_CLIENTS; do client_round "$ns" "switch-$ns"; done
sb_in "$SB_NS_RLY" timeout 60 perfdhcp -4 -r 20 -n 40 -R 40 -p 10 198.18.0.1 \
	>"$WORK/perfdhcp.log" 2>&1 || true
relayed_acks() {
	awk '/REQUEST-ACK/ { f = 1 } f && /received packets:/ { print $3; exit }' "$WORK/perfdhcp.log"
}
sb_check "switch: perfdhcp through the relay got relayed leases (ACKs: $(relayed_acks))" \
	test "$(relayed_acks || echo 0)" -ge 30
sb_check "switch: dnsmasq leased from the relay subnet" grep -q " 198\.18\.1\." "$WORK/dnsmasq.leases"
"$LAB" down 2>/dev/null
sb_check "switch: namespaces gone after down" \
	bash -c "! ip netns list | grep -Eq '^${SB_PREFIX}(srv|cli|sw|rly)'"

sb_summary
