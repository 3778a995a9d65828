#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# storm-bench.sh - boot storms against stormboot and the reference servers, one command,
# one run, one lab (issue 14, item 4).
#
#   sudo perf/storm-bench.sh [--quick] [--build DIR] [--servers LIST] [--max-minutes M]
#                            [--no-plot] [--keep]
#
# The lab: tests/lab/lab.sh (prefix SB_PREFIX, default "bn"): namespaces ${P}srv / ${P}cli
# joined by one veth pair; the server's address 198.18.0.1/16, the pool
# 198.18.16.0-198.18.63.255 (12,288 addresses) on every server. Every server is pinned to
# CPU 1 (taskset; stormboot's lcore -l 1), the generator (perf/storm: stormboot-storm over
# net_af_xdp on the client veth, in a session of its own) to CPU 0. Each server is
# configured here to serve the same scenario: boot file loader.efi to UEFI x64 (option 93
# = 7), loader-bios.bin to the others, image.bin, blksize up to 1468.
#
# Servers (--servers, comma separated; default all):
#   stormboot            stormboot-dataplane alone (leases in memory)
#   sb-strict            + stormboot-control, dhcp.durability "strict" (an ACK leaves once
#                        its lease is on disk) - DHCP rows only
#   sb-available         + stormboot-control, dhcp.durability "available" - DHCP rows only
#   dnsmasq              DHCP + TFTP (tftp-max 1024, --leasefile-ro: dnsmasq rewrites its
#                        whole lease file on every change, which caps it far below this)
#   kea                  kea-dhcp4 (multi-threaded, 2 threads, memfile persist false) +
#                        tftpd-hpa
#   kea-durable          kea-dhcp4 with its lease file on (persist true) - DHCP rows only
# Rows:
#   DORA/s at < 1 % loss: --dhcp-only storms of min(10,000, 2 s x rate) VMs powered on
#     evenly over the step (--ramp-ms), the rate doubled from 1,000/s until a step loses
#     1 % or more (DISCOVER/REQUEST resent, or a VM not bound), then one step halfway;
#     the figure is the best passing offered rate. Firmware back-off (4 s, 8 s...).
#   storms of 100, 1,000 and 10,000 VMs (half OVMF-like, half iPXE-like; DHCP, loader
#     64 KiB, image 256 KiB, every byte checked; the generator's firmware-like defaults:
#     RFC 2131 back-off 4/8/16/32 s, TFTP OVMF 4 s x 6, iPXE 250 ms doubled to 10 s):
#     time to the last VM, per-VM completion p50/p99, failed VMs
#   stormboot, 10,000 VMs with tftp.max_sessions 1000 (paced, never refused: item 5;
#     --quick: 2,000 VMs with 100 sessions). stormboot's other rows: max_sessions 4096 on
#     the default 1,000 transfer ports (61000-61999), i.e. at most 1,000 transfers at once
#   TFTP: 64, 256 and 1,024 VMs fetching a 64 KiB loader and an image of 256 MiB / N:
#     aggregate MB/s and DATA packets/s (from power-on to the last VM)
#   the veth's AF_XDP ceiling: perf/storm/storm-ceiling.sh (dpdk-testpmd macswap on
#     net_af_xdp, the generator reflecting 1514-byte frames with its per-DATA work)
#   perf/storm/storm-engine.sh's rows (memif), if that script exists
#   one image to a fleet, unicast against multicast TFTP (RFC 2090), stormboot and atftpd:
#     perf/storm-mtftp.sh (1,000 VMs x 16 MiB; --quick: 200 VMs x 4 MiB)
# --quick: 100 and 1,000 VMs with 16 + 64 KiB files, TFTP at 64 VMs, fewer DHCP steps,
#   no 10,000-VM rows (about 5 minutes). A full run is bounded by --max-minutes (25).
#
# Output: the table with every target marked met / missed, on stdout and in
# perf/results/<date>-storm-bench[-quick].txt with the raw JSON reports beside it
# (<...>-storm-bench.json); the per-VM completion CDF of the 1,000-VM storm as a PNG
# (gnuplot) in perf/results and, for a full run, docs/storm-cdf.png.
# Needs root; calls tests/setup.sh when a command is missing and builds ./build if the
# binaries are not there. Everything started here is stopped by PID; the lab is deleted.
set -uo pipefail
# The whole script is one brace group, read before it runs: editing the file during a run
# does not change that run.
{
export SB_PREFIX=${SB_PREFIX:-bn}
top=$(cd "$(dirname "$0")/.." && pwd)
export SOURCE_DIR=$top
quick=0 servers_opt="" max_minutes="" plot=1 keep=0
BUILD_DIR=${BUILD_DIR:-$top/build}
usage() { sed -n '4,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--build) BUILD_DIR=$2; shift ;;
	--servers) servers_opt=$2; shift ;;
	--max-minutes) max_minutes=$2; shift ;;
	--no-plot) plot=0 ;;
	--keep) keep=1 ;;
	-h | --help) sed -n '4,54p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "storm-bench: unknown option $1" >&2; usage ;;
	esac
	shift
