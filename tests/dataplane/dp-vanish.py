#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""dp-vanish.py - a TFTP client that vanishes mid-transfer (for dp-vanish.sh).

  dp-vanish.py SERVER FILE ACKS LISTEN_S [OPTIONS...]

Sends a RRQ for FILE (octet, with the RFC 2347 options given as name=value), ACKs
the OACK (if any) and the first ACKS DATA blocks, then stops ACKing. It prints
"stopped" (flushed) and goes on listening for LISTEN_S seconds, counting what the
server retransmits, then sends one late ACK from the same port and checks that
nothing answers it. Last line: one JSON object with what it saw.
ACKS = 0 with options: the OACK is never acknowledged.
"""
import json
import socket
import struct
import sys
import time


def main():
    server, name, acks, listen_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    opts = [o.split("=", 1) for o in sys.argv[5:]]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    s.settimeout(5)
    rrq = struct.pack("!H", 1) + name.encode() + b"\0octet\0"
    for k, v in opts:
        rrq += k.encode() + b"\0" + v.encode() + b"\0"
    s.sendto(rrq, (server, 69))
    seen = {"oack": False, "blocks": [], "tid": None, "retransmits": 0, "after": []}
    last = None  # (opcode, block) of the last packet we did not acknowledge
    acked = 0
    while True:
        data, peer = s.recvfrom(65536)
        if seen["tid"] is None:
            seen["tid"] = peer[1]
        op = struct.unpack("!H", data[:2])[0]
        if op == 6:  # OACK (RFC 2347)
            seen["oack"] = True
            if acks == 0:
                last = (6, 0)
                break
            s.sendto(struct.pack("!HH", 4, 0), peer)
            continue
        if op != 3:
            raise SystemExit("unexpected opcode %d: %r" % (op, data[:40]))
        block = struct.unpack("!H", data[2:4])[0]
        seen["blocks"].append(block)
        if acked < acks:
            s.sendto(struct.pack("!HH", 4, block), peer)
            acked += 1
            continue
        last = (3, block)
        break
    print("stopped", flush=True)
    # silent now: every packet that still comes is a retransmission of `last`
    s.settimeout(0.2)
    end = time.monotonic() + listen_s
    while time.monotonic() < end:
        try:
            data, peer = s.recvfrom(65536)
        except socket.timeout:
            continue
        op = struct.unpack("!H", data[:2])[0]
        blk = struct.unpack("!H", data[2:4])[0] if op == 3 else 0
        seen["after"].append([round(time.monotonic() - end + listen_s, 3), op, blk])
        if (op, blk) == last:
            seen["retransmits"] += 1
    # a late ACK to the transfer port after the give-up: no session, no answer
    s.sendto(struct.pack("!HH", 4, last[1]), (server, seen["tid"]))
    s.settimeout(1.0)
    try:
        data, peer = s.recvfrom(65536)
        seen["late_answer"] = list(struct.unpack("!HH", data[:4]))
    except socket.timeout:
        seen["late_answer"] = None
    seen["last"] = list(last)
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    main()
