"""runner.py - Django test runner for the live codeexec database.

Django's DiscoverRunner would create test_<NAME>, where the extension's
tables would be missing (the models are unmanaged) and CREATE EXTENSION
would need a superuser on the default alias.  test/django/run.sh instead
creates a dedicated database with the extension and the roles, so this
runner uses it as it is, and ends with one line "N passed, N failed" in
which a skipped test counts as failed (the suite never skips).
"""
from django.test.runner import DiscoverRunner


class LiveDatabaseRunner(DiscoverRunner):
    """DiscoverRunner without test-database creation, with a summary line."""

    def setup_databases(self, **kwargs):
        return None

    def teardown_databases(self, old_config, **kwargs):
        pass

    def suite_result(self, suite, result, **kwargs):
        # A test that fails and then errors in tearDown is listed twice.
        bad = {test.id() for test, _ in (result.failures + result.errors + result.skipped
                                         + result.expectedFailures)}
        bad |= {test.id() for test in result.unexpectedSuccesses}
        for test, reason in result.skipped:
            print("skipped (counted as failed): %s: %s" % (test.id(), reason))
        print("%d passed, %d failed" % (result.testsRun - len(bad), len(bad)))
        return len(bad)
