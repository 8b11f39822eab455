/*-------------------------------------------------------------------------
 *
 * run.c
 *	  The SQL entry points codeexec_run and codeexec_validate: argument
 *	  resolution, admission (size limits, quota, concurrency slot), one
 *	  helper round trip, output validation, recording.
 *
 * Order of a codeexec_run call: encoding and argument checks (ERROR) ->
 * size limits (ERROR) -> quota_admit (false: status quota_exceeded) ->
 * concurrency slot -> helper -> CPU charge (sent with the history row
 * when history is on, else quota_charge) -> redact + truncate ->
 * history_record.  Every call that passes the argument checks records one
 * row (when codeexec.history is on) and returns its id.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "access/htup_details.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "args.h"
#include "codeexec.h"
#include "execute.h"
#include "history.h"
#include "recorder.h"
#include "imports.h"
#include "output.h"
#include "quota.h"
#include "redact.h"
#include "wire.h"

PG_FUNCTION_INFO_V1(codeexec_run);
PG_FUNCTION_INFO_V1(codeexec_validate);

/* codeexec_run's argument positions */
enum
{
	RUN_ARG_CODE,
	RUN_ARG_CONTEXT,
	RUN_ARG_USER_ID,
	RUN_ARG_TIMEOUT_MS,
	RUN_ARG_MEMORY_MB,
	RUN_ARG_MAX_OUTPUT,
	RUN_ARG_ALLOWED_IMPORTS,
	RUN_ARG_VALIDATE,
	RUN_ARG_REDACT,
	RUN_ARG_TAG
};

#define RUN_RESULT_NATTS 14

/* The code argument as a C string; ERROR when NULL or too large. */
static char *
run_code_arg(FunctionCallInfo fcinfo)
{
	text	   *code;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("code must not be NULL")));
	code = PG_GETARG_TEXT_PP(0);
	args_check_size("code", VARSIZE_ANY_EXHDR(code), codeexec_max_code_bytes,
					"codeexec.max_code_bytes");
	return text_to_cstring(code);
}

/* The allowed_imports argument at argno resolved against the GUC list. */
static char *
run_imports_arg(FunctionCallInfo fcinfo, int argno)
{
	return imports_resolve(PG_ARGISNULL(argno) ? NULL : PG_GETARG_ARRAYTYPE_P(argno));
}

/* The context argument: NULL means {}; anything but an object is an ERROR. */
static Jsonb *
run_context_arg(FunctionCallInfo fcinfo)
{
	Jsonb	   *context;

	if (PG_ARGISNULL(RUN_ARG_CONTEXT))
		return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	context = PG_GETARG_JSONB_P(RUN_ARG_CONTEXT);
	if (!JB_ROOT_IS_OBJECT(context) || JB_ROOT_IS_SCALAR(context))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("context must be a JSON object"),
				 errhint("Wrap the value in an object, for example '{\"data\": [1, 2]}'.")));
	return context;
}

/* Build the codeexec_result row. */
static Datum
run_result_datum(FunctionCallInfo fcinfo, bool has_id, int64 id, const CallOutcome *o,
				 Jsonb *redactions)
{
	TupleDesc	tupdesc;
	Datum		values[RUN_RESULT_NATTS];
	bool		nulls[RUN_RESULT_NATTS];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE ||
		tupdesc->natts != RUN_RESULT_NATTS)
		elog(ERROR, "codeexec_run must return codeexec_result");
	tupdesc = BlessTupleDesc(tupdesc);
	memset(nulls, false, sizeof(nulls));

	values[0] = Int64GetDatum(id);
	nulls[0] = !has_id;
	values[1] = BoolGetDatum(strcmp(o->status, WIRE_STATUS_OK) == 0);
	values[2] = CStringGetTextDatum(o->status);
#define RUN_TEXT(i, s) do { nulls[i] = (s) == NULL; values[i] = (s) ? CStringGetTextDatum(s) : (Datum) 0; } while (0)
#define RUN_JSONB(i, j) do { nulls[i] = (j) == NULL; values[i] = (j) ? JsonbPGetDatum(j) : (Datum) 0; } while (0)
	RUN_TEXT(3, o->stdout_text);
	RUN_TEXT(4, o->stderr_text);
	RUN_JSONB(5, o->result);
	RUN_TEXT(6, o->error_type);
	RUN_TEXT(7, o->error_message);
	RUN_JSONB(8, o->violations);
	RUN_JSONB(9, redactions);
	values[10] = BoolGetDatum(o->output_truncated);
	values[11] = Float8GetDatum(o->execution_time_seconds);
	values[12] = Float8GetDatum(o->cpu_time_seconds);
	nulls[12] = o->cpu_time_seconds < 0;
	values[13] = Int64GetDatum(o->peak_memory_kb);
	nulls[13] = o->peak_memory_kb < 0;
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/*
 * Fill the request parameters; adds WIRE_FLAG_REQUIRE_ISOLATION when
 * codeexec.require_isolation is on.
 */
