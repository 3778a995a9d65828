#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# run.sh - run every libFuzzer harness for a bounded time, seeded with the real-client
# fixtures (seed.py) and the regression inputs of earlier findings (tests/fuzz/regress/NAME/,
# each replayed first). Prints executions, coverage and crashes per harness; exits non-zero
# on any crash, sanitizer report or leak (the input is kept under OUT/NAME/).
#
#   tests/fuzz/run.sh [-s SECONDS] [-o OUT] [-j JOBS] [BUILD_DIR]
#     BUILD_DIR  a build configured with: CC=clang meson setup BUILD_DIR -Dfuzz=true \
#                  -Db_sanitize=address,undefined -Db_lundef=false -Dtests=false
#                  -Ddataplane=disabled -Dbpf=disabled   (default build-fuzz; made if absent)
#     -s         seconds per harness (default 10: the CI smoke run)
#     -o         where corpora and findings go (default: a temporary folder, removed)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=10 out="" jobs=1
while getopts s:o:j: opt; do
	case $opt in
	s) secs=$OPTARG ;;
	o) out=$OPTARG ;;
	j) jobs=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
build=${1:-$top/build-fuzz}
if [ ! -d "$build" ]; then
	CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dtests=false -Ddataplane=disabled -Dbpf=disabled >/dev/null
fi
ninja -C "$build" >/dev/null
build=$(cd "$build" && pwd) # the harnesses run from OUT
keep=1
if [ -z "$out" ]; then
	out=$(mktemp -d /tmp/sb-fuzz.XXXXXX)
	keep=0
fi
mkdir -p "$out/seeds"
/usr/bin/python3 "$here/seed.py" "$top/tests/fixtures" "$out/seeds"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

failed=0 total=0
printf '%-18s %12s %8s %8s %s\n' harness executions cov ft result
for exe in "$build"/tests/fuzz/fuzz_*; do
	[ -x "$exe" ] && [ -f "$exe" ] || continue
	name=$(basename "$exe")
	short=${name#fuzz_}
	corpus=$out/corpus/$short
	mkdir -p "$corpus" "$out/$short"
	cp -n "$out/seeds/$short"/* "$corpus/" 2>/dev/null || true
	log=$out/$short.log
	result=ok
	# earlier findings first: each one must now pass
	if [ -d "$here/regress/$short" ] && ls "$here/regress/$short"/* >/dev/null 2>&1; then
		if ! "$exe" "$here/regress/$short"/* >"$out/$short.regress.log" 2>&1; then
			result="REGRESSION (see $out/$short.regress.log)"
		fi
	fi
	# in OUT: libFuzzer writes its fuzz-N.log files (-jobs) in the working directory
	if ! (cd "$out" && "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		$([ "$jobs" -gt 1 ] && echo "-jobs=$jobs") -print_final_stats=1 \
		-artifact_prefix="$out/$short/" "$corpus") >"$log" 2>&1; then
		result="CRASH (input in $out/$short/, log $log)"
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1 || true)
	line=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$line")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$line")
	printf '%-18s %12s %8s %8s %s\n' "$short" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result"
	total=$((total + ${execs:-0}))
	if [ "$result" != ok ]; then
		failed=$((failed + 1))
		tail -n 30 "$log" >&2
		keep=1
	fi
done
echo "fuzz: $total executions in all, $failed harness(es) failed"
[ $keep = 1 ] && echo "fuzz: corpora and logs in $out" || rm -rf "$out"
[ $failed = 0 ]
