/*-------------------------------------------------------------------------
 *
 * recorder_shmem.c
 *	  Backend side of the recorder: the shared memory (requested from
 *	  shared_preload_libraries), launching the per-database worker, and
 *	  handing a request to it and waiting for the committed reply.
 *	  Locking rules are in recorder_int.h.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/wait_event.h"

#include "recorder_int.h"

RecorderShared *recorder_shared = NULL;

static shmem_request_hook_type recorder_prev_request_hook = NULL;
static shmem_startup_hook_type recorder_prev_startup_hook = NULL;

/* Bound on a wait that cannot be cancelled (interrupts held by the caller). */
#define RECORDER_HELD_WAIT_MS	10000

static Size
recorder_shmem_size(void)
{
	return add_size(offsetof(RecorderShared, slots),
					mul_size(MaxBackends, sizeof(RecorderSlot)));
}

static void
recorder_shmem_request(void)
{
	if (recorder_prev_request_hook)
		recorder_prev_request_hook();
	RequestAddinShmemSpace(recorder_shmem_size());
	RequestNamedLWLockTranche("codeexec_recorder", 1);
}

static void
recorder_shmem_startup(void)
{
	bool		found;

	if (recorder_prev_startup_hook)
		recorder_prev_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	recorder_shared = ShmemInitStruct("codeexec_recorder",
									  recorder_shmem_size(), &found);
	if (!found)
	{
		memset(recorder_shared, 0, recorder_shmem_size());
		recorder_shared->lock = &(GetNamedLWLockTranche("codeexec_recorder"))->lock;
		recorder_shared->nslots = MaxBackends;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * recorder_init: install the shared-memory hooks.  Must be called from
 * _PG_init while shared_preload_libraries is being processed; elsewhere it
 * does nothing (recorder_require_preloaded() then reports the problem).
 */
void
recorder_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	recorder_prev_request_hook = shmem_request_hook;
	shmem_request_hook = recorder_shmem_request;
	recorder_prev_startup_hook = shmem_startup_hook;
	shmem_startup_hook = recorder_shmem_startup;
}

/* recorder_available: true when the library was preloaded. */
bool
recorder_available(void)
{
	return recorder_shared != NULL;
}

/*
 * recorder_require_preloaded: ERROR unless the library was loaded through
 * shared_preload_libraries; codeexec_run calls this before doing anything,
 * because without the recorder neither history nor quotas can be kept.
 */
void
recorder_require_preloaded(void)
{
	if (recorder_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("codeexec must be loaded via shared_preload_libraries"),
				 errdetail("History and quotas are committed by a background worker that needs shared memory reserved at server start."),
				 errhint("Add codeexec to shared_preload_libraries in postgresql.conf (shared_preload_libraries = 'codeexec') and restart the server.")));
}

/*
 * recorder_find_db: the entry for dboid, or (create) a free entry claimed
 * for it, or NULL.  Caller holds the lock exclusively when create is true.
 */
RecorderDb *
recorder_find_db(Oid dboid, bool create)
{
	RecorderDb *free_db = NULL;

	for (int i = 0; i < RECORDER_MAX_DBS; i++)
	{
		RecorderDb *db = &recorder_shared->dbs[i];

		if (db->dboid == dboid)
			return db;
		if (db->dboid == InvalidOid && free_db == NULL)
			free_db = db;
	}
	if (create && free_db != NULL)
	{
		free_db->dboid = dboid;
		free_db->state = RDB_NONE;
	}
	return create ? free_db : NULL;
}

/*
 * recorder_claim_launch: under the exclusive lock, decide whether this
 * backend must start the worker for its database (none running, or a
 * launch that never completed).  Returns the worker's procno if one runs,
 * -1 otherwise; *launch says whether the caller now owns the launch.
 */
static int
recorder_claim_launch(bool *launch)
{
	RecorderDb *db = recorder_find_db(MyDatabaseId, true);
	TimestampTz now = GetCurrentTimestamp();

	*launch = false;
	if (db == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("too many databases use codeexec at once"),
				 errdetail("At most %d databases can have a codeexec recorder worker.", RECORDER_MAX_DBS)));
	if (db->state == RDB_RUNNING)
		return db->procno;
	if (db->state == RDB_NONE ||
		TimestampDifferenceExceeds(db->starting_since, now, RECORDER_START_STALE_MS))
	{
		db->state = RDB_STARTING;
		db->starting_since = now;
		*launch = true;
	}
	return -1;
}

/* recorder_launch_failed: give up a claimed launch and report why. */
static void
recorder_launch_failed(const char *detail)
{
	RecorderDb *db;

	LWLockAcquire(recorder_shared->lock, LW_EXCLUSIVE);
	db = recorder_find_db(MyDatabaseId, false);
	if (db != NULL && db->state == RDB_STARTING)
		db->state = RDB_NONE;
	LWLockRelease(recorder_shared->lock);
	ereport(ERROR,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("could not start the codeexec recorder worker"),
			 errdetail("%s", detail),
			 errhint("Raise max_worker_processes (each database using codeexec needs one background worker while it is busy).")));
}

