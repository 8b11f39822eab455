-- Privileges: nothing for PUBLIC; a role sees only its own history rows
-- unless it is a member of codeexec_admin (or owns the table).
\set VERBOSITY terse
SELECT rolcanlogin FROM pg_roles WHERE rolname = 'codeexec_admin';

-- No PUBLIC grant on any object of the extension.
SELECT count(*) AS public_grants
FROM pg_depend d
JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'codeexec')
  AND d.deptype = 'e' AND a.grantee = 0;
SELECT count(*) AS public_execute
FROM pg_depend d
JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'codeexec')
  AND d.deptype = 'e' AND a.grantee = 0;

CREATE ROLE regress_cx_alice;
CREATE ROLE regress_cx_bob;
CREATE ROLE regress_cx_auditor IN ROLE codeexec_admin;
GRANT EXECUTE ON FUNCTION codeexec_run(text, jsonb, bigint, integer, integer, integer, text[], boolean, boolean, text)
	TO regress_cx_alice, regress_cx_bob;
GRANT SELECT ON codeexec_execution TO regress_cx_alice, regress_cx_bob;

-- Without a grant, a role can neither run nor read.
CREATE ROLE regress_cx_nobody;
SET ROLE regress_cx_nobody;
SELECT codeexec_run('print(1)');
SELECT count(*) FROM codeexec_execution;
RESET ROLE;

SET ROLE regress_cx_alice;
SELECT (codeexec_run('print(1)', tag => 'rls')).status;
SELECT (codeexec_run('print(1)', tag => 'rls')).status;
RESET ROLE;
SET ROLE regress_cx_bob;
SELECT (codeexec_run('print(1)', tag => 'rls')).status;
-- bob sees his one row, not alice's
SELECT role_name, count(*) FROM codeexec_execution WHERE tag = 'rls' GROUP BY 1 ORDER BY 1;
-- and cannot change history or quotas, nor set a quota
UPDATE codeexec_execution SET status = 'ok' WHERE tag = 'rls';
DELETE FROM codeexec_execution;
SELECT codeexec_set_quota(1, 10);
SELECT codeexec_quota_status(1);
RESET ROLE;
SET ROLE regress_cx_alice;
SELECT role_name, count(*) FROM codeexec_execution WHERE tag = 'rls' GROUP BY 1 ORDER BY 1;
RESET ROLE;
-- a member of codeexec_admin sees everything and manages quotas
SET ROLE regress_cx_auditor;
SELECT role_name, count(*) FROM codeexec_execution WHERE tag = 'rls' GROUP BY 1 ORDER BY 1;
SELECT codeexec_set_quota(1005, 10);
SELECT codeexec_quota_status(1005) ->> 'executions_limit' AS limit_set;
RESET ROLE;

-- an application role granted codeexec_quota_status can show a quota
-- without any access to the quota table
GRANT EXECUTE ON FUNCTION codeexec_quota_status(bigint) TO regress_cx_bob;
SET ROLE regress_cx_bob;
SELECT codeexec_quota_status(1005) ->> 'executions_limit' AS limit_seen;
SELECT count(*) FROM codeexec_quota;
RESET ROLE;
-- a role given SELECT on the quota table still sees no rows unless admin
GRANT SELECT ON codeexec_quota TO regress_cx_bob;
SET ROLE regress_cx_bob;
SELECT count(*) AS quota_rows_seen FROM codeexec_quota;
RESET ROLE;
REVOKE ALL ON codeexec_quota FROM regress_cx_bob;
REVOKE ALL ON FUNCTION codeexec_quota_status(bigint) FROM regress_cx_bob;

REVOKE ALL ON codeexec_execution FROM regress_cx_alice, regress_cx_bob;
REVOKE ALL ON FUNCTION codeexec_run(text, jsonb, bigint, integer, integer, integer, text[], boolean, boolean, text)
	FROM regress_cx_alice, regress_cx_bob;
DROP ROLE regress_cx_alice, regress_cx_bob, regress_cx_auditor, regress_cx_nobody;
