#!/usr/bin/env bash
# call_waits.sh - where a fork-server call's child spends its time, traced
# with bpftrace (not part of the test command's pass/fail):
#
#     bash test/bench/call_waits.sh [CALLS] [PAUSE_MS]
#
# Starts a throwaway cluster (test/lib/cluster.sh, PGPORT default 54395)
# with the installed codeexec, and runs call_waits.py: CALLS calls of
# print(1) (default 2,000), PAUSE_MS before each (default 0: back to back),
# with call_waits.bt attached.  It prints, per call, the child's time from
# its accept4() to its response (on a CPU, runnable but waiting, page
# faults), a histogram of the wait, what preempted the child, and which
# processes held the CPUs while it waited.  Needs root and bpftrace
# (apt-get install bpftrace); tracing slows every call, so compare its
# figures with each other, not with the benchmark's.
set -euo pipefail
cd "$(dirname "$0")/../.."
calls=${1:-2000}
pause_ms=${2:-0}
command -v bpftrace >/dev/null || { echo "call_waits.sh: bpftrace is not installed (apt-get install bpftrace)" >&2; exit 2; }
export PGPORT=${PGPORT:-54395}
unset CLUSTER_ROOT PGHOST
# shellcheck source=test/lib/cluster.sh
source test/lib/cluster.sh
trap 'cluster_stop' EXIT
cluster_start
cluster_psql -q -c "CREATE EXTENSION codeexec" >/dev/null
/usr/bin/python3 test/bench/call_waits.py "$calls" "$pause_ms"
