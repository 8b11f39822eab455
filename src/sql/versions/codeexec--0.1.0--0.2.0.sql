-- codeexec 0.1.0 -> 0.2.0 (ALTER EXTENSION codeexec UPDATE).
--
-- The history table's checks of code_sha256 (a regular expression) and
-- status (an IN list) become calls of two C functions (history_checks.c):
-- PostgreSQL parses CHECK expressions again for every INSERT, and the
-- recorder inserts one row per statement.  Same rules, same constraint
-- names; re-adding them scans codeexec_execution once.
\echo Use "ALTER EXTENSION codeexec UPDATE TO '0.2.0'" to load this file. \quit

CREATE FUNCTION codeexec_is_sha256_hex(text) RETURNS boolean
AS 'MODULE_PATHNAME', 'codeexec_is_sha256_hex'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION codeexec_is_status(text) RETURNS boolean
AS 'MODULE_PATHNAME', 'codeexec_is_status'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION codeexec_is_sha256_hex(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION codeexec_is_status(text) FROM PUBLIC;

ALTER TABLE codeexec_execution
	DROP CONSTRAINT codeexec_execution_code_sha256_check,
	ADD CONSTRAINT codeexec_execution_code_sha256_check
		CHECK (codeexec_is_sha256_hex(code_sha256)),
	DROP CONSTRAINT codeexec_execution_status_check,
	ADD CONSTRAINT codeexec_execution_status_check
		CHECK (codeexec_is_status(status));
