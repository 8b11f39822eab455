/*-------------------------------------------------------------------------
 *
 * sandbox_seccomp.c
 *	  The seccomp layer: compiles the table of seccomp_policy.c with
 *	  libseccomp and loads it (on every thread, TSYNC), and reports a
 *	  forbidden call.
 *
 *	  Default action SCMP_ACT_TRAP rather than KILL_PROCESS, so the result
 *	  can name the call: the kernel skips the call and raises SIGSYS; our
 *	  handler (async-signal-safe: no malloc, no stdio) writes a complete
 *	  "killed" response frame naming the call (si_syscall, resolved to a
 *	  name from a table built before the filter is loaded) to the response
 *	  descriptor, then ends the process by re-raising SIGSYS.  When the
 *	  process is the init of its PID namespace (the runner is, whenever
 *	  that layer is up), Linux drops a default-action signal it sends
 *	  itself, so it then exits with 128 + SIGSYS, which outcome.c reads
 *	  alike (gVisor's kernel delivers the signal).  The trap cannot be
 *	  defused: replacing the SIGSYS handler is itself forbidden by the
 *	  policy, and a blocked or ignored SIGSYS is forced to its default
 *	  (kill) by the kernel.  Calls of a non-native architecture (i386 int
 *	  0x80, x32) take the same path.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "sandbox.h"
#include "sandbox_int.h"
#include "wire.h"

#define SBX_NAME_TABLE 512		/* x86_64 numbers are all below this */

/* namespace flags a thread-creating clone() must not carry */
#define SBX_CLONE_NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | \
							CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

static int	sbx_response_fd = 1;

/*
 * The filters.  SBX_FILTER_CALL is the policy table alone (exec mode).  A
 * pooled fork-server child locks itself before its call exists, so it
 * loads SBX_FILTER_POOLED, the policy plus the hand-off calls below, and
 * once the call's rlimits are set stacks SBX_FILTER_SEAL on top, which
 * traps exactly those calls again: the kernel applies the strictest
 * verdict of all loaded filters, so from then on the policy table is what
 * holds, as in exec mode.
 */
typedef enum SbxFilter
{
	SBX_FILTER_CALL = 0,
	SBX_FILTER_POOLED,
	SBX_FILTER_SEAL,
	SBX_FILTER_COUNT
} SbxFilter;

/*
 * What a pooled child does between its lock and its call's code: copy
 * the pages a call writes (process_madvise, MADV_POPULATE_WRITE, through
 * the pidfd of itself it holds: forkserver_prefault.c), accept4 the
 * backend's connection, sendmsg it the pidfd and exit pipe, lower its own
 * RLIMIT_AS/CPU (prlimit64 on itself with a new limit), and load the seal
 * (seccomp).
 */
static const char *const sbx_handoff_calls[] = {
	"process_madvise", "accept4", "sendmsg", "prlimit64", "seccomp"
};

/*
 * Programs compiled ahead of time (fork server: once in the server, for
 * all children) by sbx_seccomp_precompile(); NULL: compile at apply time.
 */
typedef struct SbxProgram
{
	struct sock_filter *insns;
	unsigned short len;
} SbxProgram;

static SbxProgram sbx_progs[SBX_FILTER_COUNT];
/* the policy table's figures for the report, counted when it is built */
static int	sbx_policy_allowed;
static int	sbx_policy_errnoed;
static pid_t sbx_self_pid;		/* SBX_ARG_SELF_PID value; 0: getpid() */
static int	sbx_names_ready;
static const char *sbx_syscall_names[SBX_NAME_TABLE];
static uint32_t sbx_native_arch;
static int	sbx_pooled_populates;	/* the pooled filter has process_madvise */

void
sbx_seccomp_set_response_fd(int fd)
{
	sbx_response_fd = fd;
}

/* ---- the SIGSYS reporter (async-signal-safe from here to the handler) ---- */

static size_t
sbx_put_bytes(char *buf, size_t off, const void *src, size_t len)
{
	memcpy(buf + off, src, len);
	return off + len;
}

static size_t
sbx_put_u32(char *buf, size_t off, uint32_t v)
{
	unsigned char b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24};

	return sbx_put_bytes(buf, off, b, 4);
}

