#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ops-prometheus.sh - the metrics endpoint scraped by a real Prometheus (issue 18, item 5):
# stormboot-control (metrics.listen 127.0.0.1:9100 in the server namespace) + the dataplane in
# the lab; busybox udhcpc takes a lease, tftp-hpa fetches boot.img twice and a missing file
# once; Debian's prometheus (scrape interval 1 s, loopback, storage in the work dir) scrapes
# /metrics, and its HTTP API (/api/v1/query) must return the series with the values the traffic
# made: DISCOVER/ACK counts, one bound lease in the pool, 2 completed transfers, 2 x the image's
# bytes for boot.img, a latency histogram whose count is the dataplane's own, a TFTP error, and
# the client in control's boot timelines (stormboot_clients: the lab client in one state, the
# same counts as `stormbootctl clients`; failed after the missing file, and so listed on the
# status page; its steps counted, none lost). HTTP boot (http.listen 198.18.0.1:8080): curl
# fetches boot.img twice and half of it once (a range), and sends one bad firmware report:
# stormboot_http_image_served_bytes_total{image="boot.img"} is 2.5 x its size, 3 responses,
# stormboot_http_firmware_reports_total{result="bad_request"} 1.
#
# Usage (root): BUILD_DIR=build tests/ops/ops-prometheus.sh     (SB_PREFIX default "mep")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-mep}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ops-lib.sh"
ops_init
sb_need_cmd prometheus curl tftp busybox
PROM_PORT=9090
MET=127.0.0.1:9100
IMG_SIZE=300000

dp_image boot.img $IMG_SIZE
dp_image undionly.kpxe 65536
dp_config '{"metrics": {"listen": "'$MET'"}, "http": {"listen": "198.18.0.1:8080"}}'
ops_up --tx-csum-off

# --- the endpoint itself (curl in the server namespace)
ops_in_srv curl -sS -D "$DP_WORK/h" -o "$DP_WORK/m0" "http://$MET/metrics"
sb_check "/metrics answers text/plain; version=0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' "$DP_WORK/h"
sb_check "... with the dataplane up" grep -qx 'stormboot_dataplane_up 1' "$DP_WORK/m0"

# --- traffic from real clients
ops_udhcpc "$SB_NS_CLI" "$DP_WORK/lease" || sb_fail "udhcpc got no lease: $(tail -3 "$DP_WORK/lease.log")"
sb_log "udhcpc: $(cat "$DP_WORK/lease")"
mkdir -p "$DP_WORK/dl"
for i in 1 2; do
	ops_tftp "$SB_NS_CLI" boot.img "$DP_WORK/dl/boot$i" >/dev/null
	sb_check "tftp-hpa: boot.img #$i downloaded" cmp -s "$DP_WORK/img/boot.img" "$DP_WORK/dl/boot$i"
done
ops_tftp "$SB_NS_CLI" no-such-file "$DP_WORK/dl/none" >/dev/null
sb_check "tftp-hpa: a missing file is an error" grep -qi "not found" "$DP_WORK/dl/none.log"
dp_idle 10 || sb_fail "TFTP sessions still active"
# HTTP boot: the same image, twice whole and once half (a range), once a bad firmware report
HB=http://198.18.0.1:8080
sb_wait_for 20 sh -c "ip netns exec $SB_NS_SRV curl -sf -o /dev/null $HB/boot.img" ||
	sb_fail "HTTP: boot.img not served (control.log: $(tail -2 "$SB_RUN/control.log" 2>/dev/null))"
ops_in_srv curl -sf -o "$DP_WORK/dl/http2" "$HB/boot.img"
ops_in_srv curl -sf -o "$DP_WORK/dl/http3" -r 0-$((IMG_SIZE / 2 - 1)) "$HB/boot.img"
sb_check "HTTP: boot.img whole" cmp -s "$DP_WORK/img/boot.img" "$DP_WORK/dl/http2"
sb_check "HTTP: half of boot.img" test "$(stat -c %s "$DP_WORK/dl/http3")" = $((IMG_SIZE / 2))
fwcode=$(ops_in_srv curl -s -o /dev/null -w '%{http_code}' "$HB/fwlog?mac=02:00:00:00:00:01&step=x&err=zz")
sb_check "HTTP: a bad firmware report is refused 400 ($fwcode)" test "$fwcode" = 400
ops_in_srv curl -sS -o "$DP_WORK/m1" -w '%{time_total}' "http://$MET/metrics" >"$DP_WORK/t1"
sb_log "a scrape of /metrics took $(cat "$DP_WORK/t1") s (curl time_total)"
sb_check "promtool check metrics: the exposition is valid" sh -c "promtool check metrics <'$DP_WORK/m1' >'$DP_WORK/promtool.log' 2>&1"
sed 's/^/  promtool: /' "$DP_WORK/promtool.log" >&2

