#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# boot-vm.sh - network-boot a real QEMU VM (TCG) through stormboot-dataplane in
# the lab, and pass only when the VM's serial console shows the marker that the
# booted Linux prints with the VM's own MAC.
#
# Usage (root): tests/vm/boot-vm.sh {bios|uefi} [--proxy] [--http] [--tokens] [--fw-http [--https]]
#                                   [--console] [--keep] [--timeout SECS] [--script-url URL]
#
#   bios   SeaBIOS + Debian's iPXE option ROM on a virtio NIC -> DHCP -> TFTP
#          pxelinux.0 -> ldlinux.c32, pxelinux.cfg/default -> vmlinuz + initrd.gz
#   uefi   OVMF with its own PXE (no option ROM on the NIC) -> DHCP, arch 7 ->
#          TFTP ipxe.efi -> iPXE asks again with user class "iPXE" -> boot.ipxe
#          (the iPXE script) -> vmlinuz + initrd.gz
#   --proxy  dnsmasq (no PXE options) hands out the addresses from a host of its
#          own on the VM's L2 segment; stormboot runs with dhcp mode "proxy" and
#          answers only with boot information (ports 67 and 4011)
#   --http   (uefi) HTTP boot after the firmware: stormboot-control runs beside
#          the dataplane with "http" in the same config; the iPXE script is a
#          template registered through the control API (template-add) and
#          fetched as http://198.18.0.1:8080/ipxe/boot.ipxe?mac=${mac}, rendered
#          for the VM; kernel and initrd come over HTTP (ipxe.efi still over TFTP)
#   --tokens (uefi, implies --http) vmlinuz and initrd.gz are "protected": the template
#          fetches them with ${url:NAME}, a per-client boot token; the dataplane runs
#          with stormboot-control (-C) so that control knows the VM's lease; after the
#          boot the same kernel URL fetched from another address must be refused 403; the
#          logs show boot tokens redacted, so the VM's exact URLs are read off the wire: a
#          tcpdump capture of the VM's segment (DHCP replies, its HTTP requests), wire-urls.py
#   --fw-http (uefi, implies --http) UEFI HTTP boot with the firmware's OWN HTTP client:
#          OVMF's PXE is switched off (fw_cfg opt/org.tianocore/IPv4PXESupport=no,
#          IPv6PXESupport=no, IPv6Support=no), so its first boot option is "UEFI HTTPv4":
#          it asks DHCP with option 60 "HTTPClient" and arch 16, stormboot answers with
#          dhcp.boot.http_x64 = http://198.18.0.1:8080/ipxe.efi, the firmware fetches
#          ipxe.efi over HTTP from stormboot-control and runs it; iPXE then continues as
#          with --http (no TFTP at all). With --tokens ipxe.efi is protected too: the
#          dataplane puts a boot token for the VM into the DHCP boot-file URL
#   --https  (with --fw-http) the firmware fetches ipxe.efi over HTTPS (port 8443) from a
#          certificate made with stormbootctl make-cert --rsa (the firmware's TLS has no
#          elliptic curves); its CA is enrolled through QEMU's fw_cfg etc/edk2/https/cacerts
#          (an EFI signature list)
#   --console  show the VM's serial console live, each line with the seconds
#          since power-on (the demo)
#   --keep   leave the lab up after the run (tear down: SB_PREFIX=vm tests/lab/lab.sh down)
#   --timeout  seconds from power-on to marker (default 420: TCG is slow, and a
#          loaded 2-core host makes a lock-step TFTP of the kernel take minutes)
#   --script-url URL  give iPXE this script (uefi) instead of "boot.ipxe" over TFTP
#
# Environment: BUILD_DIR (build tree with stormboot-dataplane; default
# SOURCE_DIR/build), SB_PREFIX (default vm), SB_VM_CACHE (assets, see
# build-assets.sh), SB_VM_SCRIPT_URL (optional: give iPXE this URL as its
# script instead of boot.ipxe over TFTP, e.g. http://198.18.0.1/boot.ipxe once
# stormboot serves HTTP; the script's names are relative, so kernel and initrd
# then come over HTTP too), SB_VM_UDP_CSUM (config udp_checksum, default accept),
# SB_VM_IPV6_RA (config ipv6_ra, default true: iPXE does not wait ~16 s for an RA).
#
# Topology (addresses only from 198.18.0.0/15):
#
#   ${P}srv: ${P}0 198.18.0.1/24, XDP + stormboot-dataplane (net_af_xdp)
#        | veth (made by tests/lab/lab.sh)
#   ${P}cli: ${P}c0 -- bridge ${P}vbr -- tap ${P}tap -- QEMU (virtio-net)
#                                      \- ${P}dc -- veth -- ${P}dhcp: ${P}d0 198.18.0.2/24,
#                                                  dnsmasq (--proxy only)
#
# SB_VM_PCAP=1 also records the VM's segment to $SB_RUN/TAG.pcap (tcpdump).
#
# Prints the boot timing: seconds from power-on (QEMU start) to each milestone
# seen on the console, and to the marker, also as one line for perf scripts:
#   TIMING tag=vm-uefi mode=uefi dhcp=full kernel_via=tftp pxe_start_s=9.8 ...
#          ipxe_dhcp_s=34.2 script_s=34.2 kernel_s=36.3 marker_s=42.1
# (pxe_rom/pxe_start: firmware PXE starts; pxe_dhcp: its lease; nbp: NBP
# loaded; ipxe: iPXE starts; ipxe_dhcp: iPXE configured (includes its IPv6
# router-solicitation wait); script: iPXE runs the script; kernel: Linux prints
# its first line). Exit 0 only with the marker; QEMU, dnsmasq and the
# dataplane are stopped by their PIDs on every exit path.
set -euo pipefail
export LC_ALL=C # byte lengths when following the console

HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
export SB_PREFIX=${SB_PREFIX:-vm}
. "$SOURCE_DIR/tests/lab/lib.sh"
LAB=$SOURCE_DIR/tests/lab/lab.sh
P=$SB_PREFIX

usage() { sed -n '8,39p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

MODE=${1:-}
case $MODE in bios | uefi) shift ;; *) usage ;; esac
PROXY=0 HTTP=0 TOKENS=0 FWHTTP=0 HTTPS=0 KEEP=0 CONSOLE=0 TIMEOUT=${SB_VM_TIMEOUT:-420}
while [ $# -gt 0 ]; do
	case $1 in
	--proxy) PROXY=1 ;;
	--http) HTTP=1 ;;
	--tokens) HTTP=1 TOKENS=1 ;;
	--fw-http) HTTP=1 FWHTTP=1 ;;
	--https) HTTPS=1 ;;
	--keep) KEEP=1 ;;
	--console) CONSOLE=1 ;;
	--timeout) TIMEOUT=$2; shift ;;
	--script-url) SB_VM_SCRIPT_URL=$2; shift ;;
	*) usage ;;
	esac
	shift
done

[ $HTTPS = 0 ] || [ $FWHTTP = 1 ] || usage
sb_need_root
sb_need_cmd ip qemu-system-x86_64 timeout
[ $PROXY = 0 ] || sb_need_cmd dnsmasq
[ $TOKENS = 0 ] || sb_need_cmd tcpdump python3 sha256sum
[ $HTTP = 0 ] || [ $MODE = uefi ] || sb_fail "--http is for uefi (the BIOS path is pxelinux over TFTP)"
DP=$BUILD_DIR/dataplane/engine/stormboot-dataplane
CTLD=$BUILD_DIR/control/stormboot-control
CTL=$BUILD_DIR/control/stormbootctl
[ $HTTP = 0 ] || [ -x "$CTLD" ] || sb_fail "no stormboot-control at $CTLD"
XDP=$BUILD_DIR/bpf/stormboot_xdp.o
[ -x "$DP" ] || sb_fail "no dataplane at $DP (build first, or set BUILD_DIR)"
[ -r "$XDP" ] || sb_fail "no XDP object at $XDP"

