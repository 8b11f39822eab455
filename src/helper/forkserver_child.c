/*-------------------------------------------------------------------------
 *
 * forkserver_child.c
 *	  The life of one pooled child of the fork server: exactly one
 *	  execution, then _exit.  Before any request exists it
 *
 *	  1. resets the signals the server changed, dies with the server
 *	     (PDEATHSIG, checked against the server's lifeline), points fds 1/2
 *	     away from the server log, drops its capabilities (it is pid 1 of
 *	     its own PID namespace; the bounding set came empty from the
 *	     server), sets no_new_privs;
 *	  2. sets the rlimits every call shares and locks itself (Landlock,
 *	     then seccomp with the hand-off calls still allowed: sandbox.h),
 *	     copies the pages a call writes (prewarm: forkserver_prefault.c),
 *	     warms up under that lock if it stays idle, then blocks in
 *	     accept() on the listening socket it inherited.
 *
 *	  Then, for the connection it got:
 *
 *	  3. closes the listening socket, sends the backend its CPU clock, a
 *	     pidfd of itself and the read end of its exit pipe
 *	     (forkserver_proto.h), then tells the server (notify pipe) so a
 *	     replacement is cloned;
 *	  4. reads the CXQ1 request until EOF, applies the call's rlimits
 *	     (address space, CPU; lowering what the server had), seals the
 *	     seccomp filter (the hand-off calls are trapped again), narrows the
 *	     import allowlist to the call's and validates/runs exactly as exec
 *	     mode does (main.c), writing the CXR1 response on the connection;
 *	  5. waits until the backend hangs up or kills it (fs_child_linger).
 *
 *	  Failures before the code runs are reported as a response with the
 *	  status exec mode would give (helper_error, sandbox_error).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "forkserver.h"
#include "forkserver_proto.h"
#include "helper_limits.h"
#include "pyrun.h"
#include "request.h"
#include "response.h"
#include "sandbox.h"
#include "wire.h"

#define FS_ERRLEN 512
#define FS_PREWARM_IDLE_MS 5	/* see fs_child_stays_idle() */

/* One validated execution of our own `code`; the outcome is dropped. */
static void
fs_run_own(const char *code, const char *context)
{
	char		errbuf[FS_ERRLEN];
	HelperRequest req;
	HelperResponse res;

	memset(&req, 0, sizeof(req));
	req.code = code;
	req.code_len = strlen(code);
	req.context = context;
	req.context_len = strlen(context);
	req.max_output = 4096;
	req.flags = WIRE_FLAG_VALIDATE;
	memset(&res, 0, sizeof(res));
	if (pyrun_execute(&req, &res, errbuf, sizeof(errbuf)) != PYRUN_OK &&
		write(2, errbuf, strnlen(errbuf, sizeof(errbuf))) < 0)
		return;
}

/*
 * Run up to `nsnippets` executions of our own code.  In the server,
 * before any child exists, all of them: the first-use work of the
 * validator and the runner (compiling their regular expressions, filling
 * caches: ~9 ms) is done once.  In an idle child (with prewarm) one, to
 * pre-fault (see fs_child_main).
 */
void
fs_warm_up(int nsnippets)
{
	static const char *const snippets[] = {
		"xs = [1, 2, 3]\nprint(sum(xs), len(context))\nresult = {'n': xs}\n",
		"def f(x):\n    return 1 / x\nf(0)\n",
		"print(1\n",
	};

	for (size_t i = 0; i < sizeof(snippets) / sizeof(snippets[0]) && i < (size_t) nsnippets; i++)
		fs_run_own(snippets[i], "{\"a\": 1}");
}

/*
 * What the request's first malloc (REQUEST_FIRST_BUFFER, request.c) would
 * trigger, done while idle: glibc consolidates any free fast-bin chunks,
 * writing chunk headers all over the heap, and extends the heap.  The
 * server runs without fast bins (forkserver_main), so a child inherits
 * none and this is cheap; it still catches chunks a child's own start-up
 * freed.  The block goes through a volatile pointer because a compiler may
 * drop free(malloc(n)) as dead code, as GCC 12 did here.
 */
static void
fs_child_consolidate_heap(void)
{
	void	   *volatile block = malloc(REQUEST_FIRST_BUFFER);

	free(block);
}

