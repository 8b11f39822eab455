/*-------------------------------------------------------------------------
 *
 * spawn.h
 *	  Running the helper once in exec mode: fork + execve, feed it the
 *	  request, collect its response and diagnostics under a wall-clock
 *	  deadline, then reap it.  Backend only.
 *
 * Whatever happens (deadline, cancel, ERROR, FATAL, postmaster death) the
 * child is SIGKILLed and reaped and every pipe is closed before control
 * leaves spawn_run() or the process exits.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_SPAWN_H
#define CODEEXEC_SPAWN_H

#include "postgres.h"

/* How much of the helper's stderr is kept for error messages. */
#define SPAWN_DIAG_KEEP 4096

typedef struct SpawnResult
{
	bool		timed_out;		/* we SIGKILLed it at the deadline */
	bool		response_overflow;	/* it sent more than response_cap bytes */
	int			wait_status;	/* from wait4(), valid when not timed out */
	char	   *response;		/* palloc'd; response_len bytes */
	size_t		response_len;
	char	   *diagnostics;	/* palloc'd, NUL-terminated, at most
								 * SPAWN_DIAG_KEEP bytes */
	size_t		diagnostics_len;
	double		wall_seconds;
	double		cpu_seconds;	/* user + system time from rusage */
	int64		peak_rss_kb;	/* ru_maxrss from rusage */
} SpawnResult;

/*
 * Run the helper at path with the given request frame.  ERRORs only for
 * server-side failures (cannot create pipes, fork, or execute the helper)
 * and for interrupts (cancel, statement_timeout); everything the helper
 * does is reported in *result.
 */
extern void spawn_run(const char *path, const char *request, size_t request_len,
					  int timeout_ms, size_t response_cap, SpawnResult *result);

#endif
