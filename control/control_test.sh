#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# control_test.sh - stormboot-control + stormbootctl + sb-fake-dataplane in a temp dir.
# No root, no network: Unix sockets only. Usage: control_test.sh DAEMON CTL FAKE_DP SRCDIR
set -u
DAEMON=$1 CTL=$2 FAKE=$3 SRC=$4
T=$(mktemp -d /tmp/sbctl-test.XXXXXX)
SOCK=$T/run/control.sock DPSOCK=$T/run/dataplane.sock STATE=$T/state CFG=$T/stormboot.json
export STORMBOOT_SOCKET=$SOCK
PASS=0 FAILS=0 DPID= FPID=

ok() { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAILS=$((FAILS + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
# checke WHAT 'shell condition' (for && and !)
checke() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
cleanup() {
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT; [ -n "${KEEP:-}" ] && trap - EXIT

# -t: a mutating command waits 1.5 s (not 10) for the dataplane to confirm its generation
start_daemon() {
	"$DAEMON" -f -c "$CFG" -s "$SOCK" -d "$STATE" -t 1500 >>"$T/daemon.log" 2>&1 &
	DPID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && "$CTL" status >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "daemon did not start:"; cat "$T/daemon.log"; return 1
}
ms() { date +%s%3N; }
# run_ctl ARGS..: one stormbootctl call; its output in $out, exit code in $rc, ms in $took
run_ctl() { local t0; t0=$(ms); out=$("$CTL" "$@" 2>&1); rc=$?; took=$(($(ms) - t0)); }
# start_fake OUT ARGS..: a fake dataplane in the background ($FPID), once it got the leases
start_fake() {
	local o=$1; shift
	"$FAKE" "$DPSOCK" "$@" >"$o" 2>&1 &
	FPID=$!
	wait_line "$o" '^leases'
}
# Wait until FILE has a line matching RE (5 s at most).
wait_line() { for _ in $(seq 50); do grep -q "$2" "$1" && return 0; sleep 0.1; done; return 1; }
# CPU time (user + system) of the daemon so far, in ms.
cpu_ms() { awk -v t="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / t)}' "/proc/$DPID/stat"; }
# Fields of a JSON reply: jq is not assumed; python3 from Debian is.
jget() { /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

head -c 100000 /dev/urandom >"$T/ipxe.efi"
head -c 5000 /dev/urandom >"$T/extra.img"
cat >"$CFG" <<EOF
{ "interface": "sb0", "server_ip": "198.18.0.1",
  "dhcp": { "subnets": [ { "network": "198.18.0.0/24",
             "pool": { "start": "198.18.0.100", "end": "198.18.0.250" } },
           { "network": "198.18.2.0/24",
             "pool": { "start": "198.18.2.10", "end": "198.18.2.250" } } ] },
  "images": [ { "name": "ipxe.efi", "path": "$T/ipxe.efi" } ],
  "control": { "images_dirs": [ "$T" ] } }
EOF

# -- not running: a clear message and exit code 3
out=$("$CTL" status 2>&1); rc=$?
check "ctl without daemon exits 3" [ $rc -eq 3 ]
check "ctl without daemon says so" grep -q "not running" <<<"$out"

# -- a bad config is refused, naming the field
sed 's/"198.18.0.250"/"198.18.9.250"/' "$CFG" >"$T/bad.json"
out=$("$DAEMON" -f -c "$T/bad.json" -s "$SOCK" -d "$STATE" 2>&1); rc=$?
check "bad config refused" [ $rc -ne 0 ]
check "bad config names the field" grep -q "pool" <<<"$out"
check "no socket after refusal" [ ! -e "$SOCK" ]

start_daemon || exit 1
check "api socket mode 0660" [ "$(stat -c %a "$SOCK")" = 660 ]
check "socket dir under given path" [ -S "$DPSOCK" ]
"$CTL" status >/dev/null
check "peer credentials logged" grep -q "api: connection #[0-9]* from pid [0-9]* uid" "$T/daemon.log"
out=$("$CTL" --json status); rc=$?
checke "status --json" '[ $rc -eq 0 ] && [ "$(jget '\''d["result"]'\'' <<<"$out")" = 0 ]'
check "status table" grep -q "dataplane.connected *no" <<<"$("$CTL" status)"

# -- a dataplane binds 300 leases; each "acked" line is durable
"$FAKE" "$DPSOCK" -b 300 -i 198.18.0.100 >"$T/fake1.out" 2>&1
check "fake dataplane done" grep -q '^done' "$T/fake1.out"
n_acked=$(grep -c '^acked' "$T/fake1.out")
n_refused=$(grep -c '^refused' "$T/fake1.out")
# the pool has 151 addresses (.100-.250): 151 fit, the rest are not ours
checke "151 acked, 149 refused ($n_acked/$n_refused)" '[ "$n_acked" -eq 151 ] && [ "$n_refused" -eq 149 ]'
out=$("$CTL" --json lease-list)
check "lease-list has 151" [ "$(jget 'len(d["arguments"]["leases"])' <<<"$out")" = 151 ]
check "lease-get by ip" grep -q "02:01:00:00:00:05" <<<"$("$CTL" lease-get 198.18.0.105)"
check "lease-get by mac" grep -q "198.18.0.105" <<<"$("$CTL" lease-get 02:01:00:00:00:05)"
"$CTL" lease-get 198.18.0.99 >/dev/null; rc=$?
check "lease-get unknown: exit 0 (empty)" [ $rc -eq 0 ]

# -- another MAC asking for the same addresses is refused (no address to two MACs)
"$FAKE" "$DPSOCK" -b 5 -i 198.18.0.100 -m 2 >"$T/fake2.out" 2>&1
check "duplicate addresses refused" [ "$(grep -c '^refused.*Address already in use' "$T/fake2.out")" -eq 5 ]

# -- malformed, unknown, oversized requests: error replies, daemon keeps serving
"$CTL" raw 'this is not json' >/dev/null 2>&1; rc=$?
check "malformed request: exit 1" [ $rc -eq 1 ]
out=$("$CTL" --json raw '{"command": "no-such-thing"}'); rc=$?
checke "unknown command: result 2" '[ $rc -eq 1 ] && [ "$(jget '\''d["result"]'\'' <<<"$out")" = 2 ]'
out=$(/usr/bin/python3 - "$SOCK" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
try:
    s.sendall(b'{"command": "status", "x": "' + b'a' * (2 << 20))
except OSError:
    pass
s.settimeout(5); print(s.recv(4096).decode())
EOF
)
check "oversized request: error reply" grep -q '"result":1.*larger than' <<<"$out"
# a client that connects and sends half a request does not block others
/usr/bin/python3 -c "import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.connect('$SOCK'); s.sendall(b'{\"comm'); time.sleep(3)" &
SLOW=$!
sleep 0.2
check "half a request from one client does not block others" "$CTL" status >/dev/null
kill $SLOW 2>/dev/null

# -- reservations and images
"$CTL" reservation-add 52:54:00:aa:bb:cc 198.18.0.60 --hostname vm60 >/dev/null
check "reservation-add" grep -q "52:54:00:aa:bb:cc.*198.18.0.60.*vm60" <<<"$("$CTL" reservation-list)"
check "reservation written to config" grep -q "52:54:00:aa:bb:cc" "$CFG"
"$CTL" reservation-add 52:54:00:aa:bb:cd 198.18.0.105 >/dev/null 2>&1; rc=$?
check "reservation of a leased address refused" [ $rc -eq 1 ]
"$CTL" reservation-add zz:54 >/dev/null 2>&1; rc=$?
check "reservation with bad MAC refused" [ $rc -eq 1 ]
"$CTL" reservation-del 52:54:00:aa:bb:cc >/dev/null
check "reservation-del" [ "$("$CTL" --json reservation-list | jget 'd["result"]')" = 3 ]
"$CTL" image-add extra.img "$T/extra.img" >/dev/null
sha=$(sha256sum "$T/extra.img" | cut -d' ' -f1)
check "image-add: size and sha256" grep -q "extra.img *5000 *$sha" <<<"$("$CTL" image-list)"
"$CTL" image-add nope.img "$T/missing.img" >/dev/null 2>&1; rc=$?
check "image-add of a missing file refused" [ $rc -eq 1 ]
"$CTL" image-del extra.img >/dev/null
checke "image-del" '! grep -q extra.img <<<"$("$CTL" image-list)"'
# only files under control.images_dirs, resolved first (docs/SECURITY.md)
out=$("$CTL" image-add shadow /etc/shadow 2>&1); rc=$?
checke "image-add /etc/shadow refused: $out" '[ $rc -eq 1 ] && grep -q "/etc/shadow is not inside control.images_dirs" <<<"$out"'
ln -s /etc/passwd "$T/passwd.img"
out=$("$CTL" image-add passwd.img "$T/passwd.img" 2>&1); rc=$?
checke "image-add of a symlink to /etc/passwd refused: $out" '[ $rc -eq 1 ] && grep -q -- "-> /etc/passwd is not inside" <<<"$out"'
out=$("$CTL" image-add extra.img "$T/extra.img" --sha256 "$(printf 0%.0s $(seq 64))" 2>&1); rc=$?
checke "image-add with another pinned sha256 refused, both digests named" \
	'[ $rc -eq 1 ] && grep -q "SHA-256 of $T/extra.img is $sha, but the config pins 0000" <<<"$out"'
checke "... not added" '! grep -q extra.img <<<"$("$CTL" image-list)"'

# -- iPXE templates through the CLI (file and stdin), rendered per client
printf '#!ipxe\necho ${hostname} ${mac} ${arch}\nchain $${base}\n' >"$T/boot.ipxe"
out=$("$CTL" template-add boot.ipxe "$T/boot.ipxe"); rc=$?
check "template-add from a file" [ $rc -eq 0 ]
check "template-add: in effect at once (control serves templates, not the dataplane)" \
	grep -q "in effect at once" <<<"$out"
echo '#!ipxe' | "$CTL" template-add tiny.ipxe - >/dev/null
check "template-add from stdin" grep -q "tiny.ipxe *7" <<<"$("$CTL" template-list)"
"$CTL" template-get boot.ipxe >"$T/boot.back"
check "template-get round-trips the text" cmp -s "$T/boot.ipxe" "$T/boot.back"
"$CTL" reservation-add 52:54:00:aa:bb:ce 198.18.0.61 --hostname vm61 >/dev/null
out=$("$CTL" template-render boot.ipxe --mac 52:54:00:aa:bb:ce --arch x86_64)
check "template-render fills in the client" grep -qx 'echo vm61 52:54:00:aa:bb:ce x86_64' <<<"$out"
check "template-render leaves \$\${ to iPXE" grep -qxF 'chain ${base}' <<<"$out"
"$CTL" template-render boot.ipxe --mac nonsense >/dev/null 2>&1; rc=$?
check "template-render with a bad MAC: exit 1" [ $rc -eq 1 ]
printf '#!ipxe\n\001\n' >"$T/ctrl.ipxe"
out=$("$CTL" template-add ctrl.ipxe "$T/ctrl.ipxe" 2>&1); rc=$?
checke "template with a control character refused" '[ $rc -eq 1 ] && grep -qi "control" <<<"$out"'
"$CTL" template-add boot.ipxe /nonexistent 2>/dev/null; rc=$?
check "template-add of a missing file: usage error" [ $rc -eq 2 ]
"$CTL" template-del tiny.ipxe >/dev/null
checke "template-del" '! grep -q tiny.ipxe <<<"$("$CTL" template-list)"'
"$CTL" reservation-del 52:54:00:aa:bb:ce >/dev/null

# -- config-test and config-reload keep the running config when the new one is bad
gen=$("$CTL" --json status | jget 'd["arguments"]["config"]["generation"]')
cp "$CFG" "$T/good.json"
echo '{ "interface": "sb0", "server_ip": "198.18.0.1", "queues": 0 }' >"$CFG"
out=$("$CTL" config-test "$CFG" 2>&1); rc=$?
checke "config-test bad: exit 1, field named" '[ $rc -eq 1 ] && grep -q queues <<<"$out"'
out=$("$CTL" config-reload 2>&1); rc=$?
checke "config-reload bad: refused, kept" '[ $rc -eq 1 ] && grep -q "kept" <<<"$out"'
check "generation unchanged" [ "$("$CTL" --json status | jget 'd["arguments"]["config"]["generation"]')" = "$gen" ]
check "leases kept" [ "$("$CTL" --json lease-list | jget 'len(d["arguments"]["leases"])')" = 151 ]
sed 's/"198.18.0.250"/"198.18.0.240"/' "$T/good.json" >"$CFG"
out=$("$CTL" config-reload 2>&1); rc=$?
checke "config-reload good" '[ $rc -eq 0 ] && grep -q "applied" <<<"$out"'
check "leases outside the new pool dropped" [ "$("$CTL" --json lease-list | jget 'len(d["arguments"]["leases"])')" = 141 ]
kill -HUP "$DPID"; sleep 0.3
check "SIGHUP reload: unchanged" grep -q "configuration unchanged" "$T/daemon.log"

# -- dataplane requests: stats, latency, sessions, lease-release revokes
"$CTL" stats >/dev/null 2>&1; rc=$?
check "stats without dataplane: answers (XDP only) or fails cleanly" [ $rc -le 1 ]
"$CTL" latency >/dev/null 2>&1; rc=$?
check "latency without dataplane: exit 1" [ $rc -eq 1 ]
start_fake "$T/fake3.out" -w 20 -T 1000
check "dataplane got config and 141 leases" grep -q '^leases 141' "$T/fake3.out"
check "stats from the dataplane" grep -q "rx_pkts *42" <<<"$("$CTL" stats 2>&1)"
check "latency from the dataplane" grep -q "latency_p99_ns *4000" <<<"$("$CTL" latency)"
check "sessions from the dataplane" "$CTL" sessions >/dev/null
# -- boot timelines: 1000 clients' steps from the dataplane (TIMELINE frames)
sleep 0.3
"$CTL" clients --limit 5 >"$T/clients.txt"
check "clients: 1000, counts per state" grep -Eq '^clients 1000: +booting 0 +done 900 +stuck 0 +failed 100$' "$T/clients.txt"
check "clients: 5 rows shown, the rest said" grep -q '^(5 of 1000 matching shown' "$T/clients.txt"
"$CTL" clients --state failed --sort mac --limit 3 >"$T/failed.txt"
check "clients --state failed --sort mac: the first failed MAC and its last step" \
	grep -Eq '^02:77:00:00:00:09 +198.18.1.9 +failed +4 +[0-9]+s +TFTP not-found +loader.efi$' "$T/failed.txt"
check "... 3 of 100 shown" grep -q '^(3 of 100 matching shown' "$T/failed.txt"
check "clients --limit 0 --json: counts only" \
	[ "$("$CTL" --json clients --limit 0 | jget 'd["arguments"]["counts"]["done"] * 1000 + len(d["arguments"]["clients"])')" = 900000 ]
"$CTL" trace 02:77:00:00:00:00 >"$T/trace.txt"
check "trace: 4 steps, relative times" sh -c "grep -Eq '^ +0.000 +- +DISCOVER>OFFER +dhcp +198.18.1.0 file loader.efi' '$T/trace.txt' && grep -Eq '^ +0.300 +0.100 +TFTP done +tftp-end +loader.efi 45 blocks' '$T/trace.txt'"
check "trace of an unknown MAC: result 3, exit 0" "$CTL" trace 02:77:00:00:99:99
"$CTL" clients --sort colour >/dev/null 2>&1; rc=$?
check "clients --sort colour refused (exit 1)" [ $rc -eq 1 ]
"$CTL" lease-release 198.18.0.110 >/dev/null
sleep 0.2
check "lease-release revoked in the dataplane" grep -q "revoked 02:01:00:00:00:0a 198.18.0.110" "$T/fake3.out"
check "lease-release durable" [ "$("$CTL" --json lease-get 198.18.0.110 | jget 'd["result"]')" = 3 ]
"$CTL" image-add extra.img "$T/extra.img" >/dev/null
sleep 0.2
check "config pushed on change" [ "$(grep -c '^config' "$T/fake3.out")" -ge 2 ]
# a second dataplane, same user, while the first is alive: refused, cannot inject leases
dp_pid=$("$CTL" --json status | jget 'd["arguments"]["dataplane"]["pid"]')
"$FAKE" "$DPSOCK" -b 1 -i 198.18.0.110 -m 9 >"$T/fake-second.out" 2>&1; rc=$?
checke "second dataplane refused while the first is alive: $(head -c 200 "$T/fake-second.out")" \
	'[ $rc -ne 0 ] && grep -q "^hello-refused -16 another dataplane (pid $dp_pid) is connected" "$T/fake-second.out"'
checke "... its lease event never reached the store" \
	'[ "$("$CTL" --json lease-get 02:09:00:00:00:00 | jget '\''d["result"]'\'')" = 3 ]'
out=$("$CTL" --json status)
checke "... the first one still connected, the refusal counted" \
	'[ "$(jget '\''d["arguments"]["dataplane"]["pid"]'\'' <<<"$out")" = "$dp_pid" ] && [ "$(jget '\''d["arguments"]["access"]["dataplane_busy"]'\'' <<<"$out")" -ge 1 ]'

kill "$FPID"; wait "$FPID" 2>/dev/null; FPID=

# -- a change answers once the dataplane adopted it; a refusal, a timeout, a lost dataplane
#    are errors that say so; --no-wait answers at once. The fake adopts in 700 ms, refuses
#    snapshots holding "refuse-me" and answers stats 1 s late.
start_fake "$T/fake5.out" -w 40 -C 700 -R refuse-me -S 1000
run_ctl reservation-add 52:54:00:aa:bb:d0 198.18.0.62
gen=$(sed -n 's/.*generation \([0-9]*\) in effect in the dataplane.*/\1/p' <<<"$out")
checke "reservation-add waited for the dataplane ($took ms, adoption takes 700)" \
	'[ $rc -eq 0 ] && [ -n "$gen" ] && [ $took -ge 600 ]'
check "... and answered after the dataplane's reply for generation ${gen:-?}" \
	grep -q "^config-reply ${gen:-x} 0" "$T/fake5.out"
run_ctl reservation-add 52:54:00:aa:bb:d1 198.18.0.63 --hostname refuse-me
checke "a refusal surfaces: exit 1 with the dataplane's error" \
	'[ $rc -eq 1 ] && grep -q "refused configuration generation [0-9]*: fake dataplane refuses this snapshot" <<<"$out"'
checke "... control keeps its running config (not listed, not written)" \
	'! grep -q 52:54:00:aa:bb:d1 <<<"$("$CTL" reservation-list)" && ! grep -q 52:54:00:aa:bb:d1 "$CFG"'
out=$("$CTL" --json status)
checke "... control and dataplane run the same generation" \
	'[ "$(jget '\''d["arguments"]["config"]["generation"]'\'' <<<"$out")" = "$(jget '\''d["arguments"]["dataplane"]["config_generation"]'\'' <<<"$out")" ]'
run_ctl --no-wait reservation-add 52:54:00:aa:bb:d2 198.18.0.64
checke "--no-wait answers at once ($took ms, adoption takes 700)" \
	'[ $rc -eq 0 ] && [ $took -lt 500 ] && grep -q "not waiting" <<<"$out"'
for _ in $(seq 30); do grep -q 52:54:00:aa:bb:d2 <<<"$("$CTL" reservation-list)" && break; sleep 0.1; done
check "--no-wait: the change is running once the dataplane adopted it" \
	grep -q 52:54:00:aa:bb:d2 <<<"$("$CTL" reservation-list)"
c0=$(cpu_ms); run_ctl stats; c1=$(cpu_ms)
checke "stats from a slow dataplane: $took ms waited, $((c1 - c0)) ms of daemon CPU (< 200)" \
	'[ $rc -eq 0 ] && [ $took -ge 900 ] && [ $((c1 - c0)) -lt 200 ]'
kill "$FPID"; wait "$FPID" 2>/dev/null
start_fake "$T/fake6.out" -w 40 -C 4000
run_ctl reservation-add 52:54:00:aa:bb:d3 198.18.0.65
gen=$(sed -n 's/.*did not confirm configuration generation \([0-9]*\) within 1500 ms.*/\1/p' <<<"$out")
checke "timeout after $took ms: exit 1, names generation ${gen:-?} and 1500 ms" \
	'[ $rc -eq 1 ] && [ -n "$gen" ] && grep -q "^config $gen\$" "$T/fake6.out"'
checke "... not applied" '! grep -q 52:54:00:aa:bb:d3 <<<"$("$CTL" reservation-list)"'
again=$(sed -n 's/.*sent again as generation \([0-9]*\).*/\1/p' <<<"$out")
check "... the running config sent again as generation ${again:-?}" wait_line "$T/fake6.out" "^config ${again:-x}\$"
n=$(grep -c '^config ' "$T/fake6.out")
"$CTL" reservation-add 52:54:00:aa:bb:d4 198.18.0.66 >"$T/gone.out" 2>&1 &
CP=$!
wait_line "$T/fake6.out" "^config " && for _ in $(seq 50); do
	[ "$(grep -c '^config ' "$T/fake6.out")" -gt "$n" ] && break; sleep 0.1; done
kill "$FPID"; wait "$FPID" 2>/dev/null; FPID=
wait "$CP"; rc=$?
checke "dataplane gone while waiting: exit 1, says so" \
	'[ $rc -eq 1 ] && grep -q "disconnected before confirming configuration generation" "$T/gone.out"'
run_ctl reservation-add 52:54:00:aa:bb:d5 198.18.0.67
checke "no dataplane: applied at once, says so" '[ $rc -eq 0 ] && grep -q "no dataplane connected" <<<"$out"'

# -- kill -9 of control mid-stream: every acked lease survives the restart
"$FAKE" "$DPSOCK" -b 200 -i 198.18.2.10 -m 3 -B 1 -w 1 >"$T/fake4.out" 2>&1 &
F4=$!
for _ in $(seq 500); do [ "$(grep -c '^acked' "$T/fake4.out")" -ge 5 ] && break; sleep 0.01; done
kill -9 "$DPID"; wait "$DPID" 2>/dev/null
grep '^acked 02:03' "$T/fake4.out" >"$T/acked-at-kill"
before=$(wc -l <"$T/acked-at-kill")
start_daemon || exit 1
lost=0
list=$("$CTL" --json lease-list)
while read -r _ mac ip; do
	grep -q "\"mac\":\"$mac\",\"ip\":\"$ip\"" <<<"$list" || lost=$((lost + 1))
done <"$T/acked-at-kill"
check "kill -9 control: $before acked before the kill, none lost ($lost)" [ "$lost" -eq 0 ]
echo "info kill -9 came after $before of 200 acks (mid-stream unless 200: timing-dependent)"
wait "$F4"
check "the dataplane re-sent the rest: 200 acked" [ "$(grep -c '^acked' "$T/fake4.out")" -eq 200 ]
dups=$("$CTL" --json lease-list | jget 'len(d["arguments"]["leases"]) - len(set(l["ip"] for l in d["arguments"]["leases"]))')
check "no address held twice" [ "$dups" = 0 ]
check "restart replay logged" grep -q "records replayed" "$T/daemon.log"

kill "$DPID"; wait "$DPID" 2>/dev/null; DPID=
check "socket removed at exit" [ ! -e "$SOCK" ]
echo "passed $PASS, failed $FAILS"
[ "$FAILS" -eq 0 ]
