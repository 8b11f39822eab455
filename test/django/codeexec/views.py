"""views.py - run LLM-written code for the logged-in user.

POST /run/ with a JSON body {"code": ..., "context": {...}, "tag": ...}.
The user's id is the quota and history key; the response carries what the
caller needs.  Failures of the code (errors, violations, timeouts, quota)
are results with a status, never exceptions.
"""
import json

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_POST

RUN_SQL = """
SELECT execution_id, success, status, stdout, result, error_type, error_message, violations
FROM codeexec_run(%s, %s::jsonb, user_id => %s, tag => %s)
"""


@require_POST
def run_code(request):
    if not request.user.is_authenticated:
        return JsonResponse({"error": "login required"}, status=401)
    try:
        body = json.loads(request.body)
        code = body["code"]
        context = body.get("context", {})
        tag = body.get("tag")
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "expected JSON with a 'code' string"}, status=400)
    if not isinstance(code, str) or not isinstance(context, dict) or \
            not (tag is None or isinstance(tag, str)):
        return JsonResponse({"error": "code must be a string, context an object"}, status=400)

    with connection.cursor() as cur:
        cur.execute(RUN_SQL, [code, json.dumps(context), request.user.id, tag])
        (execution_id, success, status, stdout, result, error_type, error_message,
         violations) = cur.fetchone()
    # Django 3.2 hands raw-cursor jsonb back as text: decode it here.
    return JsonResponse({
        "execution_id": execution_id,
        "success": success,
        "status": status,
        "stdout": stdout,
        "result": json.loads(result) if result is not None else None,
        "error_type": error_type,
        "error_message": error_message,
        "violations": json.loads(violations) if violations is not None else [],
    })
