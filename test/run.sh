#!/usr/bin/env bash
# run.sh - the test command: sets everything up on a fresh Debian 12 machine
# (packages, build, install, a throwaway cluster with codeexec preloaded), runs
# every suite, and ends with one line "N passed, N failed" summing them all.
# Exits non-zero if any test failed or any suite could not run.
#
# Each suite is a command that prints its own closing "N passed, N failed"
# line (pg_regress's summary is translated).  Select suites with
# CODEEXEC_SUITES="regress hostile ..." (default: all).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/setup.sh"
cd "$CODEEXEC_ROOT"

setup_install_deps || { echo "0 passed, 1 failed"; exit 1; }
setup_build_install || { echo "0 passed, 1 failed"; exit 1; }
setup_cluster || { echo "0 passed, 1 failed"; exit 1; }
trap cluster_stop EXIT

start_time=$(cluster_psql -Atc 'select pg_postmaster_start_time()')
export CODEEXEC_HELPER=$(pg_config --bindir)/codeexec-helper
logdir=${CODEEXEC_TEST_LOGDIR:-$(mktemp -d /tmp/codeexec-test-logs.XXXXXX)}
mkdir -p "$logdir"
echo "suite logs: $logdir"

total_pass=0 total_fail=0 total_skip=0

# run_suite NAME COMMAND...: run one suite, echo its output, add its counts.
run_suite() {
	local name=$1; shift
	echo "=== suite: $name"
	"$@" 2>&1 | tee "$logdir/$name.log"
	local rc=${PIPESTATUS[0]}
	local line p f s
	line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$logdir/$name.log" | tail -1)
	if [ -z "$line" ]; then
		echo "=== $name: no summary line (exit $rc): counted as 1 failure"
		total_fail=$((total_fail + 1)); return
	fi
	p=$(sed -E 's/^([A-Za-z]+: )?([0-9]+) passed.*/\2/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	s=0
	if grep -qE '[0-9]+ skipped' <<<"$line"; then s=$(sed -E 's/.* ([0-9]+) skipped.*/\1/' <<<"$line"); fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "=== $name: exited $rc with no failed test: counted as 1 failure"
		f=1
	fi
	echo "=== $name: $p passed, $f failed, $s skipped"
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f)); total_skip=$((total_skip + s))
}

# pg_regress (PG 15) prints a line per test ending in "... ok" or "... FAILED".
regress_suite() {
	make -s installcheck >"$logdir/regress.raw" 2>&1
	local rc=$?
	cat "$logdir/regress.raw"
	if [ -f regression.diffs ]; then head -300 regression.diffs; fi
	local ok bad
	ok=$(grep -cE '\.\.\. +ok' "$logdir/regress.raw")
	bad=$(grep -cE '\.\.\. +FAILED|failed \(ignored\)' "$logdir/regress.raw")
	if [ "$rc" != 0 ] && [ "$bad" = 0 ]; then bad=1; fi
	echo "regress: $ok passed, $bad failed"
	return $rc
}

want() { [ -z "${CODEEXEC_SUITES:-}" ] || grep -qw "$1" <<<"$CODEEXEC_SUITES"; }

want helper && [ -f test/helper/run.py ] && run_suite helper /usr/bin/python3 test/helper/run.py "$CODEEXEC_HELPER"
want regress && run_suite regress regress_suite
want hostile && [ -f test/hostile/run.sh ] && run_suite hostile bash test/hostile/run.sh
want isolation && [ -f test/isolation/run.sh ] && run_suite isolation bash test/isolation/run.sh
want security && [ -f test/security/run.sh ] && run_suite security bash test/security/run.sh
# the same corpus through the other spawn mode (the default is forkserver)
want security && [ -f test/security/run.sh ] &&
	run_suite security-exec env CODEEXEC_SPAWN_MODE=exec bash test/security/run.sh
# and inside gVisor (spawn mode gvisor: runsc, about a second per call)
want security && [ -f test/security/run.sh ] &&
	run_suite security-gvisor env CODEEXEC_SPAWN_MODE=gvisor bash test/security/run.sh
want concurrency && [ -f test/concurrency/run.sh ] && run_suite concurrency bash test/concurrency/run.sh
want django && [ -f test/django/run.sh ] && run_suite django bash test/django/run.sh
want fuzz && [ -f test/fuzz/run.sh ] && run_suite fuzz bash test/fuzz/run.sh
want forkserver && [ -f test/forkserver/run.sh ] && run_suite forkserver bash test/forkserver/run.sh
want gvisor && [ -f test/gvisor/run.py ] && run_suite gvisor /usr/bin/python3 test/gvisor/run.py
# Last: nothing left behind by all of the above, and the server never restarted.
want leaks && run_suite leaks bash test/leaks/run.sh "$start_time"

echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" = 0 ]
