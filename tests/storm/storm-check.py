#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""storm-check.py - the checks of a short storm's report (tests/storm/storm-short.sh, storm-memif.sh).

  storm-check.py WORK VMS LOADER IMAGE SRV_COMPLETED SRV_PROBES [POOL_FIRST POOL_LAST]

WORK holds run.json and run.csv (the generator's report and per-VM lines) and img/ (the
files served); the pool is 198.18.0.POOL_FIRST..POOL_LAST (default 100..227). Prints one line
per check, "ok" or "FAIL", a tab, what was checked.
"""
import csv, hashlib, json, math, os, sys

pool_first = int(sys.argv[7]) if len(sys.argv) > 7 else 100
pool_last = int(sys.argv[8]) if len(sys.argv) > 8 else 227
work, vms, loader, image = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
srv_completed, srv_probes = sys.argv[5], sys.argv[6]
r = json.load(open(os.path.join(work, "run.json")))
c = r["counters"]
ovmf, ipxe = r["ovmf"], r["ipxe"]
def blocks(size, blk):  # RFC 1350 6: a last block shorter than blksize, maybe empty
    return size // blk + 1
data = ovmf * (blocks(loader, 1468) + blocks(image, 1468)) + \
       ipxe * (blocks(loader, 1432) + blocks(image, 1432))
checks = []
def check(desc, ok):
    checks.append((desc, bool(ok)))
check(f"{vms} VMs, 50/50 OVMF/iPXE ({ovmf}/{ipxe})", r["vms"] == vms and ovmf == vms // 2 and ipxe == vms - ovmf)
check(f"0 failed VMs (failed {r['failed']}: {r['fail_reasons']})", r["failed"] == 0)
check(f"every VM done ({r['done']})", r["done"] == vms)
check(f"every VM leased ({r['leases']})", r["leases"] == vms)
check(f"DORA count = {vms} (ACKs {c['dhcp_ack_rx']}, OFFERs {c['dhcp_offer_rx']})",
      c["dhcp_ack_rx"] == vms and c["dhcp_offer_rx"] == vms)
check(f"DISCOVERs, REQUESTs >= {vms} ({c['dhcp_discover_tx']}, {c['dhcp_request_tx']}), "
      f"resends = DHCP retransmissions ({c['dhcp_retrans_tx']})",
      c["dhcp_discover_tx"] >= vms and c["dhcp_request_tx"] >= vms and
      c["dhcp_discover_tx"] + c["dhcp_request_tx"] == 2 * vms + c["dhcp_retrans_tx"])
check(f"transfers = {2 * vms} ({c['tftp_transfers']})", c["tftp_transfers"] == 2 * vms)
check(f"bytes = {vms * (loader + image)} ({c['tftp_data_bytes']})",
      c["tftp_data_bytes"] == vms * (loader + image))
check(f"DATA taken = {data} blocks ({c['tftp_data_rx']})", c["tftp_data_rx"] == data)
check(f"OACKs = transfers + OVMF probes = {2 * vms + ovmf} ({c['tftp_oack_rx']})",
      c["tftp_oack_rx"] == 2 * vms + ovmf)
check(f"RRQs >= {2 * vms + ovmf} ({c['tftp_rrq_tx']}, resent {c['tftp_rrq_retrans']})",
      c["tftp_rrq_tx"] == 2 * vms + ovmf + c["tftp_rrq_retrans"])
check(f"ERRORs sent >= {ovmf} probes ({c['tftp_err_tx']}), received 0 ({c['tftp_err_rx']})",
      c["tftp_err_tx"] >= ovmf and c["tftp_err_rx"] == 0)
check(f"frames: rx {r['rx_frames']} >= DATA + OACK + OFFER + ACK", r["rx_frames"] >=
      c["tftp_data_rx"] + c["tftp_dup_data_rx"] + c["tftp_oack_rx"] + 2 * vms)
check(f"frames: tx {r['tx_frames']} = everything the fleet built", r["tx_frames"] ==
      c["dhcp_discover_tx"] + c["dhcp_request_tx"] + c["tftp_rrq_tx"] + c["tftp_ack_tx"] +
      c["tftp_err_tx"] + c["arp_reply_tx"] + c.get("arp_request_tx", 0))
check(f"nothing malformed ({c['rx_malformed']}), no tx trouble ({r['tx_dropped']} dropped, "
      f"{c['tx_nobuf']} no buffer)",
      c["rx_malformed"] == 0 and r["tx_dropped"] == 0 and c["tx_nobuf"] == 0)
check(f"completion p50 <= p90 <= p99 <= max = time to last VM ({r['completion_s']}, "
      f"{r['time_to_last_vm_s']})",
      0 < r["completion_s"]["p50"] <= r["completion_s"]["p90"] <= r["completion_s"]["p99"]
      <= r["completion_s"]["max"] <= r["time_to_last_vm_s"] + 1e-3)
check(f"packets/s and CPU per packet reported ({r['rx_pps']:.0f}, {r['tx_pps']:.0f}, "
      f"{r['ns_per_pkt']:.0f} ns)", r["rx_pps"] > 0 and r["tx_pps"] > 0 and r["ns_per_pkt"] > 0)
check(f"dataplane: {2 * vms} sessions completed ({srv_completed})", srv_completed == str(2 * vms))
check(f"dataplane: {ovmf} size probes ({srv_probes})", srv_probes == str(ovmf))
# Per VM: distinct MACs and addresses inside the pool, the right loader by kind.
rows = list(csv.DictReader(open(os.path.join(work, "run.csv"))))
sha = {n: hashlib.sha256(open(os.path.join(work, "img", n), "rb").read()).hexdigest()
       for n in ("loader.efi", "loader-bios.bin")}
ips = {row["ip"] for row in rows}
pool = {f"198.18.0.{i}" for i in range(pool_first, pool_last + 1)}
check(f"{vms} lines, all done", len(rows) == vms and all(x["state"] == "done" for x in rows))
check(f"{vms} distinct MACs", len({x["mac"] for x in rows}) == vms)
check(f"{vms} distinct addresses, all in the pool", len(ips) == vms and ips <= pool)
check("OVMF VMs got loader.efi, iPXE VMs loader-bios.bin (and matched its SHA-256)",
      all(x["bootfile"] == ("loader.efi" if x["kind"] == "ovmf" else "loader-bios.bin") and
          x["loader_sha256"] == sha[x["bootfile"]] for x in rows))
for desc, ok in checks:
    print(("ok" if ok else "FAIL") + "\t" + desc)
