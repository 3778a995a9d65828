#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""tftp-paced.py - one TFTP download (RFC 1350/2348) that holds its session open.

  tftp-paced.py SERVER NAME COPY_OF_FILE FLAG_FILE

ACKs one block every 0.1 s (well inside the server's retransmit timeout) until
FLAG_FILE exists, then at full speed; compares every block with COPY_OF_FILE
as it arrives. Prints "ok BLOCKS" or "fail REASON"; exit 0 only on success.
The reload test uses it so that a transfer is certainly in progress while the
configuration changes, however fast the host finishes the other downloads.
"""
import os
import socket
import struct
import sys
import time

BLKSIZE = 1468


def main(server, name, copy, flag):
    want = open(copy, "rb").read()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    rrq = b"\0\1" + name.encode() + b"\0octet\0blksize\0" + str(BLKSIZE).encode() + b"\0"
    s.sendto(rrq, (server, 69))
    got, expect, blksize, peer = bytearray(), 1, 512, None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        pkt, addr = s.recvfrom(70000)
        if peer is None:
            peer = addr
        elif addr != peer:
            continue
        op = struct.unpack("!H", pkt[:2])[0]
        if op == 6:  # OACK
            opts = pkt[2:].split(b"\0")
            for k, v in zip(opts[::2], opts[1::2]):
                if k.lower() == b"blksize":
                    blksize = int(v)
            s.sendto(b"\0\4\0\0", peer)
            continue
        if op == 5:
            return "fail ERROR %d %s" % (struct.unpack("!H", pkt[2:4])[0], pkt[4:-1].decode(errors="replace"))
        if op != 3:
            return "fail opcode %d" % op
        block = struct.unpack("!H", pkt[2:4])[0]
        if block == expect & 0xFFFF:
            data = pkt[4:]
            off = len(got)
            if want[off:off + len(data)] != data:
                return "fail block %d differs" % expect
            got += data
            expect += 1
        if not os.path.exists(flag):
            time.sleep(0.1)
        s.sendto(struct.pack("!HH", 4, (expect - 1) & 0xFFFF), peer)
        if block == (expect - 1) & 0xFFFF and len(pkt) - 4 < blksize:
            break
    if bytes(got) != want:
        return "fail %d of %d bytes" % (len(got), len(want))
    return "ok %d" % (expect - 1)


if __name__ == "__main__":
    try:
        r = main(*sys.argv[1:5])
    except (OSError, ValueError, TypeError) as e:
        r = "fail %s" % e
    print(r)
    sys.exit(0 if r.startswith("ok") else 1)
