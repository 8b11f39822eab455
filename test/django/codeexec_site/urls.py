"""urls.py - routes of the test project: the code-execution view."""
from django.urls import path

from codeexec import views

urlpatterns = [
    path("run/", views.run_code, name="codeexec-run"),
]
