-- redact_patterns: every built-in pattern against at least two texts it
-- must redact and two it must leave alone.  Each row shows the real output
-- of codeexec_redact(); the final query lists any case whose outcome
-- differs from what the case says (so it must return no rows).
-- The secrets below are fake (documentation examples or made-up strings).
CREATE TEMP TABLE cases (id serial, pattern text, hit boolean, input text);
INSERT INTO cases (pattern, hit, input) VALUES
-- AWS access key ids
('aws_access_key_id', true,  'AKIAIOSFODNN7EXAMPLE'),
('aws_access_key_id', true,  'export AWS_ACCESS_KEY_ID=ASIAY34FZKBOKMUTVV7A;'),
('aws_access_key_id', false, 'AKIAIOSFODNN7EXAMPL is one character short'),
('aws_access_key_id', false, 'XAKIAIOSFODNN7EXAMPLE1 is part of a longer word'),
('aws_access_key_id', false, 'akiaiosfodnn7example is lower case'),
-- AWS secret access keys (need a name that says so)
('aws_secret_access_key', true,  'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'),
('aws_secret_access_key', true,  '{"SecretAccessKey": "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "Expiration": "x"}'),
('aws_secret_access_key', false, 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY on its own'),
('aws_secret_access_key', false, 'aws_secret_access_key = notlongenough'),
-- GitHub
('github_token', true,  'token ghp_' || repeat('Ab1', 12) || ' here'),
('github_token', true,  'gho_' || repeat('z9', 18)),
('github_token', true,  'GH_TOKEN=github_pat_11ABCDEFG0' || repeat('x', 12) || '_' || repeat('Q7', 29) || 'a'),
('github_token', false, 'ghp_short123'),
('github_token', false, 'myghp_' || repeat('Ab1', 12)),
('github_token', false, 'ghx_' || repeat('Ab1', 12)),
-- Anthropic
('anthropic_api_key', true,  'sk-ant-api03-' || repeat('aB3_-', 10)),
('anthropic_api_key', true,  'ANTHROPIC_API_KEY="sk-ant-admin01-' || repeat('Zz9', 10) || '"'),
('anthropic_api_key', false, 'sk-ant-short'),
('anthropic_api_key', false, 'task-ant-' || repeat('abc', 10)),
-- OpenAI
('openai_api_key', true,  'sk-' || repeat('T3BlbkFJ', 6)),
('openai_api_key', true,  'OPENAI_API_KEY=sk-proj-' || repeat('x_Y-9', 12)),
('openai_api_key', false, 'sk-short-key'),
('openai_api_key', false, 'risk-assessment-framework-document-v2'),
-- Slack
('slack_token', true,  'xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'),
('slack_token', true,  'slack: xoxp-11112222-33334444-55556666-abcdef123456'),
('slack_token', false, 'xoxz-1234567890-1234567890'),
('slack_token', false, 'xoxb-123'),
-- Stripe
('stripe_key', true,  'sk_live_' || repeat('4eC39HqLyjWD', 2)),
('stripe_key', true,  'pk_test_' || repeat('TYooMQauvdEDq54NiTphI7jx', 1)),
('stripe_key', true,  'rk_live_' || repeat('51H', 8)),
('stripe_key', false, 'sk_prod_' || repeat('4eC39HqLyjWD', 2)),
('stripe_key', false, 'sk_live_short'),
-- Google
('google_api_key', true,  'AIzaSyD' || repeat('a1B2c3D4e5', 3) || 'f6'),
('google_api_key', true,  'https://maps.example.com/api?key=AIza' || repeat('Q', 35) || '&x=1'),
('google_api_key', false, 'AIza' || repeat('Q', 20)),
('google_api_key', false, 'AIza' || repeat('Q', 36)),
-- private keys
('private_key', true,  E'before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onL\n-----END RSA PRIVATE KEY-----\nafter'),
('private_key', true,  '"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n"'),
('private_key', true,  E'cut off: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC'),
('private_key', false, E'-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----'),
('private_key', false, E'-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----'),
-- JWT
('jwt', true,  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'),
('jwt', true,  'Authorization: Bearer eyJhbGciOiJub25lIn0.eyJ1c2VyIjoiYWxpY2UifQ.'),
('jwt', false, 'eyJhbGciOiJIUzI1NiJ9 is a header only'),
('jwt', false, 'eyJ.eyJ.abc'),
-- US SSN
('us_ssn', true,  '123-45-6789'),
('us_ssn', true,  'SSN: 078-05-1120.'),
('us_ssn', false, '000-12-3456'),
('us_ssn', false, 'on 2024-01-15 call 555-123-4567'),
('us_ssn', false, '123-45-67890'),
-- payment cards (Luhn)
('credit_card', true,  'card 4111 1111 1111 1111 exp 12/30'),
('credit_card', true,  '5500-0000-0000-0004'),
('credit_card', true,  'amex 378282246310005, discover 6011111111111117'),
('credit_card', false, 'card 4111 1111 1111 1112 (check digit wrong)'),
('credit_card', false, 'ts 1700000000000 id 12345678901234 pi 3.14159265358979323846'),
('credit_card', false, 'phone +1 555 123 4567, +44 20 7946 0958'),
('credit_card', false, 'Luhn-valid but not a card prefix: 1234567812345670'),
('credit_card', false, 'too long: 4111 1111 1111 1111 1111 1111'),
-- passwords in URLs
('url_password', true,  'postgres://bob:hunter2@db.example.com:5432/app'),
('url_password', true,  'redis://:s3cr%40t@localhost:6379/0 and https://u:p@example.org/'),
('url_password', false, 'https://example.org/path?x=1&y=a:b@c'),
('url_password', false, 'https://user@example.org and mailto:bob@example.org'),
('url_password', false, 'http://localhost:8080/path');

SELECT c.id, c.pattern, r.redacted, r.redactions
FROM cases c, codeexec_redact(c.input) r
ORDER BY c.id;

-- mismatches: a positive case without a hit for its pattern, or a negative
-- case where anything was redacted
SELECT c.id, c.pattern, c.hit, r.redactions
FROM cases c, codeexec_redact(c.input) r
WHERE c.hit IS DISTINCT FROM (r.redactions ? c.pattern)
   OR (NOT c.hit AND r.redactions <> '{}');

-- every built-in pattern has >= 2 positive and >= 2 negative cases
SELECT p.name, count(*) FILTER (WHERE c.hit) AS pos, count(*) FILTER (WHERE NOT c.hit) AS neg
FROM codeexec_redaction_pattern p LEFT JOIN cases c ON c.pattern = p.name
WHERE p.builtin
GROUP BY p.name
HAVING count(*) FILTER (WHERE c.hit) < 2 OR count(*) FILTER (WHERE NOT c.hit) < 2;
