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
#include "utils/memutils.h"
#include "utils/resowner.h"
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

/* recorder_unclaim_launch: give up a claimed launch that did not happen. */
static void
recorder_unclaim_launch(void)
{
	RecorderDb *db;

	LWLockAcquire(recorder_shared->lock, LW_EXCLUSIVE);
	db = recorder_find_db(MyDatabaseId, false);
	if (db != NULL && db->state == RDB_STARTING)
		db->state = RDB_NONE;
	LWLockRelease(recorder_shared->lock);
}

/* recorder_launch_failed: give up a claimed launch and report why. */
static void
recorder_launch_failed(const char *detail)
{
	recorder_unclaim_launch();
	ereport(ERROR,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("could not start the codeexec recorder worker"),
			 errdetail("%s", detail),
			 errhint("Raise max_worker_processes (each database using codeexec needs one background worker while it is busy).")));
}

/*
 * recorder_launch: start the recorder worker for this database (the caller
 * claimed the launch).  With wait, wait until it runs and ERROR if it
 * cannot start; without (exit paths), just register it and give up the
 * claim quietly on failure.
 */
static void
recorder_launch(bool wait)
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
	bgw.bgw_notify_pid = wait ? MyProcPid : 0;

	if (!RegisterDynamicBackgroundWorker(&bgw, &handle))
	{
		if (wait)
			recorder_launch_failed("No background worker slot is free.");
		recorder_unclaim_launch();
		return;
	}
	if (wait && WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
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
			recorder_launch(!held);
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
 * recorder_prepare: make a request ready to publish: kept inline (copied)
 * if it fits the slot, otherwise copied into a new pinned DSM segment that
 * stays alive, unmapped, until the worker (or recorder_discard) unpins it.
 * May ERROR; recorder_send_prepared() then cannot fail for lack of memory.
 */
void
recorder_prepare(RecorderPrepared *req, RecorderKind kind, StringInfo payload)
{
	req->kind = kind;
	req->len = payload->len;
	req->handle = DSM_HANDLE_INVALID;
	req->data = NULL;
	if (payload->len <= RECORDER_INLINE_BYTES)
	{
		req->data = MemoryContextAlloc(TopMemoryContext, Max(payload->len, 1));
		memcpy(req->data, payload->data, payload->len);
	}
	else
	{
		ResourceOwner owner = CurrentResourceOwner;
		dsm_segment *seg;

		/* Session-lifetime mapping: we unmap it ourselves right away. */
		CurrentResourceOwner = NULL;
		seg = dsm_create(payload->len, 0);
		CurrentResourceOwner = owner;
		memcpy(dsm_segment_address(seg), payload->data, payload->len);
		HOLD_INTERRUPTS();
		dsm_pin_segment(seg);
		req->handle = dsm_segment_handle(seg);
		RESUME_INTERRUPTS();
		dsm_detach(seg);
	}
}

/* recorder_discard: release a prepared request that will not be sent. */
void
recorder_discard(RecorderPrepared *req)
{
	if (req->handle != DSM_HANDLE_INVALID)
		dsm_unpin_segment(req->handle);
	if (req->data)
		pfree(req->data);
	req->handle = DSM_HANDLE_INVALID;
	req->data = NULL;
}

/*
 * recorder_publish: put a prepared request into our slot, which must be
 * FREE, mark it PENDING and wake the worker.  Ownership of the payload
 * passes to the worker.  Does not ERROR.  Unless the caller will wait for
 * the reply (and start a worker if needed), start one here if none runs.
 */
static void
recorder_publish(RecorderSlot *slot, RecorderPrepared *req, bool wait_reply)
{
	int			worker = -1;
	bool		launch = false;
	RecorderDb *db;

	LWLockAcquire(recorder_shared->lock, LW_EXCLUSIVE);
	Assert(slot->state == RSLOT_FREE);
	slot->kind = req->kind;
	slot->dboid = MyDatabaseId;
	slot->handle = req->handle;
	slot->len = req->len;
	if (req->data)
		memcpy(slot->inline_data, req->data, req->len);
	memset(&slot->reply, 0, sizeof(slot->reply));
	slot->state = RSLOT_PENDING;
	db = recorder_find_db(MyDatabaseId, false);
	if (db != NULL && db->state == RDB_RUNNING)
		worker = db->procno;
	else if (!wait_reply && recorder_find_db(MyDatabaseId, true) != NULL)
		worker = recorder_claim_launch(&launch);
	LWLockRelease(recorder_shared->lock);

	if (worker >= 0)
		SetLatch(&GetPGProcByNumber(worker)->procLatch);
	/* Nobody will wait for this one: start a worker for it now. */
	if (launch)
		recorder_launch(false);
	if (req->data)
		pfree(req->data);
	req->data = NULL;
	req->handle = DSM_HANDLE_INVALID;
}

/* recorder_my_slot: this backend's slot; ERROR outside a database backend. */
static RecorderSlot *
recorder_my_slot(void)
{
	recorder_require_preloaded();
	if (MyProc == NULL || MyProc->pgprocno >= recorder_shared->nslots ||
		!OidIsValid(MyDatabaseId))
		elog(ERROR, "codeexec recorder called outside a database backend");
	return &recorder_shared->slots[MyProc->pgprocno];
}

/*
 * recorder_send_prepared: publish a prepared request; the worker commits
 * it even if this backend exits at once.  For exit and abort paths: never
 * ERRORs, and waits only bounded and with interrupts held, first for an
 * earlier request of ours to finish, then (wait_reply) for the commit, so
 * that the caller's next statement sees the row.  Returns false if the
 * slot did not become free in time (the request is then dropped) or the
 * reply did not come in time (the worker still commits it).
 */
bool
recorder_send_prepared(RecorderPrepared *req, bool wait_reply)
{
	RecorderSlot *slot;
	bool		ok;

	if (recorder_shared == NULL || MyProc == NULL ||
		MyProc->pgprocno >= recorder_shared->nslots || !OidIsValid(MyDatabaseId))
	{
		recorder_discard(req);
		return false;
	}
	slot = &recorder_shared->slots[MyProc->pgprocno];
	HOLD_INTERRUPTS();
	ok = recorder_wait_slot(slot, NULL);
	if (ok)
	{
		recorder_publish(slot, req, false);
		if (wait_reply)
		{
			RecorderReply reply;

			ok = recorder_wait_slot(slot, &reply) && reply.ok;
		}
	}
	else
		recorder_discard(req);
	RESUME_INTERRUPTS();
	return ok;
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
	RecorderSlot *slot = recorder_my_slot();
	RecorderPrepared req;

	memset(reply, 0, sizeof(*reply));
	/* A request left by an earlier, interrupted call must finish first. */
	if (!recorder_wait_slot(slot, NULL))
	{
		strlcpy(reply->errmsg, "timed out waiting for an earlier request", sizeof(reply->errmsg));
		return;
	}

	recorder_prepare(&req, kind, payload);
	recorder_publish(slot, &req, true);

	if (!recorder_wait_slot(slot, reply))
	{
		strlcpy(reply->errmsg, "timed out waiting for the recorder", sizeof(reply->errmsg));
		return;
	}
	if (!reply->ok && InterruptHoldoffCount == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("codeexec recorder failed: %s", reply->errmsg),
				 errdetail("The history row or quota update was not committed."),
				 errhint("The recorder commits in its own transaction: check that the extension is installed in this database and that the calling transaction holds no lock on codeexec_quota or codeexec_execution; see the server log.")));
}
