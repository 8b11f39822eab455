"""tests.py - Django integration tests of codeexec (run by test/django/run.sh).

Every test talks to the live database run.sh prepared: calls go through
connection.cursor(), history is read through the ORM.  Aliases (settings.py):
default = the application role, admin = a codeexec_admin member, owner =
the extension owner.  Tests are plain unittest cases: Django's TestCase
would wrap each test in a transaction, but quota rows must be committed
before the recorder worker (another session) can see them.
"""
import datetime
import hashlib
import json
import unittest

from django.contrib.auth.models import AnonymousUser, User
from django.db import DatabaseError, connections, transaction
from django.db.models import Count
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from codeexec import views
from codeexec.aggregates import Percentile
from codeexec.models import Execution, Quota, RedactionPattern

APP_ROLE = connections.databases["default"]["USER"]
ADMIN_ROLE = connections.databases["admin"]["USER"]
OWNER_ROLE = connections.databases["owner"]["USER"]


def run(code, context=None, user_id=None, tag=None, using="default"):
    """codeexec_run through a raw cursor; the result row as a dict."""
    with connections[using].cursor() as cur:
        cur.execute("SELECT (r).* FROM codeexec_run(%s, %s::jsonb, user_id => %s, tag => %s) r",
                    [code, json.dumps(context or {}), user_id, tag])
        row = cur.fetchone()
        return dict(zip([c.name for c in cur.description], row))


def percentile_cont(values, fraction):
    """PostgreSQL's percentile_cont: linear interpolation over sorted values."""
    values = sorted(values)
    pos = (len(values) - 1) * fraction
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


class SchemaTests(unittest.TestCase):
    """The unmanaged models are exactly the extension's tables."""

    # Introspection of PG 15 identity columns in Django 3.2 reports the
    # underlying integer type; a text column may be a TextField or CharField.
    COMPATIBLE = {
        "BigAutoField": {"BigIntegerField", "BigAutoField"},
        "CharField": {"TextField", "CharField"},
    }

    def check_model(self, model, table, pk, base_table=None):
        """model maps onto `table`; when that is a view over `base_table`,
        keys and nullability are read from the table (views have neither)."""
        conn = connections["owner"]
        base_table = base_table or table
        self.assertEqual(model._meta.db_table, table)
        self.assertFalse(model._meta.managed)
        with conn.cursor() as cur:
            self.assertIn(table, conn.introspection.table_names(cur, include_views=True))
            description = {c.name: c for c in conn.introspection.get_table_description(cur, base_table)}
            view_columns = [c.name for c in conn.introspection.get_table_description(cur, table)]
            self.assertEqual(sorted(view_columns), sorted(description))
            self.assertEqual(conn.introspection.get_primary_key_column(cur, base_table), pk)
        fields = {f.column: f for f in model._meta.concrete_fields}
        self.assertEqual(sorted(fields), sorted(description), "columns of %s" % table)
        self.assertEqual(model._meta.pk.column, pk)
        for column, col in description.items():
            field = fields[column]
            db_type = conn.introspection.get_field_type(col.type_code, col)
            internal = field.get_internal_type()
            self.assertIn(db_type, self.COMPATIBLE.get(internal, {internal}),
                          "%s.%s is %s in the database, %s in the model"
                          % (table, column, db_type, internal))
            self.assertEqual(bool(col.null_ok), field.null,
                             "%s.%s nullability" % (table, column))

    def test_execution_table(self):
        self.check_model(Execution, "codeexec_execution", "id")

    def test_quota_table(self):
        self.check_model(Quota, "codeexec_quota", "user_id")

    def test_redaction_pattern_table(self):
        self.check_model(RedactionPattern, "codeexec_redactionpattern", "id",
                         base_table="codeexec_redaction_pattern")


