#!/usr/bin/env bash
# run.sh - concurrency and restart tests of rollback-proof recording and
# quotas.  Ends with "N passed, N failed"; exits non-zero on any failure.
#
# Concurrency cases use the running cluster (PGHOST/PGPORT/PGUSER from the
# environment, as test/run.sh exports them) in a database of their own.
# The restart and not-preloaded cases start private clusters that listen
# on a Unix socket only (so they cannot collide with anyone's TCP port).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
client="/usr/bin/python3 $here/client.py"
work=$(mktemp -d /tmp/codeexec-conc.XXXXXX)
chmod 755 "$work"
pass=0 fail=0
export PGDATABASE=codeexec_concurrency

# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"; pass=$((pass + 1))
	else
		echo "not ok - $1: expected '$2', got '$3'"; fail=$((fail + 1))
	fi
}

q() { psql -X -At -v ON_ERROR_STOP=1 -c "$1"; }
# the pid of the current database's recorder worker, if one runs
recorder_here="SELECT pid FROM pg_stat_activity WHERE application_name = 'codeexec recorder' AND datname = current_database()"
jget() { /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, d))' "$1"; }

cleanup() {
	for d in "$work"/cluster-*; do
		[ -f "$d/data/postmaster.pid" ] &&
			runuser -u postgres -- "$PGBIN/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1
	done
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS codeexec_concurrency" >/dev/null 2>&1
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS codeexec_restored" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

: "${PGBIN:=$(pg_config --bindir)}"
PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres -c "DROP DATABASE IF EXISTS codeexec_concurrency" &&
	psql -X -q -d postgres -c "CREATE DATABASE codeexec_concurrency" &&
	q "CREATE EXTENSION codeexec" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }

# 1. Exact quota: limit 40, 8 sessions x 15 calls = 120 attempts.
q "SELECT codeexec_set_quota(1, 40)" >/dev/null
res=$($client burst 1 8 15 exact)
check "exact quota: no client errors" "[]" "$(jget errors <<<"$res")"
check "exact quota: exactly 40 ran" 40 "$(jget "statuses.get('ok', 0)" <<<"$res")"
check "exact quota: 80 refused" 80 "$(jget "statuses.get('quota_exceeded', 0)" <<<"$res")"
check "exact quota: history rows = attempts" 120 "$(q "SELECT count(*) FROM codeexec_execution WHERE user_id = 1")"
check "exact quota: executions_used = 40" 40 "$(q "SELECT executions_used FROM codeexec_quota WHERE user_id = 1")"
check "exact quota: ok rows = 40" 40 "$(q "SELECT count(*) FROM codeexec_execution WHERE user_id = 1 AND status = 'ok'")"

# 2. Sessions that ROLLBACK: 6 sessions x 20 calls in transactions rolled back.
q "SELECT codeexec_set_quota(2, 100)" >/dev/null
res=$($client burst 2 6 20 rb rollback)
check "rollback: no client errors" "[]" "$(jget errors <<<"$res")"
check "rollback: history rows = attempts" 120 "$(q "SELECT count(*) FROM codeexec_execution WHERE user_id = 2")"
check "rollback: exactly 100 counted" 100 "$(q "SELECT executions_used FROM codeexec_quota WHERE user_id = 2")"
check "rollback: exactly 100 ran" 100 "$(jget "statuses.get('ok', 0)" <<<"$res")"
check "rollback: no duplicate tag" 0 "$(q "SELECT count(*) FROM (SELECT tag FROM codeexec_execution WHERE user_id = 2 GROUP BY tag HAVING count(*) > 1) d")"
# The CPU charge travels with each history row: concurrent and rolled-back
# calls are charged exactly what their rows record.
charge_sql() { echo "SELECT abs(q.cpu_seconds_used - (SELECT sum(cpu_time_seconds) FROM codeexec_execution e WHERE e.user_id = $1 AND e.cpu_time_seconds > 0)) < 1e-6 AND q.cpu_seconds_used > 0 FROM codeexec_quota q WHERE q.user_id = $1"; }
check "exact quota: CPU charged = CPU recorded" t "$(q "$(charge_sql 1)")"
check "rollback: CPU charged = CPU recorded" t "$(q "$(charge_sql 2)")"

# 2b. The quota row is locked by another transaction when the charge comes
# (the recorder gives up after its lock_timeout, 5 s): the call still
# returns its result and its history row, with a WARNING that the CPU was
# not charged.
q "SELECT codeexec_set_quota(9, 100)" >/dev/null
psql -X -q -c "SELECT pg_sleep(0.3)" -c "BEGIN" \
	-c "SELECT 1 FROM codeexec_quota WHERE user_id = 9 FOR UPDATE" \
	-c "SELECT pg_sleep(10)" -c "COMMIT" >/dev/null &
