#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vm-storm.sh - a real VM storm (issue 14, item 6): N QEMU VMs (TCG) powered on together,
# network-booted through stormboot, dnsmasq and Kea + tftpd-hpa in the same run, BIOS and
# UEFI; the time from power-on to the last VM's Linux marker, per server and firmware.
#
#   sudo perf/vm-storm.sh [--vms N] [--modes "bios uefi"]
#                         [--servers "stormboot stormboot-http dnsmasq kea"]
#                         [--timeout S] [--no-pcap] [--keep] [--dp-args "-I 0"]
#   --dp-args: more options for stormboot's dataplane (e.g. -I 0: busy polling, not the
#   default idle policy "auto", which sleeps when idle on a CPU that is not isolated)
#   defaults: --vms 4, both modes, the four rows, --timeout 360 (per storm)
#
# The VMs are tests/vm's (build-assets.sh: pxelinux + a small kernel and initrd that prints
# "STORMBOOT-MARKER mac=<MAC>" and powers off): BIOS = SeaBIOS + Debian's iPXE ROM ->
# pxelinux.0 -> ldlinux.c32, pxelinux.cfg/default -> vmlinuz + initrd.gz; UEFI = OVMF's
# own PXE -> ipxe.efi -> iPXE asks again (user class "iPXE") -> boot.ipxe -> vmlinuz +
# initrd.gz; all over TFTP. "stormboot-http" is stormboot's own flow beside it: every iPXE
# (the BIOS NIC's ROM, UEFI's ipxe.efi) gets the default template dist/boot.ipxe from
# stormboot-control's HTTP server and fetches vmlinuz + initrd.gz over HTTP (no pxelinux,
# no lock-step TFTP of the kernel). Each server is configured here for the same flow, as an
# operator would, with its defaults otherwise: stormboot with its default ipv6_ra ("auto":
# it answers iPXE's router solicitation), dnsmasq and Kea without router advertisements
# (they send none unless configured to, and the lab has no IPv6 router).
#
# Lab (prefix SB_PREFIX, default "bnv"): tests/lab/lab.sh, server 198.18.0.1/24 in ${P}srv,
# the VMs' taps and the client veth on a bridge in ${P}cli. Each storm is captured on the
# bridge (tcpdump); perf/vm-waits.py then lists, per VM, every silence of the firmware
# longer than 0.3 s between two of its frames: the waits (docs/PERFORMANCE.md).
# Output: a table, a copy in perf/results/<date>-vm-storm.txt, the waits beside it.
set -uo pipefail
{
export SB_PREFIX=${SB_PREFIX:-bnv}
top=$(cd "$(dirname "$0")/.." && pwd)
export SOURCE_DIR=$top
BUILD_DIR=${BUILD_DIR:-$top/build}
n_vms=4 modes="bios uefi" servers="stormboot stormboot-http dnsmasq kea" timeout=360 pcap=1 keep=0
dp_args=""
while [ $# -gt 0 ]; do
	case $1 in
	--vms) n_vms=$2; shift ;;
	--modes) modes=$2; shift ;;
	--servers) servers=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--no-pcap) pcap=0 ;;
	--keep) keep=1 ;;
	--dp-args) dp_args=$2; shift ;;
	*) sed -n '4,31p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
	shift
