#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""storm-engine-report.py - the table (and JSON) of perf/storm/storm-engine.sh.

  storm-engine-report.py RES RUNS SECONDS WINDOW TFTP_VMS DHCP_VMS DHCP_FRAME LOAD JSON

RES holds, per run r: ceil1514.r.json, ceildhcp.r.json (the generator's --reflect reports
against testpmd), tftp.r.{json,win.json}, dhcp.r.{json,win.json} (the generator's report and
the dataplane's counters over the window); stages-{tftp,dhcp}.win.json (the stage-cost build);
half-{tftp,dhcp}.{win,lat}.json (the paced runs and their latency view).
"""
import json
import os
import statistics
import sys

TARGET_TFTP = 2.03e6  # 1468-byte blocks a 25 GbE port carries
TARGET_DHCP = 1.0e6
TARGET_P99_NS = 10000
TARGET_P999_NS = 50000
STAGES = ["rx", "parse", "lookup", "session", "dhcp", "alloc", "build", "checksum", "tx", "free"]

res, runs, secs, window, tftp_vms, dhcp_vms, dhcp_frame, load, as_json = sys.argv[1:10]
runs, window, dhcp_frame = int(runs), int(window), int(dhcp_frame)
out = sys.stderr if as_json == "1" else sys.stdout


def load_json(name):
    try:
        with open(os.path.join(res, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def server_rates(kind, win):
    """Replies per second the dataplane sent over the window, and its lcore's busy share."""
    if not win:
        return None, None, None
    d, s = win["delta"], win["secs"]
    if kind == "tftp":  # tx_tftp = DATA + one OACK per session started
        n = d.get("tx_tftp", 0) - d.get("tftp_sessions_started", 0)
    else:
        n = d.get("tx_dhcp", 0)
    busy = 100.0 * d.get("busy_ns", 0) / (s * 1e9)
    size = d.get("tx_bytes", 0) / d["tx_pkts"] if d.get("tx_pkts") else None
    return n / s, busy, size


def verdict(busy, gen):
    """Who was the limit: the dataplane's lcore, the generator, or neither."""
    g = gen or {}
    if busy is not None and busy >= 90:
        return f"the dataplane (lcore busy {busy:.0f} %)"
    if g.get("generator_limited"):
        return "THE GENERATOR: " + g.get("limit", "?")
    return f"neither saturated (dataplane busy {busy or 0:.0f} %, generator busy " \
           f"{g.get('busy_pct', 0):.0f} %)"


rows = {}
for kind, ceil in (("tftp", "ceil1514"), ("dhcp", "ceildhcp")):
    per = []
    for r in range(1, runs + 1):
        rate, busy, size = server_rates(kind, load_json(f"{kind}.{r}.win.json"))
        gen = load_json(f"{kind}.{r}.json")
        c = load_json(f"{ceil}.{r}.json")
        per.append({"rate": rate, "busy_pct": busy, "frame_bytes": size,
                    "testpmd": c["rx_pps"] if c else None,
                    "testpmd_generator_limit": c.get("limit") if c else None,
                    "failed_vms": gen.get("failed") if gen else None,
                    "generator_busy_pct": gen.get("busy_pct") if gen else None,
                    "limit": verdict(busy, gen)})
    rate = med([p["rate"] for p in per])
    tp = med([p["testpmd"] for p in per])
    # the run whose rate is the median names the limit (none with --latency-only)
    mid = min(per, key=lambda p: abs((p["rate"] or 0) - (rate or 0))) if per else \
        {"busy_pct": None, "limit": "not measured (--latency-only)"}
    rows[kind] = {"rate": rate, "testpmd": tp,
                  "fraction": rate / tp if rate and tp else None,
                  "target": TARGET_TFTP if kind == "tftp" else TARGET_DHCP,
                  "busy_pct": mid["busy_pct"], "limit": mid["limit"], "runs": per}


def fmt_rate(v):
    if v is None:
        return "-"
    return f"{v / 1e6:.3f} M" if v >= 1e6 else f"{v / 1e3:.1f} k"


p = lambda *a: print(*a, file=out)
p(f"stormboot engine limit over net_memif: one dataplane lcore, the generator on the other CPU "
  f"(median of {runs} run(s), {secs} s windows; load average {load})")
p(f"{'':30} {'dataplane':>12} {'testpmd macswap':>16} {'fraction':>9} {'target':>8}  limit")
for kind, label in (("tftp", "TFTP DATA 1468 B, pkts/s"), ("dhcp", "DHCP replies/s")):
    r = rows[kind]
    frac = f"{100 * r['fraction']:.0f} %" if r["fraction"] else "-"
    met = "met" if r["rate"] and r["rate"] >= r["target"] else "MISSED"
    p(f"{label:30} {fmt_rate(r['rate']):>12} {fmt_rate(r['testpmd']):>16} {frac:>9} "
      f"{fmt_rate(r['target']):>8}  {met}; {r['limit']}")
    for i, run in enumerate(r["runs"], 1):
        p(f"  run {i}: {fmt_rate(run['rate'])} (busy {run['busy_pct'] or 0:.0f} %), testpmd "
          f"{fmt_rate(run['testpmd'])}, failed VMs {run['failed_vms']}")
p(f"  (TFTP: {tftp_vms} VMs x windowsize {window}, testpmd against --reflect of 1514-byte frames, "
  f"{tftp_vms} x {window} in flight; DHCP: {dhcp_vms} VMs DORA after DORA, testpmd against "
  f"{dhcp_frame}-byte frames, {dhcp_vms} in flight)")

stages = {}
for kind in ("tftp", "dhcp"):
    w = load_json(f"stages-{kind}.win.json")
    if not w:
        continue
    d = w["delta"]
    replies, _, _ = server_rates(kind, w)
    replies = replies * w["secs"] if replies else 0
    t = {"replies": replies, "stages": {}}
    total = 0.0
    for s in STAGES:
        items, ns = d.get(f"stage_{s}_items", 0), d.get(f"stage_{s}_ns", 0)
        if not items:
            continue
        per_reply = ns / replies if replies else 0
        total += per_reply
        t["stages"][s] = {"ns_per_item": ns / items, "items_per_reply": items / replies
                          if replies else 0, "ns_per_reply": per_reply}
    t["busy_ns_per_reply"] = d.get("busy_ns", 0) / replies if replies else 0
    t["staged_ns_per_reply"] = total
    stages[kind] = t
if stages:
    p("per-stage costs (-Dstage_cycles=true build; rdtsc around each stage, ns per item and per "
      "reply):")
    for kind, t in stages.items():
        p(f"  {'TFTP DATA' if kind == 'tftp' else 'DHCP reply'}: {t['busy_ns_per_reply']:.0f} ns "
          f"per reply in busy loops, {t['staged_ns_per_reply']:.0f} ns of it in the stages")
        for s, v in sorted(t["stages"].items(), key=lambda kv: -kv[1]["ns_per_reply"]):
            p(f"    {s:9} {v['ns_per_item']:8.0f} ns/item x {v['items_per_reply']:6.3f} = "
              f"{v['ns_per_reply']:6.0f} ns/reply")

lat = {}
for kind in ("tftp", "dhcp"):
    l = load_json(f"half-{kind}.lat.json")
    rate, busy, _ = server_rates(kind, load_json(f"half-{kind}.win.json"))
    if not l:
        continue
    e = {k: l.get(f"latency_engine_{k}") for k in ("count", "p50_ns", "p99_ns", "p99_9_ns", "max_ns")}
    x = {k: l.get(f"latency_{k}") for k in ("count", "p50_ns", "p99_ns", "p99_9_ns", "max_ns")}
    w = (load_json(f"half-{kind}.win.json") or {})
    d = w.get("delta", {})
    replies = d.get("tx_tftp", 0) if kind == "tftp" else d.get("tx_dhcp", 0)
    # the thread the kernel preempted most: the polling lcore
    sw = max((w.get("switches") or {"-": [0, 0]}).items(), key=lambda kv: kv[1][0])
    how = {"rx_bursts": d.get("rx_bursts"),
           "mean_burst": d.get("rx_pkts", 0) / d["rx_bursts"] if d.get("rx_bursts") else None,
           "full_bursts_pct": 100.0 * d.get("rx_bursts_full", 0) / d["rx_bursts"]
           if d.get("rx_bursts") else None,
           "tx_bursts": d.get("tx_bursts"), "tx_bursts_early": d.get("tx_bursts_early"),
           "busy_ns_per_reply": d.get("busy_ns", 0) / replies if replies else None,
           "preempted": sw[1][0], "preempted_thread": sw[0],
           "preempted_per_s": sw[1][0] / w["secs"] if w.get("secs") else None}
    lat[kind] = {"rate": rate, "of_max": rate / rows[kind]["rate"] if rate and rows[kind]["rate"]
                 else None, "busy_pct": busy, "engine": e, "with_tx": x, "bursts": how,
                 "engine_p99_met": (e["p99_ns"] or 1e18) < TARGET_P99_NS,
                 "engine_p999_met": (e["p99_9_ns"] or 1e18) < TARGET_P999_NS}
if lat:
    p("latency at about half of the maximum (paced VMs, --loop-gap-ms 10), ns "
      "(targets: engine p99 < 10000, p99.9 < 50000):")
    for kind, v in lat.items():
        of = f"{100 * v['of_max']:.0f} % of max" if v["of_max"] else "?"
        p(f"  {'TFTP' if kind == 'tftp' else 'DHCP'} at {fmt_rate(v['rate'])}/s ({of}, busy "
          f"{v['busy_pct'] or 0:.0f} %):")
        for what, h in (("engine (rx burst -> tx call)", v["engine"]),
                        ("with transmit (-> tx return)", v["with_tx"])):
            p(f"    {what:30} p50 {h['p50_ns']}  p99 {h['p99_ns']}  p99.9 {h['p99_9_ns']}  "
              f"max {h['max_ns']}  ({h['count']} replies)")
        b = v["bursts"]
        if b["rx_bursts"]:
            p(f"    rx bursts: {b['rx_bursts']}, mean {b['mean_burst']:.1f} frames, "
              f"{b['full_bursts_pct']:.0f} % full (32); tx bursts {b['tx_bursts']}, of which "
              f"{b['tx_bursts_early']} inside an rx burst; busy "
              f"{b['busy_ns_per_reply'] or 0:.0f} ns per reply; lcore thread "
              f"{b['preempted_thread']} preempted {b['preempted']} times "
              f"({b['preempted_per_s'] or 0:.0f}/s)")
        p(f"    targets: engine p99 {'met' if v['engine_p99_met'] else 'MISSED'}, p99.9 "
          f"{'met' if v['engine_p999_met'] else 'MISSED'}")

summary = {"load_average": load, "runs": runs, "window_s": float(secs), "tftp": rows["tftp"],
           "dhcp": rows["dhcp"], "stages": stages, "latency_half_load": lat}
if as_json == "1":
    json.dump(summary, sys.stdout, indent=1)
    print()
else:
    print("storm-engine-json: " + json.dumps(summary))
