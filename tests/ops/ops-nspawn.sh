#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ops-nspawn.sh - the installed systemd units run under a real systemd (issue 18, item 8):
# `meson install` into a staging root (DESTDIR), then systemd-nspawn boots a container whose
# systemd is PID 1 (--volatile=yes: a tmpfs root with this host's /usr read-only, the staging
# /usr/local bound over /usr/local, --private-network: only loopback; booted to basic.target,
# systemd-networkd-wait-online masked: a private network is never "online"). In it:
#   - systemd finds stormboot-control.service in /usr/local/lib/systemd/system;
#   - `systemctl start` makes it active, running the installed binary with the installed
#     example config (copied to stormboot.json), RuntimeDirectory /run/stormboot and
#     StateDirectory /var/lib/stormboot made by systemd;
#   - the installed stormbootctl answers `status` over /run/stormboot/control.sock;
#   - `systemctl reload` (SIGHUP) is taken: the journal of the unit says the config was read
#     again;
#   - killed with SIGKILL, systemd restarts it (Restart=on-failure), the socket answers again;
#   - `systemctl stop` stops it (inactive).
# The dataplane unit is not started here: it needs a boot interface, hugepages and bpffs that
# a container with a private network does not have (ops-install checks it with
# systemd-analyze verify). Skipped (exit 77) when systemd-nspawn is not installed.
#
# Usage (root): BUILD_DIR=build tests/ops/ops-nspawn.sh    (SB_PREFIX default "ns")
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
export SB_PREFIX=${SB_PREFIX:-ns}
. "$SOURCE_DIR/tests/lab/lib.sh"
sb_need_root
sb_need_cmd meson nsenter
command -v systemd-nspawn >/dev/null || { echo "SKIP: no systemd-nspawn (package systemd-container)"; exit 77; }
[ -x /usr/lib/systemd/systemd ] || { echo "SKIP: no systemd on this host"; exit 77; }

W=$(mktemp -d "/tmp/sb-$SB_PREFIX-nspawn.XXXXXX")
ROOT=$W/root D=$W/stage MACHINE=sb-$SB_PREFIX-$$
NSPAWN_PID=""
cleanup() {
	local rc=$?
	set +e
	[ -n "$NSPAWN_PID" ] && sb_kill_pid "$NSPAWN_PID" 20
	mountpoint -q "$ROOT/usr" && umount "$ROOT/usr"
	if [ $rc != 0 ] && [ -s "$W/nspawn.log" ]; then
		echo "--- $W/nspawn.log" >&2
		tail -20 "$W/nspawn.log" >&2
	fi
	rm -rf "$W"
	exit $rc
}
trap cleanup EXIT

DESTDIR=$D meson install -C "$BUILD_DIR" --no-rebuild --quiet >"$W/install.log" 2>&1 ||
	{ cat "$W/install.log" >&2; sb_fail "meson install failed"; }
eval "$(meson introspect --buildoptions "$BUILD_DIR" | /usr/bin/python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
for k in ("prefix", "bindir", "sbindir", "sysconfdir"):
    v = o[k] if o[k].startswith("/") else o["prefix"] + "/" + o[k]
    print("%s=%s" % (k.upper(), v))')"
case $PREFIX in /usr/local) ;; *) echo "SKIP: prefix $PREFIX (the test binds the staging /usr/local)"; exit 77 ;; esac
cp "$D$SYSCONFDIR/stormboot/stormboot.json.example" "$D$SYSCONFDIR/stormboot/stormboot.json"
mkdir -p "$W/tftp" "$ROOT/usr"
printf 'boot file\n' >"$W/tftp/undionly.kpxe"
mount --bind -o ro /usr "$ROOT/usr" # the OS tree of the container: this host's /usr

systemd-nspawn -D "$ROOT" --volatile=yes --machine="$MACHINE" --register=no --keep-unit \
	--private-network --bind="$D/usr/local:/usr/local" --bind-ro="$W/tftp:/srv/tftp" \
	-b --console=pipe -- systemd.unit=basic.target >"$W/nspawn.log" 2>&1 &
NSPAWN_PID=$!
leader() { ps --ppid "$NSPAWN_PID" -o pid= 2>/dev/null | head -1 | tr -d ' '; }
has_leader() { [ -n "$(leader)" ]; }
sb_wait_for 30 has_leader || sb_fail "systemd-nspawn started no container"
L=$(leader)
in_ct() { nsenter -t "$L" -m -u -i -n -p -- "$@"; }
booted() { case $(in_ct systemctl is-system-running 2>/dev/null) in running | degraded) return 0 ;; esac; return 1; }
sb_wait_for 60 booted || sb_fail "the container's systemd did not finish booting ($(in_ct systemctl is-system-running 2>&1))"
sb_log "container booted: systemd $(in_ct systemctl --version | head -1 | awk '{print $2}'), state $(in_ct systemctl is-system-running)"
sb_check "PID 1 of the container is systemd" sh -c "test \"\$(cat /proc/$L/comm)\" = systemd"

# basic.target: not the services this host's packages bring (the presets of a fresh /etc
# enable them), and no wait for a network that a private one never gets
in_ct systemctl mask --runtime --quiet systemd-networkd-wait-online.service
sb_check "systemd knows stormboot-control.service (installed unit)" \
	sh -c "nsenter -t $L -m -u -i -n -p -- systemctl cat stormboot-control.service | grep -q '$SBINDIR/stormboot-control'"
in_ct systemctl start stormboot-control.service || true
active() { [ "$(in_ct systemctl is-active stormboot-control.service)" = active ]; }
sb_wait_for 10 active
sb_check "stormboot-control.service is active" active
sock_ok() { in_ct "$BINDIR/stormbootctl" -s /run/stormboot/control.sock status >"$W/status.out" 2>&1; }
sb_wait_for 15 sock_ok
sb_check "stormbootctl status over /run/stormboot/control.sock (RuntimeDirectory)" sock_ok
sb_check "StateDirectory /var/lib/stormboot made by systemd" in_ct test -d /var/lib/stormboot
pid1=$(in_ct systemctl show -p MainPID --value stormboot-control.service)
in_ct systemctl reload stormboot-control.service
sb_wait_for 10 sh -c "nsenter -t $L -m -u -i -n -p -- journalctl -u stormboot-control.service --no-pager | grep -q 'SIGHUP: reloading'"
in_ct journalctl -u stormboot-control.service --no-pager -o cat >"$W/journal.out" 2>&1 || true
sb_check "systemctl reload: the daemon read its config again (journal)" grep -q 'SIGHUP: reloading' "$W/journal.out"
sb_check "... same process ($pid1)" test "$(in_ct systemctl show -p MainPID --value stormboot-control.service)" = "$pid1"
in_ct systemctl kill -s KILL stormboot-control.service
restarted() { p=$(in_ct systemctl show -p MainPID --value stormboot-control.service); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$pid1" ] && active; }
sb_wait_for 20 restarted
sb_check "killed with SIGKILL: restarted by systemd (Restart=on-failure)" restarted
sb_wait_for 15 sock_ok
sb_check "... and answers again" sock_ok
in_ct systemctl stop stormboot-control.service
sb_check "systemctl stop: inactive" sh -c "test \"\$(nsenter -t $L -m -u -i -n -p -- systemctl is-active stormboot-control.service)\" = inactive"
sed 's/^/  journal: /' "$W/journal.out" | head -12 >&2
sb_summary