class ExecutionTests(unittest.TestCase):
    """A call through the cursor, its history row through the ORM."""

    def test_run_then_read_execution(self):
        code = ('print(sum(context["xs"]))\n'
                'result = {"n": len(context["xs"]), "mean": sum(context["xs"]) / len(context["xs"])}')
        secret = "sk-ant-" + "a1B2" * 8
        before = timezone.now()
        r = run(code, {"xs": [1, 2, 3], "api_key": secret}, user_id=101, tag="django-orm")
        self.assertEqual(r["status"], "ok", r)
        self.assertTrue(r["success"])
        self.assertEqual(r["stdout"], "6\n")

        e = Execution.objects.get(pk=r["execution_id"])
        self.assertEqual((e.user_id, e.status, e.success, e.tag), (101, "ok", True, "django-orm"))
        self.assertEqual(e.role_name, APP_ROLE)
        self.assertEqual(e.code, code)
        self.assertEqual(e.code_sha256, hashlib.sha256(code.encode()).hexdigest())
        self.assertEqual(e.stdout, r["stdout"])
        # JSONField values arrive decoded
        self.assertEqual(e.result, {"n": 3, "mean": 2.0})
        self.assertEqual(e.result, json.loads(r["result"]))
        self.assertEqual(e.violations, [])
        self.assertIsInstance(e.redactions, dict)
        self.assertEqual(e.context["xs"], [1, 2, 3])
        self.assertNotIn(secret, json.dumps(e.context))
        # aware datetimes, float seconds
        self.assertTrue(timezone.is_aware(e.created_at))
        self.assertLessEqual(abs((e.created_at - before).total_seconds()), 60)
        self.assertIsInstance(e.execution_time_seconds, float)
        self.assertGreater(e.execution_time_seconds, 0.0)
        self.assertEqual(e.execution_time_seconds, r["execution_time_seconds"])
        self.assertIsInstance(e.cpu_time_seconds, float)
        self.assertGreater(e.peak_memory_kb, 0)
        self.assertGreater(e.timeout_ms, 0)
        self.assertGreater(e.memory_mb, 0)
        self.assertTrue(e.sandbox_mode)

    def test_violation_and_error_rows(self):
        v = run("import socket\n", user_id=102)
        self.assertEqual(v["status"], "violation")
        e = Execution.objects.get(pk=v["execution_id"])
        self.assertFalse(e.success)
        self.assertIsInstance(e.violations, list)
        self.assertTrue(e.violations)
        self.assertTrue(all({"rule", "message", "line"} <= set(x) for x in e.violations), e.violations)
        self.assertEqual(e.violations[0]["line"], 1)

        x = run("x = 1\ny = x / 0\n", user_id=102)
        e = Execution.objects.get(pk=x["execution_id"])
        self.assertEqual((e.status, e.error_type), ("error", "ZeroDivisionError"))
        self.assertIsNone(e.result)
        self.assertIn("line 2", e.stderr)

    def test_history_survives_rollback(self):
        with self.assertRaises(RuntimeError):
            with transaction.atomic():
                r = run("print('in a rolled back transaction')", user_id=103)
                # committed by the recorder: visible to the next statement
                self.assertTrue(Execution.objects.filter(pk=r["execution_id"]).exists())
                raise RuntimeError("roll back")
        self.assertEqual(Execution.objects.get(pk=r["execution_id"]).status, "ok")


class AnalyticsTests(unittest.TestCase):
    """History aggregated through the ORM."""

    USERS = (201, 202)

    @classmethod
    def setUpClass(cls):
        cls.ids = [run(c, user_id=u)["execution_id"] for u, c in (
            (201, "print(1)"), (201, "print(2)"), (201, "1/0"),
            (202, "import os"), (202, "def f(:\n  pass"))]

    def test_counts_by_user_and_status(self):
        rows = (Execution.objects.filter(user_id__in=self.USERS)
                .values("user_id", "status").annotate(n=Count("id"))
                .order_by("user_id", "status"))
        self.assertEqual([(r["user_id"], r["status"], r["n"]) for r in rows], [
            (201, "error", 1), (201, "ok", 2),
            (202, "syntax_error", 1), (202, "violation", 1)])

    def test_p95_time_per_user(self):
        rows = (Execution.objects.filter(user_id__in=self.USERS)
                .values("user_id")
                .annotate(calls=Count("id"), p95=Percentile("execution_time_seconds", 0.95))
                .order_by("user_id"))
        self.assertEqual(len(rows), 2)
        for row in rows:
            times = [t for t in Execution.objects.filter(user_id=row["user_id"])
                     .values_list("execution_time_seconds", flat=True) if t is not None]
            self.assertTrue(times)
            self.assertAlmostEqual(row["p95"], percentile_cont(times, 0.95), places=9)
        self.assertEqual([r["calls"] for r in rows], [3, 2])

    def test_percentile_fraction_is_checked(self):
        with self.assertRaises(ValueError):
            Percentile("execution_time_seconds", 1.5)


