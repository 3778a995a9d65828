#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# bench-vm.sh - boot time of real VMs through stormboot, and a large initrd over
# TFTP (windowsize 1 and 8) against HTTP, in one run (issue 7, item 6).
#
# Usage (root): perf/bench-vm.sh [--runs N] [--modes "uefi uefi-http bios"]
#                                [--size MIB] [--no-vm] [--no-xfer]
#
#   part A (VM)   for each mode, N boots with tests/vm/boot-vm.sh (QEMU TCG):
#                 seconds from power-on to the marker printed by the booted Linux,
#                 and to the milestones on the way (firmware DHCP, iPXE DHCP,
#                 script, kernel). Modes: uefi (OVMF PXE -> ipxe.efi -> kernel and
#                 initrd over TFTP), uefi-http (the same, kernel and initrd over
#                 HTTP from stormboot-control), bios (SeaBIOS iPXE -> pxelinux,
#                 all over TFTP). Default: "uefi uefi-http", N=2. Each mode
#                 also as MODE-nora: "ipv6_ra": false, so that iPXE waits for an
#                 IPv6 router advertisement as it does with other servers.
#   part B (xfer) a MIB MiB (default 64) file of random bytes, registered as an
#                 image, fetched N times each by real clients from the lab's
#                 client namespace: atftp at blksize 1468 windowsize 1, atftp at
#                 blksize 1468 windowsize 8 (RFC 7440) from stormboot-dataplane,
#                 and curl over HTTP from stormboot-control; every copy is
#                 compared with the original.
#
# Environment: BUILD_DIR (default SOURCE_DIR/build), SB_PREFIX for part A
# (default vmb) and SB_XFER_PREFIX for part B (default vmbx), so that the runs
# do not collide with the vm-* tests' lab "vm".
#
# Prints one table per part and a "RESULT ..." line per figure. Timing on a
# shared 2-core host under TCG varies from run to run: compare figures of the
# same run, not of different runs.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/.." && pwd)}
export SOURCE_DIR
export BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
XFER_PREFIX=${SB_XFER_PREFIX:-vmbx}
export SB_PREFIX=${SB_PREFIX:-vmb}
. "$SOURCE_DIR/tests/lab/lib.sh"

usage() { sed -n '7,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

RUNS=2 MODES="uefi uefi-http" SIZE_MIB=64 DO_VM=1 DO_XFER=1
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift ;;
	--modes) MODES=$2; shift ;;
	--size) SIZE_MIB=$2; shift ;;
	--no-vm) DO_VM=0 ;;
	--no-xfer) DO_XFER=0 ;;
	*) usage ;;
	esac
	shift
done
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || sb_fail "--runs: 1..99"
[[ $SIZE_MIB =~ ^[1-9][0-9]{0,3}$ ]] || sb_fail "--size: MiB, 1..9999"
sb_need_root
sb_need_cmd ip awk sha256sum
DP=$BUILD_DIR/dataplane/engine/stormboot-dataplane
CTLD=$BUILD_DIR/control/stormboot-control
XDP=$BUILD_DIR/bpf/stormboot_xdp.o
for f in "$DP" "$CTLD" "$XDP"; do [ -e "$f" ] || sb_fail "missing $f (build first, or set BUILD_DIR)"; done

