#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""dp-client-cap.py - TFTP sessions per client address, from a client's side (dp-client-cap.sh).

  dp-client-cap.py SERVER IMAGE ADDR_A ADDR_B CAP N_SEQ

1. From ADDR_A, 3 * CAP RRQs for IMAGE, each from a new UDP socket (a new source port),
   none ACKed afterwards: exactly CAP are answered (DATA 1 from a transfer port), the others
   get nothing (held, no ERROR).
2. From ADDR_B one RRQ: answered (the cap is per client address).
3. Two of A's sessions are ended (ERROR 0 to their transfer port); two of the held sockets
   send their RRQ again, and a third (as clients' retransmissions do): two answered.
4. Everything ended; then N_SEQ sessions one after the other from ADDR_A (RRQ, DATA 1,
   ERROR): their transfer ports, in order.

Prints one line per fact, "key value...", for the shell test to check.
"""
import socket
import struct
import sys
import time


def rrq(name):
    return struct.pack("!H", 1) + name.encode() + b"\0octet\0"


def error():
    return struct.pack("!HH", 5, 0) + b"done\0"


def sock(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    s.setblocking(False)
    return s


def answer(s, wait):
    """The first DATA/OACK/ERROR that came to s within wait seconds: (opcode, port) or None."""
    end = time.monotonic() + wait
    while True:
        try:
            data, peer = s.recvfrom(2048)
            return struct.unpack("!H", data[:2])[0], peer[1]
        except BlockingIOError:
            if time.monotonic() > end:
                return None
            time.sleep(0.01)


def drain(s):
    try:
        while True:
            s.recvfrom(2048)
    except BlockingIOError:
        pass


def main():
    srv, image, a, b, cap, n_seq = sys.argv[1:7]
    cap, n_seq = int(cap), int(n_seq)
    socks = [sock(a) for _ in range(3 * cap)]
    for s in socks:
        s.sendto(rrq(image), (srv, 69))
    time.sleep(1.0)
    got = [answer(s, 0.2) for s in socks]
    answered = [i for i, g in enumerate(got) if g]
    held = [i for i, g in enumerate(got) if not g]
    print("phase1_answered", len(answered))
    print("phase1_held", len(held))
    print("phase1_errors", sum(1 for g in got if g and g[0] == 5))
    print("phase1_ports", *[got[i][1] for i in answered])

    sb = sock(b)
    sb.sendto(rrq(image), (srv, 69))
    gb = answer(sb, 2.0)
    print("other_client_answered", 1 if gb and gb[0] == 3 else 0)

    for i in answered[:2]:
        socks[i].sendto(error(), (srv, got[i][1]))
    time.sleep(0.3)
    again = held[:3]
    for i in again:
        drain(socks[i])
        socks[i].sendto(rrq(image), (srv, 69))
    time.sleep(1.0)
    re = [answer(socks[i], 0.2) for i in again]
    print("after_close_answered", sum(1 for r in re if r and r[0] == 3))

    # end every session this script opened
    for i, g in enumerate(got):
        if g and i not in answered[:2]:
            socks[i].sendto(error(), (srv, g[1]))
    for i, r in zip(again, re):
        if r:
            socks[i].sendto(error(), (srv, r[1]))
    if gb:
        sb.sendto(error(), (srv, gb[1]))
    time.sleep(0.5)

    ports = []
    for _ in range(n_seq):
        s = sock(a)
        s.sendto(rrq(image), (srv, 69))
        r = answer(s, 3.0)
        if not r:
            break
        ports.append(r[1])
        s.sendto(error(), (srv, r[1]))
        s.close()
    print("seq_ports", *ports)


if __name__ == "__main__":
    main()
