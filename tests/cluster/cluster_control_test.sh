#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cluster_control_test.sh - two stormboot-control servers in cluster mode against a real etcd
# (Debian's etcd-server, one member on loopback), each with a fake dataplane. No root, no
# network beyond 127.0.0.1. Checked against what each fake dataplane was told (its "acked"
# lines are the ACKs that would leave) and what etcd holds:
#   - both register; the 256 RFC 3074 buckets are split between them, none twice;
#   - both bind the same 100 addresses to different MACs at once: every address acked to
#     exactly one MAC, and that MAC is the one in etcd (lost = 0, doubled = 0);
#   - reservations and templates changed through one server are in effect on the other when
#     the API answers (asked once, at once), the answer says "in effect on all 2 live
#     servers"; with the other's control stopped (SIGSTOP) the answer comes at
#     cluster.apply_wait_ms and names it, counted; a delete leaves a tombstone;
#   - image metadata (name, SHA-256, source) added through one server is registered on the
#     other with that SHA-256 pinned; one put in etcd with a SHA-256 its file does not have is
#     refused by both (counted); deleted through one server, gone on the other; one added
#     through a whose file differs on b: a's answer says "in effect on 1 of 2", naming b's
#     refusal (counted in apply_refused, listed in b's status);
#   - a server killed with kill -9: the other owns every bucket within lease_ttl_s + 2 s;
#   - etcd frozen (SIGSTOP, as cut off): no lease is acked, status says not ready; thawed:
#     leases are acked again;
#   - a third server starting with reservations in its config file pushes the one etcd lacks
#     (the others apply it) and takes etcd's version of the one etcd has; one deleted through
#     the API while it was away (tombstone) is not pushed, counted, and goes from c too.
#   - the shared config (dhcp, tftp, udp_checksum, syslog: one key): pushed at start by one
#     server; config-share on a changes a boot file and a pool on b; an invalid document put
#     with etcdctl is refused by both (counted, logged with the field, running config kept);
#     config-reload keeps etcd's shared sections; a server starting with another file takes
#     etcd's.
#   - each server's /metrics (stormboot_cluster_*) passes promtool check metrics and says what
#     status says: ready, live servers, buckets, lease commits and refusals, etcd frozen (ready
#     0, etcd down), waits for the other servers, shared sets refused / pushed / skipped.
# Usage: cluster_control_test.sh DAEMON CTL FAKE_DP
set -u
DAEMON=$1 CTL=$2 FAKE=$3
T=$(mktemp -d /tmp/sbclu-test.XXXXXX)
PASS=0 FAILS=0 EPID= APID= BPID= CPID=
# ports from the pid, so parallel runs do not meet
P1=${SB_TEST_ETCD_PORT:-$((20000 + ($$ % 20000)))} P2=$((P1 + 1))
EP=http://127.0.0.1:$P1

ok() { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAILS=$((FAILS + 1)); echo "FAIL $*"; }
checke() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
cleanup() {
	[ -n "$EPID" ] && kill -CONT "$EPID" 2>/dev/null
	for p in $APID $BPID ${CPID:-} $EPID; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
command -v etcd >/dev/null || { echo "SKIP: etcd not installed (tests/setup.sh: etcd-server)"; exit 77; }
ms() { date +%s%3N; }
jget() { /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
ctl() { STORMBOOT_SOCKET=$T/$1/run/control.sock "$CTL" --json status 2>/dev/null; }
cl() { ctl "$1" | jget "d['arguments']['cluster']$2" 2>/dev/null; }
etcdget() { ETCDCTL_API=3 etcdctl --endpoints "$EP" --command-timeout=3s get "$@"; }

# a port pair may be taken (another test, a process of the host): etcd then exits at once
# ("bind: address already in use"); another pair is tried, 3 at most
for try in 1 2 3; do
	etcd --name sbt --data-dir "$T/etcd" --listen-client-urls "$EP" --advertise-client-urls "$EP" \
		--listen-peer-urls "http://127.0.0.1:$P2" --initial-advertise-peer-urls "http://127.0.0.1:$P2" \
		--initial-cluster "sbt=http://127.0.0.1:$P2" --log-level error >"$T/etcd.log" 2>&1 &
	EPID=$!
	for _ in $(seq 100); do
		etcdget /x >/dev/null 2>&1 && break
		kill -0 "$EPID" 2>/dev/null || break
		sleep 0.1
	done
	etcdget /x >/dev/null 2>&1 && break
	echo "info: etcd on ports $P1/$P2 did not come up (try $try): $(tail -1 "$T/etcd.log")"
	kill "$EPID" 2>/dev/null; wait "$EPID" 2>/dev/null; EPID=
	rm -rf "$T/etcd"
	P1=$((20000 + (P1 + 7919 - 20000) % 20000)) P2=$((P1 + 1))
	EP=http://127.0.0.1:$P1
done
checke "etcd up" 'etcdget /x >/dev/null 2>&1'
[ -n "$EPID" ] || { echo "$PASS passed, $((FAILS + 1)) failed (no etcd)"; exit 1; }

mkdir -p "$T/img"
# each server's /metrics (docs/METRICS.md, stormboot_cluster_*) on a port beside etcd's
mport() { case $1 in a) echo $((P1 + 10)) ;; b) echo $((P1 + 11)) ;; *) echo $((P1 + 12)) ;; esac; }
scrape() { curl -sf --max-time 5 "http://127.0.0.1:$(mport "$1")/metrics"; }
mval() { awk -v n="$2" '$1 == n {print $2}' "$1"; } # FILE SERIES
start_server() { # NAME [RESERVATIONS (JSON list)]
	mkdir -p "$T/$1/run" "$T/$1/state"
	cat >"$T/$1/cfg.json" <<EOF
{ "interface": "sb0", "server_ip": "198.18.0.1",
  "control": { "images_dirs": [ "$T/img" ] },
  "metrics": { "listen": "127.0.0.1:$(mport "$1")" },
  "dhcp": { "subnets": [ { "network": "198.18.0.0/23",
             "pool": { "start": "198.18.0.10", "end": "198.18.1.250" } } ],
            "reservations": ${2:-[]} },
  "cluster": { "server_id": "$1", "etcd": { "endpoints": [ "$EP" ], "timeout_ms": 500 },
               "lease_ttl_s": 3 } }
EOF
	"$DAEMON" -f -c "$T/$1/cfg.json" -s "$T/$1/run/control.sock" -d "$T/$1/state" \
		>"$T/$1/daemon.log" 2>&1 &
}
start_server a; APID=$!
start_server b; BPID=$!
# both ready and agreeing on two live servers
for _ in $(seq 100); do
	[ "$(cl a "['ready']")" = True ] && [ "$(cl b "['ready']")" = True ] &&
		[ "$(cl a "['servers']")" = "['a', 'b']" ] && [ "$(cl b "['servers']")" = "['a', 'b']" ] && break
	sleep 0.1
