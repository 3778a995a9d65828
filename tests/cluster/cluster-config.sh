#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# cluster-config.sh - the shared config through etcd (issue 19 item 1, docs/SCALE-OUT.md
# "Shared configuration"). The lab (clu-lib.sh): one etcd member, 2 stormboot servers (control
# + dataplane on AF_XDP) on one bridge, busybox udhcpc as a BIOS PXE client (option 93 = 0)
# whose MAC is one of server 2's RFC 3074 buckets.
#   1. at start one server pushed its file's shared sections to etcd (PREFIX config);
#   2. server 1's file gets another pool and another BIOS boot file, `stormbootctl
#      config-share` on server 1: server 2's dataplane adopts it within a second of the API's
#      answer, and udhcpc, served by server 2, gets an address of the new pool and the new
#      boot file;
#   3. an invalid document put with etcdctl (a pool outside its subnet) and one the
#      dataplanes cannot take at run time (tftp.transfer_ports): refused by both servers,
#      counted, logged with the field; server 2 still serves the previous shared config.
# Usage (root): BUILD_DIR=build tests/cluster/cluster-config.sh   (SB_PREFIX default "ec")
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export CLU_RELAY=0
. "$HERE/clu-lib.sh"
clu_init
clu_up 2 1
clu_etcd_start 1
export CLU_BOOT='{ "bios": "undionly.kpxe" }'
for i in 1 2; do clu_config "$i"; done
for i in 1 2; do clu_server_start "$i"; done
sb_wait_for 10 sh -c "[ \"\$(STORMBOOT_SOCKET='$CLU_WORK/s1/control.sock' '$CLU_CTL' --json status | '$CLU_PY' -c 'import json,sys; print(len(json.load(sys.stdin)[\"arguments\"][\"cluster\"][\"servers\"]))')\" = 2 ]" ||
	sb_fail "the servers do not see each other"

