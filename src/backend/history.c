/*-------------------------------------------------------------------------
 *
 * history.c
 *	  Recording one codeexec_execution row per call (pipeline step 5),
 *	  committed by the recorder worker independently of the caller's
 *	  transaction: the caller's ROLLBACK cannot remove it, and the row is
 *	  committed before history_record() returns, so the caller's next
 *	  statement sees it.  No SPI in the caller, so this also works from a
 *	  PG_CATCH block (see history.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "history.h"
#include "quota.h"
#include "recorder.h"
#include "recorder_msg.h"
#include "spawn.h"

#define HISTORY_NCOLS 21

static const Oid history_types[HISTORY_NCOLS] = {
	INT8OID, TEXTOID, TEXTOID, JSONBOID, TEXTOID, BOOLOID, TEXTOID,
	TEXTOID, JSONBOID, TEXTOID, TEXTOID, JSONBOID, JSONBOID, BOOLOID,
	FLOAT8OID, FLOAT8OID, INT8OID, INT4OID, INT4OID, TEXTOID, TEXTOID
};

/* Worker side: the INSERT of one history row. */
static RecorderPlan history_insert = {
	"INSERT INTO %s.codeexec_execution"
	" (user_id, role_name, code, code_sha256, context, status, success,"
	"  stdout, stderr, result, error_type, error_message, violations,"
	"  redactions, output_truncated, execution_time_seconds,"
	"  cpu_time_seconds, peak_memory_kb, timeout_ms, memory_mb,"
	"  sandbox_mode, tag)"
	" VALUES ($1, $2, $3, pg_catalog.encode(pg_catalog.sha256("
	"  pg_catalog.convert_to($3, 'UTF8')), 'hex'), $4, $5, $6, $7, $8,"
	"  $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
	" RETURNING id",
	HISTORY_NCOLS, history_types
};

/*
 * history_encode: serialise rec, plus the calling role's name, in the
 * order history_apply_record() reads it.
 */
static void
history_encode(StringInfo buf, const ExecRecord *rec)
{
	pq_sendbyte(buf, rec->has_user_id);
	pq_sendint64(buf, rec->user_id);
	recorder_msg_put_text(buf, GetUserNameFromId(GetUserId(), false));
	recorder_msg_put_text(buf, rec->code);
	recorder_msg_put_jsonb(buf, rec->context);
	recorder_msg_put_text(buf, rec->status);
	pq_sendbyte(buf, rec->success);
	recorder_msg_put_text(buf, rec->stdout_text);
	recorder_msg_put_text(buf, rec->stderr_text);
	recorder_msg_put_jsonb(buf, rec->result);
	recorder_msg_put_text(buf, rec->error_type);
	recorder_msg_put_text(buf, rec->error_message);
	recorder_msg_put_jsonb(buf, rec->violations);
	recorder_msg_put_jsonb(buf, rec->redactions);
	pq_sendbyte(buf, rec->output_truncated);
	pq_sendfloat8(buf, rec->execution_time_seconds);
	pq_sendfloat8(buf, rec->cpu_time_seconds);
	pq_sendint64(buf, rec->peak_memory_kb);
	pq_sendint32(buf, rec->timeout_ms);
	pq_sendint32(buf, rec->memory_mb);
	recorder_msg_put_text(buf, rec->sandbox_mode);
	recorder_msg_put_text(buf, rec->tag);
	pq_sendfloat8(buf, rec->charge_cpu_seconds);	/* ignored without a user */
}

/*
 * The record of the call in progress, committed as 'cancelled' if the call
 * ends without history_record(): the backend exits (pg_terminate_backend
 * raises FATAL, which no PG_CATCH sees) or the (sub)transaction aborts.
 */
static RecorderPrepared history_pending;
static bool history_has_pending = false;
static bool history_callbacks_registered = false;

/*
 * The charge sent with a 'cancelled' row, prepared by history_begin() for
 * a call with a user; its CPU seconds are written into it when it is sent:
 * what history_charge() gave, or, if the call was cut short before that
 * (history_charge_cpu < 0), what the helper had used when it was killed
 * (spawn.h), so that a cancel, a terminated backend or a lost client does
 * not make the CPU free.
 */
static RecorderPrepared history_pending_charge;
static bool history_has_pending_charge = false;
static double history_charge_cpu = -1;

