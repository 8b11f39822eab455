#!/usr/bin/env bash
# hostile/run.sh - the backend against a hostile helper.  Builds
# fake_helper.c (one binary, behaviour picked by the name it is run under),
# points codeexec.helper_path at each behaviour and checks the status and
# message codeexec_run reports; then checks cancel/terminate of a hanging
# helper, that a busy backend leaks no fds, that no helper process or zombie
# is left and that the server never restarted.
#
# Needs a running cluster with codeexec created in $PGDATABASE (PGHOST/PGPORT
# as set by test/lib/cluster.sh) and a C compiler.  Ends with
# "hostile: N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && echo "  $2"; }

bindir=$(mktemp -d /tmp/codeexec-hostile.XXXXXX)
trap 'rm -rf "$bindir"' EXIT
chmod 755 "$bindir"
if ! cc -O2 -Wall -I"$root/src/common" -o "$bindir/fake_helper" \
	"$here/fake_helper.c" "$root/src/common/wire.c"; then
	echo "hostile: 0 passed, 1 failed"; exit 1
fi
chmod 755 "$bindir/fake_helper"

# The fake helpers are reached through codeexec.helper_path: exec mode.
export PGOPTIONS="${PGOPTIONS:-} -c codeexec.spawn_mode=exec"
psql_q() { psql -X -At -v ON_ERROR_STOP=0 "$@" 2>&1; }
start_time=$(psql_q -c 'select pg_postmaster_start_time()')

# expect MODE STATUS MESSAGE-REGEX [EXTRA-SQL-ARGS]: run codeexec_run under
# the fake helper named MODE; the output line is "status|error_message".
expect() {
	local mode=$1 status=$2 msg=$3 args=${4:-}
	ln -sf fake_helper "$bindir/hostile-$mode"
	local out
	out=$(psql_q -c "set codeexec.helper_path = '$bindir/hostile-$mode'" \
		-c "select status || '|' || coalesce(error_message, '') from codeexec_run('x = 1', jsonb_build_object('pad', repeat('p', 300000)), timeout_ms => 1500 $args)" | tail -1)
	if [[ "$out" == "$status|"* ]] && [[ "${out#*|}" =~ $msg ]]; then
		ok "$mode -> $status"
	else
		not_ok "$mode -> $status /$msg/" "got: ${out:0:300}"
	fi
}

# expect_error MODE ERROR-REGEX: the call must raise an ERROR matching it
# (mode "missing" names a file that does not exist).
expect_error() {
	local mode=$1 msg=$2 out
	[ "$mode" = missing ] || ln -sf fake_helper "$bindir/hostile-$mode"
	out=$(psql_q -c "set codeexec.helper_path = '$bindir/hostile-$mode'" \
		-c "select status from codeexec_run('x = 1')")
	if [[ "$out" =~ $msg ]]; then ok "$mode -> ERROR"; else not_ok "$mode -> ERROR /$msg/" "got: ${out:0:300}"; fi
}

# The baseline: a well-behaved fake gives ok, so the failures below are
# caused by the misbehaviour, not by the harness.
expect ok ok '^$'
expect no-read ok '^$'
expect flood-stderr ok '^$'
expect nul-stdout ok '^$'
expect lying-rusage ok '^$'
expect garbage killed 'malformed response: bad magic'
expect huge-length killed 'malformed response: truncated frame'
expect truncated killed 'malformed response: truncated frame'
expect trailing killed 'malformed response: trailing bytes'
expect exit0-silent killed 'malformed response: empty response'
expect die-mid killed 'terminated by signal 11 \(SIGSEGV\): fake: dying mid-message'
expect sigsys killed 'terminated by signal 31 \(SIGSYS\): fake: forbidden system call'
expect exit127 killed 'exited with code 127: fake: cannot start'
expect flood killed 'response exceeds the limit of [0-9]+ bytes'
expect bad-utf8 killed 'stdout is not valid UTF-8'
expect bad-json killed 'result is not valid JSON'
expect big-number killed 'result is not valid JSON \(value overflows numeric format\)'
expect nul-escape killed 'result is not valid JSON'
expect unknown-status killed 'unknown status'
expect dup-field killed 'malformed field'
expect request-tag killed 'request field in a response'
expect bad-violations killed 'violations is not a JSON array'
expect deep-json error 'result nests deeper than 256 levels'
expect hang timeout 'time limit of 1500 ms'
expect sleep timeout 'time limit of 1500 ms'
expect grandchild ok '^$'
expect_error sandbox-error 'codeexec sandbox could not be set up.*Step landlock failed'
expect_error missing 'could not execute the codeexec helper.*No such file or directory'

