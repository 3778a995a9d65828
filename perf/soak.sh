#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# soak.sh - a bounded soak (issue 15 item 10): boot storms for MINUTES against
# stormboot-dataplane and stormboot-control built with AddressSanitizer, with DHCP floods and
# a lossy link mixed in, and at the end kill -9 of control. Prints figures and checks:
#   - RSS of both processes sampled every SAMPLE s (printed); after the warm-up (the first
#     quarter of the run) it grows by less than RSS_BOUND_KIB;
#   - no counter goes backwards: the dataplane's statistics (`stormbootctl --json stats`,
#     gauges excepted) sampled every SAMPLE s never decrease;
#   - nothing lost: every download byte-identical (the generator checks each file by SHA-256
#     and byte for byte: bytes_mismatch 0), and every lease a VM was ACKed is in control's
#     lease store after the dataplane stopped and control was killed with SIGKILL and started
#     again (dhcp.durability "strict");
#   - no leak, no memory error: the dataplane (SIGTERM) and control (SIGTERM after its restart)
#     exit with no AddressSanitizer or LeakSanitizer report.
#
# The lab (lab.sh --clients 2, a bridge in namespace ${P}sw): stormboot-storm on the first
# client (net_af_xdp), rounds of VMS VMs (half OVMF-like, windowed, half iPXE-like, lock-step)
# fetching a 256 KiB loader and a 1 MiB image, each round until done; every second round
# runs over lossy-link (tests/lab/lossy_link.c) on the bridge port of that client, both ways,
# 1 % then 5 % loss with 1 % duplication (on the bridge port: AF_XDP bypasses the tc hooks of
# the client's own veth); every third round a DHCP flood of DISCOVERs from random MACs comes
# from the second client (tests/dataplane/dp-discover.py, bounded in count and time).
# The VMs' MACs are the same every round (the generator numbers them): each round re-binds
# the same leases (renewals), as a fleet rebooting does.
#
# Usage (root): perf/soak.sh [--minutes M] [--sample S] [--vms N] [--build DIR]
#   defaults: --minutes 10 --sample 10 --vms 200 --build build-soak, where build-soak is
#   configured (if absent) with: meson setup build-soak -Db_sanitize=address -Db_lundef=false
#   The generator, lossy-link and the XDP object come from BUILD_DIR (default build).
#   SB_PREFIX default "sok". RSS_BOUND_KIB default 8192.
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-sok}
HERE=$(cd "$(dirname "$0")" && pwd)
export SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/.." && pwd)}
minutes=10 sample=10 vms=200 asan_build=$SOURCE_DIR/build-soak
while [ $# -gt 0 ]; do
	case $1 in
	--minutes) minutes=$2; shift ;;
	--sample) sample=$2; shift ;;
	--vms) vms=$2; shift ;;
	--build) asan_build=$2; shift ;;
	*) sed -n '4,36p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
	shift
done
RSS_BOUND_KIB=${RSS_BOUND_KIB:-8192}
. "$SOURCE_DIR/tests/dataplane/dp-lib.sh"
if [ ! -d "$asan_build" ]; then
	meson setup "$asan_build" -Db_sanitize=address -Db_lundef=false >/dev/null
fi
ninja -C "$asan_build" >/dev/null
dp_init
sb_need_cmd setsid taskset timeout
STORM=$BUILD_DIR/perf/storm/stormboot-storm
LOSSY=$BUILD_DIR/tests/lab/lossy-link
LOSSY_OBJ=$BUILD_DIR/tests/lab/lossy_link.bpf.o
DPL=$asan_build/dataplane/engine/stormboot-dataplane
CTLD=$asan_build/control/stormboot-control
CTL=$asan_build/control/stormbootctl
for f in "$STORM" "$LOSSY" "$LOSSY_OBJ" "$DPL" "$CTLD" "$CTL"; do
	[ -e "$f" ] || sb_fail "missing $f (build first)"
