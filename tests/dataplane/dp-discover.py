#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""dp-discover.py - send DHCPDISCOVER frames from a raw socket, bounded in count and time.

  dp-discover.py IFACE --count N [--seconds S] [--macs random|one] [--seed K] [--dst MAC]

DISCOVERs (0.0.0.0:68 -> 255.255.255.255:67, UDP checksum 0 as RFC 768 allows; to
the Ethernet broadcast address, or to --dst MAC, e.g. the server's, so that a bridge
forwards them to the server alone) with a fresh xid each, from random locally administered MACs (chaddr = the
Ethernet source; 4096 frames built before the loop and sent round robin, each MAC
drawn once) or all from one MAC (--macs one). Stops at N frames or after S seconds,
whichever comes first, then prints "sent N seconds S rate R" (frames the kernel
took: a blocking socket, so none is lost before the interface). Lab use only: run it
inside a lab namespace (198.18.0.0/15 lab, nothing routed).
"""
import argparse
import random
import socket
import struct
import sys
import time


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def discover(mac, xid, dst):
    opts = bytes([53, 1, 1, 61, 7, 1]) + mac + bytes([55, 3, 1, 3, 6, 255])
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0,
                        bytes(4), bytes(4), bytes(4), bytes(4), mac + bytes(10),
                        bytes(64), bytes(128)) + bytes([99, 130, 83, 99]) + opts
    bootp += bytes(300 - len(bootp)) if len(bootp) < 300 else b""
    udp = struct.pack("!HHHH", 68, 67, 8 + len(bootp), 0) + bootp
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0x10, 20 + len(udp), 0, 0, 64, 17, 0,
                     bytes(4), b"\xff\xff\xff\xff")
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst + mac + b"\x08\x00" + ip + udp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--macs", choices=("random", "one"), default="random")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dst", default="ff:ff:ff:ff:ff:ff")
    a = ap.parse_args()
    if a.count < 1 or a.count > 5_000_000 or a.seconds <= 0 or a.seconds > 120:
        sys.exit("dp-discover.py: --count 1..5000000, --seconds up to 120")
    rnd = random.Random(a.seed)
    one = bytes([0x02, 0x5C]) + rnd.randbytes(4)
    dst = bytes.fromhex(a.dst.replace(":", ""))
    if len(dst) != 6:
        sys.exit("dp-discover.py: --dst: a MAC address")
    frames = []
    for i in range(4096):
        mac = one if a.macs == "one" else bytes([0x02, 0x5C]) + rnd.randbytes(4)
        frames.append(discover(mac, rnd.getrandbits(32), dst))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    send = s.send
    n = 0
    t0 = time.monotonic()
    end = t0 + a.seconds
    while n < a.count:
        send(frames[n & 4095])
        n += 1
        if (n & 1023) == 0 and time.monotonic() > end:
            break
    dt = time.monotonic() - t0
    print("sent %d seconds %.2f rate %d" % (n, dt, n / dt if dt > 0 else 0))


if __name__ == "__main__":
    main()