WORK=$(mktemp -d /tmp/sb-bench-vm.XXXXXX)
chmod 755 "$WORK"
XFER_UP=0
cleanup() {
	local rc=$?
	set +e
	if [ $XFER_UP = 1 ]; then
		sb_stop control 5 # SB_PREFIX and SB_RUN are part B's by now
		sb_stop dataplane 10
		"$SOURCE_DIR/tests/lab/lab.sh" down >/dev/null 2>&1
	fi
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

median() { sort -n | awk '{v[NR] = $1} END { if (NR == 0) print "-";
	else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { # LINE KEY: value of KEY=... in a TIMING line, "-" if absent
	local v
	v=$(tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1)
	echo "${v:--}"
}

# --- part A: VM power-on to marker
if [ $DO_VM = 1 ]; then
	: >"$WORK/timing"
	for mode in $MODES; do
		# MODE-nora: the same boot with "ipv6_ra": false (iPXE then waits for an RA)
		ra=true
		case $mode in *-nora) ra=false ;; esac
		case ${mode%-nora} in
		uefi) args=(uefi) ;;
		uefi-http) args=(uefi --http) ;;
		bios) args=(bios) ;;
		*) sb_fail "unknown mode $mode (uefi, uefi-http, bios, each also as MODE-nora)" ;;
		esac
		for ((i = 1; i <= RUNS; i++)); do
			sb_log "VM $mode run $i/$RUNS"
			if SB_VM_IPV6_RA=$ra "$SOURCE_DIR/tests/vm/boot-vm.sh" "${args[@]}" >"$WORK/boot.out" \
				2>"$WORK/boot.err"; then
				line=$(grep '^TIMING ' "$WORK/boot.out" | tail -1)
				echo "$mode $i $line" >>"$WORK/timing"
			else
				sb_log "VM $mode run $i failed:"
				tail -n 15 "$WORK/boot.err" >&2
				echo "$mode $i FAILED" >>"$WORK/timing"
			fi
		done
	done
	echo
	echo "VM boot, seconds after power-on (QEMU TCG, $RUNS runs per mode)"
	# fw_dhcp: the firmware has its lease; nbp: NBP loaded (bios: pxelinux runs);
	# ipxe_dhcp: iPXE has its lease (uefi); script: iPXE runs its script;
	# kernel: Linux prints its first line; marker: the booted Linux's marker
	printf '%-14s %3s %9s %9s %9s %9s %9s %9s\n' mode run fw_dhcp nbp ipxe_dhcp script kernel marker
	while read -r mode i line; do
		if [ "$line" = FAILED ]; then
			printf '%-14s %3s %s\n' "$mode" "$i" FAILED
			continue
		fi
		if [ "${mode%-nora}" = bios ]; then
			# the firmware is iPXE (the NIC's ROM); the NBP is pxelinux
			fw=$(field "$line" ipxe_dhcp_s) nbp=$(field "$line" pxelinux_s) ipxe=-
		else
			fw=$(field "$line" pxe_dhcp_s) nbp=$(field "$line" nbp_s)
			ipxe=$(field "$line" ipxe_dhcp_s)
		fi
		printf '%-14s %3s %9s %9s %9s %9s %9s %9s\n' "$mode" "$i" "$fw" "$nbp" "$ipxe" \
			"$(field "$line" script_s)" "$(field "$line" kernel_s)" "$(field "$line" marker_s)"
	done <"$WORK/timing"
	for mode in $MODES; do
		m=$(grep "^$mode [0-9]* TIMING" "$WORK/timing" | sed -n 's/.* marker_s=\([0-9.]*\).*/\1/p' | median)
		k=$(grep "^$mode [0-9]* TIMING" "$WORK/timing" | sed -n 's/.* kernel_s=\([0-9.]*\).*/\1/p' | median)
		echo "RESULT vm mode=$mode runs=$RUNS median_kernel_s=$k median_marker_s=$m"
	done
fi

