/*-------------------------------------------------------------------------
 *
 * recorder_int.h
 *	  Shared-memory layout of the recorder, private to recorder_*.c.
 *
 * Locking: every field of RecorderShared (database entries and request
 * slots) is read and written under RecorderShared->lock, held only for
 * short copies.  A slot belongs to the backend whose pgprocno is its index;
 * its life is FREE -> PENDING (backend published a request) -> TAKEN (the
 * worker of slot->dboid copied it) -> DONE (worker committed and wrote the
 * reply) -> FREE (backend read the reply).  A backend that stops waiting
 * (cancel, exit) leaves its request to the worker, which still commits it;
 * the next request from that slot first waits for it to be DONE.
 *
 * A payload that does not fit inline goes into a pinned DSM segment whose
 * handle is in the slot; the worker unpins it after copying, so the
 * segment outlives a backend that exits right after publishing.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_RECORDER_INT_H
#define CODEEXEC_RECORDER_INT_H

#include "postgres.h"
#include "recorder.h"
#include "storage/dsm.h"
#include "storage/lwlock.h"
#include "utils/timestamp.h"

#define RECORDER_MAX_DBS		32
#define RECORDER_INLINE_BYTES	4096
#define RECORDER_MAX_BATCH		64
/* A worker idle this long exits, so DROP DATABASE (which waits 5 s) works. */
#define RECORDER_IDLE_EXIT_MS	2000
/* A STARTING entry older than this is taken to be a failed launch. */
#define RECORDER_START_STALE_MS	10000

typedef enum RecorderSlotState
{
	RSLOT_FREE = 0,
	RSLOT_PENDING,
	RSLOT_TAKEN,
	RSLOT_DONE
} RecorderSlotState;

typedef enum RecorderDbState
{
	RDB_NONE = 0,
	RDB_STARTING,
	RDB_RUNNING
} RecorderDbState;

typedef struct RecorderSlot
{
	RecorderSlotState state;
	RecorderKind kind;
	Oid			dboid;
	dsm_handle	handle;			/* DSM_HANDLE_INVALID: payload is inline */
	uint32		len;
	RecorderReply reply;
	char		inline_data[RECORDER_INLINE_BYTES];
} RecorderSlot;

typedef struct RecorderDb
{
	Oid			dboid;			/* InvalidOid: entry unused */
	RecorderDbState state;
	int			procno;			/* worker's pgprocno when RUNNING */
	TimestampTz starting_since;
} RecorderDb;

typedef struct RecorderShared
{
	LWLock	   *lock;
	int			nslots;
	RecorderDb	dbs[RECORDER_MAX_DBS];
	RecorderSlot slots[FLEXIBLE_ARRAY_MEMBER];
} RecorderShared;

extern RecorderShared *recorder_shared;

/* recorder_shmem.c, called under the lock */
extern RecorderDb *recorder_find_db(Oid dboid, bool create);

/* recorder_apply.c: one item of a worker batch */
typedef struct RecorderItem
{
	int			slotno;
	RecorderKind kind;
	StringInfoData payload;
	RecorderReply reply;
} RecorderItem;

extern void recorder_apply_batch(RecorderItem *items, int nitems);

#endif
