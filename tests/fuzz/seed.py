#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""seed.py FIXTURES OUT - seed corpora for the libFuzzer harnesses, one folder per harness.

frame:         every frame of the real-client captures (tests/fixtures/{dhcp,tftp,ndp}/*.pcap)
tftp_session:  per RRQ in the TFTP captures, a script: the RRQ, then the client's packets
mtftp:         RFC 2090 scripts: clients join, the master ACKs, a listener ACKs, ERROR, timers
config:        every config fixture, good and bad
chan, api, http: a few well-formed messages of each protocol
No scapy: the captures are plain pcap with Ethernet frames.
"""
import os
import struct
import sys


def pcap_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        yield data[off:off + incl]
        off += incl


def udp_of(frame):
    """(src_port, dst_port, payload) of an untagged or tagged IPv4/UDP frame, else None."""
    off, et = 12, struct.unpack("!H", frame[12:14])[0] if len(frame) >= 14 else 0
    while et in (0x8100, 0x88A8) and len(frame) >= off + 6:
        off += 4
        et = struct.unpack("!H", frame[off:off + 2])[0]
    off += 2
    if et != 0x0800 or len(frame) < off + 20 or frame[off + 9] != 17:
        return None
    ihl = (frame[off] & 15) * 4
    u = off + ihl
    if len(frame) < u + 8:
        return None
    sp, dp, ln = struct.unpack("!HHH", frame[u:u + 6])
    return sp, dp, frame[u + 8:u + ln]


def write(out, name, i, data):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-%04d" % i), "wb") as f:
        f.write(data)


def main(fixtures, out):
    n = 0
    for sub in ("dhcp", "tftp", "ndp"):
        for p in sorted(os.listdir(os.path.join(fixtures, sub))):
            for fr in pcap_frames(os.path.join(fixtures, sub, p)):
                write(out, "frame", n, fr)
                n += 1
    n = 0
    for p in sorted(os.listdir(os.path.join(fixtures, "tftp"))):
        frames = [udp_of(f) for f in pcap_frames(os.path.join(fixtures, "tftp", p))]
        frames = [f for f in frames if f]
        for i, (sp, dp, pl) in enumerate(frames):
            if dp != 69 or len(pl) > 255 or pl[:2] != b"\0\1":
                continue
            script = bytes([len(pl)]) + pl
            for sp2, dp2, pl2 in frames[i + 1:i + 200]:
                if sp2 == sp and len(pl2) <= 255:  # the client's later packets
                    script += bytes([0, 1, len(pl2)]) + pl2
            script += bytes([2, 0, 0, 3, 255, 0])  # a timer, then time passing
            write(out, "tftp_session", n, script)
            n += 1
    # mtftp: three clients join (RRQ with multicast), the master ACKs, a listener ACKs,
    # one leaves with ERROR, timers pass
    rrq = b"\0\1img\0octet\0blksize\0001024\0tsize\0000\0multicast\0\0"
    ack = lambda b: b"\0\4" + bytes([b >> 8, b & 255])
    rec = lambda kind, who, pl, dt=0: bytes([kind, dt, who, len(pl)]) + pl
    for i in range(4):
        script = rec(0, 0, rrq) + rec(1, 0, ack(0)) + rec(0, 1, rrq, 1) + rec(0, 2, rrq, 2)
        for b in range(1, 10 + 20 * i):
            script += rec(1, 0, ack(b))
        script += rec(1, 1, ack(3)) + rec(1, 9, ack(1))
        if i & 1:
            script += rec(1, 0, b"\0\5\0\0bye\0")
        script += rec(2, 0, b"") + rec(3, 0, b"", 255) + rec(1, 1, ack(0)) + rec(1, 1, ack(5))
        write(out, "mtftp", i, script)
    n = 0
    for sub in ("good", "bad"):
        d = os.path.join(fixtures, "config", sub)
        for p in sorted(os.listdir(d)):
            with open(os.path.join(d, p), "rb") as f:
                write(out, "config", n, f.read())
            n += 1

    def chan(t, i, st, pl):
        return struct.pack("<IHHIiII", 0x48434253, 1, t, i, st, len(pl), 0) + pl
    lease = struct.pack("<QI6sBBHH", 1700003600, 0xC6120064, b"\x02\x5b\0\0\0\1", 1, 0, 0, 0)
    for i, fr in enumerate([chan(1, 1, 0, b'{"pid": 1, "version": "0.1.0"}'),
                            chan(4, 2, 0, lease * 3),
                            chan(0x8004, 2, 0, struct.pack("<iii", 0, -98, 0)),
                            chan(2, 7, 0, b'{"interface": "sb0"}') + chan(5, 8, 0, b"")]):
        write(out, "chan", i, fr)
    for i, req in enumerate([b'{"command": "status"}\n',
                             b'{"command": "lease-get", "arguments": {"mac": "52:54:00:12:34:56"}}\n',
                             b'{"command": "image-add", "arguments": {"name": "a", "path": "/x"}}\n{"command": "help"}\n',
                             b'{"command": 1}\n\n[]\n']):
        write(out, "api", i, req)
    for i, req in enumerate([b"GET /ipxe.efi HTTP/1.1\r\nHost: 198.18.0.1\r\n\r\n",
                             b"HEAD /vmlinuz HTTP/1.0\r\nRange: bytes=100-199\r\n\r\n",
                             b"GET /ipxe/boot?mac=52%3a54%3a00%3a12%3a34%3a56&x=1 HTTP/1.1\r\nConnection: close\r\nRange: bytes=-500\r\n\r\n",
                             b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd"]):
        write(out, "http", i, req)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
