#!/bin/bash
# test/forkserver/bench.sh - figures for spawn mode forkserver vs exec,
# against a running cluster with codeexec preloaded and created
# (PGHOST/PGPORT/PGUSER as set by test/lib/cluster.sh).  Not a pass/fail
# test: prints markdown rows.  Run as root (reads /proc of the postgres
# processes).  BENCH_SECONDS (default 10) per pgbench run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${PG_CONFIG:=pg_config}"
bindir=$($PG_CONFIG --bindir)
helper=$bindir/codeexec-helper
secs=${BENCH_SECONDS:-10}
work=$(mktemp -d /tmp/codeexec-fsbench.XXXXXX)
chmod 777 "$work"
trap 'rm -rf "$work"' EXIT

echo "## machine"
echo "$(nproc) CPUs, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
cc -O2 -o "$work/faultcost" "$here/faultcost.c" && "$work/faultcost"

echo "## latency of SELECT status FROM codeexec_run('print(1)'), one client"
for mode in forkserver exec; do
	n=300; [ "$mode" = exec ] && n=40
	/usr/bin/python3 "$here/latency.py" "$mode" "$n" 0
	/usr/bin/python3 "$here/latency.py" "$mode" "$((n / 3))" 50
done

echo "## pgbench throughput (-T $secs)"
echo "SELECT status FROM codeexec_run('print(1)');" >"$work/p1.sql"
for mode in forkserver exec; do
	for c in 1 4; do
		tps=$(cd "$work" && PGOPTIONS="-c codeexec.spawn_mode=$mode" \
			"$bindir/pgbench" -n -f p1.sql -T "$secs" -c "$c" -j "$c" 2>&1 | awk '/^tps/{print $3}')
		echo "| $mode | $c clients | $tps tps |"
	done
done

echo "## memory"
server=
for p in $(pgrep -f "^$helper --server"); do
	pp=$(awk '{print $4}' "/proc/$p/stat")
	[ "$(readlink "/proc/$pp/exe")" != "$helper" ] && server=$p
done
if [ -n "$server" ]; then
	echo "| fork server $server | RSS $(awk '/^Rss/{print $2}' /proc/$server/smaps_rollup) kB |"
	for c in $(pgrep -P "$server"); do
		echo "| idle child $c | RSS $(awk '/^Rss/{print $2}' /proc/$c/smaps_rollup) kB | private $(awk '/^Private_(Clean|Dirty)/{s+=$2} END{print s}' /proc/$c/smaps_rollup) kB |"
	done
fi
