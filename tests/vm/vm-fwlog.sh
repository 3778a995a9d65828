#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vm-fwlog.sh - a VM whose kernel file was removed is diagnosed by `stormbootctl doctor` and
# by `stormbootctl trace MAC`, with the firmware's own message (issue #18's "done").
#
# One BIOS VM (QEMU TCG, SeaBIOS + Debian's iPXE option ROM on a virtio NIC, as in
# tests/lab/demo.sh). Its iPXE asks DHCP with user class "iPXE" and gets dhcp.boot.ipxe_script,
# the URL of the default template (dist/boot.ipxe) on stormboot-control's HTTP server. The
# template loads ${url:vmlinuz}, whose file this test removed from disk after the start: HTTP
# answers 404, iPXE's `kernel` fails, and the template's failure branch fetches
#   /fwlog?mac=${mac}&step=kernel&err=${errno}
# (Debian's iPXE has no syslog: this is how its own error number reaches stormboot). Then:
#   - `trace MAC` (exit 0) shows the DHCP steps, "HTTP 404 /vmlinuz" and "firmware err"
#     with "kernel: No such file or directory (0x........) https://ipxe.org/err/........";
#   - `doctor` (exit 1) has "FAIL images" naming vmlinuz's path "No such file or directory"
#     and "FAIL clients" naming the VM's MAC;
#   - `http-status` counts the report (firmware_reports.accepted); a report for a MAC nobody
#     knows from an address nobody leases is refused 403 (unknown_client), a bad one 400.
# The VM never gets a kernel, so the run is short (about a minute on TCG).
#
# Usage (root): tests/vm/vm-fwlog.sh [--keep]
# Environment: BUILD_DIR (default SOURCE_DIR/build), SB_PREFIX (default fw),
#   SB_FWLOG_OUT=FILE: also write the trace and doctor output there (docs/TROUBLESHOOTING.md).
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
export SB_PREFIX=${SB_PREFIX:-fw}
. "$SOURCE_DIR/tests/lab/lib.sh"
LAB=$SOURCE_DIR/tests/lab/lab.sh
P=$SB_PREFIX
KEEP=0
[ "${1:-}" = --keep ] && KEEP=1

sb_need_root
sb_need_cmd ip qemu-system-x86_64 curl
DP=$BUILD_DIR/dataplane/engine/stormboot-dataplane
CTLD=$BUILD_DIR/control/stormboot-control
CTL=$BUILD_DIR/control/stormbootctl
XDP=$BUILD_DIR/bpf/stormboot_xdp.o
for f in "$DP" "$CTLD" "$CTL"; do [ -x "$f" ] || sb_fail "no $f (build first, or set BUILD_DIR)"; done
[ -r "$XDP" ] || sb_fail "no XDP object at $XDP"
[ -r /usr/lib/ipxe/qemu/pxe-virtio.rom ] || sb_fail "no iPXE ROM (package ipxe-qemu)"
[ -r /usr/lib/ipxe/undionly.kpxe ] || sb_fail "no undionly.kpxe (package ipxe)"

IF_TAP=${P}tap IF_VBR=${P}vbr SRV=198.18.0.1
VM_MAC=52:54:00:5b:0f:01
WORK=$(mktemp -d "/tmp/sb-fwlog.XXXXXX")
chmod 755 "$WORK"