static size_t
sbx_put_text_field(char *buf, size_t off, uint16_t tag, const char *s, size_t len)
{
	unsigned char t[2] = {tag & 0xff, tag >> 8};

	off = sbx_put_bytes(buf, off, t, 2);
	off = sbx_put_u32(buf, off, (uint32_t) len);
	return sbx_put_bytes(buf, off, s, len);
}

static size_t
sbx_put_str(char *buf, size_t off, size_t cap, const char *s)
{
	size_t		n = strlen(s);

	if (off + n > cap)
		n = cap - off;
	return sbx_put_bytes(buf, off, s, n);
}

static size_t
sbx_put_num(char *buf, size_t off, size_t cap, unsigned long v)
{
	char		digits[24];
	int			i = sizeof(digits);

	do
	{
		digits[--i] = '0' + (v % 10);
		v /= 10;
	} while (v != 0);
	while (i < (int) sizeof(digits) && off < cap)
		buf[off++] = digits[i++];
	return off;
}

/*
 * sbx_sigsys_handler: report the forbidden call and die of SIGSYS.  Only
 * the first trapping thread reports; SA_RESETHAND made SIGSYS default.
 */
static void
sbx_sigsys_handler(int sig, siginfo_t *si, void *uctx)
{
	static int	reported;
	char		msg[160];
	char		frame[256];
	size_t		mlen = 0;
	size_t		flen = 0;
	unsigned long nr = (unsigned long) si->si_syscall;
	sigset_t	set;

	if (__atomic_exchange_n(&reported, 1, __ATOMIC_SEQ_CST) == 0)
	{
		mlen = sbx_put_str(msg, mlen, sizeof(msg), "forbidden system call ");
		if (si->si_arch != sbx_native_arch)
			mlen = sbx_put_str(msg, mlen, sizeof(msg), "of a non-native architecture ");
		else if (nr < SBX_NAME_TABLE && sbx_syscall_names[nr] != NULL)
		{
			mlen = sbx_put_str(msg, mlen, sizeof(msg), sbx_syscall_names[nr]);
			mlen = sbx_put_str(msg, mlen, sizeof(msg), " ");
		}
		mlen = sbx_put_str(msg, mlen, sizeof(msg), "(number ");
		mlen = sbx_put_num(msg, mlen, sizeof(msg), nr);
		mlen = sbx_put_str(msg, mlen, sizeof(msg), ") refused by the seccomp allowlist");

		flen = sbx_put_bytes(frame, 0, WIRE_RESPONSE_MAGIC, 4);
		flen = sbx_put_u32(frame, flen, 0);		/* patched below */
		flen = sbx_put_text_field(frame, flen, WIRE_RES_STATUS, WIRE_STATUS_KILLED,
								  strlen(WIRE_STATUS_KILLED));
		flen = sbx_put_text_field(frame, flen, WIRE_RES_ERROR_TYPE, "SIGSYS", 6);
		flen = sbx_put_text_field(frame, flen, WIRE_RES_ERROR_MESSAGE, msg, mlen);
		sbx_put_u32(frame, 4, (uint32_t) (flen - WIRE_HEADER_SIZE));
		for (size_t off = 0; off < flen;)
		{
			ssize_t		n = write(sbx_response_fd, frame + off, flen - off);

			if (n <= 0 && errno != EINTR)
				break;
			if (n > 0)
				off += (size_t) n;
		}
	}
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	syscall(SYS_tgkill, getpid(), (pid_t) syscall(SYS_gettid), SIGSYS);
	syscall(SYS_exit_group, 128 + SIGSYS);
}

/* ---- building and loading the filter ---- */

/*
 * sbx_add_rule: add one table entry to the filter; returns the libseccomp
 * result (0 or -errno).  *allowed counts syscalls that can succeed.
 */
