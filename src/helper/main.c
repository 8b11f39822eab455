/*-------------------------------------------------------------------------
 *
 * main.c
 *	  Entry point of codeexec-helper, the untrusted side of codeexec.  The
 *	  backend execs it with no arguments and an empty environment; fd 0
 *	  carries one request frame then EOF, fd 1 receives exactly one
 *	  response frame, fd 2 is free text for humans.  The steps, in order:
 *
 *	  1. move the response pipe to a private close-on-exec fd and point
 *	     fd 1 at diagnostics, so nothing stray can corrupt the frame
 *	  2. read and check the request
 *	  3. sandbox_prepare() (namespaces; may fork)
 *	  4. no_new_privs, parent-death signal, rlimits (after the last fork)
 *	  5. start CPython, load the embedded modules, pre-import the allowlist
 *	  6. sandbox_lock() (Landlock, seccomp): no file can be opened after it
 *	  7. validate / run, write the response, _exit(0)
 *
 *	  Any failure before the code runs is reported as a response with the
 *	  status the backend expects (helper_error, sandbox_error, or
 *	  memory_limit when the address-space limit is too small to start).
 *
 *-------------------------------------------------------------------------
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forkserver.h"
#include "forkserver_proto.h"
#include "helper_limits.h"
#include "pyrun.h"
#include "request.h"
#include "response.h"
#include "sandbox.h"
#include "wire.h"

#define MAIN_ERRLEN 512

/* Write a diagnostic line to fd 2 (best effort). */
static void
main_diag(const char *step, const char *message)
{
	char		line[MAIN_ERRLEN + 64];
	int			n = snprintf(line, sizeof(line), "codeexec-helper: %s: %s\n",
							 step, message);

	if (n > 0 && write(2, line, (size_t) n) < 0)
		return;
}

/* Report a failed step on fd 2 and as the response, then exit. */
static void
main_fail(int resp_fd, const char *status, const char *step, const char *message)
{
	main_diag(step, message);
	response_fail(resp_fd, status, step, message);
}

static int main_resp_fd = -1;

/*
 * CPython calls abort() when it runs out of memory before its exception
 * machinery exists; while it starts, turn that into a response.
 */
static void
main_abort_handler(int signo)
{
	if (limits_memory_exhausted())
		response_fail(main_resp_fd, WIRE_STATUS_MEMORY_LIMIT, "python_start",
					  "the memory limit is too small for the interpreter to start");
	response_fail(main_resp_fd, WIRE_STATUS_HELPER_ERROR, "python_start",
				  "the interpreter aborted during start-up");
}

/*
 * Threaded numeric libraries start worker threads at import; RLIMIT_NPROC
 * is 0, so keep them single-threaded.  The environment is otherwise empty
 * and CPython is configured to ignore it.
 */
static void
main_quiet_threads(void)
{
	setenv("OPENBLAS_NUM_THREADS", "1", 1);
	setenv("OMP_NUM_THREADS", "1", 1);
	setenv("MKL_NUM_THREADS", "1", 1);
}

int
main(int argc, char **argv)
{
	char		errbuf[MAIN_ERRLEN];
	HelperRequest req;
	HelperResponse res;
	int			resp_fd;
	int			require;
	int			guards;
	pid_t		start_pid = getpid();
	pid_t		start_parent = getppid();
	pid_t		parent;
	int			rc;

	/* server mode: the fork server of spawn mode "forkserver" */
	if (argc > 1 && strcmp(argv[1], FORKSERVER_ARG) == 0)
		forkserver_main(argc, argv);

	/* 1: the response fd is private; stray C-level stdout goes to fd 2 */
	resp_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
	if (resp_fd < 0 || dup2(2, 1) < 0)
	{
		main_diag("start", "cannot set up the response descriptor");
		return 1;
	}
	sandbox_set_response_fd(resp_fd);

	/* 2 */
	if (request_read(0, &req, errbuf, sizeof(errbuf)) < 0)
		main_fail(resp_fd, WIRE_STATUS_HELPER_ERROR, "request", errbuf);
	require = (req.flags & WIRE_FLAG_REQUIRE_ISOLATION) != 0;
	guards = (req.flags & WIRE_FLAG_NO_PY_GUARDS) == 0;
	sandbox_set_gvisor((req.flags & WIRE_FLAG_IN_GVISOR) != 0);

	/* 3: may fork; then our parent is the namespace's waiter */
	if (sandbox_prepare(require, errbuf, sizeof(errbuf)) < 0)
	{
		if (require)
			main_fail(resp_fd, WIRE_STATUS_SANDBOX_ERROR, "sandbox_prepare", errbuf);
		main_diag("sandbox_prepare", errbuf);
	}
	parent = getpid() == start_pid ? start_parent : getppid();

	/* 4 */
	if (limits_process(parent, errbuf, sizeof(errbuf)) < 0)
		main_fail(resp_fd, WIRE_STATUS_HELPER_ERROR, "prctl", errbuf);
	if (limits_apply(req.memory_mb, req.timeout_ms, errbuf, sizeof(errbuf)) < 0)
		main_fail(resp_fd, WIRE_STATUS_HELPER_ERROR, "rlimit", errbuf);

	/* 5 */
	main_quiet_threads();
	main_resp_fd = resp_fd;
	signal(SIGABRT, main_abort_handler);
	rc = pyrun_start(errbuf, sizeof(errbuf));
	signal(SIGABRT, SIG_DFL);
	if (rc == PYRUN_OK)
		rc = pyrun_prepare(&req, guards, errbuf, sizeof(errbuf));
	if (rc != PYRUN_OK && limits_memory_exhausted())
		rc = PYRUN_NO_MEMORY;
	if (rc == PYRUN_NO_MEMORY)
		main_fail(resp_fd, WIRE_STATUS_MEMORY_LIMIT, "python_start", errbuf);
	if (rc != PYRUN_OK)
		main_fail(resp_fd, WIRE_STATUS_HELPER_ERROR, "python_start", errbuf);

	/* 6 */
	if (sandbox_lock(require, errbuf, sizeof(errbuf)) < 0)
	{
		if (require)
			main_fail(resp_fd, WIRE_STATUS_SANDBOX_ERROR, "sandbox_lock", errbuf);
		main_diag("sandbox_lock", errbuf);
	}

	/* 7 */
	memset(&res, 0, sizeof(res));
	if (req.flags & WIRE_FLAG_REPORT_ISOLATION)
	{
		res.status = WIRE_STATUS_OK;
		res.isolation_json = response_cstr(sandbox_report_json());
	}
	else
	{
		rc = pyrun_execute(&req, &res, errbuf, sizeof(errbuf));
		if (rc == PYRUN_NO_MEMORY)
			main_fail(resp_fd, WIRE_STATUS_MEMORY_LIMIT, "run", errbuf);
		if (rc != PYRUN_OK)
			main_fail(resp_fd, WIRE_STATUS_HELPER_ERROR, "run", errbuf);
	}
	if (response_send(resp_fd, &res) < 0)
		main_fail(resp_fd, WIRE_STATUS_MEMORY_LIMIT, "response",
				  "the response could not be built (out of memory)");
	_exit(0);
}
