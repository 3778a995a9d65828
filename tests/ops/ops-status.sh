#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ops-status.sh - the status page in headless Chromium (issue 18, item 6): stormboot-control
# (metrics.listen 127.0.0.1:9100 in the server namespace) + the dataplane in the lab; busybox
# udhcpc takes a lease and tftp-hpa fetches boot.img; Debian's chromium (headless, in the server
# namespace) takes a screenshot of http://127.0.0.1:9100/?mac=<the client> (a PNG of the window's
# size with a rendered page in it: many colours, not blank) and dumps the DOM, in which the pool
# shows one bound lease of 100, the storm one ACK and one completed transfer, the completions
# chart, the latency percentiles of as many packets as the dataplane's own count, boot.img's
# bytes, the client's lease with the address udhcpc got, the clients per boot state (the lab
# client counted), the list of recent stuck/failed clients, and the client's boot timeline as
# `stormbootctl trace` prints it (its DHCP REQUEST>ACK and TFTP RRQ steps, relative times).
#
# Usage (root): BUILD_DIR=build tests/ops/ops-status.sh     (SB_PREFIX default "mes")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-mes}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ops-lib.sh"
ops_init
sb_need_cmd chromium curl tftp busybox
MET=127.0.0.1:9100
CLI_MAC=02:5b:00:00:01:01 # lab.sh: the client namespace's MAC
IMG_SIZE=200000

dp_image boot.img $IMG_SIZE
dp_image undionly.kpxe 65536
dp_config '{"metrics": {"listen": "'$MET'"}}'
ops_up --tx-csum-off
# the page's history is sampled every 5 s: wait for two points before the traffic, so that the
# boot below falls inside its window
history_ready() { ops_in_srv curl -sS --max-time 5 "http://$MET/" | grep -q 'id=history>last'; }
sb_wait_for 30 history_ready || sb_fail "the page's history did not start"

ops_udhcpc "$SB_NS_CLI" "$DP_WORK/lease" || sb_fail "udhcpc got no lease: $(tail -3 "$DP_WORK/lease.log")"
CLI_IP=$(sed -n 's/^ip=\([0-9.]*\) .*/\1/p' "$DP_WORK/lease")
sb_log "udhcpc: $CLI_IP"
mkdir -p "$DP_WORK/dl"
ops_tftp "$SB_NS_CLI" boot.img "$DP_WORK/dl/boot" >/dev/null
sb_check "tftp-hpa: boot.img downloaded" cmp -s "$DP_WORK/img/boot.img" "$DP_WORK/dl/boot"
dp_idle 10 || sb_fail "TFTP sessions still active"
# and for a point taken after the transfer
history_after() { ops_in_srv curl -sS --max-time 5 "http://$MET/" | grep -q '1 TFTP transfers completed'; }
sb_wait_for 20 history_after || sb_fail "the page's history never showed the transfer"

URL="http://$MET/?mac=$CLI_MAC"
chrome() { # chromium headless in the server namespace, its profile in the work dir
	ops_in_srv env HOME="$DP_WORK/home" timeout 60 chromium --headless --no-sandbox --disable-gpu \
		--disable-dev-shm-usage --no-first-run --user-data-dir="$DP_WORK/chrome" \
		--hide-scrollbars "$@" 2>>"$DP_WORK/chromium.log"
}
mkdir -p "$DP_WORK/home"
chrome --window-size=1280,1600 --screenshot="$DP_WORK/page.png" "$URL" >/dev/null || true
sb_check "chromium wrote a screenshot" test -s "$DP_WORK/page.png"
png=$("$DP_PY" "$HERE/png-check.py" "$DP_WORK/page.png" 2>&1 || true)
sb_log "screenshot: $(stat -c %s "$DP_WORK/page.png" 2>/dev/null) bytes; width height colours non-white-permille: $png"
read -r pw ph pcol pnw <<<"$png"
sb_check "a PNG of the window's size (1280x1600): $pw x $ph" test "$pw" = 1280 -a "$ph" = 1600
sb_check "a rendered page, not a blank one ($pcol colours, $pnw per mille not white)" \
	test "${pcol:-0}" -ge 50 -a "${pnw:-0}" -ge 10