static int
sbx_add_rule(scmp_filter_ctx ctx, const SbxSyscallRule *r, int nr, int *allowed,
			 int *errnoed)
{
	int			rc = 0;

	if (r->action == SBX_KILL)
		return 0;				/* the default action already */
	if (r->action == SBX_ERRNO)
	{
		(*errnoed)++;
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(r->err), nr, 0);
	}
	(*allowed)++;
	switch (r->args)
	{
		case SBX_ARG_ANY:
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
			break;
		case SBX_ARG_SELF_PID:
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
								  SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)
										  (sbx_self_pid ? sbx_self_pid : getpid())));
			break;
		case SBX_ARG_THREAD_ONLY:
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
								  SCMP_A0(SCMP_CMP_MASKED_EQ,
										  CLONE_THREAD | SBX_CLONE_NS_FLAGS, CLONE_THREAD));
			break;
		case SBX_ARG_NOT_SIGSYS:

			/*
			 * The filter compares all 64 bits of the register, the kernel
			 * reads the signal as an int from the low 32: "!= SIGSYS"
			 * would let SIGSYS | 1 << 32 through to replace the handler.
			 * So every signal but SIGSYS is allowed by exact ranges (1-30,
			 * 32-63, 64; 0 too, which the kernel refuses), SIGSYS only
			 * without a new action, and anything else traps.
			 */
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
								  SCMP_A0(SCMP_CMP_LT, SIGSYS));
			if (rc == 0)
				rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
									  SCMP_A0(SCMP_CMP_MASKED_EQ, ~(scmp_datum_t) 0x1f, 0x20));
			if (rc == 0)
				rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
									  SCMP_A0(SCMP_CMP_EQ, 64));
			if (rc == 0)
				rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 2,
									  SCMP_A0(SCMP_CMP_EQ, SIGSYS),
									  SCMP_A1(SCMP_CMP_EQ, 0));
			break;
		case SBX_ARG_PROT_NO_EXEC:
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
								  SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
			break;
		case SBX_ARG_EMPTY_PATH:
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
								  SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
			if (rc == 0)
				rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), nr, 1,
									  SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0));
			break;
		case SBX_ARG_READ_ONLY_LIMIT:
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 2,
								  SCMP_A0(SCMP_CMP_EQ, 0),
								  SCMP_A2(SCMP_CMP_EQ, 0));
			break;
	}
	return rc;
}

/*
 * sbx_install_reporter: name table and SIGSYS handler, before the filter
 * (resolving names allocates, which the handler must not do).
 */
static int
sbx_install_reporter(void)
{
	struct sigaction sa;

	sbx_native_arch = seccomp_arch_native();
	for (int nr = 0; !sbx_names_ready && nr < SBX_NAME_TABLE; nr++)
		if (sbx_syscall_names[nr] == NULL)
			sbx_syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	sbx_names_ready = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sbx_sigsys_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigfillset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL);
}

/*
 * sbx_add_handoff_rule: one hand-off call, allowed (POOLED) or trapped
 * (SEAL).  prlimit64 matters only on ourselves (pid 0) with a new limit:
 * reading stays the policy table's business.  seccomp is limited to adding
 * a filter, process_madvise to populating pages (the pidfd cannot be named
 * in a filter compiled once for every child; the only one a child holds
 * is its own, pidfd_open being outside the policy).
 */
static int
sbx_add_handoff_rule(scmp_filter_ctx ctx, SbxFilter which, const char *name)
{
	uint32_t	action = which == SBX_FILTER_SEAL ? SCMP_ACT_TRAP : SCMP_ACT_ALLOW;
	int			nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;
	if (strcmp(name, "prlimit64") == 0)
		return seccomp_rule_add(ctx, action, nr, 2, SCMP_A0(SCMP_CMP_EQ, 0),
								SCMP_A2(SCMP_CMP_NE, 0));
	if (strcmp(name, "process_madvise") == 0 && which == SBX_FILTER_POOLED)
		return seccomp_rule_add(ctx, action, nr, 2,
								SCMP_A3(SCMP_CMP_EQ, MADV_POPULATE_WRITE),
								SCMP_A4(SCMP_CMP_EQ, 0));
	if (strcmp(name, "seccomp") == 0 && which == SBX_FILTER_POOLED)
		return seccomp_rule_add(ctx, action, nr, 1,
								SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER));
	return seccomp_rule_add(ctx, action, nr, 0);
}

/*
 * sbx_seccomp_build: filter `which` (see SbxFilter), in *ctx.  Returns 0,
 * or the libseccomp error with *failed naming the rule (NULL: set-up).
 */
