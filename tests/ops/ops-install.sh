#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ops-install.sh - `meson install` into a staging root (DESTDIR) (issue 18, item 8): the
# binaries, the XDP object where the dataplane looks for it, the example config, the host
# preparation script and the systemd units land in their places under the build's prefix;
# `systemd-analyze verify --root=STAGING` accepts both units (the dataplane's as an instance,
# stormboot-dataplane@eth1.service) and refuses a unit broken on purpose (so the check can
# fail); the installed stormboot-prepare makes the host ready (idempotent) and names a missing
# interface. No lab, no network.
#
# Usage (root): BUILD_DIR=build tests/ops/ops-install.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
. "$SOURCE_DIR/tests/lab/lib.sh"
sb_need_root
sb_need_cmd meson systemd-analyze
W=$(mktemp -d /tmp/me-install.XXXXXX)
trap 'rm -rf "$W"' EXIT
D=$W/root

# where the build installs things (meson's options of this build dir)
eval "$(meson introspect --buildoptions "$BUILD_DIR" | /usr/bin/python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
for k in ("prefix", "bindir", "sbindir", "libexecdir", "sysconfdir", "datadir"):
    v = o[k] if o[k].startswith("/") else o["prefix"] + "/" + o[k]
    print("%s=%s" % (k.upper(), v))
print("UNITDIR=%s" % o.get("systemdsystemunitdir", ""))')"
DESTDIR=$D meson install -C "$BUILD_DIR" --no-rebuild --quiet >"$W/install.log" 2>&1 ||
	{ cat "$W/install.log" >&2; sb_fail "meson install failed"; }
UNITDIR=$(cd "$D" && find . -name stormboot-control.service -printf '/%h\n' | sed 's|^/\./|/|' | head -1)
sb_log "prefix $PREFIX, sysconfdir $SYSCONFDIR, units in $UNITDIR"

sb_check "stormboot-control in sbindir" test -x "$D$SBINDIR/stormboot-control"
sb_check "stormbootctl in bindir" test -x "$D$BINDIR/stormbootctl"
sb_check "stormboot-dataplane in bindir" test -x "$D$BINDIR/stormboot-dataplane"
xdp=$(strings "$BUILD_DIR/dataplane/engine/stormboot-dataplane" | grep -m1 '/stormboot/stormboot_xdp\.o$' || true)
sb_check "the XDP object where the dataplane looks for it ($xdp)" test -n "$xdp" -a -f "$D$xdp"
sb_check "example config in $SYSCONFDIR/stormboot" test -f "$D$SYSCONFDIR/stormboot/stormboot.json.example"
sb_check "stormboot-prepare in libexecdir/stormboot, executable" test -x "$D$LIBEXECDIR/stormboot/stormboot-prepare"
sb_check "units in systemd's unit directory under the prefix" \
	test "$UNITDIR" = "$PREFIX/lib/systemd/system" -o "$UNITDIR" = "/lib/systemd/system"
for u in stormboot-control.service stormboot-dataplane@.service; do
	sb_check "$u installed" test -f "$D$UNITDIR/$u"
done
c=$D$UNITDIR/stormboot-control.service
dp=$D$UNITDIR/stormboot-dataplane@.service
sb_check "control's ExecStart is the installed binary with the installed config" \
	grep -qx "ExecStart=$SBINDIR/stormboot-control -f -c $SYSCONFDIR/stormboot/stormboot.json -s /run/stormboot/control.sock -d /var/lib/stormboot" "$c"
sb_check "the dataplane unit prepares the host first (ExecStartPre)" \
	grep -qx "ExecStartPre=$LIBEXECDIR/stormboot/stormboot-prepare %i" "$dp"
sb_check "... and runs on the instance's interface with control's channel" \
	grep -q "^ExecStart=$BINDIR/stormboot-dataplane -- -c \${STORMBOOT_CONFIG} -i %i -C /run/stormboot/dataplane.sock" "$dp"

# systemd-analyze verify in the staging root: it needs the host's targets and /bin/kill there
mkdir -p "$D/usr/lib/systemd/system" "$D/bin"
cp /lib/systemd/system/*.target "$D/usr/lib/systemd/system/"
cp /bin/kill "$D/bin/kill"
verify() { systemd-analyze verify --root="$D" "$1" >"$W/verify.log" 2>&1; }
sb_check "systemd-analyze verify: stormboot-control.service" verify "$c"
sed 's/^/  verify: /' "$W/verify.log" >&2
cp "$dp" "$D$UNITDIR/stormboot-dataplane@eth1.service"
sb_check "systemd-analyze verify: stormboot-dataplane@eth1.service" verify "$D$UNITDIR/stormboot-dataplane@eth1.service"
sed 's/^/  verify: /' "$W/verify.log" >&2
sed "s|^ExecStart=$SBINDIR/|ExecStart=$SBINDIR/not-there-|" "$c" >"$D$UNITDIR/broken.service"
sb_check "... and it refuses a unit whose binary is not installed" sh -c "! systemd-analyze verify --root='$D' '$D$UNITDIR/broken.service' >'$W/broken.log' 2>&1"
sb_log "broken unit: $(tr '\n' ' ' <"$W/broken.log")"

# the installed host preparation (what ExecStartPre runs)
out=$(STORMBOOT_HUGEPAGES=${SB_HUGEPAGES:-512} "$D$LIBEXECDIR/stormboot/stormboot-prepare" lo 2>&1) || true
sb_log "stormboot-prepare lo: $out"
sb_check "stormboot-prepare: hugepages, hugetlbfs and bpffs ready" grep -q "hugetlbfs and bpffs mounted" <<<"$out"
sb_check "... hugetlbfs mounted on /dev/hugepages" grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts
out=$("$D$LIBEXECDIR/stormboot/stormboot-prepare" no-such-if0 2>&1) && rc=0 || rc=$?
sb_check "stormboot-prepare names a missing interface and fails ($rc: $out)" \
	sh -c "[ $rc = 1 ] && echo '$out' | grep -q 'no interface no-such-if0'"
sb_summary
