-- 30_isolation.sql: codeexec_isolation() (SPEC section 2), which asks the
-- helper, in the session's spawn mode, which OS isolation layers it really
-- sets up.  Nothing is granted to PUBLIC; see docs/security.md.

CREATE FUNCTION codeexec_isolation(
	OUT layer text,
	OUT active boolean,
	OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'codeexec_isolation'
LANGUAGE C VOLATILE PARALLEL UNSAFE STRICT;

REVOKE ALL ON FUNCTION codeexec_isolation() FROM PUBLIC;
