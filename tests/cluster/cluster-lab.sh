#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cluster-lab.sh - the scale-out lab by hand (clu-lib.sh): up [SERVERS [MEMBERS]] starts the
# etcd members and the servers and waits (Ctrl-C takes everything down); the work directory
# (configs, sockets: STORMBOOT_SOCKET=WORK/s1/control.sock stormbootctl status) is printed.
# Usage (root): BUILD_DIR=build tests/cluster/cluster-lab.sh up [2 [3]] | down
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
case ${1:-} in
up)
	. "$HERE/clu-lib.sh"
	clu_init
	clu_up "${2:-2}" "${3:-3}"
	clu_etcd_start "${3:-3}"
	for ((i = 1; i <= ${2:-2}; i++)); do clu_config "$i"; done
	for ((i = 1; i <= ${2:-2}; i++)); do clu_server_start "$i"; done
	sb_log "lab ready: work $CLU_WORK; clients: ip netns exec ${P}cl perfdhcp -4 -l ${P}c0 -r 100 -R 3000 -p 10 all"
	sb_log "Ctrl-C (or at most 1 h) takes it down"
	sleep 3600
	;;
down)
	. "$HERE/clu-lib.sh"
	sb_need_root
	clu_down
	;;
*) sed -n 3,6p "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
