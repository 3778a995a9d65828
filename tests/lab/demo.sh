#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# demo.sh - README's first command: stormboot end to end on a fresh Debian 12 machine.
#
#   sudo tests/lab/demo.sh [--no-setup] [--no-vm] [--keep]
#
# 1. installs the packages (tests/setup.sh), prepares hugepages and bpffs, builds;
# 2. creates the lab (tests/lab/lab.sh: namespaces sbsrv/sbcli joined by a veth,
#    198.18.0.0/15 only) and starts stormboot-dataplane in the server namespace on sb0;
# 3. a real DHCP client (busybox udhcpc) gets a lease with next-server and boot file;
# 4. real TFTP clients (curl, tftp-hpa) download an image through stormboot, byte-checked;
# 5. stormboot's counters and latency percentiles (DPDK telemetry);
# 6. a QEMU VM (TCG) network-boots through stormboot (tests/vm/boot-vm.sh bios): its serial
#    console live and the boot timing (skip with --no-vm);
# then everything is torn down (--keep leaves the first lab and its dataplane running, and
# implies --no-vm).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
export SB_PREFIX=${SB_PREFIX:-sb}
. "$HERE/lib.sh"

setup=1 vm=1 keep=0
for a in "$@"; do
	case $a in
	--no-setup) setup=0 ;;
	--no-vm) vm=0 ;;
	--keep) keep=1 vm=0 ;;
	*) sed -n '4,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
sb_need_root

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

BUILD=${BUILD_DIR:-$TOP/build}
DEMO=$SB_RUN/demo
IFACE=${SB_PREFIX}0 CIF=${SB_PREFIX}c0 NS_SRV=${SB_PREFIX}srv NS_CLI=${SB_PREFIX}cli
SRV=198.18.0.1

cleanup() {
	local rc=$?
	if [ $keep = 0 ]; then
		sb_stop dataplane 10 || true
		"$HERE/lab.sh" down >/dev/null 2>&1 || true
	fi
	[ $rc = 0 ] || echo "demo.sh: failed (exit $rc); logs in $SB_RUN" >&2
	exit $rc
}

if [ $setup = 1 ]; then
	step "Installing packages and preparing the host (tests/setup.sh)"
	"$TOP/tests/setup.sh"
fi

step "Building"
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$TOP" >/dev/null
ninja -C "$BUILD" >/dev/null
DP=$BUILD/dataplane/engine/stormboot-dataplane
[ -x "$DP" ] || sb_fail "$DP was not built (is libdpdk-dev installed? see tests/setup.sh)"

step "Creating the lab (namespaces $NS_SRV and $NS_CLI, veth $IFACE <-> $CIF)"
"$HERE/lab.sh" down >/dev/null 2>&1 || true
"$HERE/lab.sh" up --tx-csum-off
trap cleanup EXIT

mkdir -p "$DEMO"
head -c $((8 << 20)) /dev/urandom >"$DEMO/demo.img"
cat >"$DEMO/stormboot.json" <<EOF
{
  "interface": "$IFACE",
  "server_ip": "$SRV",
  "queues": 1,
  "udp_checksum": "accept",
  "ipv6_ra": true,
  "dhcp": {
    "mode": "full",
    "boot": { "bios": "undionly.kpxe", "uefi_x64": "ipxe.efi", "ipxe_script": "boot.ipxe" },
    "subnets": [ {
      "network": "198.18.0.0/24",
      "pool": { "start": "198.18.0.100", "end": "198.18.0.200" },
      "router": "$SRV", "dns": [ "$SRV" ], "lease_time": 3600, "next_server": "$SRV"
    } ]
  },
  "tftp": { "transfer_ports": { "first": 61000, "last": 61999 }, "max_sessions": 1024,
            "blksize_max": 1468, "windowsize_max": 64 },
  "images": [
    { "name": "undionly.kpxe", "path": "/usr/lib/ipxe/undionly.kpxe" },
    { "name": "ipxe.efi", "path": "/usr/lib/ipxe/ipxe.efi" },
    { "name": "demo.img", "path": "$DEMO/demo.img" }
  ]
}
EOF
echo "config: $DEMO/stormboot.json"

step "Starting stormboot-dataplane on $IFACE in $NS_SRV"
sb_start dataplane "$NS_SRV" sh -c \
	"mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec '$DP' -- -c '$DEMO/stormboot.json' -l 1"
