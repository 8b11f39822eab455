-- run_status: every status codeexec_run can produce in exec mode, and the
-- row it records.  (quota_exceeded needs the quota module and is tested
-- with it.)
\pset null '<null>'
SELECT coalesce(max(id), 0) AS start_id FROM codeexec_execution \gset

-- ok: stdout, result, the issue's acceptance example
SELECT success, status, stdout, result, error_type, error_message, violations,
       output_truncated
  FROM codeexec_run('result = sum(context["xs"]); print("hi")', '{"xs": [1, 2, 3]}');

-- error: exception class, message, traceback with the user's line numbers
SELECT success, status, error_type, error_message, stderr
  FROM codeexec_run(E'x = 1\nraise ValueError("bad value")');

-- a value that is not JSON-serializable is an error of the code
SELECT status, error_type FROM codeexec_run('result = {1, 2}');

-- syntax_error: line and column in the violation
SELECT status, error_type, violations
  FROM codeexec_run(E'def f(:\n    pass');

-- violation: stops before running (nothing printed)
SELECT status, stdout, violations->0->>'rule' AS rule
  FROM codeexec_run(E'print("ran")\nimport os');

-- timeout: the backend's deadline
SELECT status, error_message FROM codeexec_run('while True: pass', timeout_ms => 300);

-- memory_limit: the address-space rlimit
SELECT status, error_type
  FROM codeexec_run('x = bytearray(400 * 1024 * 1024)', memory_mb => 128);

-- killed: the helper dies by a signal (guards off so the code can reach os)
SET codeexec.unsafe_no_py_guards = on;
SELECT status, error_message
  FROM codeexec_run('import os; os.kill(os.getpid(), 11)');
RESET codeexec.unsafe_no_py_guards;

-- every call above recorded one row, with matching status and success
SELECT status, success, count(*) FROM codeexec_execution WHERE id > :start_id
 GROUP BY 1, 2 ORDER BY 1;

-- execution_id points at the row just written (visible to the next statement)
SELECT execution_id AS id
  FROM codeexec_run('print(42)', '{"k": "v"}', user_id => 7, tag => 'answer',
                    timeout_ms => 2000, memory_mb => 200) \gset
SELECT status, success, stdout, result, context, user_id, tag, timeout_ms, memory_mb,
       sandbox_mode, output_truncated, redactions,
       code_sha256 = encode(sha256('print(42)'), 'hex') AS sha_ok,
       role_name = current_user AS role_ok, created_at <= now() AS created_ok
  FROM codeexec_execution WHERE id = :id;

-- measured figures are present and sane (values vary, so only their shape)
SELECT execution_time_seconds > 0 AS wall, cpu_time_seconds >= 0 AS cpu,
       peak_memory_kb > 0 AS rss
  FROM codeexec_run('x = sum(range(100000))');

-- cancel: statement_timeout (like pg_cancel_backend) ends the call at once
-- with the usual ERROR; the helper is killed and reaped (test/leaks checks),
-- and the call is recorded as 'cancelled' all the same (docs/history-and-quotas.md).
SELECT coalesce(max(id), 0) AS before_cancel FROM codeexec_execution \gset
SET statement_timeout = '300ms';
SELECT status FROM codeexec_run('while True: pass', timeout_ms => 30000);
RESET statement_timeout;
SELECT status FROM codeexec_execution WHERE id > :before_cancel;
-- the session is fine afterwards
SELECT status, stdout FROM codeexec_run('print("after cancel")');
