-- upgrade: a database with codeexec 0.1.0 and history in it updates to
-- the current version (ALTER EXTENSION codeexec UPDATE), its history
-- table then has the CHECK constraints of a fresh installation (this
-- database's), and they accept and reject the same rows as before
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'codeexec_execution'::regclass AND contype = 'c' ORDER BY conname;
CREATE DATABASE codeexec_upgrade;
\c codeexec_upgrade
CREATE EXTENSION codeexec VERSION '0.1.0';
SELECT status FROM codeexec_run('print(1)');
-- which constraint, if any, rejects each row (tried in a subtransaction)
CREATE FUNCTION check_cases() RETURNS TABLE (label text, verdict text) AS $$
DECLARE
	c record;
BEGIN
	FOR c IN SELECT * FROM (VALUES
		('valid row', repeat('0123456789abcdef', 4), 'ok', true),
		('another status', repeat('a', 64), 'quota_exceeded', false),
		('63 digits', repeat('a', 63), 'ok', true),
		('65 digits', repeat('a', 65), 'ok', true),
		('uppercase hex', repeat('A', 64), 'ok', true),
		('not hex', repeat('g', 64), 'ok', true),
		('unknown status', repeat('a', 64), 'running', false),
		('status case', repeat('a', 64), 'OK', false),
		('status prefix', repeat('a', 64), 'time', false),
		('success without ok', repeat('a', 64), 'error', true)) AS v(label, sha, st, ok)
	LOOP
		label := c.label;
		BEGIN
			INSERT INTO codeexec_execution (role_name, code, code_sha256, context, success,
				status, timeout_ms, memory_mb, sandbox_mode)
			VALUES ('x', 'x', c.sha, '{}', c.ok, c.st, 1, 1, 'exec');
			verdict := 'accepted';
			RAISE EXCEPTION 'undo' USING ERRCODE = 'P0001';
		EXCEPTION
			WHEN check_violation THEN
				verdict := 'rejected: ' || substring(SQLERRM FROM 'constraint "([^"]+)"');
			WHEN raise_exception THEN
				NULL;
		END;
		RETURN NEXT;
	END LOOP;
END $$ LANGUAGE plpgsql;
CREATE TABLE verdicts_0_1_0 AS SELECT * FROM check_cases();
ALTER EXTENSION codeexec UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'codeexec';
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'codeexec_execution'::regclass AND contype = 'c' ORDER BY conname;
SELECT v.label, v.verdict, v.verdict = n.verdict AS same_as_0_1_0
FROM verdicts_0_1_0 v JOIN check_cases() n USING (label) ORDER BY v.label;
-- the row made under 0.1.0 passed the new checks; calls keep recording
SELECT status FROM codeexec_run('print(2)');
SELECT code, status FROM codeexec_execution ORDER BY id;
\c contrib_regression
DROP DATABASE codeexec_upgrade WITH (FORCE);
