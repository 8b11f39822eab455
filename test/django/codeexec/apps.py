"""apps.py - the app labelled codeexec, so its models map onto codeexec_<model>."""
from django.apps import AppConfig


class CodeexecConfig(AppConfig):
    name = "codeexec"
    label = "codeexec"
    default_auto_field = "django.db.models.BigAutoField"
