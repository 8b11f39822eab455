/*-------------------------------------------------------------------------
 *
 * slots.c
 *	  Concurrency slots as advisory locks (see slots.h).  Slot i is the
 *	  exclusive advisory lock with database 0 (so the cap is cluster-wide),
 *	  key (SLOTS_LOCK_KEY, i) and field4 SLOTS_LOCK_FIELD4, a value that
 *	  pg_advisory_lock() never uses (it uses 1 and 2), so no user lock can
 *	  collide with a slot.  In pg_locks a slot shows as locktype 'advisory',
 *	  database 0, classid SLOTS_LOCK_KEY, objid i, objsubid 0xCE.
 *
 * Locks are session locks, so they survive ERROR; the caller releases in
 * PG_FINALLY and process exit releases everything.  Waiting is a normal
 * lock wait: cancel, statement_timeout and lock_timeout end it, and the
 * deadlock detector is never needed because a backend holds at most one
 * slot and waits only while holding none.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/lock.h"

#include "codeexec.h"
#include "slots.h"

#define SLOTS_LOCK_KEY 0x43584543	/* "CXEC" */
#define SLOTS_LOCK_FIELD4 0xCE

static void
slots_tag(LOCKTAG *tag, int slot)
{
	SET_LOCKTAG_ADVISORY(*tag, InvalidOid, SLOTS_LOCK_KEY, (uint32) slot,
						 SLOTS_LOCK_FIELD4);
}

int
slots_acquire(void)
{
	int			n = codeexec_max_concurrent;
	LOCKTAG		tag;

	if (n <= 0)
		return -1;
	/* Any free slot, starting at a per-backend offset to spread contention. */
	for (int i = 0; i < n; i++)
	{
		int			slot = (MyProcPid + i) % n;

		slots_tag(&tag, slot);
		if (LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL)
			return slot;
	}
	/* All busy: queue on one of them (a fair, interruptible lock wait). */
	slots_tag(&tag, MyProcPid % n);
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
	return MyProcPid % n;
}

void
slots_release(int slot)
{
	LOCKTAG		tag;

	if (slot < 0)
		return;
	slots_tag(&tag, slot);
	LockRelease(&tag, ExclusiveLock, true);
}
