-- redact_run: redaction end to end through codeexec_run: however the code
-- prints a secret, wherever it ends up (stdout, stderr, error_message,
-- result, stored history), at the output cap, and who may switch it off.
\pset null '<null>'

-- one character per write (many small writes, each its own print call)
SELECT stdout, redactions FROM codeexec_run($$
k = "AKIA" + "IOSFODNN7EXAMPLE"
for c in k:
    print(c, end='')
print()
$$);

-- two halves in two writes with a flush between them
SELECT stdout, redactions FROM codeexec_run($$
print("key=ghp_" + "Ab1" * 6, end="", flush=True)
print("Cd2" * 6 + " done")
$$);

-- past the first 64 KiB (the response reaches the backend in several pipe
-- reads): redaction sees the whole stream at once
SELECT octet_length(stdout) AS bytes,
       position('[REDACTED:aws_access_key_id]' in stdout) AS marker_at,
       position('AKIA' in stdout) = 0 AS no_key, redactions
  FROM codeexec_run($$print("x" * 65530 + "AKIA" + "IOSFODNN7EXAMPLE" + "y" * 10)$$);

-- across print calls and lines: a PEM block printed line by line, and a
-- card number printed group by group
SELECT stdout, redactions FROM codeexec_run($$
print("-----BEGIN RSA PRIVATE KEY-----")
for i in range(3):
    print("MIIEowIBAAKCAQEA" + str(i) * 48)
print("-----END RSA PRIVATE KEY-----")
for g in ["4111", "1111", "1111", "1111"]:
    print(g, end=" ")
print("<- card; not a card: 4111 1111 1111 1112")
$$);

-- counts per pattern name; dates, phone numbers and ids are left alone
SELECT stdout, redactions FROM codeexec_run($$
print("AKIAIOSFODNN7EXAMPLE and AKIAI44QH8DHBEXAMPLE")
print("ssn 078-05-1120, card 5555-5555-5555-4444")
print("date 2024-01-15, phone +1 555 123 4567, id 1700000000123")
$$);

-- the code sees the real context; what it prints is redacted
SELECT stdout, redactions
  FROM codeexec_run('print(context["dsn"])', '{"dsn": "postgres://app:hunter2@db/x"}');

-- in an exception message (error_message) and in its traceback (stderr);
-- the source line shown in the traceback holds no complete token
SELECT status, error_type, error_message, redactions
  FROM codeexec_run($$raise ValueError("token ghp_" + "Ab1" * 12)$$);
SELECT stderr,
       position('ghp_Ab1' in stderr) = 0 AS stderr_has_no_token,
       position('[REDACTED:github_token]' in stderr) > 0 AS stderr_redacted
  FROM codeexec_run($$raise ValueError("token ghp_" + "Ab1" * 12)$$);

-- inside nested result JSON: strings, keys, and a card as a JSON number
SELECT result, redactions FROM codeexec_run($$
result = {"a": [{"k": "sk-ant-api03-" + "x" * 30, "n": 42}],
          "card": 4111111111111111,
          "ts": 1700000000123,
          "by_token": {"xoxb-" + "1" * 12: "v"}}
$$);

-- the stored row: context, stdout and redactions as returned; a secret only
-- in the context is not counted as output (redactions {})
SELECT execution_id
  FROM codeexec_run('print("ok")', '{"dsn": "postgres://u:hunter2@db/x", "n": 1}') \gset
SELECT context, stdout, redactions FROM codeexec_execution WHERE id = :execution_id;
SELECT execution_id FROM codeexec_run($$print("AKIA" + "IOSFODNN7EXAMPLE")$$) \gset
SELECT stdout, redactions FROM codeexec_execution WHERE id = :execution_id;

-- The output cap.  The helper captures max_output_bytes + 64 KiB; the
-- backend redacts, then keeps at most max_output_bytes.
-- A key straddling the cap is replaced whole before the cut: the output is
-- truncated and holds no prefix of the key (not even 'AKIA').
SELECT output_truncated, octet_length(stdout) AS bytes, right(stdout, 40) AS tail,
       redactions, position('AKIA' in stdout) = 0 AS no_partial_key
  FROM codeexec_run($$print('x' * 90 + 'AKIA' + 'IOSFODNN7EXAMPLE')$$, max_output_bytes => 100);
-- the same without redaction: the cut leaves a partial key, which is why
-- redaction must come first
SELECT output_truncated, right(stdout, 10) AS tail, redactions
  FROM codeexec_run($$print('x' * 90 + 'AKIA' + 'IOSFODNN7EXAMPLE')$$,
                    max_output_bytes => 100, redact => false);
