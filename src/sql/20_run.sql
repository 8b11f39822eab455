-- 20_run.sql: the SQL entry points codeexec_run and codeexec_validate
-- (SPEC section 2).  Nothing is granted to PUBLIC; see docs/sql-reference.md.

CREATE FUNCTION codeexec_run(
	code text,
	context jsonb DEFAULT '{}',
	user_id bigint DEFAULT NULL,
	timeout_ms integer DEFAULT NULL,
	memory_mb integer DEFAULT NULL,
	max_output_bytes integer DEFAULT NULL,
	allowed_imports text[] DEFAULT NULL,
	validate boolean DEFAULT true,
	redact boolean DEFAULT true,
	tag text DEFAULT NULL)
RETURNS codeexec_result
AS 'MODULE_PATHNAME', 'codeexec_run'
LANGUAGE C VOLATILE PARALLEL UNSAFE CALLED ON NULL INPUT;

CREATE FUNCTION codeexec_validate(
	code text,
	allowed_imports text[] DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'codeexec_validate'
LANGUAGE C VOLATILE PARALLEL UNSAFE CALLED ON NULL INPUT;

REVOKE ALL ON FUNCTION codeexec_run(text, jsonb, bigint, integer, integer, integer,
	text[], boolean, boolean, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION codeexec_validate(text, text[]) FROM PUBLIC;
