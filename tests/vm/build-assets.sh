#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# build-assets.sh - the files a test VM network-boots, built once and cached.
#
# Usage: tests/vm/build-assets.sh [--force]     prints the asset directory
#
# Into $SB_VM_CACHE (default /var/cache/stormboot-vm) it puts:
#   debs/                 the downloaded .debs (apt-get download, never installed)
#   assets/vmlinuz        Debian's linux-image-cloud-amd64 kernel (dpkg-deb -x)
#   assets/initrd.gz      busybox-static + the virtio-net modules of that kernel;
#                         /init mounts proc/sys/dev, loads the NIC driver, prints
#                           STORMBOOT-MARKER mac=<MAC of the first NIC> if=<name> ...
#                         on the console (console=ttyS0) and powers off
#   assets/pxelinux.0, assets/ldlinux.c32, assets/pxelinux.cfg/default   (BIOS path)
#   assets/ipxe.efi       Debian's iPXE for x64 UEFI
#   assets/boot.ipxe      iPXE script: kernel + initrd by names RELATIVE to the
#                         script's own URL, so the same script works when it is
#                         fetched over TFTP or over HTTP
#
# Idempotent: a stamp (package versions + this script's hash) skips the work
# when nothing changed. Needs: apt-get, dpkg-deb, cpio, gzip, and the Debian
# packages pxelinux, syslinux-common, ipxe installed (their files are copied).
set -euo pipefail

CACHE=${SB_VM_CACHE:-/var/cache/stormboot-vm}
OUT=$CACHE/assets
FORCE=0
[ "${1:-}" = --force ] && FORCE=1

log() { echo "[$(date +%T)] build-assets: $*" >&2; }
die() {
	echo "FAIL: build-assets: $*" >&2
	exit 1
}

for c in apt-get apt-cache dpkg-deb cpio gzip sha256sum flock; do
	command -v $c >/dev/null || die "missing command $c"
done
for f in /usr/lib/PXELINUX/pxelinux.0 /usr/lib/syslinux/modules/bios/ldlinux.c32 \
	/usr/lib/ipxe/ipxe.efi; do
	[ -r "$f" ] || die "$f missing (packages pxelinux, syslinux-common, ipxe)"
done

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one builder at a time; the next one finds the stamp

# The cloud kernel metapackage depends on exactly one versioned image package.
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ {print $2; exit}' || true)
if [ -z "$kpkg" ]; then
	# no apt lists (offline, or never updated): what was built before will do
	if [ $FORCE = 0 ] && [ -f "$OUT/.stamp" ]; then
		log "cannot resolve linux-image-cloud-amd64 (apt-get update?); using the cached assets"
		echo "$OUT"
		exit 0
	fi
	die "cannot resolve linux-image-cloud-amd64 (apt-get update?)"
fi
kver=$(apt-cache show --no-all-versions "$kpkg" | awk '/^Version:/ {print $2; exit}')
bbver=$(apt-cache show --no-all-versions busybox-static | awk '/^Version:/ {print $2; exit}')
stamp="$kpkg=$kver busybox-static=$bbver $(sha256sum "$0" | cut -c1-16)"
stamp="$stamp $(sha256sum /usr/lib/PXELINUX/pxelinux.0 /usr/lib/ipxe/ipxe.efi | cut -c1-16 | tr '\n' ' ')"

