#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# capture-fixtures.sh - capture what real DHCP/PXE/TFTP clients send, as pcap
# fixtures for the protocol core's unit tests (tests/fixtures/{dhcp,tftp}/).
#
# Usage (root):  tests/lab/capture-fixtures.sh [STEP...]
#   STEP: dhcp-tools  udhcpc, dhclient, perfdhcp (relayed)
#         tftp-tools  tftp-hpa, atftp, curl
#         bios        QEMU TCG, SeaBIOS + iPXE ROM -> boot.ipxe -> pxelinux.0
#         uefi        QEMU TCG, OVMF's own PXE (no option ROM) -> ipxe.efi
#         proxy       both VMs again, boot information from a proxyDHCP
#                     (second dnsmasq, 198.18.0.2): requests to port 4011
#   default: all five, in that order.
#
# Lab: network namespaces sbfxs (server: bridge sbfxbr 198.18.0.1/24, dnsmasq
# as the reference DHCP+TFTP server, tcpdump, QEMU and its tap), sbfxc (DHCP
# clients, no address), sbfxt (TFTP clients, 198.18.0.10/24), sbfxr (perfdhcp
# as a relay, 198.18.1.1/24), sbfxp (a second dnsmasq as proxyDHCP + PXE boot
# server, 198.18.0.2/24). Addresses only from 198.18.0.0/15. Each client
# has a fixed MAC; the raw capture of each step is cut per client with
# pcap-select.py so a fixture holds only frames that client sent to the
# server. Everything started here is stopped by PID and the namespaces are
# deleted on exit, also on error. Loops are bounded in time.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
OUT=${FIXTURES_OUT:-$SRC/tests/fixtures}
QEMU_SECS=${QEMU_SECS:-150}
KEEP_RUN=${KEEP_RUN:-0}

NS_S=sbfxs NS_C=sbfxc NS_T=sbfxt NS_R=sbfxr NS_P=sbfxp
MAC_C=02:5b:fc:00:00:01 MAC_T=02:5b:fc:00:00:02 MAC_R=02:5b:fc:00:00:03
MAC_BIOS=52:54:00:5b:fc:11 MAC_UEFI=52:54:00:5b:fc:12
MAC_PBIOS=52:54:00:5b:fc:21 MAC_PUEFI=52:54:00:5b:fc:22 # proxyDHCP runs
SRV=198.18.0.1

