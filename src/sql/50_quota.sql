-- Per-user quotas (SPEC §2-3).  Rows are consumed and charged by the
-- recorder worker in its own committed transaction (src/backend/quota.c);
-- an administrator sets them with codeexec_set_quota.  A negative
-- executions_limit or a NULL cpu_seconds_limit means unlimited.
CREATE TABLE codeexec_quota (
	user_id bigint PRIMARY KEY,
	executions_limit integer NOT NULL,
	executions_used integer NOT NULL DEFAULT 0 CHECK (executions_used >= 0),
	cpu_seconds_limit double precision,
	cpu_seconds_used double precision NOT NULL DEFAULT 0 CHECK (cpu_seconds_used >= 0),
	period interval NOT NULL DEFAULT '1 day' CHECK (period > '0'::interval),
	period_start timestamptz NOT NULL DEFAULT now(),
	period_end timestamptz NOT NULL DEFAULT now() + '1 day'::interval
);
SELECT pg_catalog.pg_extension_config_dump('codeexec_quota', '');

-- Set (or replace) a user's limits.  Usage in the current period is kept
-- when the period length is unchanged, so lowering a limit takes effect at
-- once; a new period length starts a fresh period.
CREATE FUNCTION codeexec_set_quota(user_id bigint, executions_limit integer,
	period interval DEFAULT '1 day', cpu_seconds_limit double precision DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = @extschema@, pg_catalog
AS $$
BEGIN
	IF user_id IS NULL OR executions_limit IS NULL OR period IS NULL THEN
		RAISE EXCEPTION 'user_id, executions_limit and period must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF period <= '0'::interval THEN
		RAISE EXCEPTION 'quota period must be positive'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The period given was %s.', period);
	END IF;
	INSERT INTO codeexec_quota AS q (user_id, executions_limit, cpu_seconds_limit,
		period, period_start, period_end)
	VALUES (codeexec_set_quota.user_id, codeexec_set_quota.executions_limit,
		codeexec_set_quota.cpu_seconds_limit, codeexec_set_quota.period,
		now(), now() + codeexec_set_quota.period)
	ON CONFLICT ON CONSTRAINT codeexec_quota_pkey DO UPDATE SET
		executions_limit = excluded.executions_limit,
		cpu_seconds_limit = excluded.cpu_seconds_limit,
		period = excluded.period,
		executions_used = CASE WHEN q.period = excluded.period THEN q.executions_used ELSE 0 END,
		cpu_seconds_used = CASE WHEN q.period = excluded.period THEN q.cpu_seconds_used ELSE 0 END,
		period_start = CASE WHEN q.period = excluded.period THEN q.period_start ELSE now() END,
		period_end = CASE WHEN q.period = excluded.period THEN q.period_end
			ELSE now() + excluded.period END;
END
$$;

-- A user's quota as jsonb: limits, usage and what remains in the current
-- period (a period that has ended counts as already reset); for a user
-- without a row, the codeexec.default_* settings.  NULL limit/remaining
-- means unlimited.  SECURITY DEFINER so a role granted EXECUTE on it (an
-- application role) can show users their quota without reading the table,
-- which row-level security keeps for codeexec_admin.
CREATE FUNCTION codeexec_quota_status(user_id bigint)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = @extschema@, pg_catalog
AS $$
	WITH d AS (
		SELECT nullif(current_setting('codeexec.default_executions_limit', true)::int, -1)
				AS exec_limit,
			   nullif(current_setting('codeexec.default_cpu_seconds_limit', true)::float8, -1)
				AS cpu_limit,
			   coalesce(current_setting('codeexec.default_quota_period', true), '1 day')::interval
				AS period
	), r AS (
		SELECT true AS has_row,
			   CASE WHEN q.executions_limit < 0 THEN NULL ELSE q.executions_limit END AS exec_limit,
			   CASE WHEN q.period_end <= now() THEN 0 ELSE q.executions_used END AS exec_used,
			   q.cpu_seconds_limit AS cpu_limit,
			   CASE WHEN q.period_end <= now() THEN 0 ELSE q.cpu_seconds_used END AS cpu_used,
			   q.period,
			   CASE WHEN q.period_end <= now() THEN NULL ELSE q.period_start END AS period_start,
			   CASE WHEN q.period_end <= now() THEN NULL ELSE q.period_end END AS period_end
		FROM codeexec_quota q WHERE q.user_id = codeexec_quota_status.user_id
		UNION ALL
		SELECT false, d.exec_limit, 0, d.cpu_limit, 0, d.period, NULL, NULL FROM d
	), s AS (
		SELECT * FROM r ORDER BY has_row DESC LIMIT 1
	)
	SELECT jsonb_build_object(
		'user_id', codeexec_quota_status.user_id,
		'has_quota_row', s.has_row,
		'executions_limit', s.exec_limit,
		'executions_used', s.exec_used,
		'executions_remaining', CASE WHEN s.exec_limit IS NOT NULL
			THEN greatest(s.exec_limit - s.exec_used, 0) END,
		'cpu_seconds_limit', s.cpu_limit,
		'cpu_seconds_used', s.cpu_used,
		'cpu_seconds_remaining', CASE WHEN s.cpu_limit IS NOT NULL
			THEN greatest(s.cpu_limit - s.cpu_used, 0) END,
		'period', s.period,
		'period_start', s.period_start,
		'period_end', s.period_end,
		'exceeded', (s.exec_limit IS NOT NULL AND s.exec_used >= s.exec_limit)
			OR (s.cpu_limit IS NOT NULL AND s.cpu_used >= s.cpu_limit))
	FROM s
$$;