locker=$!
out=$(psql -X -At -c "SELECT status FROM codeexec_run(E'x = 0\\nwhile x < 30000000:\\n    x += 1\\nprint(x)', user_id => 9, timeout_ms => 20000)" 2>&1)
wait "$locker"
check "locked quota row: the call returns ok" ok "$(grep -v WARNING <<<"$out" | grep -v DETAIL | grep -v HINT)"
check "locked quota row: WARNING that the CPU was not charged" 1 "$(grep -c "WARNING:  the CPU time of this call was not charged to user 9" <<<"$out")"
check "locked quota row: the history row is kept" ok "$(q "SELECT status FROM codeexec_execution WHERE user_id = 9")"
check "locked quota row: counted, not charged" "1|0" "$(q "SELECT executions_used, cpu_seconds_used FROM codeexec_quota WHERE user_id = 9")"

# 3. Mixed: committing and rolling-back sessions on one quota at once.
q "SELECT codeexec_set_quota(3, 50)" >/dev/null
$client burst 3 4 20 mixa >"$work/mixa.json" &
$client burst 3 4 20 mixb rollback >"$work/mixb.json" &
wait
ran=$(( $(jget "statuses.get('ok', 0)" <"$work/mixa.json") + $(jget "statuses.get('ok', 0)" <"$work/mixb.json") ))
check "mixed: exactly 50 ran" 50 "$ran"
check "mixed: history rows = attempts" 160 "$(q "SELECT count(*) FROM codeexec_execution WHERE user_id = 3")"

# 4. Sessions killed with pg_terminate_backend mid-call.
q "SELECT codeexec_set_quota(4, 100)" >/dev/null
res=$($client kill 4 5 kill)
check "kill: all 5 terminated" 5 "$(jget terminated <<<"$res")"
check "kill: all 5 sessions lost their call" 5 "$(jget killed <<<"$res")"
rows=0
for _ in $(seq 50); do	# the rows are committed by the worker after the exit
	rows=$(q "SELECT count(*) FROM codeexec_execution WHERE user_id = 4")
	[ "$rows" = 5 ] && break
	sleep 0.1
done
check "kill: history rows = attempts" 5 "$rows"
check "kill: recorded as cancelled" 5 "$(q "SELECT count(*) FROM codeexec_execution WHERE user_id = 4 AND status = 'cancelled'")"
check "kill: counted" 5 "$(q "SELECT executions_used FROM codeexec_quota WHERE user_id = 4")"
check "kill: no backend left" 0 "$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%while True%' AND pid <> pg_backend_pid()")"
# ... and the CPU their helpers burnt before the kill is charged (read
# before the kill: after it, nothing is left to ask).
check "kill: the CPU burnt is charged" t "$(q "SELECT cpu_seconds_used > 0.1 FROM codeexec_quota WHERE user_id = 4")"

# 4b. A call cut short is charged the CPU it burnt, in each host spawn mode:
# by its deadline (a result, whose row records what was charged) and by a
# statement_timeout (a cancel: the 'cancelled' row has no figure, the quota
# still gets one).  Busy loops of 0.8 s: a helper's CPU read after the kill
# was ~0 here (exec mode: the waiter's own 8 ms).
for mode in forkserver exec; do
	if [ $mode = forkserver ]; then ut=20 uc=21; else ut=22 uc=23; fi
	q "SELECT codeexec_set_quota($ut, 100), codeexec_set_quota($uc, 100)" >/dev/null
	psql -X -At -c "SET codeexec.spawn_mode = $mode" \
		-c "SELECT status FROM codeexec_run('while True: pass', user_id => $ut, timeout_ms => 800)" >"$work/cut.out" 2>&1
	check "$mode timeout: status" timeout "$(tail -n 1 "$work/cut.out")"
	check "$mode timeout: CPU recorded and charged alike" t "$(q "SELECT e.cpu_time_seconds > 0.2 AND abs(q.cpu_seconds_used - e.cpu_time_seconds) < 1e-6 FROM codeexec_execution e, codeexec_quota q WHERE e.user_id = $ut AND q.user_id = $ut")"
	psql -X -At -c "SET codeexec.spawn_mode = $mode" -c "SET statement_timeout = 800" \
		-c "SELECT status FROM codeexec_run('while True: pass', user_id => $uc, timeout_ms => 20000)" >"$work/cut.out" 2>&1
	check "$mode cancel: the statement was cancelled" 1 "$(grep -c 'canceling statement due to statement timeout' "$work/cut.out")"
	check "$mode cancel: recorded as cancelled, counted" "cancelled|1" "$(q "SELECT e.status, q.executions_used FROM codeexec_execution e, codeexec_quota q WHERE e.user_id = $uc AND q.user_id = $uc")"
	check "$mode cancel: the CPU burnt is charged" t "$(q "SELECT cpu_seconds_used > 0.2 FROM codeexec_quota WHERE user_id = $uc")"
