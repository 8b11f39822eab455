#!/usr/bin/env bash
# leaks/run.sh POSTMASTER_START_TIME - run last, after every other suite:
# checks that no helper process and no zombie is left behind, that a backend
# which ran many calls (ok, error, timeout, violation, cancel) holds no more
# file descriptors than before, and that the server never restarted.
set -uo pipefail
start_time=${1:?usage: leaks/run.sh POSTMASTER_START_TIME}
pass=0 fail=0
check() {	# check NAME CONDITION-COMMAND...
	local name=$1; shift
	if "$@"; then pass=$((pass + 1)); echo "ok - $name"
	else fail=$((fail + 1)); echo "not ok - $name"; fi
}

# eventually SECONDS COMMAND...: true as soon as COMMAND succeeds, polling
# for up to SECONDS (a killed process takes a moment to be gone).
eventually() {
	local deadline=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || { "$@"; return 1; }
		sleep 0.2
	done
}

helper_left() {
	local left helper
	# This cluster's helper only: other clusters on a shared machine run theirs.
	helper=$(psql -X -Atc 'show codeexec.helper_path')
	# exec-mode helpers only: the fork server (--server) and its pool live
	# as long as the cluster
	left=$(pgrep -u postgres -a -f "^$helper\$")
	[ -z "$left" ] || { echo "  left running: $left"; return 1; }
}
no_helper_left() { eventually 5 helper_left; }

# A zombie whose parent is a PostgreSQL process is one the backend failed to
# reap.  (A sandboxed runner whose waiter was SIGKILLed at a deadline is
# reparented to init, which reaps it in its own time: that is not a leak, but
# it must not stay a zombie for long either, hence the polling.)
zombies() {
	local z
	z=$(ps -e -o pid=,ppid=,stat=,user=,comm= | awk '$3 ~ /^Z/ && $4 == "postgres"')
	[ -z "$z" ] || { echo "  zombies: $z"; return 1; }
}
no_zombie() { eventually 10 zombies; }
server_not_restarted() {
	local now
	now=$(psql -X -Atc 'select pg_postmaster_start_time()')
	[ "$now" = "$start_time" ] || { echo "  start time $start_time -> $now"; return 1; }
}

# One session: count the backend's pipe/epoll/signalfd/socket descriptors
# and the /proc files it opens of a fork-server child, after a warm-up
# call, run a mix of calls, count again.  (psql does not interpolate
# variables in \!, hence \setenv; data and WAL files are left out because
# PostgreSQL's own fd cache opens them on first use.)
fd_count_stable() {
	local out before after
	out=$(psql -X -At -v ON_ERROR_STOP=0 2>&1 <<'SQL'
select pg_backend_pid() as pid \gset
\setenv BACKEND_PID :pid
select status from codeexec_run('print(1)');
\! echo "fds: $(ls -l /proc/$BACKEND_PID/fd | grep -cE 'pipe:|anon_inode:|socket:|/proc/')"
select status from codeexec_run('print(1)');
select count(*) from (select codeexec_run('x = 1') from generate_series(1, 20)) s;
select status from codeexec_run('raise ValueError(1)');
select status from codeexec_run('while True: pass', timeout_ms => 300);
select status from codeexec_run('import os');
set statement_timeout = 300;
select status from codeexec_run('while True: pass', timeout_ms => 5000);
reset statement_timeout;
select status from codeexec_run('print(2)');
\! echo "fds: $(ls -l /proc/$BACKEND_PID/fd | grep -cE 'pipe:|anon_inode:|socket:|/proc/')"
SQL
)
	before=$(grep '^fds: ' <<<"$out" | sed -n 1p); after=$(grep '^fds: ' <<<"$out" | sed -n 2p)
	echo "  backend fds before=$before after=$after"
	[ -n "$before" ] && [ "$before" = "$after" ]
}

check "fd count of a busy backend is stable" fd_count_stable
check "no codeexec-helper process left" no_helper_left
check "no zombie process of the postgres user" no_zombie
check "server never restarted" server_not_restarted
echo "leaks: $pass passed, $fail failed"
[ "$fail" = 0 ]
