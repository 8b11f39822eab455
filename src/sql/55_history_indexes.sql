-- Analytics over a time window across all users (per-user counts and p95
-- time, status over time) need created_at as a leading index column; the
-- per-user and per-status indexes are in 15_execution.sql.  Plans on 1M
-- rows: docs/history-and-quotas.md.
CREATE INDEX codeexec_execution_created_idx ON codeexec_execution (created_at);