done
checke "both servers registered and ready" '[ "$(cl a "[\"ready\"]")" = True ] && [ "$(cl b "[\"ready\"]")" = True ]'
oa=$(cl a "['buckets_owned']") ob=$(cl b "['buckets_owned']")
checke "buckets split between two servers: $oa + $ob = 256, each a share" \
	'[ $((oa + ob)) -eq 256 ] && [ "$oa" -gt 64 ] && [ "$ob" -gt 64 ]'

# -- the same 100 addresses bound by both at once, to different MACs
"$FAKE" "$T/a/run/dataplane.sock" -b 100 -i 198.18.0.10 -m 1 >"$T/fa.out" 2>&1 &
FA=$!
"$FAKE" "$T/b/run/dataplane.sock" -b 100 -i 198.18.0.10 -m 2 >"$T/fb.out" 2>&1
wait $FA
checke "both fakes done" 'grep -q "^done" "$T/fa.out" && grep -q "^done" "$T/fb.out"'
cat "$T/fa.out" "$T/fb.out" | awk '$1 == "acked" {print $3, $2}' | sort >"$T/acked"
n_acked=$(wc -l <"$T/acked")
doubled=$(awk '{print $1}' "$T/acked" | uniq -d | wc -l)
etcdget --prefix /stormboot/leases/ >"$T/etcd.dump"
python3 - "$T/etcd.dump" >"$T/inetcd" <<'EOF'
import json, sys
l = open(sys.argv[1]).read().split('\n')
for k, v in zip(l[0::2], l[1::2]):
    if k:
        print(k.rsplit('/', 1)[1], json.loads(v)['mac'])
EOF
sort -o "$T/inetcd" "$T/inetcd"
lost=$(comm -23 "$T/acked" "$T/inetcd" | wc -l)
checke "100 contested addresses: each acked once ($n_acked acked, $doubled doubled)" \
	'[ "$n_acked" -eq 100 ] && [ "$doubled" -eq 0 ]'
checke "every acked lease is bound to its MAC in etcd (lost = $lost)" '[ "$lost" -eq 0 ]'
checke "no address in etcd twice" '[ "$(awk "{print \$1}" "$T/inetcd" | uniq -d | wc -l)" -eq 0 ]'
echo "info: conflicts: a $(cl a "['leases']['txn_conflicts']") txn, $(cl a "['leases']['refused_in_use']") refused; b $(cl b "['leases']['txn_conflicts']") txn, $(cl b "['leases']['refused_in_use']") refused"

# -- a second round on free addresses: a takes them; b learnt a's leases (watch) and refuses
"$FAKE" "$T/a/run/dataplane.sock" -b 20 -i 198.18.1.10 -m 3 >"$T/fa2.out" 2>&1
sleep 0.5
"$FAKE" "$T/b/run/dataplane.sock" -b 20 -i 198.18.1.10 -m 4 >"$T/fb2.out" 2>&1
checke "a's 20 acked; b refused all 20 from what its watch told it" \
	'[ "$(grep -c ^acked "$T/fa2.out")" -eq 20 ] && [ "$(grep -c "^refused.*in use" "$T/fb2.out")" -eq 20 ]'