done
BUILD_DIR=$(cd "$BUILD_DIR" 2>/dev/null && pwd || echo "$BUILD_DIR")
export BUILD_DIR
[ "$(id -u)" = 0 ] || { echo "storm-bench: needs root (namespaces, AF_XDP)" >&2; exit 2; }
[ "$(nproc)" -ge 2 ] || { echo "storm-bench: needs 2 CPUs (server on 1, generator on 0)" >&2; exit 2; }
if [ $quick = 1 ]; then : "${max_minutes:=6}"; else : "${max_minutes:=25}"; fi

# A fresh machine: packages, hugepages, bpffs, and a build.
for c in dnsmasq kea-dhcp4 in.tftpd dpdk-testpmd gnuplot dpdk-telemetry.py meson ninja; do
	command -v "$c" >/dev/null 2>&1 || { "$top/tests/setup.sh" || exit 1; break; }
done
STORM=$BUILD_DIR/perf/storm/stormboot-storm
DP_BIN=$BUILD_DIR/dataplane/engine/stormboot-dataplane
CTL_BIN=$BUILD_DIR/control/stormboot-control
DP_XDP=$BUILD_DIR/bpf/stormboot_xdp.o
if [ ! -x "$STORM" ] || [ ! -x "$DP_BIN" ] || [ ! -x "$CTL_BIN" ]; then
	echo "storm-bench: building $BUILD_DIR" >&2
	{ [ -d "$BUILD_DIR" ] || meson setup "$BUILD_DIR" "$top"; } >/dev/null && ninja -C "$BUILD_DIR" >/dev/null ||
		{ echo "storm-bench: build failed" >&2; exit 1; }
fi

. "$top/tests/lab/lib.sh"
LAB=$top/tests/lab/lab.sh
SRV_CPU=1 GEN_CPU=0
SRV_IP=198.18.0.1
POOL_LO=198.18.16.0 POOL_HI=198.18.63.255

all_servers="stormboot sb-strict sb-available dnsmasq kea kea-durable"
servers=$all_servers
[ -n "$servers_opt" ] && servers=$(echo "$servers_opt" | tr ',' ' ')
for s in $servers; do
	case " $all_servers " in *" $s "*) ;; *) echo "storm-bench: unknown server $s ($all_servers)" >&2; exit 2 ;; esac
done
has() { case " $servers " in *" $1 "*) return 0 ;; esac; return 1; }
# TFTP-serving configurations (storm and TFTP rows)
boot_servers=$(for s in stormboot dnsmasq kea; do has $s && echo $s; done | tr '\n' ' ')

if [ $quick = 1 ]; then
	storm_sizes="100 1000" loader_kib=16 image_kib=64 cap_vms=2000 cap_sessions=100
	tftp_clients="64" tftp_total_kib=$((64 * 1024))
	dora_rates="500 2000 8000 32000" dora_max=2000 dora_bisect=0
else
	storm_sizes="100 1000 10000" loader_kib=64 image_kib=256 cap_vms=10000 cap_sessions=1000
	tftp_clients="64 256 1024" tftp_total_kib=$((256 * 1024))
	dora_rates="250 500 1000 2000 4000 8000 16000 32000 64000 128000" dora_max=10000 dora_bisect=1
fi

stamp=$(date -u +%Y-%m-%d-%H%M)
res_dir=$top/perf/results
mkdir -p "$res_dir"
suffix=storm-bench
[ $quick = 1 ] && suffix=storm-bench-quick
out_txt=$res_dir/$stamp-$suffix.txt
out_json=$res_dir/$stamp-$suffix.json
out_png=$res_dir/$stamp-$suffix-cdf.png

work=$(mktemp -d "/tmp/${SB_PREFIX}-bench.XXXXXX")
chmod 755 "$work"
mkdir -p "$work/img" "$work/tftp" "$work/json" "$work/csv"
. "$top/perf/bench-lib.sh"
log() { bench_log "$@"; }
bench_traps storm-bench
setsid bash -c "sleep $((max_minutes * 60)); echo 'storm-bench: time limit of $max_minutes minutes reached, stopping' >&2; kill -TERM $$" \
	</dev/null >/dev/null 2>&1 &
