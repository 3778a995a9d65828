#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dp-host-udp.sh - the host's own UDP clients keep working beside the dataplane (issue 13,
# item 7). The XDP program steers the TFTP transfer ports (to server_ip) to the dataplane; a
# range inside the kernel's ephemeral ports (net.ipv4.ip_local_port_range) would steer away
# the replies to the server host's own DNS or NTP queries. With the default transfer ports:
#   - a kernel UDP client in the server namespace sends a query from ports spread over the
#     whole ephemeral range (both ends and 62 between) to an echo server in the client
#     namespace: every reply arrives;
# and, to show what the check guards against, with transfer ports 60000-60999 (inside the
# default ephemeral range 32768-60999):
#   - the dataplane warns at start, naming both ranges;
#   - a reply to the host's socket on port 60500 does not arrive, and the dataplane counts it
#     (drop_tftp_unknown_session).
#
# Usage (root): BUILD_DIR=build tests/dataplane/dp-host-udp.sh     (SB_PREFIX default "dph")
set -euo pipefail
export SB_PREFIX=${SB_PREFIX:-dph}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/dp-lib.sh"
dp_init

dp_image undionly.kpxe 65536
dp_lab_up --tx-csum-off
sb_in "$SB_NS_CLI" ip addr add 198.18.0.10/24 dev "$SB_IF_CLI"
sb_in "$SB_NS_SRV" sysctl -qw net.ipv4.ip_local_port_range="32768 60999"

# UDP echo in the client namespace: answers every datagram to its source port.
cat >"$DP_WORK/echo.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.10", 5353))
s.settimeout(1)
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    try:
        data, peer = s.recvfrom(2048)
    except socket.timeout:
        continue
    s.sendto(data, peer)
EOF
# QUERY: from each source port given, one datagram to the echo; prints the ports answered.
cat >"$DP_WORK/query.py" <<'EOF'
import socket, sys
ok = []
for port in (int(p) for p in sys.argv[1:]):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.0.1", port))
    s.settimeout(0.5)
    for _ in range(3):  # UDP: try thrice before calling it lost
        s.sendto(b"q%d" % port, ("198.18.0.10", 5353))
        try:
            if s.recv(64) == b"q%d" % port:
                ok.append(port)
                break
        except socket.timeout:
            pass
    s.close()
print(" ".join(map(str, ok)))
EOF
sb_in "$SB_NS_CLI" timeout 120 "$DP_PY" "$DP_WORK/echo.py" 110 &
ECHO=$!

# 1. the default transfer ports: every ephemeral port gets its reply.
dp_config '{}'
dp_start
sb_check "no overlap warning with the default transfer ports" \
	sh -c "! grep -q 'overlap the kernel' '$SB_RUN/dataplane.log'"
ports="32768 32769 60998 60999 $(seq 33000 450 60999 | head -n 62 | tr '\n' ' ')"
want=$(echo $ports | wc -w)
got=$(sb_in "$SB_NS_SRV" "$DP_PY" "$DP_WORK/query.py" $ports | wc -w)
sb_check "host UDP client: $want source ports across the ephemeral range, $got answered" \
	test "$got" = "$want"
sb_stop dataplane 10

# 2. an overlapping range: warned about at start, and the reply on 60500 is steered away.
dp_config '{"tftp": {"transfer_ports": {"first": 60000, "last": 60999}}}'
dp_start
sb_check "the dataplane warns that 60000-60999 overlap the ephemeral ports 32768-60999" \
	grep -q 'tftp.transfer_ports 60000-60999 overlap the kernel.s ephemeral ports 32768-60999' \
	"$SB_RUN/dataplane.log"
dp_snap /stormboot/stats "$DP_WORK/s.before"
got=$(sb_in "$SB_NS_SRV" "$DP_PY" "$DP_WORK/query.py" 60500 40000)
sb_check "overlapping range: the reply to port 60500 is lost, 40000 answered (got: $got)" \
	test "$got" = "40000"
sb_check "the dataplane counted the steered replies (drop_tftp_unknown_session +$(dp_delta "$DP_WORK/s.before" /stormboot/stats drop_tftp_unknown_session))" \
	test "$(dp_delta "$DP_WORK/s.before" /stormboot/stats drop_tftp_unknown_session)" -ge 1
sb_stop dataplane 10
kill "$ECHO" 2>/dev/null || true
wait "$ECHO" 2>/dev/null || true
sb_summary