/*
 * What the prewarm "on" probe does (forkserver_learn.c): the commonest
 * small call, a validated print with the usual empty context.  The pages
 * it writes are, nearly all, pages any call writes (fs_prefault_learned).
 * A child's heap has the request's buffer at its top before the call
 * (request.c), so the call's own malloc'd objects land above it; the
 * probe holds a buffer of the same size so that they land on the same
 * pages (without it, 6 heap pages a call writes were not learned).
 */
void
fs_probe_call(void)
{
	char	   *volatile frame;

	fs_child_consolidate_heap();
	frame = malloc(REQUEST_FIRST_BUFFER);
	if (frame != NULL)
		frame[0] = 0;
	fs_run_own("print(1)\n", "{}");
	free(frame);
}

/*
 * Fds 1 and 2 were the server's log.  A child must not be able to write
 * there (user code could flood or forge log lines), so they become the
 * write end of a private non-blocking pipe whose read end the child also
 * holds: writes succeed until it is full, then fail with EAGAIN; nothing
 * ever reads it.  Failures before the code runs reach the backend in the
 * response instead (response_fail).
 */
static void
fs_child_quiet_stdio(void)
{
	int			sink[2];

	if (pipe2(sink, O_NONBLOCK | O_CLOEXEC) != 0 ||
		dup2(sink[1], 1) < 0 || dup2(sink[1], 2) < 0)
		_exit(1);
	close(sink[1]);
}

/* Step 1 (see file header).  Returns a set-up failure message or NULL. */
static const char *
fs_child_setup(const FsConfig *config, int pid_ns)
{
	static char errbuf[FS_ERRLEN];
	struct pollfd pfd = {.fd = FS_CHILD_FD_LIFELINE, .events = POLLIN};
	sigset_t	none;

	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&config->changed_signals, sig) == 1)
			(void) signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		_exit(1);
	/* the server's end of the lifeline closes only when it is gone */
	if (poll(&pfd, 1, 0) != 0)
		_exit(1);
	close(FS_CHILD_FD_LIFELINE);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		_exit(1);
	/*
	 * The server's huge pages stay shared (forkserver_hugepages.c), but
	 * this process gets none of its own: a fresh one is 2 MB zeroed for a
	 * call that may need a few kB, and khugepaged must not gather an idle
	 * child's copied pages into new ones.  Failure costs only memory.
	 */
	(void) prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	fs_child_quiet_stdio();
	if (fs_sandbox_child(pid_ns, config->bounding_cleared, errbuf, sizeof(errbuf)) != 0)
		return config->ns_error ? config->ns_error : errbuf;
	return config->ns_error;
}

/*
 * Step 3: the handoff.  Sends a ForkserverHello with our CPU clock, a
 * pidfd of this process (pid 1 in its namespace names itself) and the exit
 * pipe.  Returns 0, or -1 if the backend cannot be told (it has gone, or
 * will see EOF): then the request, already on its way, must not be read.
 */
static int
fs_child_handoff(int conn, int slot, int pidfd)
{
	int			fds[2];
	char		cbuf[CMSG_SPACE(sizeof(int) * 2)];
	ForkserverHello hello;
	struct iovec iov = {.iov_base = &hello, .iov_len = sizeof(hello)};
	struct msghdr msg;
	struct cmsghdr *cmsg;
	struct timespec cpu;
	ssize_t		n;
	FsNotice	notice;

	close(FORKSERVER_FD_LISTEN);
	fds[0] = pidfd;
	fds[1] = FS_CHILD_FD_EXIT;
	if (fds[0] < 0 || clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) != 0)
		return -1;
	memset(&hello, 0, sizeof(hello));
	memcpy(hello.magic, FORKSERVER_HELLO_MAGIC, sizeof(hello.magic));
	hello.cpu_nsec = (uint64_t) cpu.tv_sec * 1000000000 + cpu.tv_nsec;
	memset(&msg, 0, sizeof(msg));
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
	do
		n = sendmsg(conn, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	close(FS_CHILD_FD_EXIT);
	if (n != (ssize_t) sizeof(hello))
		return -1;

	/*
	 * Only then tell the server: waking it (often on an idle CPU, which
	 * costs the waker tens of microseconds under virtualisation) is not
	 * something the backend should wait for.
	 */
	memset(&notice, 0, sizeof(notice));
	notice.slot = slot;
	notice.cpu_usec = (int64_t) (hello.cpu_nsec / 1000);
	if (write(FS_CHILD_FD_NOTIFY, &notice, sizeof(notice)) != sizeof(notice))
		return -1;
	close(FS_CHILD_FD_NOTIFY);
	return 0;
}

