"""settings.py - a minimal Django project over the codeexec extension.

The database is the live one the test command started: PGHOST, PGPORT and
PGDATABASE come from the environment.  Three aliases use the three kinds of
role a deployment has (docs/django.md, docs/history-and-quotas.md):

- default: the application's login role (EXECUTE on codeexec_run, SELECT on
  history; row-level security shows it only its own calls);
- admin: a login role that is a member of codeexec_admin (quotas, redaction
  patterns, all history), as used by an admin site;
- owner: the extension owner (the superuser the test command runs as).
"""
import os

SECRET_KEY = "codeexec-test-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "codeexec_site.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "codeexec",
]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
]


def _database(user):
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("PGDATABASE", "codeexec_django"),
        "USER": user,
        "HOST": os.environ.get("PGHOST", ""),
        "PORT": os.environ.get("PGPORT", ""),
        # Each view runs in one transaction; codeexec's history and quota
        # writes are committed by its recorder worker regardless.
        "ATOMIC_REQUESTS": True,
    }


DATABASES = {
    "default": _database(os.environ.get("CODEEXEC_DJANGO_APP_ROLE", "codeexec_django_app")),
    "admin": _database(os.environ.get("CODEEXEC_DJANGO_ADMIN_ROLE", "codeexec_django_admin")),
    "owner": _database(os.environ.get("PGUSER", "postgres")),
}

# The extension's tables already exist and the database is the live one:
# the runner neither creates nor destroys a test database (see runner.py).
TEST_RUNNER = "codeexec_site.runner.LiveDatabaseRunner"