static int
sbx_seccomp_build(SbxFilter which, scmp_filter_ctx *ctx, const char **failed)
{
	int			rc;

	*failed = NULL;
	if (which != SBX_FILTER_SEAL)
		sbx_policy_allowed = sbx_policy_errnoed = 0;
	*ctx = seccomp_init(which == SBX_FILTER_SEAL ? SCMP_ACT_ALLOW : SCMP_ACT_TRAP);
	if (*ctx == NULL)
		return -ENOMEM;
	rc = seccomp_attr_set(*ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	if (rc == 0)
		rc = seccomp_attr_set(*ctx, SCMP_FLTATR_CTL_TSYNC, 1);

	/*
	 * A binary tree on the call number instead of one long chain of
	 * comparisons.  Loading a filter, the kernel runs it once per call
	 * number of every architecture to find the calls it always allows
	 * (its action cache): through the chain that took ~130 us per pooled
	 * child.  Same verdicts; a libseccomp without the attribute (< 2.5)
	 * keeps the chain.  The seal's six rules are shorter as a chain.
	 */
	if (rc == 0 && which != SBX_FILTER_SEAL)
		(void) seccomp_attr_set(*ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (int i = 0; rc == 0 && which != SBX_FILTER_SEAL && i < sbx_seccomp_policy_len; i++)
	{
		const SbxSyscallRule *r = &sbx_seccomp_policy[i];
		int			nr = seccomp_syscall_resolve_name(r->name);

		if (nr == __NR_SCMP_ERROR)
			continue;			/* not a call of this architecture */
		rc = sbx_add_rule(*ctx, r, nr, &sbx_policy_allowed, &sbx_policy_errnoed);
		if (rc != 0)
			*failed = r->name;
	}
	for (size_t i = 0; rc == 0 && which != SBX_FILTER_CALL &&
		 i < sizeof(sbx_handoff_calls) / sizeof(sbx_handoff_calls[0]); i++)
	{
		rc = sbx_add_handoff_rule(*ctx, which, sbx_handoff_calls[i]);
		if (rc != 0)
			*failed = sbx_handoff_calls[i];
	}
	if (rc != 0)
	{
		seccomp_release(*ctx);
		*ctx = NULL;
	}
	else if (which == SBX_FILTER_POOLED)
		sbx_pooled_populates =
			seccomp_syscall_resolve_name("process_madvise") != __NR_SCMP_ERROR;
	return rc;
}

/* sandbox_pooled_populates: see sandbox.h. */
int
sandbox_pooled_populates(void)
{
	return sbx_pooled_populates;
}

/*
 * sbx_seccomp_export: compile ctx (released) into *prog.  Returns 0 or -1.
 */
static int
sbx_seccomp_export(scmp_filter_ctx ctx, SbxProgram *prog)
{
	int			fd = memfd_create("codeexec-seccomp", MFD_CLOEXEC);
	int			rc = fd < 0 ? -errno : seccomp_export_bpf(ctx, fd);
	off_t		size;

	seccomp_release(ctx);
	size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
	if (size > 0 && size % sizeof(struct sock_filter) == 0 &&
		size / sizeof(struct sock_filter) <= BPF_MAXINSNS &&
		(prog->insns = malloc(size)) != NULL &&
		pread(fd, prog->insns, size, 0) == size)
		prog->len = (unsigned short) (size / sizeof(struct sock_filter));
	else
	{
		free(prog->insns);
		prog->insns = NULL;
	}
	if (fd >= 0)
		close(fd);
	return prog->insns != NULL ? 0 : -1;
}

/*
 * sbx_seccomp_precompile: see sandbox_int.h.  Compiles the pooled child's
 * two filters.
 */
int
sbx_seccomp_precompile(pid_t self_pid, char *errbuf, size_t errlen)
{
	static const SbxFilter wanted[] = {SBX_FILTER_POOLED, SBX_FILTER_SEAL};

	sbx_self_pid = self_pid;
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
	{
		scmp_filter_ctx ctx;
		const char *failed;
		int			rc = sbx_seccomp_build(wanted[i], &ctx, &failed);

		if (rc != 0)
		{
			sandbox_errorf(errbuf, errlen, "seccomp: rule for %s: %s",
						   failed ? failed : "(set-up)", strerror(-rc));
			return -1;
		}
		if (sbx_seccomp_export(ctx, &sbx_progs[wanted[i]]) != 0)
		{
			sandbox_errorf(errbuf, errlen, "seccomp: exporting the compiled filter failed");
			return -1;
		}
	}
	if (sbx_install_reporter() == 0)	/* names resolved once, here */
		signal(SIGSYS, SIG_DFL);
	return 0;
}

/*
 * sbx_seccomp_load: load filter `which`, precompiled or compiled now, on
 * every thread.  Returns 0; on failure the layer is recorded as failed and
 * the result is -1 with `require` (errbuf set), 1 without.
 */
static int
sbx_seccomp_load(SbxFilter which, int require, char *errbuf, size_t errlen)
{
	scmp_filter_ctx ctx;
	const char *failed;
	int			rc;

	if (sbx_progs[which].insns != NULL)
	{
		struct sock_fprog prog = {.len = sbx_progs[which].len, .filter = sbx_progs[which].insns};

		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC,
					&prog) != 0)
			return sandbox_layer_fail(SBX_SECCOMP, require, errbuf, errlen, errno,
									  "seccomp(SECCOMP_SET_MODE_FILTER) of the precompiled filter") != 0 ? -1 : 1;
		return 0;
	}
	rc = sbx_seccomp_build(which, &ctx, &failed);
	if (rc != 0)
		return sandbox_layer_fail(SBX_SECCOMP, require, errbuf, errlen, -rc,
								  "rule for %s", failed ? failed : "(set-up)") != 0 ? -1 : 1;
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0)
		return sandbox_layer_fail(SBX_SECCOMP, require, errbuf, errlen, -rc,
								  "seccomp_load") != 0 ? -1 : 1;
	return 0;
}

