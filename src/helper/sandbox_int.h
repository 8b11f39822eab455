/*-------------------------------------------------------------------------
 *
 * sandbox_int.h
 *	  Internal interface between the files that make up the helper's OS
 *	  isolation (sandbox.c orchestrates; namespaces.c, namespaces_mount.c,
 *	  landlock.c, sandbox_seccomp.c and seccomp_policy.c each own a layer).
 *	  Nothing outside src/helper/sandbox*.c and those files includes this.
 *
 * Layer bookkeeping: every layer has one SandboxLayer slot in a fixed table
 * (sandbox.c).  A layer's init function records the outcome with
 * sandbox_layer_set(); sandbox_report_json() prints the table.  All of it is
 * static storage: the helper is single-threaded while it sets up and the
 * table is never freed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_SANDBOX_INT_H
#define CODEEXEC_SANDBOX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef enum SandboxLayerId
{
	SBX_USER_NS = 0,
	SBX_PID_NS,
	SBX_NET_NS,
	SBX_MOUNT_NS,
	SBX_IPC_NS,
	SBX_UTS_NS,
	SBX_CAPABILITIES,
	SBX_NO_NEW_PRIVS,
	SBX_LANDLOCK,
	SBX_SECCOMP,
	SBX_RLIMITS,
	SBX_LAYER_COUNT
} SandboxLayerId;

/* Record a layer's outcome; detail is printf-formatted (truncated at 200). */
extern void sandbox_layer_set(SandboxLayerId id, int active, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/*
 * Whether the layer is switched off by the test-only knob.  Always 0 in
 * the production build: the knob exists only with -DCODEEXEC_TESTING.
 */
extern int	sandbox_layer_disabled(SandboxLayerId id);

/*
 * Record a layer that could not be set up (err: errno, 0 for none) and,
 * when isolation is required, format "<layer>: <message>" into errbuf.
 * Returns -1 when required (the caller stops), else 0 (set-up goes on).
 */
extern int	sandbox_layer_fail(SandboxLayerId id, int require, char *errbuf,
							   size_t errlen, int err, const char *fmt,...)
			__attribute__((format(printf, 6, 7)));

/* Format an error into errbuf as "<layer>: <step>: <strerror(errno)>". */
extern void sandbox_errorf(char *errbuf, size_t errlen, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* namespaces.c: user, IPC, UTS, net, mount and PID namespaces, in order. */
extern int	sbx_namespaces_enter(int require, char *errbuf, size_t errlen);
/* namespaces.c: the same without the PID namespace (fork server). */
extern int	sbx_namespaces_enter_shared(int require, char *errbuf, size_t errlen);

/* namespaces_mount.c: minimal read-only root inside the new mount ns. */
extern int	sbx_mount_minimal_root(char *errbuf, size_t errlen);
/* namespaces_mount.c: in gVisor, check runsc's container root instead. */
extern int	sbx_check_container_root(char *detail, size_t len);

/* sandbox.c: whether the request said we run in spawn mode gvisor. */
extern int	sandbox_in_gvisor(void);

/* namespaces.c: a small kernel setting file as text; false if unreadable. */
extern bool sbx_read_setting(const char *path, char *buf, size_t size);

/* namespaces.c: drop every capability the process holds in its user ns. */
extern int	sbx_clear_bounding_set(int *failed);
extern int	sbx_drop_capabilities(int bounding_cleared, int require, char *errbuf,
								  size_t errlen);

/* landlock.c: deny-all ruleset of the strongest ABI the kernel has. */
extern int	sbx_landlock_apply(int require, char *errbuf, size_t errlen);

/* sandbox_seccomp.c: load the allowlist of seccomp_policy.c. */
extern int	sbx_seccomp_apply(int require, char *errbuf, size_t errlen);

/*
 * Fork-server children (see SbxFilter in sandbox_seccomp.c): the policy
 * plus the hand-off calls, loaded before the call exists (failures only
 * recorded); then the seal that traps the hand-off calls again.
 */
extern int	sbx_seccomp_apply_pooled(char *errbuf, size_t errlen);
extern int	sbx_seccomp_seal(int require, char *errbuf, size_t errlen);
extern void sbx_seccomp_set_response_fd(int fd);

/*
 * sandbox_seccomp.c, fork server: compile the pooled and seal filters
 * once, ahead of time, for processes whose pid will be `self_pid` (1 for a
 * child that is alone in its PID namespace); sbx_seccomp_apply_pooled()
 * and sbx_seccomp_seal() then only load them.
 */
extern int	sbx_seccomp_precompile(pid_t self_pid, char *errbuf, size_t errlen);

/* seccomp_policy.c: the allowlist, as data. */
typedef enum SbxAction
{
	SBX_ALLOW,					/* permitted (possibly only for some args) */
	SBX_ERRNO,					/* refused with an errno; the process goes on */
	SBX_KILL					/* explicit kill (documents an attack call) */
} SbxAction;

typedef enum SbxArgRule
{
	SBX_ARG_ANY = 0,			/* no argument check */
	SBX_ARG_SELF_PID,			/* arg0 must be our own pid */
	SBX_ARG_THREAD_ONLY,		/* clone flags: CLONE_THREAD, no new ns */
	SBX_ARG_NOT_SIGSYS,			/* rt_sigaction: SIGSYS only queried */
	SBX_ARG_PROT_NO_EXEC,		/* mmap/mprotect: PROT_EXEC forbidden */
	SBX_ARG_EMPTY_PATH,			/* *at(): only with AT_EMPTY_PATH, else EACCES */
	SBX_ARG_READ_ONLY_LIMIT		/* prlimit64(0, res, NULL, old): read only */
} SbxArgRule;

typedef struct SbxSyscallRule
{
	const char *name;			/* libseccomp name, resolved for this arch */
	SbxAction	action;
	int			err;			/* errno for SBX_ERRNO */
	SbxArgRule	args;
	const char *reason;			/* why, for reviewers and docs/security.md */
} SbxSyscallRule;

extern const SbxSyscallRule sbx_seccomp_policy[];
extern const int sbx_seccomp_policy_len;

#endif