watchdog=$!
bench_clock_start

# ------------------------------------------------------------------ files
# make_files LOADER_KIB IMAGE_KIB: random files, the same bytes for every server.
make_files() {
	head -c $(($1 * 1024)) /dev/urandom >"$work/img/loader.efi"
	head -c $(($1 * 1024)) /dev/urandom >"$work/img/loader-bios.bin"
	head -c $(($2 * 1024)) /dev/urandom >"$work/img/image.bin"
	cp "$work/img/"* "$work/tftp/"
	chmod 644 "$work/tftp/"*
}

# ------------------------------------------------------------------ lab
lab_up() {
	bench_lab_up
	neigh_raise # room for 10,000 clients in the kernel's ARP table
}

in_srv() { ip netns exec "$SB_NS_SRV" taskset -c $SRV_CPU "$@"; }

sb_config() { # file durability(none|strict|available) max_sessions
	local dur=""
	[ "$2" != none ] && dur="\"durability\": \"$2\","
	cat >"$1" <<-EOF
	{ "interface": "$SB_IF_SRV", "server_ip": "$SRV_IP", "queues": 1, "udp_checksum": "accept",
	  "dhcp": { "mode": "full", $dur
	            "boot": { "bios": "loader-bios.bin", "uefi_x64": "loader.efi" },
	            "subnets": [ { "network": "198.18.0.0/16",
	                           "pool": { "start": "$POOL_LO", "end": "$POOL_HI" },
	                           "router": "$SRV_IP", "lease_time": 3600 } ] },
	  "tftp": { "max_sessions": $3, "max_sessions_per_client": 0, "blksize_max": 1468,
	            "windowsize_max": 16 },
	  "images": [ { "name": "loader.efi", "path": "$work/img/loader.efi" },
	              { "name": "loader-bios.bin", "path": "$work/img/loader-bios.bin" },
	              { "name": "image.bin", "path": "$work/img/image.bin" } ] }
	EOF
}

# server_start NAME [max_sessions]: 0 when it answers
server_start() {
	local name=$1 cap=${2:-4096} i dur=none ctl=""
	case $name in
	stormboot | sb-strict | sb-available)
		[ $name = sb-strict ] && dur=strict
		[ $name = sb-available ] && dur=available
		sb_config "$work/sb.json" $dur "$cap"
		if [ $dur != none ]; then
			rm -rf "$work/sbstate" "$work/ctl.sock" "$work/dp.sock"
			mkdir -p "$work/sbstate"
			start_srv "$work/control.log" "$CTL_BIN" -f -c "$work/sb.json" -s "$work/ctl.sock" \
				-p "$work/dp.sock" -d "$work/sbstate"
			sb_wait_for 10 test -S "$work/dp.sock" || { log "control did not start: $(tail -3 "$work/control.log")"; return 1; }
			ctl="-C $work/dp.sock"
		fi
		start_srv "$work/dataplane.log" sh -c "mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec '$DP_BIN' -- -c '$work/sb.json' -x '$DP_XDP' -l $SRV_CPU $ctl"
		sb_wait_for 30 grep -q 'serving ' "$work/dataplane.log" || { log "stormboot did not start: $(tail -5 "$work/dataplane.log")"; return 1; }
		# strict: DHCP waits for control's leases; available: 5 s at most
		if [ $dur != none ]; then sleep 6; else sleep 1; fi
		;;
	dnsmasq)
		rm -f "$work/dnsmasq.leases"
		start_srv "$work/dnsmasq.log" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
			--interface="$SB_IF_SRV" --bind-interfaces --log-facility="$work/dnsmasq.log" \
			--dhcp-range=$POOL_LO,$POOL_HI,255.255.0.0,1h --dhcp-lease-max=200000 \
			--dhcp-authoritative --no-ping --quiet-dhcp --leasefile-ro \
			--dhcp-match=set:efi,option:client-arch,7 --dhcp-boot=tag:efi,loader.efi \
			--dhcp-boot=tag:!efi,loader-bios.bin --enable-tftp --tftp-root="$work/tftp" \
			--tftp-max=1024 --quiet-tftp
		wait_udp 67 5 && wait_udp 69 5 || { log "dnsmasq did not start: $(tail -3 "$work/dnsmasq.log")"; return 1; }
		;;
	kea | kea-durable)
		local persist=false
		[ $name = kea-durable ] && persist=true
		rm -f "$work/kea-leases4.csv"*
		cat >"$work/kea.json" <<-EOF
		{ "Dhcp4": {
		  "interfaces-config": { "interfaces": [ "$SB_IF_SRV" ], "dhcp-socket-type": "raw" },
		  "lease-database": { "type": "memfile", "persist": $persist,
		                      "name": "$work/kea-leases4.csv", "lfc-interval": 0 },
		  "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2,
		                       "packet-queue-size": 64 },
		  "valid-lifetime": 3600,
		  "client-classes": [
		    { "name": "uefi", "test": "option[93].hex == 0x0007", "boot-file-name": "loader.efi" },
		    { "name": "bios", "test": "not member('uefi')", "boot-file-name": "loader-bios.bin" } ],
		  "subnet4": [ { "id": 1, "subnet": "198.18.0.0/16", "next-server": "$SRV_IP",
		                 "pools": [ { "pool": "$POOL_LO - $POOL_HI" } ],
		                 "option-data": [ { "name": "routers", "data": "$SRV_IP" } ] } ],
		  "loggers": [
		    { "name": "kea-dhcp4", "severity": "WARN", "output_options": [ { "output": "$work/kea.log" } ] },
		    { "name": "kea-dhcp4.options", "severity": "WARN", "output_options": [ { "output": "$work/kea.log" } ] } ]
		} }
		EOF
		start_srv "$work/kea.out" env KEA_PIDFILE_DIR="$work" KEA_LOCKFILE_DIR="$work" \
			kea-dhcp4 -c "$work/kea.json"
		wait_udp 67 10 || { log "kea did not start: $(tail -3 "$work/kea.out")"; return 1; }
		if [ $name = kea ]; then
			# -B: blksize up to 1468 (what we ask for); -s: chroot to the root
			start_srv "$work/tftpd.log" in.tftpd -L -4 -s -B 1468 -a $SRV_IP:69 "$work/tftp"
			wait_udp 69 5 || { log "in.tftpd did not start: $(tail -3 "$work/tftpd.log")"; return 1; }
		fi
		;;
	esac
	return 0
}
server_stop() {
	kill_pids
	sleep 0.5
}