static void
run_params(ExecParams *params, const char *code, const char *context_json,
		   const CallLimits *limits, const char *imports, int64 flags)
{
	memset(params, 0, sizeof(*params));
	params->code = code;
	params->code_len = strlen(code);
	params->context_json = context_json;
	params->context_len = strlen(context_json);
	params->timeout_ms = limits->timeout_ms;
	params->memory_mb = limits->memory_mb;
	params->max_output_bytes = limits->max_output_bytes;
	params->allowed_imports = imports;
	params->flags = flags |
		(codeexec_require_isolation ? WIRE_FLAG_REQUIRE_ISOLATION : 0);
}

/*
 * The part of a history row known before the call runs: who, what, with
 * which limits.  `context` is the one to store (already redacted when
 * redaction is on).
 */
static void
run_record_init(ExecRecord *rec, FunctionCallInfo fcinfo, const char *code, Jsonb *context,
				const CallLimits *limits)
{
	memset(rec, 0, sizeof(*rec));
	rec->has_user_id = !PG_ARGISNULL(RUN_ARG_USER_ID);
	rec->user_id = rec->has_user_id ? PG_GETARG_INT64(RUN_ARG_USER_ID) : 0;
	rec->code = code;
	rec->context = context;
	rec->timeout_ms = limits->timeout_ms;
	rec->memory_mb = limits->memory_mb;
	rec->sandbox_mode = codeexec_spawn_mode_name(codeexec_spawn_mode);
	rec->tag = PG_ARGISNULL(RUN_ARG_TAG) ? NULL :
		text_to_cstring(PG_GETARG_TEXT_PP(RUN_ARG_TAG));
}

/*
 * Tell history.c what is about to run, so that a call killed or cancelled
 * from admission on still leaves a 'cancelled' row (committed by the
 * recorder from the abort or exit path).
 */
static void
run_history_begin(FunctionCallInfo fcinfo, const char *code, Jsonb *context,
				  const CallLimits *limits)
{
	ExecRecord	rec;

	run_record_init(&rec, fcinfo, code, context, limits);
	rec.status = "cancelled";
	rec.cpu_time_seconds = -1;
	rec.peak_memory_kb = -1;
	history_begin(&rec);
}

/*
 * Record the call in codeexec_execution (history.h); returns the row id.
 * context must already be redacted.
 */
static int64
run_record(FunctionCallInfo fcinfo, const char *code, Jsonb *context,
		   const CallLimits *limits, const CallOutcome *out, Jsonb *redactions)
{
	ExecRecord	rec;

	run_record_init(&rec, fcinfo, code, context, limits);
	rec.status = out->status;
	rec.success = strcmp(out->status, WIRE_STATUS_OK) == 0;
	rec.stdout_text = out->stdout_text;
	rec.stderr_text = out->stderr_text;
	rec.result = out->result;
	rec.error_type = out->error_type;
	rec.error_message = out->error_message;
	rec.violations = out->violations;
	rec.redactions = redactions;
	rec.output_truncated = out->output_truncated;
	rec.execution_time_seconds = out->execution_time_seconds;
	rec.cpu_time_seconds = out->cpu_time_seconds;
	rec.peak_memory_kb = out->peak_memory_kb;
	rec.charge_cpu_seconds = out->cpu_time_seconds;	/* < 0: nothing ran */
	return history_record(&rec);
}

/*
 * codeexec_run(code, context, user_id, timeout_ms, memory_mb,
 *				max_output_bytes, allowed_imports, validate, redact, tag)
 *		RETURNS codeexec_result
 */
