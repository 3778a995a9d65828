#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# stormboot-prepare IFACE - what the dataplane needs from the host, before it starts
# (ExecStartPre of stormboot-dataplane@IFACE.service). Idempotent.
#   hugepages  at least STORMBOOT_HUGEPAGES (default 512) free 2 MiB pages: the count is
#              only ever raised, never lowered (another DPDK process may hold some)
#   hugetlbfs  mounted on /dev/hugepages
#   bpffs      mounted on /sys/fs/bpf (the XDP program's pinned maps)
#   IFACE      exists
# Exit 1 with the reason on stderr (the journal) when something cannot be made right.
set -eu
want=${STORMBOOT_HUGEPAGES:-512}
iface=${1:?usage: stormboot-prepare IFACE}

fail() {
	echo "stormboot-prepare: $*" >&2
	exit 1
}
mounted() { awk -v d="$1" -v t="$2" '$2 == d && $3 == t { f = 1 } END { exit !f }' /proc/mounts; }

[ -e "/sys/class/net/$iface" ] || fail "no interface $iface"

hp=/sys/kernel/mm/hugepages/hugepages-2048kB
[ -d $hp ] || fail "this kernel has no 2 MiB hugepages"
free=$(cat $hp/free_hugepages)
if [ "$free" -lt "$want" ]; then
	target=$(($(cat $hp/nr_hugepages) + want - free))
	echo "$target" >/proc/sys/vm/nr_hugepages
	free=$(cat $hp/free_hugepages)
	if [ "$free" -lt "$want" ]; then
		# memory too fragmented: compact once and retry
		echo 1 >/proc/sys/vm/compact_memory 2>/dev/null || true
		echo "$target" >/proc/sys/vm/nr_hugepages
		free=$(cat $hp/free_hugepages)
	fi
	[ "$free" -ge "$want" ] || fail "only $free free 2 MiB hugepages, $want wanted (STORMBOOT_HUGEPAGES)"
fi

if ! mounted /dev/hugepages hugetlbfs; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs nodev /dev/hugepages || fail "cannot mount hugetlbfs on /dev/hugepages"
fi
if ! mounted /sys/fs/bpf bpf; then
	mount -t bpf bpf /sys/fs/bpf || fail "cannot mount bpffs on /sys/fs/bpf"
fi
echo "stormboot-prepare: $iface: $free free 2 MiB hugepages, hugetlbfs and bpffs mounted"