done
STORM_CPU=${DP_CLI_CPUS%%[-,]*}
RUN=$DP_WORK/run
mkdir -p "$RUN/state"
export STORMBOOT_SOCKET=$RUN/control.sock
# ASan: reports to files (one per process), leak check at exit, no abort mid-run; DPDK's
# net_af_xdp objects in libxdp/libbpf suppressed (perf/soak-lsan.supp says why). Under ASan
# RSS also holds the allocator's quarantine of freed memory (256 MiB at most by default), which
# grows with every free: run once with --build build (no sanitizer) for the RSS figure.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:log_path=$RUN/asan
export LSAN_OPTIONS=suppressions=$HERE/soak-lsan.supp:print_suppressions=1

dp_image loader.efi 262144
dp_image loader-bios.bin 262144
dp_image image.bin 1048576
dp_config '{"dhcp": {"mode": "full", "durability": "strict",
                     "boot": {"bios": "loader-bios.bin", "uefi_x64": "loader.efi"},
                     "subnets": [{"network": "198.18.0.0/16",
                                  "pool": {"start": "198.18.16.0", "end": "198.18.31.255"},
                                  "router": "198.18.0.1", "lease_time": 7200}]},
            "tftp": {"max_sessions": 1024, "windowsize_max": 16}}'
