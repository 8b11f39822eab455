/*-------------------------------------------------------------------------
 *
 * recorder_apply.c
 *	  Worker side: apply a batch of requests in one transaction (group
 *	  commit).  Each request runs in its own subtransaction, so a bad one
 *	  fails alone and the others still commit.  Replies are filled in here
 *	  but sent by the caller only after CommitTransactionCommand() returned.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "codeexec.h"
#include "recorder_int.h"
#include "recorder_msg.h"

bool		recorder_synchronous_commit = true;

/*
 * recorder_define_gucs: codeexec.recorder_synchronous_commit.  Called from
 * _PG_init before MarkGUCPrefixReserved.  SIGHUP: the worker commits
 * requests of every session together, so one setting serves them all.
 */
void
recorder_define_gucs(void)
{
	DefineCustomBoolVariable("codeexec.recorder_synchronous_commit",
							 "Whether the recorder waits for its commits (history rows, quota updates) to reach disk.",
							 "off commits them with synchronous_commit = off: a call no longer waits for a WAL flush, "
							 "but a crash can lose the last rows, even ones whose execution_id was returned.",
							 &recorder_synchronous_commit, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
}

/*
 * The extension's history table, found once and kept until a relcache
 * invalidation names it (or everything): DROP EXTENSION, a schema change.
 * Finding the schema takes two index scans of pg_extension, which were a
 * tenth of the worker's time per batch; with the table's OID in hand the
 * schema is two syscache lookups.
 */
static Oid	recorder_history_relid = InvalidOid;
static bool recorder_relcache_registered = false;

/* Relcache callback: only records (no catalog access, no ERROR here). */
static void
recorder_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == recorder_history_relid)
		recorder_history_relid = InvalidOid;
}

/*
 * recorder_apply_schema: the quoted schema of the codeexec extension in
 * this database, or NULL if it is not installed.  Called in the batch's
 * transaction, whose start has applied pending invalidations.
 */
static char *
recorder_apply_schema(void)
{
	Oid			nsp = InvalidOid;
	char	   *name;

	if (!recorder_relcache_registered)
	{
		CacheRegisterRelcacheCallback(recorder_relcache_callback, (Datum) 0);
		recorder_relcache_registered = true;
	}
	if (OidIsValid(recorder_history_relid))
		nsp = get_rel_namespace(recorder_history_relid);
	if (!OidIsValid(nsp))
	{
		nsp = codeexec_extension_schema();
		recorder_history_relid = OidIsValid(nsp) ?
			get_relname_relid("codeexec_execution", nsp) : InvalidOid;
		if (!OidIsValid(recorder_history_relid))
			return NULL;
	}
	name = get_namespace_name(nsp);
	return name != NULL ? pstrdup(quote_identifier(name)) : NULL;
}

/*
 * recorder_plan: the prepared plan of rp for schema, preparing it on first
 * use or when the extension's schema changed.  The plan cache revalidates
 * it after DDL (e.g. the extension dropped and created again).
 */
SPIPlanPtr
recorder_plan(RecorderPlan *rp, const char *schema)
{
	SPIPlanPtr	plan;

	if (rp->plan != NULL && strcmp(rp->schema, schema) == 0)
		return rp->plan;
	if (rp->plan != NULL)
	{
		SPI_freeplan(rp->plan);
		pfree(rp->schema);
		rp->plan = NULL;
	}
	plan = SPI_prepare(psprintf(rp->sql_format, schema), rp->nargs,
					   unconstify(Oid *, rp->argtypes));
	if (plan == NULL)
		elog(ERROR, "codeexec recorder: could not prepare statement: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "codeexec recorder: could not keep plan");
	rp->schema = MemoryContextStrdup(TopMemoryContext, schema);
	rp->plan = plan;
	return plan;
}

/*
 * recorder_apply_isolated: fn(arg) in an internal subtransaction of the
 * worker's transaction, so that an ERROR in it undoes only its own work.
 * Returns true, or false with the error's message in errbuf (also logged).
 */
bool
recorder_apply_isolated(void (*fn) (void *arg), void *arg, char *errbuf, size_t errlen)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	bool		ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		strlcpy(errbuf, edata->message, errlen);
		ereport(LOG,
				(errmsg("codeexec recorder: request failed: %s", edata->message)));
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

typedef struct RecorderApplyArg
{
	RecorderItem *item;
	const char *schema;
} RecorderApplyArg;

/* recorder_apply_one: dispatch one request to its applier. */
static void
recorder_apply_one(void *arg)
{
	RecorderItem *item = ((RecorderApplyArg *) arg)->item;
	const char *schema = ((RecorderApplyArg *) arg)->schema;

	item->payload.cursor = 0;
	switch (item->kind)
	{
		case RECORDER_ADMIT:
			item->reply.admitted = quota_apply_admit(&item->payload, schema);
			break;
		case RECORDER_CHARGE:
			quota_apply_charge(&item->payload, schema);
			break;
		case RECORDER_RECORD:
			item->reply.id = history_apply_record(&item->payload, schema,
												  item->reply.errmsg,
												  sizeof(item->reply.errmsg));
			break;
		default:
			elog(ERROR, "unknown codeexec recorder request kind %d", item->kind);
	}
	item->reply.ok = true;
}

/*
 * recorder_apply_batch: apply items[0..nitems) and commit.  On return every
 * item's reply is set: ok with its result, or not ok with an error message.
 * An ERROR in the commit itself propagates (the worker exits and answers
 * the items as failed from its exit callback).
 */
void
recorder_apply_batch(RecorderItem *items, int nitems)
{
	MemoryContext cxt = CurrentMemoryContext;
	char	   *schema;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();

	/*
	 * Like SET LOCAL: visibility is unchanged (the rows are visible to the
	 * callers as soon as the commit returns); only the wait for the WAL
	 * flush goes, and with it durability until the WAL writer flushes.
	 * Otherwise synchronous_commit stays as the server is configured.
	 */
	if (!recorder_synchronous_commit)
		(void) set_config_option("synchronous_commit", "off", PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());

	schema = recorder_apply_schema();
	if (schema != NULL)
		schema = MemoryContextStrdup(cxt, schema);

	MemoryContextSwitchTo(cxt);
	for (int i = 0; i < nitems; i++)
	{
		RecorderItem *item = &items[i];
		RecorderApplyArg arg = {item, schema};

		if (schema == NULL)
		{
			item->reply.ok = false;
			strlcpy(item->reply.errmsg, "extension codeexec is not installed in this database",
					sizeof(item->reply.errmsg));
			continue;
		}
		if (!recorder_apply_isolated(recorder_apply_one, &arg, item->reply.errmsg,
									 sizeof(item->reply.errmsg)))
			item->reply.ok = false;
	}

	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
}
