/*-------------------------------------------------------------------------
 *
 * quota.c
 *	  Per-user quota admission and accounting (pipeline step 1), applied by
 *	  the recorder worker in its own committed transaction so that neither
 *	  is undone by the caller's ROLLBACK.
 *
 * Exactness: admission is a single UPDATE ... WHERE used < limit on the
 * user's row; the row lock serialises concurrent admissions (the worker
 * of a database applies them one by one anyway), so with limit L exactly
 * L calls are admitted.  A period that has ended resets on the next call.
 * Users without a row get the defaults of the codeexec.default_* GUCs: if
 * both are unlimited no row is created, otherwise a row is created with
 * the defaults on first use.  A NULL user is never limited.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "libpq/pqformat.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "quota.h"
#include "recorder.h"
#include "recorder_msg.h"

static int	quota_default_executions = -1;
static double quota_default_cpu_seconds = -1;
static char *quota_default_period = NULL;

/*
 * quota_parse_interval: parse text as an interval without throwing (a GUC
 * check hook must not ERROR).  Returns false if it is not one.
 */
static bool
quota_parse_interval(const char *str, Interval *out)
{
	char		workbuf[256];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	struct pg_itm_in itm;

	if (ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype,
					  MAXDATEFIELDS, &nf) != 0)
		return false;
	if (DecodeInterval(field, ftype, nf, INTERVAL_FULL_RANGE, &dtype, &itm) != 0 &&
		DecodeISO8601Interval(unconstify(char *, str), &dtype, &itm) != 0)
		return false;
	return dtype == DTK_DELTA && itmin2interval(&itm, out) == 0;
}

/* quota_check_period: GUC check hook; the value must be a positive interval. */
static bool
quota_check_period(char **newval, void **extra, GucSource source)
{
	Interval	iv;

	if (*newval == NULL || !quota_parse_interval(*newval, &iv))
	{
		GUC_check_errdetail("\"%s\" is not a valid interval.", *newval ? *newval : "");
		return false;
	}
	if (iv.month < 0 || iv.day < 0 || iv.time < 0 ||
		(iv.month == 0 && iv.day == 0 && iv.time == 0))
	{
		GUC_check_errdetail("The quota period must be positive.");
		return false;
	}
	return true;
}

/*
 * quota_define_gucs: define the codeexec.default_* quota GUCs.  Called from
 * _PG_init (every load, preloaded or not) before MarkGUCPrefixReserved.
 * Superuser-only, so a caller cannot raise its own defaults.
 */