class QuotaTests(unittest.TestCase):
    """Quotas set by an admin role, enforced on the application's calls."""

    def test_set_quota_through_cursor(self):
        with connections["admin"].cursor() as cur:
            cur.execute("SELECT codeexec_set_quota(%s, %s)", [301, 2])
        statuses = [run("print(1)", user_id=301)["status"] for _ in range(3)]
        self.assertEqual(statuses, ["ok", "ok", "quota_exceeded"])
        refused = Execution.objects.filter(user_id=301, status="quota_exceeded").get()
        self.assertFalse(refused.success)
        self.assertIsNone(refused.stdout)
        q = Quota.objects.using("admin").get(pk=301)
        self.assertEqual((q.executions_limit, q.executions_used), (2, 2))
        self.assertEqual(q.period, datetime.timedelta(days=1))
        with connections["default"].cursor() as cur:
            cur.execute("SELECT codeexec_quota_status(%s)", [301])
            status = json.loads(cur.fetchone()[0])
        self.assertTrue(status["exceeded"])
        self.assertEqual(status["executions_remaining"], 0)

    def test_quota_through_model(self):
        q = Quota.objects.using("admin").create(user_id=302, executions_limit=1,
                                                period=datetime.timedelta(hours=1))
        self.assertEqual(q.period_end - q.period_start, datetime.timedelta(hours=1))
        self.assertEqual(run("print(1)", user_id=302)["status"], "ok")
        self.assertEqual(run("print(1)", user_id=302)["status"], "quota_exceeded")
        q.refresh_from_db()
        self.assertEqual(q.executions_used, 1)
        self.assertTrue(timezone.is_aware(q.period_start))
        # raising the limit through the model admits the next call
        q.executions_limit = 2
        q.save(update_fields=["executions_limit"])
        self.assertEqual(run("print(1)", user_id=302)["status"], "ok")

    def test_application_role_cannot_manage_quotas(self):
        with self.assertRaisesRegex(DatabaseError, "permission denied for table codeexec_quota"):
            Quota.objects.count()
        with self.assertRaisesRegex(DatabaseError, "permission denied for function codeexec_set_quota"):
            with connections["default"].cursor() as cur:
                cur.execute("SELECT codeexec_set_quota(%s, %s)", [303, 1000])


class RedactionPatternTests(unittest.TestCase):
    """Patterns added through the ORM by the admin role."""

    def tearDown(self):
        RedactionPattern.objects.using("admin").filter(name__startswith="django_").delete()

    def test_orm_pattern_applies_to_next_run(self):
        code = 'print("ticket TKT-123456 closed")'
        self.assertEqual(run(code, user_id=401)["stdout"], "ticket TKT-123456 closed\n")
        p = RedactionPattern.objects.using("admin").create(
            name="django_ticket", pattern=r"TKT-[0-9]{6}(?![0-9])",
            description="ticket numbers")
        self.assertIsNotNone(p.id)
        self.assertFalse(RedactionPattern.objects.using("admin").get(pk=p.id).builtin)
        r = run(code, user_id=401)
        self.assertEqual(r["stdout"], "ticket [REDACTED:django_ticket] closed\n")
        e = Execution.objects.get(pk=r["execution_id"])
        self.assertEqual(e.stdout, r["stdout"])
        self.assertIn("django_ticket", json.dumps(e.redactions))
        # disabling it through the ORM stops it
        p.enabled = False
        p.save(update_fields=["enabled"])
        self.assertEqual(run(code, user_id=401)["stdout"], "ticket TKT-123456 closed\n")

    def test_invalid_pattern_rejected_with_pcre2_message(self):
        with self.assertRaises(DatabaseError) as cm:
            with transaction.atomic(using="admin"):
                RedactionPattern.objects.using("admin").create(name="django_bad", pattern="(unclosed")
        self.assertIn("missing closing parenthesis", str(cm.exception))
        self.assertIn('invalid redaction pattern "django_bad"', str(cm.exception))
        self.assertEqual(cm.exception.__cause__.pgcode, "2201B")
        self.assertFalse(RedactionPattern.objects.using("admin").filter(name="django_bad").exists())

    def test_builtin_patterns_visible(self):
        names = set(RedactionPattern.objects.using("admin").filter(builtin=True)
                    .values_list("name", flat=True))
        self.assertTrue({"aws_access_key_id", "github_token", "credit_card"} <= names, names)