/*
 * history_send_pending: commit the pending record, if any, via the worker;
 * on abort wait for the commit (bounded) so the caller's next statement
 * sees the row.
 */
static void
history_send_pending(bool wait_reply)
{
	if (history_has_pending_charge)
	{
		double		cpu = history_charge_cpu >= 0 ? history_charge_cpu :
			spawn_killed_cpu_seconds();

		history_has_pending_charge = false;
		if (cpu > 0 && history_pending_charge.data != NULL)
		{
			quota_charge_set_cpu(history_pending_charge.data, cpu);
			(void) recorder_send_prepared(&history_pending_charge, wait_reply);
		}
		else
			recorder_discard(&history_pending_charge);
	}
	if (!history_has_pending)
		return;
	history_has_pending = false;
	(void) recorder_send_prepared(&history_pending, wait_reply);
}

/* history_drop_pending: forget the pending record and charge, if any. */
static void
history_drop_pending(void)
{
	if (history_has_pending_charge)
	{
		history_has_pending_charge = false;
		recorder_discard(&history_pending_charge);
	}
	if (!history_has_pending)
		return;
	history_has_pending = false;
	recorder_discard(&history_pending);
}

static void
history_exit_callback(int code, Datum arg)
{
	/*
	 * The backend is going away: hand the row over, do not wait for it.
	 * A helper still running is killed first, so that its CPU is read for
	 * the charge even if spawn.c's own exit callback would run after this.
	 */
	if (history_has_pending)
		spawn_kill_current();
	history_send_pending(false);
}

static void
history_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		history_send_pending(true);
	else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
			 event == XACT_EVENT_PREPARE)
		history_drop_pending();
}

static void
history_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		history_send_pending(true);
}

/*
 * history_begin: the call described by rec (its inputs; outcome fields are
 * ignored) is admitted and about to run.  Until history_record() is called,
 * a backend exit or transaction abort commits a row for it with status
 * 'cancelled', so a call killed mid-run (pg_terminate_backend, a cancel
 * that escapes the caller) still leaves exactly one history row.
 */
void
history_begin(const ExecRecord *rec)
{
	ExecRecord	cancelled = *rec;
	StringInfoData buf;

	recorder_require_preloaded();
	if (!history_callbacks_registered)
	{
		before_shmem_exit(history_exit_callback, (Datum) 0);
		RegisterXactCallback(history_xact_callback, NULL);
		RegisterSubXactCallback(history_subxact_callback, NULL);
		history_callbacks_registered = true;
	}
	history_drop_pending();

	cancelled.status = "cancelled";
	cancelled.success = false;
	cancelled.stdout_text = NULL;
	cancelled.stderr_text = NULL;
	cancelled.result = NULL;
	cancelled.error_type = NULL;
	cancelled.error_message = "the call did not complete: it was cancelled, its session ended, or it failed on the server side (see the server log)";
	cancelled.violations = NULL;
	cancelled.redactions = NULL;
	cancelled.cpu_time_seconds = -1;
	cancelled.peak_memory_kb = -1;
	initStringInfo(&buf);
	history_encode(&buf, &cancelled);
	recorder_prepare(&history_pending, RECORDER_RECORD, &buf);
	history_has_pending = true;
	pfree(buf.data);

	spawn_forget_killed_cpu();
	if (rec->has_user_id)
	{
		quota_charge_payload_open(&buf, rec->user_id);
		recorder_prepare(&history_pending_charge, RECORDER_CHARGE, &buf);
		history_has_pending_charge = true;
		history_charge_cpu = -1;
		pfree(buf.data);
	}
}

/* history_charge: see history.h. */
void
history_charge(double cpu_seconds)
{
	if (history_has_pending_charge)
		history_charge_cpu = Max(cpu_seconds, 0.0);
}

/*
 * history_record: commit one history row for rec through the recorder and
 * return its id; ends what history_begin() started.  May be called from a
 * PG_CATCH block (e.g. to record a cancelled call before re-throwing)
 * provided the caller holds interrupts (HOLD_INTERRUPTS) around it; the
 * wait is then bounded and, should the worker not answer in time, -1 is
 * returned while the worker still commits the row.  Outside that case a
 * recorder failure is an ERROR.
 */