NS_DHCP=${P}dhcp IF_D0=${P}d0 IF_DC=${P}dc
IF_TAP=${P}tap IF_VBR=${P}vbr
SRV=198.18.0.1 DHCP_ADDR=198.18.0.2
case $MODE in
bios) VM_MAC=52:54:00:5b:00:01 ;;
uefi) VM_MAC=52:54:00:5b:00:02 ;;
esac
[ $PROXY = 1 ] && VM_MAC=${VM_MAC%:*}:1${VM_MAC##*:0}
TAG=vm-$MODE
[ $PROXY = 0 ] || TAG=$TAG-proxy
[ $HTTP = 0 ] || TAG=$TAG-http
[ $HTTP = 0 ] || VM_MAC=${VM_MAC%:*}:2${VM_MAC: -1}
[ $TOKENS = 0 ] || TAG=$TAG-tok
[ $TOKENS = 0 ] || VM_MAC=${VM_MAC%:*}:3${VM_MAC: -1}
[ $FWHTTP = 0 ] || TAG=${TAG/-http/-fwhttp}
[ $FWHTTP = 0 ] || VM_MAC=${VM_MAC%:*}:4${VM_MAC: -1}
[ $HTTPS = 0 ] || TAG=${TAG/-fwhttp/-fwhttps}
[ $HTTPS = 0 ] || VM_MAC=${VM_MAC%:*}:5${VM_MAC: -1}

WORK=$(mktemp -d "/tmp/sb-$TAG.XXXXXX")
chmod 755 "$WORK"

del_dhcp_ns() { # the proxy test's extra host, and anything left running in it
	local p
	ip netns list | awk '{print $1}' | grep -qx "$NS_DHCP" || return 0
	for p in $(ip netns pids "$NS_DHCP" 2>/dev/null); do sb_kill_pid "$p" 3; done
	ip netns del "$NS_DHCP"
}

cleanup() {
	local rc=$?
	set +e
	sb_stop qemu 3
	sb_stop tcpdump 3
	sb_stop wire 3
	sb_stop dnsmasq 3
	sb_stop control 5
	sb_stop dataplane 10
	if [ $rc != 0 ]; then
		echo "--- $TAG failed; last lines of the logs (all in $WORK, $SB_RUN):" >&2
		for f in "$WORK/timeline.log" "$SB_RUN/qemu.log" "$SB_RUN/dataplane.log" \
			"$WORK/dnsmasq.log" "$SB_RUN/control.log"; do
			[ -s "$f" ] || continue
			echo "--- $f" >&2
			tail -n 25 "$f" | tr -d '\r' | cut -c1-200 >&2
		done
	fi
	if [ $KEEP = 0 ]; then
		del_dhcp_ns
		"$LAB" down >/dev/null 2>&1
		[ $rc = 0 ] && rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ASSETS=$("$HERE/build-assets.sh")

# --- lab: the standard veth pair, then the VM's side of it
del_dhcp_ns
"$LAB" up >/dev/null
eval "$("$LAB" env)"
# logs of processes this run may not start (lab.sh keeps logs across runs)
rm -f "$SB_RUN/control.log" "$SB_RUN/dnsmasq.log" "$SB_RUN/tcpdump.log"
NS_CLI=$SB_NS_CLI
sb_in "$NS_CLI" ip link add "$IF_VBR" type bridge stp_state 0 forward_delay 0
sb_in "$NS_CLI" ip link set "$SB_IF_CLI" master "$IF_VBR"
sb_in "$NS_CLI" ip tuntap add "$IF_TAP" mode tap
sb_in "$NS_CLI" ip link set "$IF_TAP" master "$IF_VBR" up
sb_in "$NS_CLI" ip link set "$IF_VBR" up
if [ $PROXY = 1 ]; then
	ip netns add "$NS_DHCP"
	sb_in "$NS_DHCP" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip link add "$IF_D0" netns "$NS_DHCP" type veth peer name "$IF_DC" netns "$NS_CLI"
	sb_in "$NS_CLI" ip link set "$IF_DC" master "$IF_VBR" up
	sb_in "$NS_DHCP" ip link set lo up
	sb_in "$NS_DHCP" ip link set "$IF_D0" address 02:5b:00:00:03:01
	sb_in "$NS_DHCP" ip addr add $DHCP_ADDR/24 dev "$IF_D0"
	sb_in "$NS_DHCP" ip link set "$IF_D0" up
fi

# --- stormboot config
HTTP_BASE=http://$SRV:8080
if [ $HTTP = 1 ]; then
	# iPXE expands its own settings in the boot file name: ${mac} is its MAC
	ipxe_mac='${mac}'
	script=${SB_VM_SCRIPT_URL:-$HTTP_BASE/ipxe/boot.ipxe?mac=$ipxe_mac}
else
	script=${SB_VM_SCRIPT_URL:-boot.ipxe}
fi
http_cfg=""
[ $HTTP = 0 ] || http_cfg="\"http\": { \"listen\": \"$SRV:8080\" },"
# the firmware's own HTTP client fetches the loader named by the DHCP boot-file URL
LOADER_URL=$HTTP_BASE/ipxe.efi
if [ $HTTPS = 1 ]; then
	LOADER_URL=https://$SRV:8443/ipxe.efi
	"$CTL" make-cert --cert "$WORK/tls.pem" --key "$WORK/tls.key" --ip $SRV --rsa >"$WORK/make-cert.out" 2>&1 ||
		sb_fail "make-cert: $(cat "$WORK/make-cert.out")"
	http_cfg="\"http\": { \"listen\": \"$SRV:8080\", \"https_port\": 8443, \"tls_cert\": \"$WORK/tls.pem\", \"tls_key\": \"$WORK/tls.key\" },"
fi
if [ $MODE = bios ]; then
	# The BIOS VM's iPXE ROM sends user class "iPXE" in its first DHCP: without
	# an ipxe_script it gets the BIOS boot file (pxelinux.0), as in the issue.
	boot='"bios": "pxelinux.0"'
else
	boot="\"uefi_x64\": \"ipxe.efi\", \"ipxe_script\": \"$script\""
	[ $FWHTTP = 0 ] || boot="$boot, \"http_x64\": \"$LOADER_URL\""
fi
if [ $PROXY = 1 ]; then
	subnet='{ "network": "198.18.0.0/24" }'
	dhcp_mode=proxy
else
	subnet='{ "network": "198.18.0.0/24", "pool": { "start": "198.18.0.100", "end": "198.18.0.199" }, "lease_time": 600 }'
	dhcp_mode=full
fi
images=""
for n in pxelinux.0 ldlinux.c32 pxelinux.cfg/default ipxe.efi boot.ipxe vmlinuz initrd.gz; do
	prot=""
	[ $TOKENS = 0 ] || case $n in vmlinuz | initrd.gz) prot=', "protected": true' ;; esac
	[ $TOKENS = 0 ] || [ $FWHTTP = 0 ] || [ $n != ipxe.efi ] || prot=', "protected": true' 
	images="$images${images:+,
    }{ \"name\": \"$n\", \"path\": \"$ASSETS/$n\"$prot }"
done
cat >"$WORK/stormboot.json" <<EOF
{
  "interface": "$SB_IF_SRV",
  "server_ip": "$SRV",
  "udp_checksum": "${SB_VM_UDP_CSUM:-accept}",
  "ipv6_ra": ${SB_VM_IPV6_RA:-true},
  "dhcp": {
    "mode": "$dhcp_mode",
    "boot": { $boot },
    "subnets": [ $subnet ]
  },
  $http_cfg
  "tftp": { "transfer_ports": { "first": 61000, "last": 61999 } },
  "images": [
    $images
  ]
}
EOF

start_control() {
	mkdir -p "$WORK/state"
	sb_start control "$SB_NS_SRV" "$CTLD" -c "$WORK/stormboot.json" -s "$WORK/ctl.sock" \
		-p "$WORK/dp.sock" -d "$WORK/state" -f
	sb_wait_for 20 test -S "$WORK/ctl.sock" || sb_fail "stormboot-control did not start"
}
# with tokens control must know the VM's lease: the dataplane reports to it (-C)
dp_ctl=()
if [ $TOKENS = 1 ]; then
	start_control
	dp_ctl=(-C "$WORK/dp.sock")
fi

# --- dataplane: own CPU when there are two, debug log (one line per reply/session)
cpu=$(($(nproc) > 1 ? 1 : 0))
sb_start dataplane "$SB_NS_SRV" sh -c 'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' \
	sh "$DP" -l "$cpu" --in-memory "--file-prefix=sb-$SB_IF_SRV" --no-pci \
	--vdev "net_af_xdp0,iface=$SB_IF_SRV,start_queue=0,queue_count=1,xdp_prog=$XDP" \
	--log-level=stormboot:debug -- -c "$WORK/stormboot.json" "${dp_ctl[@]}"
sb_wait_for 60 grep -q 'stormboot: serving' "$SB_RUN/dataplane.log" ||
	sb_fail "dataplane did not start (log: $SB_RUN/dataplane.log)"
sb_alive dataplane || sb_fail "dataplane exited"

if [ $PROXY = 1 ]; then
	cat >"$WORK/dnsmasq.conf" <<-EOF
	port=0
	interface=$IF_D0
	bind-interfaces
	user=root
	no-ping
	log-dhcp
	log-facility=$WORK/dnsmasq.log
	dhcp-leasefile=$WORK/dnsmasq.leases
	dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,10m
	EOF
	: >"$WORK/dnsmasq.leases"
	sb_start dnsmasq "$NS_DHCP" dnsmasq -k --conf-file="$WORK/dnsmasq.conf"
	sb_wait_for 10 grep -q 'DHCP, IP range' "$WORK/dnsmasq.log" ||
		sb_fail "dnsmasq did not start"
fi
if [ $HTTP = 1 ]; then
	# HTTP boot lives in stormboot-control, on the kernel's TCP path beside the
	# dataplane (which runs standalone with the same config)
	[ $TOKENS = 1 ] || start_control
	if [ $TOKENS = 1 ]; then
		cat >"$WORK/boot.tmpl" <<-'EOF'
		#!ipxe
		# rendered by stormboot-control for one client: ${mac} ${ip} ${server}
		echo stormboot: ${mac} ${ip} script from ${base_url} (template, HTTP, boot tokens)
		set sb_step kernel
		kernel ${url:vmlinuz} initrd=initrd.gz console=ttyS0,115200 panic=-1 BOOTIF=01-${net0/mac:hexhyp} || goto sb_failed
		set sb_step initrd
		initrd --name initrd.gz ${url:initrd.gz} || goto sb_failed
		set sb_step boot
		boot || goto sb_failed
		:sb_failed
		echo stormboot: step ${sb_step} failed, error ${errno}
		imgfetch ${base_url}/fwlog?mac=${mac}&step=${sb_step}&err=${errno} || echo stormboot: report not sent
		exit 1
		EOF
	else
		cat >"$WORK/boot.tmpl" <<-'EOF'
		#!ipxe
		# rendered by stormboot-control for one client: ${mac} ${ip} ${server}
		echo stormboot: ${mac} ${ip} script from ${base_url} (template, HTTP)
		set sb_step kernel
		kernel ${base_url}/vmlinuz initrd=initrd.gz console=ttyS0,115200 panic=-1 BOOTIF=01-${net0/mac:hexhyp} || goto sb_failed
		set sb_step initrd
		initrd ${base_url}/initrd.gz || goto sb_failed
		set sb_step boot
		boot || goto sb_failed
		:sb_failed
		echo stormboot: step ${sb_step} failed, error ${errno}
		imgfetch ${base_url}/fwlog?mac=${mac}&step=${sb_step}&err=${errno} || echo stormboot: report not sent
		exit 1
		EOF
	fi
	"$CTL" -s "$WORK/ctl.sock" template-add boot.ipxe "$WORK/boot.tmpl" >"$WORK/template-add.out" 2>&1 ||
		sb_fail "template-add: $(cat "$WORK/template-add.out")"
fi
if [ "${SB_VM_PCAP:-0}" = 1 ]; then
	# every frame on the VM's segment, for a look with tshark afterwards
	sb_start tcpdump "$NS_CLI" tcpdump -i "$IF_VBR" -s 256 -U -w "$SB_RUN/$TAG.pcap"
	sleep 1
fi
if [ $TOKENS = 1 ]; then
	# The VM's link as an eavesdropper (a mirror port) sees it: the DHCP replies (the loader's
	# token URL) and what the VM sends to port 8080 (its GETs in clear). The logs show tokens
	# redacted; the replays from another address below take the VM's exact URLs from here.
	# (On the tap, not the bridge: frames forwarded between bridge ports skip the bridge's own.)
	sb_start wire "$NS_CLI" tcpdump -i "$IF_TAP" -s 0 -U -w "$WORK/wire.pcap" \
		"(udp and (port 67 or port 68)) or (tcp and dst port 8080 and ether src $VM_MAC)"
	sb_wait_for 10 grep -q "listening on" "$SB_RUN/wire.log" || sb_fail "tcpdump did not start: $(cat "$SB_RUN/wire.log")"
fi

# --- the VM
qemu=(qemu-system-x86_64 -accel tcg -m 512 -smp 1 -display none -vga none -no-reboot
	-serial "file:$WORK/serial.log" -monitor none -nodefaults
	-netdev "tap,id=n0,ifname=$IF_TAP,script=no,downscript=no")
if [ $MODE = bios ]; then
	# graphics=off: SeaBIOS mirrors the option ROM's text console to the serial
	# port. The NIC keeps QEMU's default ROM, efi-virtio.rom from Debian's
	# ipxe-qemu (with QEMU 7.2 an explicit romfile= of the same file is not run
	# by SeaBIOS here).
	qemu+=(-machine "pc,graphics=off" -boot n
		-device "virtio-net-pci,netdev=n0,mac=$VM_MAC,bootindex=1")
else
	code=/usr/share/OVMF/OVMF_CODE.fd vars=/usr/share/OVMF/OVMF_VARS.fd
	[ -r $code ] || { code=/usr/share/OVMF/OVMF_CODE_4M.fd; vars=/usr/share/OVMF/OVMF_VARS_4M.fd; }
	cp "$vars" "$WORK/OVMF_VARS.fd"
	qemu+=(-machine q35
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code"
		-drive "if=pflash,format=raw,unit=1,file=$WORK/OVMF_VARS.fd"
		-device "virtio-net-pci,netdev=n0,mac=$VM_MAC,romfile=,bootindex=1")
	if [ $FWHTTP = 1 ]; then
		# edk2's OvmfPkg fw_cfg knobs (OvmfPkg/RUNTIME_CONFIG.md; in Debian's 2022.11): no
		# PXE driver and no IPv6 stack, so "UEFI HTTPv4" is the first network boot option
		qemu+=(-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=no
			-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=no
			-fw_cfg name=opt/org.tianocore/IPv6Support,string=no)
	fi
	if [ $HTTPS = 1 ]; then
		# the CA as an EFI_SIGNATURE_LIST of one EFI_CERT_X509_GUID entry (UEFI 2.9
		# 32.4.1), which TlsAuthConfigDxe copies into the TlsCaCertificate variable
		# SB_VM_FW_CA=other (a manual check): enroll an unrelated CA instead; the
		# firmware must then refuse the server (no marker)
		ca=$WORK/tls.pem
		if [ "${SB_VM_FW_CA:-}" = other ]; then
			"$CTL" make-cert --cert "$WORK/other.pem" --key "$WORK/other.key" --ip $SRV --rsa >/dev/null
			ca=$WORK/other.pem
		fi
		python3 - "$ca" "$WORK/cacerts.esl" <<-'PY'
		import base64, struct, sys, uuid
		pem = open(sys.argv[1]).read()
		der = base64.b64decode(''.join(pem.split('-----BEGIN CERTIFICATE-----')[1].split('-----END CERTIFICATE-----')[0].split()))
		x509 = uuid.UUID('a5c059a1-94e4-4aa7-87b5-ab155c2bf072').bytes_le
		owner = uuid.UUID('5b7d2e3c-0f1a-4c5e-9a17-73746f726d62').bytes_le
		sig = owner + der
		open(sys.argv[2], 'wb').write(x509 + struct.pack('<III', 28 + len(sig), 0, len(sig)) + sig)
		PY
		qemu+=(-fw_cfg "name=etc/edk2/https/cacerts,file=$WORK/cacerts.esl")
	fi
fi
: >"$WORK/serial.log"
sb_log "$TAG: power on (MAC $VM_MAC, dhcp $dhcp_mode, timeout ${TIMEOUT}s)"
t0=$(date +%s%N)
sb_start qemu "$NS_CLI" "${qemu[@]}"

ms_since() { echo $((($(date +%s%N) - t0) / 1000000)); }
secs() { printf '%d.%01d' $(($1 / 1000)) $((($1 % 1000) / 100)); }
# Milestones: the first console line matching each pattern (bash regex).
marker="STORMBOOT-MARKER mac=$VM_MAC "
milestones=(
	"pxe_rom:^iPXE \\(http://ipxe.org\\)"
	"pxe_start:>>Start (PXE|HTTP Boot) over IPv4"
	"pxe_dhcp:Station IP address is"
	"nbp:NBP file downloaded"
	"http_uri:^ *URI: http"
	"pxelinux:^PXELINUX"
	"ipxe:^iPXE initialising"
	"ipxe_dhcp:^net0: [0-9]"
	"script:^stormboot: ${VM_MAC}"
	"kernel:Linux version"
)
declare -A seen=()
order=()
t_marker=""
off=0
SER=$WORK/serial.log
TL=$WORK/timeline.log
# Follow the console: every complete new line goes to the timeline with the
# time it was first seen (polled every 0.1 s), and is checked for milestones.
follow() {
	local size new complete ts k m
	size=$(stat -c %s "$SER")
	[ "$size" -gt "$off" ] || return 0
	new=$(head -c "$size" "$SER" | tail -c +$((off + 1)); echo x)
	new=${new%x}
	[[ $new == *$'\n'* ]] || return 0
	complete=${new%$'\n'*}
	off=$((off + ${#complete} + 1))
	complete=$(printf '%s\n' "$complete" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g; s/\r//g')
	ts=$(secs "$now")
	printf '%s\n' "$complete" | sed "s/^/[$(printf '%6s' "$ts")] /" >>"$TL"
	[ $CONSOLE = 0 ] || printf '%s\n' "$complete" | sed "s/^/[$(printf '%6s' "$ts")] /" | cut -c1-160
	for m in "${milestones[@]}"; do
		k=${m%%:*}
		[ -n "${seen[$k]:-}" ] && continue
		if grep -Eq -- "${m#*:}" <<<"$complete"; then
			seen[$k]=$now
			order+=("$k")
		fi
	done
	if grep -qF -- "$marker" <<<"$complete"; then t_marker=$now; fi
	return 0
}
while :; do
	now=$(ms_since)
	follow
	[ -n "$t_marker" ] && break
	if ! sb_alive qemu; then
		now=$(ms_since)
		follow # what it printed last
		break
	fi
	[ "$now" -lt $((TIMEOUT * 1000)) ] || break
	sleep 0.1
done
# let the VM power itself off (the marker's last act); then stop it anyway
for ((i = 0; i < 100; i++)); do sb_alive qemu || break; sleep 0.1; done
running=0
sb_alive qemu && running=1
cp "$TL" "$SB_RUN/$TAG.timeline" 2>/dev/null || true
sb_stop qemu 3

grep -a 'STORMBOOT-MARKER' "$WORK/serial.log" | tr -d '\r' >&2 || true
if [ -z "$t_marker" ]; then
	if grep -aq 'STORMBOOT-MARKER' "$WORK/serial.log"; then
		sb_fail "$TAG: marker printed, but not with MAC $VM_MAC"
	elif [ $running = 1 ]; then
		sb_fail "$TAG: no marker after ${TIMEOUT}s"
	else
		sb_fail "$TAG: VM stopped after $(secs "$(ms_since)") s without the marker"
	fi
fi

# --- report
sb_stop dataplane 10
TOK_RE='[0-9a-f]{12}\.[0-9]+\.[0-9]+\.[0-9a-f]{32}'
if [ $TOKENS = 1 ]; then
	sb_stop wire 3
	python3 "$HERE/wire-urls.py" "$WORK/wire.pcap" "$VM_MAC" >"$WORK/wire.txt" ||
		sb_fail "wire-urls.py $WORK/wire.pcap failed"
	sed 's/^/wire: /' "$WORK/wire.txt" >&2
fi
wire_token() { # WHAT URL: the token of the first "WHAT URL?t=TOKEN" line of wire-urls.py
	awk -v w="$1" -v u="$2?t=" '{ x = $NF; $NF = ""; sub(/ $/, "") }
		$0 == w && index(x, u) == 1 { print substr(x, length(u) + 1); exit }' "$WORK/wire.txt"
}
redacted() { # TOKEN: its form in the logs (boot_token_redact: the signature's SHA-256, 8 digits)
	printf '%s.redacted-%s' "${1%.*}" "$(printf '%s' "${1##*.}" | sha256sum | cut -c1-8)"
}
re_quote() { printf '%s' "$1" | sed 's/[][\.*^$?+(){}|]/\\&/g'; }
line=""
for k in "${order[@]}"; do line="$line $k=$(secs "${seen[$k]}")s"; done
sb_log "$TAG: milestones on the serial console (s after power-on):$line marker=$(secs "$t_marker")s"
grep -E '^ *(rx_|tx_|dhcp_|tftp_|drop_)[a-z_]* *[:=]? *[1-9]' "$SB_RUN/dataplane.log" | head -40 >&2 || true

# The marker proves Linux booted; the dataplane's log (one DEBUG line per DHCP
# reply and TFTP session) proves it took the path this test is about.
DPLOG=$SB_RUN/dataplane.log
served() { # NAME: a TFTP session for NAME that ran to its end
	local k
	for k in $(grep -F ": \"$1\" blksize" "$DPLOG" |
		sed -E 's/.*tftp session ([0-9.]+:[0-9]+) port ([0-9]+):.*/\1_\2/'); do
		grep -q "tftp session ${k%_*} port ${k#*_} ended: tftp_end_done" "$DPLOG" && return 0
	done
	return 1
}
reply() { # BOOTFILE: an OFFER to the VM with exactly that boot file
	grep -F "dhcp $VM_MAC xid " "$DPLOG" | grep -F " type 1 -> 2 " | grep -q -- "bootfile $(printf '%s' "$1" | sed 's/[][\.*^$]/\\&/g')\$"
}
if [ $MODE = bios ]; then
	sb_check "$TAG: DHCP OFFER with boot file pxelinux.0" reply pxelinux.0
	for n in pxelinux.0 ldlinux.c32 pxelinux.cfg/default vmlinuz initrd.gz; do
		sb_check "$TAG: TFTP $n served to the end" served "$n"
	done
else
	if [ $FWHTTP = 0 ]; then
		sb_check "$TAG: DHCP OFFER to the firmware with boot file ipxe.efi" reply ipxe.efi
		sb_check "$TAG: TFTP ipxe.efi served to the end" served ipxe.efi
		sb_check "$TAG: the firmware negotiated a TFTP window (RFC 7440)" \
			grep -Eq '"ipxe.efi" blksize [0-9]+ windowsize ([2-9]|[1-9][0-9]+)$' "$DPLOG"
	else
		CLOG=$SB_RUN/control.log
		sz=$(stat -c %s "$ASSETS/ipxe.efi")
		tq=""
		if [ $TOKENS = 1 ]; then
			# the token on the wire, whole; in the dataplane's log, redacted
			offer_tok=$(wire_token "dhcp OFFER" "$LOADER_URL")
			ack_tok=$(wire_token "dhcp ACK" "$LOADER_URL")
			sb_check "$TAG: on the wire, the OFFER's and the ACK's URL $LOADER_URL carry a token for the VM" \
				bash -c '[[ $1 =~ ^$3$ && $2 =~ ^$3$ && $1 == ${4//:/}.* ]]' _ "$offer_tok" "$ack_tok" "$TOK_RE" "$VM_MAC"
			tq="\\?t=$(re_quote "$(redacted "$offer_tok")")"
		fi
		sb_check "$TAG: DHCP OFFER to the firmware with the URL $LOADER_URL${tq:+ and its token redacted in the log}" \
			bash -c 'grep -F "dhcp $1 xid " "$2" | grep -F " type 1 -> 2 " | grep -Eq -- "bootfile $3$4\$"' \
			_ "$VM_MAC" "$DPLOG" "$(re_quote "$LOADER_URL")" "$tq"
		# the firmware fetches with the OFFER's URL or the ACK's: the log shows which, redacted
		[ $TOKENS = 0 ] || tq="\\?t=($(re_quote "$(redacted "$offer_tok")")|$(re_quote "$(redacted "$ack_tok")"))"
		h=""
		[ $HTTPS = 0 ] || h=https
		sb_check "$TAG: ipxe.efi over ${h:-http} from stormboot to the firmware, whole ($sz bytes)" \
			grep -Eq "${h:-http} [0-9.]+:[0-9]+ \"GET /ipxe.efi$tq HTTP/1.1\" 200 $sz/$sz " "$CLOG"
		sb_check "$TAG: no TFTP for ipxe.efi" bash -c '! grep -qF ": \"ipxe.efi\" blksize" "$1"' _ "$DPLOG"
		[ $TOKENS = 0 ] || sb_check "$TAG: dataplane counted the token URLs of OFFER and ACK (dhcp_url_tokens >= 2)" \
			grep -Eq '^ *dhcp_url_tokens +([2-9]|[1-9][0-9]+)$' "$DPLOG"
	fi
	sb_check "$TAG: DHCP OFFER to iPXE with its script $script" reply "$script"
	if [ "$script" = boot.ipxe ]; then
		for n in boot.ipxe vmlinuz initrd.gz; do
			sb_check "$TAG: TFTP $n served to the end" served "$n"
		done
	fi
	if [ $HTTP = 1 ]; then
		CLOG=$SB_RUN/control.log
		sb_check "$TAG: HTTP: the template rendered for the VM's MAC" \
			grep -Eq "GET /ipxe/boot.ipxe\\?mac=[^ ]+ HTTP/1.1\" 200 .* template boot.ipxe for $VM_MAC\$" "$CLOG"
		q=""
		declare -A wire_tok=()
		for n in vmlinuz initrd.gz; do
			sz=$(stat -c %s "$ASSETS/$n")
			if [ $TOKENS = 1 ]; then
				# the VM's GET on the wire carries the whole token; the access log its redaction
				wire_tok[$n]=$(wire_token get "/$n")
				sb_check "$TAG: on the wire, the VM's GET /$n carries a token for the VM" \
					bash -c '[[ $1 =~ ^$2$ && $1 == ${3//:/}.* ]]' _ "${wire_tok[$n]}" "$TOK_RE" "$VM_MAC"
				q="\\?t=$(re_quote "$(redacted "${wire_tok[$n]}")")"
			fi
			sb_check "$TAG: HTTP: $n sent whole ($sz bytes)${q:+, with that boot token, redacted in the log}" \
				grep -Eq "\"GET /$n$q HTTP/1.1\" 200 $sz/$sz " "$CLOG"
			sb_check "$TAG: no TFTP for $n" bash -c '! grep -qF ": \"$1\" blksize" "$2"' _ "$n" "$DPLOG"
		done
		if [ $TOKENS = 1 ]; then
			# the VM's own URLs, as sniffed on its segment (the kernel's: its GET; with
			# --fw-http the loader's: the DHCP boot-file URL the firmware fetched, which the
			# access log names by its redaction), copied by another machine (the server's address)
			declare -A replay=([vmlinuz]="$HTTP_BASE/vmlinuz?t=${wire_tok[vmlinuz]}")
			if [ $FWHTTP = 1 ]; then
				used=$ack_tok
				grep -qF "GET /ipxe.efi?t=$(redacted "$offer_tok") " "$CLOG" && used=$offer_tok
				replay[ipxe.efi]="$LOADER_URL?t=$used"
			fi
			for n in "${!replay[@]}"; do
				cacert=()
				[ $HTTPS = 0 ] || cacert=(--cacert "$WORK/tls.pem")
				code=$(sb_in "$SB_NS_SRV" curl -s "${cacert[@]}" -o /dev/null -w '%{http_code}' "${replay[$n]}" || true)
				sb_check "$TAG: the VM's token URL of $n (from the wire) from another address: 403 (got $code)" [ "$code" = 403 ]
			done
			names="${!replay[*]}"
			# no signature of any token the VM was given or sent, in any log or its timeline
			"$CTL" -s "$WORK/ctl.sock" trace "$VM_MAC" >"$WORK/trace.out" 2>&1 || true
			sigs=$(grep -Eo "t=$TOK_RE" "$WORK/wire.txt" | sed 's/.*\.//' | sort -u)
			sb_check "$TAG: $(echo $sigs | wc -w) token signatures seen on the wire" [ -n "$sigs" ]
			for s in $sigs; do
				sb_check "$TAG: signature ${s:0:6}... in no log, nor in trace $VM_MAC" \
					bash -c '! grep -qF -- "$1" "${@:2}"' _ "$s" "$CLOG" "$DPLOG" "$WORK/trace.out"
			done
			[ $FWHTTP = 0 ] || sb_check "$TAG: trace $VM_MAC shows the DHCP step's URL with its token redacted" \
				grep -Eq "file $(re_quote "$LOADER_URL")\\?t=($(re_quote "$(redacted "$offer_tok")")|$(re_quote "$(redacted "$ack_tok")"))" "$WORK/trace.out"
			sb_check "$TAG: no whole token in any log" \
				bash -c '! grep -Eq -- "t=$1" "${@:2}"' _ "$TOK_RE" "$CLOG" "$DPLOG" "$WORK/trace.out"
			acc=2
			[ $FWHTTP = 0 ] || acc=3
			sb_check "$TAG: counted as foreign tokens, $acc accepted" \
				bash -c '"$1" -s "$2" --json http-status | python3 -c "import json,sys; t = json.load(sys.stdin)[\"arguments\"][\"tokens\"]; assert t[\"refused_foreign\"] >= $3 and t[\"accepted\"] >= $4, t"' _ "$CTL" "$WORK/ctl.sock" "$(echo $names | wc -w)" $acc
		fi
	fi
fi
if [ $PROXY = 1 ]; then
	sb_check "$TAG: stormboot (proxy) gave no address" \
		bash -c '! grep -E "dhcp [0-9a-f:]+ xid [0-9a-f]+ type [0-9]+ -> [0-9]+ ip " "$1" | grep -vq " ip 0.0.0.0 "' _ "$DPLOG"
	sb_check "$TAG: the address came from dnsmasq" \
		grep -q "DHCPACK($IF_D0) 198.18.0.1[0-9][0-9] $VM_MAC" "$WORK/dnsmasq.log"
fi
sb_summary >&2 || sb_fail "$TAG: the VM booted, but not along the expected path"
kernel_via=tftp
[ $HTTP = 0 ] || kernel_via=http
tl=""
for k in "${order[@]}"; do tl="$tl ${k}_s=$(secs "${seen[$k]}")"; done
echo "TIMING tag=$TAG mode=$MODE dhcp=$dhcp_mode kernel_via=$kernel_via$tl marker_s=$(secs "$t_marker")"
echo "ok - $TAG: booted Linux over the network, marker with MAC $VM_MAC after $(secs "$t_marker") s"
