/*-------------------------------------------------------------------------
 *
 * forkserver_shmem.c
 *	  The fork server's shared state (ForkserverShared, see forkserver.h):
 *	  requested in shmem_request_hook, created in shmem_startup_hook under
 *	  AddinShmemInitLock (PostgreSQL 15 style).  Only when the library is
 *	  in shared_preload_libraries.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "forkserver.h"

ForkserverShared *forkserver_shared = NULL;

static shmem_request_hook_type fs_prev_shmem_request_hook = NULL;
static shmem_startup_hook_type fs_prev_shmem_startup_hook = NULL;

static void
fs_shmem_request(void)
{
	if (fs_prev_shmem_request_hook)
		fs_prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(ForkserverShared)));
}

static void
fs_shmem_startup(void)
{
	bool		found;

	if (fs_prev_shmem_startup_hook)
		fs_prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	forkserver_shared = ShmemInitStruct("codeexec fork server",
										sizeof(ForkserverShared), &found);
	if (!found)
	{
		memset(forkserver_shared, 0, sizeof(ForkserverShared));
		SpinLockInit(&forkserver_shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Install the hooks; call from _PG_init while preloading only.
 */
void
forkserver_shmem_register(void)
{
	fs_prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = fs_shmem_request;
	fs_prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = fs_shmem_startup;
}
