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

# set_prewarm on|off: the worker restarts the server on reload; wait for it
set_prewarm() {
	psql -X -q -c "ALTER SYSTEM SET codeexec.forkserver_prewarm = $1" -c "SELECT pg_reload_conf()" >/dev/null
	sleep 2
}
echo "SELECT status FROM codeexec_run('print(1)');" >"$work/p1.sql"
tps() {	# tps MODE CLIENTS
	(cd "$work" && PGOPTIONS="-c codeexec.spawn_mode=$1" \
		"$bindir/pgbench" -n -f p1.sql -T "$secs" -c "$2" -j "$2" 2>&1 | awk '/^tps/{print $3}')
}

echo "## SELECT status FROM codeexec_run('print(1)'): latency (one client) and pgbench tps (-T $secs)"
for variant in forkserver:prewarm=on forkserver:prewarm=off exec; do
	mode=${variant%%:*}
	n=300
	case $variant in
		*=on) set_prewarm on ;;
		*=off) set_prewarm off ;;
		exec) n=40 ;;
	esac
	/usr/bin/python3 "$here/latency.py" "$mode" "$n" 0 | sed "s/^| $mode /| $variant /"
	/usr/bin/python3 "$here/latency.py" "$mode" "$((n / 3))" 50 | sed "s/^| $mode /| $variant /"
	echo "| $variant | pgbench | 1 client $(tps "$mode" 1) tps | 4 clients $(tps "$mode" 4) tps |"
	cpu=$(psql -X -Atc "SELECT round(avg(cpu_time_seconds)::numeric * 1000, 2) FROM (SELECT cpu_time_seconds FROM codeexec_execution WHERE sandbox_mode = '$mode' ORDER BY id DESC LIMIT 200) x")
	echo "| $variant | child CPU per call after the request arrived: $cpu ms |"
done
psql -X -q -c "ALTER SYSTEM RESET codeexec.forkserver_prewarm" -c "SELECT pg_reload_conf()" >/dev/null
sleep 2

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