# --- Prometheus, in the server namespace, scraping loopback every second
mkdir -p "$DP_WORK/prom"
cat >"$DP_WORK/prom/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: stormboot
    static_configs:
      - targets: ['$MET']
EOC
sb_start prometheus "$SB_NS_SRV" prometheus --config.file="$DP_WORK/prom/prometheus.yml" \
	--storage.tsdb.path="$DP_WORK/prom/data" --web.listen-address="127.0.0.1:$PROM_PORT" \
	--storage.tsdb.retention.time=1h
OPS_STOP=prometheus

# q EXPR: the value of the first sample of an instant query ("" when there is none)
q() { # the query's value; an empty answer is asked again (bounded: 5 tries, 0.5 s apart)
	local v i
	for i in 1 2 3 4 5; do
		v=$(q_once "$1")
		[ -n "$v" ] && break
		sleep 0.5
	done
	printf '%s\n' "$v"
}
q_once() {
	ops_in_srv curl -sS --max-time 5 -G "http://127.0.0.1:$PROM_PORT/api/v1/query" \
		--data-urlencode "query=$1" 2>/dev/null |
		"$DP_PY" -c 'import json,sys
d = json.load(sys.stdin)
r = d["data"]["result"] if d.get("status") == "success" else []
print(r[0]["value"][1] if r else "")'
}
up_once() { [ "$(q 'up{job="stormboot"}')" = 1 ]; }
sb_wait_for 60 up_once || {
	tail -n 20 "$SB_RUN/prometheus.log" >&2
	sb_fail "Prometheus did not scrape stormboot within 60 s"
}
sb_log "Prometheus scrapes stormboot"
sleep 2 # one more scrape after the first, so that counters are the settled ones

tel() { dp_get "$1" "$2"; }
chk_eq() { # DESC EXPR WANT
	local got
	got=$(q "$2")
	sb_check "$1: $2 = $3 (got '$got')" test "$got" = "$3"
}
chk_ge() {
	local got
	got=$(q "$2")
	sb_check "$1: $2 >= $3 (got '$got')" test -n "$got" -a "${got%.*}" -ge "$3"
}
chk_eq "scrape" 'stormboot_dataplane_up' 1
chk_ge "udhcpc's DISCOVER" 'stormboot_dhcp_messages_received_total{type="discover"}' 1
chk_eq "one ACK sent (one client, one lease)" 'stormboot_dhcp_messages_sent_total{type="ack"}' 1
chk_eq "the ACK counter is the dataplane's own" 'stormboot_dhcp_messages_sent_total{type="ack"}' "$(tel /stormboot/stats tx_dhcp_ack)"
chk_eq "one bound lease in the pool" 'stormboot_leases{subnet="198.18.0.0/24",state="bound"}' 1
chk_eq "pool size" 'stormboot_pool_addresses{subnet="198.18.0.0/24"}' 100
chk_eq "two transfers completed" 'stormboot_tftp_sessions_ended_total{outcome="completed"}' 2
chk_eq "bytes served for boot.img: twice its size" 'stormboot_tftp_image_served_bytes_total{image="boot.img"}' $((2 * IMG_SIZE))
chk_eq "no bytes served for undionly.kpxe" 'stormboot_tftp_image_served_bytes_total{image="undionly.kpxe"}' 0
chk_eq "bytes served in all" 'stormboot_tftp_served_bytes_total' $((2 * IMG_SIZE))
chk_eq "HTTP bytes for boot.img: 2.5 times its size" 'stormboot_http_image_served_bytes_total{image="boot.img"}' $((2 * IMG_SIZE + IMG_SIZE / 2))
chk_eq "HTTP responses for boot.img" 'stormboot_http_image_responses_total{image="boot.img"}' 3
chk_eq "the bad firmware report counted" 'stormboot_http_firmware_reports_total{result="bad_request"}' 1
chk_eq "no firmware report accepted" 'stormboot_http_firmware_reports_total{result="accepted"}' 0
chk_eq "no transfer open" 'stormboot_tftp_sessions_active' 0
chk_ge "the missing file's ERROR" 'stormboot_tftp_errors_sent_total' 1
chk_eq "latency histogram count = the dataplane's latency_count" 'stormboot_packet_latency_seconds_count' "$(tel /stormboot/latency latency_count)"
chk_eq "+Inf bucket = count" 'stormboot_packet_latency_seconds_bucket{le="+Inf"} - on() stormboot_packet_latency_seconds_count' 0
p99=$(q 'histogram_quantile(0.99, stormboot_packet_latency_seconds_bucket)')
sb_log "p99 latency from Prometheus: $p99 s; the dataplane's p99: $(tel /stormboot/latency latency_p99_ns) ns"
sb_check "histogram_quantile(0.99) is a latency (0 < p99 < 1 s): $p99" \
	"$DP_PY" -c "import sys; v = float('$p99' or 'nan'); sys.exit(0 if 0 < v < 1 else 1)"
