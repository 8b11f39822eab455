/*-------------------------------------------------------------------------
 *
 * recorder_worker.c
 *	  The recorder background worker: one per database, started on first
 *	  use by a backend (recorder_shmem.c), connected as the bootstrap
 *	  superuser.  It takes every pending request of its database, applies
 *	  them in one transaction (group commit, recorder_apply.c), and only
 *	  after the commit writes the replies and wakes the waiting backends.
 *	  It exits after RECORDER_IDLE_EXIT_MS without work, so it never holds
 *	  a database open for long (DROP DATABASE waits up to 5 s for it).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "recorder_int.h"

/* Items taken but not yet answered, for the exit callback. */
static RecorderItem *recorder_items = NULL;
static int	recorder_nitems = 0;

/*
 * recorder_worker_answer: under the lock, write replies into the slots of
 * the given items, mark them DONE, and wake their backends.
 */
static void
recorder_worker_answer(RecorderItem *items, int nitems)
{
	int			procnos[RECORDER_MAX_BATCH];

	LWLockAcquire(recorder_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < nitems; i++)
	{
		RecorderSlot *slot = &recorder_shared->slots[items[i].slotno];

		slot->reply = items[i].reply;
		slot->state = RSLOT_DONE;
		procnos[i] = items[i].slotno;
	}
	LWLockRelease(recorder_shared->lock);
	for (int i = 0; i < nitems; i++)
		SetLatch(&GetPGProcByNumber(procnos[i])->procLatch);
}

/*
 * recorder_worker_exit: before_shmem_exit callback.  Answers the requests
 * this worker had taken with an error (it may or may not have committed
 * them; it never retries, so there is no duplicate), and gives up the
 * database entry so the next request starts a new worker.
 */
static void
recorder_worker_exit(int code, Datum arg)
{
	RecorderDb *db;

	for (int i = 0; i < recorder_nitems; i++)
	{
		recorder_items[i].reply.ok = false;
		strlcpy(recorder_items[i].reply.errmsg, "the recorder worker exited",
				sizeof(recorder_items[i].reply.errmsg));
	}
	if (recorder_nitems > 0)
		recorder_worker_answer(recorder_items, recorder_nitems);
	recorder_nitems = 0;

	LWLockAcquire(recorder_shared->lock, LW_EXCLUSIVE);
	db = recorder_find_db(MyDatabaseId, false);
	if (db != NULL && db->state == RDB_RUNNING && db->procno == MyProc->pgprocno)
	{
		db->state = RDB_NONE;
		db->dboid = InvalidOid;
	}
	/* Wake anyone still waiting on this database so they start a worker. */
	for (int i = 0; i < recorder_shared->nslots; i++)
		if (recorder_shared->slots[i].state == RSLOT_PENDING &&
			recorder_shared->slots[i].dboid == MyDatabaseId)
			SetLatch(&GetPGProcByNumber(i)->procLatch);
	LWLockRelease(recorder_shared->lock);
}

/*
 * recorder_worker_collect: take up to RECORDER_MAX_BATCH pending requests
 * of this database; copy inline payloads and remember DSM handles.  When
 * there are none and exit_if_idle is set, give up the database entry in
 * the same critical section, so no request can slip in unseen.  Returns
 * the number taken; -1 means "exit now".
 */
static int
recorder_worker_collect(RecorderItem *items, dsm_handle *handles, bool exit_if_idle)
{
	int			n = 0;

	LWLockAcquire(recorder_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < recorder_shared->nslots && n < RECORDER_MAX_BATCH; i++)
	{
		RecorderSlot *slot = &recorder_shared->slots[i];

		if (slot->state != RSLOT_PENDING || slot->dboid != MyDatabaseId)
			continue;
		slot->state = RSLOT_TAKEN;
		items[n].slotno = i;
		items[n].kind = slot->kind;
		initStringInfo(&items[n].payload);
		memset(&items[n].reply, 0, sizeof(RecorderReply));
		handles[n] = slot->handle;
		if (slot->handle == DSM_HANDLE_INVALID)
			appendBinaryStringInfo(&items[n].payload, slot->inline_data, slot->len);
		else
			enlargeStringInfo(&items[n].payload, slot->len);
		items[n].payload.len = slot->len;
		n++;
	}
	if (n == 0 && exit_if_idle)
	{
		RecorderDb *db = recorder_find_db(MyDatabaseId, false);

		if (db != NULL && db->procno == MyProc->pgprocno)
		{
			db->state = RDB_NONE;
			db->dboid = InvalidOid;
		}
		n = -1;
	}
	LWLockRelease(recorder_shared->lock);
	return n;
}

