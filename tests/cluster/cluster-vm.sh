#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# cluster-vm.sh - a VM boots while one server of the cluster is down (issue 19,
# docs/SCALE-OUT.md). The lab (clu-lib.sh): a 3-member etcd cluster and 3 stormboot servers on
# one bridge, each serving the BIOS boot files over TFTP itself. The VM's MAC is one whose
# RFC 3074 bucket server 2 answers; server 2 is killed with kill -9 (control and dataplane);
# once the survivors own every bucket, a QEMU VM (TCG, SeaBIOS + iPXE ROM on virtio-net) on
# the bridge network-boots: DHCP from a survivor, pxelinux.0, its config, the kernel and the
# initrd over TFTP from that survivor, then Linux prints the marker with the VM's MAC.
# Checked: the marker; the DHCPACK seen on the bridge came from a survivor; the VM's lease is
# bound to its MAC in etcd, written by that survivor. The boot time is printed.
# Usage (root): BUILD_DIR=build tests/cluster/cluster-vm.sh   (SB_PREFIX default "ec";
#   CLU_VM_TIMEOUT seconds from power-on to the marker, default 150)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export CLU_RELAY=0
. "$HERE/clu-lib.sh"
TIMEOUT=${CLU_VM_TIMEOUT:-150}
sb_need_cmd qemu-system-x86_64
ASSETS=$("$SOURCE_DIR/tests/vm/build-assets.sh")
clu_init
clu_up 3 3
clu_etcd_start 3
images=""
for n in pxelinux.0 ldlinux.c32 pxelinux.cfg/default vmlinuz initrd.gz; do
	images="$images${images:+, }{ \"name\": \"$n\", \"path\": \"$ASSETS/$n\" }"
done
export CLU_BOOT='{ "bios": "pxelinux.0" }'
export CLU_TFTP="\"tftp\": { \"transfer_ports\": { \"first\": 61000, \"last\": 61999 } }, \"images\": [ $images ]"
for i in 1 2 3; do clu_config "$i"; done
for i in 1 2 3; do clu_server_start "$i"; done
sb_wait_for 10 sh -c "[ \"\$(STORMBOOT_SOCKET='$CLU_WORK/s1/control.sock' '$CLU_CTL' --json status | '$CLU_PY' -c 'import json,sys; print(len(json.load(sys.stdin)[\"arguments\"][\"cluster\"][\"servers\"]))')\" = 3 ]" ||
	sb_fail "the servers do not see each other"

VM_MAC=""
for k in $(seq 1 200); do
	m=$(printf '52:54:00:5c:0f:%02x' "$k")
	if [ "$(clu_owner "$m")" = 2 ]; then VM_MAC=$m; break; fi
done
[ -n "$VM_MAC" ] || sb_fail "no MAC of server 2's buckets found"
sb_log "VM MAC $VM_MAC: bucket $(clu_bucket "$VM_MAC"), answered by server 2"

sb_log "kill -9 server 2"
T_KILL=$(date +%s%N)
clu_server_kill 2
owned() { echo $(($(clu_cl 1 "['buckets_owned']" || echo 0) + $(clu_cl 3 "['buckets_owned']" || echo 0))); }
# each survivor reads the live set on its own (every 500 ms): wait until both took their share
for _ in $(seq 150); do [ "$(owned)" = 256 ] && break; sleep 0.1; done
took=$((($(date +%s%N) - T_KILL) / 1000000))
sb_check "the survivors own every bucket $took ms after the kill ($(owned))" [ "$(owned)" = 256 ]
new=$(clu_owner "$VM_MAC" || echo none)
sb_check "the VM's bucket moved to a survivor (server $new)" sh -c "[ '$new' = 1 ] || [ '$new' = 3 ]"

sb_in "${P}sw" ip tuntap add "${P}tap" mode tap
sb_in "${P}sw" ip link set "${P}tap" master "${P}br" up
sb_start tcpdump "${P}sw" tcpdump -i "${P}br" -n -s 600 -U -w "$CLU_WORK/vm.pcap" udp port 67 or udp port 68
sleep 1
: >"$CLU_WORK/serial.log"
sb_log "power on the VM (BIOS, TCG, timeout ${TIMEOUT}s)"
T_ON=$(date +%s%N)
sb_start qemu "${P}sw" qemu-system-x86_64 -accel tcg -m 512 -smp 1 -display none -vga none \
	-no-reboot -serial "file:$CLU_WORK/serial.log" -monitor none -nodefaults \
	-netdev "tap,id=n0,ifname=${P}tap,script=no,downscript=no" -machine "pc,graphics=off" -boot n \
	-device "virtio-net-pci,netdev=n0,mac=$VM_MAC,bootindex=1"
marker="STORMBOOT-MARKER mac=$VM_MAC "
booted=0
sb_wait_for "$TIMEOUT" grep -aqF "$marker" "$CLU_WORK/serial.log" && booted=1
secs=$((($(date +%s%N) - T_ON) / 1000000))
sb_stop qemu 3
sb_stop tcpdump 5
sb_check "the VM booted Linux while server 2 was down (marker after $((secs / 1000)).$((secs % 1000 / 100)) s)" [ $booted = 1 ]
[ $booted = 1 ] || tr -d '\r' <"$CLU_WORK/serial.log" | tail -15 >&2

"$CLU_PY" - "$CLU_WORK/vm.pcap" "$VM_MAC" <<-'PY' >"$CLU_WORK/vm-acks.txt"
	import sys
	from scapy.all import BOOTP, DHCP, PcapReader
	for p in PcapReader(sys.argv[1]):
	    if DHCP not in p:
	        continue
	    o = dict(x for x in p[DHCP].options if isinstance(x, tuple) and len(x) == 2)
	    m = ":".join("%02x" % b for b in bytes(p[BOOTP].chaddr[:6]))
	    if o.get("message-type") == 5 and m == sys.argv[2]:
	        print(p[BOOTP].yiaddr, o.get("server_id"))
	PY
cat "$CLU_WORK/vm-acks.txt" >&2
read -r vm_ip vm_srv <"$CLU_WORK/vm-acks.txt" || true
sb_check "the VM's DHCPACK came from the survivor that owns its bucket ($vm_srv)" \
	[ "${vm_srv:-}" = "$(clu_ip "$new")" ]
sb_check "no DHCPACK to the VM from the dead server 2" sh -c "! grep -q ' 198.18.0.2\$' '$CLU_WORK/vm-acks.txt'"
lease=$(clu_etcdctl get --print-value-only "/stormboot/leases/${vm_ip:-none}" || true)
[ -n "$lease" ] || lease='{}'
sb_check "the VM's lease ${vm_ip:-?} is in etcd, bound to its MAC by server $new: $lease" \
	"$CLU_PY" -c "import json,sys; l=json.loads(sys.argv[1]); sys.exit(not (l['mac'] == sys.argv[2] and l['server'] == 's' + sys.argv[3]))" \
	"$lease" "$VM_MAC" "$new"
sb_summary
