-- analytics.sql - reproduce the plans in docs/history-and-quotas.md:
-- fills codeexec_execution with 1M synthetic rows over 90 days (1000
-- users, realistic status mix, in created_at order as an append-only log
-- would be) and EXPLAINs the documented analytics queries.  Run it in a
-- scratch database with the extension created:
--   createdb analytics && psql -d analytics -c 'CREATE EXTENSION codeexec' \
--     && psql -d analytics -f test/concurrency/analytics.sql
\pset pager off
SELECT count(*) = 0 AS empty FROM codeexec_execution \gset
\if :empty
INSERT INTO codeexec_execution (user_id, role_name, code, code_sha256, context,
	status, success, stdout, stderr, error_type, error_message, violations,
	output_truncated, execution_time_seconds, cpu_time_seconds, peak_memory_kb,
	timeout_ms, memory_mb, sandbox_mode, created_at)
SELECT 1 + (random() * 999)::int, 'app', 'print(' || g || ')', md5(g::text) || md5(g::text), '{}',
	s.status, s.status = 'ok', '', '',
	CASE WHEN s.status = 'error' THEN (ARRAY['ZeroDivisionError', 'KeyError',
		'TypeError', 'ValueError', 'IndexError'])[1 + (random() * 4)::int] END,
	CASE WHEN s.status = 'error' THEN 'failed' END,
	CASE WHEN s.status = 'violation' THEN jsonb_build_array(jsonb_build_object(
		'rule', (ARRAY['import', 'forbidden_call', 'dunder_attribute',
			'complexity'])[1 + (random() * 3)::int],
		'message', 'x', 'line', 1, 'col', 0, 'severity', 'error')) END,
	false, 0.02 + random() ^ 4 * 3, 0.01 + random() * 0.5,
	20000 + (random() * 50000)::int, 5000, 256, 'exec', t
FROM (SELECT g, now() - interval '90 days' + g * interval '90 days' / 1000000 AS t, random() AS r
	  FROM generate_series(1, 1000000) g) x,
LATERAL (SELECT CASE WHEN r < 0.80 THEN 'ok' WHEN r < 0.90 THEN 'error'
	WHEN r < 0.94 THEN 'violation' WHEN r < 0.96 THEN 'syntax_error'
	WHEN r < 0.98 THEN 'timeout' WHEN r < 0.99 THEN 'quota_exceeded'
	ELSE 'memory_limit' END AS status) s;
VACUUM ANALYZE codeexec_execution;
\endif

\echo === recent executions of one user
EXPLAIN (ANALYZE, COSTS OFF)
SELECT id, status, created_at FROM codeexec_execution
WHERE user_id = 42 ORDER BY created_at DESC LIMIT 20;

\echo === per-user counts and p95 time, last 7 days
EXPLAIN (ANALYZE, COSTS OFF)
SELECT user_id, count(*) AS calls, count(*) FILTER (WHERE NOT success) AS failed,
	percentile_cont(0.95) WITHIN GROUP (ORDER BY execution_time_seconds) AS p95_seconds
FROM codeexec_execution WHERE created_at >= now() - interval '7 days'
GROUP BY user_id ORDER BY calls DESC LIMIT 10;

\echo === status over time, per day, last 30 days
EXPLAIN (ANALYZE, COSTS OFF)
SELECT date_trunc('day', created_at) AS day, status, count(*)
FROM codeexec_execution WHERE created_at >= now() - interval '30 days'
GROUP BY 1, 2 ORDER BY 1, 2;

\echo === violations by rule, last 7 days
EXPLAIN (ANALYZE, COSTS OFF)
SELECT v ->> 'rule' AS rule, count(*)
FROM codeexec_execution e, jsonb_array_elements(e.violations) v
WHERE e.status = 'violation' AND e.created_at >= now() - interval '7 days'
GROUP BY 1 ORDER BY 2 DESC;

\echo === top failing error types, last 7 days
EXPLAIN (ANALYZE, COSTS OFF)
SELECT error_type, count(*) FROM codeexec_execution
WHERE status = 'error' AND created_at >= now() - interval '7 days'
GROUP BY error_type ORDER BY count(*) DESC LIMIT 10;

\echo === one status over 90 days, per week
EXPLAIN (ANALYZE, COSTS OFF)
SELECT date_trunc('week', created_at) AS week, count(*) FROM codeexec_execution
WHERE status = 'timeout' AND created_at >= now() - interval '90 days'
GROUP BY 1 ORDER BY 1;
