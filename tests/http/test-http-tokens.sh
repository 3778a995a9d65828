#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test-http-tokens.sh - per-client boot tokens (root, lab).
#
# An image marked "protected" is served over HTTP only with a boot token (HMAC-SHA256 over
# MAC, leased IP, image, expiry; docs/SECURITY.md). The lab: the client namespace has
# 198.18.0.50 (leased to 02:77:00:00:00:00 through the fake dataplane) and 198.18.0.51 (no
# lease). Checks: the leased client's rendered iPXE script carries a token URL and the
# pinned digest; it fetches the image with it (byte-identical); the same URL from .51 is
# refused 403 and counted "foreign"; no token, a malformed one, an altered one: 403 by
# reason; a script rendered for a claimed ?mac= from an address not leased to it gives a
# token that is refused ("no_lease"); one key rotation keeps the token, a second voids it
# ("unknown_key"); an expired token is refused ("expired"); a token for one image does not
# open another; an unprotected image needs none. The access log shows every token redacted
# (its signature nowhere in the log), the same token the same way.
#
# Usage: test-http-tokens.sh [BUILD_DIR]
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
export SB_PREFIX=${SB_PREFIX:-htok}
. "$HERE/http-lib.sh" # the lab: cli, ctl, http_start_ctl (tests/http/http-lib.sh)
sb_need_cmd curl ip cmp python3 sha256sum
http_lab_up tokens 50 51
U=http://$SB_SRV_ADDR:8080
MAC=02:77:00:00:00:00

head -c $((4 << 20)) /dev/urandom >"$W/vmlinuz"
printf 'open bytes\n' >"$W/open"
SUM=$(sha256sum "$W/vmlinuz" | cut -d' ' -f1)
write_config() { # TOKEN_TTL_S
	cat >"$W/stormboot.json" <<EOC
{
  "interface": "$SB_IF_SRV",
  "server_ip": "$SB_SRV_ADDR",
  "dhcp": {"subnets": [{"network": "198.18.0.0/24",
                        "pool": {"start": "198.18.0.50", "end": "198.18.0.99"}}]},
  "http": {"listen": "$SB_SRV_ADDR:8080", "token_ttl_s": $1},
  "images": [{"name": "linux/vmlinuz", "path": "$W/vmlinuz", "protected": true,
              "sha256": "$SUM"},
             {"name": "initrd", "path": "$W/open", "protected": true},
             {"name": "open", "path": "$W/open"}]
}
EOC
}
write_config 600
http_start_ctl
sb_wait_for 5 cli curl -sf -o /dev/null "$U/open" || sb_fail "no HTTP on $U"
sb_check "key file private (0600)" [ "$(stat -c %a "$W/state/token.keys")" = 600 ]
"$FAKE" "$W/dataplane.sock" -b 1 -i 198.18.0.50 -m 0x77 >"$W/fake.out" 2>&1 || true
sb_check "fake dataplane bound 198.18.0.50 to $MAC" grep -q "^acked" "$W/fake.out"
ctl raw '{"command": "template-add", "arguments": {"name": "boot.ipxe", "text": "#!ipxe\nkernel ${url:linux/vmlinuz}\nimgverify-sha256 ${sha256:linux/vmlinuz}\ninitrd ${url:open}\n"}}' >/dev/null

code() { # FROM URL
	cli curl -s --interface "$1" -o "$W/body" -w '%{http_code}' "$2"
}
cli curl -s --interface 198.18.0.50 "$U/ipxe/boot.ipxe" >"$W/script"
cat "$W/script"
URL=$(sed -n 's/^kernel //p' "$W/script")
sb_check "script: a token URL for the protected image" \
	grep -Eq "^kernel $U/linux/vmlinuz\?t=027700000000\.1\.[0-9]+\.[0-9a-f]{32}$" "$W/script"
