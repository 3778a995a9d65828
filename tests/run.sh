#!/usr/bin/env bash
# The test command (README.md): set up a fresh Debian 12 machine, build, run the
# unit suite under ASan+UBSan and, as root, the root suite (BPF, lab, real clients).
#   sudo tests/run.sh            everything
#   tests/run.sh --unit          unit suite only (no root needed once packages are there)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

unit_only=0
[ "${1:-}" = "--unit" ] && unit_only=1

if [ "$(id -u)" = 0 ]; then
	tests/setup.sh
elif [ $unit_only = 0 ]; then
	echo "tests/run.sh: the root suite needs root (sudo tests/run.sh), or run tests/run.sh --unit" >&2
	exit 2
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# Unit suite: the pure core and the config parser, sanitized, no DPDK needed.
if [ ! -d build-asan ]; then
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
		-Ddataplane=disabled -Dbpf=disabled >/dev/null
fi
ninja -C build-asan
meson test -C build-asan --suite unit --print-errorlogs

# Fuzz smoke: every libFuzzer harness for a few seconds from the real-client fixtures, and the
# inputs of earlier findings replayed (tests/fuzz/run.sh; longer runs: docs/RELIABILITY.md).
tests/fuzz/run.sh -s "${SB_FUZZ_SECONDS:-8}" build-fuzz

[ $unit_only = 1 ] && exit 0

# Root suite: XDP test-run, lab tests with real clients, on a normal build.
[ -d build ] || meson setup build >/dev/null
ninja -C build
# The engine's unit test needs DPDK, which the sanitized build leaves out.
meson test -C build --print-errorlogs engine
meson test -C build --suite root --print-errorlogs
