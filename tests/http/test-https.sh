#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test-https.sh - HTTPS boot (root, lab): `stormbootctl make-cert` makes a self-signed pair,
# stormboot-control serves "https_port" with it beside plain HTTP, and curl, verifying the
# chain with --cacert, gets every HTTP feature: a 16 MiB image byte-identical (also 4 at
# once, keep-alive), HEAD, a byte range, 416, 404 for traversals, 405, a rendered template
# whose base_url is https://. Without the CA curl refuses the server (exit 60); a client
# that speaks plain HTTP to the HTTPS port gets nothing. Counters: tls_requests.
#
# Usage: test-https.sh [BUILD_DIR]
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
export SB_PREFIX=${SB_PREFIX:-htls}
. "$HERE/http-lib.sh" # the lab: cli, ctl, http_start_ctl (tests/http/http-lib.sh)
sb_need_cmd curl ip cmp dd python3
http_lab_up https 50
S=https://$SB_SRV_ADDR:8443

"$CTL" make-cert --cert "$W/cert.pem" --key "$W/key.pem" --ip "$SB_SRV_ADDR" --days 2 >/dev/null
sb_check "make-cert: key file is private (0600)" [ "$(stat -c %a "$W/key.pem")" = 600 ]
head -c $((16 << 20)) /dev/urandom >"$W/big.img"
printf 'kernel bytes\n' >"$W/vmlinuz"
cat >"$W/stormboot.json" <<EOC
{
  "interface": "$SB_IF_SRV",
  "server_ip": "$SB_SRV_ADDR",
  "dhcp": {"subnets": [{"network": "198.18.0.0/24",
                        "pool": {"start": "198.18.0.60", "end": "198.18.0.99"}}]},
  "http": {"listen": "$SB_SRV_ADDR:8080", "https_port": 8443,
           "tls_cert": "$W/cert.pem", "tls_key": "$W/key.pem"},
  "images": [{"name": "big.img", "path": "$W/big.img"},
             {"name": "linux/vmlinuz", "path": "$W/vmlinuz"}]
}
EOC
http_start_ctl
C=(curl -s --cacert "$W/cert.pem")
sb_wait_for 5 cli "${C[@]}" -f -o /dev/null "$S/linux/vmlinuz" ||
	sb_fail "no HTTPS on $S ($(tail -3 "$SB_RUN/ctl.log"))"
code() { cli "${C[@]}" -o /dev/null -w '%{http_code}' "$@"; }

cli "${C[@]}" -o "$W/got" -w '%{http_code} %{size_download} %{ssl_verify_result}\n' "$S/big.img" >"$W/get.out"
sb_check "HTTPS GET 16 MiB: 200, chain verified" grep -qx "200 16777216 0" "$W/get.out"
sb_check "HTTPS GET: byte-identical" cmp -s "$W/big.img" "$W/got"
pids=""
for i in 1 2 3 4; do
	cli "${C[@]}" -m 60 -o "$W/par$i" "$S/big.img" &
	pids="$pids $!"
done
for p in $pids; do wait "$p" || true; done
ok=0
for i in 1 2 3 4; do cmp -s "$W/big.img" "$W/par$i" && ok=$((ok + 1)); done
sb_check "4 parallel HTTPS GETs byte-identical ($ok/4)" [ "$ok" = 4 ]
cli "${C[@]}" -I "$S/big.img" | tr -d '\r' >"$W/head.out"
sb_check "HTTPS HEAD: 200, Content-Length 16777216" \
	sh -c "grep -q '^HTTP/1.1 200' '$W/head.out' && grep -qi '^Content-Length: 16777216$' '$W/head.out'"
cli "${C[@]}" -r 1000000-1999999 -o "$W/part" -w '%{http_code}' "$S/big.img" >"$W/range.out"
dd if="$W/big.img" of="$W/part.want" bs=1000000 skip=1 count=1 status=none
sb_check "HTTPS Range: 206, the right bytes" \
	sh -c "[ \"\$(cat '$W/range.out')\" = 206 ] && cmp -s '$W/part' '$W/part.want'"
sb_check "HTTPS Range past the end: 416" [ "$(code -r 40000000- "$S/big.img")" = 416 ]
sb_check "HTTPS keep-alive: two GETs, one connection" \
	[ "$(cli "${C[@]}" -o /dev/null -o /dev/null -w '%{num_connects}' "$S/linux/vmlinuz" "$S/linux/vmlinuz")" = 10 ]
sb_check "HTTPS traversal: 404" [ "$(code --path-as-is "$S/../../etc/passwd")" = 404 ]
sb_check "HTTPS POST: 405" [ "$(code -X POST "$S/big.img")" = 405 ]
ctl raw '{"command": "template-add", "arguments": {"name": "boot.ipxe", "text": "#!ipxe\nkernel ${base_url}/linux/vmlinuz\n"}}' >/dev/null
sb_check "template over HTTPS: base_url is https://" \
	sh -c "ip netns exec $SB_NS_CLI curl -s --cacert '$W/cert.pem' '$S/ipxe/boot.ipxe?mac=02:00:00:00:00:01' | grep -qx 'kernel $S/linux/vmlinuz'"
sb_check "plain HTTP beside it still served" \
	[ "$(cli curl -s -o /dev/null -w '%{http_code}' "http://$SB_SRV_ADDR:8080/linux/vmlinuz")" = 200 ]

# the chain is what is verified: without the CA, curl refuses (60: peer certificate)
rc=0
cli curl -s -o /dev/null "$S/linux/vmlinuz" || rc=$?
sb_check "without --cacert curl refuses the server (exit 60, got $rc)" [ "$rc" = 60 ]
sb_check "plain HTTP to the HTTPS port gets no HTTP answer" \
	[ "$(cli curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$SB_SRV_ADDR:8443/linux/vmlinuz")" = 000 ]

ctl --json http-status >"$W/status.json"
sb_check "http-status: HTTPS listening, tls_requests counted" python3 -c "
import json
a = json.load(open('$W/status.json'))['arguments']
assert a['https_listening'] and a['https_port'] == 8443, a
assert a['counters']['tls_requests'] >= 12, a['counters']
"
sb_check "access log marks HTTPS requests" grep -q '^.*https 198.18.0.50:[0-9]* "GET /big.img HTTP/1.1" 200 16777216/16777216' "$SB_RUN/ctl.log"
sb_check "stormboot-control still running" sb_alive ctl
sb_summary