# ------------------------------------------------------------------ generator
# storm TAG TIMEOUT_S generator-options...: the JSON report in $work/json/TAG.json, the
# per-VM CSV in $work/csv/TAG.csv; the generator's exit status (0: every VM booted).
storm() {
	local tag=$1 to=$2 rc=0
	shift 2
	ip netns exec "$SB_NS_CLI" setsid -w timeout $((to + 30)) taskset -c $GEN_CPU \
		"$STORM" -l $GEN_CPU --no-pci --in-memory --file-prefix "${SB_PREFIX}-storm" \
		--no-telemetry --log-level=lib.eal:warning --vdev "net_af_xdp0,iface=$SB_IF_CLI" -- \
		--file "loader.efi=$work/img/loader.efi" --file "loader-bios.bin=$work/img/loader-bios.bin" \
		--file "image.bin=$work/img/image.bin" --server $SRV_IP --random-macs --rxd 8192 --timeout "$to" --progress 0 \
		--json --vm-csv "$work/csv/$tag.csv" "$@" >"$work/json/$tag.json" 2>"$work/$tag.log" || rc=$?
	[ -s "$work/json/$tag.json" ] || echo '{"error": "no report"}' >"$work/json/$tag.json"
	return $rc
}
# jget TAG EXPR: a python expression over the report r (None: -)
jget() {
	python3 - "$work/json/$1.json" "$2" <<-'EOF'
	import json, sys
	try:
	    r = json.load(open(sys.argv[1]))
	    c = r.get("counters", {})
	    v = eval(sys.argv[2])
	except Exception:
	    v = None
	print("-" if v is None else (("%.3f" % v) if isinstance(v, float) else v))
	EOF
}

declare -A R # R[server|row] = value
fmt() { [ -n "${R[$1]:-}" ] && echo "${R[$1]}" || echo "-"; }