die() { echo "capture-fixtures: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

[ "$(id -u)" = 0 ] || die "run as root"
for t in ip dnsmasq tcpdump python3 ethtool; do
	command -v $t >/dev/null || die "missing $t"
done

RUN=$(mktemp -d /tmp/sbfx.XXXXXX)
chmod 755 "$RUN"
PIDS=()

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

kill_pid() { # pid: TERM, wait up to 5 s, then KILL
	local p=$1 i
	kill -0 "$p" 2>/dev/null || return 0
	kill "$p" 2>/dev/null || true
	for i in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$p" 2>/dev/null || true
}

kill_ns_pids() { # every process left inside one of OUR namespaces
	local ns=$1 p
	ip netns list | grep -qw "^$ns" || return 0
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill_pid "$p"; done
}

cleanup() {
	local p ns
	set +e
	for p in "${PIDS[@]}"; do kill_pid "$p"; done
	for f in "$RUN"/*.pid; do [ -f "$f" ] && kill_pid "$(cat "$f")"; done
	for ns in $NS_S $NS_C $NS_T $NS_R $NS_P; do
		kill_ns_pids $ns
		ip netns del $ns 2>/dev/null
	done
	if [ "$KEEP_RUN" = 1 ]; then echo "run dir kept: $RUN" >&2; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- topology
setup_net() {
	local ns
	for ns in $NS_S $NS_C $NS_T $NS_R $NS_P; do # leftovers of an aborted run
		kill_ns_pids $ns
		ip netns del $ns 2>/dev/null || true
	done
	for ns in $NS_S $NS_C $NS_T $NS_R $NS_P; do ip netns add $ns; nsx $ns ip link set lo up; done
	nsx $NS_S ip link add sbfxbr type bridge stp_state 0 forward_delay 0
	nsx $NS_S ip addr add $SRV/24 dev sbfxbr
	nsx $NS_S ip link set sbfxbr up
	# relay subnet 198.18.1.0/24 is reached on-link through the bridge
	nsx $NS_S ip route add 198.18.1.0/24 dev sbfxbr
	local i=1 peer mac
	for pair in "$NS_C:sbfxc0:$MAC_C" "$NS_T:sbfxt0:$MAC_T" "$NS_R:sbfxr0:$MAC_R" \
		"$NS_P:sbfxp0:02:5b:fc:00:00:04"; do
		ns=${pair%%:*} rest=${pair#*:}
		peer=${rest%%:*} mac=${rest#*:}
		ip link add sbfxs$i netns $NS_S type veth peer name $peer netns $ns
		nsx $ns ip link set $peer address $mac
		# real checksums in the frames: no tx checksum offload on client side
		nsx $ns ethtool -K $peer tx off >/dev/null 2>&1 || true
		nsx $ns ip link set $peer up
		nsx $NS_S ip link set sbfxs$i master sbfxbr
		nsx $NS_S ip link set sbfxs$i up
		i=$((i + 1))
	done
	nsx $NS_T ip addr add 198.18.0.10/24 dev sbfxt0
	nsx $NS_R ip addr add 198.18.1.1/24 dev sbfxr0
	nsx $NS_P ip addr add 198.18.0.2/24 dev sbfxp0
	nsx $NS_R ip route add 198.18.0.0/24 dev sbfxr0
	# QEMU taps live in the server namespace, on the bridge
	for t in sbfxq0 sbfxq1 sbfxq2 sbfxq3; do
		nsx $NS_S ip tuntap add dev $t mode tap
		nsx $NS_S ip link set $t master sbfxbr
		nsx $NS_S ip link set $t up
	done
}

# ---------------------------------------------------------------- server
setup_server() {
	local T=$RUN/tftp
	mkdir -p "$T/pxelinux.cfg"
	cp /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/ipxe.efi "$T/" 2>/dev/null || true
	cp /usr/lib/PXELINUX/pxelinux.0 /usr/lib/syslinux/modules/bios/ldlinux.c32 "$T/" \
		2>/dev/null || true
	head -c 1048576 /dev/urandom >"$T/test1m.bin"
	printf 'line one\nline two\n' >"$T/hello.txt"
	cat >"$T/boot.ipxe" <<-'EOF'
	#!ipxe
	echo stormboot fixture lab: ${platform} ${buildarch} ${mac}
	iseq ${platform} pcbios && chain pxelinux.0 ||
	echo done
	sleep 600
	EOF
	cat >"$T/pxelinux.cfg/default" <<-'EOF'
	DEFAULT local
	PROMPT 0
	TIMEOUT 10
	LABEL local
	  LOCALBOOT 0
	EOF
	chmod -R a+rX "$T"
	cat >"$RUN/dnsmasq.conf" <<-EOF
	port=0
	interface=sbfxbr
	bind-interfaces
	user=root
	log-dhcp
	log-facility=$RUN/dnsmasq.log
	dhcp-leasefile=$RUN/dnsmasq.leases
	dhcp-authoritative
	no-ping
	dhcp-range=set:lan,198.18.0.100,198.18.0.199,255.255.255.0,10m
	dhcp-range=set:relay,198.18.1.100,198.18.1.250,255.255.255.0,10m
	dhcp-option=tag:lan,option:router,198.18.0.1
	dhcp-option=tag:relay,option:router,198.18.1.1
	dhcp-option=option:dns-server,198.18.0.1
	dhcp-host=$MAC_BIOS,198.18.0.11
	dhcp-host=$MAC_UEFI,198.18.0.12
	# the proxyDHCP runs get their boot information from the proxy (sbfxp) only
	dhcp-host=$MAC_PBIOS,set:viaproxy,198.18.0.21
	dhcp-host=$MAC_PUEFI,set:viaproxy,198.18.0.22
	dhcp-match=set:efi64,option:client-arch,7
	dhcp-match=set:efi64,option:client-arch,9
	dhcp-userclass=set:ipxe,iPXE
	dhcp-match=set:ipxe,175
	dhcp-boot=tag:!viaproxy,tag:ipxe,boot.ipxe,,$SRV
	dhcp-boot=tag:!viaproxy,tag:!ipxe,tag:efi64,ipxe.efi,,$SRV
	dhcp-boot=tag:!viaproxy,tag:!ipxe,tag:!efi64,undionly.kpxe,,$SRV
	enable-tftp
	tftp-root=$T
	EOF
	nsx $NS_S dnsmasq --conf-file="$RUN/dnsmasq.conf" --pid-file="$RUN/dnsmasq.pid"
	local i
	for i in $(seq 50); do [ -s "$RUN/dnsmasq.pid" ] && break; sleep 0.1; done
	[ -s "$RUN/dnsmasq.pid" ] || die "dnsmasq did not start"
}

start_proxy() {
	local i
	# proxyDHCP (no addresses) on 198.18.0.2: PXE menu, boot server on port 4011;
	# files come by TFTP from the main server
	cat >"$RUN/proxy.conf" <<-EOF
	port=0
	interface=sbfxp0
	bind-interfaces
	user=root
	log-dhcp
	log-facility=$RUN/dnsmasq.log
	dhcp-leasefile=$RUN/proxy.leases
	dhcp-range=198.18.0.0,proxy,255.255.255.0
	dhcp-userclass=set:ipxe,iPXE
	dhcp-match=set:ipxe,175
	# only the proxy runs' VMs: the others must see the main server alone
	dhcp-host=$MAC_BIOS,ignore
	dhcp-host=$MAC_UEFI,ignore
	pxe-service=tag:ipxe,x86PC,"stormboot fixture iPXE",boot.ipxe,$SRV
	pxe-service=tag:ipxe,x86-64_EFI,"stormboot fixture iPXE",boot.ipxe,$SRV
	pxe-service=tag:!ipxe,x86PC,"stormboot fixture BIOS",undionly.kpxe,$SRV
	pxe-service=tag:!ipxe,x86-64_EFI,"stormboot fixture UEFI",ipxe.efi,$SRV
	EOF
	nsx $NS_P dnsmasq --conf-file="$RUN/proxy.conf" --pid-file="$RUN/proxy.pid"
	for i in $(seq 50); do [ -s "$RUN/proxy.pid" ] && break; sleep 0.1; done
	[ -s "$RUN/proxy.pid" ] || die "proxy dnsmasq did not start"
}

# ---------------------------------------------------------------- capture
CAP_PID=
cap_start() { # name [if]: raw capture of every UDP frame on the server bridge (or IF)
	local name=$1 ifc=${2:-sbfxbr} i
	: >"$RUN/$name.tcpdump.log"
	# ip netns exec directly (not the nsx function): $! is then tcpdump's own PID
	ip netns exec $NS_S tcpdump -i $ifc -s 0 -U --immediate-mode -n -w "$RUN/$name.raw.pcap" udp \
		2>"$RUN/$name.tcpdump.log" &
	CAP_PID=$!
	PIDS+=("$CAP_PID")
	for i in $(seq 50); do
		grep -q "listening on" "$RUN/$name.tcpdump.log" && break
		sleep 0.1
	done
	grep -q "listening on" "$RUN/$name.tcpdump.log" || die "tcpdump did not start"
}
cap_stop() {
	sleep 1
	# SIGTERM: background jobs of a script ignore SIGINT; tcpdump flushes on TERM
	kill -TERM "$CAP_PID" 2>/dev/null || true
	wait "$CAP_PID" 2>/dev/null || true
}
select_to() { # raw out_rel_path args...
	local raw=$1 out=$2; shift 2
	mkdir -p "$(dirname "$OUT/$out")"
	python3 "$HERE/pcap-select.py" "$RUN/$raw.raw.pcap" "$OUT/$out" "$@" ||
		echo "WARNING: $out: nothing selected" >&2
}

wait_log() { # pattern seconds: wait for a line in the dnsmasq log
	local pat=$1 secs=$2 i
	for i in $(seq $((secs * 2))); do
		grep -qE "$pat" "$RUN/dnsmasq.log" 2>/dev/null && return 0
		sleep 0.5
	done
	return 1
}

# ---------------------------------------------------------------- steps
step_dhcp_tools() {
	# client script: configure the leased address, so RELEASE can be unicast
	cat >"$RUN/client-script.sh" <<-'EOF'
	#!/bin/sh
	# udhcpc: $1 = bound|renew|deconfig, $ip, $subnet; dhclient: $reason, $new_*
	case "${reason:-$1}" in
	bound | renew) ip addr flush dev "$interface"; ip addr add "$ip/$subnet" dev "$interface" ;;
	BOUND | REBOOT | RENEW | REBIND)
		ip addr flush dev "$interface"
		ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
	deconfig | EXPIRE | FAIL | STOP | RELEASE) ip addr flush dev "$interface" ;;
	esac
	exit 0
	EOF
	chmod +x "$RUN/client-script.sh"

	log "udhcpc"
	cap_start udhcpc
	# 1: DISCOVER/REQUEST; 2: the same with -R, so a RELEASE follows on exit
	nsx $NS_C timeout 30 busybox udhcpc -i sbfxc0 -n -q -s "$RUN/client-script.sh" -t 3 -T 2 ||
		echo "udhcpc failed" >&2
	nsx $NS_C timeout 30 busybox udhcpc -i sbfxc0 -n -q -R -s "$RUN/client-script.sh" \
		-t 3 -T 2 || echo "udhcpc -R failed" >&2
	nsx $NS_C ip addr flush dev sbfxc0
	# 3: in the foreground loop; SIGUSR1 = renew (unicast REQUEST, ciaddr set),
	# SIGUSR2 = release (-q exits before it would send one)
	ip netns exec $NS_C busybox udhcpc -i sbfxc0 -f -s "$RUN/client-script.sh" -t 3 -T 2 \
		>"$RUN/udhcpc3.log" 2>&1 &
	local up=$! i
	PIDS+=("$up")
	for i in $(seq 100); do grep -q "lease of" "$RUN/udhcpc3.log" && break; sleep 0.1; done
	sleep 0.5
	kill -USR1 $up; sleep 1.5
	kill -USR2 $up; sleep 1
	kill_pid $up
	cat "$RUN/udhcpc3.log" >&2
	nsx $NS_C ip addr flush dev sbfxc0
	cap_stop
	select_to udhcpc dhcp/udhcpc.pcap --mac $MAC_C --proto dhcp

	log "dhclient"
	cap_start dhclient
	local dh="dhclient -1 -v -lf $RUN/dhclient.leases -pf $RUN/dhclient.pid"
	dh="$dh -sf $RUN/client-script.sh"
	# 1: INIT (DISCOVER/REQUEST); -x stops it and keeps the lease;
	# 2: INIT-REBOOT from the lease file (REQUEST with option 50); -r: RELEASE
	nsx $NS_C timeout 60 $dh sbfxc0 || echo "dhclient failed" >&2
	nsx $NS_C timeout 20 $dh -x sbfxc0 || true
	nsx $NS_C timeout 60 $dh sbfxc0 || echo "dhclient (reboot) failed" >&2
	nsx $NS_C timeout 20 $dh -r sbfxc0 || true
	[ -s "$RUN/dhclient.pid" ] && kill_pid "$(cat "$RUN/dhclient.pid")"
	nsx $NS_C ip addr flush dev sbfxc0
	cap_stop
	select_to dhclient dhcp/dhclient.pcap --mac $MAC_C --proto dhcp

	log "perfdhcp (relayed unicast, giaddr 198.18.1.1)"
	cap_start perfdhcp
	nsx $NS_R timeout 60 perfdhcp -4 -r 10 -n 20 -R 20 -p 10 $SRV \
		>"$RUN/perfdhcp.out" 2>&1 || echo "perfdhcp exit $?" >&2
	tail -n 30 "$RUN/perfdhcp.out" >&2
	cap_stop
	select_to perfdhcp dhcp/perfdhcp.pcap --mac $MAC_R --proto dhcp
}

step_tftp_tools() {
	local d=$RUN/dl
	mkdir -p "$d"
	log "tftp-hpa"
	cap_start tftphpa
	(cd "$d" && nsx $NS_T timeout 60 tftp -m binary $SRV -c get test1m.bin hpa1.bin) ||
		echo "tftp-hpa failed" >&2
	(cd "$d" && nsx $NS_T timeout 60 tftp -v -m binary $SRV -c get test1m.bin hpa2.bin) ||
		echo "tftp-hpa -v failed" >&2
	(cd "$d" && nsx $NS_T timeout 60 tftp -m ascii $SRV -c get hello.txt hello.txt) ||
		echo "tftp-hpa ascii failed" >&2
	(cd "$d" && nsx $NS_T timeout 30 tftp -m binary $SRV -c get no-such-file.bin nsf.bin) || true
	cap_stop
	select_to tftphpa tftp/tftp-hpa.pcap --mac $MAC_T --proto tftp

	log "atftp"
	cap_start atftp
	nsx $NS_T timeout 60 atftp --option "blksize 1468" --option "windowsize 8" \
		--option tsize -g -r test1m.bin -l "$d/atftp.bin" $SRV || echo "atftp failed" >&2
	cap_stop
	select_to atftp tftp/atftp.pcap --mac $MAC_T --proto tftp

	log "curl"
	cap_start curl
	nsx $NS_T timeout 60 curl -sS --tftp-blksize 1468 -o "$d/curl.bin" \
		tftp://$SRV/test1m.bin || echo "curl failed" >&2
	cap_stop
	select_to curl tftp/curl.pcap --mac $MAC_T --proto tftp

	for f in hpa1 hpa2 atftp curl; do
		cmp -s "$d/$f.bin" "$RUN/tftp/test1m.bin" && echo "$f: download identical" >&2 ||
			echo "WARNING: $f: download differs or missing" >&2
	done
}

qemu_run() { # name tap mac done-pattern -- qemu args...
	local name=$1 tap=$2 mac=$3 pat=$4; shift 5
	local qpid
	ip netns exec $NS_S qemu-system-x86_64 -machine accel=tcg -m 256 -display none -monitor none \
		-serial file:"$RUN/$name.serial" -no-reboot \
		-netdev tap,id=n0,ifname=$tap,script=no,downscript=no "$@" \
		>"$RUN/$name.qemu.log" 2>&1 &
	qpid=$!
	PIDS+=("$qpid")
	if wait_log "$pat" "$QEMU_SECS"; then
		log "$name: saw /$pat/, letting the last packets out"
		sleep 5
	else
		echo "WARNING: $name: /$pat/ not seen in $QEMU_SECS s" >&2
	fi
	kill_pid $qpid
	wait $qpid 2>/dev/null || true
}

step_bios() {
	command -v qemu-system-x86_64 >/dev/null || { echo "no qemu: bios skipped" >&2; return; }
	log "QEMU SeaBIOS + iPXE ROM (e1000)"
	cap_start bios
	qemu_run bios sbfxq0 $MAC_BIOS "pxelinux.cfg/default" -- \
		-boot n -uuid 5b0f1c5e-0000-4000-8000-5bfc00000011 -device e1000,netdev=n0,mac=$MAC_BIOS
	cap_stop
	select_to bios dhcp/ipxe-bios.pcap --mac $MAC_BIOS --proto dhcp --ipxe yes
	select_to bios tftp/ipxe-bios.pcap --mac $MAC_BIOS --proto tftp \
		--files '^(boot\.ipxe|undionly\.kpxe|pxelinux\.0)$'
	select_to bios dhcp/pxelinux.pcap --mac $MAC_BIOS --proto dhcp --ipxe no
	select_to bios tftp/pxelinux.pcap --mac $MAC_BIOS --proto tftp \
		--files '^(ldlinux\.c32|pxelinux\.cfg/.*|.*\.c32)$' --acks 5
	# The ROM is iPXE, so every non-iPXE DHCP request from this MAC is pxelinux's.
	# An empty file means the client sent no such packet: do not ship it.
	local f=dhcp/pxelinux.pcap
	if [ "$(stat -c %s "$OUT/$f" 2>/dev/null || echo 0)" -le 24 ]; then
		rm -f "$OUT/$f"
		echo "NOTE: $f: client sent none, not kept" >&2
	fi
}

step_uefi() {
	command -v qemu-system-x86_64 >/dev/null || { echo "no qemu: uefi skipped" >&2; return; }
	[ -f /usr/share/ovmf/OVMF.fd ] || { echo "no OVMF: uefi skipped" >&2; return; }
	log "QEMU OVMF, own PXE (virtio-net, no option ROM)"
	cp /usr/share/ovmf/OVMF.fd "$RUN/OVMF.fd"
	cap_start uefi
	qemu_run uefi sbfxq1 $MAC_UEFI "sent .*boot\.ipxe to 198\.18\.0\.12" -- \
		-drive if=pflash,format=raw,file="$RUN/OVMF.fd" \
		-device virtio-net-pci,netdev=n0,mac=$MAC_UEFI,romfile=
	cap_stop
	select_to uefi dhcp/ovmf-uefi.pcap --mac $MAC_UEFI --proto dhcp --ipxe no
	select_to uefi dhcp/ipxe-efi.pcap --mac $MAC_UEFI --proto dhcp --ipxe yes
	select_to uefi tftp/ovmf-uefi.pcap --mac $MAC_UEFI --proto tftp --files '^ipxe\.efi$'
	select_to uefi tftp/ipxe-efi.pcap --mac $MAC_UEFI --proto tftp --files '^boot\.ipxe$'
}

step_proxy() {
	command -v qemu-system-x86_64 >/dev/null || { echo "no qemu: proxy skipped" >&2; return; }
	# captured on the VM's tap: requests to the proxy's port 4011 are unicast
	# to 198.18.0.2 and never reach the bridge device itself
	start_proxy
	log "QEMU SeaBIOS + iPXE ROM, proxyDHCP"
	cap_start pbios sbfxq2
	qemu_run pbios sbfxq2 $MAC_PBIOS "sent .* to 198\.18\.0\.21" -- \
		-boot n -device e1000,netdev=n0,mac=$MAC_PBIOS
	cap_stop
	select_to pbios dhcp/ipxe-bios-proxy.pcap --mac $MAC_PBIOS --proto dhcp

	[ -f /usr/share/ovmf/OVMF.fd ] || { echo "no OVMF: uefi proxy skipped" >&2; return; }
	log "QEMU OVMF, own PXE, proxyDHCP"
	cp /usr/share/ovmf/OVMF.fd "$RUN/OVMF-proxy.fd"
	cap_start puefi sbfxq3
	qemu_run puefi sbfxq3 $MAC_PUEFI "sent .*boot\.ipxe to 198\.18\.0\.22" -- \
		-drive if=pflash,format=raw,file="$RUN/OVMF-proxy.fd" \
		-device virtio-net-pci,netdev=n0,mac=$MAC_PUEFI,romfile=
	cap_stop
	select_to puefi dhcp/ovmf-uefi-proxy.pcap --mac $MAC_PUEFI --proto dhcp --ipxe no
	select_to puefi dhcp/ipxe-efi-proxy.pcap --mac $MAC_PUEFI --proto dhcp --ipxe yes
	kill_pid "$(cat "$RUN/proxy.pid")"
}

# ---------------------------------------------------------------- main
STEPS=("$@")
[ ${#STEPS[@]} -gt 0 ] || STEPS=(dhcp-tools tftp-tools bios uefi proxy)
mkdir -p "$OUT/dhcp" "$OUT/tftp"
setup_net
setup_server
for s in "${STEPS[@]}"; do
	case $s in
	dhcp-tools) step_dhcp_tools ;;
	tftp-tools) step_tftp_tools ;;
	bios) step_bios ;;
	uefi) step_uefi ;;
	proxy) step_proxy ;;
	*) die "unknown step $s" ;;
	esac
done
[ "$KEEP_RUN" = 1 ] && cp "$RUN/dnsmasq.log" "$RUN/dnsmasq.log.keep" || true
log "fixtures in $OUT:"
ls -l "$OUT"/dhcp "$OUT"/tftp >&2
