-- run_args: argument errors and server-side configuration errors.
\pset null '<null>'

-- NULL code
SELECT codeexec_run(NULL);
SELECT codeexec_validate(NULL);

-- allowed_imports: subset of codeexec.allowed_imports, no NULLs, names only
SELECT status FROM codeexec_run('import math; print(math.floor(2.5))', allowed_imports => ARRAY['math']);
SELECT status, violations->0->>'rule' AS rule
  FROM codeexec_run('import json', allowed_imports => ARRAY['math']);
SELECT status, violations
  FROM codeexec_run('import math', allowed_imports => ARRAY[]::text[]);
SELECT codeexec_run('import os', allowed_imports => ARRAY['os'], tag => 'argerr');
SELECT codeexec_run('import math', allowed_imports => ARRAY['math', NULL]);
SELECT codeexec_run('import math', allowed_imports => ARRAY[E'math\nos']);
SELECT codeexec_run('import math', allowed_imports => ARRAY[['math']]);
SET codeexec.allowed_imports = 'math, json';
SELECT status FROM codeexec_run('import json');
SELECT status FROM codeexec_run('import re');
SET codeexec.allowed_imports = 'math, not a module';
RESET codeexec.allowed_imports;

-- validate => false skips the AST rules; the runtime import hook still refuses
SELECT status, error_type FROM codeexec_run('import os', validate => false);

-- NUL bytes and invalid UTF-8 are refused by PostgreSQL before codeexec runs
SELECT codeexec_run(E'print(1)\x00');
SELECT codeexec_run(convert_from('\x7072696e742822c3282229', 'UTF8'));
-- escapes that Python decodes are fine
SELECT stdout FROM codeexec_run(E'print("a\\x00b" == "a" + chr(0) + "b")');

-- a missing helper is a server-side ERROR, not a result (exec mode: the
-- fork server was started with the postmaster's helper_path)
SET codeexec.spawn_mode = 'exec';
SET codeexec.helper_path = '/nonexistent/codeexec-helper';
SELECT codeexec_run('print(1)');
SELECT codeexec_validate('print(1)');
SET codeexec.helper_path = '/';
SELECT codeexec_run('print(1)', tag => 'srverr');
RESET codeexec.helper_path;
RESET codeexec.spawn_mode;
-- an admitted call that fails on the server side is still recorded (the
-- recorder commits it from the abort path), so history rows = attempts
SELECT status, success FROM codeexec_execution WHERE tag = 'srverr';

-- every spawn mode runs code (gvisor: through gVisor's runsc, which must
-- exist at codeexec.runsc_path)
SET codeexec.spawn_mode = 'forkserver';
SELECT status, stdout FROM codeexec_run('print(1)');
SET codeexec.spawn_mode = 'exec';
SELECT status, stdout FROM codeexec_run('print(1)');
SET codeexec.spawn_mode = 'gvisor';
SELECT status, stdout FROM codeexec_run('print(1)');
SELECT sandbox_mode FROM codeexec_execution ORDER BY id DESC LIMIT 1;
SET codeexec.runsc_path = '/nonexistent/runsc';
SELECT codeexec_run('print(1)');
RESET codeexec.runsc_path;
SET codeexec.spawn_mode = 'nonsense';
RESET codeexec.spawn_mode;

-- the codeexec.* prefix is reserved
SET codeexec.no_such_setting = 1;

-- history off: no row, no id
SET codeexec.history = off;
SELECT execution_id FROM codeexec_run('print(1)');
RESET codeexec.history;

-- failed argument checks record nothing
SELECT count(*) FROM codeexec_execution WHERE tag = 'argerr';