Datum
codeexec_run(PG_FUNCTION_ARGS)
{
	static const int limit_args[3] = {RUN_ARG_TIMEOUT_MS, RUN_ARG_MEMORY_MB, RUN_ARG_MAX_OUTPUT};
	char	   *code;
	Jsonb	   *context;
	Jsonb	   *stored_context;
	char	   *context_json;
	CallLimits	limits;
	ExecParams	params;
	CallOutcome out;
	RedactSession *session = NULL;
	Jsonb	   *redactions = NULL;
	bool		has_user_id = !PG_ARGISNULL(RUN_ARG_USER_ID);
	int64		user_id = has_user_id ? PG_GETARG_INT64(RUN_ARG_USER_ID) : 0;
	bool		validate = PG_ARGISNULL(RUN_ARG_VALIDATE) || PG_GETARG_BOOL(RUN_ARG_VALIDATE);
	bool		redact = redact_resolve_enabled(PG_ARGISNULL(RUN_ARG_REDACT),
												PG_ARGISNULL(RUN_ARG_REDACT) ||
												PG_GETARG_BOOL(RUN_ARG_REDACT));
	int64		id = 0;

	recorder_require_preloaded();
	args_check_encoding();
	code = run_code_arg(fcinfo);
	context = run_context_arg(fcinfo);
	args_resolve_limits(fcinfo, limit_args, &limits);

	context_json = JsonbToCString(NULL, &context->root, VARSIZE(context));
	args_check_size("context", strlen(context_json), codeexec_max_context_bytes,
					"codeexec.max_context_bytes");
	run_params(&params, code, context_json, &limits,
			   run_imports_arg(fcinfo, RUN_ARG_ALLOWED_IMPORTS),
			   (validate ? WIRE_FLAG_VALIDATE : 0) |
			   (codeexec_unsafe_no_py_guards ? WIRE_FLAG_NO_PY_GUARDS : 0));

	/*
	 * The context stored in history is redacted in a session of its own, so
	 * that secrets the caller passed in are not counted as leaked by the
	 * code.  NULL redactions means the call was not redacted at all, as
	 * opposed to {} (nothing found).
	 */
	stored_context = context;
	if (redact)
	{
		session = redact_begin();
		stored_context = redact_jsonb(redact_begin(), context);
	}

	memset(&out, 0, sizeof(out));
	if (codeexec_history)
		run_history_begin(fcinfo, code, stored_context, &limits);
	if (!quota_admit(has_user_id, user_id))
	{
		out.status = "quota_exceeded";
		out.error_message = psprintf("user %lld has used up the execution quota",
									 (long long) user_id);
		out.cpu_time_seconds = -1;
		out.peak_memory_kb = -1;
	}
	else
	{
		execute_helper_in_slot(&params, &out);
		/* with history on, the charge travels with the history row */
		if (codeexec_history)
			history_charge(out.cpu_time_seconds);
		else
			quota_charge(has_user_id, user_id, Max(out.cpu_time_seconds, 0));
		output_apply(&out, session, limits.max_output_bytes);
	}
	if (session != NULL)
		redactions = redact_counts(session);

	if (codeexec_history)
		id = run_record(fcinfo, code, stored_context, &limits, &out, redactions);
	PG_RETURN_DATUM(run_result_datum(fcinfo, codeexec_history, id, &out, redactions));
}

/* Push one "key": value pair onto a jsonb object being built. */
static void
run_push_pair(JsonbParseState **state, const char *key, JsonbValue *value)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(state, WJB_KEY, &k);
	pushJsonbValue(state, WJB_VALUE, value);
}

/* {"valid": ..., "violations": ...} */
static Jsonb *
run_validate_result(bool valid, Jsonb *violations)
{
	JsonbParseState *state = NULL;
	JsonbValue	v;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	v.type = jbvBool;
	v.val.boolean = valid;
	run_push_pair(&state, "valid", &v);
	v.type = jbvBinary;
	v.val.binary.data = &violations->root;
	v.val.binary.len = VARSIZE(violations) - VARHDRSZ;
	run_push_pair(&state, "violations", &v);
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

/* A one-element violations array for a syntax error the helper did not list. */
static Jsonb *
run_syntax_violation(const CallOutcome *out)
{
	const char *msg = out->error_message ? out->error_message : "invalid syntax";
	StringInfoData buf;
	char	   *json;

	initStringInfo(&buf);
	escape_json(&buf, msg);
	json = psprintf("[{\"rule\": \"syntax_error\", \"message\": %s, "
					"\"line\": null, \"col\": null, \"severity\": \"error\"}]", buf.data);
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/*
 * codeexec_validate(code, allowed_imports) RETURNS jsonb: syntax and AST
 * rules only, in the helper, with the default limits.  Not recorded.
 */
Datum
codeexec_validate(PG_FUNCTION_ARGS)
{
	static const int limit_args[3] = {-1, -1, -1};
	char	   *code;
	CallLimits	limits;
	ExecParams	params;
	CallOutcome out;
	Jsonb	   *violations;

	args_check_encoding();
	code = run_code_arg(fcinfo);
	args_resolve_limits(fcinfo, limit_args, &limits);

	run_params(&params, code, "{}", &limits, run_imports_arg(fcinfo, 1),
			   WIRE_FLAG_VALIDATE | WIRE_FLAG_VALIDATE_ONLY);

	execute_helper_in_slot(&params, &out);

	if (strcmp(out.status, WIRE_STATUS_OK) == 0 ||
		strcmp(out.status, WIRE_STATUS_VIOLATION) == 0)
	{
		violations = out.violations ? out.violations :
			DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("[]")));
		PG_RETURN_JSONB_P(run_validate_result(strcmp(out.status, WIRE_STATUS_OK) == 0 &&
											  JB_ROOT_COUNT(violations) == 0,
											  violations));
	}
	if (strcmp(out.status, WIRE_STATUS_SYNTAX_ERROR) == 0)
	{
		violations = out.violations && JB_ROOT_COUNT(out.violations) > 0 ?
			out.violations : run_syntax_violation(&out);
		PG_RETURN_JSONB_P(run_validate_result(false, violations));
	}
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("codeexec helper failed during validation"),
			 errdetail("Status %s: %s.", out.status,
					   out.error_message ? out.error_message : "no message"),
			 errhint("Raise codeexec.timeout_ms or codeexec.memory_mb if the code is very large.")));
	PG_RETURN_NULL();
}