class RowLevelSecurityTests(unittest.TestCase):
    """A non-superuser role sees only its own history rows."""

    @classmethod
    def setUpClass(cls):
        cls.app_id = run("print('app')", user_id=501)["execution_id"]
        cls.admin_id = run("print('admin')", user_id=501, using="admin")["execution_id"]
        cls.owner_id = run("print('owner')", user_id=501, using="owner")["execution_id"]

    def test_application_role_sees_only_its_rows(self):
        self.assertEqual(set(Execution.objects.values_list("role_name", flat=True).distinct()),
                         {APP_ROLE})
        mine = set(Execution.objects.filter(user_id=501).values_list("id", flat=True))
        self.assertEqual(mine, {self.app_id})
        with self.assertRaises(Execution.DoesNotExist):
            Execution.objects.get(pk=self.owner_id)

    def test_admin_and_owner_see_every_row(self):
        for alias in ("admin", "owner"):
            rows = dict(Execution.objects.using(alias).filter(user_id=501)
                        .values_list("id", "role_name"))
            self.assertEqual(rows, {self.app_id: APP_ROLE, self.admin_id: ADMIN_ROLE,
                                    self.owner_id: OWNER_ROLE}, alias)
        self.assertGreater(Execution.objects.using("owner").count(), Execution.objects.count())

    def test_application_role_cannot_write_history(self):
        with self.assertRaisesRegex(DatabaseError, "permission denied"):
            with transaction.atomic():
                Execution.objects.filter(pk=self.app_id).update(status="ok", stdout="forged")
        self.assertEqual(Execution.objects.get(pk=self.app_id).stdout, "app\n")


class ViewTests(unittest.TestCase):
    """The documented view (docs/django.md) as a logged-in user."""

    def post(self, user, body):
        request = RequestFactory().post(reverse("codeexec-run"), data=body,
                                        content_type="application/json")
        request.user = user
        return views.run_code(request)

    def test_logged_in_user_runs_code(self):
        user = User(id=601, username="alice")
        resp = self.post(user, {"code": 'print("hi")\nresult = sum(context["xs"])',
                                "context": {"xs": [4, 5]}, "tag": "view"})
        self.assertEqual(resp.status_code, 200)
        data = json.loads(resp.content)
        self.assertEqual((data["status"], data["success"], data["stdout"], data["result"]),
                         ("ok", True, "hi\n", 9))
        e = Execution.objects.get(pk=data["execution_id"])
        self.assertEqual((e.user_id, e.tag, e.result), (601, "view", 9))

    def test_code_failure_is_a_result(self):
        data = json.loads(self.post(User(id=601, username="alice"),
                                    {"code": "open('/etc/passwd')"}).content)
        self.assertEqual(data["status"], "violation")
        self.assertFalse(data["success"])
        self.assertTrue(data["violations"])

    def test_history_survives_rolled_back_request(self):
        # what ATOMIC_REQUESTS does when a view's transaction is rolled back
        with transaction.atomic():
            resp = self.post(User(id=602, username="bob"), {"code": "print(2)"})
            transaction.set_rollback(True)
        data = json.loads(resp.content)
        self.assertEqual(Execution.objects.get(pk=data["execution_id"]).user_id, 602)

    def test_anonymous_and_bad_requests(self):
        before = Execution.objects.count()
        self.assertEqual(self.post(AnonymousUser(), {"code": "print(1)"}).status_code, 401)
        self.assertEqual(self.post(User(id=603, username="c"), {"context": {}}).status_code, 400)
        self.assertEqual(self.post(User(id=603, username="c"), {"code": 1}).status_code, 400)
        self.assertEqual(Execution.objects.count(), before)
