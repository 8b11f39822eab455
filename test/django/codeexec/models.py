"""models.py - unmanaged models over the tables the codeexec extension owns.

No db_table: the app label is codeexec, so Django's names
(codeexec_execution, codeexec_quota, and the view codeexec_redactionpattern over codeexec_redaction_pattern) are the
extension's.  The extension creates, migrates and writes these tables;
Django only reads history and edits quotas and redaction patterns.
"""
import datetime

from django.db import models
from django.utils import timezone

STATUSES = [(s, s) for s in (
    "ok", "error", "syntax_error", "violation", "timeout", "memory_limit",
    "killed", "cancelled", "quota_exceeded")]


class Execution(models.Model):
    """One codeexec_run call, written by the extension's recorder (read-only here)."""
    id = models.BigAutoField(primary_key=True)
    user_id = models.BigIntegerField(null=True)
    role_name = models.TextField()
    code = models.TextField()
    code_sha256 = models.TextField()
    context = models.JSONField()
    success = models.BooleanField()
    status = models.TextField(choices=STATUSES)
    stdout = models.TextField(null=True)
    stderr = models.TextField(null=True)
    result = models.JSONField(null=True)
    error_type = models.TextField(null=True)
    error_message = models.TextField(null=True)
    violations = models.JSONField(null=True)
    redactions = models.JSONField(null=True)
    output_truncated = models.BooleanField(default=False)
    execution_time_seconds = models.FloatField(null=True)
    cpu_time_seconds = models.FloatField(null=True)
    peak_memory_kb = models.BigIntegerField(null=True)
    timeout_ms = models.IntegerField()
    memory_mb = models.IntegerField()
    sandbox_mode = models.TextField()
    tag = models.TextField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        managed = False
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return "execution %d (%s)" % (self.id, self.status)


class Quota(models.Model):
    """A user's quota; writable by members of codeexec_admin.

    The database's defaults are not visible to Django 3.2, so the model
    repeats them; period_end follows period_start + period when not given.
    A negative executions_limit or a NULL cpu_seconds_limit is unlimited.
    """
    user_id = models.BigIntegerField(primary_key=True)
    executions_limit = models.IntegerField()
    executions_used = models.IntegerField(default=0)
    cpu_seconds_limit = models.FloatField(null=True, blank=True)
    cpu_seconds_used = models.FloatField(default=0)
    period = models.DurationField(default=datetime.timedelta(days=1))
    period_start = models.DateTimeField(default=timezone.now)
    period_end = models.DateTimeField(blank=True)

    class Meta:
        managed = False

    def save(self, *args, **kwargs):
        if self.period_end is None:
            self.period_end = self.period_start + self.period
        super().save(*args, **kwargs)

    def __str__(self):
        return "quota of user %d" % self.user_id


class RedactionPattern(models.Model):
    """A PCRE2 secret pattern; the database rejects one that does not compile."""
    id = models.BigAutoField(primary_key=True)
    name = models.TextField(unique=True)
    pattern = models.TextField()
    replacement = models.TextField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    validator = models.TextField(null=True, blank=True, choices=[("luhn", "luhn")])
    builtin = models.BooleanField(default=False)
    description = models.TextField(default="", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        managed = False

    def __str__(self):
        return self.name
