#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vm-waits.py PCAP [--gap S]: the waits of network-booting VMs, from a capture.

For each VM (source MAC 52:54:00:..., as perf/vm-storm.sh and tests/vm make them) the frames
it sent or that were sent to it, in order, and every silence longer than --gap seconds
(0.3) between two of them, with the frame before and the frame after (tshark's summary),
and a name for the kinds of wait this lab knows: an IPv6 router solicitation nobody
answered, a DHCP or TFTP retransmission (the same request again), an ARP request without
an answer, and otherwise "VM work" (the firmware or the booted code computing, under TCG).
"""
import subprocess
import sys
from collections import defaultdict


def frames(pcap):
    out = subprocess.run(
        ["tshark", "-r", pcap, "-T", "fields", "-E", "separator=\t", "-e", "frame.time_relative",
         "-e", "eth.src", "-e", "eth.dst", "-e", "_ws.col.Protocol", "-e", "_ws.col.Info"],
        check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 5:
            continue
        yield float(f[0]), f[1].lower(), f[2].lower(), f[3], f[4]


def kind(before, after):
    pb, ib = before[3], before[4]
    pa, ia = after[3], after[4]
    if "Router Solicitation" in ib and "Router Advertisement" not in ia:
        return "IPv6 router solicitation, no answer (iPXE waits for an RA)"
    if pb == "DHCP" and pa == "DHCP" and ib.split(" - ")[0] == ia.split(" - ")[0] and "Discover" in ib:
        return "DHCP DISCOVER retransmitted (no offer in time)"
    if pb == "DHCP" and pa == "DHCP" and "Request" in ib and "Request" in ia:
        return "DHCP REQUEST retransmitted"
    if pb == "TFTP" and pa == "TFTP" and ib == ia:
        return "TFTP retransmission (timeout)"
    if pb == "ARP" and "who has" in ib.lower() and pa == "ARP" and "who has" in ia.lower():
        return "ARP request unanswered"
    if pb == "DHCP" and "Offer" in ib and pa == "DHCP":
        return "firmware collecting offers before its REQUEST"
    return "VM work (firmware / loader / kernel on a TCG vCPU)"


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    gap = 0.3
    if "--gap" in sys.argv:
        gap = float(sys.argv[sys.argv.index("--gap") + 1])
    per_vm = defaultdict(list)
    for fr in frames(sys.argv[1]):
        for mac in (fr[1], fr[2]):
            if mac.startswith("52:54:00:"):
                per_vm[mac].append(fr)
                break
    totals = defaultdict(float)
    for mac in sorted(per_vm):
        fs = per_vm[mac]
        t0 = fs[0][0]
        print("VM %s: %d frames from %.2f s to %.2f s of the capture" % (mac, len(fs), t0, fs[-1][0]))
        # Phases: each DHCP exchange, each TFTP file and HTTP GET (from its request to the frame before
        # the next phase), with frames and repeated frames (retransmissions either way).
        phases, cur = [], None
        for fr in fs:
            p, info = fr[3], fr[4]
            name = None
            if p == "DHCP" and "Discover" in info:
                name = "DHCP"
            elif p == "TFTP" and "Read Request" in info:
                name = "TFTP " + info.split("File: ")[-1].split(",")[0]
            elif p == "HTTP" and info.startswith("GET "):
                name = "HTTP " + info.split()[1].split("?")[0]
            elif "Router Solicitation" in info:
                name = "IPv6 RS"
            if name and (cur is None or cur[0] != name):
                cur = [name, fr[0], fr[0], 0, 0, None, 0.0, 0.0, None]
                phases.append(cur)
            if cur is not None:
                # who had the turn: time after a frame from the VM is the server's (and the
                # wire's), time after a frame to the VM is the VM's
                if cur[8] is not None:
                    cur[6 if cur[8] else 7] += fr[0] - cur[2]
                cur[8] = fr[1] == mac
                cur[2] = fr[0]
                cur[3] += 1
                if cur[5] == info:
                    cur[4] += 1
                cur[5] = info
        for ph in phases:
            print("  phase %-28s +%7.2f s .. +%7.2f s = %6.2f s, %6d frames, %4d repeated;"
                  " server's turn %6.2f s, VM's turn %6.2f s"
                  % (ph[0][:28], ph[1] - t0, ph[2] - t0, ph[2] - ph[1], ph[3], ph[4], ph[6], ph[7]))
        for a, b in zip(fs, fs[1:]):
            d = b[0] - a[0]
            if d <= gap:
                continue
            k = kind(a, b)
            totals[k] += d
            print("  %6.2f s at +%6.2f: %s\n      before: %s %s\n      after:  %s %s"
                  % (d, a[0] - t0, k, a[3], a[4][:90], b[3], b[4][:90]))
    if totals:
        print("Sum over the VMs, by kind:")
        for k, v in sorted(totals.items(), key=lambda kv: -kv[1]):
            print("  %7.2f s  %s" % (v, k))
    return 0


if __name__ == "__main__":
    sys.exit(main())