done
. "$top/tests/lab/lib.sh"
LAB=$top/tests/lab/lab.sh
P=$SB_PREFIX
sb_need_root
sb_need_cmd qemu-system-x86_64 dnsmasq kea-dhcp4 in.tftpd tcpdump tshark timeout
[ "$n_vms" -ge 1 ] && [ "$n_vms" -le 9 ] || sb_fail "--vms 1..9"
DP=$BUILD_DIR/dataplane/engine/stormboot-dataplane
XDP=$BUILD_DIR/bpf/stormboot_xdp.o
CTLD=$BUILD_DIR/control/stormboot-control CTL=$BUILD_DIR/control/stormbootctl
[ -x "$DP" ] || sb_fail "no dataplane at $DP (build first, or set BUILD_DIR)"
ASSETS=$("$top/tests/vm/build-assets.sh") || sb_fail "VM assets"
SRV=198.18.0.1
# Every server on CPU 1, the VMs on CPU 0 (SRV_CPU, VM_CPUS): stormboot's lcore busy-polls
# its CPU, as a poll-mode dataplane does; sharing the VMs' CPUs with it would slow the VMs
# and delay its own turns (measured: 7.5 ms per lock-step block instead of 0.4 ms).
SRV_CPU=${SRV_CPU:-1} VM_CPUS=${VM_CPUS:-0}
work=$(mktemp -d "/tmp/${P}-vmstorm.XXXXXX")
chmod 755 "$work"
stamp=$(date -u +%Y-%m-%d-%H%M)
out_txt=$top/perf/results/$stamp-vm-storm.txt
pids=()
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
stop_all() {
	local p
	for p in "${pids[@]}"; do sb_kill_pid "$p" 3; done
	pids=()
}
cleanup() {
	local rc=$?
	set +e
	stop_all
	"$LAB" down >/dev/null 2>&1
	[ $keep = 1 ] && echo "vm-storm: work directory kept: $work" >&2 || rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bg() { # logfile ns cmd...: started in the background on the server CPU, PID remembered
	local logf=$1 ns=$2
	shift 2
	ip netns exec "$ns" taskset -c "$SRV_CPU" "$@" >"$logf" 2>&1 </dev/null &
	pids+=($!)
}
wait_udp() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		ip netns exec "$SB_NS_SRV" ss -Hlun "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

"$LAB" up >"$work/lab.log" 2>&1 || { cat "$work/lab.log" >&2; exit 1; }
eval "$("$LAB" env)"
ip netns exec "$SB_NS_CLI" ip link add "${P}vbr" type bridge stp_state 0 forward_delay 0
ip netns exec "$SB_NS_CLI" ip link set "$SB_IF_CLI" master "${P}vbr"
for ((i = 1; i <= n_vms; i++)); do
	ip netns exec "$SB_NS_CLI" ip tuntap add "${P}t$i" mode tap
	ip netns exec "$SB_NS_CLI" ip link set "${P}t$i" master "${P}vbr" up
done
ip netns exec "$SB_NS_CLI" ip link set "${P}vbr" up

vm_mac() { printf '52:54:00:5b:%02x:%02x' "$1" "$2"; } # mode-index vm

server_start() { # server mode
	local s=$1 mode=$2 boot images="" n
	case $s in
	stormboot | stormboot-http)
		if [ "$mode" = bios ]; then boot='"bios": "pxelinux.0"'; else boot='"uefi_x64": "ipxe.efi", "ipxe_script": "boot.ipxe"'; fi
		local http_cfg=""
		if [ $s = stormboot-http ]; then
			# stormboot's own HTTP boot: every iPXE (the BIOS NIC's ROM, the UEFI ipxe.efi)
			# gets the operator's default template dist/boot.ipxe, rendered by
			# stormboot-control, and fetches the kernel and initrd over HTTP
			local url='http://'$SRV':8080/ipxe/boot.ipxe?mac=${mac}'
			if [ "$mode" = bios ]; then boot='"bios": "pxelinux.0", "ipxe_script": "'$url'"'; else boot='"uefi_x64": "ipxe.efi", "ipxe_script": "'$url'"'; fi
			http_cfg='"http": { "listen": "'$SRV':8080" },'
		fi
		for n in pxelinux.0 ldlinux.c32 pxelinux.cfg/default ipxe.efi boot.ipxe vmlinuz initrd.gz; do
			images="$images${images:+, }{ \"name\": \"$n\", \"path\": \"$ASSETS/$n\" }"
		done
		cat >"$work/sb.json" <<-EOF
		{ "interface": "$SB_IF_SRV", "server_ip": "$SRV",
		  "dhcp": { "mode": "full", "boot": { $boot },
		            "subnets": [ { "network": "198.18.0.0/24",
		                           "pool": { "start": "198.18.0.100", "end": "198.18.0.199" },
		                           "lease_time": 600 } ] },
		  $http_cfg
		  "images": [ $images ] }
		EOF
		if [ $s = stormboot-http ]; then
			mkdir -p "$work/ctl-state"
			rm -f "$work/ctl.sock"
			bg "$work/$s-$mode-control.log" "$SB_NS_SRV" "$CTLD" -c "$work/sb.json" -s "$work/ctl.sock" \
				-p "$work/dp.sock" -d "$work/ctl-state" -f
			sb_wait_for 20 test -S "$work/ctl.sock" || { log "stormboot-control did not start: $(tail -3 "$work/$s-$mode-control.log")"; return 1; }
			"$CTL" -s "$work/ctl.sock" template-add boot.ipxe "$top/dist/boot.ipxe" >"$work/template-add.out" 2>&1 ||
				{ log "template-add: $(cat "$work/template-add.out")"; return 1; }
		fi
		bg "$work/$s-$mode.log" "$SB_NS_SRV" sh -c "mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec '$DP' -- -c '$work/sb.json' -x '$XDP' -l $SRV_CPU $dp_args"
		sb_wait_for 30 grep -q 'serving ' "$work/$s-$mode.log" || { log "stormboot did not start: $(tail -3 "$work/$s-$mode.log")"; return 1; }
		;;
	dnsmasq)
		local b=(--dhcp-boot=pxelinux.0)
		# shellcheck disable=SC2054 # dnsmasq options, not array separators
		[ "$mode" = uefi ] && b=(--dhcp-match=set:ipxe,175 --dhcp-boot=tag:ipxe,boot.ipxe --dhcp-boot=tag:!ipxe,ipxe.efi)
		bg "$work/$s-$mode.log" "$SB_NS_SRV" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
			--interface="$SB_IF_SRV" --bind-interfaces --dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,10m \
			--dhcp-leasefile="$work/dnsmasq.leases" --enable-tftp --tftp-root="$ASSETS" "${b[@]}"
		wait_udp 67 5 && wait_udp 69 5 || { log "dnsmasq did not start"; return 1; }
		;;
	kea)
		local classes="" subnet_boot='"boot-file-name": "pxelinux.0",'
		if [ "$mode" = uefi ]; then
			subnet_boot=""
			classes='{ "name": "ipxe", "test": "substring(option[77].hex,0,4) == '"'iPXE'"'", "boot-file-name": "boot.ipxe" },
			         { "name": "efi", "test": "option[93].hex == 0x0007 and not member('"'ipxe'"')", "boot-file-name": "ipxe.efi" }'
		fi
		local cc=""
		[ -n "$classes" ] && cc="\"client-classes\": [ $classes ],"
		rm -f "$work/kea-leases4.csv"*
		cat >"$work/kea.json" <<-EOF
		{ "Dhcp4": {
		  "interfaces-config": { "interfaces": [ "$SB_IF_SRV" ], "dhcp-socket-type": "raw" },
		  "lease-database": { "type": "memfile", "persist": true, "name": "$work/kea-leases4.csv", "lfc-interval": 0 },
		  "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 64 },
		  "valid-lifetime": 600,
		  $cc
		  "subnet4": [ { "id": 1, "subnet": "198.18.0.0/24", "next-server": "$SRV", $subnet_boot
		                 "pools": [ { "pool": "198.18.0.100 - 198.18.0.199" } ] } ],
		  "loggers": [ { "name": "kea-dhcp4", "severity": "WARN", "output_options": [ { "output": "$work/kea.log" } ] } ]
		} }
		EOF
		bg "$work/$s-$mode.log" "$SB_NS_SRV" env KEA_PIDFILE_DIR="$work" KEA_LOCKFILE_DIR="$work" kea-dhcp4 -c "$work/kea.json"
		wait_udp 67 10 || { log "kea did not start: $(tail -3 "$work/$s-$mode.log")"; return 1; }
		bg "$work/tftpd-$mode.log" "$SB_NS_SRV" in.tftpd -L -4 -s -B 1468 -a $SRV:69 "$ASSETS"
		wait_udp 69 5 || { log "in.tftpd did not start"; return 1; }
		;;
	esac
}

