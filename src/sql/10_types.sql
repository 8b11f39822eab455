-- 10_types.sql: the composite type codeexec_run returns (SPEC section 2).

CREATE TYPE codeexec_result AS (
	execution_id bigint,
	success boolean,
	status text,
	stdout text,
	stderr text,
	result jsonb,
	error_type text,
	error_message text,
	violations jsonb,
	redactions jsonb,
	output_truncated boolean,
	execution_time_seconds double precision,
	cpu_time_seconds double precision,
	peak_memory_kb bigint
);
