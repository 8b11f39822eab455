-- 15_execution.sql: codeexec_execution, one row per codeexec_run call
-- (SPEC section 3).  History is data, not configuration: the table is not
-- registered with pg_extension_config_dump (dump it explicitly if wanted).

-- Two of its CHECK constraints call C (history_checks.c): PostgreSQL parses
-- CHECK expressions again for every INSERT, and the recorder inserts one
-- row per statement.  Only the table's writers need them (the recorder,
-- as superuser), so nothing is granted to PUBLIC.
CREATE FUNCTION codeexec_is_sha256_hex(text) RETURNS boolean
AS 'MODULE_PATHNAME', 'codeexec_is_sha256_hex'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION codeexec_is_status(text) RETURNS boolean
AS 'MODULE_PATHNAME', 'codeexec_is_status'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION codeexec_is_sha256_hex(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION codeexec_is_status(text) FROM PUBLIC;

CREATE TABLE codeexec_execution (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint,
	role_name text NOT NULL,
	code text NOT NULL,
	code_sha256 text NOT NULL CHECK (codeexec_is_sha256_hex(code_sha256)),
	context jsonb NOT NULL,
	success boolean NOT NULL,
	status text NOT NULL CHECK (codeexec_is_status(status)),
	stdout text,
	stderr text,
	result jsonb,
	error_type text,
	error_message text,
	violations jsonb,
	redactions jsonb,
	output_truncated boolean NOT NULL DEFAULT false,
	execution_time_seconds double precision,
	cpu_time_seconds double precision,
	peak_memory_kb bigint,
	timeout_ms integer NOT NULL,
	memory_mb integer NOT NULL,
	sandbox_mode text NOT NULL,
	tag text,
	created_at timestamptz NOT NULL DEFAULT now(),
	CHECK (success = (status = 'ok'))
);

CREATE INDEX codeexec_execution_user_created_idx
	ON codeexec_execution (user_id, created_at DESC);
CREATE INDEX codeexec_execution_status_created_idx
	ON codeexec_execution (status, created_at);

REVOKE ALL ON codeexec_execution FROM PUBLIC;
