-- setup.sql - the roles of a Django deployment, granted exactly as
-- docs/history-and-quotas.md ("GRANT recipe for a Django deployment")
-- says.  Run by run.sh as the extension owner in the test database.

-- the application's login role
CREATE ROLE codeexec_django_app LOGIN;
GRANT USAGE ON SCHEMA public TO codeexec_django_app;
GRANT EXECUTE ON FUNCTION codeexec_run(text, jsonb, bigint, integer, integer,
	integer, text[], boolean, boolean, text) TO codeexec_django_app;
GRANT EXECUTE ON FUNCTION codeexec_validate(text, text[]) TO codeexec_django_app;
GRANT SELECT ON codeexec_execution TO codeexec_django_app;
GRANT EXECUTE ON FUNCTION codeexec_quota_status(bigint) TO codeexec_django_app;

-- the admin site's login role: a member of codeexec_admin; it may also run
-- code (its calls are recorded under its own role name)
CREATE ROLE codeexec_django_admin LOGIN;
GRANT USAGE ON SCHEMA public TO codeexec_django_admin;
GRANT codeexec_admin TO codeexec_django_admin;
GRANT EXECUTE ON FUNCTION codeexec_run(text, jsonb, bigint, integer, integer,
	integer, text[], boolean, boolean, text) TO codeexec_django_admin;
