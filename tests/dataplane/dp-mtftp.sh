#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# dp-mtftp.sh - multicast TFTP (RFC 2090) against atftp's client (--option multicast):
#  1. 16 clients, each in its own namespace on one bridge (atftp binds the group's port, so
#     two cannot share a namespace), started together: every copy byte-identical, and
#     stormboot's transmitted bytes (all frames) under 2x the image size;
#  2. the same 16 without the option (unicast, as today): at least 16x the image size;
#  3. a client whose group membership is on an interface the stream does not reach (a veth:
#     "the group does not reach it") still completes: the stream falls back to unicast DATA
#     for that master (mtftp_unicast_fallbacks).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"

N=16
SIZE=$((4 * 1024 * 1024))
dp_init
sb_need_cmd atftp
dp_image mc.bin $SIZE
dp_config '{"tftp": {"multicast": {"enabled": true, "groups": "239.255.7.0/24", "port": 1758},
	"max_sessions_per_client": 64}}'
dp_lab_up --clients $N
# snooping off: the lab bridge has no IGMP querier; flooding is what an unsnooped switch does
sb_in "${SB_PREFIX}sw" ip link set "${SB_PREFIX}br" type bridge mcast_snooping 0
i=0
for ns in $SB_NS_CLIENTS; do
	i=$((i + 1))
	sb_in "$ns" ip addr add "198.18.0.$((20 + i))/24" dev "$SB_IF_CLI"
	# a group can only be joined with a route for it (setsockopt: No such device otherwise)
	sb_in "$ns" ip route add 224.0.0.0/4 dev "$SB_IF_CLI"
done
dp_start

# run_all OUTDIR [atftp options...]: every client at once (each waits for a start file, so
# a loaded host that forks slowly still starts them together); fails unless all succeed
run_all() {
	local out=$1 pids=() k=0 ns rc=0 go=$DP_WORK/go
	shift
	mkdir -p "$out"
	rm -f "$go"
	for ns in $SB_NS_CLIENTS; do
		k=$((k + 1))
		# shellcheck disable=SC2016
		ip netns exec "$ns" taskset -c "$DP_CLI_CPUS" sh -c \
			'while [ ! -e "$0" ]; do sleep 0.02; done; exec timeout 120 atftp "$@"' "$go" \
			"$@" --option "blksize 1468" -g -r mc.bin -l "$out/$k" "$DP_SRV" \
			>"$out/$k.log" 2>&1 &
		pids+=($!)
	done
	sleep 1
	touch "$go"
	for k in "${!pids[@]}"; do
		wait "${pids[$k]}" || { rc=1; sb_log "client $((k + 1)) failed: $(tail -n 3 "$out/$((k + 1)).log")"; }
	done
	return $rc
}

check_copies() {
	local k
	for ((k = 1; k <= N; k++)); do
		cmp -s "$DP_WORK/img/mc.bin" "$1/$k" || sb_fail "client $k: copy differs from the image ($1)"
	done
}

# ---- 1. multicast: one stream for 16 clients
dp_snap /stormboot/stats "$DP_WORK/s0"
run_all "$DP_WORK/mc" --option "multicast" || sb_fail "multicast clients failed"
check_copies "$DP_WORK/mc"
sb_wait_for 20 sh -c "[ \"\$('$DP_PY' '$HERE/dp-tel.py' '$DP_TEL_PREFIX' /stormboot/stats mtftp_streams_active)\" = 0 ]" ||
	sb_fail "the stream did not end after its last client"
eval "$(dp_deltas "$DP_WORK/s0" /stormboot/stats)"
sb_log "multicast: tx_bytes $d_tx_bytes for a $SIZE-byte image and $N clients ($(awk "BEGIN{printf \"%.2f\", $d_tx_bytes/$SIZE}")x);" \
	"streams $d_mtftp_streams_started, joined $d_mtftp_clients_joined, completed $d_mtftp_clients_completed," \
	"hand-overs $d_mtftp_handovers, blocks $d_mtftp_blocks_sent (late $d_mtftp_blocks_late, unicast $d_mtftp_blocks_unicast)"
[ "$d_mtftp_clients_joined" = $N ] || sb_fail "mtftp_clients_joined $d_mtftp_clients_joined, want $N"
[ "$d_mtftp_clients_completed" = $N ] || sb_fail "mtftp_clients_completed $d_mtftp_clients_completed, want $N"
[ "$d_mtftp_streams_started" -ge 1 ] || sb_fail "no multicast stream started"
[ "$d_mtftp_rrq_unicast" = 0 ] || sb_fail "$d_mtftp_rrq_unicast multicast RRQs served unicast"
[ "$d_tx_bytes" -lt $((2 * SIZE)) ] || sb_fail "tx_bytes $d_tx_bytes not under 2x the image ($SIZE)"
grep -o "mtftp_group_239_255_7_[0-9]*_tx_bytes" <(dp_tel /stormboot/stats) >/dev/null ||
	sb_fail "no per-group byte counter in /stormboot/stats"

# ---- 2. the same clients, unicast
dp_snap /stormboot/stats "$DP_WORK/s1"
run_all "$DP_WORK/uc" || sb_fail "unicast clients failed"
check_copies "$DP_WORK/uc"
eval "$(dp_deltas "$DP_WORK/s1" /stormboot/stats)"
sb_log "unicast: tx_bytes $d_tx_bytes ($(awk "BEGIN{printf \"%.2f\", $d_tx_bytes/$SIZE}")x)"
[ "$d_tx_bytes" -ge $((N * SIZE)) ] || sb_fail "unicast tx_bytes $d_tx_bytes below ${N}x the image"
[ "$d_mtftp_clients_joined" = 0 ] || sb_fail "unicast clients joined a stream"

# ---- 3. a client the group does not reach: its membership on a veth pair of its own
# (this kernel has no dummy interfaces), so the stream's frames on its boot veth are not for it
ns=${SB_NS_CLIENTS%% *}
sb_in "$ns" ip link add "${SB_PREFIX}d0" type veth peer name "${SB_PREFIX}d1"
sb_in "$ns" ip link set "${SB_PREFIX}d0" up
sb_in "$ns" ip link set "${SB_PREFIX}d1" up
sb_in "$ns" ip route replace 224.0.0.0/4 dev "${SB_PREFIX}d0"
dp_snap /stormboot/stats "$DP_WORK/s2"
ip netns exec "$ns" timeout 120 atftp --option "multicast" --option "blksize 1468" \
	-g -r mc.bin -l "$DP_WORK/unreached" "$DP_SRV" >"$DP_WORK/unreached.log" 2>&1 ||
	sb_fail "client without the group failed: $(tail -n 3 "$DP_WORK/unreached.log")"
cmp -s "$DP_WORK/img/mc.bin" "$DP_WORK/unreached" || sb_fail "client without the group: copy differs"
eval "$(dp_deltas "$DP_WORK/s2" /stormboot/stats)"
sb_log "group unreachable: completed by unicast fallback ($d_mtftp_unicast_fallbacks fallback," \
	"$d_mtftp_blocks_unicast blocks unicast)"
[ "$d_mtftp_unicast_fallbacks" -ge 1 ] || sb_fail "no unicast fallback counted"
sb_log "PASS dp-mtftp"