sb_wait_for 60 grep -q "serving" "$SB_RUN/dataplane.log" ||
	{ cat "$SB_RUN/dataplane.log" >&2; sb_fail "the dataplane did not start"; }
sed 's/^/  | /' "$SB_RUN/dataplane.log"

step "DHCP: busybox udhcpc in $NS_CLI asks for a lease"
cat >"$DEMO/udhcpc.sh" <<'EOF'
#!/bin/sh
# udhcpc event script: configure the address and show what the server gave.
case $1 in
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	echo "lease: ip=$ip mask=$mask router=$router dns=$dns server=$serverid"
	echo "       next-server (siaddr)=$siaddr boot file=$boot_file lease=${lease}s"
	echo "$ip $siaddr $boot_file" >"$DEMO_LEASE"
	;;
esac
EOF
chmod +x "$DEMO/udhcpc.sh"
DEMO_LEASE=$DEMO/lease ip netns exec "$NS_CLI" env DEMO_LEASE="$DEMO/lease" \
	busybox udhcpc -i "$CIF" -f -q -n -t 5 -T 2 -s "$DEMO/udhcpc.sh"
read -r cip siaddr bootfile <"$DEMO/lease"
[ "$siaddr" = "$SRV" ] && [ "$bootfile" = undionly.kpxe ] ||
	sb_fail "lease without the expected boot information (siaddr '$siaddr', file '$bootfile')"

step "TFTP: curl (blksize 1468) and tftp-hpa (blksize 512) download demo.img (8 MiB)"
t0=$(date +%s.%N)
ip netns exec "$NS_CLI" curl -sS --tftp-blksize 1468 -o "$DEMO/curl.img" "tftp://$SRV/demo.img"
t1=$(date +%s.%N)
cmp "$DEMO/demo.img" "$DEMO/curl.img"
echo "curl:     byte-identical, $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s, %.1f MB/s", b - a, 8.388608 / (b - a) }')"
t0=$(date +%s.%N)
ip netns exec "$NS_CLI" tftp -m binary "$SRV" -c get demo.img "$DEMO/tftp.img"
t1=$(date +%s.%N)
cmp "$DEMO/demo.img" "$DEMO/tftp.img"
echo "tftp-hpa: byte-identical, $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s, %.1f MB/s", b - a, 8.388608 / (b - a) }')"
echo "a name that is not in the catalog (tftp-hpa):"
ip netns exec "$NS_CLI" tftp "$SRV" -c get no-such-file "$DEMO/none" 2>&1 | sed 's/^/  /'
rm -f "$DEMO/none"

step "stormboot's counters and latency (DPDK telemetry: dpdk-telemetry.py -f sb-$IFACE)"
for c in /stormboot/stats /stormboot/latency; do
	echo "$c"
	echo "$c" | dpdk-telemetry.py -f "sb-$IFACE" 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys
d = json.loads(sys.stdin.read() or "{}")
def show(o, ind="  "):
    for k, v in (o.items() if isinstance(o, dict) else []):
        if isinstance(v, dict): print(ind + k + ":"); show(v, ind + "  ")
        elif v not in (0, [], {}): print(f"{ind}{k}: {v}")
show(d)' || echo "  (telemetry not readable)"
done

if [ $vm = 1 ]; then
	step "A QEMU VM (SeaBIOS + iPXE ROM, TCG) network-boots through stormboot: DHCP, TFTP pxelinux.0, Linux"
	echo "(its own lab, namespaces vm*: tests/vm/boot-vm.sh; the kernel and initramfs are built"
	echo " once by tests/vm/build-assets.sh from Debian packages and cached in /var/cache/stormboot-vm)"
	sb_stop dataplane 10
	"$HERE/lab.sh" down >/dev/null 2>&1 || true
	BUILD_DIR=$BUILD "$TOP/tests/vm/boot-vm.sh" bios --console
fi

if [ $keep = 1 ]; then
	echo
	echo "The lab is still up: ip netns exec $NS_CLI ...; stop with: $HERE/lab.sh down"
fi
if [ $vm = 1 ]; then
	step "Done: a lease with its boot file, images byte-identical over TFTP, and a VM booted Linux through stormboot"
else
	step "Done: stormboot leased an address with its boot file and served the image byte-identical"
fi
