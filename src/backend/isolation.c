/*-------------------------------------------------------------------------
 *
 * isolation.c
 *	  codeexec_isolation(): which OS isolation layers are really in force.
 *	  It does not guess from kernel versions or /proc: it asks the helper,
 *	  in the configured spawn mode, to set up its sandbox exactly as for a
 *	  call (without failing on a missing layer) and to report each layer
 *	  instead of running code.  So the answer is what a codeexec_run in this
 *	  session would get.  Backend only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "codeexec.h"
#include "execute.h"
#include "imports.h"
#include "wire.h"

PG_FUNCTION_INFO_V1(codeexec_isolation);

/* The string member `key` of a report entry, or NULL. */
static char *
isolation_text(JsonbContainer *entry, const char *key)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(entry, key, strlen(key), &v) == NULL ||
		v.type != jbvString)
		return NULL;
	return pnstrdup(v.val.string.val, v.val.string.len);
}

/* ERROR: the report could not be obtained or does not have its shape. */
static void
isolation_fail(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("codeexec helper did not report its isolation layers"),
			 errdetail("%s", why),
			 errhint("Check the server log and the installation of codeexec-helper.")));
}

/* One probe of the helper; the report as a JSON array. */
static Jsonb *
isolation_probe(void)
{
	ExecParams	params;
	CallOutcome out;

	memset(&params, 0, sizeof(params));
	params.code = "";
	params.context_json = "{}";
	params.context_len = 2;
	params.timeout_ms = codeexec_timeout_ms;
	params.memory_mb = codeexec_memory_mb;
	params.max_output_bytes = codeexec_max_output_bytes;
	params.allowed_imports = imports_resolve(NULL);
	/* no WIRE_FLAG_REQUIRE_ISOLATION: a missing layer is reported, not fatal */
	params.flags = WIRE_FLAG_REPORT_ISOLATION;

	execute_helper_in_slot(&params, &out);
	if (strcmp(out.status, WIRE_STATUS_OK) != 0)
		isolation_fail(psprintf("Status %s: %s.", out.status,
								out.error_message ? out.error_message : "no message"));
	if (out.isolation == NULL)
		isolation_fail("The response has no isolation report.");
	return out.isolation;
}

/*
 * codeexec_isolation() RETURNS TABLE(layer text, active boolean, detail text)
 */
Datum
codeexec_isolation(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Jsonb	   *report;
	uint32		n;

	InitMaterializedSRF(fcinfo, 0);
	report = isolation_probe();
	n = JB_ROOT_COUNT(report);
	for (uint32 i = 0; i < n; i++)
	{
		JsonbValue *entry = getIthJsonbValueFromContainer(&report->root, i);
		JsonbValue	active;
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		char	   *layer;
		char	   *detail;

		if (entry == NULL || entry->type != jbvBinary)
			isolation_fail("An entry of the report is not an object.");
		layer = isolation_text(entry->val.binary.data, "layer");
		detail = isolation_text(entry->val.binary.data, "detail");
		if (layer == NULL ||
			getKeyJsonValueFromContainer(entry->val.binary.data, "active", 6, &active) == NULL ||
			active.type != jbvBool)
			isolation_fail("An entry of the report lacks its layer name or active flag.");
		values[0] = CStringGetTextDatum(layer);
		values[1] = BoolGetDatum(active.val.boolean);
		values[2] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
		nulls[2] = detail == NULL;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
