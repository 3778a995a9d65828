#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""dp-tel.py - a small DPDK telemetry client for the dataplane lab tests.

It speaks the same protocol as dpdk-telemetry.py (SOCK_SEQPACKET socket
/var/run/dpdk/PREFIX/dpdk_telemetry.v2, one JSON answer per command), but starts
in a fraction of the time and does not retry, so tests can read counters often.

  dp-tel.py PREFIX CMD                 CMD's value as JSON (exit 1 if no answer)
  dp-tel.py PREFIX CMD KEY             one value of CMD's dict ("" if missing)
  dp-tel.py PREFIX --delta FILE CMD    shell lines d_KEY=N: every integer of CMD's
                                       dict now minus its value in FILE (a saved answer)
"""
import json
import os
import socket
import sys


def query(prefix, cmd):
    path = os.path.join("/var/run/dpdk", prefix, "dpdk_telemetry.v2")
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(20)
        s.connect(path)
        hello = json.loads(s.recv(16384).decode())
        s.send(cmd.encode())
        answer = json.loads(s.recv(hello.get("max_output_len", 16384)).decode())
    key = cmd.split(",")[0]  # "/ethdev/stats,0" answers under "/ethdev/stats"
    if key not in answer or answer[key] is None:
        raise KeyError(cmd)
    return answer[key]


def main(argv):
    if len(argv) >= 4 and argv[2] == "--delta":
        old = json.load(open(argv[3]))
        now = query(argv[1], argv[4])
        for k, v in sorted(now.items()):
            if isinstance(v, int):
                print("d_%s=%d" % (k, v - int(old.get(k, 0))))
        return 0
    if len(argv) == 3:
        print(json.dumps(query(argv[1], argv[2])))
        return 0
    if len(argv) == 4:
        v = query(argv[1], argv[2]).get(argv[3])
        print("" if v is None else v)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, ValueError, KeyError) as e:
        sys.stderr.write("dp-tel.py: %s\n" % e)
        sys.exit(1)
