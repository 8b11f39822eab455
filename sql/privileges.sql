-- privileges: nothing is granted to PUBLIC.
CREATE ROLE codeexec_nobody;
SET ROLE codeexec_nobody;
SELECT codeexec_run('print(1)');
SELECT codeexec_validate('print(1)');
SELECT count(*) FROM codeexec_execution;
RESET ROLE;

-- after the documented grants a role can run code and read history; it
-- needs no INSERT right: the row is written as the table's owner
GRANT EXECUTE ON FUNCTION codeexec_run(text, jsonb, bigint, integer, integer, integer, text[], boolean, boolean, text) TO codeexec_nobody;
GRANT SELECT ON codeexec_execution TO codeexec_nobody;
SET ROLE codeexec_nobody;
SELECT status, stdout FROM codeexec_run('print(1)');
SELECT role_name FROM codeexec_execution ORDER BY id DESC LIMIT 1;
-- ...and cannot forge history rows itself
INSERT INTO codeexec_execution (role_name, code, code_sha256, context, success, status, timeout_ms, memory_mb, sandbox_mode)
  VALUES ('x', 'x', repeat('0', 64), '{}', true, 'ok', 1, 1, 'exec');
RESET ROLE;
REVOKE ALL ON codeexec_execution FROM codeexec_nobody;
REVOKE ALL ON FUNCTION codeexec_run(text, jsonb, bigint, integer, integer, integer, text[], boolean, boolean, text) FROM codeexec_nobody;
DROP ROLE codeexec_nobody;
