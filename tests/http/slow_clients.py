#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""slow_clients.py - slow-header clients against the HTTP boot server (run in the client
namespace by test-http-slow.sh).

  slow_clients.py SERVER PORT SLOW_IP N GOOD_IP PATH
Opens N connections from SLOW_IP that send a request head one byte every 0.2 s (it would
take 9 s to finish), then, while they hold, fetches PATH from GOOD_IP. Prints one JSON line:
  accepted   slow connections the server took (no 503 at once)
  refused    slow connections answered 503 at once
  good       status of the good client's GET while the slow ones held
  cut        accepted slow connections that the server closed before their head was complete
  answered   slow connections that ever got a response other than the 503 refusal
Bounded: gives up after 20 s.
"""
import json
import select
import socket
import sys
import time

server, port, slow_ip, n, good_ip, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    int(sys.argv[4]), sys.argv[5], sys.argv[6]
HEAD = f"GET {path} HTTP/1.1\r\nHost: {server}\r\nX-Slow: {'y' * 10}\r\n\r\n".encode()

conns = []
for i in range(n):
    s = socket.socket()
    s.bind((slow_ip, 0))
    s.settimeout(5)
    s.connect((server, port))
    s.setblocking(False)
    conns.append({"s": s, "sent": 0, "state": "open", "data": b""})

def poll_reads(timeout):
    socks = [c["s"] for c in conns if c["state"] == "open"]
    if not socks:
        time.sleep(timeout)
        return
    r, _, _ = select.select(socks, [], [], timeout)
    for c in conns:
        if c["s"] in r:
            try:
                d = c["s"].recv(4096)
            except (ConnectionResetError, BlockingIOError):
                d = b""
            c["data"] += d
            if not d:
                c["state"] = "closed"

# a refusal comes at once (or soon, on a loaded host)
poll_reads(1.0)
refused = [c for c in conns if c["data"].startswith(b"HTTP/1.1 503 ")]
for c in refused:
    c["state"] = "refused"
accepted = [c for c in conns if c["state"] == "open"]

# the good client, while the slow ones hold their slots
g = socket.create_connection((server, port), timeout=5, source_address=(good_ip, 0))
g.sendall(f"GET {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\r\n".encode())
resp = b""
t0 = time.time()
while time.time() - t0 < 5:
    d = g.recv(65536)
    if not d:
        break
    resp += d
g.close()
good = int(resp.split(b" ")[1]) if resp.startswith(b"HTTP/1.1 ") else 0

# trickle, one byte per connection every 0.2 s, until every accepted one is closed
t0 = time.time()
while time.time() - t0 < 20 and any(c["state"] == "open" for c in accepted):
    for c in accepted:
        if c["state"] != "open" or c["sent"] >= len(HEAD):
            continue
        try:
            c["s"].send(HEAD[c["sent"]:c["sent"] + 1])
            c["sent"] += 1
        except (BrokenPipeError, ConnectionResetError):
            c["state"] = "closed"
    poll_reads(0.2)

# a refusal that came late (a loaded host: the server's thread accepts after this script
# began to trickle) is still a refusal, not a taken connection: the server sends a 503 only
# when it refuses a connection at accept, never to a request whose head is not complete
late = [c for c in accepted if c["data"].startswith(b"HTTP/1.1 503 ")]
refused += late
accepted = [c for c in accepted if c not in late]
cut = [c for c in accepted if c["state"] == "closed" and c["sent"] < len(HEAD)]
answered = [c for c in conns if c not in refused and c["data"]]
print(json.dumps({"accepted": len(accepted), "refused": len(refused), "good": good,
                  "cut": len(cut), "answered": len(answered),
                  "max_sent": max([c["sent"] for c in accepted] or [0]), "head": len(HEAD)}))