if [ $FORCE = 0 ] && [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$stamp" ]; then
	echo "$OUT"
	exit 0
fi

mkdir -p "$CACHE/debs"
chmod 755 "$CACHE" "$CACHE/debs"
fetch() { # package -> path of its .deb in debs/
	local pkg=$1 f
	f=$(find "$CACHE/debs" -maxdepth 1 -name "${pkg}_*.deb" | head -1)
	if [ -z "$f" ]; then
		log "apt-get download $pkg"
		# _apt cannot write to a root-owned dir: download in a world-writable temp
		local t
		t=$(mktemp -d)
		chmod 777 "$t"
		(cd "$t" && apt-get download -q "$pkg" >/dev/null 2>&1) || {
			rm -rf "$t"
			die "apt-get download $pkg failed"
		}
		mv "$t"/*.deb "$CACHE/debs/"
		rm -rf "$t"
		f=$(find "$CACHE/debs" -maxdepth 1 -name "${pkg}_*.deb" | head -1)
	fi
	echo "$f"
}
# drop stale versions so fetch() picks the current one
for d in "$CACHE"/debs/linux-image-*.deb "$CACHE"/debs/busybox-static_*.deb; do
	[ -f "$d" ] || continue
	case $(basename "$d") in
	"${kpkg}_${kver//:/%3a}_"* | "busybox-static_${bbver//:/%3a}_"*) ;;
	*) rm -f "$d" ;;
	esac
done
kdeb=$(fetch "$kpkg")
bbdeb=$(fetch busybox-static)

WORK=$(mktemp -d /tmp/sb-vm-assets.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
NEW=$CACHE/assets.new
rm -rf "$NEW"
mkdir -p "$NEW/pxelinux.cfg"

log "extracting kernel from $(basename "$kdeb")"
dpkg-deb -x "$kdeb" "$WORK/k"
cp "$WORK"/k/boot/vmlinuz-* "$NEW/vmlinuz"
moddir=$(echo "$WORK"/k/lib/modules/*)
[ -d "$moddir/kernel" ] || die "no modules in $kdeb"

log "building initramfs from $(basename "$bbdeb")"
dpkg-deb -x "$bbdeb" "$WORK/bb"
R=$WORK/root
mkdir -p "$R"/{bin,dev,proc,sys,etc,lib/modules}
cp "$WORK/bb/bin/busybox" "$R/bin/busybox"
"$R/bin/busybox" --help >/dev/null 2>&1 || true # static: runs here too

# virtio_net and what it needs, in load order (modules.dep is made at install
# time, so read each module's own depends= from its .modinfo section)
declare -A seen=()
order=()
modpath() { find "$moddir/kernel" -name "$1.ko" -o -name "$1.ko.xz" | head -1; }
add_mod() {
	local m=$1 p d
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	p=$(modpath "$m")
	if [ -z "$p" ]; then
		# built in (modules.builtin) needs nothing
		grep -q "/$m.ko\$" "$moddir/modules.builtin" && return 0
		die "module $m not found in $kpkg"
	fi
	for d in $(grep -a -o 'depends=[A-Za-z0-9_,-]*' "$p" | head -1 | cut -d= -f2 | tr ',' ' '); do
		add_mod "$d"
	done
	case $p in
	*.xz) xz -dc "$p" >"$R/lib/modules/$m.ko" ;;
	*) cp "$p" "$R/lib/modules/$m.ko" ;;
	esac
	order+=("$m")
}
for m in virtio_pci virtio_net; do add_mod $m; done
printf '%s\n' "${order[@]}" >"$R/etc/modules"

cat >"$R/init" <<'EOF'
#!/bin/busybox sh
# stormboot test VM: prove that Linux booted from the network, then power off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
for m in $(cat /etc/modules); do insmod /lib/modules/$m.ko 2>/dev/null; done
nic=""
i=0
while [ $i -lt 100 ]; do
	for n in /sys/class/net/*; do
		case ${n##*/} in lo | '*') ;; *) nic=${n##*/}; break ;; esac
	done
	[ -n "$nic" ] && break
	sleep 0.1
	i=$((i + 1))
done
mac=none
[ -n "$nic" ] && mac=$(cat /sys/class/net/$nic/address)
bootif=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^BOOTIF=//p')
echo "STORMBOOT-MARKER mac=$mac if=${nic:-none} bootif=${bootif:-none} uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
EOF
chmod 755 "$R/init"
(cd "$R" && find . | sort | cpio -o -H newc --quiet -R 0:0 | gzip -9n) >"$NEW/initrd.gz"

cp /usr/lib/PXELINUX/pxelinux.0 /usr/lib/syslinux/modules/bios/ldlinux.c32 /usr/lib/ipxe/ipxe.efi "$NEW/"
# IPAPPEND 2: pxelinux appends BOOTIF=01-<mac of the boot NIC> to the command line
cat >"$NEW/pxelinux.cfg/default" <<'EOF'
SERIAL 0 115200
DEFAULT stormboot
PROMPT 0
TIMEOUT 0
LABEL stormboot
	KERNEL vmlinuz
	INITRD initrd.gz
	APPEND console=ttyS0,115200 panic=-1
	IPAPPEND 2
EOF
cat >"$NEW/boot.ipxe" <<'EOF'
#!ipxe
# stormboot test VM. Names are relative to this script's URL, so the same
# script works when it was fetched over TFTP or over HTTP. initrd= on the
# command line: the kernel's EFI stub loads the initrd by that name from
# iPXE's file system (this iPXE predates the LoadFile2 initrd protocol).
echo stormboot: ${net0/mac} ${net0/ip} next-server ${next-server} script ${filename}
kernel vmlinuz initrd=initrd.gz console=ttyS0,115200 panic=-1 BOOTIF=01-${net0/mac:hexhyp}
initrd initrd.gz
boot
EOF
echo "$stamp" >"$NEW/.stamp"
chmod -R a+rX "$NEW"
rm -rf "$OUT"
mv "$NEW" "$OUT"
log "assets in $OUT: $(cd "$OUT" && du -sh vmlinuz initrd.gz | tr '\t\n' ': ')"
echo "$OUT"