etcdc() { sb_in "${P}et" env ETCDCTL_API=3 etcdctl --endpoints http://198.18.7.1:2379 --command-timeout=5s "$@"; }
ctl() { STORMBOOT_SOCKET=$CLU_WORK/s$1/control.sock "$CLU_CTL" "${@:2}"; }
cget() { ctl "$1" --json config-get | "$CLU_PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "d['arguments']$2"; }
shared() { clu_cl "$1" "['shared']['$2']"; }
dpgen() { clu_status "$1" | "$CLU_PY" -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["dataplane"]["config_generation"])'; }

# 1. pushed at start by exactly one of the two
sb_wait_for 5 sh -c "[ -n \"\$(ip netns exec ${P}et env ETCDCTL_API=3 etcdctl --endpoints http://198.18.7.1:2379 get --print-value-only /stormboot/config)\" ]" || true
doc=$(etcdc get --print-value-only /stormboot/config)
sb_check "etcd holds the shared config, pushed at start by one server ($(shared 1 config_pushed) + $(shared 2 config_pushed))" \
	sh -c "[ \$(($(shared 1 config_pushed) + $(shared 2 config_pushed))) = 1 ] && echo '$doc' | grep -q '\"bios\":\"undionly.kpxe\"'"

# a client of server 2's buckets
macs=()
for k in $(seq 1 250); do
	m=$(printf '52:54:00:5c:0c:%02x' "$k")
	[ "$(clu_owner "$m")" = 2 ] && macs+=("$m")
	[ "${#macs[@]}" -ge 3 ] && break
done
[ "${#macs[@]}" -ge 3 ] || sb_fail "no 3 MACs of server 2's buckets found"

pxe_client() { # MAC OUT: udhcpc as a BIOS PXE client; "ip= serverid= boot_file=" in OUT
	local mac=$1 out=$2
	cat >"$CLU_WORK/pxe.script" <<-'EOS'
	#!/bin/sh
	[ "$1" = bound ] && echo "ip=$ip serverid=$serverid boot_file=$boot_file" >"$LEASE_OUT"
	exit 0
	EOS
	chmod +x "$CLU_WORK/pxe.script"
	sb_in "${P}uc" ip link set "${P}u0" down
	sb_in "${P}uc" ip link set "${P}u0" address "$mac"
	sb_in "${P}uc" ip link set "${P}u0" up
	rm -f "$out"
	sb_in "${P}uc" env LEASE_OUT="$out" timeout 30 busybox udhcpc -i "${P}u0" -n -q -t 5 -T 2 \
		-V PXEClient -x 0x5d:0000 -s "$CLU_WORK/pxe.script" >"$out.log" 2>&1 || true
	cat "$out" >&2 2>/dev/null || true
}
pxe_client "${macs[0]}" "$CLU_WORK/c0"
sb_check "before: server 2 serves ${macs[0]} from the pool .100-.199 with undionly.kpxe" \
	grep -Eq '^ip=198\.18\.0\.1[0-9][0-9] serverid=198\.18\.0\.2 boot_file=undionly\.kpxe$' "$CLU_WORK/c0"

# 2. server 1's file changed, config-share on server 1
"$CLU_PY" - "$CLU_WORK/s1/stormboot.json" <<-'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c['dhcp']['boot']['bios'] = 'shared.kpxe'
c['dhcp']['subnets'][0]['pool'] = {'start': '198.18.0.150', 'end': '198.18.0.159'}
json.dump(c, open(sys.argv[1], 'w'), indent=1)
PY
g2=$(dpgen 2)
out=$(ctl 1 config-share 2>&1) || true
t0=$(date +%s%N)
g2now=$(dpgen 2)
sb_log "config-share on server 1: $out"
# the API answers once every live server applied it (cluster_apply.h): server 2's dataplane too
sb_check "config-share's answer: in effect on both live servers; server 2's dataplane had adopted it then ($g2 -> $g2now)" \
	sh -c "echo '$out' | grep -q 'in effect on all 2 live servers' && [ '$g2now' != '$g2' ]"
sb_check "config-share on server 1 answered: in effect there, shared through etcd" \
	sh -c "echo '$out' | grep -q 'in effect in the dataplane; shared through etcd'"
sb_wait_for 5 sh -c "[ \"\$(STORMBOOT_SOCKET='$CLU_WORK/s2/control.sock' '$CLU_CTL' --json status | '$CLU_PY' -c 'import json,sys; print(json.load(sys.stdin)[\"arguments\"][\"dataplane\"][\"config_generation\"])')\" != '$g2' ]" || true
took=$((($(date +%s%N) - t0) / 1000000))
sb_log "server 2's dataplane adopted the shared config $took ms after server 1's API answered"
sb_check "server 2's dataplane adopted it within a second ($took ms; generation $g2 -> $(dpgen 2))" \
	sh -c "[ '$(dpgen 2)' != '$g2' ] && [ $took -le 1000 ]"
sb_check "server 2 runs the new pool and boot file, its own server_ip kept" \
	sh -c "[ \"$(cget 2 "['dhcp']['boot']['bios']")\" = shared.kpxe ] && [ \"$(cget 2 "['dhcp']['subnets'][0]['pool']['start']")\" = 198.18.0.150 ] && [ \"$(cget 2 "['server_ip']")\" = 198.18.0.2 ]"
pxe_client "${macs[1]}" "$CLU_WORK/c1"
sb_check "after: server 2 serves ${macs[1]} from the new pool .150-.159 with shared.kpxe" \
	grep -Eq '^ip=198\.18\.0\.15[0-9] serverid=198\.18\.0\.2 boot_file=shared\.kpxe$' "$CLU_WORK/c1"

# 3. refused documents: a bad pool (the parser), transfer ports (the dataplanes)
r1=$(shared 1 config_refused) r2=$(shared 2 config_refused)
etcdc put /stormboot/config '{"dhcp": {"subnets": [{"network": "198.18.0.0/24", "pool": {"start": "198.18.5.10", "end": "198.18.5.20"}}]}}' >/dev/null
sb_wait_for 5 sh -c "[ \"\$(STORMBOOT_SOCKET='$CLU_WORK/s2/control.sock' '$CLU_CTL' --json status | '$CLU_PY' -c 'import json,sys; print(json.load(sys.stdin)[\"arguments\"][\"cluster\"][\"shared\"][\"config_refused\"])')\" -gt $r2 ]" || true
sb_wait_for 5 sh -c "[ \"\$(STORMBOOT_SOCKET='$CLU_WORK/s1/control.sock' '$CLU_CTL' --json status | '$CLU_PY' -c 'import json,sys; print(json.load(sys.stdin)[\"arguments\"][\"cluster\"][\"shared\"][\"config_refused\"])')\" -gt $r1 ]" || true
sb_check "a pool outside its subnet (etcdctl): refused by both servers, counted ($(shared 1 config_refused), $(shared 2 config_refused))" \
	sh -c "[ $(shared 1 config_refused) -gt $r1 ] && [ $(shared 2 config_refused) -gt $r2 ]"
sb_check "server 2's log names the field" \
	grep -q "shared config (etcd revision [0-9]*) refused by this server: .*dhcp.subnets\[0\].pool" "$SB_RUN/ctl2.log"
good=$(ctl 1 --json config-get | "$CLU_PY" -c '
import json, sys
c = json.load(sys.stdin)["arguments"]
d = {k: c[k] for k in ("dhcp", "tftp", "udp_checksum") if k in c}
d["dhcp"].pop("reservations", None); d["tftp"].pop("mtu", None)
d["tftp"]["transfer_ports"] = {"first": 62000, "last": 62999}
print(json.dumps(d))')
r1=$(shared 1 config_refused) r2=$(shared 2 config_refused)
etcdc put /stormboot/config "$good" >/dev/null
sb_wait_for 15 sh -c "[ \"\$(STORMBOOT_SOCKET='$CLU_WORK/s2/control.sock' '$CLU_CTL' --json status | '$CLU_PY' -c 'import json,sys; print(json.load(sys.stdin)[\"arguments\"][\"cluster\"][\"shared\"][\"config_refused\"])')\" -gt $r2 ]" || true
sb_wait_for 15 sh -c "[ \"\$(STORMBOOT_SOCKET='$CLU_WORK/s1/control.sock' '$CLU_CTL' --json status | '$CLU_PY' -c 'import json,sys; print(json.load(sys.stdin)[\"arguments\"][\"cluster\"][\"shared\"][\"config_refused\"])')\" -gt $r1 ]" || true
sb_check "other transfer ports (etcdctl): refused by both dataplanes, counted ($(shared 1 config_refused), $(shared 2 config_refused))" \
	sh -c "[ $(shared 1 config_refused) -gt $r1 ] && [ $(shared 2 config_refused) -gt $r2 ]"
sb_check "server 2's log says the dataplane needs a restart for it" \
	grep -q "refused by this server: .*tftp.transfer_ports: changing it needs a dataplane restart" "$SB_RUN/ctl2.log"
sb_check "server 2's running config unchanged" \
	sh -c "[ \"$(cget 2 "['dhcp']['subnets'][0]['pool']['start']")\" = 198.18.0.150 ] && [ \"$(cget 2 "['tftp']['transfer_ports']['first']")\" = 61000 ]"
pxe_client "${macs[2]}" "$CLU_WORK/c2"
sb_check "server 2 still serves ${macs[2]} from .150-.159 with shared.kpxe" \
	grep -Eq '^ip=198\.18\.0\.15[0-9] serverid=198\.18\.0\.2 boot_file=shared\.kpxe$' "$CLU_WORK/c2"
sb_summary