# NUL in stdout becomes U+FFFD; the kernel's rusage wins over the helper's.
ln -sf fake_helper "$bindir/hostile-nul-stdout"
out=$(psql_q -c "set codeexec.helper_path = '$bindir/hostile-nul-stdout'" -c "select stdout from codeexec_run('x')" | tail -2 | head -1)
[ "$out" = $'a\xef\xbf\xbdb' ] && ok "NUL byte in stdout becomes U+FFFD" || not_ok "NUL byte in stdout becomes U+FFFD" "got: $out"
out=$(psql_q -c "set codeexec.helper_path = '$bindir/hostile-lying-rusage'" -c "select cpu_time_seconds < 100 and peak_memory_kb < 99999999 from codeexec_run('x')" | tail -1)
[ "$out" = t ] && ok "rusage preferred over the helper's figures" || not_ok "rusage preferred over the helper's figures" "got: $out"

# Every hostile call recorded a row with its status.
out=$(psql_q -c "select count(*) from codeexec_execution where status = 'killed' and error_message like 'helper %'")
[ "${out:-0}" -ge 17 ] && ok "killed calls are recorded ($out rows)" || not_ok "killed calls are recorded" "got: $out"

# pg_cancel_backend / pg_terminate_backend on a hanging helper with a 60 s
# timeout: control returns at once and the helper is gone.
interrupt() {	# interrupt FUNCTION
	local fn=$1 log=$bindir/$1.log pid t0 t1 ms
	psql_q -c "set codeexec.helper_path = '$bindir/hostile-hang'" \
		-c "select status from codeexec_run('x', timeout_ms => 60000)" >"$log" &
	local bg=$!
	for _ in $(seq 50); do
		pgrep -f "$bindir/hostile-hang" >/dev/null && break; sleep 0.1
	done
	# pgrep -f also matches the psql above (the helper path is in its command
	# line), so that wait may end at once: wait for the backend actually
	# running the call (active, not a previous session still listed).
	for _ in $(seq 50); do
		pid=$(psql_q -c "select pid from pg_stat_activity where state = 'active' and query like '%timeout_ms => 60000%' and pid <> pg_backend_pid()" | head -1)
		[ -n "$pid" ] && break; sleep 0.1
	done
	t0=$(date +%s%N)
	psql_q -c "select $fn($pid)" >/dev/null
	wait $bg
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	sleep 0.1
	if pgrep -f "$bindir/hostile-hang" >/dev/null; then
		not_ok "$fn: helper killed" "still running: $(pgrep -af "$bindir/hostile-hang")"
	elif [ "$ms" -ge 1000 ]; then
		not_ok "$fn: returns at once" "took $ms ms"
	elif ! grep -qE "$2" "$log"; then
		not_ok "$fn: reports" "got: $(cat "$log")"
	else
		ok "$fn on a hanging helper: returned in $ms ms, helper gone"
	fi
}
ln -sf fake_helper "$bindir/hostile-hang"
interrupt pg_cancel_backend 'canceling statement due to user request'
interrupt pg_terminate_backend 'terminating connection due to administrator command'

