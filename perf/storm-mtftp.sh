#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# storm-mtftp.sh - one image to a fleet: unicast against multicast TFTP (RFC 2090), stormboot
# and atftpd, in one run, one lab (issue 16, item 4).
#
#   sudo perf/storm-mtftp.sh [--vms N] [--image-mib M] [--rows LIST] [--build DIR] [--keep]
#
# The lab: tests/lab/lab.sh (prefix SB_PREFIX, default "mt"): namespaces ${P}srv / ${P}cli
# joined by one veth pair, the server 198.18.0.1/16 on CPU 1, the generator (perf/storm:
# stormboot-storm over net_af_xdp on the client veth) on CPU 0. Every VM is iPXE-like
# (blksize 1432, lock-step, iPXE's retry timer): DHCP, a 16 KiB loader by unicast, then
# image.bin (M MiB, default 16) by unicast (--multicast 0) or by multicast (--multicast 1:
# the RRQ carries "multicast" as iPXE's tftm:// does, and a VM whose multicast transfer
# times out fetches the image again unicast, as "tftm://... || tftp://..." does). Every
# byte of every image is checked by the generator (each block against the file, the
# SHA-256 over the whole image).
# Rows (--rows, comma separated; default all):
#   sb-unicast       stormboot-dataplane, multicast off in the VMs
#   sb-multicast     stormboot-dataplane, tftp.multicast on (239.255.10.0/24:1758)
#   atftpd-multicast atftpd (Debian's, --mcast-addr 239.255.11.0-255 --mcast-port 1758
#                    --mcast-ttl 1) with dnsmasq for DHCP only
#   atftpd-unicast   the same servers, multicast off in the VMs
# For each: time from power-on to the last VM done, failed VMs, bytes on the wire (the
# server veth's tx bytes from `ip -s link`, every frame: DHCP, ARP, loader and image),
# that as a multiple of N x image, and the bytes the VMs took from the group vs unicast;
# for stormboot also its own counters (tx_bytes, mtftp_tx_bytes, streams, hand-overs).
# Output: a table on stdout and in perf/results/<date>-storm-mtftp.txt, the raw reports in
# <...>-storm-mtftp.json. Everything started here is stopped by PID; the lab is deleted.
set -uo pipefail
{
export SB_PREFIX=${SB_PREFIX:-mt}
top=$(cd "$(dirname "$0")/.." && pwd)
export SOURCE_DIR=$top
VMS=1000 IMAGE_MIB=16 rows_opt="" keep=0
BUILD_DIR=${BUILD_DIR:-$top/build}
while [ $# -gt 0 ]; do
	case $1 in
	--vms) VMS=$2; shift ;;
	--image-mib) IMAGE_MIB=$2; shift ;;
	--rows) rows_opt=$2; shift ;;
	--build) BUILD_DIR=$2; shift ;;
	--keep) keep=1 ;;
	-h | --help) sed -n '4,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "storm-mtftp: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "storm-mtftp: needs root (namespaces, AF_XDP)" >&2; exit 2; }
all_rows="sb-unicast sb-multicast atftpd-multicast atftpd-unicast"
rows="sb-unicast sb-multicast atftpd-multicast"
[ -n "$rows_opt" ] && rows=$(echo "$rows_opt" | tr ',' ' ')
for r in $rows; do
	case " $all_rows " in *" $r "*) ;; *) echo "storm-mtftp: unknown row $r ($all_rows)" >&2; exit 2 ;; esac
done
# atftpd: unpacked by tests/setup.sh (its package conflicts with tftpd-hpa)
ATFTPD=${ATFTPD:-${ATFTPD_ROOT:-/var/lib/stormboot/atftpd}/usr/sbin/atftpd}
if ! command -v dnsmasq >/dev/null 2>&1 || [ ! -x "$ATFTPD" ]; then
	"$top/tests/setup.sh" || exit 1
