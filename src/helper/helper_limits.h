/*-------------------------------------------------------------------------
 *
 * helper_limits.h
 *	  Baseline process limits of the helper (limits.c): no_new_privs,
 *	  death with the parent, and the rlimits derived from the request.
 *	  Not named limits.h, which would shadow the C library's header.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_HELPER_LIMITS_H
#define CODEEXEC_HELPER_LIMITS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Open-file ceiling while Python runs (pipes + a few for start-up). */
#define LIMITS_NOFILE		32

/*
 * Set PR_SET_NO_NEW_PRIVS and PR_SET_PDEATHSIG(SIGKILL), then check that
 * the parent is still `expected_parent` (it may have died before the
 * death signal was armed).  Returns 0, or -1 with errbuf set.
 */
extern int	limits_process(pid_t expected_parent, char *errbuf, size_t errlen);

/*
 * Apply the rlimits: RLIMIT_AS from memory_mb, RLIMIT_CPU from timeout_ms
 * (ceil(timeout/1000)+1 s soft, one more second hard), RLIMIT_FSIZE 0,
 * RLIMIT_NOFILE LIMITS_NOFILE, RLIMIT_NPROC 0, RLIMIT_CORE 0.  Call after
 * the last fork.  Returns 0, or -1 with errbuf naming the limit.
 */
extern int	limits_apply(int64_t memory_mb, int64_t timeout_ms,
						 char *errbuf, size_t errlen);

/*
 * limits_apply() in two halves, for a pooled fork-server child: the limits
 * every call shares (FSIZE, NOFILE, NPROC, CORE), set before its call
 * exists, and the call's own (AS, CPU) once the request is read.
 */
extern int	limits_apply_shared(char *errbuf, size_t errlen);
extern int	limits_apply_call(int64_t memory_mb, int64_t timeout_ms,
							  char *errbuf, size_t errlen);

/*
 * True if the address space has less than a few MiB left below RLIMIT_AS,
 * i.e. a failure just seen was most likely for lack of memory.  Only makes
 * a syscall pair (mmap/munmap), so it is safe in a signal handler.
 */
extern int	limits_memory_exhausted(void);

#endif