/*
 * recorder_worker_fetch_dsm: copy a payload out of its pinned segment and
 * release the segment (unpin; our detach then destroys it).
 */
static void
recorder_worker_fetch_dsm(RecorderItem *item, dsm_handle handle)
{
	dsm_segment *seg = dsm_attach(handle);

	if (seg == NULL)
	{
		item->payload.len = 0;
		return;
	}
	memcpy(item->payload.data, dsm_segment_address(seg), item->payload.len);
	item->payload.data[item->payload.len] = '\0';
	dsm_unpin_segment(handle);
	dsm_detach(seg);
}

/*
 * recorder_worker_register: mark this worker RUNNING for its database.
 * Returns false if another worker already runs there.
 */
static bool
recorder_worker_register(void)
{
	RecorderDb *db;
	bool		ok = false;

	LWLockAcquire(recorder_shared->lock, LW_EXCLUSIVE);
	db = recorder_find_db(MyDatabaseId, true);
	if (db != NULL && db->state != RDB_RUNNING)
	{
		db->state = RDB_RUNNING;
		db->procno = MyProc->pgprocno;
		ok = true;
	}
	LWLockRelease(recorder_shared->lock);
	return ok;
}

/*
 * recorder_worker_main: entry point.  main_arg is the database's OID.
 */
void
recorder_worker_main(Datum main_arg)
{
	Oid			dboid = DatumGetObjectId(main_arg);
	MemoryContext batch_cxt;
	RecorderItem items[RECORDER_MAX_BATCH];
	dsm_handle	handles[RECORDER_MAX_BATCH];
	TimestampTz last_work = GetCurrentTimestamp();

	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("codeexec recorder");
	/*
	 * A caller's transaction can hold a lock the worker needs (an admin
	 * updating a quota row, then calling codeexec_run for that user) while
	 * waiting for this worker: fail that request instead of waiting forever.
	 */
	SetConfigOption("lock_timeout", "5s", PGC_SUSET, PGC_S_OVERRIDE);

	if (recorder_shared == NULL || !recorder_worker_register())
		proc_exit(0);
	before_shmem_exit(recorder_worker_exit, (Datum) 0);

	batch_cxt = AllocSetContextCreate(TopMemoryContext, "codeexec recorder batch",
									  ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		int			n;
		bool		idle;

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		/* codeexec.recorder_synchronous_commit may have changed */
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(batch_cxt);
		MemoryContextSwitchTo(batch_cxt);

		idle = TimestampDifferenceExceeds(last_work, GetCurrentTimestamp(),
										  RECORDER_IDLE_EXIT_MS);
		n = recorder_worker_collect(items, handles, idle);
		if (n < 0)
			break;
		if (n == 0)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 RECORDER_IDLE_EXIT_MS, PG_WAIT_EXTENSION);
			continue;
		}

		recorder_items = items;
		recorder_nitems = n;
		for (int i = 0; i < n; i++)
			if (handles[i] != DSM_HANDLE_INVALID)
				recorder_worker_fetch_dsm(&items[i], handles[i]);

		pgstat_report_activity(STATE_RUNNING, "recording");
		recorder_apply_batch(items, n);
		pgstat_report_activity(STATE_IDLE, NULL);

		recorder_worker_answer(items, n);
		recorder_nitems = 0;
		last_work = GetCurrentTimestamp();
	}
	proc_exit(0);
}
