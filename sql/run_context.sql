-- run_context: context in, result out.
\pset null '<null>'

-- nested structures, NULLs, unicode, integers beyond 64 bits
SELECT status, result FROM codeexec_run('result = context',
  '{"a": [1, {"b": null}, [true, false]], "u": "héllo ☃ 😀 \u00e9", "big": 123456789012345678901234567890, "neg": -7}');

-- numbers that are not floats keep their value through arithmetic
SELECT result FROM codeexec_run('result = context["n"] + 1', '{"n": 9007199254740993}');
SELECT result FROM codeexec_run('import decimal; result = str(decimal.Decimal("0.1") + decimal.Decimal("0.2"))');
SELECT result FROM codeexec_run('import fractions; result = str(fractions.Fraction(1, 3) * 3)');

-- NULL context means {}; context is a dict
SELECT status, result FROM codeexec_run('result = [isinstance(context, dict), len(context)]', NULL);
SELECT result FROM codeexec_run('result = sorted(context.keys())', '{"b": 1, "a": 2}');

-- result shapes: scalar, null (not bound), string with unicode, nested
SELECT result FROM codeexec_run('result = 3.5');
SELECT result FROM codeexec_run('x = 1');
SELECT result FROM codeexec_run('result = "naïve ✓"');
SELECT result FROM codeexec_run('result = {"k": [1, [2, [3, None]]]}');

-- unicode in stdout and in code
SELECT stdout FROM codeexec_run('print("日本語", "Ωmega")');

-- a deeply nested context is a clean result or a clean error, never a crash
SELECT status, error_type
  FROM codeexec_run('result = 1', (repeat('{"a": ', 5000) || '1' || repeat('}', 5000))::jsonb);
SELECT status, result FROM codeexec_run('result = 1', (repeat('{"a": ', 300) || '1' || repeat('}', 300))::jsonb);
-- a result nested deeper than the backend accepts (256) is an error of the code
SELECT status, error_type, error_message
  FROM codeexec_run('result = context', (repeat('{"a": ', 300) || '1' || repeat('}', 300))::jsonb);
SELECT status, jsonb_typeof(result)
  FROM codeexec_run('result = context', (repeat('{"a": ', 200) || '1' || repeat('}', 200))::jsonb);

-- context must be an object
SELECT codeexec_run('result = 1', '[1, 2]');
SELECT codeexec_run('result = 1', '"text"');