# DORA/s at < 1 % loss (see the header). Loss of a step: (DHCP retransmissions + VMs not
# bound) / (2 x VMs), i.e. the share of DISCOVER/REQUEST exchanges that did not succeed at once.
dora_step() { # server rate -> sets step_loss (percent), step_pass
	local s=$1 rate=$2 n ramp tag
	n=$((rate * 2))
	[ $n -gt $dora_max ] && n=$dora_max
	ramp=$((n * 1000 / rate))
	tag=$s-dora-$rate
	storm "$tag" $((ramp / 1000 + 7)) --dhcp-only --vms $n --ramp-ms $ramp >/dev/null 2>&1
	step_loss=$(jget "$tag" '100.0 * (c["dhcp_retrans_tx"] + r["vms"] - r["done"]) / (2 * r["vms"])')
	[ "$step_loss" = - ] && step_loss=100
	step_pass=$(awk -v l="$step_loss" 'BEGIN { print (l < 1) ? 1 : 0 }')
	log "  $s: $rate DORA/s offered ($n VMs over $ramp ms): loss $step_loss %, done $(jget "$tag" 'r["done"]'), last at $(jget "$tag" 'r["time_to_last_vm_s"]') s"
}
dora_row() {
	local s=$1 rate best=0 fail=0 mid
	for rate in $dora_rates; do
		dora_step "$s" "$rate"
		if [ "$step_pass" = 1 ]; then best=$rate; R[$s|dora_loss]=$step_loss; else fail=$rate; break; fi
	done
	if [ $dora_bisect = 1 ] && [ $fail -gt 0 ] && [ $best -gt 0 ]; then
		mid=$(((best + fail) / 2))
		dora_step "$s" "$mid"
		[ "$step_pass" = 1 ] && { best=$mid; R[$s|dora_loss]=$step_loss; }
	fi
	R[$s|dora]=$best
	[ $fail = 0 ] && R[$s|dora]=">=$best"
}

storm_row() { # server vms [tag-suffix] [extra generator options]
	local s=$1 n=$2 sfx=${3:-} tag to
	shift 3 2>/dev/null || shift $#
	tag=$s-storm-$n$sfx
	to=60
	[ "$n" -ge 1000 ] && to=120
	[ "$n" -ge 10000 ] && to=240
	storm "$tag" $to --vms "$n" --image image.bin "$@"
	R[$s|storm$n$sfx]=$(jget "$tag" 'r["time_to_last_vm_s"] if r["done"] else None')
	R[$s|storm$n${sfx}_p99]=$(jget "$tag" 'r["completion_s"]["p99"]')
	R[$s|storm$n${sfx}_failed]=$(jget "$tag" 'r["failed"]')
	R[$s|storm$n${sfx}_gen]=$(jget "$tag" 'r["limit"] if r["generator_limited"] else None')
	R[$s|storm$n${sfx}_why]=$(jget "$tag" '",".join("%s:%d" % (k, v) for k, v in r["fail_reasons"].items() if v) or None')
	log "  $s: $n VMs: last at $(jget "$tag" 'r["time_to_last_vm_s"]') s, p99 ${R[$s|storm$n${sfx}_p99]} s, failed ${R[$s|storm$n${sfx}_failed]} ${R[$s|storm$n${sfx}_why]}; generator: $(jget "$tag" 'r["limit"]')"
}

tftp_row() { # server clients
	local s=$1 n=$2 tag=$1-tftp-$2
	storm "$tag" 120 --vms "$n" --image image.bin
	R[$s|tftp${n}_mbs]=$(jget "$tag" 'c["tftp_data_bytes"] / r["time_to_last_vm_s"] / 1e6 if r["failed"] == 0 else None')
	R[$s|tftp${n}_pps]=$(jget "$tag" 'int(c["tftp_data_rx"] / r["time_to_last_vm_s"]) if r["failed"] == 0 else None')
	R[$s|tftp${n}_failed]=$(jget "$tag" 'r["failed"]')
	R[$s|tftp${n}_gen]=$(jget "$tag" '"generator-limited" if r["generator_limited"] else "not the generator"')
	log "  $s: TFTP $n VMs: ${R[$s|tftp${n}_mbs]} MB/s, ${R[$s|tftp${n}_pps]} DATA/s, failed ${R[$s|tftp${n}_failed]}; generator: $(jget "$tag" 'r["limit"]')"
}

