#!/bin/bash
# test/forkserver/run.sh - tests of spawn mode "forkserver".
#
#   1. direct.py: the helper in server mode on its own (no PostgreSQL);
#   2. pgtests.py: against a throwaway cluster with codeexec preloaded
#      (test/lib/cluster.sh): fresh child per call, random state, allowlist
#      narrowing, timeout, crash, cancel, leaks, server SIGKILL and
#      restart, socket directory permissions, the server's huge pages;
#   3. pg_ctl stop -m immediate leaves no codeexec-helper process;
#   4. a helper that cannot be executed is a server-side ERROR;
#   5. a server whose children close every connection before their hello
#      (closing_server.py): a bounded number of reconnects, then killed;
#   6. a server whose children are slow to say hello (holding_server.py):
#      a call that ends before the hello leaves no child able to run it,
#      and a call's CPU time starts at the hello however late it is taken.
#
# Needs root (inspects /proc, runs the cluster as postgres).  Environment:
# PG_CONFIG (the installation under test), FORKSERVER_TEST_PORT (the
# throwaway cluster's port; default PGPORT + 7, so the suite can run while
# the test command's cluster is up: it stops its own cluster with -m
# immediate).  The last line is "N passed, N failed"; the exit status is
# nonzero on any failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${PG_CONFIG:=pg_config}"
PGPORT=${FORKSERVER_TEST_PORT:-$((${PGPORT:-5441} + 7))}
export PG_CONFIG PGPORT
export CLUSTER_ROOT=/tmp/codeexec-fstest-$PGPORT
PGBIN=$($PG_CONFIG --bindir)
export PGBIN HELPER=$PGBIN/codeexec-helper
# shellcheck source=../lib/cluster.sh
. "$here/../lib/cluster.sh"

passed=0
failed=0
tally() {	# tally <output of a suite>: add its "N passed, N failed"
	local line
	line=$(printf '%s\n' "$1" | tail -1)
	if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
	else
		echo "FAIL suite did not report a count"
		failed=$((failed + 1))
	fi
}
check() {	# check <name> <command...>
	local name=$1
	shift
	if "$@"; then
		echo "ok   $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		failed=$((failed + 1))
	fi
}
cluster_helpers() {	# pids of helpers descending from this cluster's postmaster
	local pm p q
	pm=$(head -1 "$CLUSTER_ROOT/data/postmaster.pid")
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$HELPER" ] || continue
		q=${p#/proc/}
		while [ "$q" -gt 1 ] 2>/dev/null; do
			[ "$q" = "$pm" ] && { echo "${p#/proc/}"; break; }
			q=$(awk '{print $4}' "/proc/$q/stat" 2>/dev/null)
		done
	done
}
still_running() {	# still_running PID...: those that still run the helper
	local p
	for p in "$@"; do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$HELPER" ] && echo "$p"
	done
}

out=$(/usr/bin/python3 "$here/direct.py" "$HELPER" 2>&1)
printf '%s\n' "$out" | head -n -1
tally "$out"

cluster_start || { echo "0 passed, 1 failed"; exit 1; }
cluster_psql -q -c 'CREATE EXTENSION codeexec' || failed=$((failed + 1))
out=$(SERVER_LOG=$CLUSTER_ROOT/server.log /usr/bin/python3 "$here/pgtests.py" 2>&1)
printf '%s\n' "$out" | head -n -1
tally "$out"

# 3: immediate shutdown takes the server and every child down
mapfile -t before < <(cluster_helpers)
cluster_as_postgres pg_ctl -D "$CLUSTER_ROOT/data" -m immediate -w stop >/dev/null
gone() {
	local i
	for i in $(seq 1 50); do
		[ -z "$(still_running "${before[@]}")" ] && return 0
		sleep 0.02
	done
	still_running "${before[@]}" | xargs -r ps -o pid,ppid,stat,args -p
	return 1
}
check "helpers were running before the stop (${#before[@]})" test "${#before[@]}" -gt 1
check "pg_ctl stop -m immediate leaves no codeexec-helper" gone
cluster_stop

# 4: a helper that cannot be executed is a server-side ERROR, not a timeout
if cluster_start "codeexec.helper_path = '/nonexistent/codeexec-helper'"; then
	cluster_psql -q -c 'CREATE EXTENSION codeexec'
	sleep 1.5
	msg=$(cluster_psql -c "SELECT status FROM codeexec_run('print(1)')" 2>&1)
	check "missing helper: ERROR could not execute the codeexec helper" \
		grep -q "ERROR:  could not execute the codeexec helper" <<<"$msg"
	cluster_stop
else
	failed=$((failed + 1))
fi

# 5: a server whose children all close the connection before their hello:
# the backend connects again a bounded number of times, then reports the
# call killed (it neither hangs until the deadline nor loops)
fake=$CLUSTER_ROOT-closing-server.py
install -m 755 "$here/closing_server.py" "$fake"
if cluster_start "codeexec.helper_path = '$fake'"; then
	cluster_psql -q -c 'CREATE EXTENSION codeexec'
	sleep 1.5
	start=$(date +%s%N)
	msg=$(cluster_psql -X -At -c "SET client_min_messages = debug1" \
		-c "SELECT status FROM codeexec_run('print(1)', timeout_ms => 20000)" 2>&1)
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	check "children that close before their hello: the call is killed" \
		grep -qx "killed" <<<"$msg"
	check "children that close before their hello: 3 more connections, then no more" \
		test "$(grep -c "connecting again" <<<"$msg")" -eq 3
	check "children that close before their hello: no wait for the deadline (${ms} ms)" \
		test "$ms" -lt 10000
	cluster_stop
else
	failed=$((failed + 1))
fi
rm -f "$fake"

# 6: the request goes out before the hello; a call that ends in between
# (deadline, cancel) leaves no child that could still run it
fake=$CLUSTER_ROOT-holding-server.py
install -m 755 "$here/holding_server.py" "$fake"
if cluster_start "codeexec.helper_path = '$fake'"; then
	cluster_psql -q -c 'CREATE EXTENSION codeexec'
	out=$(/usr/bin/python3 "$here/holding_tests.py" "$fake" 2>&1)
	printf '%s\n' "$out" | head -n -1
	tally "$out"
	cluster_stop
else
	failed=$((failed + 1))
fi
rm -f "$fake" "$fake.log" "$fake.go" "$fake.go.tmp"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
