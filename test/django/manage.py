#!/usr/bin/python3
"""manage.py - Django's command-line entry point for the codeexec test project.

Run with Debian's /usr/bin/python3 (python3-django 3.2, python3-psycopg2).
"""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "codeexec_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
