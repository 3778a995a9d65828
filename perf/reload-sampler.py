#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""reload-sampler.py - hugepage high-water marks while the dataplane takes a new config.

  reload-sampler.py TELEMETRY_SOCKET STOP_FILE [PERIOD_MS]

Until STOP_FILE exists (at most 10 minutes), every PERIOD_MS (default 5) samples
  - the dataplane's own hugepage heap in use: DPDK telemetry /eal/heap_info,0
    (Alloc_size, what rte_malloc_get_socket_stats() calls heap_allocsz_bytes),
    over one telemetry connection kept open;
  - the host's 2 MiB hugepages in use: nr_hugepages - free_hugepages (every process
    on the host, so other users' pages count too).
Prints one line: "heap_start_mib=A heap_max_mib=B host_start_mib=C host_max_mib=D
samples=N". A peak shorter than PERIOD_MS can be missed: the figures are lower bounds.
"""
import json
import os
import socket
import sys
import time

HP = "/sys/kernel/mm/hugepages/hugepages-2048kB"


def host_used_bytes():
    with open(HP + "/nr_hugepages") as f:
        total = int(f.read())
    with open(HP + "/free_hugepages") as f:
        free = int(f.read())
    return (total - free) * 2 * 1024 * 1024


def main(sock_path, stop, period_ms=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(sock_path)
    maxlen = json.loads(s.recv(16384).decode()).get("max_output_len", 16384)

    def heap():
        s.send(b"/eal/heap_info,0")
        return int(json.loads(s.recv(maxlen).decode())["/eal/heap_info"]["Alloc_size"])

    heap0 = heap_max = heap()
    host0 = host_max = host_used_bytes()
    n = 1
    deadline = time.monotonic() + 600
    while not os.path.exists(stop) and time.monotonic() < deadline:
        time.sleep(period_ms / 1000.0)
        heap_max = max(heap_max, heap())
        host_max = max(host_max, host_used_bytes())
        n += 1
    mib = 1024 * 1024
    print("heap_start_mib=%d heap_max_mib=%d host_start_mib=%d host_max_mib=%d samples=%d"
          % (heap0 // mib, heap_max // mib, host0 // mib, host_max // mib, n))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:4]))