int64
history_record(const ExecRecord *rec)
{
	StringInfoData buf;
	RecorderReply reply;

	history_drop_pending();
	initStringInfo(&buf);
	history_encode(&buf, rec);
	recorder_call(RECORDER_RECORD, &buf, &reply);
	pfree(buf.data);
	if (reply.ok && reply.errmsg[0] != '\0')
		ereport(WARNING,
				(errmsg("the CPU time of this call was not charged to user %lld's quota",
						(long long) rec->user_id),
				 errdetail("%s", reply.errmsg),
				 errhint("The execution itself is recorded in codeexec_execution.")));
	return reply.ok ? reply.id : -1;
}

typedef struct HistoryCharge
{
	int64		user_id;
	double		cpu_seconds;
	const char *schema;
} HistoryCharge;

static void
history_apply_charge(void *arg)
{
	HistoryCharge *c = (HistoryCharge *) arg;

	quota_apply_charge_amount(c->user_id, c->cpu_seconds, c->schema);
}

/*
 * history_apply_record: worker side.  Insert the row decoded from msg into
 * the extension's codeexec_execution table and return its id.  A CPU charge
 * the record carries is applied after it in a subtransaction of its own:
 * should it fail (say, a lock_timeout on the quota row), the row still
 * commits and `note` says why the charge did not.
 */
int64
history_apply_record(StringInfo msg, const char *schema, char *note, size_t notelen)
{
	HistoryCharge charge;
	Datum		values[HISTORY_NCOLS];
	char		nulls[HISTORY_NCOLS];
	bool		isnull;
	int			i = 0;
	double		cpu;
	int64		peak;
	int64		id;

	memset(nulls, ' ', sizeof(nulls));
	nulls[0] = pq_getmsgbyte(msg) ? ' ' : 'n';
	values[i++] = Int64GetDatum(pq_getmsgint64(msg));
#define HISTORY_GET(getter) \
	do { values[i] = getter(msg, &isnull); nulls[i++] = isnull ? 'n' : ' '; } while (0)
	HISTORY_GET(recorder_msg_get_text); /* role_name */
	HISTORY_GET(recorder_msg_get_text); /* code */
	HISTORY_GET(recorder_msg_get_jsonb);	/* context */
	HISTORY_GET(recorder_msg_get_text); /* status */
	values[i++] = BoolGetDatum(pq_getmsgbyte(msg));
	HISTORY_GET(recorder_msg_get_text); /* stdout */
	HISTORY_GET(recorder_msg_get_text); /* stderr */
	HISTORY_GET(recorder_msg_get_jsonb);	/* result */
	HISTORY_GET(recorder_msg_get_text); /* error_type */
	HISTORY_GET(recorder_msg_get_text); /* error_message */
	HISTORY_GET(recorder_msg_get_jsonb);	/* violations */
	HISTORY_GET(recorder_msg_get_jsonb);	/* redactions */
	values[i++] = BoolGetDatum(pq_getmsgbyte(msg));
	values[i++] = Float8GetDatum(pq_getmsgfloat8(msg));
	cpu = pq_getmsgfloat8(msg);
	nulls[i] = cpu < 0 ? 'n' : ' ';
	values[i++] = Float8GetDatum(cpu);
	peak = pq_getmsgint64(msg);
	nulls[i] = peak < 0 ? 'n' : ' ';
	values[i++] = Int64GetDatum(peak);
	values[i++] = Int32GetDatum(pq_getmsgint(msg, 4));
	values[i++] = Int32GetDatum(pq_getmsgint(msg, 4));
	HISTORY_GET(recorder_msg_get_text); /* sandbox_mode */
	HISTORY_GET(recorder_msg_get_text); /* tag */
#undef HISTORY_GET
	charge.user_id = DatumGetInt64(values[0]);
	charge.cpu_seconds = pq_getmsgfloat8(msg);
	if (nulls[0] != ' ')
		charge.cpu_seconds = 0; /* no user, no quota */
	charge.schema = schema;
	pq_getmsgend(msg);
	Assert(i == HISTORY_NCOLS);

	if (SPI_execute_plan(recorder_plan(&history_insert, schema), values, nulls,
						 false, 1) != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "codeexec recorder: insert into codeexec_execution failed");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	note[0] = '\0';
	if (charge.cpu_seconds > 0)
		(void) recorder_apply_isolated(history_apply_charge, &charge, note, notelen);
	return id;
}
