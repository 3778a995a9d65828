#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# prepare-host.sh - make this host ready for the dataplane and the lab.
# Idempotent: running it again changes nothing that is already right.
#
#   hugepages  at least SB_HUGEPAGES (default 512) free 2 MiB pages; the
#              count is only ever raised, never lowered
#   hugetlbfs  mounted on /dev/hugepages
#   bpffs      mounted on /sys/fs/bpf
#
# Usage (root): tests/lab/prepare-host.sh [--check]
#   --check  only report, change nothing; exit 1 if something is missing
set -euo pipefail

WANT=${SB_HUGEPAGES:-512}
CHECK=0
[ "${1:-}" = "--check" ] && CHECK=1

say() { echo "prepare-host: $*"; }
bad=0

is_mounted() { # dir fstype
	awk -v d="$1" -v t="$2" '$2 == d && $3 == t { f = 1 } END { exit !f }' /proc/mounts
}

# --- hugepages (2 MiB)
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
if [ -d $hp ]; then
	total=$(cat $hp/nr_hugepages)
	free=$(cat $hp/free_hugepages)
	if [ "$free" -lt "$WANT" ]; then
		if [ $CHECK = 1 ]; then
			say "hugepages: $free free of $total, want $WANT free"
			bad=1
		else
			target=$((total + WANT - free))
			echo "$target" >/proc/sys/vm/nr_hugepages
			total=$(cat $hp/nr_hugepages)
			free=$(cat $hp/free_hugepages)
			if [ "$free" -lt "$WANT" ]; then
				# memory too fragmented: compact once and retry
				echo 1 >/proc/sys/vm/compact_memory 2>/dev/null || true
				echo "$target" >/proc/sys/vm/nr_hugepages
				total=$(cat $hp/nr_hugepages)
				free=$(cat $hp/free_hugepages)
			fi
			[ "$free" -ge "$WANT" ] || { say "hugepages: only $free free (wanted $WANT)"; bad=1; }
		fi
	fi
	say "hugepages: $free free of $total (2 MiB)"
else
	say "hugepages: kernel has no 2 MiB hugepages"
	bad=1
fi

# --- hugetlbfs on /dev/hugepages
if is_mounted /dev/hugepages hugetlbfs; then
	say "hugetlbfs: mounted on /dev/hugepages"
elif [ $CHECK = 1 ]; then
	say "hugetlbfs: not mounted on /dev/hugepages"
	bad=1
else
	mkdir -p /dev/hugepages
	mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages
	say "hugetlbfs: mounted on /dev/hugepages"
fi

# --- bpffs on /sys/fs/bpf
if is_mounted /sys/fs/bpf bpf; then
	say "bpffs: mounted on /sys/fs/bpf"
elif [ $CHECK = 1 ]; then
	say "bpffs: not mounted on /sys/fs/bpf"
	bad=1
else
	mkdir -p /sys/fs/bpf
	mount -t bpf bpf /sys/fs/bpf
	say "bpffs: mounted on /sys/fs/bpf"
fi

exit $bad
