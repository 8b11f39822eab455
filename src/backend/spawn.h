/*-------------------------------------------------------------------------
 *
 * spawn.h
 *	  Running the helper once in exec mode: fork + execve, feed it the
 *	  request, collect its response and diagnostics under a wall-clock
 *	  deadline, then reap it; and the same loop for a child someone else
 *	  forked (channel mode, spawn mode forkserver).  Backend only.
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
	double		cpu_seconds;	/* user + system time from rusage; if we
								 * killed it alive, as read before the kill */
	int64		peak_rss_kb;	/* ru_maxrss from rusage */
	bool		settled;		/* channel: ended by the settle callback, the
								 * figures read from the live child */
} SpawnResult;

/*
 * What exec mode runs: argv[0] is an absolute path (no PATH search: the
 * environment is empty), argv is NULL-terminated; what and hint go into
 * the ERROR when it cannot be executed.  The helper itself, or runsc running
 * it (spawn_gvisor.c).
 */
typedef struct SpawnProgram
{
	char	   *const *argv;
	const char *what;			/* for the ERROR: "the codeexec helper" */
	const char *hint;

	/*
	 * Whether the program's wait4 rusage misses CPU of processes it
	 * started (runsc: its sandbox's): if so, the CPU clocks of the whole
	 * tree are also read whenever output arrives, the response last, and
	 * cpu_seconds is the larger figure.
	 */
	bool		sample_tree_cpu;
} SpawnProgram;

/* what and hint for the helper itself (exec mode, and gvisor's check) */
#define SPAWN_HELPER_WHAT "the codeexec helper"
#define SPAWN_HELPER_HINT \
	"Check codeexec.helper_path, or install the helper with \"make install\"."

/*
 * Run the program with the given request frame on its stdin.  ERRORs only
 * for server-side failures (cannot create pipes, fork, or execute it) and
 * for interrupts (cancel, statement_timeout); everything the helper does
 * is reported in *result.
 */
extern void spawn_run(const SpawnProgram *program, const char *request, size_t request_len,
					  int timeout_ms, size_t response_cap, SpawnResult *result);

/*
 * Channel mode (spawn mode "forkserver"): the same wait loop, deadline,
 * cancel and cleanup discipline, for a child somebody else forked.
 * `start(arg, deadline)` reaches the child and hands every descriptor to
 * spawn_adopt() as soon as it exists (so an ERROR in start still closes
 * it); it returns false if the deadline passed first (status timeout).
 * The descriptors: SPAWN_ADOPT_PIDFD (SIGKILLed on deadline, cancel and
 * ERROR), SPAWN_ADOPT_REQUEST (written, then shut down for writing),
 * SPAWN_ADOPT_RESPONSE (read to EOF), SPAWN_ADOPT_EXIT (read to EOF into
 * result->diagnostics; its EOF means the child has been reaped).  Each
 * must count as an external fd (AcquireExternalFD) and be non-blocking.
 * Unless settled (below), wait_status, cpu_seconds and peak_rss_kb are
 * left zero: the caller fills them from what it read on the exit
 * descriptor.
 */
typedef bool (*SpawnStartFn) (void *arg, double deadline);

/*
 * Channel mode may end a call before the child exits: once response bytes
 * are in, `settle(arg, pidfd, response, len, result)` says whether they are
 * a complete response whose figures it has read into result and whose
 * child it has killed through pidfd (DONE: the loop stops; the cleanup
 * then sends no second SIGKILL), not yet (NOT_YET), or that
 * the call must end the usual way (NO: the response descriptor is closed,
 * which tells a child waiting for us to exit, and the loop waits for the
 * exit descriptor's EOF).
 */
typedef enum SpawnSettle
{
	SPAWN_SETTLE_NOT_YET,
	SPAWN_SETTLE_DONE,
	SPAWN_SETTLE_NO
} SpawnSettle;
typedef SpawnSettle (*SpawnSettleFn) (void *arg, int pidfd, const char *response,
									  size_t response_len, SpawnResult *result);

#define SPAWN_ADOPT_REQUEST	0
#define SPAWN_ADOPT_RESPONSE 1
#define SPAWN_ADOPT_EXIT	2
#define SPAWN_ADOPT_PIDFD	3

extern void spawn_run_channel(SpawnStartFn start, SpawnSettleFn settle, void *arg,
							  const char *request, size_t request_len,
							  int timeout_ms, size_t response_cap,
							  SpawnResult *result);
extern void spawn_adopt(int which, int fd);

/*
 * Close an adopted descriptor (not the pidfd) before the loop runs.
 * Releasing SPAWN_ADOPT_REQUEST also rewinds the request: a channel
 * adopted later gets it from its first byte.
 */
extern void spawn_release(int which);

/*
 * From `start`: write as much of the request as the adopted request
 * descriptor takes now, without waiting (the loop writes the rest), and
 * shut it down for writing if that was all.
 */
extern void spawn_send_request(void);

/*
 * From `start`, once a request may reach a child before its pidfd is
 * adopted: if the call ends before that (ERROR, FATAL, deadline),
 * spawn_cleanup() first calls fn(response fd), which must make sure that
 * child dies or never runs the request.  NULL clears it.
 */
typedef void (*SpawnAbandonFn) (int response_fd);
extern void spawn_set_abandon(SpawnAbandonFn fn);

/*
 * CPU of a call that ends with its child killed.  When the deadline,
 * a cancel, an ERROR or a FATAL ends a call whose child is still alive,
 * spawn.c reads the CPU that child has used just before it kills it, so
 * that a call cut short is charged what it burnt (rusage after the kill
 * would miss it: exec mode's sandboxed runner dies unreaped by its waiter;
 * a fork-server child is reaped by the server).  Exec mode reads the CPU
 * clocks of the whole process tree it started; channel mode calls the
 * `measure` set with spawn_set_measure() (from `start`, once it knows the
 * child), which returns false when it cannot tell.  The cpu_seconds of a
 * result whose child was killed alive (deadline, response overflow) is
 * that reading; spawn_killed_cpu_seconds() returns the last call's
 * reading (also after a cancel, an ERROR or a FATAL), or -1 if its child
 * was not killed alive or could not be read.
 */
typedef bool (*SpawnMeasureFn) (void *arg, double *cpu_seconds);
extern void spawn_set_measure(SpawnMeasureFn fn, void *arg);
extern double spawn_killed_cpu_seconds(void);
/* A new call begins (before its admission): forget the last reading. */
extern void spawn_forget_killed_cpu(void);

/*
 * Kill (reading its CPU first) and reap the current call's child, if any,
 * and close its descriptors: what the cleanup does on ERROR and at exit,
 * for an exit callback that must see the reading whatever the order in
 * which the callbacks were registered.
 */
extern void spawn_kill_current(void);

/* CLOCK_MONOTONIC in seconds (the clock of every deadline). */
extern double spawn_now(void);

/* A CPU clock (clock_getcpuclockid) in seconds; false if it cannot be read. */
extern bool spawn_cpu_clock_seconds(clockid_t clock, double *seconds);

#endif
