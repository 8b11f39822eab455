/*-------------------------------------------------------------------------
 *
 * codeexec.c
 *	  SCAFFOLD of the history branch, replaced by the backend branch's
 *	  codeexec.c on merge.  _PG_init makes the calls the real one must
 *	  make; codeexec_run here only admits, "runs" (sleeps when the code is
 *	  "sleep:<ms>"), charges and records, so recording and quotas can be
 *	  tested before the real pipeline exists.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/wait_event.h"

#include "history.h"
#include "quota.h"
#include "recorder.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	quota_define_gucs();
	MarkGUCPrefixReserved("codeexec");
	if (process_shared_preload_libraries_in_progress)
		recorder_init();
}

PG_FUNCTION_INFO_V1(codeexec_run);

Datum
codeexec_run(PG_FUNCTION_ARGS)
{
	ExecRecord	rec;
	TupleDesc	tupdesc;
	Datum		values[14];
	bool		nulls[14];
	char	   *code;

	recorder_require_preloaded();
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("code must not be null")));
	code = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	memset(&rec, 0, sizeof(rec));
	rec.has_user_id = !PG_ARGISNULL(2);
	rec.user_id = rec.has_user_id ? PG_GETARG_INT64(2) : 0;
	rec.code = code;
	rec.context = PG_ARGISNULL(1) ? DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))) : PG_GETARG_JSONB_P(1);
	rec.cpu_time_seconds = -1;
	rec.peak_memory_kb = -1;
	rec.timeout_ms = 5000;
	rec.memory_mb = 256;
	rec.sandbox_mode = "exec";
	rec.tag = PG_ARGISNULL(9) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(9));

	if (!quota_admit(rec.has_user_id, rec.user_id))
		rec.status = "quota_exceeded";
	else
	{
		rec.status = "ok";
		rec.success = true;
		if (strncmp(code, "sleep:", 6) == 0 || strstr(code, "while True") != NULL)
		{
			/* What run.c must do: record a cancelled call, then re-throw. */
			history_begin(&rec);
			PG_TRY();
			{
				int			ms = strncmp(code, "sleep:", 6) == 0 ? atoi(code + 6) : 10000;

				while (ms > 0)
				{
					(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
									 Min(ms, 10), PG_WAIT_EXTENSION);
					ResetLatch(MyLatch);
					CHECK_FOR_INTERRUPTS();
					ms -= 10;
				}
			}
			PG_CATCH();
			{
				HOLD_INTERRUPTS();
				rec.status = "cancelled";
				rec.success = false;
				(void) history_record(&rec);
				RESUME_INTERRUPTS();
				PG_RE_THROW();
			}
			PG_END_TRY();
		}
		rec.stdout_text = "";
		rec.stderr_text = "";
		rec.cpu_time_seconds = 0.5;
		quota_charge(rec.has_user_id, rec.user_id, rec.cpu_time_seconds);
	}

	memset(nulls, true, sizeof(nulls));
	values[0] = Int64GetDatum(history_record(&rec));
	nulls[0] = false;
	values[1] = BoolGetDatum(rec.success);
	nulls[1] = false;
	values[2] = CStringGetTextDatum(rec.status);
	nulls[2] = false;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
