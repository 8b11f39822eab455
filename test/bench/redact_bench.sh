#!/usr/bin/env bash
# redact_bench.sh - benchmark of secret redaction (docs/redaction.md quotes
# its figures).  Needs a running cluster with codeexec installed; uses the
# usual libpq environment (PGHOST, PGPORT, ...), e.g.
#   export PGPORT=5444 PGBIN=...; source test/lib/cluster.sh; cluster_start
#   cluster_psql -c 'create extension codeexec'; bash test/bench/redact_bench.sh
# Prints: the machine, MB/s of codeexec_redact on 1 MiB of realistic text
# with all built-in patterns, with none, per pattern, and (when codeexec_run
# exists) the share of a 1 MiB codeexec_run's time that redaction takes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
psql_() { psql -X -v ON_ERROR_STOP=1 "$@"; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
psql_ -q -f "$here/redact_bench.sql"

if [ "$(psql_ -Atc "select count(*) from pg_proc where proname = 'codeexec_run'")" != 0 ]; then
	echo "end to end: codeexec_run printing 1 MiB (10 runs each; superuser, so redact => false is allowed)"
	psql_ -q <<'SQL'
\pset footer off
CREATE FUNCTION pg_temp.run_ms(do_redact boolean, n int) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE start timestamptz; r record;
BEGIN
  start := clock_timestamp();
  FOR i IN 1..n LOOP
    SELECT * INTO r FROM codeexec_run(
      'line = "2024-01-15 12:00:00 INFO request id=123456 user=u1 AKIAIOSFODNN7EXAMPLE card 4111 1111 1111 1111\n"' || E'\n' ||
      'print(line * (1048576 // len(line)), end="")',
      redact => do_redact, max_output_bytes => 1048576);
  END LOOP;
  RETURN round((extract(epoch FROM clock_timestamp() - start) * 1000 / n)::numeric, 1);
END $$;
SELECT pg_temp.run_ms(true, 1);  -- warm up
-- The difference of two noisy run times is within the noise on a shared
-- machine, so the share is also computed directly: codeexec_redact on the
-- exact text the run prints, timed in the same session.
CREATE FUNCTION pg_temp.redact_ms(n int) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE start timestamptz; line text; t text; r record;
BEGIN
  line := E'2024-01-15 12:00:00 INFO request id=123456 user=u1 AKIAIOSFODNN7EXAMPLE card 4111 1111 1111 1111\n';
  t := repeat(line, 1048576 / length(line));
  start := clock_timestamp();
  FOR i IN 1..n LOOP
    SELECT * INTO r FROM codeexec_redact(t);
  END LOOP;
  RETURN round((extract(epoch FROM clock_timestamp() - start) * 1000 / n)::numeric, 1);
END $$;
WITH t AS (SELECT pg_temp.run_ms(true, 10) AS with_ms, pg_temp.run_ms(false, 10) AS without_ms,
                  pg_temp.redact_ms(10) AS redact_ms)
SELECT with_ms, without_ms,
       round(100 * (with_ms - without_ms) / with_ms, 1) AS difference_pct,
       redact_ms, round(100 * redact_ms / with_ms, 1) AS redaction_share_pct,
       round(1048576 / 1048576.0 / (redact_ms / 1000), 0) AS redact_mib_per_s
FROM t;
SQL
fi
