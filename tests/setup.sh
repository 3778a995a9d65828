#!/usr/bin/env bash
# Install every Debian package that the build, the tests and the lab need, and
# prepare the host (hugepages, hugetlbfs, bpffs). Idempotent; run as root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

packages=(
	# build
	meson ninja-build pkg-config gcc clang llvm libc6-dev-i386 linux-libc-dev
	libclang-rt-14-dev # libFuzzer (tests/fuzz)
	libdpdk-dev dpdk libbpf-dev libxdp-dev xdp-tools libjansson-dev libssl-dev
	libmicrohttpd-dev gnutls-bin # HTTP(S) boot server; certtool for make-cert
	libpcap-dev libcmocka-dev dpdk-doc
	dpdk-dev # dpdk-telemetry.py (tests, demo), dpdk-pdump; only recommended by libdpdk-dev
	# lab and real clients
	iproute2 ethtool tcpdump procps psmisc busybox isc-dhcp-client kea-admin tftp-hpa atftp
	curl python3-scapy time ndisc6
	# reference servers (benchmarks, fixtures)
	dnsmasq-base tftpd-hpa kea-dhcp4-server
	# VMs
	qemu-system-x86 seabios ovmf ipxe ipxe-qemu pxelinux syslinux-common cpio
	# operations (issue 18): metrics listener, Prometheus and Chromium tests, capture, units
	libmicrohttpd-dev prometheus chromium tshark systemd
	# scale-out (docs/SCALE-OUT.md): etcd, and libcurl for control's etcd client
	etcd-server etcd-client libcurl4-openssl-dev
	isc-dhcp-relay # the cluster lab's relayed server (dhcrelay)
	# perf/storm-bench.sh (the CDF plot)
	gnuplot-nox
	# ops-nspawn: the units under a real systemd in a container
	systemd-container
	# perf/storm-mtftp.sh runs atftpd (unpacked below): its libraries
	libwrap0 libpcre2-8-0
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# atftpd, the reference RFC 2090 (multicast TFTP) server of perf/storm-mtftp.sh: Debian's
# tftpd-hpa conflicts with its package (installing one removes the other, and one apt-get
# for both fails), and the benchmarks need tftpd-hpa too. Its binary is unpacked into
# $ATFTPD_ROOT instead; the package's socket unit is not installed either.
ATFTPD_ROOT=${ATFTPD_ROOT:-/var/lib/stormboot/atftpd}
if [ ! -x "$ATFTPD_ROOT/usr/sbin/atftpd" ]; then
	tmp=$(mktemp -d)
	if ! (cd "$tmp" && apt-get download -qq atftpd 2>/dev/null); then
		apt-get update -qq
		(cd "$tmp" && apt-get download -qq atftpd)
	fi
	mkdir -p "$ATFTPD_ROOT"
	dpkg-deb -x "$tmp"/atftpd_*.deb "$ATFTPD_ROOT"
	rm -rf "$tmp"
fi
# isc-dhcp-relay is for the cluster lab (tests/cluster), which starts dhcrelay in its relay
# namespace: the package's own service stays off on a host where systemd runs.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
	systemctl disable --now isc-dhcp-relay.service >/dev/null 2>&1 || true
fi

"$here/lab/prepare-host.sh"
