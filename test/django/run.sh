#!/usr/bin/env bash
# run.sh - the Django integration suite: a Django 3.2 project (Debian's
# python3-django and python3-psycopg2) whose unmanaged models map onto the
# extension's tables.  Uses the running cluster (PGHOST/PGPORT/PGUSER from
# the environment, as test/run.sh exports them) in a database of its own,
# created here with the extension and the deployment's roles (setup.sql).
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export PGDATABASE=codeexec_django
export CODEEXEC_DJANGO_APP_ROLE=codeexec_django_app
export CODEEXEC_DJANGO_ADMIN_ROLE=codeexec_django_admin

psql_admin() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 "$@"; }

cleanup() {
	psql_admin -d postgres -c "DROP DATABASE IF EXISTS codeexec_django WITH (FORCE)" \
		-c "DROP ROLE IF EXISTS codeexec_django_app" \
		-c "DROP ROLE IF EXISTS codeexec_django_admin" >/dev/null
}

cleanup
trap cleanup EXIT
psql_admin -d postgres -c "CREATE DATABASE codeexec_django" &&
	psql_admin -c "CREATE EXTENSION codeexec" -f "$here/setup.sql" >/dev/null ||
	{ echo "0 passed, 1 failed"; exit 1; }

# Debian's interpreter: the one with python3-django (not a pyenv python3).
cd "$here" && PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 manage.py test --noinput -v 2 codeexec
