-- redact_custom: patterns a DBA adds, changes and disables; invalid
-- patterns; cache invalidation in the same session and transaction; named
-- `secret` groups; validators; fail-closed behaviour; raw bytes; jsonb.
-- Custom pattern with its own replacement, visible to the next statement.
SELECT redacted FROM codeexec_redact('employee EMP-123456 filed it');
INSERT INTO codeexec_redaction_pattern (name, pattern, replacement)
VALUES ('employee_id', 'EMP-[0-9]{6}', '<employee>');
SELECT * FROM codeexec_redact('employee EMP-123456 filed it, EMP-654321 too');
-- UPDATE of the pattern takes effect at once
UPDATE codeexec_redaction_pattern SET pattern = 'EMP-[0-9]{3}(?![0-9])' WHERE name = 'employee_id';
SELECT * FROM codeexec_redact('employee EMP-123456 and EMP-777');
-- NULL replacement names the pattern
UPDATE codeexec_redaction_pattern SET replacement = NULL WHERE name = 'employee_id';
SELECT redacted FROM codeexec_redact('EMP-777');
-- disabled: left alone; re-enabled: redacted again
UPDATE codeexec_redaction_pattern SET enabled = false WHERE name = 'employee_id';
SELECT * FROM codeexec_redact('EMP-777');
UPDATE codeexec_redaction_pattern SET enabled = true WHERE name = 'employee_id';
SELECT * FROM codeexec_redact('EMP-777');
-- built-in rows can be disabled too
UPDATE codeexec_redaction_pattern SET enabled = false WHERE name = 'us_ssn';
SELECT * FROM codeexec_redact('123-45-6789');
UPDATE codeexec_redaction_pattern SET enabled = true WHERE name = 'us_ssn';
SELECT * FROM codeexec_redact('123-45-6789');
-- inside a transaction, and undone by ROLLBACK
BEGIN;
INSERT INTO codeexec_redaction_pattern (name, pattern) VALUES ('project_code', 'PRJ-[A-Z]{4}');
SELECT * FROM codeexec_redact('PRJ-ABCD');
ROLLBACK;
SELECT * FROM codeexec_redact('PRJ-ABCD');
-- the compiled patterns are cached: built once, rebuilt only after a change
-- (the DEBUG1 line marks each compilation)
SET client_min_messages = debug1;
SELECT redacted FROM codeexec_redact('EMP-777');
SELECT redacted FROM codeexec_redact('EMP-777');
SELECT count(*) FROM generate_series(1, 50) i, codeexec_redact('EMP-777 ' || i);
UPDATE codeexec_redaction_pattern SET description = 'staff' WHERE name = 'employee_id';
SELECT redacted FROM codeexec_redact('EMP-777');
SELECT redacted FROM codeexec_redact('EMP-777');
RESET client_min_messages;
-- DELETE
DELETE FROM codeexec_redaction_pattern WHERE name = 'employee_id';
SELECT * FROM codeexec_redact('EMP-777');
-- a group named "secret": only it is replaced
INSERT INTO codeexec_redaction_pattern (name, pattern)
VALUES ('password_assignment', '(?i)\bpassword\s*[=:]\s*(?<secret>\S+)');
SELECT * FROM codeexec_redact('user=alice password = swordfish; next');
-- a user pattern with the luhn validator
INSERT INTO codeexec_redaction_pattern (name, pattern, validator)
VALUES ('imei', 'IMEI:?\s*(?<secret>[0-9]{15})\b', 'luhn');
SELECT * FROM codeexec_redact('IMEI 490154203237518 ok, IMEI 490154203237519 not luhn');
-- patterns that can match the empty string do not loop and change nothing
INSERT INTO codeexec_redaction_pattern (name, pattern) VALUES ('empty_ok', 'q*');
SELECT * FROM codeexec_redact('abc xx def');
DELETE FROM codeexec_redaction_pattern WHERE name = 'empty_ok';
-- leftmost match wins; overlapping matches are not replaced twice
SELECT * FROM codeexec_redact('postgres://app:ghp_' || repeat('Ab1', 12) || '@db/x');
-- many hits are counted
SELECT redactions FROM codeexec_redact(repeat('AKIAIOSFODNN7EXAMPLE ', 1000));
SELECT length(redacted) FROM codeexec_redact(repeat('AKIAIOSFODNN7EXAMPLE ', 1000));
-- invalid patterns are rejected with PCRE2's message and offset
INSERT INTO codeexec_redaction_pattern (name, pattern) VALUES ('bad_paren', 'a(b');
INSERT INTO codeexec_redaction_pattern (name, pattern) VALUES ('bad_range', 'x[z-a]');
INSERT INTO codeexec_redaction_pattern (name, pattern) VALUES ('bad_quant', '*abc');
UPDATE codeexec_redaction_pattern SET pattern = '(?<secret>abc' WHERE name = 'imei';
INSERT INTO codeexec_redaction_pattern (name, pattern) VALUES ('bad_escape', '\C');
INSERT INTO codeexec_redaction_pattern (name, pattern, validator) VALUES ('bad_validator', 'x', 'mod97');
\set VERBOSITY terse
INSERT INTO codeexec_redaction_pattern (name, pattern) VALUES ('Bad Name', 'x');
\set VERBOSITY default
SELECT count(*) FROM codeexec_redaction_pattern WHERE name LIKE 'bad%';
-- fail closed: when a pattern exceeds PCRE2's match limit, the output from
-- the last completed replacement on is withheld (with a WARNING)
INSERT INTO codeexec_redaction_pattern (name, pattern) VALUES ('catastrophic', '(a+)+(b|c)');
SELECT * FROM codeexec_redact('keep this ' || repeat('a', 40));
DELETE FROM codeexec_redaction_pattern WHERE name = 'catastrophic';
-- raw bytes: invalid UTF-8 becomes U+FFFD, NUL is kept, secrets still found
SELECT * FROM codeexec_redact_bytes('\x41ff00c328'::bytea || convert_to(' AKIAIOSFODNN7EXAMPLE', 'UTF8'));
SELECT * FROM codeexec_redact_bytes('\xedb080'::bytea || convert_to('123-45-6789', 'UTF8') || '\xf4908080'::bytea);
-- non-ASCII text around secrets is kept intact
SELECT * FROM codeexec_redact('ключ: AKIAIOSFODNN7EXAMPLE — 日本 123-45-6789 ✓');
-- jsonb: strings, keys and card-like numbers, at any depth; other values kept
SELECT * FROM codeexec_redact_jsonb('{"a": [1, 2.5, true, null, "sk-ant-api03-abcdefghijklmnopqrstuvwxyz"],
  "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": {"card": 4111111111111111, "n": 4111111111111112,
  "deep": [[{"ssn": "my ssn is 123-45-6789"}]]}, "ts": 1700000000000}');
