#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""wire-urls.py - the boot URLs one VM was given and asked for, read off the wire.

The logs show boot tokens redacted (boot_token_redact: a token is a bearer secret until it
expires), so a test that replays a VM's URL from another address takes the exact URL where an
eavesdropper on the VM's segment would: a capture of that segment (tcpdump -w, classic pcap,
Ethernet). For the VM's MAC it prints:

  dhcp OFFER|ACK BOOTFILE   every DHCP reply to the VM (option 67, else the BOOTP file field)
  get URI                   every HTTP GET request line the VM sent in clear (TCP payload of
                            the VM's frames, each connection put back in sequence order)

Usage: wire-urls.py PCAP MAC  (DHCP lines first, then the GETs of each connection)
Only the Python standard library is used.
"""
import importlib
import os
import re
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab"))
PCAP = importlib.import_module("pcap-select")

DHCP_TYPES = {2: "OFFER", 5: "ACK", 6: "NAK"}


def frames(path):
    """The Ethernet frames of a classic pcap (tests/lab/pcap-select.py reads it)."""
    return [frame for _, frame in PCAP.read_pcap(path)[1]]


def ipv4(frame):
    """(src_mac, proto, l4 bytes) of an unfragmented IPv4 frame, or None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4:
        return None
    ihl = (frame[14] & 0x0F) * 4
    tot = struct.unpack("!H", frame[16:18])[0]
    if struct.unpack("!H", frame[20:22])[0] & 0x3FFF:
        return None
    return frame[6:12], frame[23], frame[14 + ihl:14 + tot]


def dhcp_reply(l4, mac):
    """(type, boot file) of a BOOTREPLY to mac, or None (RFC 2131 2, RFC 2132 9.5, 9.6)."""
    if len(l4) < 8 + 240 or struct.unpack("!H", l4[0:2])[0] not in (67, 4011):
        return None
    b = l4[8:]
    if b[0] != 2 or b[28:34] != mac or b[236:240] != b"\x63\x82\x53\x63":
        return None
    file_field = b[108:236].split(b"\0", 1)[0]
    kind, opt67, i = None, None, 240
    while i < len(b) and b[i] != 255:
        if b[i] == 0:
            i += 1
            continue
        if i + 2 > len(b) or i + 2 + b[i + 1] > len(b):
            break
        code, val = b[i], b[i + 2:i + 2 + b[i + 1]]
        if code == 53 and val:
            kind = DHCP_TYPES.get(val[0], str(val[0]))
        elif code == 67:
            opt67 = val.split(b"\0", 1)[0]
        i += 2 + b[i + 1]
    name = opt67 if opt67 is not None else file_field
    return kind or "?", name.decode("latin-1")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: wire-urls.py PCAP MAC")
    mac = bytes.fromhex(sys.argv[2].replace(":", ""))
    flows = {}  # (sport, dport) -> {seq: payload}, in the order first seen
    for frame in frames(sys.argv[1]):
        p = ipv4(frame)
        if not p:
            continue
        src, proto, l4 = p
        if proto == 17:
            r = dhcp_reply(l4, mac)
            if r:
                print(f"dhcp {r[0]} {r[1]}")
        elif proto == 6 and src == mac and len(l4) >= 20:
            sport, dport, seq = struct.unpack("!HHI", l4[0:8])
            payload = l4[(l4[12] >> 4) * 4:]
            if payload:
                flows.setdefault((sport, dport), {}).setdefault(seq, payload)
    for segs in flows.values():
        stream, nxt = b"", None
        for seq in sorted(segs, key=lambda s: (s - min(segs)) & 0xFFFFFFFF):
            data = segs[seq]
            if nxt is not None:
                skip = (nxt - seq) & 0xFFFFFFFF
                if skip >= len(data) and skip < 1 << 31:
                    continue  # a retransmission of bytes we have
                data = data[skip:] if skip < 1 << 31 else data
            stream += data
            nxt = (seq + len(segs[seq])) & 0xFFFFFFFF
        for m in re.finditer(rb"(?:^|\r\n)GET (\S+) HTTP/1\.[01]\r\n", stream):
            print("get " + m.group(1).decode("latin-1"))


if __name__ == "__main__":
    main()
