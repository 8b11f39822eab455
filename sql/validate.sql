-- validate: codeexec_validate, and one positive and one negative case per
-- AST rule (rule names from docs/helper.md).
\pset null '<null>'

SELECT codeexec_validate('x = 1');
SELECT codeexec_validate('print(sum([1, 2]))');
SELECT codeexec_validate(E'def f(:\n    pass');
SELECT codeexec_validate('import os');

-- rule_cases: code that must trip the rule, and similar code that must not
CREATE TEMP TABLE rule_cases (rule text, bad text, good text);
INSERT INTO rule_cases VALUES
  ('import_not_allowed', 'import subprocess', 'import math'),
  ('import_not_allowed', 'from os import path', 'from math import floor'),
  ('forbidden_name', 'eval("1")', 'evaluate = 1'),
  ('forbidden_name', 'exec("x = 1")', 'executed = True'),
  ('forbidden_name', 'compile("1", "f", "eval")', 'compiled = 1'),
  ('forbidden_name', 'open("/etc/passwd")', 'opened = 1'),
  ('forbidden_name', '__import__("os")', 'imported = 1'),
  ('forbidden_name', 'globals()', 'g = {}'),
  ('forbidden_name', 'locals()', 'l = {}'),
  ('forbidden_name', 'vars()', 'v = {}'),
  ('forbidden_name', 'breakpoint()', 'b = 1'),
  ('forbidden_name', 'input()', 'i = 1'),
  ('forbidden_name', 'getattr(1, "real")', '(1).real'),
  ('private_attribute', '().__class__', '(1).real'),
  ('private_attribute', 'x = [].__class__.__bases__', 'x = [].copy()'),
  ('private_name', '__builtins_x__ = 1', 'builtins_x = 1'),
  ('forbidden_attribute', 'def g():\n    yield 1\ng().gi_frame', 'def g():\n    yield 1\nlist(g())'),
  ('format_string_attribute', '"{0.__class__}".format(1)', '"{0}".format(1)'),
  ('constant_too_large', 'x = 9**9**9', 'x = 9**9'),
  ('constant_too_large', 'x = "a" * 10**10', 'x = "a" * 10'),
  ('format_string_dynamic', 'f = "{}"\nf.format(1)', 'f = "{}".format(1)'),
  ('max_depth', 'x = ' || repeat('-', 300) || '1', 'x = ' || repeat('-', 10) || '1'),
  ('too_complex', 'x = 1' || repeat(' + 1', 60000), 'x = 1' || repeat(' + 1', 100));

SELECT rule,
       (SELECT bool_or(v->>'rule' = rule)
          FROM jsonb_array_elements(codeexec_validate(replace(bad, '\n', E'\n'))->'violations') v) AS bad_caught,
       codeexec_validate(replace(good, '\n', E'\n'))->'valid' AS good_valid
  FROM rule_cases ORDER BY rule, bad;

-- violation fields
SELECT jsonb_object_keys(codeexec_validate('import os')->'violations'->0) ORDER BY 1;
SELECT codeexec_validate('x = 1
y = eval("2")')->'violations'->0->>'line' AS line;

-- per-call allowlist narrows the server list
SELECT codeexec_validate('import math', ARRAY['json'])->'valid';
SELECT codeexec_validate('import math', ARRAY['math'])->'valid';
SELECT codeexec_validate('import os', ARRAY['os']);

-- codeexec_validate records no history row
SELECT count(*) FROM codeexec_execution WHERE code = 'import subprocess';