SELECT * FROM codeexec_redact_jsonb('"AKIAIOSFODNN7EXAMPLE"');
SELECT * FROM codeexec_redact_jsonb('4111111111111111');
SELECT * FROM codeexec_redact_jsonb('[]');
-- two keys that redact to the same text collapse to one (the last value)
SELECT * FROM codeexec_redact_jsonb('{"AKIAIOSFODNN7EXAMPLE": 1, "AKIAI44QH8DHBEXAMPLE": 2}');
-- NULL in, NULL out
SELECT * FROM codeexec_redact(NULL);
-- pg_dump keeps user rows (not the built-in ones) and the id sequence
SELECT c.relname, e.cond
FROM pg_extension x,
     unnest(x.extconfig, x.extcondition) AS e(oid, cond)
     JOIN pg_class c ON c.oid = e.oid
WHERE x.extname = 'codeexec' ORDER BY 1;
-- nothing is granted to PUBLIC
CREATE ROLE regress_redact_user;
SET ROLE regress_redact_user;
SELECT * FROM codeexec_redact('x');
SELECT count(*) FROM codeexec_redaction_pattern;
INSERT INTO codeexec_redaction_pattern (name, pattern) VALUES ('sneaky', '.');
RESET ROLE;
DROP ROLE regress_redact_user;
DELETE FROM codeexec_redaction_pattern WHERE NOT builtin;