# -- /metrics shows the cluster as status does, and Prometheus' own checker accepts it
scrape a >"$T/ma.prom"; ctl a >"$T/sa.json"
scrape b >"$T/mb.prom"
checke "a's /metrics scraped ($(grep -c "^stormboot_cluster_" "$T/ma.prom") cluster series)" \
	'grep -q "^stormboot_cluster_ready " "$T/ma.prom"'
checke "promtool check metrics accepts a's /metrics" \
	'promtool check metrics <"$T/ma.prom" >"$T/promtool.log" 2>&1'
sed 's/^/  promtool: /' "$T/promtool.log"
sjs() { jget "d['arguments']['cluster']$1" <"$T/sa.json"; }
checke "a: ready 1, live servers 2, buckets as status ($(sjs "['buckets_owned']"))" \
	'[ "$(mval "$T/ma.prom" stormboot_cluster_ready)" = 1 ] &&
	 [ "$(mval "$T/ma.prom" stormboot_cluster_servers_live)" = 2 ] &&
	 [ "$(mval "$T/ma.prom" stormboot_cluster_buckets_owned)" = "$(sjs "[\"buckets_owned\"]")" ] &&
	 [ "$(mval "$T/ma.prom" stormboot_cluster_etcd_up)" = 1 ]'
checke "buckets owned: a + b = 256 in /metrics" \
	'[ $(( $(mval "$T/ma.prom" stormboot_cluster_buckets_owned) + $(mval "$T/mb.prom" stormboot_cluster_buckets_owned) )) -eq 256 ]'
checke "a's lease commits in /metrics as in status ($(mval "$T/ma.prom" stormboot_cluster_lease_commit_txns_total) txns, $(mval "$T/ma.prom" stormboot_cluster_lease_records_committed_total) records)" \
	'[ "$(mval "$T/ma.prom" stormboot_cluster_lease_commit_txns_total)" -gt 0 ] &&
	 [ "$(mval "$T/ma.prom" stormboot_cluster_lease_commit_txns_total)" = "$(sjs "[\"leases\"][\"txns\"]")" ] &&
	 [ "$(mval "$T/ma.prom" stormboot_cluster_lease_records_committed_total)" = "$(sjs "[\"leases\"][\"committed\"]")" ] &&
	 [ "$(mval "$T/ma.prom" stormboot_cluster_lease_commit_seconds_count)" = "$(sjs "[\"leases\"][\"txns\"]")" ]'
checke "b's refusals (in use) in /metrics as in status ($(mval "$T/mb.prom" 'stormboot_cluster_lease_records_refused_total{reason="in_use"}'))" \
	'[ "$(mval "$T/mb.prom" "stormboot_cluster_lease_records_refused_total{reason=\"in_use\"}")" -ge 20 ] &&
	 [ "$(mval "$T/mb.prom" "stormboot_cluster_lease_records_refused_total{reason=\"in_use\"}")" = "$(cl b "[\"leases\"][\"refused_in_use\"]")" ]'

# -- a reservation added through a's API is in b's running config within a second
sctl() { STORMBOOT_SOCKET=$T/$1/run/control.sock "$CTL" "${@:2}"; }
out=$(sctl a reservation-add 52:54:00:aa:bb:01 198.18.1.200 --hostname shared1 2>&1); rc=$?
checke "reservation-add on a: $out" '[ $rc -eq 0 ] && grep -q "in effect on all 2 live servers" <<<"$out"'
# "in effect on every server when the API answers": b is asked once, at once, no retry
checke "the reservation is in effect on b when a answers" \
	'sctl b reservation-list | grep -q "52:54:00:aa:bb:01.*198.18.1.200.*shared1"'
checke "b wrote it to its config file" 'grep -q "52:54:00:aa:bb:01" "$T/b/cfg.json"'
checke "it is in etcd" 'etcdget /stormboot/reservations/52:54:00:aa:bb:01 --print-value-only | grep -q shared1'
out=$(sctl a reservation-add 52:54:00:aa:bb:01 198.18.1.201 2>&1); rc=$?
checke "a second reservation-add of that MAC refused: $out" '[ $rc -ne 0 ] && grep -q "already has a reservation" <<<"$out"'
out=$(sctl b reservation-del 52:54:00:aa:bb:01 2>&1)
checke "reservation-del on b: gone on a when b answers ($out)" \
	'grep -q "in effect on all 2 live servers" <<<"$out" && ! sctl a reservation-list | grep -q "52:54:00:aa:bb:01"'
checke "and from etcd, a tombstone left" '[ -z "$(etcdget /stormboot/reservations/52:54:00:aa:bb:01 --print-value-only)" ] &&
	etcdget /stormboot/deleted/reservations/52:54:00:aa:bb:01 --print-value-only | grep -q "\"deleted_by\":\"b\""'
# ten more changes through a, each waited for: how long the API waits for b (figure, not checked)
for i in 0 1 2 3 4 5 6 7 8 9; do
	sctl a reservation-add 52:54:00:aa:bc:0$i 198.18.1.18$i >/dev/null 2>&1
	sctl a reservation-del 52:54:00:aa:bc:0$i >/dev/null 2>&1
done
echo "info: a's API waits for b: $(cl a "['shared']['apply_waits']") waits, avg $(cl a "['shared']['apply_wait_us_avg']") us, max $(cl a "['shared']['apply_wait_us_max']") us"
# b's control stopped (SIGSTOP, shorter than lease_ttl_s: still registered): a's API answers at
# cluster.apply_wait_ms, the write stands, and the answer names b
to0=$(cl a "['shared']['apply_timeouts']")
kill -STOP "$BPID"
out=$(sctl a reservation-add 52:54:00:aa:bb:05 198.18.1.205 2>&1); rc=$?
kill -CONT "$BPID"
checke "b stopped: a answers, naming b as not confirmed ($out)" \
	'[ $rc -eq 0 ] && grep -q "NOT confirmed within 1000 ms by 1 of 2 live servers: b" <<<"$out"'
checke "and counts it (apply_timeouts $to0 -> $(cl a "['shared']['apply_timeouts']"))" '[ "$(cl a "[\"shared\"][\"apply_timeouts\"]")" = $((to0 + 1)) ]'
checke "the write stands: in etcd, in effect on a" \
	'etcdget /stormboot/reservations/52:54:00:aa:bb:05 --print-value-only | grep -q 198.18.1.205 && sctl a reservation-list | grep -q "52:54:00:aa:bb:05"'
for _ in $(seq 60); do sctl b reservation-list 2>/dev/null | grep -q "52:54:00:aa:bb:05" && break; sleep 0.05; done
checke "b, going on, applies it" 'sctl b reservation-list | grep -q "52:54:00:aa:bb:05.*198.18.1.205"'
out=$(sctl a reservation-del 52:54:00:aa:bb:05 2>&1)
checke "b caught up: the next change is confirmed by both ($out)" 'grep -q "in effect on all 2 live servers" <<<"$out"'

# -- an iPXE template stored through a is served by b; deleted through b, gone on a
printf '#!ipxe\nchain http://198.18.0.1/${mac}\n' >"$T/t.ipxe"
out=$(sctl a template-add shared.ipxe "$T/t.ipxe" 2>&1); rc=$?
checke "template-add on a: $out" '[ $rc -eq 0 ] && grep -q "in effect on all 2 live servers" <<<"$out"'
checke "the template is on b when a answers" 'sctl b template-get shared.ipxe | grep -q "chain http://198.18.0.1/"'
sctl b template-del shared.ipxe >/dev/null
checke "template-del on b: gone on a when b answers" '! sctl a template-list | grep -q shared.ipxe'

# -- the shared config (PREFIX config): pushed at start by one of the two (the key was absent)
for _ in $(seq 40); do [ -n "$(etcdget /stormboot/config --print-value-only 2>/dev/null)" ] && break; sleep 0.05; done
pa=$(cl a "['shared']['config_pushed']") pb=$(cl b "['shared']['config_pushed']")
checke "the shared config pushed to etcd at start by exactly one server (a $pa, b $pb)" \
	'[ $((pa + pb)) -eq 1 ] && etcdget /stormboot/config --print-value-only | grep -q "\"subnets\""'
checke "the shared document holds no local field" \
	'! etcdget /stormboot/config --print-value-only | grep -qE "server_ip|interface|reservations|cluster|images_dirs"'
bget() { sctl "$1" --json config-get | jget "d['arguments']$2"; }
# a's file edited (a boot file and the pool), then config-share on a: in effect on b
python3 - "$T/a/cfg.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c['dhcp'].setdefault('boot', {})['bios'] = 'shared.kpxe'
c['dhcp']['subnets'][0]['pool']['end'] = '198.18.1.240'
json.dump(c, open(sys.argv[1], 'w'), indent=1)
PY
out=$(sctl a config-share 2>&1); rc=$?
checke "config-share on a: $out" '[ $rc -eq 0 ] && grep -q "shared through etcd; in effect on all 2 live servers" <<<"$out"'
checke "and in effect on b when a answered (no wait)" '[ "$(bget b "[\"dhcp\"][\"boot\"][\"bios\"]")" = shared.kpxe ]'
t0=$(ms)
for _ in $(seq 40); do [ "$(bget b "['dhcp']['boot']['bios']")" = shared.kpxe ] 2>/dev/null && break; sleep 0.05; done
took=$(($(ms) - t0))
checke "the boot file and the pool are in effect on b ($took ms after a answered)" \
	'[ "$(bget b "[\"dhcp\"][\"boot\"][\"bios\"]")" = shared.kpxe ] &&
	 [ "$(bget b "[\"dhcp\"][\"subnets\"][0][\"pool\"][\"end\"]")" = 198.18.1.240 ] && [ $took -le 1000 ]'
checke "b wrote it to its config file, its local sections kept" \
	'grep -q shared.kpxe "$T/b/cfg.json" && grep -q "\"server_id\": *\"b\"" "$T/b/cfg.json"'
checke "b counts it applied ($(cl b "['shared']['config_applied']"))" '[ "$(cl b "[\"shared\"][\"config_applied\"]")" -ge 1 ]'
# an invalid document put with etcdctl: refused by both, counted, running config unchanged
etcdctl_put() { ETCDCTL_API=3 etcdctl --endpoints "$EP" --command-timeout=3s put "$@" >/dev/null; }
ra=$(cl a "['shared']['config_refused']") rb=$(cl b "['shared']['config_refused']")
etcdctl_put /stormboot/config '{"dhcp": {"subnets": [{"network": "198.18.0.0/23", "pool": {"start": "198.18.5.10", "end": "198.18.5.20"}}]}}'
for _ in $(seq 40); do [ "$(cl a "['shared']['config_refused']")" -gt "$ra" ] && [ "$(cl b "['shared']['config_refused']")" -gt "$rb" ] && break; sleep 0.05; done
checke "an invalid shared config (etcdctl): refused by a and b, counted" \
	'[ "$(cl a "[\"shared\"][\"config_refused\"]")" -gt "$ra" ] && [ "$(cl b "[\"shared\"][\"config_refused\"]")" -gt "$rb" ]'
checke "their running configs unchanged" \
	'[ "$(bget a "[\"dhcp\"][\"subnets\"][0][\"pool\"][\"end\"]")" = 198.18.1.240 ] &&
	 [ "$(bget b "[\"dhcp\"][\"subnets\"][0][\"pool\"][\"end\"]")" = 198.18.1.240 ] &&
	 [ "$(bget b "[\"dhcp\"][\"boot\"][\"bios\"]")" = shared.kpxe ]'
checke "the log names the field" 'grep -q "shared config (etcd revision [0-9]*) refused by this server: .*dhcp.subnets\[0\].pool" "$T/b/daemon.log"'
etcdctl_put /stormboot/config '{"server_ip": "198.18.0.9"}'
for _ in $(seq 40); do [ "$(cl b "['shared']['config_refused']")" -gt $((rb + 1)) ] && break; sleep 0.05; done
checke "a document with a local field (server_ip): refused and named" \
	'[ "$(cl b "[\"shared\"][\"config_refused\"]")" -gt $((rb + 1)) ] && grep -q "refused by this server: server_ip: local to each server" "$T/b/daemon.log"'
# config-share of a file the parser refuses: refused on a, etcd unchanged
sed 's/198.18.1.240/198.18.9.240/' "$T/a/cfg.json" >"$T/bad.json"
before=$(etcdget /stormboot/config --print-value-only)
out=$(sctl a config-share "$T/bad.json" 2>&1); rc=$?
checke "config-share of an invalid file refused, names the field: $out" \
	'[ $rc -ne 0 ] && grep -q "dhcp.subnets\[0\].pool" <<<"$out" && [ "$(etcdget /stormboot/config --print-value-only)" = "$before" ]'
# a valid one again (a's file), then b's file edited by hand and reloaded: etcd's wins
out=$(sctl a config-share 2>&1); rc=$?
checke "config-share on a again: $out" '[ $rc -eq 0 ]'
sed -i 's/shared.kpxe/local.kpxe/' "$T/b/cfg.json"
out=$(sctl b config-reload 2>&1)
checke "b's file edited and reloaded: etcd's shared config stays ($out)" \
	'[ "$(bget b "[\"dhcp\"][\"boot\"][\"bios\"]")" = shared.kpxe ] && grep -q "config-reload: the file.s shared sections (dhcp) differ from etcd.s" "$T/b/daemon.log"'

# -- image metadata: added through a, registered on b with its SHA-256 pinned
head -c 300000 /dev/urandom >"$T/img/k1"
sha=$(sha256sum "$T/img/k1" | cut -d' ' -f1)
out=$(sctl a image-add k1 "$T/img/k1" 2>&1); rc=$?
checke "image-add on a: $out" '[ $rc -eq 0 ] && grep -q "shared through etcd.*in effect on all 2 live servers" <<<"$out"'
checke "its name, SHA-256 and source are in etcd" \
	'etcdget /stormboot/images/k1 --print-value-only | grep -q "\"sha256\":\"$sha\".*\"source\":\"$T/img/k1\""'
checke "b serves it with that SHA-256 pinned when a answers" \
	'sctl b --json image-list | jget "[i for i in d[\"arguments\"][\"images\"] if i[\"name\"] == \"k1\"][0][\"sha256_pinned\"]" | grep -qx "$sha"'
checke "b wrote it to its config file" 'grep -q "\"k1\"" "$T/b/cfg.json"'
# an image put in etcd by hand, with a SHA-256 that its file does not have: refused by both
head -c 1000 /dev/urandom >"$T/img/k2"
etcdctl_put /stormboot/images/k2 "{\"name\":\"k2\",\"sha256\":\"$sha\",\"source\":\"$T/img/k2\"}"
for _ in $(seq 40); do [ "$(cl b "['shared']['images_refused']")" -ge 1 ] 2>/dev/null && break; sleep 0.05; done
checke "an image of etcd whose file does not match its SHA-256: refused on b and counted ($(cl b "['shared']['images_refused']"))" \
	'[ "$(cl b "[\"shared\"][\"images_refused\"]")" -ge 1 ] && ! sctl b image-list | grep -q "k2"'
checke "and on a" '! sctl a image-list | grep -q "k2"'
checke "the log names it" 'grep -q "shared image not served by this server.*k2\|k2.*SHA-256" "$T/b/daemon.log"'
out=$(sctl a image-del k2 2>&1); rc=$?
checke "image-del through a of the image a refused: out of etcd ($out)" \
	'[ $rc -eq 0 ] && [ -z "$(etcdget /stormboot/images/k2 --print-value-only)" ]'
# an image added through a whose file differs on b (b stopped while a hashes it and writes it to
# etcd; the file then replaced): b refuses it, and a's answer says so instead of "all 2"
head -c 200000 /dev/urandom >"$T/img/k3"
rf0=$(cl a "['shared']['apply_refused']")
kill -STOP "$BPID"
sctl a image-add k3 "$T/img/k3" >"$T/k3.out" 2>&1 &
K3=$!
for _ in $(seq 100); do [ -n "$(etcdget /stormboot/images/k3 --print-value-only 2>/dev/null)" ] && break; sleep 0.02; done
head -c 200000 /dev/urandom >"$T/img/k3.new" && mv -f "$T/img/k3.new" "$T/img/k3"
kill -CONT "$BPID"
wait $K3; rc=$?
out=$(cat "$T/k3.out")
checke "image-add on a of a file that differs on b: the answer names b's refusal ($out)" \
	'[ $rc -eq 0 ] && grep -q "in effect on 1 of 2 live servers.*refused by b: image k3: file differs from the pinned SHA-256" <<<"$out" && ! grep -q "in effect on all" <<<"$out"'
checke "counted on a (apply_refused $rf0 -> $(cl a "['shared']['apply_refused']")), listed in b's status" \
	'[ "$(cl a "[\"shared\"][\"apply_refused\"]")" = $((rf0 + 1)) ] && cl b "[\"shared\"][\"refused\"]" | grep -q "k3: file differs"'
checke "b does not serve k3" '! sctl b image-list | grep -q "k3"'
out=$(sctl a image-del k3 2>&1); rc=$?
checke "image-del k3 through a: $out" '[ $rc -eq 0 ] && grep -q "in effect on all 2 live servers" <<<"$out"'
out=$(sctl b image-del k1 2>&1); rc=$?
checke "image-del on b: $out" '[ $rc -eq 0 ] && grep -q "in effect on all 2 live servers" <<<"$out"'
checke "image-del on b: gone on a when b answers, and from etcd" \
	'! sctl a image-list | grep -q k1 && [ -z "$(etcdget /stormboot/images/k1 --print-value-only)" ]'

# -- b killed with kill -9: a takes every bucket
t0=$(ms)
kill -9 "$BPID"; wait "$BPID" 2>/dev/null; BPID=
for _ in $(seq 100); do [ "$(cl a "['buckets_owned']")" = 256 ] && break; sleep 0.1; done
took=$(($(ms) - t0))
checke "after kill -9 of b, a answers all 256 buckets (in $took ms)" \
	'[ "$(cl a "[\"buckets_owned\"]")" = 256 ] && [ "$took" -le 5500 ]'
echo "info: take-over time after kill -9: $took ms (lease_ttl_s 3)"
only_a="['a']"
checke "a's status lists only itself" '[ "$(cl a "[\"servers\"]")" = "$only_a" ]'

# -- etcd frozen: a stops acking, says so; thawed: acks again
kill -STOP "$EPID"
for _ in $(seq 60); do [ "$(cl a "['ready']")" = False ] && break; sleep 0.1; done
checke "etcd frozen: a says not ready" '[ "$(cl a "[\"ready\"]")" = False ]'
"$FAKE" "$T/a/run/dataplane.sock" -b 10 -i 198.18.1.100 -m 5 >"$T/fa3.out" 2>&1
checke "etcd frozen: no lease acked ($(grep -c ^refused "$T/fa3.out") refused)" \
	'[ "$(grep -c ^acked "$T/fa3.out")" -eq 0 ] && [ "$(grep -c ^refused "$T/fa3.out")" -eq 10 ]'
checke "etcd frozen: a answers no bucket" '[ "$(cl a "[\"buckets_owned\"]")" = 0 ]'
checke "the log says why" 'grep -q "NOT ready" "$T/a/daemon.log"'
scrape a >"$T/ma2.prom"
checke "etcd frozen: /metrics says ready 0, etcd down, records refused (etcd) $(mval "$T/ma2.prom" 'stormboot_cluster_lease_records_refused_total{reason="etcd"}')" \
	'[ "$(mval "$T/ma2.prom" stormboot_cluster_ready)" = 0 ] && [ "$(mval "$T/ma2.prom" stormboot_cluster_buckets_owned)" = 0 ] &&
	 [ "$(mval "$T/ma2.prom" stormboot_cluster_etcd_up)" = 0 ] &&
	 [ "$(mval "$T/ma2.prom" "stormboot_cluster_lease_records_refused_total{reason=\"etcd\"}")" -gt 0 ]'
kill -CONT "$EPID"
# (on a loaded host the first retry after the thaw can take seconds: wait up to 30 s)
t0=$(ms)
for _ in $(seq 300); do [ "$(cl a "['ready']")" = True ] && break; sleep 0.1; done
checke "etcd back: a ready again ($(($(ms) - t0)) ms after the thaw)" '[ "$(cl a "[\"ready\"]")" = True ]'
[ "$(cl a "['ready']")" = True ] || { echo "--- a's log:"; tail -n 30 "$T/a/daemon.log"; echo "--- a's cluster status:"; ctl a | head -c 1500; echo; }
"$FAKE" "$T/a/run/dataplane.sock" -b 10 -i 198.18.1.100 -m 5 >"$T/fa4.out" 2>&1
checke "etcd back: leases acked again" '[ "$(grep -c ^acked "$T/fa4.out")" -eq 10 ]'
echo "info: a's commits: $(ctl a | jget "d['arguments']['cluster']['leases']")"

# -- c starts with two reservations in its file: one etcd lacks (pushed), one etcd has (etcd's)
out=$(sctl a reservation-add 52:54:00:aa:bb:03 198.18.1.203 2>&1)
checke "a reservation in etcd first: $out" 'etcdget /stormboot/reservations/52:54:00:aa:bb:03 --print-value-only | grep -q 198.18.1.203'
# and one deleted through the API while c was away: c's file still has it, it must not come back
sctl a reservation-add 52:54:00:aa:bb:04 198.18.1.204 >/dev/null 2>&1
out=$(sctl a reservation-del 52:54:00:aa:bb:04 2>&1)
checke "a reservation added and deleted through a while c is away: $out" \
	'etcdget /stormboot/deleted/reservations/52:54:00:aa:bb:04 --print-value-only | grep -q deleted_by'
start_server c '[ { "mac": "52:54:00:aa:bb:02", "ip": "198.18.1.202", "hostname": "fromfile",
                      "images_allowed": [ "vmlinuz-*", "initrd.gz" ] },
                    { "mac": "52:54:00:aa:bb:03", "ip": "198.18.1.233" },
                    { "mac": "52:54:00:aa:bb:04", "ip": "198.18.1.204", "hostname": "deleted" } ]'
CPID=$!
for _ in $(seq 100); do etcdget /stormboot/reservations/52:54:00:aa:bb:02 --print-value-only 2>/dev/null | grep -q fromfile && break; sleep 0.1; done
checke "c pushed the reservation only its file had to etcd" \
	'etcdget /stormboot/reservations/52:54:00:aa:bb:02 --print-value-only | grep -q "198.18.1.202.*fromfile"'
for _ in $(seq 40); do sctl a reservation-list 2>/dev/null | grep -q "52:54:00:aa:bb:02" && break; sleep 0.05; done
checke "a applies it" 'sctl a reservation-list | grep -q "52:54:00:aa:bb:02.*198.18.1.202"'
checke "its images_allowed went with it: in etcd, and in a's config file" \
	'etcdget /stormboot/reservations/52:54:00:aa:bb:02 --print-value-only | grep -qF "\"images_allowed\":[\"vmlinuz-*\",\"initrd.gz\"]" &&
	 python3 -c "import json,sys; r=[r for r in json.load(open(sys.argv[1]))[\"dhcp\"][\"reservations\"] if r[\"mac\"] == \"52:54:00:aa:bb:02\"][0]; sys.exit(r.get(\"images_allowed\") != [\"vmlinuz-*\", \"initrd.gz\"])" "$T/a/cfg.json"'
# images_allowed changed in etcd (etcdctl): in effect on a
ETCDCTL_API=3 etcdctl --endpoints "$EP" put /stormboot/reservations/52:54:00:aa:bb:02 \
	'{"mac":"52:54:00:aa:bb:02","ip":"198.18.1.202","hostname":"fromfile","bootfile":"","ipxe_script":"","images_allowed":["vmlinuz-6*"]}' >/dev/null
for _ in $(seq 40); do grep -q 'vmlinuz-6\*' "$T/a/cfg.json" && break; sleep 0.05; done
checke "images_allowed changed with etcdctl: in a's running config" 'grep -q "vmlinuz-6\*" "$T/a/cfg.json"'
for _ in $(seq 40); do sctl c reservation-list 2>/dev/null | grep -q "52:54:00:aa:bb:03.*198.18.1.203" && break; sleep 0.05; done
checke "the one etcd had: etcd's version on c, etcd unchanged" \
	'sctl c reservation-list | grep -q "52:54:00:aa:bb:03.*198.18.1.203" && etcdget /stormboot/reservations/52:54:00:aa:bb:03 --print-value-only | grep -q 198.18.1.203'
checke "c counts one reservation pushed" '[ "$(cl c "[\"shared\"][\"reservations_pushed\"]")" = 1 ]'
for _ in $(seq 60); do [ "$(cl c "['shared']['push_skipped_deleted']")" = 1 ] && break; sleep 0.05; done
checke "the deleted one: not pushed, counted ($(cl c "['shared']['push_skipped_deleted']"))" \
	'[ "$(cl c "[\"shared\"][\"push_skipped_deleted\"]")" = 1 ] && [ -z "$(etcdget /stormboot/reservations/52:54:00:aa:bb:04 --print-value-only)" ]'
checke "c's log says why" 'grep -q "reservation 52:54:00:aa:bb:04 of the config file NOT pushed to etcd: it was deleted" "$T/c/daemon.log"'
for _ in $(seq 60); do sctl c reservation-list 2>/dev/null | grep -q "52:54:00:aa:bb:04" || break; sleep 0.05; done
checke "gone from c too (its running config), and from its config file" \
	'! sctl c reservation-list | grep -q "52:54:00:aa:bb:04" && ! grep -q "52:54:00:aa:bb:04" "$T/c/cfg.json"'
checke "nor on a" '! sctl a reservation-list | grep -q "52:54:00:aa:bb:04"'
out=$(sctl a reservation-add 52:54:00:aa:bb:04 198.18.1.204 2>&1)
checke "added again through the API: the tombstone goes, in effect on a and c ($out)" \
	'[ -z "$(etcdget /stormboot/deleted/reservations/52:54:00:aa:bb:04 --print-value-only)" ] &&
	 grep -q "in effect on all 2 live servers" <<<"$out" && sctl c reservation-list | grep -q "52:54:00:aa:bb:04"'
checke "c's file differs from etcd's shared config: etcd's applies on c, and the log says so" \
	'[ "$(bget c "[\"dhcp\"][\"boot\"][\"bios\"]")" = shared.kpxe ] && [ "$(cl c "[\"shared\"][\"config_pushed\"]")" = 0 ] &&
	 grep -q "config differs from etcd.s shared config in: dhcp; etcd.s applies" "$T/c/daemon.log"'
# -- the shared sets in /metrics: as status says
scrape a >"$T/ma3.prom"; ctl a >"$T/sa.json"
scrape c >"$T/mc.prom"
checke "a's waits for the other servers in /metrics as in status ($(mval "$T/ma3.prom" stormboot_cluster_apply_waits_total) confirmed, $(mval "$T/ma3.prom" stormboot_cluster_apply_timeouts_total) timed out)" \
	'[ "$(mval "$T/ma3.prom" stormboot_cluster_apply_waits_total)" = "$(sjs "[\"shared\"][\"apply_waits\"]")" ] &&
	 [ "$(mval "$T/ma3.prom" stormboot_cluster_apply_wait_seconds_count)" = "$(sjs "[\"shared\"][\"apply_waits\"]")" ] &&
	 [ "$(mval "$T/ma3.prom" stormboot_cluster_apply_waits_total)" -gt 0 ] &&
	 [ "$(mval "$T/ma3.prom" stormboot_cluster_apply_timeouts_total)" = "$(sjs "[\"shared\"][\"apply_timeouts\"]")" ] &&
	 [ "$(mval "$T/ma3.prom" stormboot_cluster_apply_timeouts_total)" -ge 1 ]'
checke "a's refused shared image in /metrics as in status ($(mval "$T/ma3.prom" 'stormboot_cluster_shared_refused_total{set="images"}'))" \
	'[ "$(mval "$T/ma3.prom" "stormboot_cluster_shared_refused_total{set=\"images\"}")" -ge 1 ] &&
	 [ "$(mval "$T/ma3.prom" "stormboot_cluster_shared_refused_total{set=\"images\"}")" = "$(sjs "[\"shared\"][\"images_refused\"]")" ]'
# refusals by the other servers (apply_refused, refused_here): as status has them, or absent
for k in apply_refused:stormboot_cluster_apply_refused_total refused_here:stormboot_cluster_apply_refused_here_total; do
	sv=$(sjs "['shared'].get('${k%%:*}', 'none')") mv=$(mval "$T/ma3.prom" "${k#*:}")
	checke "a's ${k%%:*}: status $sv, /metrics ${mv:-none}" '[ "${mv:-none}" = "$sv" ]'
done
checke "c's /metrics: 1 reservation pushed, 1 skipped (deleted), promtool accepts it" \
	'[ "$(mval "$T/mc.prom" "stormboot_cluster_shared_pushed_total{set=\"reservations\"}")" = 1 ] &&
	 [ "$(mval "$T/mc.prom" stormboot_cluster_shared_push_skipped_deleted_total)" = 1 ] &&
	 promtool check metrics <"$T/mc.prom" >/dev/null 2>&1'
kill "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null; CPID=

echo "$PASS passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
