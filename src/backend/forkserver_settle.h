/*-------------------------------------------------------------------------
 *
 * forkserver_settle.h
 *	  Ending a fork-server call when its response is complete, with the
 *	  figures read from the live child (forkserver_settle.c).  Backend only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_FORKSERVER_SETTLE_H
#define CODEEXEC_FORKSERVER_SETTLE_H

#include "postgres.h"

#include <time.h>

#include "spawn.h"

typedef struct FsSettle
{
	bool		ready;			/* pid and CPU clock known */
	pid_t		pid;			/* the child, in our PID namespace */
	clockid_t	cpu_clock;		/* its process CPU clock */
	double		cpu_start;		/* that clock when it sent its hello */
	int			status_fd;		/* its /proc status, opened at the hello; -1 */
} FsSettle;

/* Before the call: nothing known, nothing open. */
extern void fs_settle_init(FsSettle *s);

/*
 * At the hello: the child's pid (asked of its pidfd), the CPU clock
 * reading the hello carried, and its /proc status file opened.
 */
extern void fs_settle_begin(FsSettle *s, int pidfd, uint64 hello_cpu_nsec);

/*
 * Whether `response` is one complete frame and, if so, the figures are
 * read into result and the child is SIGKILLed (SPAWN_SETTLE_DONE).
 */
extern SpawnSettle fs_settle_try(FsSettle *s, int pidfd, const char *response,
								 size_t response_len, SpawnResult *result);

/*
 * The CPU the live child has used on the call so far (its clock now minus
 * its hello's reading), for a call about to be ended by killing it; false
 * before the hello or once the child is gone.
 */
extern bool fs_settle_cpu_used(FsSettle *s, double *cpu_seconds);

/* After the call, however it ended (also from PG_FINALLY): close the file. */
extern void fs_settle_end(FsSettle *s);

#endif