fi
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
STORM=$BUILD_DIR/perf/storm/stormboot-storm
DP_BIN=$BUILD_DIR/dataplane/engine/stormboot-dataplane
DP_XDP=$BUILD_DIR/bpf/stormboot_xdp.o
for b in "$STORM" "$DP_BIN"; do [ -x "$b" ] || { echo "storm-mtftp: no $b (build first)" >&2; exit 1; }; done

. "$top/tests/lab/lib.sh"
LAB=$top/tests/lab/lab.sh
SRV_CPU=1 GEN_CPU=0
SRV_IP=198.18.0.1
POOL_LO=198.18.16.0 POOL_HI=198.18.63.255
IMAGE=$((IMAGE_MIB * 1048576))
LOADER=16384

stamp=$(date -u +%Y-%m-%d-%H%M)
res_dir=$top/perf/results
mkdir -p "$res_dir"
out_txt=$res_dir/$stamp-storm-mtftp.txt
out_json=$res_dir/$stamp-storm-mtftp.json
work=$(mktemp -d "/tmp/${SB_PREFIX}-mtftp.XXXXXX")
chmod 755 "$work"
mkdir -p "$work/img" "$work/json"
. "$top/perf/bench-lib.sh"
log() { bench_log "$@"; }
bench_traps storm-mtftp
bench_clock_start

head -c $LOADER /dev/urandom >"$work/img/loader-bios.bin"
head -c $IMAGE /dev/urandom >"$work/img/image.bin"
chmod 644 "$work/img/"*

bench_lab_up
# atftpd sends to the groups through the kernel: a route for them on the boot veth
ip -n "$SB_NS_SRV" route add 224.0.0.0/4 dev "$SB_IF_SRV"
neigh_raise

tx_bytes() { ip -n "$SB_NS_SRV" -s -j link show dev "$SB_IF_SRV" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["bytes"])'; }
tel() { python3 "$top/tests/dataplane/dp-tel.py" "sb-$SB_IF_SRV" /stormboot/stats; }

server_start() { # row
	case $1 in
	sb-*)
		local mc=false
		[ $1 = sb-multicast ] && mc=true
		cat >"$work/sb.json" <<-EOF
		{ "interface": "$SB_IF_SRV", "server_ip": "$SRV_IP", "queues": 1, "udp_checksum": "accept",
		  "dhcp": { "mode": "full", "boot": { "bios": "loader-bios.bin", "uefi_x64": "loader-bios.bin" },
		            "subnets": [ { "network": "198.18.0.0/16",
		                           "pool": { "start": "$POOL_LO", "end": "$POOL_HI" },
		                           "router": "$SRV_IP", "lease_time": 3600 } ] },
		  "tftp": { "max_sessions": 4096, "max_sessions_per_client": 0, "blksize_max": 1468,
		            "multicast": { "enabled": $mc, "groups": "239.255.10.0/24", "port": 1758 } },
		  "images": [ { "name": "loader-bios.bin", "path": "$work/img/loader-bios.bin" },
		              { "name": "image.bin", "path": "$work/img/image.bin" } ] }
		EOF
		start_srv "$work/dataplane-$1.log" sh -c "mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec '$DP_BIN' -- -c '$work/sb.json' -x '$DP_XDP' -l $SRV_CPU"
		sb_wait_for 30 grep -q 'serving ' "$work/dataplane-$1.log" || { log "stormboot did not start: $(tail -5 "$work/dataplane-$1.log")"; return 1; }
		sleep 1
		;;
	atftpd-*)
		start_srv "$work/dnsmasq-$1.log" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
			--interface="$SB_IF_SRV" --bind-interfaces --log-facility="$work/dnsmasq-$1.log" \
			--dhcp-range=$POOL_LO,$POOL_HI,255.255.0.0,1h --dhcp-lease-max=200000 \
			--dhcp-authoritative --no-ping --quiet-dhcp --leasefile-ro \
			--dhcp-boot=loader-bios.bin,,$SRV_IP
		wait_udp 67 5 || { log "dnsmasq did not start: $(tail -3 "$work/dnsmasq-$1.log")"; return 1; }
		# --maxthread: one thread per unicast client; --retry-timeout 1 s (default 5)
		start_srv "$work/atftpd-$1.log" "$ATFTPD" --daemon --no-fork --port 69 --bind-address $SRV_IP \
			--user root --group root --maxthread 4096 --tftpd-timeout 3600 --retry-timeout 1 \
			--mcast-addr 239.255.11.0-255 --mcast-port 1758 --mcast-ttl 1 --verbose=3 \
			--logfile "$work/atftpd-$1.syslog" "$work/img"
		wait_udp 69 5 || { log "atftpd did not start: $(tail -3 "$work/atftpd-$1.log")"; return 1; }
		;;
	esac
}

