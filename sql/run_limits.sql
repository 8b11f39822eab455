-- run_limits: output truncation and the per-call limits against the
-- superuser ceilings.
\pset null '<null>'

-- truncation at max_output_bytes, on a UTF-8 character boundary
SELECT stdout, output_truncated FROM codeexec_run('print("x" * 100)', max_output_bytes => 10);
SELECT octet_length(stdout), output_truncated FROM codeexec_run('print("é" * 100)', max_output_bytes => 11);
SELECT status, octet_length(stderr), octet_length(error_message), output_truncated
  FROM codeexec_run('raise ValueError("e" * 5000)', max_output_bytes => 100);
SELECT stdout, output_truncated FROM codeexec_run('print("short")', max_output_bytes => 10);
-- a flood is capped however much is printed
SELECT octet_length(stdout), output_truncated
  FROM codeexec_run('for i in range(200000): print("y" * 100)', max_output_bytes => 1000);

-- limits may be tightened freely...
SELECT status FROM codeexec_run('print(1)', timeout_ms => 1000, memory_mb => 100, max_output_bytes => 100);
-- ...but not raised above the ceilings
SELECT codeexec_run('print(1)', timeout_ms => 60001);
SELECT codeexec_run('print(1)', memory_mb => 1025);
SELECT codeexec_run('print(1)', max_output_bytes => 16777217);
-- non-positive values
SELECT codeexec_run('print(1)', timeout_ms => 0);
SELECT codeexec_run('print(1)', memory_mb => -1);
SELECT codeexec_run('print(1)', max_output_bytes => 0);
-- a user default above the ceiling is refused too
SET codeexec.timeout_ms = 70000;
SELECT codeexec_run('print(1)');
RESET codeexec.timeout_ms;
-- the ceiling is superuser-only
CREATE ROLE codeexec_limits_user;
SET ROLE codeexec_limits_user;
SET codeexec.timeout_ms_limit = 100000;
SET codeexec.max_code_bytes = '10MB';
SET codeexec.helper_path = '/bin/sh';
SET codeexec.unsafe_no_py_guards = on;
SET codeexec.timeout_ms = 1000;
RESET ROLE;
DROP ROLE codeexec_limits_user;

-- code and context size limits
SELECT codeexec_run(repeat('x', 256 * 1024 + 1));
SELECT codeexec_run('x = 1', jsonb_build_object('pad', repeat('y', 1024 * 1024)));
-- 10 MB of code
SELECT codeexec_run(repeat('# comment line ...............................' || E'\n', 220000));
SELECT codeexec_validate(repeat('x', 256 * 1024 + 1));
-- exactly at the limit is accepted
SELECT status FROM codeexec_run('x = 1' || repeat(' ', 256 * 1024 - 5));
