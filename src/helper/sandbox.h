/*-------------------------------------------------------------------------
 *
 * sandbox.h
 *	  The helper's OS isolation layers, entered in two steps around CPython
 *	  start-up (see main.c for the order):
 *
 *	  sandbox_prepare()  before CPython starts: namespaces (user, PID, net,
 *	                     mount with a minimal read-only root, IPC, UTS).
 *	                     May fork: with a new PID namespace the process that
 *	                     goes on to run Python is the namespace's first
 *	                     child; the original process stays behind as a
 *	                     waiter and never returns from this call.
 *	  sandbox_lock()     after CPython and the allowed modules are loaded:
 *	                     Landlock deny-all, then the seccomp allowlist.
 *
 * Each returns 0 on success.  On failure it returns -1 with a message in
 * errbuf naming the layer and the step; the caller reports status
 * "sandbox_error" when isolation is required, else records the layer as
 * inactive and goes on.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_SANDBOX_H
#define CODEEXEC_SANDBOX_H

#include <stddef.h>
#include <sys/mman.h>

/* Linux 5.14; older headers lack it (the kernel then refuses it: EINVAL) */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

extern int	sandbox_prepare(int require, char *errbuf, size_t errlen);
extern int	sandbox_lock(int require, char *errbuf, size_t errlen);

/*
 * A pooled fork-server child locks itself before its call exists, in two
 * steps.  sandbox_lock_pooled(): no_new_privs, Landlock and seccomp, the
 * latter still allowing the hand-off calls (accept the connection, send
 * the backend its descriptors, lower RLIMIT_AS/CPU, load the seal); no
 * failure is fatal yet.  sandbox_seal(), after the call's rlimits are set:
 * record them, fail (with `require`) if any layer is inactive, and trap
 * the hand-off calls again, leaving exactly sandbox_lock()'s policy.
 * Returns 0, or -1 with errbuf set.
 */
extern void sandbox_lock_pooled(void);
extern int	sandbox_seal(int require, char *errbuf, size_t errlen);

/*
 * Whether the pooled filter (built so far, in the server or this child)
 * lets process_madvise(MADV_POPULATE_WRITE) through until the seal; a
 * libseccomp that does not know the call leaves it out, and the child then
 * copies its pages with madvise() (forkserver_prefault.c).
 */
extern int	sandbox_pooled_populates(void);

/*
 * A forbidden system call (seccomp SIGSYS) is reported by a signal handler
 * that writes a complete "killed" response frame naming the call to this
 * descriptor, then dies of SIGSYS.  Default 1 (the response pipe); call
 * before sandbox_lock() only if main.c moves the response pipe elsewhere.
 */
extern void sandbox_set_response_fd(int fd);

/*
 * Spawn mode gvisor (request flag WIRE_FLAG_IN_GVISOR): runsc's container
 * already gives the process its minimal root, and gVisor lacks Landlock
 * and the setgroups file; sandbox_prepare() and sandbox_lock() check and
 * record those layers accordingly.  Call before sandbox_prepare().
 */
extern void sandbox_set_gvisor(int in_gvisor);

/* JSON array describing each layer: [{"layer":..,"active":..,"detail":..}] */
extern const char *sandbox_report_json(void);

#endif