# The veth's own AF_XDP packet ceiling: dpdk-testpmd txonly (1514-byte frames) on the server
# end, forwarding lcore on the server CPU, dpdk-testpmd rxonly on the client end on the
# generator's CPU; both net_af_xdp (copy mode, DPDK's own XDP program). The median of the
# receiver's per-second Rx-pps over 6 s.
ceiling_txonly() {
	local pids=() p
	ip netns exec "$SB_NS_CLI" setsid dpdk-testpmd -l $SRV_CPU,$GEN_CPU --main-lcore $SRV_CPU \
		--no-pci --in-memory --file-prefix "${SB_PREFIX}-rx" --no-telemetry --log-level=lib.eal:warning \
		--vdev "net_af_xdp0,iface=$SB_IF_CLI" -- --forward-mode=rxonly --nb-cores=1 --auto-start \
		--stats-period 1 </dev/null >"$work/testpmd-rx.log" 2>&1 &
	pids+=($!)
	sleep 3
	ip netns exec "$SB_NS_SRV" setsid dpdk-testpmd -l $GEN_CPU,$SRV_CPU --main-lcore $GEN_CPU \
		--no-pci --in-memory --file-prefix "${SB_PREFIX}-tx" --no-telemetry --log-level=lib.eal:warning \
		--vdev "net_af_xdp0,iface=$SB_IF_SRV" -- --forward-mode=txonly --txpkts=1514 --nb-cores=1 \
		--auto-start --stats-period 1 </dev/null >"$work/testpmd-tx.log" 2>&1 &
	pids+=($!)
	sleep 9
	for p in "${pids[@]}"; do sb_kill_pid "$p" 5; done
	R[txonly|pps]=$(awk '/Rx-pps:/ && $2 > 0 { print $2 }' "$work/testpmd-rx.log" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR >= 3) print v[int((NR + 1) / 2)] }')
	R[txonly|sent]=$(awk '/Tx-pps:/ && $2 > 0 { print $2 }' "$work/testpmd-tx.log" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR >= 3) print v[int((NR + 1) / 2)] }')
}

# ------------------------------------------------------------------ run
log "storm-bench: servers: $servers; quick=$quick; load $load_start; results $out_txt"
log "veth AF_XDP ceiling (storm-ceiling.sh: testpmd macswap, 64 VMs x 4 frames of 1514 bytes)"
if SB_PREFIX=${SB_PREFIX}c STORM_CPU=$GEN_CPU TESTPMD_CPU=$SRV_CPU "$top/perf/storm/storm-ceiling.sh" \
	--build "$BUILD_DIR" --vms 64 --window 4 --size 1514 --verify sha --seconds 5 --json \
	>"$work/json/ceiling.json" 2>"$work/ceiling.log"; then
	R[ceiling|pps]=$(jget ceiling 'int(r["rx_pps"])')
	R[ceiling|limit]=$(jget ceiling 'r["limit"]')
else
	log "ceiling run failed: $(tail -3 "$work/ceiling.log")"
fi
log "  ceiling: ${R[ceiling|pps]:-?} frames/s each way"

lab_up
ceiling_txonly
"$LAB" down >/dev/null 2>&1 # DPDK's XDP programs off both veths
lab_up
log "  ceiling, testpmd txonly -> rxonly: ${R[txonly|pps]:-?} frames/s"
make_files 64 64
for s in $servers; do
	log "DHCP: $s"
	server_start "$s" || { server_stop; continue; }
	dora_row "$s"
	server_stop
done

make_files $loader_kib $image_kib
for s in $boot_servers; do
	log "storms: $s"
	server_start "$s" || { server_stop; continue; }
	for n in $storm_sizes; do
		storm_row "$s" "$n"
		# a fresh start for each storm: no lease or session left from the last one
		server_stop
		server_start "$s" || break
	done
	server_stop
done
if has stormboot; then
	log "storm: stormboot, $cap_vms VMs, tftp.max_sessions $cap_sessions"
	if server_start stormboot $cap_sessions; then
		storm_row stormboot $cap_vms -cap
		R[stormboot|paced]=$(python3 "$top/tests/dataplane/dp-tel.py" "sb-$SB_IF_SRV" /stormboot/sessions drop_tftp_rrq_paced 2>/dev/null)
	fi
	server_stop
fi
for n in $tftp_clients; do
	make_files 64 $((tftp_total_kib / n))
	for s in $boot_servers; do
		log "TFTP: $s, $n VMs, image $((tftp_total_kib / n)) KiB"
		server_start "$s" || { server_stop; continue; }
		tftp_row "$s" "$n"
		server_stop
	done
done
engine_out=""
if [ -x "$top/perf/storm/storm-engine.sh" ]; then
	log "engine limit over memif (perf/storm/storm-engine.sh)"
	"$LAB" down >/dev/null 2>&1
	engine_out=$(SB_PREFIX=${SB_PREFIX}m BUILD_DIR=$BUILD_DIR timeout 300 "$top/perf/storm/storm-engine.sh" 2>"$work/engine.log") ||
		log "storm-engine.sh failed: $(tail -3 "$work/engine.log")"
fi
# One image to a fleet, unicast against multicast TFTP (RFC 2090), stormboot and atftpd
# (issue 16): perf/storm-mtftp.sh in a lab of its own.
mtftp_out=""
if [ -x "$top/perf/storm-mtftp.sh" ]; then
	if [ $quick = 1 ]; then mt_args="--vms 200 --image-mib 4"; else mt_args="--vms 1000 --image-mib 16"; fi
	log "multicast TFTP (perf/storm-mtftp.sh $mt_args)"
	"$LAB" down >/dev/null 2>&1
	mtftp_out=$(SB_PREFIX=${SB_PREFIX}t BUILD_DIR=$BUILD_DIR timeout 1500 "$top/perf/storm-mtftp.sh" $mt_args 2>"$work/mtftp.log") ||
		log "storm-mtftp.sh failed: $(tail -3 "$work/mtftp.log")"