/*
 * recorder_launch: start the recorder worker for this database (the caller
 * claimed the launch) and wait until it is running.
 */
static void
recorder_launch(void)
{
	BackgroundWorker bgw;
	BackgroundWorkerHandle *handle;
	pid_t		pid;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "codeexec");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "recorder_worker_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "codeexec recorder for database %u", MyDatabaseId);
	snprintf(bgw.bgw_type, BGW_MAXLEN, "codeexec recorder");
	bgw.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
	bgw.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&bgw, &handle))
		recorder_launch_failed("No background worker slot is free.");
	if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		recorder_launch_failed("The worker exited during start-up; see the server log.");
	pfree(handle);
}

/*
 * recorder_wait_slot: wait until our slot is FREE, or DONE (then copy the
 * reply into *reply if given, and free it).  Starts a worker when a request
 * of ours is pending and none runs.  Interruptible unless the caller holds
 * interrupts (run.c's PG_CATCH path); then the wait is bounded and returns
 * false on timeout, leaving the request to the worker.
 */
static bool
recorder_wait_slot(RecorderSlot *slot, RecorderReply *reply)
{
	bool		held = (InterruptHoldoffCount > 0);
	TimestampTz start = GetCurrentTimestamp();

	for (;;)
	{
		RecorderSlotState state;
		int			worker = -1;
		bool		launch = false;

		LWLockAcquire(recorder_shared->lock, LW_EXCLUSIVE);
		state = slot->state;
		if (state == RSLOT_DONE)
		{
			if (reply)
				*reply = slot->reply;
			slot->state = RSLOT_FREE;
		}
		else if (state == RSLOT_PENDING)
			worker = recorder_claim_launch(&launch);
		LWLockRelease(recorder_shared->lock);

		if (state == RSLOT_DONE || state == RSLOT_FREE)
			return state == RSLOT_DONE || reply == NULL;
		if (launch)
			recorder_launch();
		else if (worker >= 0)
			SetLatch(&GetPGProcByNumber(worker)->procLatch);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (held && TimestampDifferenceExceeds(start, GetCurrentTimestamp(),
											   RECORDER_HELD_WAIT_MS))
			return false;
	}
}

/*
 * recorder_publish: put one request into our slot (inline, or through a
 * pinned DSM segment the worker releases) and mark it PENDING.  The slot
 * must be FREE.  Interrupts are held between pinning and publishing so a
 * segment is never pinned without the worker knowing its handle.
 */
static void
recorder_publish(RecorderSlot *slot, RecorderKind kind, StringInfo payload)
{
	dsm_segment *seg = NULL;
	dsm_handle	handle = DSM_HANDLE_INVALID;

	if (payload->len > RECORDER_INLINE_BYTES)
	{
		seg = dsm_create(payload->len, 0);
		memcpy(dsm_segment_address(seg), payload->data, payload->len);
		handle = dsm_segment_handle(seg);
	}

	HOLD_INTERRUPTS();
	if (seg)
		dsm_pin_segment(seg);
	LWLockAcquire(recorder_shared->lock, LW_EXCLUSIVE);
	Assert(slot->state == RSLOT_FREE);
	slot->kind = kind;
	slot->dboid = MyDatabaseId;
	slot->handle = handle;
	slot->len = payload->len;
	if (seg == NULL)
		memcpy(slot->inline_data, payload->data, payload->len);
	memset(&slot->reply, 0, sizeof(slot->reply));
	slot->state = RSLOT_PENDING;
	LWLockRelease(recorder_shared->lock);
	RESUME_INTERRUPTS();

	if (seg)
		dsm_detach(seg);
}

/*
 * recorder_call: hand one request to this database's recorder worker and
 * wait until it has committed it.  ERROR if the worker failed.  When the
 * caller holds interrupts (recording from a PG_CATCH block) the wait is
 * bounded and a timeout returns reply->ok = false without an ERROR; the
 * worker still commits the request.
 */
void
recorder_call(RecorderKind kind, StringInfo payload, RecorderReply *reply)
{
	RecorderSlot *slot;

	recorder_require_preloaded();
	if (MyProc == NULL || MyProc->pgprocno >= recorder_shared->nslots ||
		!OidIsValid(MyDatabaseId))
		elog(ERROR, "codeexec recorder called outside a database backend");
	slot = &recorder_shared->slots[MyProc->pgprocno];

	/* A request left by an earlier, interrupted call must finish first. */
	if (!recorder_wait_slot(slot, NULL))
	{
		memset(reply, 0, sizeof(*reply));
		strlcpy(reply->errmsg, "timed out waiting for an earlier request", sizeof(reply->errmsg));
		return;
	}

	recorder_publish(slot, kind, payload);

	if (!recorder_wait_slot(slot, reply))
	{
		memset(reply, 0, sizeof(*reply));
		strlcpy(reply->errmsg, "timed out waiting for the recorder", sizeof(reply->errmsg));
		return;
	}
	if (!reply->ok && InterruptHoldoffCount == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("codeexec recorder failed: %s", reply->errmsg),
				 errdetail("The history row or quota update was not committed."),
				 errhint("Check that the codeexec extension is installed in this database and see the server log.")));
}