dp_lab_up --clients 2 --tx-csum-off
NS_GEN=$SB_NS_CLI
NS_FLOOD=${SB_NS_CLIENTS#* }
NS_SW=${SB_PREFIX}sw
PORT_GEN=${SB_PREFIX}swc1

ctl_start() {
	sb_start control "" "$CTLD" -f -c "$DP_CFG" -s "$RUN/control.sock" -d "$RUN/state"
	sb_wait_for 20 "$CTL" status >/dev/null 2>&1 || sb_fail "control did not start"
}
ctl_start
sb_start dataplane "$SB_NS_SRV" sh -c \
	"mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec nice -n -10 '$DPL' -- -c '$DP_CFG' -x '$DP_XDP' -l $DP_LCORE -C '$RUN/dataplane.sock'"
sb_wait_for 60 grep -q "serving " "$SB_RUN/dataplane.log" || {
	cat "$SB_RUN/dataplane.log" >&2
	sb_fail "dataplane did not come up"
}
sb_wait_for 20 sh -c "\"$CTL\" status | grep -q 'dataplane.connected *yes'" ||
	sb_fail "dataplane did not connect to control"
DPL_PID=$(sb_pid dataplane)
CTL_PID=$(sb_pid control)
[ -n "$DPL_PID" ] || sb_fail "no dataplane PID"
sb_log "soak: $minutes min, dataplane pid $DPL_PID, control pid $CTL_PID (ASan: $asan_build)"

# The sampler: one JSON line per sample (time, RSS of both, the dataplane's statistics).
sampler() {
	while :; do
		"$DP_PY" - "$DPL_PID" "$CTL_PID" "$CTL" <<-'EOF' >>"$RUN/samples.jsonl" 2>>"$RUN/sampler.err" || true
		import json, subprocess, sys, time
		def rss(pid):
		    for line in open(f"/proc/{pid}/status"):
		        if line.startswith("VmRSS:"):
		            return int(line.split()[1])
		    return None
		st = json.loads(subprocess.run([sys.argv[3], "--json", "stats"], capture_output=True,
		                               text=True, timeout=10).stdout)
		print(json.dumps({"t": time.time(), "rss_dp": rss(sys.argv[1]), "rss_ctl": rss(sys.argv[2]),
		                  "stats": st.get("arguments", {}).get("dataplane", {})}))
		EOF
		sleep "$sample"
	done
}
sampler &
SAMPLER=$!

storm_round() { # N: one storm round, report round-N.json/.csv
	local n=$1
	ip netns exec "$NS_GEN" setsid -w timeout 200 taskset -c "$STORM_CPU" "$STORM" \
		-l "$STORM_CPU" --no-pci --in-memory --file-prefix "${SB_PREFIX}-storm" --no-telemetry \
		--log-level=lib.eal:warning --vdev "net_af_xdp0,iface=$SB_IF_CLI" -- \
		--vms "$vms" --ovmf-ratio 0.5 --seed "$n" --backoff-scale 0.05 --dhcp-tries 10 \
		--tftp-timeout-ms 500 --tftp-retries 20 --timeout 150 --json --progress 0 \
		--file "loader.efi=$DP_WORK/img/loader.efi" \
		--file "loader-bios.bin=$DP_WORK/img/loader-bios.bin" \
		--file "image.bin=$DP_WORK/img/image.bin" --image image.bin \
		--vm-csv "$RUN/round-$n.csv" >"$RUN/round-$n.json" 2>"$RUN/round-$n.log"
}

end=$(($(date +%s) + minutes * 60))
n=0
while [ "$(date +%s)" -lt "$end" ]; do
	n=$((n + 1))
	what=clean loss=
	if [ $((n % 2)) = 0 ]; then
		loss=$([ $((n % 4)) = 0 ] && echo 5 || echo 1)
		sb_start lossy "$NS_SW" "$LOSSY" "$LOSSY_OBJ" "$PORT_GEN" "$loss" 1 300
		sb_wait_for 5 grep -q "^lossy-link: " "$SB_RUN/lossy.log" || sb_fail "lossy-link did not start"
		what="loss $loss % + dup 1 %"
	fi
	flood=
	if [ $((n % 3)) = 0 ]; then
		ip netns exec "$NS_FLOOD" timeout 40 "$DP_PY" "$SOURCE_DIR/tests/dataplane/dp-discover.py" \
			"$SB_IF_CLI" --count 2000000 --seconds 20 --macs random --seed "$n" \
			--dst "$SB_SRV_MAC" >"$RUN/flood-$n.log" 2>&1 &
		flood=$!
		what="$what + DHCP flood"
	fi
	rc=0
	storm_round $n || rc=$?
	[ -n "$flood" ] && { wait "$flood" || true; }
	if [ -n "$loss" ]; then
		sb_stop lossy 5
		what="$what ($(grep -E '^(egress|ingress)' "$SB_RUN/lossy.log" | tr '\n' ' '))"
	fi
	sb_log "round $n ($what): exit $rc, $("$DP_PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%d/%d done, failed %d %s, last VM %.1f s" % (r["done"], r["vms"], r["failed"], {k: v for k, v in r["fail_reasons"].items() if v}, r["time_to_last_vm_s"]))' "$RUN/round-$n.json" 2>/dev/null || echo "no report")"
done
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
ROUNDS=$n

# The end: the dataplane stops (its ASan exit report), control dies with SIGKILL and comes back.
"$CTL" --json stats >"$RUN/stats-end.json"
sb_stop dataplane 30
cp "$SB_RUN/dataplane.log" "$RUN/dataplane.log"
kill -9 "$CTL_PID"
sb_wait_for 10 sh -c "! kill -0 $CTL_PID 2>/dev/null" || true
rm -f "$SB_RUN/control.pid"
cp "$SB_RUN/control.log" "$RUN/control-1.log"
ctl_start
"$CTL" --json lease-list >"$RUN/leases.json"
sb_stop control 30
cp "$SB_RUN/control.log" "$RUN/control-2.log"

"$DP_PY" - "$RUN" "$ROUNDS" "$RSS_BOUND_KIB" >"$RUN/verdict" <<-'EOF'
import csv, glob, json, os, sys
run, rounds, bound = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = []
def check(desc, ok):
    out.append(("ok" if ok else "FAIL") + "\t" + desc)
# RSS
samples = [json.loads(l) for l in open(os.path.join(run, "samples.jsonl")) if l.strip()]
t0 = samples[0]["t"] if samples else 0
print("RSS samples (s: dataplane KiB, control KiB):", file=sys.stderr)
print(" ".join("%d:%s/%s" % (s["t"] - t0, s["rss_dp"], s["rss_ctl"]) for s in samples), file=sys.stderr)
warm = len(samples) // 4
for who in ("rss_dp", "rss_ctl"):
    after = [s[who] for s in samples[warm:] if s[who]]
    grow = (max(after) - after[0]) if after else None
    check(f"{who}: {len(samples)} samples, after warm-up {after[0] if after else '?'} -> max "
          f"{max(after) if after else '?'} KiB, growth {grow} KiB < {bound}",
          grow is not None and grow < bound)
# counters never go backwards
gauge = ("_active", "capacity", "image_cache_images", "image_cache_bytes", "latency_")
back = []
for a, b in zip(samples, samples[1:]):
    for k, v in b["stats"].items():
        if not isinstance(v, int) or any(g in k for g in gauge) or k not in a["stats"]:
            continue
        if v < a["stats"][k]:
            back.append(f"{k} {a['stats'][k]} -> {v} at {b['t'] - t0:.0f} s")
keys = len(samples[-1]["stats"]) if samples else 0
check(f"no counter went backwards ({keys} values x {len(samples)} samples): {back[:5]}",
      samples and keys > 50 and not back)
# downloads and leases
acked, done, failed, mism, reasons = {}, 0, 0, 0, {}
for n in range(1, rounds + 1):
    try:
        r = json.load(open(os.path.join(run, f"round-{n}.json")))
    except Exception:
        check(f"round {n}: a report", False)
        continue
    done += r["done"]
    failed += r["failed"]
    mism += r["fail_reasons"].get("bytes_mismatch", 0)
    for k, v in r["fail_reasons"].items():
        reasons[k] = reasons.get(k, 0) + v
    for row in csv.DictReader(open(os.path.join(run, f"round-{n}.csv"))):
        # an ACK: t_bound set (the address alone may come from an OFFER)
        if row["ip"] != "0.0.0.0" and int(row["t_bound_us"] or 0) > 0:
            acked[row["mac"].lower()] = row["ip"]
check(f"{rounds} rounds: {done} VMs booted, {failed} failed {dict((k, v) for k, v in reasons.items() if v)}",
      rounds > 0 and done > 0)
check(f"every download byte-identical (bytes_mismatch {mism})", mism == 0)
leases = json.load(open(os.path.join(run, "leases.json"))).get("arguments", {}).get("leases", [])
have = {(l["mac"].lower(), l["ip"]) for l in leases if l["state"] == "bound"}
lost = [(m, ip) for m, ip in acked.items() if (m, ip) not in have]
check(f"every ACKed lease durable after kill -9 of control: {len(acked)} MACs ACKed, "
      f"{len(have)} bound in the store, {len(lost)} missing {lost[:3]}", acked and not lost)
# sanitizers
reports = glob.glob(os.path.join(run, "asan*"))
check(f"no AddressSanitizer/LeakSanitizer report ({[os.path.basename(p) for p in reports]})",
      not reports)
for f in ("dataplane.log", "control-2.log"):
    txt = open(os.path.join(run, f), errors="replace").read()
    check(f"{f}: no sanitizer output", "Sanitizer" not in txt)
print("\n".join(out))
EOF
while IFS=$'\t' read -r verdict desc; do
	sb_check "$desc" test "$verdict" = ok
done <"$RUN/verdict"
for f in "$RUN"/asan*; do [ -f "$f" ] && head -n 40 "$f" >&2; done
sb_log "end of run: non-zero dataplane counters: $("$DP_PY" -c 'import json,sys; s=json.load(open(sys.argv[1]))["arguments"]["dataplane"]; print(" ".join("%s=%s" % (k, v) for k, v in s.items() if isinstance(v, int) and v and not k.startswith("xsk0") and not k.startswith("latency")))' "$RUN/stats-end.json")"
[ -n "${SOAK_KEEP:-}" ] && cp -r "$RUN" "$SOAK_KEEP"
sb_summary
