-- Privileges: nothing of the extension is granted to PUBLIC; the role
-- codeexec_admin (created if missing, NOLOGIN) may read all history, manage
-- quotas and redaction patterns; other roles see only their own history
-- rows through row-level security.  docs/history-and-quotas.md has the
-- GRANT recipe for an application role.
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'codeexec_admin') THEN
		CREATE ROLE codeexec_admin NOLOGIN;
	END IF;
END
$$;

-- Revoke PUBLIC's default EXECUTE on every function of the extension, and
-- any PUBLIC grant on its tables and sequences, whatever other files of
-- this script defined.
DO $$
DECLARE
	obj record;
BEGIN
	FOR obj IN
		SELECT d.classid, d.objid
		FROM pg_catalog.pg_depend d
		JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
		WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
		  AND e.extname = 'codeexec' AND d.deptype = 'e'
	LOOP
		IF obj.classid = 'pg_catalog.pg_proc'::regclass THEN
			EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', obj.objid::regprocedure);
		ELSIF obj.classid = 'pg_catalog.pg_class'::regclass THEN
			IF (SELECT relkind FROM pg_catalog.pg_class WHERE oid = obj.objid) = 'S' THEN
				EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM PUBLIC', obj.objid::regclass);
			ELSIF (SELECT relkind FROM pg_catalog.pg_class WHERE oid = obj.objid) IN ('r', 'v', 'p') THEN
				EXECUTE format('REVOKE ALL ON TABLE %s FROM PUBLIC', obj.objid::regclass);
			END IF;
		END IF;
	END LOOP;
END
$$;

-- Row-level security on history: a role sees its own rows; the table
-- owner (not subject to RLS) and members of codeexec_admin see all.  Rows
-- are written only by the recorder worker (a superuser), so no INSERT
-- policy is needed and none is granted.
ALTER TABLE codeexec_execution ENABLE ROW LEVEL SECURITY;
CREATE POLICY codeexec_execution_own ON codeexec_execution
	FOR SELECT
	USING (role_name = current_user
		   OR pg_catalog.pg_has_role(current_user, 'codeexec_admin', 'MEMBER'));

-- Quotas are keyed by application user id, not by role: only admins read
-- or change them directly (others use the functions they are granted).
ALTER TABLE codeexec_quota ENABLE ROW LEVEL SECURITY;
CREATE POLICY codeexec_quota_admin ON codeexec_quota
	USING (pg_catalog.pg_has_role(current_user, 'codeexec_admin', 'MEMBER'))
	WITH CHECK (pg_catalog.pg_has_role(current_user, 'codeexec_admin', 'MEMBER'));

GRANT SELECT ON codeexec_execution TO codeexec_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON codeexec_quota TO codeexec_admin;
GRANT EXECUTE ON FUNCTION codeexec_set_quota(bigint, integer, interval, double precision)
	TO codeexec_admin;
GRANT EXECUTE ON FUNCTION codeexec_quota_status(bigint) TO codeexec_admin;
-- An operator verifies the sandbox on their server (docs/security.md).
GRANT EXECUTE ON FUNCTION codeexec_isolation() TO codeexec_admin;

-- Redaction patterns are configuration the admin role manages (an admin
-- site's RedactionPattern model); the BEFORE trigger still rejects a
-- pattern PCRE2 cannot compile.
GRANT SELECT, INSERT, UPDATE, DELETE ON codeexec_redaction_pattern, codeexec_redactionpattern
	TO codeexec_admin;