done
# ... and a terminated session whose first call ran with history off: its
# backend's exit callbacks then run in the other order (history's before
# spawn.c's), and the charge must still get the helper's CPU.
q "SELECT codeexec_set_quota(24, 100)" >/dev/null
psql -X -At -c "SET codeexec.history = off" -c "SELECT status FROM codeexec_run('print(1)')" \
	-c "SET codeexec.history = on" \
	-c "SELECT status FROM codeexec_run('while True: pass', user_id => 24, timeout_ms => 20000)" >/dev/null 2>&1 &
victim=$!
for _ in $(seq 100); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%user_id => 24%' AND state = 'active' AND now() - query_start > interval '800 ms' AND pid <> pg_backend_pid()")" = 1 ] && break
	sleep 0.05
done
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%user_id => 24%' AND pid <> pg_backend_pid()" >/dev/null
wait "$victim"
for _ in $(seq 50); do
	[ "$(q "SELECT count(*) FROM codeexec_execution WHERE user_id = 24")" = 1 ] && break
	sleep 0.1
done
check "terminated after a call without history: cancelled, CPU charged" "cancelled|t" "$(q "SELECT e.status, q.cpu_seconds_used > 0.2 FROM codeexec_execution e, codeexec_quota q WHERE e.user_id = 24 AND q.user_id = 24")"

# 5. The extension dropped and created again in another schema, in one
# session, while the recorder runs: the session's cached redaction patterns
# and the recorder's cached history table must both follow it (the session
# used to fail with "could not open relation with OID ...").
out=$(psql -X -At -q -v ON_ERROR_STOP=1 \
	-c "SELECT 'first=' || (codeexec_run('print(1)')).status" -c "SELECT 'recorder=' || ($recorder_here)" \
	-c "DROP EXTENSION codeexec" -c "CREATE SCHEMA moved" -c "CREATE EXTENSION codeexec SCHEMA moved" \
	-c "SELECT 'stdout=' || rtrim((moved.codeexec_run('print(4111111111111111)')).stdout, E'\\n')" \
	-c "SELECT 'quota=' || moved.codeexec_set_quota(9, 5)::text" \
	-c "SELECT 'status=' || (moved.codeexec_run('print(2)', user_id => 9)).status" \
	-c "SELECT 'rows=' || count(*) || ' rows, ' || count(user_id) || ' of user 9' FROM moved.codeexec_execution" \
	-c "SELECT 'used=' || executions_used FROM moved.codeexec_quota WHERE user_id = 9" \
	-c "SELECT 'recorder_after=' || ($recorder_here)" 2>&1)
field() { sed -n "s/^$1=//p" <<<"$out" | grep . || echo "missing $1: $out"; }
check "extension moved: the session's next call redacts with the new table" "[REDACTED:credit_card]" "$(field stdout)"
check "extension moved: its calls are recorded in the new schema" "2 rows, 1 of user 9" "$(field rows)"
check "extension moved: the quota is kept in the new schema" 1 "$(field used)"
check "extension moved: by the recorder that was running" "$(field recorder)" "$(field recorder_after)"

# 6. pg_dump and pg_restore of a database that uses codeexec (in schema
# "moved" since case 5): the quotas and the DBA's own redaction patterns
# come back, the built-in patterns are not doubled, calls work in the copy.
q "INSERT INTO moved.codeexec_redaction_pattern (name, pattern, description) VALUES ('employee_id', 'EMP-[0-9]{6}', 'a DBA''s pattern')" >/dev/null
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS codeexec_restored" -c "CREATE DATABASE codeexec_restored" >/dev/null 2>&1
"$PGBIN/pg_dump" -Fc -f "$work/dump" codeexec_concurrency >"$work/dump.log" 2>&1 &&
	"$PGBIN/pg_restore" -d codeexec_restored "$work/dump" >>"$work/dump.log" 2>&1