# codeexec.max_concurrent = 1: a second call queues on the slot lock (seen
# in pg_locks as an ungranted advisory lock with objsubid 206) and the wait
# is interruptible.
concurrency() {
	local a b waiting out
	psql_q -c "set codeexec.max_concurrent = 1" -c "set codeexec.helper_path = '$bindir/hostile-hang'" \
		-c "select status from codeexec_run('x', timeout_ms => 4000, tag => 'slot-a')" >"$bindir/a.log" &
	a=$!
	sleep 0.5
	psql_q -c "set codeexec.max_concurrent = 1" -c "set codeexec.helper_path = '$bindir/hostile-ok'" \
		-c "select status from codeexec_run('x', tag => 'slot-b')" >"$bindir/b.log" &
	b=$!
	sleep 0.5
	waiting=$(psql_q -c "select count(*) from pg_locks where locktype = 'advisory' and objsubid = 206 and not granted")
	out=$(psql_q -c "select pg_cancel_backend(pid) from pg_stat_activity where query like '%slot-b%' and pid <> pg_backend_pid()")
	wait $b
	wait $a
	if [ "$waiting" = 1 ] && grep -q 'canceling statement due to user request' "$bindir/b.log" &&
		grep -q '^timeout$' "$bindir/a.log"; then
		ok "max_concurrent = 1 queues the second call; its wait is cancellable"
	else
		not_ok "max_concurrent = 1 queues the second call" "waiting=$waiting a=$(cat "$bindir/a.log") b=$(cat "$bindir/b.log")"
	fi
}
concurrency

# One session: pipe/epoll/signalfd descriptors before and after a mix of
# hostile calls (after one warm-up call, and counting only those kinds,
# because PostgreSQL keeps data and WAL files open in its own fd cache).
out=$(psql_q <<SQL
select pg_backend_pid() as pid \gset
\setenv BACKEND_PID :pid
set codeexec.helper_path = '$bindir/hostile-ok';
select status from codeexec_run('x');
\! echo "fds: \$(ls -l /proc/\$BACKEND_PID/fd | grep -cE 'pipe:|anon_inode:')"
set codeexec.helper_path = '$bindir/hostile-garbage';
select status from codeexec_run('x');
set codeexec.helper_path = '$bindir/hostile-flood';
select status from codeexec_run('x');
set codeexec.helper_path = '$bindir/hostile-die-mid';
select status from codeexec_run('x');
set codeexec.helper_path = '$bindir/hostile-missing';
select status from codeexec_run('x');
set codeexec.helper_path = '$bindir/hostile-hang';
set statement_timeout = 200;
select status from codeexec_run('x', timeout_ms => 5000);
reset statement_timeout;
select status from codeexec_run('x', timeout_ms => 200);
\! echo "fds: \$(ls -l /proc/\$BACKEND_PID/fd | grep -cE 'pipe:|anon_inode:')"
SQL
)
before=$(grep '^fds: ' <<<"$out" | sed -n 1p); after=$(grep '^fds: ' <<<"$out" | sed -n 2p)
[ -n "$before" ] && [ "$before" = "$after" ] && ok "backend fd count stable ($before)" ||
	not_ok "backend fd count stable" "before=$before after=$after"

sleep 0.3
# pgrep exits 1 when nothing matches: the passing case (0: a match, 2+: error)
left=$(pgrep -af "$bindir/")
rc=$?
[ "$rc" = 1 ] && ok "no fake helper process left" || not_ok "no fake helper process left" "pgrep exit $rc: $left"
z=$(ps -eo pid=,stat=,comm= | awk '$2 ~ /^Z/ && $3 ~ /hostile|fake_helper|codeexec/')
[ -z "$z" ] && ok "no zombie left" || not_ok "no zombie left" "$z"
now=$(psql_q -c 'select pg_postmaster_start_time()')
[ "$now" = "$start_time" ] && ok "server never restarted" || not_ok "server never restarted" "$start_time -> $now"

echo "hostile: $pass passed, $fail failed"
[ "$fail" = 0 ]
