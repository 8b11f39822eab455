/*-------------------------------------------------------------------------
 *
 * forkserver.h
 *	  Spawn mode "forkserver" on the backend side: the background worker
 *	  that supervises the fork server (forkserver_worker.c), the shared
 *	  state it publishes (forkserver_shmem.c) and the client a backend uses
 *	  to run one execution in a pooled child (forkserver_client.c).  The
 *	  helper side is src/helper/forkserver*.c; the protocol is
 *	  src/common/forkserver_proto.h.
 *
 * Shared state: one ForkserverShared struct, written only by the worker,
 * read by backends; every access holds its spinlock (a handful of loads
 * or stores, never a system call).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_FORKSERVER_H
#define CODEEXEC_FORKSERVER_H

#include "postgres.h"

#include <sys/un.h>

#include "storage/spin.h"

#include "spawn.h"

typedef struct ForkserverShared
{
	slock_t		mutex;
	bool		listening;		/* socket_path accepts connections */
	pid_t		server_pid;		/* the running fork server, 0 if none */
	uint32		generation;		/* servers started since the postmaster */
	bool		exec_failed;	/* the last server could not be executed */
	char		socket_path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
} ForkserverShared;

/* Pool size of the fork server (codeexec.forkserver_pool_size). */
extern int	codeexec_forkserver_pool_size;

/*
 * What idle children do before they take a call (codeexec.forkserver_prewarm):
 * one of FORKSERVER_PREWARM_* (forkserver_proto.h), passed to the server as is.
 */
extern int	codeexec_forkserver_prewarm;

/*
 * From _PG_init: define the fork-server GUCs and, when the library is
 * being preloaded, request shared memory and register the worker.
 */
extern void forkserver_register(void);

/* forkserver_shmem.c: the shared struct, NULL unless preloaded. */
extern ForkserverShared *forkserver_shared;
extern void forkserver_shmem_register(void);

/*
 * forkserver_client.c: run one request in a pooled child, with exactly
 * the contract of spawn_run() (spawn.h).  ERROR if the fork server is not
 * available (library not preloaded, worker not running).
 */
extern void forkserver_run(const char *request, size_t request_len,
						   int timeout_ms, size_t response_cap,
						   SpawnResult *result);

/* forkserver_worker.c: the worker's entry point. */
extern PGDLLEXPORT void forkserver_worker_main(Datum arg);

#endif