cleanup() {
	local rc=$?
	set +e
	sb_stop qemu 3
	sb_stop control 5
	sb_stop dataplane 10
	if [ $rc != 0 ]; then
		echo "--- vm-fwlog failed; last lines of the logs (all in $WORK, $SB_RUN):" >&2
		for f in "$WORK/serial.txt" "$SB_RUN/control.log" "$SB_RUN/dataplane.log" \
			"$SB_RUN/qemu.log"; do
			[ -s "$f" ] || continue
			echo "--- $f" >&2
			tail -n 30 "$f" | tr -d '\r' | cut -c1-200 >&2
		done
	fi
	if [ $KEEP = 0 ]; then
		"$LAB" down >/dev/null 2>&1
		[ $rc = 0 ] && rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- lab: the standard veth pair, the VM's tap bridged to the client end
"$LAB" up >/dev/null
eval "$("$LAB" env)"
rm -f "$SB_RUN/control.log"
NS_CLI=$SB_NS_CLI
sb_in "$NS_CLI" ip link add "$IF_VBR" type bridge stp_state 0 forward_delay 0
sb_in "$NS_CLI" ip link set "$SB_IF_CLI" master "$IF_VBR"
sb_in "$NS_CLI" ip tuntap add "$IF_TAP" mode tap
sb_in "$NS_CLI" ip link set "$IF_TAP" master "$IF_VBR" up
sb_in "$NS_CLI" ip link set "$IF_VBR" up
# an address for the forged reports below (curl from the client's namespace)
sb_in "$NS_CLI" ip addr add 198.18.0.250/24 dev "$IF_VBR"

# --- stormboot: the kernel and initrd are files of this run; the kernel goes away below
head -c 65536 /dev/urandom >"$WORK/vmlinuz"
head -c 16384 /dev/urandom >"$WORK/initrd.gz"
cat >"$WORK/stormboot.json" <<JSON
{
  "interface": "$SB_IF_SRV",
  "server_ip": "$SRV",
  "ipv6_ra": true,
  "dhcp": {
    "boot": { "bios": "undionly.kpxe", "ipxe_script": "http://$SRV:8080/ipxe/boot.ipxe?mac=\${mac}" },
    "subnets": [ { "network": "198.18.0.0/24", "pool": { "start": "198.18.0.100", "end": "198.18.0.199" }, "lease_time": 600 } ]
  },
  "http": { "listen": "$SRV:8080" },
  "tftp": { "transfer_ports": { "first": 61000, "last": 61999 } },
  "images": [
    { "name": "undionly.kpxe", "path": "/usr/lib/ipxe/undionly.kpxe" },
    { "name": "vmlinuz", "path": "$WORK/vmlinuz" },
    { "name": "initrd.gz", "path": "$WORK/initrd.gz" }
  ]
}
JSON
mkdir -p "$WORK/state"
ctl() { ip netns exec "$SB_NS_SRV" "$CTL" -s "$WORK/ctl.sock" "$@"; }
sb_start control "$SB_NS_SRV" "$CTLD" -c "$WORK/stormboot.json" -s "$WORK/ctl.sock" \
	-p "$WORK/dp.sock" -d "$WORK/state" -f
sb_wait_for 20 test -S "$WORK/ctl.sock" || sb_fail "stormboot-control did not start"
cpu=$(($(nproc) > 1 ? 1 : 0))
sb_start dataplane "$SB_NS_SRV" sh -c 'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' \
	sh "$DP" -l "$cpu" --in-memory "--file-prefix=sb-$SB_IF_SRV" --no-pci \
	--vdev "net_af_xdp0,iface=$SB_IF_SRV,start_queue=0,queue_count=1,xdp_prog=$XDP" \
	-- -c "$WORK/stormboot.json" -C "$WORK/dp.sock"
sb_wait_for 60 grep -q 'stormboot: serving' "$SB_RUN/dataplane.log" ||
	sb_fail "dataplane did not start (log: $SB_RUN/dataplane.log)"
ctl template-add boot.ipxe "$SOURCE_DIR/dist/boot.ipxe" >"$WORK/template-add.out" 2>&1 ||
	sb_fail "template-add: $(cat "$WORK/template-add.out")"
sleep 1 # the registry hashes the files beside the loop (64 KiB: at once)

# --- the fault: the kernel file is removed from disk
rm "$WORK/vmlinuz"
sb_log "vm-fwlog: $WORK/vmlinuz removed; power on (MAC $VM_MAC)"

# --- the VM: SeaBIOS + Debian's iPXE ROM (QEMU's default for virtio-net), serial console
sb_start qemu "$NS_CLI" qemu-system-x86_64 -accel tcg -m 256 -smp 1 -display none -vga none \
	-no-reboot -serial "file:$WORK/serial.log" -monitor none -nodefaults \
	-machine pc,graphics=off -boot n \
	-netdev "tap,id=n0,ifname=$IF_TAP,script=no,downscript=no" \
	-device "virtio-net-pci,netdev=n0,mac=$VM_MAC,bootindex=1"

reported() { ctl trace "$VM_MAC" 2>/dev/null | grep -q 'firmware'; }
for ((i = 0; i < 1500; i++)); do # 150 s at most
	reported && break
	sb_alive qemu || break
	sleep 0.1
done
tr -d '\r' <"$WORK/serial.log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' >"$WORK/serial.txt"
reported || sb_fail "no firmware report in the VM's trace after 150 s (console: $WORK/serial.txt)"
sb_stop qemu 3
sb_log "vm-fwlog: the VM reported; its console:"
grep -aE 'stormboot|Could not|ipxe.org|http://' "$WORK/serial.txt" | head -12 >&2 || true

# --- the diagnosis
set +e
ctl trace "$VM_MAC" >"$WORK/trace.out" 2>&1
TRC=$?
ip netns exec "$SB_NS_SRV" "$CTL" -s "$WORK/ctl.sock" doctor >"$WORK/doctor.out" 2>&1
DRC=$?
set -e
cat "$WORK/trace.out" "$WORK/doctor.out" >&2
has() { grep -Eq -- "$1" "$2"; }
sb_check "trace exits 0 ($TRC)" test "$TRC" = 0
sb_check "trace: the VM's lease" has 'REQUEST>ACK +dhcp +198\.18\.0\.1[0-9][0-9] ipxe' "$WORK/trace.out"
sb_check "trace: HTTP 404 of /vmlinuz" has 'HTTP 404 +http +/vmlinuz' "$WORK/trace.out"
sb_check "trace: the firmware's own message with its iPXE error" has \
	'firmware err +firmware-log +kernel: No such file or directory \(0x2d[0-9a-f]{6}\) https://ipxe\.org/err/2d[0-9a-f]{6}' \
	"$WORK/trace.out"
sb_check "trace: state failed" has "^client $VM_MAC .*state failed" "$WORK/trace.out"
# the error number the VM printed on its console is the one in the trace
code=$(grep -oE 'https://ipxe\.org/err/[0-9a-f]{8}' "$WORK/trace.out" | head -1 | sed 's,.*/,,')
sb_check "the console shows the same error ($code)" grep -aq "error 0x$code" "$WORK/serial.txt"
sb_check "doctor exits 1 ($DRC)" test "$DRC" = 1
sb_check "doctor: FAIL images naming the removed file" has \
	"^FAIL +images +vmlinuz: $WORK/vmlinuz: No such file or directory" "$WORK/doctor.out"
sb_check "doctor: ... with its hint" has "hint: put the file back at $WORK/vmlinuz, or remove the image" "$WORK/doctor.out"
sb_check "doctor: FAIL clients naming the VM" has "^FAIL +clients +1 client\(s\) failed" "$WORK/doctor.out"
sb_check "doctor: the VM's MAC and its last step" has "$VM_MAC .*firmware err" "$WORK/doctor.out"

# --- reports that are refused, and the counters
vm_ip=$(grep -oE 'REQUEST>ACK +dhcp +198\.18\.0\.[0-9]+' "$WORK/trace.out" | head -1 | awk '{print $3}')
fw() { sb_in "$NS_CLI" curl -s -o /dev/null -w '%{http_code}' "http://$SRV:8080/fwlog?$1"; }
sb_check "a bad report: 400" test "$(fw 'mac=52:54:00:5b:0f:01&step=kernel&err=nonsense')" = 400
sb_check "a report for an unknown MAC from an unleased address: 403" \
	test "$(fw 'mac=52:54:00:5b:0f:99&step=kernel&err=0x2d0c613c')" = 403
ctl --json http-status >"$WORK/http-status.out"
fwc() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['arguments']['firmware_reports'][sys.argv[2]])" "$WORK/http-status.out" "$1"; }
sb_check "http-status: 1 report accepted ($(fwc accepted))" test "$(fwc accepted)" -ge 1
sb_check "http-status: 1 bad report ($(fwc bad_request))" test "$(fwc bad_request)" = 1
sb_check "http-status: 1 unknown client ($(fwc unknown_client))" test "$(fwc unknown_client)" = 1
sb_log "vm-fwlog: VM $VM_MAC at ${vm_ip:-?}"

if [ -n "${SB_FWLOG_OUT:-}" ]; then
	{
		echo "### console (serial)"
		grep -aE 'stormboot|Could not|ipxe.org' "$WORK/serial.txt" | head -12
		echo "### stormbootctl trace $VM_MAC (exit $TRC)"
		cat "$WORK/trace.out"
		echo "### stormbootctl doctor (exit $DRC)"
		cat "$WORK/doctor.out"
	} >"$SB_FWLOG_OUT"
fi
sb_summary