fi
bench_clock_stop

# ------------------------------------------------------------------ report
ratio() { # a b -> a/b with an x, or -
	awk -v a="${1#>=}" -v b="${2#>=}" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else print "-" }'
}
verdict() { # value op target -> met / missed
	awk -v v="${1%x}" -v t="$3" -v op="$2" 'BEGIN { v = v + 0; if (v == 0) { print "missed (no figure)"; exit }
		ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "met" : "missed" }'
}
{
	echo "stormboot storm benchmark (perf/storm-bench.sh$([ $quick = 1 ] && echo ' --quick')), $(date -u '+%Y-%m-%d %H:%M') UTC, $t_run s"
	bench_host_line "a shared host: figures are noisy"
	echo "lab: veth $SB_IF_SRV/$SB_IF_CLI (namespaces $SB_NS_SRV/$SB_NS_CLI), every server on CPU $SRV_CPU, stormboot-storm (net_af_xdp) on CPU $GEN_CPU"
	echo
	echo "DHCP DORA/s at < 1 % loss (stormboot-storm --dhcp-only, up to $dora_max VMs per step)"
	printf '  %-14s %10s %8s\n' server "DORA/s" "loss %"
	for s in $servers; do printf '  %-14s %10s %8s\n' "$s" "$(fmt "$s|dora")" "$(fmt "$s|dora_loss")"; done
	echo
	echo "Storms (half OVMF-like, half iPXE-like; loader $loader_kib KiB + image $image_kib KiB, every byte checked)"
	printf '  %-12s' server
	for n in $storm_sizes; do printf ' %24s' "$n VMs: last s / p99 s / failed"; done
	echo
	for s in $boot_servers; do
		printf '  %-12s' "$s"
		for n in $storm_sizes; do printf ' %24s' "$(fmt "$s|storm$n") / $(fmt "$s|storm${n}_p99") / $(fmt "$s|storm${n}_failed")"; done
		echo
		for n in $storm_sizes; do
			[ "$(fmt "$s|storm${n}_why")" != - ] && echo "      $n VMs failed: ${R[$s|storm${n}_why]}"
			[ "$(fmt "$s|storm${n}_gen")" != - ] && echo "      $n VMs: THE GENERATOR was a limit: ${R[$s|storm${n}_gen]}"
		done
	done
	if [ -n "${R[stormboot|storm$cap_vms-cap_failed]:-}" ]; then
		echo "  stormboot, $cap_vms VMs, tftp.max_sessions $cap_sessions: last $(fmt "stormboot|storm$cap_vms-cap") s, p99 $(fmt "stormboot|storm$cap_vms-cap_p99") s, failed $(fmt "stormboot|storm$cap_vms-cap_failed") $(fmt "stormboot|storm$cap_vms-cap_why"); RRQs held (drop_tftp_rrq_paced) $(fmt "stormboot|paced")"
	fi
	echo
	echo "TFTP (each VM: DHCP, a 64 KiB loader, then an image of $((tftp_total_kib / 1024)) MiB / N; from power-on to the last VM)"
	for n in $tftp_clients; do
		for s in $boot_servers; do
			printf '  N=%-5s %-12s %9s MB/s %9s DATA/s  failed %s  (%s)\n' "$n" "$s" "$(fmt "$s|tftp${n}_mbs")" "$(fmt "$s|tftp${n}_pps")" "$(fmt "$s|tftp${n}_failed")" "$(fmt "$s|tftp${n}_gen")"
		done
	done
	echo "  veth AF_XDP ceiling, dpdk-testpmd txonly -> rxonly, 1514-byte frames: $(fmt "txonly|pps") frames/s received (sent $(fmt "txonly|sent")/s)"
	echo "  the generator's ceiling, testpmd macswap, 1514-byte frames with its per-DATA work: $(fmt "ceiling|pps") frames/s; $(fmt "ceiling|limit")"
	[ -n "$engine_out" ] && { echo; echo "Engine limit over memif (perf/storm/storm-engine.sh)"; echo "$engine_out" | sed 's/^/  /'; }
	[ -n "$mtftp_out" ] && { echo; echo "One image to a fleet, unicast vs multicast TFTP (perf/storm-mtftp.sh $mt_args)"; echo "$mtftp_out" | sed 's/^/  /'; }
	echo
	echo "Targets"
	t() { printf '  %-58s %10s   %s\n' "$1" "$2" "$3"; }
	v=$(ratio "$(fmt stormboot\|dora)" "$(fmt kea\|dora)"); t "DHCP DORA/s per core, stormboot / Kea >= 10x" "$v" "$(verdict "$v" '>=' 10)"
	v=$(ratio "$(fmt stormboot\|dora)" "$(fmt dnsmasq\|dora)"); t "DHCP DORA/s per core, stormboot / dnsmasq >= 20x" "$v" "$(verdict "$v" '>=' 20)"
	v=$(ratio "$(fmt sb-strict\|dora)" "$(fmt kea-durable\|dora)"); t "durable (strict) / Kea with its lease file >= 5x" "$v" "$(verdict "$v" '>=' 5)"
	v=$(ratio "$(fmt sb-available\|dora)" "$(fmt kea-durable\|dora)"); t "durable (available) / Kea with its lease file >= 5x" "$v" "$(verdict "$v" '>=' 5)"
	for n in $tftp_clients; do
		v=$(ratio "$(fmt stormboot\|tftp${n}_pps)" "$(fmt txonly\|pps)")
		t "TFTP DATA/s at $n VMs / veth AF_XDP ceiling (txonly) >= 0.8" "$v" "$(verdict "$v" '>=' 0.8)"
		v=$(ratio "$(fmt stormboot\|tftp${n}_pps)" "$(fmt ceiling\|pps)")
		t "  (the same / the generator's macswap ceiling)" "$v" "-"
	done
	for ref in dnsmasq kea; do
		v=$(ratio "$(fmt $ref\|storm1000)" "$(fmt stormboot\|storm1000)")
		w=$(verdict "$v" '>=' 10)
		[ "$(fmt stormboot\|storm1000_failed)" != 0 ] && w="missed (stormboot failed VMs)"
		f=$(fmt "$ref|storm1000_failed")
		[ "$f" != 0 ] && [ "$f" != - ] && w="$w; $ref failed $f VMs (its time is that of the VMs it booted)"
		t "1,000 VMs: $ref's time to the last VM / stormboot's >= 10x" "$v" "$w"
	done
	if [ $quick = 0 ]; then
		f=$(fmt stormboot\|storm10000_failed); t "10,000 VMs, 0 failed" "$f" "$([ "$f" = 0 ] && echo met || echo missed)"
	fi
	f=$(fmt "stormboot|storm$cap_vms-cap_failed"); t "$cap_vms VMs with a $cap_sessions-session cap, 0 failed" "$f" "$([ "$f" = 0 ] && echo met || echo missed)"
	echo "  (a ratio with no figure on either side is '-')"
} | tee "$out_txt"

