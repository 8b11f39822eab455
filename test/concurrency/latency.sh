#!/usr/bin/env bash
# latency.sh [SECONDS] - median added latency per call of rollback-proof
# recording (a measurement, not a test; prints figures, asserts nothing).
#
# Uses the running cluster (PG* environment) and pgbench.  A call over
# quota never starts the helper, so its cost is the pipeline's own:
#   base     SELECT 1                                   (round trip floor)
#   admit    over-quota call, codeexec.history = off     (1 recorder round trip)
#   record   over-quota call, codeexec.history = on      (admit + history row)
# Each at 1 client and at 8 clients (-j 2).  Added latency of recording =
# median(record) - median(base); of admission alone = median(admit) - base.
# (pgbench's clock is lazy: a very fast statement can log 0 us, so for
# "base" under concurrency read the average.)
set -euo pipefail
secs=${1:-5}
: "${PGBIN:=$(pg_config --bindir)}"
dir=$(mktemp -d /tmp/codeexec-latency.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS codeexec" \
	-c "SELECT codeexec_set_quota(-424242, 0)" >/dev/null
echo "SELECT 1;" >base.sql
printf "SET codeexec.history = off;\nSELECT codeexec_run('print(1)', user_id => -424242);\n" >admit.sql
printf "SET codeexec.history = on;\nSELECT codeexec_run('print(1)', user_id => -424242);\n" >record.sql
median() {
	cat pgbench_log.* | awk '{print $3}' | sort -n |
		awk '{a[NR]=$1} END {printf "%d us (n=%d)", a[int((NR+1)/2)], NR}'
	rm -f pgbench_log.*
}
echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
for c in 1 8; do
	for f in base admit record; do
		avg=$("$PGBIN/pgbench" -n -c "$c" -j 2 -T "$secs" -l -f "$f.sql" 2>/dev/null |
			sed -n 's/^latency average = //p')
		echo "clients=$c $f: median $(median), average $avg"
	done
done
psql -X -q -c "DELETE FROM codeexec_execution WHERE user_id = -424242" \
	-c "DELETE FROM codeexec_quota WHERE user_id = -424242" >/dev/null