/*
 * Step 5, after a response went out: wait, without using CPU, until the
 * backend hangs up (POLLHUP once it closed its end) or kills us.  The
 * backend reads our CPU clock and peak memory from the kernel while we
 * are alive, so it need not wait for our exit (forkserver_settle.c).
 */
static void __attribute__((noreturn))
fs_child_linger(int conn)
{
	struct pollfd pfd = {.fd = conn, .events = 0};

	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/*
 * Step 2, still before any request: the shared rlimits, a pidfd of
 * ourselves for the hand-off (pidfd_open is not in the policy), and the
 * lock: Landlock, and seccomp still allowing the hand-off calls
 * (sandbox.h).  Moving this off the request path saves its ~0.15 ms
 * (mostly the kernel preparing the filter).  Returns an rlimit failure
 * message or NULL; sandbox failures are recorded for step 4.
 */
static const char *
fs_child_lock(int *pidfd)
{
	static char errbuf[FS_ERRLEN];
	const char *error = NULL;

	if (limits_apply_shared(errbuf, sizeof(errbuf)) < 0)
		error = errbuf;
	*pidfd = (int) syscall(SYS_pidfd_open, getpid(), 0);
	sandbox_lock_pooled();
	return error;
}

/*
 * Whether the call's allowlist is the server's own, byte for byte (the
 * backend sends both in the same form): then this child already has it,
 * guard, cached module views and all, and narrowing would change nothing.
 */
static int
fs_child_has_allowlist(const HelperRequest *req, const FsConfig *config)
{
	return (req->flags & WIRE_FLAG_NO_PY_GUARDS) == 0 &&
		req->imports_len == config->imports_len &&
		memcmp(req->imports, config->imports, config->imports_len) == 0;
}

/*
 * Step 4 after the request is in: the call's limits, the seal, the
 * allowlist, run, respond.
 */
static void __attribute__((noreturn))
fs_child_run(int conn, HelperRequest *req, const FsConfig *config,
			 const char *setup_error, const char *limits_error)
{
	char		errbuf[FS_ERRLEN];
	HelperResponse res;
	int			require = (req->flags & WIRE_FLAG_REQUIRE_ISOLATION) != 0;
	int			rc;

	if (setup_error != NULL && require)
		response_fail(conn, WIRE_STATUS_SANDBOX_ERROR, "sandbox_prepare", setup_error);
	if (limits_error != NULL)
		response_fail(conn, WIRE_STATUS_HELPER_ERROR, "rlimit", limits_error);
	if (limits_apply_call(req->memory_mb, req->timeout_ms, errbuf, sizeof(errbuf)) < 0)
		response_fail(conn, WIRE_STATUS_HELPER_ERROR, "rlimit", errbuf);
	if (sandbox_seal(require, errbuf, sizeof(errbuf)) < 0)
		response_fail(conn, WIRE_STATUS_SANDBOX_ERROR, "sandbox_lock", errbuf);
	/* skipping the no-op saves ~0.15 ms of a fresh child's request path */
	if (!fs_child_has_allowlist(req, config) &&
		pyrun_narrow(req, errbuf, sizeof(errbuf)) != PYRUN_OK)
		response_fail(conn, WIRE_STATUS_HELPER_ERROR, "python_prepare", errbuf);

	memset(&res, 0, sizeof(res));
	if (req->flags & WIRE_FLAG_REPORT_ISOLATION)
	{
		res.status = WIRE_STATUS_OK;
		res.isolation_json = response_cstr(sandbox_report_json());
	}
	else
	{
		rc = pyrun_execute(req, &res, errbuf, sizeof(errbuf));
		if (rc == PYRUN_NO_MEMORY)
			response_fail(conn, WIRE_STATUS_MEMORY_LIMIT, "run", errbuf);
		if (rc != PYRUN_OK)
			response_fail(conn, WIRE_STATUS_HELPER_ERROR, "run", errbuf);
	}
	if (response_send(conn, &res) < 0)
		response_fail(conn, WIRE_STATUS_MEMORY_LIMIT, "response",
					  "the response could not be built (out of memory)");
	fs_child_linger(conn);
}

/*
 * Whether no connection arrives within FS_PREWARM_IDLE_MS: only a child
 * that would otherwise wait is worth warming.  Under back-to-back load a
 * child is taken within a few milliseconds, and its warm-up would only
 * compete with the running call for the CPUs
 * (docs/forkserver-measurements.md).
 */
static int
fs_child_stays_idle(void)
{
	struct pollfd pfd = {.fd = FORKSERVER_FD_LISTEN, .events = POLLIN};
	int			rc;

	do
		rc = poll(&pfd, 1, FS_PREWARM_IDLE_MS);
	while (rc < 0 && errno == EINTR);
	return rc == 0;
}

void
fs_child_main(const FsConfig *config, int slot, int pid_ns)
{
	char		errbuf[FS_ERRLEN];
	HelperRequest req;
	const char *setup_error = fs_child_setup(config, pid_ns);
	const char *limits_error;
	int			pidfd;
	int			conn;

	/*
	 * Pre-fault before the call: consolidate the heap inherited from the
	 * server (fs_child_consolidate_heap); with prewarm, copy at once the
	 * pages a print(1) writes unless a call is already waiting
	 * (forkserver_prefault.c: pages any call writes, so no extra work,
	 * only faults moved off the request path),
	 * and after FS_PREWARM_IDLE_MS without a call run one snippet of our
	 * own, which takes most of the remaining faults a real execution would
	 * (expensive under virtualisation).  That snippet costs more CPU per
	 * child (it touches pages a given call might not): worth it for a
	 * child that waits anyway, a loss under back-to-back load, hence only
	 * when idle (docs/forkserver-measurements.md).  prewarm "full" instead
	 * copies the pages of the server's heap a heavier probe writes: for
	 * allowlists like numpy/pandas, whose calls touch thousands of
	 * inherited pages.
	 */
	fs_child_consolidate_heap();
	/*
	 * Lock before waiting, not after: a child taken within its first
	 * FS_PREWARM_IDLE_MS (every child, under back-to-back load) would
	 * otherwise load its seccomp filter and Landlock ruleset between the
	 * backend's connect and its hello.  The copy and the warm-up below
	 * need nothing the locked policy refuses.
	 */
	limits_error = fs_child_lock(&pidfd);
	if (config->prewarm == FORKSERVER_PREWARM_ON)
		fs_prefault_learned(FORKSERVER_FD_LISTEN, pidfd);
	if (config->prewarm == FORKSERVER_PREWARM_FULL ||
		(config->prewarm == FORKSERVER_PREWARM_ON && fs_child_stays_idle()))
	{
		HelperRequest all;

		if (config->prewarm == FORKSERVER_PREWARM_FULL)
			fs_prefault_child(pidfd);

		/*
		 * Narrowing to the server's own allowlist changes nothing, but
		 * writes the pages a call's narrowing writes (~15 faults, ~0.1 ms
		 * on the request path otherwise).
		 */
		memset(&all, 0, sizeof(all));
		all.imports = config->imports;
		all.imports_len = config->imports_len;
		(void) pyrun_narrow(&all, errbuf, sizeof(errbuf));
		fs_warm_up(1);
	}

	do
		conn = accept4(FORKSERVER_FD_LISTEN, NULL, NULL, SOCK_CLOEXEC);
	while (conn < 0 && (errno == EINTR || errno == ECONNABORTED));
	if (conn < 0)
		_exit(1);
	sandbox_set_response_fd(conn);
	if (fs_child_handoff(conn, slot, pidfd) < 0)
		_exit(1);
	if (request_read(conn, &req, errbuf, sizeof(errbuf)) < 0)
		response_fail(conn, WIRE_STATUS_HELPER_ERROR, "request", errbuf);
	fs_child_run(conn, &req, config, setup_error, limits_error);
}
