-- redact_bench.sql: throughput of secret redaction on 1 MiB of realistic
-- output (log lines, JSON, numbers, dates, phone numbers, ids) with a
-- secret in about one line in 50.  Run by redact_bench.sh; prints MB/s for
-- all enabled patterns, for no patterns (the copy alone) and per pattern.
\set ON_ERROR_STOP 1
\pset footer off
SET client_min_messages = warning;

CREATE TEMP TABLE bench_text AS
SELECT left(string_agg(line, E'\n'), 1048576) AS t
FROM (
  SELECT CASE
    WHEN i % 50 = 7  THEN format('%s WARN leaked AWS key AKIA%s in config', d, upper(substr(md5(i::text), 1, 16)))
    WHEN i % 50 = 17 THEN format('%s INFO card 4111 1111 1111 1111 charged %s.00 USD', d, i % 97)
    WHEN i % 50 = 27 THEN format('%s DEBUG dsn=postgres://app:%s@db%s.internal:5432/app', d, substr(md5(i::text), 1, 12), i % 7)
    WHEN i % 50 = 37 THEN format('{"token": "ghp_%s", "user": "u%s"}', substr(md5(i::text) || md5((i+1)::text), 1, 36), i)
    WHEN i % 5 = 0   THEN format('{"id": %s, "ts": %s, "phone": "+1 555 %s %s", "amount": %s.%s, "tags": ["a", "b"]}',
                                 1000000 + i, 1700000000000 + i, 100 + i % 900, 1000 + i % 9000, i % 1000, i % 100)
    ELSE format('%s INFO request id=%s user=user%s took %s ms path=/api/v1/items?page=%s status=200',
                d, 123456 + i, i % 100, (i % 300) / 10.0, i % 20)
  END AS line
  FROM generate_series(1, 20000) AS i,
       LATERAL (SELECT (timestamp '2024-01-15 12:00:00' + i * interval '1 second')::text AS d) AS dd
) lines;

SELECT octet_length(t) AS bytes FROM bench_text;

-- time n calls of codeexec_redact on the text; MB/s = n MiB / seconds
CREATE FUNCTION pg_temp.bench(n int) RETURNS TABLE(mib_per_s numeric, hits jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  t text := (SELECT b.t FROM bench_text b);
  start timestamptz;
  r record;
BEGIN
  PERFORM codeexec_redact(t);   -- warm the pattern cache and JIT
  start := clock_timestamp();
  FOR i IN 1..n LOOP
    SELECT * INTO r FROM codeexec_redact(t);
  END LOOP;
  mib_per_s := round((n * octet_length(t) / 1048576.0 /
                      extract(epoch FROM clock_timestamp() - start))::numeric, 1);
  hits := r.redactions;
  RETURN NEXT;
END $$;

-- warm-up: the first calls of a PL/pgSQL function use custom plans that
-- copy the 1 MiB argument, which would be charged to the first figure
SELECT FROM pg_temp.bench(8);

\echo all enabled patterns (1 MiB, 20 runs):
SELECT * FROM pg_temp.bench(20);

BEGIN;
UPDATE codeexec_redaction_pattern SET enabled = false;
\echo no patterns (copy and UTF-8 check only):
SELECT mib_per_s FROM pg_temp.bench(20);
ROLLBACK;

\echo one pattern at a time:
CREATE TEMP TABLE per_pattern (name text, mib_per_s numeric);
DO $$
DECLARE p record; speed numeric;
BEGIN
  FOR p IN SELECT name FROM codeexec_redaction_pattern WHERE enabled ORDER BY id LOOP
    -- a subtransaction per pattern, rolled back so the table is left as it was
    BEGIN
      UPDATE codeexec_redaction_pattern SET enabled = (name = p.name);
      PERFORM pg_temp.bench(2);   -- warm-up for this pattern set
      SELECT b.mib_per_s INTO speed FROM pg_temp.bench(5) b;
      RAISE EXCEPTION 'undo' USING ERRCODE = 'P0001';
    EXCEPTION WHEN raise_exception THEN NULL;
    END;
    INSERT INTO per_pattern VALUES (p.name, speed);
  END LOOP;
END $$;
SELECT * FROM per_pattern;