/* The layer's record: the policy table's figures, and a note. */
static void
sbx_seccomp_record(const char *note)
{
	sandbox_layer_set(SBX_SECCOMP, 1,
					  "allowlist: %d syscalls allowed (some with argument checks), "
					  "%d refused with an errno, default SIGSYS trap reporting the call "
					  "then killing; non-native architectures trapped%s",
					  sbx_policy_allowed, sbx_policy_errnoed, note);
}

/*
 * sbx_seccomp_lock: install the reporter, then load the policy (CALL) or
 * the policy plus hand-off calls (POOLED).  The last layer: after it,
 * only the table's calls (and the hand-off calls until the seal) work.
 * Returns 0 (also when a layer failure was only recorded) or -1.
 */
static int
sbx_seccomp_lock(SbxFilter which, int require, char *errbuf, size_t errlen)
{
	int			rc;

	if (sandbox_layer_disabled(SBX_SECCOMP))
		return sandbox_layer_fail(SBX_SECCOMP, require, errbuf, errlen, 0,
								  "disabled by test knob");
	if (sbx_install_reporter() != 0)
		return sandbox_layer_fail(SBX_SECCOMP, require, errbuf, errlen, errno,
								  "sigaction(SIGSYS)");
	rc = sbx_seccomp_load(which, require, errbuf, errlen);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	sbx_seccomp_record(which == SBX_FILTER_POOLED ? "; hand-off calls not yet sealed" : "");
	return 0;
}

int
sbx_seccomp_apply(int require, char *errbuf, size_t errlen)
{
	return sbx_seccomp_lock(SBX_FILTER_CALL, require, errbuf, errlen);
}

int
sbx_seccomp_apply_pooled(char *errbuf, size_t errlen)
{
	return sbx_seccomp_lock(SBX_FILTER_POOLED, 0, errbuf, errlen);
}

/*
 * sbx_seccomp_seal: see sandbox_int.h.  The layer's detail loses the
 * "not yet sealed" note, so a report says what holds while code runs.
 */
int
sbx_seccomp_seal(int require, char *errbuf, size_t errlen)
{
	int			rc = sbx_seccomp_load(SBX_FILTER_SEAL, require, errbuf, errlen);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	sbx_seccomp_record("");
	return 0;
}