rc=$?
check "pg_dump | pg_restore: no error, no warning" 0 "$rc$([ -s "$work/dump.log" ] && echo " $(cat "$work/dump.log")")"
rq() { psql -X -At -q -d codeexec_restored -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
check "restored: the DBA's pattern redacts" "[REDACTED:employee_id]" \
	"$(rq "SELECT rtrim((moved.codeexec_run('print(\"EMP-123456\")')).stdout, E'\\n')")"
check "restored: the built-in patterns once" \
	"$(q "SELECT count(*) FROM moved.codeexec_redaction_pattern WHERE builtin")" \
	"$(rq "SELECT count(*) FROM moved.codeexec_redaction_pattern WHERE builtin")"
check "restored: the quota, counting on (status; limit, used)" "ok 5 2" \
	"$(rq "SELECT (moved.codeexec_run('print(1)', user_id => 9)).status;
		SELECT executions_limit || ' ' || executions_used FROM moved.codeexec_quota WHERE user_id = 9" |
		tr '\n' ' ' | sed 's/ $//')"
psql -X -q -d postgres -c "DROP DATABASE codeexec_restored" >/dev/null 2>&1

# 7. The idle recorder worker lets DROP DATABASE through.
psql -X -q -d postgres -c "DROP DATABASE codeexec_concurrency" >"$work/drop.log" 2>&1
check "drop database with an idle recorder" 0 "$?"

# private clusters: unix socket only, under $work
# private_start NAME PRELOAD: start a cluster, print its socket dir
private_start() {
	local d="$work/cluster-$1"
	mkdir -p "$d/sock" && chown -R postgres: "$d"
	runuser -u postgres -- "$PGBIN/initdb" -D "$d/data" -U postgres -A trust --no-sync \
		-E UTF8 --locale=C.UTF-8 >"$d/initdb.log" 2>&1 || return 1
	printf "%s\n" "port = ${PGPORT:-5432}" "listen_addresses = ''" \
		"unix_socket_directories = '$d/sock'" "shared_preload_libraries = '$2'" \
		"max_connections = 40" "log_min_messages = warning" >>"$d/data/postgresql.conf"
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$d/data" -l "$d/server.log" -w start >/dev/null
}

# 8. Restart: immediate shutdown mid-load, then restart.
if private_start restart codeexec; then
	(
		export PGHOST="$work/cluster-restart/sock" PGDATABASE=postgres
		q "CREATE EXTENSION codeexec" >/dev/null
		q "SELECT codeexec_set_quota(6, 1000000)" >/dev/null
		cd "$work" && $client load 6 6 load 30 >"$work/load.json" &
		loader=$!
		sleep 3
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/cluster-restart/data" -m immediate -w stop >/dev/null
		wait $loader
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/cluster-restart/data" -l "$work/cluster-restart/server.log" -w start >/dev/null
		awk '{print $2}' "$work/load.log" | sort -n >"$work/seen.txt"
		q "COPY (SELECT id FROM codeexec_execution ORDER BY id) TO STDOUT" | sort -n >"$work/stored.txt"
		echo "seen=$(wc -l <"$work/seen.txt")"
		echo "missing=$(comm -23 "$work/seen.txt" "$work/stored.txt" | wc -l)"
		echo "dups=$(q "SELECT count(*) FROM (SELECT tag FROM codeexec_execution GROUP BY tag HAVING count(*) > 1) d")"
		echo "overcount=$(q "SELECT count(*) FROM codeexec_quota q WHERE executions_used < (SELECT count(*) FROM codeexec_execution WHERE status = 'ok')")"
		echo "after=$(q "SELECT (codeexec_run('print(1)', user_id => 6)).status")"
	) >"$work/restart.out" 2>&1
	r=$(cat "$work/restart.out")
	seen=$(sed -n 's/^seen=//p' <<<"$r")
	check "restart: calls completed before the crash" yes "$([ "${seen:-0}" -gt 0 ] && echo yes || echo "no ($r)")"
	check "restart: no committed row lost" 0 "$(sed -n 's/^missing=//p' <<<"$r")"
	check "restart: no duplicate" 0 "$(sed -n 's/^dups=//p' <<<"$r")"
	check "restart: quota counts every recorded run" 0 "$(sed -n 's/^overcount=//p' <<<"$r")"
	check "restart: works after restart" ok "$(sed -n 's/^after=//p' <<<"$r")"
else
	check "restart: private cluster starts" 0 1
fi