# --- part B: one large file over TFTP (windowsize 1, 8) and HTTP
if [ $DO_XFER = 1 ]; then
	sb_need_cmd atftp curl cmp
	export SB_PREFIX=$XFER_PREFIX
	export SB_RUN=$SOURCE_DIR/tests/lab/run/$XFER_PREFIX
	LAB=$SOURCE_DIR/tests/lab/lab.sh
	SRV=198.18.0.1 CLI_ADDR=198.18.0.10
	XFER_UP=1
	"$LAB" up >/dev/null
	eval "$("$LAB" env)"
	sb_in "$SB_NS_CLI" ip addr add $CLI_ADDR/24 dev "$SB_IF_CLI"
	img=$WORK/big.img
	head -c $((SIZE_MIB * 1048576)) /dev/urandom >"$img"
	sum=$(sha256sum "$img" | cut -d' ' -f1)
	cat >"$WORK/stormboot.json" <<-EOF
	{
	  "interface": "$SB_IF_SRV",
	  "server_ip": "$SRV",
	  "udp_checksum": "accept",
	  "dhcp": {
	    "mode": "full",
	    "boot": { "bios": "pxelinux.0" },
	    "subnets": [ { "network": "198.18.0.0/24", "pool": { "start": "198.18.0.100", "end": "198.18.0.199" } } ]
	  },
	  "http": { "listen": "$SRV:8080" },
	  "tftp": { "transfer_ports": { "first": 61000, "last": 61999 } },
	  "images": [ { "name": "big.img", "path": "$img" } ]
	}
	EOF
	cpu=$(($(nproc) > 1 ? 1 : 0))
	sb_start dataplane "$SB_NS_SRV" sh -c 'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' \
		sh "$DP" -l "$cpu" --in-memory "--file-prefix=sb-$SB_IF_SRV" --no-pci \
		--vdev "net_af_xdp0,iface=$SB_IF_SRV,start_queue=0,queue_count=1,xdp_prog=$XDP" \
		-- -c "$WORK/stormboot.json"
	sb_wait_for 60 grep -q 'stormboot: serving' "$SB_RUN/dataplane.log" ||
		sb_fail "dataplane did not start (log: $SB_RUN/dataplane.log)"
	mkdir -p "$WORK/state"
	sb_start control "$SB_NS_SRV" "$CTLD" -c "$WORK/stormboot.json" -s "$WORK/ctl.sock" \
		-p "$WORK/dp.sock" -d "$WORK/state" -f
	sb_wait_for 20 test -S "$WORK/ctl.sock" || sb_fail "stormboot-control did not start"
	sb_wait_for 10 sb_in "$SB_NS_CLI" curl -sfI -o /dev/null "http://$SRV:8080/big.img" ||
		sb_fail "HTTP server not answering"

	# fetch KIND: one transfer into $WORK/out; prints seconds; fails on a bad copy
	fetch() {
		local t0 t1
		rm -f "$WORK/out"
		t0=$(date +%s%N)
		case $1 in
		tftp-w1 | tftp-w8)
			timeout 600 ip netns exec "$SB_NS_CLI" atftp --option "blksize 1468" \
				--option "windowsize ${1#tftp-w}" -g -r big.img -l "$WORK/out" $SRV \
				>"$WORK/client.log" 2>&1 || { cat "$WORK/client.log" >&2; return 1; }
			;;
		http)
			timeout 600 ip netns exec "$SB_NS_CLI" curl -sSf -o "$WORK/out" \
				"http://$SRV:8080/big.img" 2>"$WORK/client.log" ||
				{ cat "$WORK/client.log" >&2; return 1; }
			;;
		esac
		t1=$(date +%s%N)
		[ "$(sha256sum <"$WORK/out" | cut -d' ' -f1)" = "$sum" ] || { sb_log "$1: copy differs"; return 1; }
		awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f\n", ns / 1e9 }'
	}
	: >"$WORK/xfer"
	# interleaved, so that a neighbour's burst of load does not hit one kind only
	for ((i = 1; i <= RUNS; i++)); do
		for kind in tftp-w1 tftp-w8 http; do
			sb_log "xfer $kind run $i/$RUNS (${SIZE_MIB} MiB)"
			if s=$(fetch $kind); then echo "$kind $i $s" >>"$WORK/xfer"; else echo "$kind $i FAILED" >>"$WORK/xfer"; fi
		done
	done
	echo
	echo "${SIZE_MIB} MiB random file, client namespace -> server namespace over veth (one lcore)"
	printf '%-8s %-44s %-16s %9s %8s\n' kind client "runs (s)" "median_s" "MiB/s"
	for kind in tftp-w1 tftp-w8 http; do
		case $kind in
		tftp-w1) cl="atftp blksize 1468 windowsize 1 (dataplane)" ;;
		tftp-w8) cl="atftp blksize 1468 windowsize 8 (dataplane)" ;;
		http) cl="curl HTTP/1.1 (stormboot-control)" ;;
		esac
		all=$(awk -v k=$kind '$1 == k { printf "%s ", $3 }' "$WORK/xfer")
		med=$(awk -v k=$kind '$1 == k && $3 != "FAILED" { print $3 }' "$WORK/xfer" | median)
		rate=-
		[ "$med" = - ] || rate=$(awk -v s="$med" -v m="$SIZE_MIB" 'BEGIN { printf "%.1f", m / s }')
		printf '%-8s %-44s %-16s %9s %8s\n' "$kind" "$cl" "${all% }" "$med" "$rate"
		echo "RESULT xfer kind=$kind size_mib=$SIZE_MIB runs=\"${all% }\" median_s=$med mib_per_s=$rate" >>"$WORK/results"
	done
	cat "$WORK/results"
fi