sb_check "script: the pinned digest as a variable" grep -qx "imgverify-sha256 $SUM" "$W/script"
sb_check "script: no token for an unprotected image" grep -qx "initrd $U/open" "$W/script"
sb_check "leased client fetches with its token: 200" [ "$(code 198.18.0.50 "$URL")" = 200 ]
sb_check "... byte-identical" cmp -s "$W/body" "$W/vmlinuz"
sb_check "a second client copying the URL: 403" [ "$(code 198.18.0.51 "$URL")" = 403 ]
sb_check "no token: 403" [ "$(code 198.18.0.50 "$U/linux/vmlinuz")" = 403 ]
sb_check "malformed token: 403" [ "$(code 198.18.0.50 "$U/linux/vmlinuz?t=nonsense")" = 403 ]
case $URL in *0) BAD=${URL%?}1 ;; *) BAD=${URL%?}0 ;; esac
sb_check "altered token: 403" [ "$(code 198.18.0.50 "$BAD")" = 403 ]
sb_check "the token is for one image: 403 on another protected one" \
	[ "$(code 198.18.0.50 "$U/initrd${URL#*linux/vmlinuz}")" = 403 ]
cli curl -s --interface 198.18.0.51 "$U/ipxe/boot.ipxe?mac=$MAC" >"$W/script51"
URL51=$(sed -n 's/^kernel //p' "$W/script51")
sb_check "a token got by claiming ?mac= from an address not leased to it: 403" \
	[ "$(code 198.18.0.51 "$URL51")" = 403 ]
sb_check "unprotected image without token: 200" [ "$(code 198.18.0.51 "$U/open")" = 200 ]

ctl token-key-rotate >/dev/null
sb_check "after one rotation the token in flight still works" [ "$(code 198.18.0.50 "$URL")" = 200 ]
ctl token-key-rotate >/dev/null
sb_check "after a second rotation it is refused" [ "$(code 198.18.0.50 "$URL")" = 403 ]
cli curl -s --interface 198.18.0.50 "$U/ipxe/boot.ipxe" >"$W/script2"
sb_check "a new script carries a token of key 3" grep -q '?t=027700000000\.3\.' "$W/script2"
sb_check "... which works" [ "$(code 198.18.0.50 "$(sed -n 's/^kernel //p' "$W/script2")")" = 200 ]

write_config 1
ctl config-reload >/dev/null
cli curl -s --interface 198.18.0.50 "$U/ipxe/boot.ipxe" >"$W/script3"
sleep 2.5
sb_check "an expired token: 403" [ "$(code 198.18.0.50 "$(sed -n 's/^kernel //p' "$W/script3")")" = 403 ]

ctl --json http-status >"$W/status.json"
sb_check "refusals counted by reason" python3 -c "
import json
t = json.load(open('$W/status.json'))['arguments']['tokens']
print(t)
assert t['refused_foreign'] == 1, t
assert t['refused_missing'] == 1, t
assert t['refused_malformed'] == 1, t
assert t['refused_bad'] == 2, t
assert t['refused_no_lease'] == 1, t
assert t['refused_unknown_key'] == 1, t
assert t['refused_expired'] == 1, t
assert t['accepted'] == 3, t
assert t['key_id'] == 3 and t['previous_key_id'] == 2, t
"
sb_check "the log names the foreign token's MAC" grep -q "boot token foreign, issued for $MAC" "$SB_RUN/ctl.log"
# A token is a bearer secret until it expires: the access log shows MAC.KEYID.EXPIRY and, for
# the signature, 8 hex digits of its SHA-256 (boot_token_redact), enough to match two lines.
TOK=${URL#*\?t=}
RED=${TOK%.*}.redacted-$(printf '%s' "${TOK##*.}" | sha256sum | cut -c1-8)
sb_check "access log: the leased client's fetch, its token redacted" \
	grep -qF "198.18.0.50:" <(grep -F "\"GET /linux/vmlinuz?t=$RED HTTP/1.1\" 200 " "$SB_RUN/ctl.log")
sb_check "access log: the copy from .51, the same redacted token, 403" \
	grep -qF "198.18.0.51:" <(grep -F "\"GET /linux/vmlinuz?t=$RED HTTP/1.1\" 403 " "$SB_RUN/ctl.log")
sb_check "access log: a malformed token redacted too" \
	grep -qF "\"GET /linux/vmlinuz?t=redacted-$(printf nonsense | sha256sum | cut -c1-8) HTTP/1.1\" 403 " "$SB_RUN/ctl.log"
for f in "$W/script" "$W/script2" "$W/script3" "$W/script51"; do
	s=$(sed -n 's/^kernel .*\.//p' "$f")
	sb_check "signature ${s:0:6}... of $(basename "$f") nowhere in the log" \
		bash -c '[ ${#1} = 32 ] && ! grep -qF -- "$1" "$2"' _ "$s" "$SB_RUN/ctl.log"
done
sb_check "stormboot-control still running" sb_alive ctl
sb_summary
