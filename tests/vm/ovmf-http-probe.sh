#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ovmf-http-probe.sh - does Debian's OVMF try UEFI HTTP boot with its own client? (root not
# needed; no lab: QEMU's user-mode network, restricted, inside QEMU only, 198.18.200.0/24)
#
# Boots OVMF (TCG) with a virtio NIC and no disk for SECS seconds (default 150), records
# the firmware's console (BdsDxe names every boot option it tries) and the NIC's frames
# (QEMU filter-dump, a pcap), then prints: the boot options tried, and the DHCP DISCOVERs
# by vendor class (PXEClient / HTTPClient) with their client architecture (option 93).
# An "HTTPClient:Arch:00016" DISCOVER means the firmware has the HTTP boot client.
#
# Usage: tests/vm/ovmf-http-probe.sh [SECS] [OUT_DIR]
set -euo pipefail
SECS=${1:-150}
OUT=${2:-$(mktemp -d /tmp/sb-ovmf-probe.XXXXXX)}
mkdir -p "$OUT"
CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
[ -r "$CODE" ] || { echo "ovmf-http-probe: $CODE missing (apt-get install ovmf)" >&2; exit 2; }
cp "$VARS" "$OUT/vars.fd"
timeout "$SECS" qemu-system-x86_64 -machine q35,accel=tcg -m 512 -nographic -no-reboot \
	-drive "if=pflash,format=raw,readonly=on,file=$CODE" \
	-drive "if=pflash,format=raw,file=$OUT/vars.fd" \
	-netdev "user,id=n0,restrict=on,net=198.18.200.0/24,host=198.18.200.2,dhcpstart=198.18.200.15" \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:5b:00:17,romfile= \
	-object filter-dump,id=f0,netdev=n0,file="$OUT/nic.pcap" \
	-serial "file:$OUT/console.log" -monitor none -display none </dev/null >/dev/null 2>&1 || true
echo "== boot options the firmware tried (console: $OUT/console.log)"
tr -d '\r' <"$OUT/console.log" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' | grep -aoE 'BdsDxe: [a-z ]+ Boot[0-9A-F]{4} "[^"]*"[^.]*' | uniq || true
tr -d '\r' <"$OUT/console.log" | sed 's/\x1b\[[0-9;=]*[A-Za-z]//g' | grep -aE '^>>Start|Error:' || true
echo "== DHCP DISCOVER/REQUEST by vendor class (pcap: $OUT/nic.pcap)"
python3 - "$OUT/nic.pcap" <<'PY'
import struct, sys, collections
data = open(sys.argv[1], 'rb').read()
off, seen = 24, collections.Counter()
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack_from('<IIII', data, off)
    pkt = data[off + 16: off + 16 + incl]
    off += 16 + incl
    if len(pkt) < 14 + 20 + 8 + 240 or pkt[12:14] != b'\x08\x00' or pkt[23] != 17:
        continue
    ihl = (pkt[14] & 15) * 4
    udp = 14 + ihl
    if struct.unpack_from('!H', pkt, udp + 2)[0] != 67:
        continue
    opts, i, vc, arch, mtype = pkt[udp + 8 + 240:], 0, '', '', 0
    while i + 1 < len(opts) and opts[i] != 255:
        if opts[i] == 0:
            i += 1
            continue
        t, l = opts[i], opts[i + 1]
        v = opts[i + 2:i + 2 + l]
        if t == 60: vc = v.decode('latin1')
        if t == 93 and l >= 2: arch = str(struct.unpack('!H', v[:2])[0])
        if t == 53: mtype = v[0]
        i += 2 + l
    seen[({1: 'DISCOVER', 3: 'REQUEST'}.get(mtype, str(mtype)), vc, arch)] += 1
for (m, vc, arch), n in sorted(seen.items()):
    print(f"{n:4d} {m:8s} option60={vc!r} arch={arch}")
http = sum(n for (m, vc, a), n in seen.items() if vc.startswith('HTTPClient'))
print(f"RESULT ovmf_http_discovers={http}")
PY
