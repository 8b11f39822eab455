-- SCAFFOLD of the history branch (removed on merging the backend branch,
-- whose 10_*/20_*.sql own these objects): the execution table and a stub
-- codeexec_run, so recording and quotas can be tested alone.
CREATE TYPE codeexec_result AS (
	execution_id bigint, success boolean, status text, stdout text, stderr text,
	result jsonb, error_type text, error_message text, violations jsonb,
	redactions jsonb, output_truncated boolean,
	execution_time_seconds double precision, cpu_time_seconds double precision,
	peak_memory_kb bigint);

CREATE TABLE codeexec_execution (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint,
	role_name text NOT NULL,
	code text NOT NULL,
	code_sha256 text NOT NULL,
	context jsonb NOT NULL,
	status text NOT NULL,
	success boolean NOT NULL,
	stdout text, stderr text, result jsonb, error_type text, error_message text,
	violations jsonb, redactions jsonb,
	output_truncated boolean NOT NULL DEFAULT false,
	execution_time_seconds double precision NOT NULL DEFAULT 0,
	cpu_time_seconds double precision, peak_memory_kb bigint,
	timeout_ms integer, memory_mb integer, sandbox_mode text, tag text,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp());

CREATE FUNCTION codeexec_run(code text, context jsonb DEFAULT '{}',
	user_id bigint DEFAULT NULL, timeout_ms int DEFAULT NULL,
	memory_mb int DEFAULT NULL, max_output_bytes int DEFAULT NULL,
	allowed_imports text[] DEFAULT NULL, validate boolean DEFAULT true,
	redact boolean DEFAULT true, tag text DEFAULT NULL)
RETURNS codeexec_result
AS 'MODULE_PATHNAME', 'codeexec_run' LANGUAGE C VOLATILE;
