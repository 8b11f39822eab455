#!/usr/bin/env bash
# fuzz/run.sh - builds the libFuzzer harnesses (clang, ASan + UBSan), runs
# each for CODEEXEC_FUZZ_SECONDS (default 60) from its committed seed corpus,
# then replays every committed regression input.  Tests: one per harness
# build, one per bounded run (a crash or sanitizer report fails it), one per
# regression input.  Ends with "N passed, N failed".
#   CODEEXEC_FUZZ_TARGETS="response request"  select harnesses
#   CODEEXEC_FUZZ_WORK=dir  where builds, corpora and crash files go
#                           (default: a fresh directory under /tmp, kept
#                           when something failed so crashes can be copied
#                           into regressions/<target>/)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${CODEEXEC_FUZZ_SECONDS:-60}
targets=${CODEEXEC_FUZZ_TARGETS:-response request}
work=${CODEEXEC_FUZZ_WORK:-$(mktemp -d /tmp/codeexec-fuzz.XXXXXX)}
CC=${FUZZ_CC:-clang}
pass=0 fail=0

result() {	# result OK|FAIL LABEL
	if [ "$1" = OK ]; then pass=$((pass + 1)); echo "ok   $2"
	else fail=$((fail + 1)); echo "FAIL $2"; fi
}

CFLAGS=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-D_GNU_SOURCE -Wall -Wno-unused-parameter -I"$root/src/common" -I"$root/src/backend" -I"$root/src/helper")

# The sources each harness links (all PG-free and CPython-free).
sources_of() {
	case $1 in
		response)
			echo "$here/fuzz_response.c $root/src/backend/response.c $root/src/common/wire.c" ;;
		request)
			echo "$here/fuzz_request.c $root/src/helper/request.c $root/src/common/wire.c" ;;
	esac
}

mkdir -p "$work"
echo "# fuzz work directory: $work ($secs s per target)"
for t in $targets; do
	bin="$work/fuzz_$t"
	# shellcheck disable=SC2046
	if $CC "${CFLAGS[@]}" -o "$bin" $(sources_of "$t") >"$work/build-$t.log" 2>&1; then
		result OK "build fuzz_$t"
	else
		cat "$work/build-$t.log"
		result FAIL "build fuzz_$t"
		continue
	fi

	# bounded run from the seeds; new inputs go to a scratch corpus
	mkdir -p "$work/corpus-$t" "$work/crashes-$t"
	(cd "$work/crashes-$t" && "$bin" -max_total_time="$secs" -print_final_stats=1 \
		-rss_limit_mb=1024 -timeout=10 -max_len=65536 \
		-artifact_prefix="$work/crashes-$t/" \
		"$work/corpus-$t" "$here/seeds/$t") >"$work/run-$t.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/run-$t.log" | tail -1)
	crashes=$(find "$work/crashes-$t" -type f | wc -l)
	if [ "$rc" = 0 ] && [ "$crashes" = 0 ]; then
		result OK "fuzz_$t ${secs}s: ${execs:-?} executions, 0 crashes"
	else
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$work/run-$t.log" | head -20
		result FAIL "fuzz_$t ${secs}s: ${execs:-?} executions, exit $rc, $crashes crash file(s) in $work/crashes-$t"
	fi

	# every committed regression input must now run clean
	for input in "$here/regressions/$t"/*; do
		[ -f "$input" ] || continue
		if "$bin" -runs=1 "$input" >"$work/regression.log" 2>&1; then
			result OK "fuzz_$t regression $(basename "$input")"
		else
			grep -E 'ERROR|SUMMARY|runtime error' "$work/regression.log" | head -5
			result FAIL "fuzz_$t regression $(basename "$input")"
		fi
	done
done

if [ "$fail" = 0 ] && [ -z "${CODEEXEC_FUZZ_WORK:-}" ]; then rm -rf "$work"; fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
