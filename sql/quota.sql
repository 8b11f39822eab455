-- Quotas: set, status, exact admission, quota_exceeded recorded, CPU
-- budget, period reset, defaults from GUCs, argument checks.
\set VERBOSITY terse
-- a user without a row: unlimited by default, nothing counted
SELECT codeexec_quota_status(2001) - 'period_start' - 'period_end';
SELECT (codeexec_run('print(1)', user_id => 2001)).status;
SELECT count(*) AS quota_rows FROM codeexec_quota WHERE user_id = 2001;

SELECT codeexec_set_quota(2002, 3, '1 hour');
SELECT codeexec_quota_status(2002) - 'period_start' - 'period_end';
SELECT (codeexec_run('print(1)', user_id => 2002)).status FROM generate_series(1, 5);
SELECT status, count(*) FROM codeexec_execution WHERE user_id = 2002 GROUP BY 1 ORDER BY 1;
SELECT s ->> 'executions_used' AS used, s ->> 'executions_remaining' AS remaining,
	   s ->> 'exceeded' AS exceeded
FROM codeexec_quota_status(2002) s;
-- a denied call did not run: no output, no CPU
SELECT stdout IS NULL AS no_stdout, cpu_time_seconds IS NULL AS no_cpu, success
FROM codeexec_execution WHERE user_id = 2002 AND status = 'quota_exceeded' LIMIT 1;

-- raising the limit keeps usage in the period
SELECT codeexec_set_quota(2002, 4, '1 hour');
SELECT (codeexec_run('print(1)', user_id => 2002)).status FROM generate_series(1, 2);

-- an ended period resets on the next call
UPDATE codeexec_quota SET period_start = now() - interval '2 hours',
	period_end = now() - interval '1 hour' WHERE user_id = 2002;
SELECT codeexec_quota_status(2002) ->> 'executions_used' AS used_shown_after_end;
SELECT (codeexec_run('print(1)', user_id => 2002)).status;
SELECT executions_used, period_end > now() AS new_period,
	   period_end - period_start AS length
FROM codeexec_quota WHERE user_id = 2002;

-- CPU budget: a call is admitted while used < limit, and is charged after
SELECT codeexec_set_quota(2003, 100, '1 day', 10.0);
SELECT (codeexec_run('print(1)', user_id => 2003)).status;
SELECT cpu_seconds_used > 0 AS charged FROM codeexec_quota WHERE user_id = 2003;
UPDATE codeexec_quota SET cpu_seconds_used = 10.0 WHERE user_id = 2003;
SELECT (codeexec_run('print(1)', user_id => 2003)).status;
SELECT codeexec_quota_status(2003) ->> 'cpu_seconds_remaining' AS cpu_left;

-- the charge travels with the history row: it is exactly the recorded CPU
SELECT codeexec_set_quota(2008, 100, '1 day', 10.0);
SELECT (codeexec_run('print(1)', user_id => 2008)).status FROM generate_series(1, 3);
SELECT abs(q.cpu_seconds_used - (SELECT sum(cpu_time_seconds) FROM codeexec_execution e
										WHERE e.user_id = 2008)) < 1e-9 AS charge_is_recorded_cpu
FROM codeexec_quota q WHERE q.user_id = 2008;
-- without history it is sent on its own
SET codeexec.history = off;
SELECT codeexec_set_quota(2009, 100, '1 day', 10.0);
SELECT (codeexec_run('print(1)', user_id => 2009)).status;
SELECT cpu_seconds_used > 0 AS charged_without_history FROM codeexec_quota WHERE user_id = 2009;
RESET codeexec.history;

-- a zero limit admits nothing, even across a period reset
SELECT codeexec_set_quota(2004, 0);
UPDATE codeexec_quota SET period_end = now() - interval '1 second' WHERE user_id = 2004;
SELECT (codeexec_run('print(1)', user_id => 2004)).status;

-- defaults for users without a row come from the GUCs (superuser-set)
SET codeexec.default_executions_limit = 2;
SET codeexec.default_quota_period = '7 days';
SELECT (codeexec_run('print(1)', user_id => 2005)).status FROM generate_series(1, 3);
SELECT executions_limit, executions_used, period FROM codeexec_quota WHERE user_id = 2005;
SELECT codeexec_quota_status(2006) ->> 'executions_limit' AS default_limit;
RESET codeexec.default_executions_limit;
RESET codeexec.default_quota_period;
SET codeexec.default_quota_period = '-1 day';
SET codeexec.default_quota_period = 'often';

-- argument checks
SELECT codeexec_set_quota(2007, 1, '0 seconds');
SELECT codeexec_set_quota(NULL, 1);