chk_eq "every drop reason is a series (zeros included)" 'count(stormboot_drops_total)' "$(dp_tel /stormboot/stats | "$DP_PY" -c 'import json,sys; print(sum(1 for k in json.load(sys.stdin) if k.startswith("drop_")))')"
if [ "$(q stormboot_xdp_up)" = 1 ]; then
	chk_ge "XDP redirected udhcpc's DHCP" 'stormboot_xdp_packets_total{verdict="redirected",reason="dhcp"}' 1
	chk_ge "XDP redirected the RRQs" 'stormboot_xdp_packets_total{verdict="redirected",reason="tftp"}' 3
else
	sb_log "XDP counters not readable by control here (stormboot_xdp_up 0)"
fi
# --- boot timelines: the lab client, seen by udhcpc and tftp-hpa's steps, is in one state
CLI_MAC=02:5b:00:00:01:01 # lab.sh: the client namespace's MAC
api_json() { ops_ctl --json "$@" | "$DP_PY" -c 'import json,sys; a=json.load(sys.stdin)["arguments"]; print(eval(sys.argv[1]))' "$EXPR"; }
chk_eq "every boot state is a series" 'count(stormboot_clients)' 4
chk_ge "the lab client is in some state" 'sum(stormboot_clients)' 1
clients=$(EXPR='" ".join("%s=%d" % kv for kv in sorted(a["counts"].items())) + " total=%d" % a["total"]' api_json clients --limit 0)
prom=$(for s in booting done failed stuck; do printf '%s=%s ' $s "$(q "stormboot_clients{state=\"$s\"}")"; done)
sb_log "clients per state: stormbootctl clients: $clients; Prometheus: $prom"
# (a client may move from booting to done between the two reads: the totals are compared)
chk_eq "clients in all states = the clients API's total" 'sum(stormboot_clients)' "${clients##*total=}"
trace=$(EXPR='"%s %d" % (a["state"], len(a["steps"]))' api_json trace "$CLI_MAC")
sb_log "stormbootctl trace $CLI_MAC: state and steps: $trace"
sb_check "the lab client ($CLI_MAC) has a timeline with steps: $trace" test "${trace#* }" -ge 4
# its last RRQ asked for a missing file: failed, and listed so on the status page
sb_check "the lab client failed (its last RRQ: a missing file): $trace" test "${trace%% *}" = failed
ops_in_srv curl -sS --max-time 5 -o "$DP_WORK/page.html" "http://$MET/"
sb_check "the status page lists it among the recent stuck/failed, linked to ?mac=" \
	grep -q "<a href=\"/?mac=$CLI_MAC\">$CLI_MAC</a></td><td class=bad>failed</td>" "$DP_WORK/page.html"
chk_eq "steps recorded = control's status timeline.steps" 'stormboot_client_steps_total' \
	"$(EXPR='a["timeline"]["steps"]' api_json status)"
chk_ge "steps recorded: udhcpc's DHCP and the 3 RRQs at least" 'stormboot_client_steps_total' 5
chk_eq "steps lost = the dataplane's timeline_events_lost" 'stormboot_timeline_steps_lost_total' "$(tel /stormboot/stats timeline_events_lost)"
# --- the Grafana dashboard's queries (docs/grafana-stormboot.json), with $job = stormboot
"$DP_PY" - "$SOURCE_DIR/docs/grafana-stormboot.json" >"$DP_WORK/dash.q" <<'PY'
import json, sys
for p in json.load(open(sys.argv[1]))["panels"]:
    for t in p["targets"]:
        print(p["title"] + "\t" + t["expr"].replace("$job", "stormboot"))
PY
dash_ok=0 dash_n=0 dash_bad=""
while IFS=$'\t' read -r title expr; do
	dash_n=$((dash_n + 1))
	st=$(ops_in_srv curl -sS --max-time 5 -G "http://127.0.0.1:$PROM_PORT/api/v1/query" \
		--data-urlencode "query=$expr" | "$DP_PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], len(d["data"]["result"]) if d["status"] == "success" else d.get("error"))')
	case "$st" in
	"success "*) dash_ok=$((dash_ok + 1)) ;;
	*) dash_bad="$dash_bad [$title: $st]" ;;
	esac
	case "$title" in DHCP* | Latency* | "TFTP bytes"* | Pool* | Clients*)
		# (the test's stderr hidden, not sb_check's: its "ok" line goes to stderr)
		sb_check "dashboard \"$title\": $expr has data ($st)" sh -c 'test "$1" -ge 1 2>/dev/null' _ "${st#success }" ;;
	esac
done <"$DP_WORK/dash.q"
sb_check "every dashboard query is valid PromQL ($dash_ok of $dash_n)$dash_bad" test "$dash_ok" = "$dash_n"
sb_stop prometheus 10
sb_summary
