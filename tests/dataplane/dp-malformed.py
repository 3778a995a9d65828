#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""dp-malformed.py - malformed DHCP and TFTP packets into the lab (for dp-malformed.sh).

  dp-malformed.py IFACE TEL_PREFIX SERVER_MAC [ROUNDS]

Run in the client namespace (IFACE has 198.18.0.10). Each case is one frame built
with scapy (well-formed Ethernet/IPv4/UDP, so XDP steers it to the dataplane; only
the DHCP/TFTP payload is bad), sent ROUNDS times (default 1). After each case the
dataplane's /stormboot/stats (DPDK telemetry) must show the case's drop reason up
by exactly ROUNDS and no other drop reason moved. Prints "ok - ..." or
"not ok - ..." per case; exits 1 if any case failed.
"""
import importlib.util
import os
import struct
import sys
import time

from scapy.all import IP, UDP, Ether, Raw, conf, sendp  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("dptel", os.path.join(HERE, "dp-tel.py"))
dptel = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dptel)

SRV = "198.18.0.1"
CLI = "198.18.0.10"
CLI_MAC = bytes.fromhex("025b00000101")
COOKIE = bytes([99, 130, 83, 99])


def bootp(op=1, htype=1, hlen=6, cookie=COOKIE, opts=b"\x35\x01\x01\xff", xid=0x5B0B0001):
    """BOOTP header (RFC 2131 2, 236 bytes) + cookie + options."""
    hdr = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", op, htype, hlen, 0, xid, 0, 0x8000,
                      b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4,
                      CLI_MAC + b"\0" * 10, b"\0" * 64, b"\0" * 128)
    assert len(hdr) == 236
    return hdr + cookie + opts


def rrq(name=b"img1m.bin", mode=b"octet", rest=b"", opcode=1):
    return struct.pack("!H", opcode) + name + b"\0" + mode + b"\0" + rest


# (description, UDP destination port, payload, expected drop reason)
CASES = [
    ("DHCP: zero-length payload", 67, b"", "dhcp_short"),
    ("DHCP: 1 byte", 67, b"\x01", "dhcp_short"),
    ("DHCP: BOOTP header cut at 235 bytes", 67, bootp()[:235], "dhcp_short"),
    ("DHCP: header without magic cookie", 67, bootp()[:236], "dhcp_short"),
    ("DHCP: bad magic cookie", 67, bootp(cookie=b"\x63\x82\x53\x64"), "dhcp_bad_cookie"),
    ("DHCP: op 3", 67, bootp(op=3), "dhcp_bad_op"),
    ("DHCP: htype 6 hlen 6", 67, bootp(htype=6), "dhcp_bad_htype"),
    ("DHCP: hlen 16", 67, bootp(hlen=16), "dhcp_bad_htype"),
    ("DHCP: options without END", 67, bootp(opts=b"\x35\x01\x01"), "dhcp_opt_no_end"),
    ("DHCP: option length past the end", 67, bootp(opts=b"\x35\x01\x01\x0c\xffabc"),
     "dhcp_opt_overrun"),
    ("DHCP: option 53 of length 2", 67, bootp(opts=b"\x35\x02\x01\x01\xff"), "dhcp_opt_bad_len"),
    ("DHCP: option 53 value 99", 67, bootp(opts=b"\x35\x01\x63\xff"), "dhcp_bad_msg_type"),
    ("DHCP: no option 53 (plain BOOTP)", 67, bootp(opts=b"\x0c\x03abc\xff"), "dhcp_no_msg_type"),
    ("DHCP: option 53 twice", 67, bootp(opts=b"\x35\x01\x01\x35\x01\x03\xff"),
     "dhcp_opt_duplicate"),
    ("DHCP: option 52 overload value 7", 67, bootp(opts=b"\x35\x01\x01\x34\x01\x07\xff"),
     "dhcp_bad_overload"),
    ("DHCP: option 82 sub-option past its end", 67,
     bootp(opts=b"\x35\x01\x01\x52\x04\x01\x09ab\xff"), "dhcp_bad_relay_agent"),
    ("DHCP: BOOTREPLY sent to the server", 67, bootp(op=2, opts=b"\x35\x01\x02\xff"),
     "dhcp_not_request"),
    ("DHCP: REQUEST naming another server (54)", 67,
     bootp(opts=b"\x35\x01\x03\x36\x04\xc6\x12\x00\x63\x32\x04\xc6\x12\x00\x64\xff"),
     "dhcp_not_for_us"),
    ("TFTP: zero-length payload to 69", 69, b"", "tftp_short"),
    ("TFTP: 1 byte to 69", 69, b"\x00", "tftp_short"),
    ("TFTP: RRQ file name without NUL", 69, b"\x00\x01img1m.bin", "tftp_no_nul"),
    ("TFTP: RRQ mode without NUL", 69, b"\x00\x01img1m.bin\x00octet", "tftp_no_nul"),
    ("TFTP: RRQ option without value", 69, rrq(rest=b"blksize\x00"), "tftp_option_no_value"),
    ("TFTP: RRQ option value without NUL", 69, rrq(rest=b"blksize\x001468"), "tftp_no_nul"),
    ("TFTP: RRQ mode 'mail'", 69, rrq(mode=b"mail"), "tftp_bad_mode_refused"),
    ("TFTP: opcode 0", 69, b"\x00\x00abc\x00", "tftp_bad_opcode_refused"),
    ("TFTP: opcode 9", 69, b"\x00\x09x\x00", "tftp_bad_opcode_refused"),
    ("TFTP: opcode 0xffff", 69, b"\xff\xff\x00\x01", "tftp_bad_opcode_refused"),
    ("TFTP: ACK to port 69", 69, b"\x00\x04\x00\x01", "tftp_unexpected_opcode_refused"),
    ("TFTP: DATA to port 69", 69, b"\x00\x03\x00\x01hello", "tftp_unexpected_opcode_refused"),
    ("TFTP: ERROR to port 69", 69, b"\x00\x05\x00\x00oops\x00", "tftp_error_received"),
    ("TFTP: RRQ '../img1m.bin'", 69, rrq(name=b"../img1m.bin"), "tftp_bad_path_refused"),
    ("TFTP: ACK to a transfer port with no session", 61500, b"\x00\x04\x00\x01",
     "tftp_unknown_session"),
    ("TFTP: zero-length to a transfer port", 61501, b"", "tftp_unknown_session"),
]


def drops(prefix):
    st = dptel.query(prefix, "/stormboot/stats")
    return {k[5:]: v for k, v in st.items() if k.startswith("drop_")}


def main():
    iface, prefix, srv_mac = sys.argv[1], sys.argv[2], sys.argv[3]
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    conf.verb = 0
    failed = 0
    for i, (desc, dport, payload, want) in enumerate(CASES):
        sport = 68 if dport == 67 else 40000 + i
        frame = (Ether(src="02:5b:00:00:01:01", dst=srv_mac) / IP(src=CLI, dst=SRV) /
                 UDP(sport=sport, dport=dport) / Raw(load=payload))
        before = drops(prefix)
        if want not in before:
            print("not ok - %s: no drop counter named %s" % (desc, want))
            failed += 1
            continue
        sendp(frame, iface=iface, count=rounds)
        deadline = time.monotonic() + 3
        while True:
            after = drops(prefix)
            if after[want] - before[want] >= rounds or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        time.sleep(0.05)  # anything else it would count arrives with it
        after = drops(prefix)
        moved = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
        if moved == {want: rounds}:
            print("ok - %s: drop %s +%d" % (desc, want, rounds))
        else:
            print("not ok - %s: want only %s +%d, drops moved: %s" % (desc, want, rounds, moved))
            failed += 1
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
