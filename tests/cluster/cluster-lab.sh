#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cluster-lab.sh - the scale-out lab by hand (clu-lib.sh): "up [SERVERS [MEMBERS]]" starts the
# etcd members (default 3), SERVERS stormboot servers on the bridge (default 3) and one more
# behind ISC dhcrelay (CLU_RELAY=0: none), then waits (Ctrl-C, or 1 h, takes it all down).
# The work directory (configs, sockets: STORMBOOT_SOCKET=WORK/s1/control.sock stormbootctl
# status) is printed.
# Usage (root): BUILD_DIR=build tests/cluster/cluster-lab.sh up [3 [3]] | down
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
case ${1:-} in
up)
	export CLU_RELAY=${CLU_RELAY:-1}
	. "$HERE/clu-lib.sh"
	clu_init
	n=${2:-3} m=${3:-3}
	clu_up "$n" "$m"
	clu_etcd_start "$m"
	last=$((n + (CLU_R > 0)))
	for ((i = 1; i <= last; i++)); do clu_config "$i"; done
	for ((i = 1; i <= last; i++)); do clu_server_start "$i"; done
	for ((i = 1; i <= last; i++)); do
		sb_log "server s$i $(clu_ip "$i"): $(clu_cl "$i" "['buckets_owned']") buckets, socket $CLU_WORK/s$i/control.sock"
	done
	sb_log "lab ready: work $CLU_WORK; load: ip netns exec ${P}cl perfdhcp -4 -l ${P}c0 -r 100 -R 3000 -p 10 all"
	sb_log "a real client: ip netns exec ${P}uc busybox udhcpc -i ${P}u0 -n -q"
	sb_log "Ctrl-C (or at most 1 h) takes it down"
	sleep 3600
	;;
down)
	. "$HERE/clu-lib.sh"
	sb_need_root
	clu_down
	;;
*) sed -n 3,8p "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