-- a key cut off by the end of the capture (max_output + 64 KiB), after a
-- 64 KiB private key that shrinks to a short marker: nothing from beyond the
-- cap may move under it, so the half key 'AKIAIOSFODN' stays out
SELECT output_truncated, stdout, redactions,
       stdout NOT LIKE '%AKIA%' AS no_partial_key
  FROM codeexec_run($$
key = "-----BEGIN PRIVATE KEY-----\n" + "QUJD" * 16400 + "\n-----END PRIVATE KEY-----\n"
head = "x" * 10 + key
print(head + " " * (1000 + 65536 - len(head) - 11) + "AKIA" + "IOSFODNN7EXAMPLE", end="")
$$, max_output_bytes => 1000);
-- a URL password straddling the cap: scheme and user kept, password replaced
SELECT output_truncated, stdout, redactions
  FROM codeexec_run($$print("postgres://app:" + "s3cr3t" * 5 + "@db/x")$$, max_output_bytes => 20);
-- a replacement longer than its secret can push the output over the cap:
-- the marker is cut, never the secret
SELECT output_truncated, stdout, redactions
  FROM codeexec_run($$print("078-05-1120")$$, max_output_bytes => 15);
-- a secret shorter than the cap but replaced by a shorter marker: not truncated
SELECT output_truncated, stdout, redactions
  FROM codeexec_run($$print("ghp_" + "a" * 60)$$, max_output_bytes => 70);
-- what comes after a straddling secret is beyond the cap and dropped
SELECT output_truncated, stdout, redactions
  FROM codeexec_run($$print("ghp_" + "a" * 40 + " after the token")$$, max_output_bytes => 50);
-- error_message gets the same treatment as stdout
SELECT output_truncated, error_message, redactions
  FROM codeexec_run($$raise RuntimeError('y' * 30 + 'AKIA' + 'IOSFODNN7EXAMPLE')$$,
                    max_output_bytes => 40);

-- redact => false by a superuser: not redacted, redactions NULL
SELECT stdout, redactions FROM codeexec_run($$print("AKIA" + "IOSFODNN7EXAMPLE")$$, redact => false);
-- nothing found: {} (not NULL)
SELECT stdout, redactions FROM codeexec_run($$print("nothing to hide")$$);
-- codeexec.redact = off (superuser-only): nothing redacted, redactions NULL,
-- the stored context is kept as given
SET codeexec.redact = off;
SELECT execution_id
  FROM codeexec_run($$print("AKIA" + "IOSFODNN7EXAMPLE")$$, '{"dsn": "postgres://u:hunter2@db/x"}') \gset
SELECT context, stdout, redactions FROM codeexec_execution WHERE id = :execution_id;
RESET codeexec.redact;

-- a non-superuser with the documented grant (docs/history-and-quotas.md)
CREATE ROLE codeexec_redact_user;
GRANT EXECUTE ON FUNCTION codeexec_run(text, jsonb, bigint, integer, integer, integer, text[], boolean, boolean, text) TO codeexec_redact_user;
SET ROLE codeexec_redact_user;
-- redaction applies without any grant on the pattern table
SELECT stdout, redactions FROM codeexec_run($$print("AKIA" + "IOSFODNN7EXAMPLE")$$);
SELECT stdout, redactions FROM codeexec_run($$print("AKIA" + "IOSFODNN7EXAMPLE")$$, redact => true);
-- may not switch it off, neither per call nor by the GUC; the refused call
-- runs nothing and leaves no history row (the two calls above do)
SELECT stdout FROM codeexec_run($$print("redact_false_marker")$$, redact => false);
SET codeexec.redact = off;
RESET ROLE;
SELECT count(*) FILTER (WHERE code LIKE '%redact_false_marker%') AS refused_recorded,
       count(*) AS calls_recorded
  FROM codeexec_execution WHERE role_name = 'codeexec_redact_user';
-- once a superuser has turned the policy off, redact => false weakens nothing
SET codeexec.redact = off;
SET ROLE codeexec_redact_user;
SELECT stdout, redactions FROM codeexec_run($$print("AKIA" + "IOSFODNN7EXAMPLE")$$, redact => false);
RESET ROLE;
RESET codeexec.redact;
REVOKE ALL ON FUNCTION codeexec_run(text, jsonb, bigint, integer, integer, integer, text[], boolean, boolean, text) FROM codeexec_redact_user;
DROP ROLE codeexec_redact_user;
