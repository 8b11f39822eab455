/*-------------------------------------------------------------------------
 *
 * redact_sql.c
 *	  SQL-callable parts of redaction: codeexec_redact() and
 *	  codeexec_redact_jsonb() for DBAs and tests, and the two trigger
 *	  functions on codeexec_redaction_pattern (reject patterns PCRE2 cannot
 *	  compile; invalidate every backend's compiled-pattern cache on change).
 *
 *-------------------------------------------------------------------------
 */
#include "redact_internal.h"

#include "redact.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/rel.h"

/* Form the (redacted, redactions) record both SQL functions return. */
static Datum
redact_sql_result(FunctionCallInfo fcinfo, Datum redacted, RedactSession *session)
{
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	values[0] = redacted;
	values[1] = JsonbPGetDatum(redact_counts(session));
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/*
 * Redact a text or bytea argument (same varlena layout) and return the
 * (redacted, redactions) record with the redacted value of the same type.
 */
static Datum
redact_sql_varlena(FunctionCallInfo fcinfo, struct varlena *input)
{
	RedactSession *session = redact_begin();
	size_t		out_len;
	char	   *out = redact_text(session, VARDATA_ANY(input),
								  VARSIZE_ANY_EXHDR(input), &out_len);
	struct varlena *result = palloc(VARHDRSZ + out_len);

	SET_VARSIZE(result, VARHDRSZ + out_len);
	memcpy(VARDATA(result), out, out_len);
	return redact_sql_result(fcinfo, PointerGetDatum(result), session);
}

/*
 * codeexec_redact(input text, OUT redacted text, OUT redactions jsonb):
 * the text with every enabled pattern applied, and the hits per pattern.
 */
PG_FUNCTION_INFO_V1(codeexec_redact);
Datum
codeexec_redact(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(redact_sql_varlena(fcinfo, PG_GETARG_VARLENA_PP(0)));
}

/*
 * codeexec_redact_bytes(input bytea, OUT redacted bytea, OUT redactions
 * jsonb): the same over raw bytes, which may hold invalid UTF-8 or NULs
 * (what a helper could send); invalid sequences come back as U+FFFD.
 */
PG_FUNCTION_INFO_V1(codeexec_redact_bytes);
Datum
codeexec_redact_bytes(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(redact_sql_varlena(fcinfo, PG_GETARG_VARLENA_PP(0)));
}

/*
 * codeexec_redact_jsonb(input jsonb, OUT redacted jsonb, OUT redactions
 * jsonb): redact_jsonb() as codeexec_run applies it to results and context.
 */
PG_FUNCTION_INFO_V1(codeexec_redact_jsonb);
Datum
codeexec_redact_jsonb(PG_FUNCTION_ARGS)
{
	Jsonb	   *input = PG_GETARG_JSONB_P(0);
	RedactSession *session = redact_begin();
	Jsonb	   *out = redact_jsonb(session, input);

	PG_RETURN_DATUM(redact_sql_result(fcinfo, JsonbPGetDatum(out), session));
}

/* Attribute number of a column of the pattern table (no SPI connection needed). */
static int
redact_column(TupleDesc desc, const char *column)
{
	int			attnum = SPI_fnumber(desc, column);

	if (attnum <= 0)
		elog(ERROR, "column %s of codeexec_redaction_pattern is missing", column);
	return attnum;
}

/* The TriggerData of a call, or ERROR if not called as a trigger. */
static TriggerData *
redact_trigger_data(FunctionCallInfo fcinfo, const char *fname)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be called as a trigger", fname)));
	return (TriggerData *) fcinfo->context;
}

/*
 * BEFORE INSERT OR UPDATE row trigger: refuse a row whose pattern PCRE2
 * cannot compile, quoting PCRE2's message and the offset of the error, or
 * whose validator is unknown.  Compiles with the options the cache uses.
 */
PG_FUNCTION_INFO_V1(codeexec_redaction_pattern_check);
Datum
codeexec_redaction_pattern_check(PG_FUNCTION_ARGS)
{
	TriggerData *td = redact_trigger_data(fcinfo, "codeexec_redaction_pattern_check");
	HeapTuple	tuple = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ?
		td->tg_newtuple : td->tg_trigtuple;
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	bool		isnull;
	Datum		d;
	char	   *name;
	char	   *pattern;
	char		errbuf[256];
	size_t		erroffset;
	pcre2_code *code;

	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "codeexec_redaction_pattern_check must be a BEFORE ROW trigger");

	d = heap_getattr(tuple, redact_column(desc, "name"), desc, &isnull);
	name = isnull ? pstrdup("?") : TextDatumGetCString(d);
	d = heap_getattr(tuple, redact_column(desc, "validator"), desc, &isnull);
	if (!isnull)
		(void) redact_validator_from_name(TextDatumGetCString(d));
	d = heap_getattr(tuple, redact_column(desc, "pattern"), desc, &isnull);
	if (isnull)
		return PointerGetDatum(tuple);	/* NOT NULL reports it */
	pattern = TextDatumGetCString(d);

	code = redact_compile(pattern, strlen(pattern),
						  GetDatabaseEncoding() == PG_UTF8,
						  errbuf, sizeof(errbuf), &erroffset);
	if (code == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
				 errmsg("invalid redaction pattern \"%s\": %s at offset %zu",
						name, errbuf, erroffset),
				 errdetail("PCRE2 cannot compile the pattern %s.",
						   quote_literal_cstr(pattern)),
				 errhint("Patterns use PCRE2 syntax; see docs/redaction.md.")));
	pcre2_code_free(code);
	return PointerGetDatum(tuple);
}

/*
 * AFTER statement trigger (INSERT, UPDATE, DELETE, TRUNCATE): queue a
 * relcache invalidation of the table.  This backend sees it at the end of
 * the statement, others when the transaction commits; the cache in
 * redact_patterns.c then rebuilds on its next use.
 */
PG_FUNCTION_INFO_V1(codeexec_redaction_pattern_changed);
Datum
codeexec_redaction_pattern_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = redact_trigger_data(fcinfo, "codeexec_redaction_pattern_changed");

	CacheInvalidateRelcache(td->tg_relation);
	return PointerGetDatum(NULL);
}
