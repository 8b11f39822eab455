-- Recording is committed independently of the caller's transaction.
-- (Needs codeexec in shared_preload_libraries, as the test cluster has.)
\set VERBOSITY terse
SELECT codeexec_set_quota(1001, 1000);

-- 100 calls in a transaction that rolls back: 100 rows, 100 counted.
BEGIN;
SELECT count(*) AS ran FROM (
	SELECT codeexec_run('print(1)', user_id => 1001) AS r
	FROM generate_series(1, 100)) s
WHERE (r).status = 'ok';
ROLLBACK;
SELECT count(*) AS rows_after_rollback FROM codeexec_execution WHERE user_id = 1001;
SELECT codeexec_quota_status(1001) ->> 'executions_used' AS used_after_rollback;

-- The row of a call is visible to the caller's next statement, in the
-- same transaction, with the calling role's name.
BEGIN;
SELECT (codeexec_run('print(2)', user_id => 1002, tag => 'visible')).execution_id AS id \gset
SELECT status, role_name = current_user AS mine, tag, code_sha256 = encode(sha256('print(2)'), 'hex') AS sha_ok
FROM codeexec_execution WHERE id = :id;
ROLLBACK;
SELECT count(*) AS kept FROM codeexec_execution WHERE id = :id;

-- A call cancelled mid-run is recorded as 'cancelled' before the error.
SET statement_timeout = '300ms';
SELECT codeexec_run('while True: pass', user_id => 1003, timeout_ms => 60000);
RESET statement_timeout;
SELECT status, success FROM codeexec_execution WHERE user_id = 1003;

-- An aborted subtransaction does not undo it either.
DO $$
BEGIN
	BEGIN
		PERFORM codeexec_run('print(3)', user_id => 1004);
		RAISE EXCEPTION 'roll back the block';
	EXCEPTION WHEN raise_exception THEN NULL;
	END;
END
$$;
SELECT count(*) AS rows_after_block FROM codeexec_execution WHERE user_id = 1004;

-- Large records (code and output over the 4 kB inline slot) go through a
-- dynamic shared memory segment.
SELECT (r).status, length((r).stdout) AS out_len
FROM codeexec_run(repeat('x = 1' || chr(10), 3000) || 'print("y" * 20000)',
				  user_id => 1006) r;
SELECT length(code) AS code_len, length(stdout) AS stdout_len
FROM codeexec_execution WHERE user_id = 1006;

-- Whether the recorder waits for the WAL flush of its commits is a server
-- setting (postgresql.conf, ALTER SYSTEM), not a session's: one commit
-- serves the requests of many sessions.  test/concurrency checks its effect.
SHOW codeexec.recorder_synchronous_commit;
SET codeexec.recorder_synchronous_commit = off;