declare -A R
code=/usr/share/OVMF/OVMF_CODE.fd vars=/usr/share/OVMF/OVMF_VARS.fd
[ -r $code ] || { code=/usr/share/OVMF/OVMF_CODE_4M.fd; vars=/usr/share/OVMF/OVMF_VARS_4M.fd; }
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t_begin=$(date +%s)
mi=0
for mode in $modes; do
	mi=$((mi + 1))
	for s in $servers; do
		tag=$s-$mode
		log "$tag: $n_vms VMs"
		server_start "$s" "$mode" || { stop_all; continue; }
		if [ $pcap = 1 ]; then
			bg "$work/tcpdump-$tag.log" "$SB_NS_CLI" tcpdump -i "${P}vbr" -s 700 -U -w "$work/$tag.pcap"
			sleep 1
		fi
		qpids=()
		t0=$(date +%s%N)
		for ((i = 1; i <= n_vms; i++)); do
			mac=$(vm_mac $mi $i)
			: >"$work/$tag-$i.serial"
			q=(qemu-system-x86_64 -accel tcg -m 384 -smp 1 -display none -vga none -no-reboot
				-serial "file:$work/$tag-$i.serial" -monitor none -nodefaults
				-netdev "tap,id=n0,ifname=${P}t$i,script=no,downscript=no")
			if [ "$mode" = bios ]; then
				q+=(-machine "pc,graphics=off" -boot n -device "virtio-net-pci,netdev=n0,mac=$mac,bootindex=1")
			else
				cp "$vars" "$work/vars-$i.fd"
				q+=(-machine q35 -drive "if=pflash,format=raw,unit=0,readonly=on,file=$code"
					-drive "if=pflash,format=raw,unit=1,file=$work/vars-$i.fd"
					-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=,bootindex=1")
			fi
			ip netns exec "$SB_NS_CLI" taskset -c "$VM_CPUS" "${q[@]}" >"$work/$tag-$i.qemu" 2>&1 </dev/null &
			qpids+=($!)
			pids+=($!)
		done
		declare -A done_ms=()
		while :; do
			now=$((($(date +%s%N) - t0) / 1000000))
			for ((i = 1; i <= n_vms; i++)); do
				[ -n "${done_ms[$i]:-}" ] && continue
				grep -aq "STORMBOOT-MARKER mac=$(vm_mac $mi $i) " "$work/$tag-$i.serial" && done_ms[$i]=$now
			done
			[ ${#done_ms[@]} = "$n_vms" ] && break
			[ $now -ge $((timeout * 1000)) ] && break
			sleep 0.2
		done
		for p in "${qpids[@]}"; do sb_kill_pid "$p" 2; done
		stop_all
		times=""
		last=0
		for ((i = 1; i <= n_vms; i++)); do
			v=${done_ms[$i]:-}
			if [ -z "$v" ]; then times="$times -"; last=-1; continue; fi
			times="$times $(awk -v v="$v" 'BEGIN { printf "%.1f", v / 1000 }')"
			[ $last -ge 0 ] && [ "$v" -gt $last ] && last=$v
		done
		R[$tag]=$(awk -v v=$last 'BEGIN { if (v < 0) print "-"; else printf "%.1f", v / 1000 }')
		R[$tag|each]=$times
		log "$tag: markers at${times} s; last ${R[$tag]} s"
		unset done_ms
		if [ $pcap = 1 ] && [ -s "$work/$tag.pcap" ]; then
			python3 "$top/perf/vm-waits.py" "$work/$tag.pcap" >"$work/$tag.waits" 2>&1 ||
				log "vm-waits: $(tail -2 "$work/$tag.waits")"
		fi
	done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "VM storm (perf/vm-storm.sh): $n_vms QEMU VMs (TCG, 1 vCPU, 384 MiB) on CPU $VM_CPUS powered on together per row, the server on CPU $SRV_CPU; $(date -u '+%Y-%m-%d %H:%M') UTC, $(($(date +%s) - t_begin)) s"
	echo "host: $(nproc) CPUs; load average at start $load_start, at end $load_end (a shared host: figures are noisy)"
	printf '  %-6s %-14s %12s   %s\n' mode server "last VM s" "each VM's marker (s after power-on)"
	for mode in $modes; do
		for s in $servers; do printf '  %-6s %-14s %12s   %s\n' "$mode" "$s" "${R[$s-$mode]:--}" "${R[$s-$mode|each]:-}"; done
	done
	echo "Target: stormboot's last VM <= 0.5x dnsmasq's"
	for mode in $modes; do
		for sb in $servers; do
			case $sb in stormboot*) ;; *) continue ;; esac
			for ref in dnsmasq kea; do
				case " $servers " in *" $ref "*) ;; *) continue ;; esac
				awk -v a="${R[$sb-$mode]:--}" -v b="${R[$ref-$mode]:--}" -v m="$mode" -v r="$ref" -v s="$sb" 'BEGIN {
					if (a == "-" || b == "-" || b + 0 == 0) { printf "  %s: %s / %s: -\n", m, s, r; exit }
					x = a / b; printf "  %s: %s / %s = %.2fx %s\n", m, s, r, x, (r == "dnsmasq") ? ((x <= 0.5) ? "met" : "missed") : "" }'
			done
		done
	done
	for mode in $modes; do
		for s in $servers; do
			[ -s "$work/$s-$mode.waits" ] || continue
			echo
			echo "Waits of the firmware, $s, $mode (silences > 0.3 s of each VM, from the capture):"
			sed 's/^/  /' "$work/$s-$mode.waits"
		done
	done
} | tee "$out_txt"
exit 0
}