declare -A R
run_row() { # row
	local row=$1 mc=0 rc=0 before after
	case $row in *-multicast) mc=1 ;; esac
	server_start "$row" || { R[$row|err]="server did not start"; kill_pids; return; }
	case $row in sb-*) tel >"$work/tel-$row.before" 2>/dev/null ;; esac
	before=$(tx_bytes)
	log "$row: $VMS VMs, image $IMAGE_MIB MiB, multicast $mc"
	ip netns exec "$SB_NS_CLI" setsid -w timeout 900 taskset -c $GEN_CPU \
		"$STORM" -l $GEN_CPU --no-pci --in-memory --file-prefix "${SB_PREFIX}-storm" \
		--no-telemetry --log-level=lib.eal:warning --vdev "net_af_xdp0,iface=$SB_IF_CLI" -- \
		--file "loader-bios.bin=$work/img/loader-bios.bin" --file "image.bin=$work/img/image.bin" \
		--image image.bin --server $SRV_IP --random-macs --rxd 8192 --ovmf-ratio 0 \
		--vms "$VMS" --multicast $mc --timeout 840 --linger 3 --progress 10 --json \
		>"$work/json/$row.json" 2>"$work/$row.log" || rc=$?
	sleep 2 # the last frames, the streams' end
	after=$(tx_bytes)
	R[$row|wire]=$((after - before))
	case $row in sb-*) tel >"$work/tel-$row.after" 2>/dev/null ;; esac
	kill_pids
	sleep 1
	python3 - "$work/json/$row.json" "$work/tel-$row.before" "$work/tel-$row.after" \
		"${R[$row|wire]}" "$VMS" "$IMAGE" "$row" >"$work/$row.vals" <<-'EOF'
	import json, sys
	rep, tb, ta, wire, n, img, row = sys.argv[1:8]
	wire, n, img = int(wire), int(n), int(img)
	try:
	    r = json.load(open(rep)); c = r["counters"]
	except Exception as e:
	    print("err=%s" % repr(str(e))); sys.exit()
	def d(k):
	    try:
	        a = json.load(open(ta)); b = json.load(open(tb))
	        return a.get(k, 0) - b.get(k, 0)
	    except Exception:
	        return None
	out = {
	    "last": "%.2f" % r["time_to_last_vm_s"] if r.get("done") else "-",
	    "p50": "%.2f" % r["completion_s"]["p50"],
	    "failed": r["failed"],
	    "why": ",".join("%s:%d" % (k, v) for k, v in r["fail_reasons"].items() if v) or "-",
	    "wire_x": "%.2f" % (wire / img),
	    "wire_per": "%.3f" % (wire / (n * img)),
	    "group": c["mc_group_bytes"], "gwire": c["mc_group_wire_bytes"],
	    "gwire_x": "%.2f" % (c["mc_group_wire_bytes"] / img), "ucast_mc": c["mc_unicast_bytes"],
	    "retry": c["mc_unicast_retry"], "joined": c["mc_oack_rx"], "plain": c["mc_plain_oack_rx"],
	    "masters": c["mc_done_master"], "listeners": c["mc_done_listener"],
	    "data_bytes": c["tftp_data_bytes"], "busy": "%.0f" % r["busy_pct"], "limit": r["limit"],
	}
	for k in ("tx_bytes", "mtftp_tx_bytes", "mtftp_bytes_sent", "mtftp_streams_started",
	          "mtftp_handovers", "mtftp_blocks_late", "mtftp_unicast_fallbacks", "mtftp_rrq_unicast",
	          "mtftp_clients_lost"):
	    v = d(k)
	    out[k] = "-" if v is None else v
	for k, v in out.items():
	    print("%s=%s" % (k, json.dumps(str(v))))
	EOF
	local k v
	while IFS='=' read -r k v; do R[$row|$k]=$(echo "$v" | python3 -c 'import json,sys; print(json.load(sys.stdin))'); done <"$work/$row.vals"
	log "  $row: last VM ${R[$row|last]:-?} s, failed ${R[$row|failed]:-?} (${R[$row|why]:-}), wire ${R[$row|wire]} bytes = ${R[$row|wire_x]:-?}x the image; group ${R[$row|group]:-?} B, unicast ${R[$row|ucast_mc]:-?} B; generator busy ${R[$row|busy]:-?} %"
}