chrome --dump-dom "$URL" >"$DP_WORK/dom.html" || true
sb_check "chromium dumped the DOM" grep -q '<h1>stormboot</h1>' "$DP_WORK/dom.html"

# text of the element with id ID (tags stripped, blanks squeezed)
el() {
	"$DP_PY" - "$DP_WORK/dom.html" "$1" <<'PY'
import html.parser, sys
want, depth, out = sys.argv[2], 0, []
class P(html.parser.HTMLParser):
    def handle_starttag(self, tag, attrs):
        global depth
        if depth or dict(attrs).get("id") == want:
            depth += 1
    def handle_endtag(self, tag):
        global depth
        if depth:
            depth -= 1
    def handle_data(self, d):
        if depth:
            out.append(d)
P().feed(open(sys.argv[1]).read())
print(" ".join(" ".join(out).split()))
PY
}
lat_count=$(dp_get /stormboot/latency latency_count)
sb_log "pools: $(el pools)"
sb_log "dhcp: $(el dhcp) | tftp: $(el tftp)"
sb_log "history: $(el history)"
sb_log "latency: $(el latency) | images: $(el images)"
sb_log "client: $(el client)"
sb_check "dataplane shown connected" test "$(el dataplane)" = connected
sb_check "pool 198.18.0.0/24: 100 addresses, 1 bound" grep -q '198.18.0.0/24 100 1 0 0 1 %' <<<"$(el pools)"
sb_check "DHCP: 1 ACK sent" grep -q 'ACK sent 1 ' <<<"$(el dhcp) "
sb_check "TFTP: 1 transfer completed, none active" grep -q 'transfers active 0 started 1 completed 1 ' <<<"$(el tftp) "
sb_check "completions over time: the transfer is in the history" grep -q '1 TFTP transfers completed, 1 DHCPACKs' <<<"$(el history)"
sb_check "the chart is drawn" grep -q '<svg' "$DP_WORK/dom.html"
sb_check "latency percentiles over the dataplane's $lat_count packets" \
	grep -q "over $lat_count packets" "$DP_WORK/dom.html"
sb_check "latency p99 in microseconds" grep -Eq 'p50 p90 p99 p99.9 max mean [0-9.]+ µs' <<<"$(el latency)"
sb_check "boot.img: $IMG_SIZE bytes served" grep -q "boot.img 200.0 kB" <<<"$(el images)"
sb_check "client $CLI_MAC: its lease $CLI_IP, bound" grep -q "MAC $CLI_MAC address $CLI_IP lease bound, expires in" <<<"$(el client)"
# boot timelines: clients per state, the recent stuck/failed list, the client's steps
sb_log "clients per state: $(el clients) | stuck/failed: $(el trouble)"
sb_log "timeline: $(el trace)"
sb_check "clients per state: booting, done, stuck, failed with counts" \
	grep -Eq '^booting [0-9]+ done [0-9]+ stuck [0-9]+ failed [0-9]+$' <<<"$(el clients)"
n_clients=$(el clients | tr -cs '0-9' ' ' | xargs -n1 | awk '{s += $1} END {print s + 0}')
sb_check "the lab client is counted in a state ($n_clients in all)" test "$n_clients" -ge 1
sb_check "the stuck/failed list is on the page" grep -q 'Recently stuck or failed' "$DP_WORK/dom.html"
trace=$(el trace)
sb_check "the timeline's header: $CLI_MAC with its address" grep -q "client $CLI_MAC ip $CLI_IP state " <<<"$trace"
sb_check "the timeline starts at +0.000" grep -Eq '\+TIME \(s\) GAP \(s\) STEP KIND DETAIL 0\.000 - ' <<<"$trace"
sb_check "the timeline shows udhcpc's DHCP ACK" grep -Eq '[0-9]+\.[0-9]{3} [0-9.]+ REQUEST>ACK [a-z0-9-]+ ' <<<"$trace"
sb_check "the timeline shows tftp-hpa's TFTP RRQ of boot.img" grep -Eq '[0-9]+\.[0-9]{3} [0-9.]+ TFTP RRQ [a-z0-9-]+ boot\.img' <<<"$trace"
sb_check "the timeline shows the transfer done" grep -q 'TFTP done' <<<"$trace"
sb_summary
