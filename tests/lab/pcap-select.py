#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""pcap-select.py - keep only what one client sent, for the unit-test fixtures.

Reads a raw lab capture (classic pcap, Ethernet), keeps the frames whose
source MAC is the client's and that belong to the chosen protocol, and
writes them unchanged (same bytes, same timestamps) to a new pcap.

  --proto dhcp   UDP to port 67 or 4011 (BOOTREQUESTs, relayed or not)
  --proto tftp   RRQ/WRQ to port 69, then per transfer (client ip+port) the
                 first --acks ACKs and every ERROR the client sends
  --ipxe yes|no  dhcp only: keep only requests that do (not) carry the iPXE
                 marks (option 175, or user class 77 containing "iPXE")
  --files RE     tftp only: keep only transfers whose RRQ file name matches RE
  --max N        at most N frames in all

Only the Python standard library is used, so it runs anywhere the lab runs.
"""
import argparse
import re
import struct
import sys


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return None, []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        sys.exit(f"{path}: not a classic pcap file (use tcpdump -w, not pcapng)")
    hdr = data[:24]
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit(f"{path}: link type {linktype}, want 1 (Ethernet)")
    recs = []
    off = 24
    while off + 16 <= len(data):
        rh = data[off:off + 16]
        incl = struct.unpack(end + "IIII", rh)[2]
        frame = data[off + 16:off + 16 + incl]
        if len(frame) < incl:
            break
        recs.append((rh, frame))
        off += 16 + incl
    return hdr, recs


def udp_of(frame):
    """Return (src_mac, src_ip, sport, dport, payload) or None."""
    if len(frame) < 14:
        return None
    src_mac = frame[6:12]
    et = struct.unpack("!H", frame[12:14])[0]
    off = 14
    while et in (0x8100, 0x88A8) and len(frame) >= off + 4:
        et = struct.unpack("!H", frame[off + 2:off + 4])[0]
        off += 4
    if et != 0x0800 or len(frame) < off + 20:
        return None
    ihl = (frame[off] & 0x0F) * 4
    if frame[off] >> 4 != 4 or ihl < 20 or frame[off + 9] != 17:
        return None
    if struct.unpack("!H", frame[off + 6:off + 8])[0] & 0x3FFF:
        return None  # fragment
    tot = struct.unpack("!H", frame[off + 2:off + 4])[0]
    src_ip = frame[off + 12:off + 16]
    u = off + ihl
    if len(frame) < u + 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", frame[u:u + 6])
    payload = frame[u + 8:min(off + tot, u + ulen, len(frame))]
    return src_mac, src_ip, sport, dport, payload


def dhcp_is_ipxe(p):
    """True if a BOOTP/DHCP payload carries option 175 or user class 'iPXE'."""
    if len(p) < 240 or p[236:240] != b"\x63\x82\x53\x63":
        return False
    i = 240
    while i < len(p):
        code = p[i]
        if code == 0:
            i += 1
            continue
        if code == 255 or i + 1 >= len(p):
            break
        ln = p[i + 1]
        val = p[i + 2:i + 2 + ln]
        if code == 175:
            return True
        if code == 77 and b"iPXE" in val:
            return True
        i += 2 + ln
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--mac", required=True)
    ap.add_argument("--proto", choices=("dhcp", "tftp"), required=True)
    ap.add_argument("--ipxe", choices=("yes", "no", "any"), default="any")
    ap.add_argument("--files", default=None)
    ap.add_argument("--acks", type=int, default=10)
    ap.add_argument("--max", type=int, default=30)
    a = ap.parse_args()

    mac = bytes.fromhex(a.mac.replace(":", "").replace("-", ""))
    files_re = re.compile(a.files) if a.files else None
    hdr, recs = read_pcap(a.input)
    if hdr is None:
        sys.exit(f"{a.input}: empty")

    keep = []
    sessions = {}  # (src_ip, sport) -> acks kept; only transfers we keep
    for rh, frame in recs:
        if len(keep) >= a.max:
            break
        u = udp_of(frame)
        if not u or u[0] != mac:
            continue
        _, sip, sport, dport, pl = u
        if a.proto == "dhcp":
            if dport not in (67, 4011) or len(pl) < 1 or pl[0] != 1:
                continue
            if a.ipxe != "any" and dhcp_is_ipxe(pl) != (a.ipxe == "yes"):
                continue
            keep.append((rh, frame))
            continue
        # TFTP
        if len(pl) < 2:
            continue
        op = struct.unpack("!H", pl[:2])[0]
        if dport == 69 and op in (1, 2):
            name = pl[2:].split(b"\0", 1)[0].decode("latin-1")
            if files_re and not files_re.search(name):
                sessions.pop((sip, sport), None)
                continue
            sessions[(sip, sport)] = 0
            keep.append((rh, frame))
        elif (sip, sport) in sessions and dport != 69:
            if op == 4:
                if sessions[(sip, sport)] < a.acks:
                    sessions[(sip, sport)] += 1
                    keep.append((rh, frame))
            elif op == 5:
                keep.append((rh, frame))

    with open(a.output, "wb") as f:
        f.write(hdr)
        for rh, frame in keep:
            f.write(rh)
            f.write(frame)
    print(f"{a.output}: {len(keep)} frames")
    return 0 if keep else 1


if __name__ == "__main__":
    sys.exit(main())