for row in $rows; do run_row "$row"; done
bench_clock_stop
f() { echo "${R[$1]:--}"; }
{
	echo "multicast TFTP benchmark (perf/storm-mtftp.sh), $(date -u '+%Y-%m-%d %H:%M') UTC, $t_run s"
	bench_host_line "a shared host"
	echo "$VMS iPXE-like VMs powered on together: DHCP, $((LOADER / 1024)) KiB loader (unicast), image.bin $IMAGE_MIB MiB; every byte checked"
	echo "server on CPU $SRV_CPU, stormboot-storm (net_af_xdp, veth $SB_IF_CLI) on CPU $GEN_CPU; wire = tx bytes of the server veth $SB_IF_SRV (all frames)"
	echo
	printf '  %-17s %9s %7s %7s %14s %8s %13s %8s %14s %14s %7s\n' row "last VM s" "p50 s" failed "wire bytes" "x image" "group wire B" "x image" "from group B" "unicast B" retried
	for row in $rows; do
		printf '  %-17s %9s %7s %7s %14s %8s %13s %8s %14s %14s %7s\n' "$row" "$(f "$row|last")" "$(f "$row|p50")" \
			"$(f "$row|failed")" "$(f "$row|wire")" "$(f "$row|wire_x")" "$(f "$row|gwire")" "$(f "$row|gwire_x")" \
			"$(f "$row|group")" "$(($(f "$row|data_bytes") - $(f "$row|group") - LOADER * VMS))" "$(f "$row|retry")"
	done
	echo "  wire: every frame the server sent (DHCP, ARP, $VMS x $((LOADER / 1024)) KiB loader unicast, image);"
	echo "  group wire: frames to a multicast group as the generator received them (Ethernet bytes);"
	echo "  from group / unicast: image payload bytes the VMs took each way (unicast includes the"
	echo "  server's fallback to a master); retried: VMs whose multicast transfer timed out and"
	echo "  fetched the image again unicast"
	for row in $rows; do
		[ "$(f "$row|why")" != - ] && echo "  $row failures: $(f "$row|why")"
		case $row in
		sb-*) echo "  $row stormboot: tx_bytes $(f "$row|tx_bytes"), mtftp_tx_bytes $(f "$row|mtftp_tx_bytes") ($(f "$row|mtftp_bytes_sent") DATA bytes), streams $(f "$row|mtftp_streams_started"), hand-overs $(f "$row|mtftp_handovers"), late blocks $(f "$row|mtftp_blocks_late"), unicast fallbacks $(f "$row|mtftp_unicast_fallbacks"), multicast RRQs served unicast $(f "$row|mtftp_rrq_unicast"), clients lost $(f "$row|mtftp_clients_lost")" ;;
		esac
		case $row in *-multicast) echo "  $row VMs: joined a group $(f "$row|joined"), OACK without multicast $(f "$row|plain"), done as master $(f "$row|masters") / as listener $(f "$row|listeners")" ;; esac
		echo "  $row generator: busy $(f "$row|busy") %, $(f "$row|limit")"
	done
} | tee "$out_txt"
bench_json_dump "$work/json" "$out_json"
log "done in $t_run s; $out_txt"
exit 0
}