# The raw reports, one JSON object per run, for whoever wants to look again.
bench_json_dump "$work/json" "$out_json"

# Per-VM completion CDF of the 1,000-VM storm, one curve per server.
if [ $plot = 1 ] && command -v gnuplot >/dev/null; then
	plots=()
	for s in $boot_servers; do
		csv=$work/csv/$s-storm-1000.csv
		[ -s "$csv" ] || continue
		awk -F, 'NR > 1 && $4 == "done" { print ($12 - $9) / 1e6 }' "$csv" | sort -g |
			awk '{ v[NR] = $1 } END { for (i = 1; i <= NR; i++) print v[i], i / 1000 }' >"$work/$s.cdf"
		[ -s "$work/$s.cdf" ] && plots+=("'$work/$s.cdf' using 1:2 with steps lw 2 title '$s'")
	done
	if [ ${#plots[@]} -gt 0 ]; then
		gnuplot <<-EOF 2>"$work/gnuplot.log" || log "gnuplot: $(cat "$work/gnuplot.log")"
		set terminal pngcairo size 900,540 font ',11'
		set output '$out_png'
		set title "1,000 VMs powered on together: per-VM completion (DHCP + loader + image), $(date -u +%Y-%m-%d)"
		set xlabel 'seconds from power-on to the last byte of the image (log scale)'
		set ylabel 'share of the 1,000 VMs done'
		set logscale x
		set grid
		set key bottom right
		set yrange [0:1.02]
		plot $(IFS=,; echo "${plots[*]}")
		EOF
		if [ -s "$out_png" ]; then
			log "plot: $out_png"
			[ $quick = 0 ] && cp "$out_png" "$top/docs/storm-cdf.png" && log "plot: docs/storm-cdf.png"
		fi
	fi
fi
log "done in $t_run s; $out_txt"
exit 0
}
