-- history_checks: the C functions behind two CHECK constraints of
-- codeexec_execution since 0.2.0 (history_checks.c); upgrade.sql shows
-- that the constraints accept and reject the same rows as 0.1.0's
SELECT s, codeexec_is_status(s)
FROM unnest(ARRAY['ok', 'error', 'syntax_error', 'violation', 'timeout', 'memory_limit',
				  'killed', 'cancelled', 'quota_exceeded', 'sandbox_error', 'helper_error',
				  'OK', 'ok ', '', NULL]) AS s;
SELECT label, codeexec_is_sha256_hex(sha)
FROM (VALUES ('64 hex digits', repeat('0123456789abcdef', 4)), ('63', repeat('a', 63)),
			 ('65', repeat('a', 65)), ('uppercase', repeat('A', 64)),
			 ('not hex', repeat('g', 63) || 'a'), ('empty', ''), ('null', NULL)) AS t(label, sha);
-- nothing is granted to PUBLIC
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
FROM pg_proc p WHERE p.proname IN ('codeexec_is_sha256_hex', 'codeexec_is_status') ORDER BY 1;