# 9. Not preloaded: codeexec_run raises the documented ERROR and hint.
if private_start nopreload ''; then
	out=$(PGHOST="$work/cluster-nopreload/sock" PGDATABASE=postgres psql -X -v ON_ERROR_STOP=1 \
		-v VERBOSITY=verbose -c "CREATE EXTENSION codeexec" -c "SELECT codeexec_run('print(1)')" 2>&1)
	check "not preloaded: SQLSTATE 55000" yes "$(grep -q 'ERROR:  55000: codeexec must be loaded via shared_preload_libraries' <<<"$out" && echo yes || echo "$out")"
	check "not preloaded: hint says how" yes "$(grep -q "HINT:  .*shared_preload_libraries = 'codeexec'.*restart" <<<"$out" && echo yes || echo "$out")"
else
	check "not preloaded: private cluster starts" 0 1
fi

# 10. codeexec.recorder_synchronous_commit: with it on, every recorder commit
# waits for a WAL flush (a private cluster keeps fsync on, so each flush is
# counted in pg_stat_wal.wal_sync); with it off, the calls' commits leave
# the flushing to the WAL writer.  A recorder reports its WAL statistics
# when it exits (2 s after its last request), so each phase waits for that.
if private_start walsync codeexec; then
	(
		export PGHOST="$work/cluster-walsync/sock" PGDATABASE=postgres
		set_sync() {
			q "ALTER SYSTEM SET codeexec.recorder_synchronous_commit = $1" >/dev/null
			q "SELECT pg_reload_conf()" >/dev/null
		}
		recorder_pid() { q "$recorder_here"; }
		recorder_gone() {
			for _ in $(seq 1 100); do
				[ -z "$(recorder_pid)" ] && return 0
				sleep 0.1
			done
			return 1
		}
		wal_syncs() { q "SELECT wal_sync FROM pg_stat_wal"; }
		twenty_calls() {
			for _ in $(seq 20); do echo "SELECT (codeexec_run('print(1)')).status;"; done |
				psql -X -At -v ON_ERROR_STOP=1
		}
		# the WAL flushes since $2, once the recorder has exited (reported them)
		syncs_since() {
			recorder_gone || echo "$1=recorder did not exit"
			sleep 0.5
			echo "$1=$(($(wal_syncs) - $2))"
		}
		q "CREATE EXTENSION codeexec" >/dev/null
		for mode in on off; do
			set_sync "$mode"
			recorder_gone || echo "$mode=recorder did not exit"
			before=$(wal_syncs)
			twenty_calls | sort | uniq -c | awk '{print "'$mode'_statuses=" $1 "x" $2}'
			syncs_since "$mode" "$before"
		done
		echo "rows=$(q "SELECT count(*) FROM codeexec_execution")"
		# a running recorder takes a new setting on reload (SIGHUP)
		q "SELECT (codeexec_run('print(1)')).status" >/dev/null
		pid=$(recorder_pid)
		set_sync on
		sleep 0.3
		before=$(wal_syncs)
		twenty_calls >/dev/null
		echo "same_recorder=$([ -n "$pid" ] && [ "$(recorder_pid)" = "$pid" ] && echo yes || echo "no ($pid)")"
		syncs_since reload "$before"
	) >"$work/walsync.out" 2>&1
	r=$(cat "$work/walsync.out")
	on=$(sed -n 's/^on=//p' <<<"$r")
	off=$(sed -n 's/^off=//p' <<<"$r")
	check "synchronous recorder: the 20 calls ran" 20xok "$(sed -n 's/^on_statuses=//p' <<<"$r")"
	check "synchronous recorder: one WAL flush per call or more" yes \
		"$([ "${on:-0}" -ge 20 ] 2>/dev/null && echo yes || echo "no ($r)")"
	check "asynchronous recorder: the 20 calls ran" 20xok "$(sed -n 's/^off_statuses=//p' <<<"$r")"
	check "asynchronous recorder: at most half as many WAL flushes as calls" yes \
		"$([ "${off:-99}" -le 10 ] 2>/dev/null && echo yes || echo "no ($r)")"
	check "asynchronous recorder: every row is there" 40 "$(sed -n 's/^rows=//p' <<<"$r")"
	reload=$(sed -n 's/^reload=//p' <<<"$r")
	check "running recorder: still the same process after the reload" yes "$(sed -n 's/^same_recorder=//p' <<<"$r")"
	check "running recorder: synchronous again after the reload" yes \
		"$([ "${reload:-0}" -ge 20 ] 2>/dev/null && echo yes || echo "no ($r)")"
else
	check "recorder synchronous commit: private cluster starts" 0 1
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
