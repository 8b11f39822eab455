/*-------------------------------------------------------------------------
 *
 * recorder_msg.h
 *	  Encoding of recorder requests (backend -> worker, same binary on both
 *	  sides, so a plain pqformat byte stream), and the worker-side appliers
 *	  that history.c and quota.c implement for their own request kinds.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_RECORDER_MSG_H
#define CODEEXEC_RECORDER_MSG_H

#include "postgres.h"
#include "lib/stringinfo.h"
#include "executor/spi.h"
#include "utils/jsonb.h"

/* Nullable text and jsonb values; NULL pointer stands for SQL NULL. */
extern void recorder_msg_put_text(StringInfo buf, const char *s);
extern void recorder_msg_put_jsonb(StringInfo buf, const Jsonb *j);
extern Datum recorder_msg_get_text(StringInfo msg, bool *isnull);
extern Datum recorder_msg_get_jsonb(StringInfo msg, bool *isnull);

/*
 * Worker side: a statement prepared once per schema and kept across
 * transactions (SPI_keepplan); sql_format has one %s for the schema.
 */
typedef struct RecorderPlan
{
	const char *sql_format;
	int			nargs;
	const Oid  *argtypes;
	char	   *schema;			/* schema the plan was made for */
	SPIPlanPtr	plan;
} RecorderPlan;

extern SPIPlanPtr recorder_plan(RecorderPlan *rp, const char *schema);

/*
 * Worker side: apply one request inside the worker's transaction (SPI is
 * connected; schema is the extension's quoted schema name).
 */
extern int64 history_apply_record(StringInfo msg, const char *schema,
								  char *note, size_t notelen);
extern bool quota_apply_admit(StringInfo msg, const char *schema);
extern void quota_apply_charge(StringInfo msg, const char *schema);
extern void quota_apply_charge_amount(int64 user_id, double cpu_seconds,
									  const char *schema);

/*
 * Worker side: fn(arg) in a subtransaction of its own; false, with the
 * error's message in errbuf, if it raised an ERROR (recorder_apply.c).
 */
extern bool recorder_apply_isolated(void (*fn) (void *arg), void *arg,
									char *errbuf, size_t errlen);

#endif