void
quota_define_gucs(void)
{
	DefineCustomIntVariable("codeexec.default_executions_limit",
							"Executions per period for users without a codeexec_quota row.",
							"-1 means unlimited.",
							&quota_default_executions, -1, -1, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("codeexec.default_cpu_seconds_limit",
							 "CPU seconds per period for users without a codeexec_quota row.",
							 "-1 means unlimited.",
							 &quota_default_cpu_seconds, -1, -1, 1e12,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("codeexec.default_quota_period",
							   "Quota period for users without a codeexec_quota row.",
							   NULL,
							   &quota_default_period, "1 day",
							   PGC_SUSET, 0, quota_check_period, NULL, NULL);
}

/*
 * quota_admit: check and consume one execution for the user, committed by
 * the recorder worker before this returns.  true: admitted; false: over
 * quota (nothing consumed).  A NULL user is never limited.
 */
bool
quota_admit(bool has_user_id, int64 user_id)
{
	StringInfoData buf;
	RecorderReply reply;

	if (!has_user_id)
		return true;
	initStringInfo(&buf);
	pq_sendint64(&buf, user_id);
	pq_sendint32(&buf, quota_default_executions);
	pq_sendfloat8(&buf, quota_default_cpu_seconds);
	recorder_msg_put_text(&buf, quota_default_period);
	recorder_call(RECORDER_ADMIT, &buf, &reply);
	pfree(buf.data);
	return reply.admitted;
}

/*
 * quota_charge: add the CPU seconds a run used to the user's budget for the
 * current period (committed before return).  No-op for a NULL user, a user
 * without a row, or a non-positive amount.
 */
void
quota_charge(bool has_user_id, int64 user_id, double cpu_seconds)
{
	StringInfoData buf;
	RecorderReply reply;

	if (!quota_charge_payload(&buf, has_user_id, user_id, cpu_seconds))
		return;
	recorder_call(RECORDER_CHARGE, &buf, &reply);
	pfree(buf.data);
}

/*
 * quota_charge_payload: the RECORDER_CHARGE request for a charge, in a new
 * *buf, or false (nothing allocated) when there is nothing to charge.
 */
bool
quota_charge_payload(StringInfo buf, bool has_user_id, int64 user_id, double cpu_seconds)
{
	if (!has_user_id || !(cpu_seconds > 0))
		return false;
	quota_charge_payload_open(buf, user_id);
	quota_charge_set_cpu(buf->data, cpu_seconds);
	return true;
}

/* quota_charge_payload_open: see quota.h.  The user, then the seconds. */
void
quota_charge_payload_open(StringInfo buf, int64 user_id)
{
	initStringInfo(buf);
	pq_sendint64(buf, user_id);
	pq_sendfloat8(buf, 0);
}

/* quota_charge_set_cpu: see quota.h.  pq_sendfloat8's layout, by hand. */
void
quota_charge_set_cpu(char *payload, double cpu_seconds)
{
	union
	{
		float8		f;
		uint64		i;
	}			swap;
	uint64		n;

	swap.f = cpu_seconds;
	n = pg_hton64(swap.i);
	memcpy(payload + sizeof(int64), &n, sizeof(n));
}

static const Oid quota_types[4] = {INT8OID, INT4OID, FLOAT8OID, TEXTOID};
static const Oid quota_charge_types[2] = {INT8OID, FLOAT8OID};

/*
 * Worker side: consume one execution of a row if it is within its limits,
 * resetting an ended period first.  "Ended" is evaluated on the old row
 * version, and so is every SET expression.
 */
static RecorderPlan quota_consume_plan = {
	"UPDATE %s.codeexec_quota q SET"
	" executions_used = CASE WHEN q.period_end <= now() THEN 1"
	"   ELSE q.executions_used + 1 END,"
	" cpu_seconds_used = CASE WHEN q.period_end <= now() THEN 0"
	"   ELSE q.cpu_seconds_used END,"
	" period_start = CASE WHEN q.period_end <= now() THEN now()"
	"   ELSE q.period_start END,"
	" period_end = CASE WHEN q.period_end <= now() THEN now() + q.period"
	"   ELSE q.period_end END"
	" WHERE q.user_id = $1"
	" AND (q.executions_limit < 0 OR"
	"   (CASE WHEN q.period_end <= now() THEN 0 ELSE q.executions_used END)"
	"   < q.executions_limit)"
	" AND (q.cpu_seconds_limit IS NULL OR"
	"   (CASE WHEN q.period_end <= now() THEN 0 ELSE q.cpu_seconds_used END)"
	"   < q.cpu_seconds_limit)",
	1, quota_types
};

static RecorderPlan quota_exists_plan = {
	"SELECT 1 FROM %s.codeexec_quota WHERE user_id = $1",
	1, quota_types
};

/* A row with the defaults the caller's GUCs give, for a user without one. */
static RecorderPlan quota_insert_plan = {
	"INSERT INTO %s.codeexec_quota (user_id, executions_limit,"
	" executions_used, cpu_seconds_limit, cpu_seconds_used, period,"
	" period_start, period_end)"
	" VALUES ($1, $2, 0, $3, 0, $4::interval, now(), now() + $4::interval)"
	" ON CONFLICT (user_id) DO NOTHING",
	4, quota_types
};

static RecorderPlan quota_charge_plan = {
	"UPDATE %s.codeexec_quota SET cpu_seconds_used = cpu_seconds_used + $2"
	" WHERE user_id = $1",
	2, quota_charge_types
};

/* quota_exec: run a prepared quota statement; ERROR on an unexpected result. */
static uint64
quota_exec(RecorderPlan *rp, const char *schema, Datum *values, const char *nulls,
		   int expect)
{
	if (SPI_execute_plan(recorder_plan(rp, schema), values, nulls, false, 0) != expect)
		elog(ERROR, "codeexec recorder: quota statement failed");
	return SPI_processed;
}

/*
 * quota_apply_admit: worker side of quota_admit().  The defaults travel in
 * the request, so the caller's settings of the GUCs apply.
 */
bool
quota_apply_admit(StringInfo msg, const char *schema)
{
	int64		user_id = pq_getmsgint64(msg);
	int32		def_limit = pq_getmsgint(msg, 4);
	double		def_cpu = pq_getmsgfloat8(msg);
	bool		isnull;
	Datum		def_period = recorder_msg_get_text(msg, &isnull);
	Datum		values[4];
	char		nulls[4] = {' ', ' ', def_cpu < 0 ? 'n' : ' ', ' '};
	Datum		key = Int64GetDatum(user_id);

	pq_getmsgend(msg);
	if (quota_exec(&quota_consume_plan, schema, &key, NULL, SPI_OK_UPDATE) == 1)
		return true;
	if (quota_exec(&quota_exists_plan, schema, &key, NULL, SPI_OK_SELECT) > 0)
		return false;
	if (def_limit < 0 && def_cpu < 0)
		return true;			/* unlimited by default: nothing to count */

	values[0] = Int64GetDatum(user_id);
	values[1] = Int32GetDatum(def_limit);
	values[2] = Float8GetDatum(def_cpu);
	values[3] = def_period;
	(void) quota_exec(&quota_insert_plan, schema, values, nulls, SPI_OK_INSERT);
	return quota_exec(&quota_consume_plan, schema, &key, NULL, SPI_OK_UPDATE) == 1;
}

/*
 * quota_apply_charge_amount: worker side of a CPU charge, from
 * quota_charge() or carried by a history record (history.c).
 */
void
quota_apply_charge_amount(int64 user_id, double cpu_seconds, const char *schema)
{
	Datum		values[2];

	values[0] = Int64GetDatum(user_id);
	values[1] = Float8GetDatum(cpu_seconds);
	(void) quota_exec(&quota_charge_plan, schema, values, NULL, SPI_OK_UPDATE);
}

/* quota_apply_charge: worker side of quota_charge(). */
void
quota_apply_charge(StringInfo msg, const char *schema)
{
	int64		user_id = pq_getmsgint64(msg);
	double		cpu_seconds = pq_getmsgfloat8(msg);

	pq_getmsgend(msg);
	quota_apply_charge_amount(user_id, cpu_seconds, schema);
}
