/*-------------------------------------------------------------------------
 *
 * recorder.h
 *	  The recorder: commits history rows and quota accounting independently
 *	  of the caller's transaction, so ROLLBACK cannot undo them.  Backend
 *	  only.
 *
 * A backend hands a request (admit, charge or record) to the recorder
 * worker of its database through shared memory and waits on its latch for
 * the reply, which arrives only after the worker's transaction committed.
 * One worker per database is started on first use and exits when idle.
 * The library must be in shared_preload_libraries (the shared memory is
 * requested at postmaster start); recorder_require_preloaded() raises the
 * documented ERROR otherwise.
 *
 * Calls run.c / _PG_init make:
 *	  _PG_init:  quota_define_gucs();  (before MarkGUCPrefixReserved)
 *				 if (process_shared_preload_libraries_in_progress)
 *					 recorder_init();
 *	  codeexec_run, before anything else:  recorder_require_preloaded();
 *	  then, before quota_admit():  history_begin(&rec_of_the_inputs);
 *	  then as before: quota_admit(), quota_charge(), history_record().
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_RECORDER_H
#define CODEEXEC_RECORDER_H

#include "postgres.h"
#include "lib/stringinfo.h"

typedef enum RecorderKind
{
	RECORDER_ADMIT = 1,			/* check-and-consume one execution */
	RECORDER_CHARGE,			/* add CPU seconds after a run */
	RECORDER_RECORD				/* insert one codeexec_execution row */
} RecorderKind;

typedef struct RecorderReply
{
	bool		ok;				/* false: the worker failed; see errmsg */
	bool		admitted;		/* RECORDER_ADMIT */
	int64		id;				/* RECORDER_RECORD: the committed row's id */
	char		errmsg[256];
} RecorderReply;

extern void recorder_init(void);
extern void recorder_require_preloaded(void);

/*
 * codeexec.recorder_synchronous_commit (recorder_apply.c): off makes the
 * recorder's commits asynchronous (synchronous_commit = off for them).
 */
extern bool recorder_synchronous_commit;
extern void recorder_define_gucs(void);

/*
 * Send one request (payload encoded by recorder_msg.c) and wait for the
 * committed reply.  Raises ERROR if the worker reports a failure.
 */
extern void recorder_call(RecorderKind kind, StringInfo payload,
						  RecorderReply *reply);

/*
 * A request made ready in advance (recorder_prepare, which may ERROR), to
 * be sent later from a path that must not fail or wait long (transaction
 * abort, backend exit): recorder_send_prepared publishes it and waits (or
 * not) for the commit, bounded; recorder_discard drops it.
 */
typedef struct RecorderPrepared
{
	RecorderKind kind;
	uint32		len;
	char	   *data;			/* inline copy (TopMemoryContext), or NULL */
	uint32		handle;			/* else a pinned DSM segment's handle */
} RecorderPrepared;

extern void recorder_prepare(RecorderPrepared *req, RecorderKind kind,
							 StringInfo payload);
extern bool recorder_send_prepared(RecorderPrepared *req, bool wait_reply);
extern void recorder_discard(RecorderPrepared *req);

/* Worker entry point (registered dynamically, one per database). */
extern PGDLLEXPORT void recorder_worker_main(Datum main_arg);

#endif
