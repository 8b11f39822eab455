/*-------------------------------------------------------------------------
 *
 * spawn.c
 *	  exec spawn mode: one fork + execve of codeexec-helper per call (see
 *	  spawn.h).  The recipe follows core's fd.c OpenPipeStream and
 *	  shell_archive.c: flush stdio, fork with all signals blocked; in the
 *	  child reset every signal, wire fds 0/1/2 to the pipes, close every
 *	  other fd, ask for SIGKILL on parent death, execve with an empty
 *	  environment, and report a failure through a close-on-exec status pipe
 *	  with _exit(127) (never elog/exit in the child: atexit callbacks would
 *	  run the backend's shared-memory cleanup).
 *
 * Channel mode (spawn_run_channel, used by spawn mode forkserver) runs the
 * same wait loop for a child the fork server forked: the caller's start
 * function hands over a pidfd (to kill it), the socket (request and
 * response) and the exit pipe (in the diag slot; EOF once reaped).  The
 * caller's settle function may end the call once the response is complete
 * (forkserver_settle.c), before the child has exited.
 *
 * Ownership: at most one child exists per backend at a time; its pid (or
 * pidfd) and the parent ends of its pipes live in spawn_child so that the
 * PG_FINALLY of spawn_exchange() (ERROR, cancel) and a before_shmem_exit
 * callback (FATAL, postmaster death, proc_exit) can kill and reap it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/wait_event.h"

#include "spawn.h"

#define SPAWN_READ_CHUNK 65536
#define SPAWN_WRITE_CHUNK 65536
#define SPAWN_FD_REQUEST 0
#define SPAWN_FD_RESPONSE 1
#define SPAWN_FD_DIAG 2

/*
 * The one live child of this backend (pid 0 and pidfd -1: none).  In exec
 * mode we are its parent (pid).  In forkserver mode (spawn_run_channel)
 * the fork server is: we hold a pidfd to kill it, the request and
 * response ends of its socket, and in the diag slot its exit pipe, which
 * reaches EOF once the server has reaped it.
 */
typedef struct SpawnChild
{
	pid_t		pid;
	int			pidfd;
	int			fds[3];			/* parent ends: request w, response r, diag r */
	WaitEventSet *set;
} SpawnChild;

static SpawnChild spawn_child = {0, -1, {-1, -1, -1}, NULL};

/*
 * Channel mode: called by spawn_cleanup() with the response descriptor
 * while a request may have reached a child whose pidfd we do not hold yet
 * (spawn_set_abandon).
 */
static SpawnAbandonFn spawn_abandon_fn = NULL;
/* Channel mode: how to read the live child's CPU (spawn_set_measure). */
static SpawnMeasureFn spawn_measure_fn = NULL;
static void *spawn_measure_arg = NULL;
/* The CPU the current call's child had used when it was killed alive; -1 */
static double spawn_killed_cpu = -1;
/* SpawnProgram.sample_tree_cpu of the current call */
static bool spawn_sample_tree_cpu = false;
static bool spawn_exit_callback_registered = false;
static volatile sig_atomic_t spawn_sigchld_seen = false;

/* What the child sends through the status pipe when it cannot exec. */
typedef struct SpawnChildError
{
	int			step;			/* index into spawn_step_names */
	int			err;
} SpawnChildError;

static const char *const spawn_step_names[] = {
	"fcntl", "dup2", "close_range", "prctl", "execve"
};

double
spawn_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* SIGCHLD while a child runs: wake the wait loop. */
static void
spawn_sigchld_handler(SIGNAL_ARGS)
{
	int			save_errno = errno;

	spawn_sigchld_seen = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/* Close one parent-side pipe end, if open. */
static void
spawn_close_fd(int which)
{
	if (spawn_child.fds[which] >= 0)
	{
		/* a socket's other end must see EOF although the fd is dup'ed */
		if (which == SPAWN_FD_REQUEST)
			(void) shutdown(spawn_child.fds[which], SHUT_WR);
		close(spawn_child.fds[which]);
		ReleaseExternalFD();
		spawn_child.fds[which] = -1;
	}
}

/*
 * Close the pidfd of a child we did not fork (the fork server reaps it),
 * SIGKILLing it first unless the caller knows that was done already.
 */
static void
spawn_close_pidfd(bool kill_first)
{
	if (spawn_child.pidfd < 0)
		return;
	if (kill_first)
		(void) syscall(SYS_pidfd_send_signal, spawn_child.pidfd, SIGKILL, NULL, 0);
	close(spawn_child.pidfd);
	ReleaseExternalFD();
	spawn_child.pidfd = -1;
}

bool
spawn_cpu_clock_seconds(clockid_t clock, double *seconds)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) != 0)
		return false;
	*seconds = ts.tv_sec + ts.tv_nsec / 1e9;
	return true;
}

/*
 * Whether our exec'd child has exited: looked at without reaping it, so
 * its pid still names its process group.
 */
static bool
spawn_child_exited(void)
{
	siginfo_t	info;

	memset(&info, 0, sizeof(info));
	return waitid(P_PID, spawn_child.pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		info.si_pid == spawn_child.pid;
}

/*
 * Add the pids listed in /proc/<pid>/task/<tid>/children, for every thread
 * of pid, to tree[*n] (at most max).  No palloc: this runs in abort and
 * exit paths.
 */
static void
spawn_add_children(pid_t pid, pid_t *tree, int *n, int max)
{
	char		path[64];
	char		list[1024];
	DIR		   *tasks;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/task", (int) pid);
	if ((tasks = opendir(path)) == NULL)
		return;
	while ((de = readdir(tasks)) != NULL && *n < max)
	{
		int			fd;
		ssize_t		len;
		char	   *p;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children", (int) pid, de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, list, sizeof(list) - 1);
		close(fd);
		if (len <= 0)
			continue;
		list[len] = '\0';
		for (p = list; *p != '\0' && *n < max;)
		{
			char	   *end;
			long		child = strtol(p, &end, 10);

			if (end == p)
				break;
			if (child > 0)
				tree[(*n)++] = (pid_t) child;
			p = end;
		}
	}
	closedir(tasks);
}

/*
 * The CPU of the process tree rooted at our child pid, which is still
 * alive: the helper and the sandboxed runner it forked (or runsc and the
 * sandbox it started).  Read before the kill, which the runner does not
 * survive long enough to be reaped by its waiter.
 */
static double
spawn_tree_cpu(pid_t root)
{
	pid_t		tree[64];
	int			n = 1;
	double		total = 0;

	tree[0] = root;
	for (int i = 0; i < n; i++)
	{
		clockid_t	clock;
		double		cpu;

		if (clock_getcpuclockid(tree[i], &clock) == 0 &&
			spawn_cpu_clock_seconds(clock, &cpu))
			total += cpu;
		spawn_add_children(tree[i], tree, &n, lengthof(tree));
	}
	return total;
}

/*
 * Before a live child is killed: read the CPU it has used (spawn.h,
 * spawn_killed_cpu_seconds).  A child that has exited is left alone: its
 * figures come from wait4 or the fork server's exit record.
 */
static void
spawn_measure_before_kill(void)
{
	double		cpu;

	if (spawn_child.pid > 0)
	{
		if (!spawn_child_exited())
			spawn_killed_cpu = spawn_tree_cpu(spawn_child.pid);
	}
	else if (spawn_child.pidfd >= 0 && spawn_measure_fn != NULL &&
			 spawn_measure_fn(spawn_measure_arg, &cpu))
		spawn_killed_cpu = cpu;
}

/*
 * Kill (if still running) and reap the child, close every pipe and free the
 * wait set.  Safe to call at any time, any number of times; stores the wait
 * status and rusage when the caller wants them.
 */
static void
spawn_cleanup(int *wait_status, struct rusage *ru)
{
	struct rusage dummy_ru;
	int			dummy_status;

	if (spawn_child.set != NULL)
	{
		FreeWaitEventSet(spawn_child.set);
		spawn_child.set = NULL;
	}
	if (spawn_abandon_fn != NULL)
	{
		SpawnAbandonFn abandon = spawn_abandon_fn;

		spawn_abandon_fn = NULL;
		if (spawn_child.fds[SPAWN_FD_RESPONSE] >= 0)
			abandon(spawn_child.fds[SPAWN_FD_RESPONSE]);
	}
	spawn_measure_before_kill();
	spawn_measure_fn = NULL;
	for (int i = 0; i < 3; i++)
		spawn_close_fd(i);
	spawn_close_pidfd(true);
	if (spawn_child.pid > 0)
	{
		pid_t		pid = spawn_child.pid;

		/* The child leads its own process group (see spawn_child_exec). */
		(void) kill(-pid, SIGKILL);
		(void) kill(pid, SIGKILL);
		while (wait4(pid, wait_status ? wait_status : &dummy_status, 0,
					 ru ? ru : &dummy_ru) < 0 && errno == EINTR)
			;
		spawn_child.pid = 0;
	}
}

/* before_shmem_exit callback: no child outlives its backend. */
static void
spawn_exit_callback(int code, Datum arg)
{
	spawn_cleanup(NULL, NULL);
}

/*
 * Child side after fork: never returns.  Only async-signal-safe calls; a
 * failure is written to status_fd as a SpawnChildError.
 */
static void
spawn_child_exec(char *const argv[], int req_r, int res_w, int diag_w, int status_w,
				 pid_t parent)
{
	SpawnChildError ce;
	char	   *envp[1] = {NULL};
	sigset_t	none;
	int			fds[4] = {req_r, res_w, diag_w, status_w};

	for (int sig = 1; sig < NSIG; sig++)
		(void) signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Move every pipe above 15 so the dup2s below cannot clobber one. */
	ce.step = 0;
	for (int i = 0; i < 4; i++)
		if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 16)) < 0)
			goto fail;
	status_w = fds[3];
	ce.step = 1;
	if (dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0 ||
		dup3(status_w, 3, O_CLOEXEC) < 0)
		goto fail;
	status_w = 3;
	ce.step = 2;
	if (syscall(SYS_close_range, 4, ~0U, 0) < 0)
	{
		long		maxfd = sysconf(_SC_OPEN_MAX);

		for (long fd = 4; fd < (maxfd > 0 ? maxfd : 65536); fd++)
			(void) close((int) fd);
	}
	ce.step = 3;
	(void) setpgid(0, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		goto fail;
	if (getppid() != parent)
		_exit(127);				/* the backend died before PDEATHSIG was set */

	ce.step = 4;
	execve(argv[0], argv, envp);

fail:
	ce.err = errno;
	if (write(status_w, &ce, sizeof(ce)) < 0)
		_exit(126);
	_exit(127);
}

/*
 * Fork and exec argv (the helper, or runsc running it); on return
 * spawn_child holds its pid and the non-blocking parent ends of its pipes.
 * ERROR if it could not be started.
 */
static void
spawn_start(const SpawnProgram *program)
{
	const char *path = program->argv[0];
	int			req[2] = {-1, -1},
				res[2] = {-1, -1},
				diag[2] = {-1, -1},
				status[2] = {-1, -1};
	sigset_t	all,
				saved;
	pid_t		pid;
	pid_t		parent = getpid();
	SpawnChildError ce;
	ssize_t		n;
	int			fork_errno;

	for (int i = 0; i < 3; i++)
	{
		if (!AcquireExternalFD())
		{
			while (i-- > 0)
				ReleaseExternalFD();
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("too many open files to start the codeexec helper")));
		}
	}
	if (pipe2(req, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0 ||
		pipe2(diag, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0)
	{
		int			save_errno = errno;

		for (int i = 0; i < 2; i++)
		{
			if (req[i] >= 0) close(req[i]);
			if (res[i] >= 0) close(res[i]);
			if (diag[i] >= 0) close(diag[i]);
			if (status[i] >= 0) close(status[i]);
		}
		ReleaseExternalFD();
		ReleaseExternalFD();
		ReleaseExternalFD();
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create pipes for the codeexec helper: %m")));
	}

	fflush(NULL);
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &saved);
	pid = fork();
	fork_errno = errno;
	if (pid == 0)
		spawn_child_exec(program->argv, req[0], res[1], diag[1], status[1], parent);
	sigprocmask(SIG_SETMASK, &saved, NULL);

	close(req[0]);
	close(res[1]);
	close(diag[1]);
	close(status[1]);
	spawn_child.fds[SPAWN_FD_REQUEST] = req[1];
	spawn_child.fds[SPAWN_FD_RESPONSE] = res[0];
	spawn_child.fds[SPAWN_FD_DIAG] = diag[0];
	if (pid < 0)
	{
		close(status[0]);
		spawn_cleanup(NULL, NULL);
		errno = fork_errno;
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not fork the codeexec helper: %m")));
	}
	spawn_child.pid = pid;
	(void) setpgid(pid, pid);	/* also in the child: whichever runs first */

	/* EOF here means execve succeeded (the status pipe is close-on-exec). */
	do
		n = read(status[0], &ce, sizeof(ce));
	while (n < 0 && errno == EINTR);
	close(status[0]);
	if (n == sizeof(ce))
	{
		spawn_cleanup(NULL, NULL);
		ereport(ERROR,
				(errcode(ce.err == ENOENT || ce.err == ENOTDIR ?
						 ERRCODE_UNDEFINED_FILE : ERRCODE_SYSTEM_ERROR),
				 errmsg("could not execute %s", program->what),
				 errdetail("%s(\"%s\") failed: %s.",
						   spawn_step_names[ce.step < 0 || ce.step > 4 ? 4 : ce.step],
						   path, strerror(ce.err)),
				 errhint("%s", program->hint)));
	}

	for (int i = 0; i < 3; i++)
		if (fcntl(spawn_child.fds[i], F_SETFL, O_NONBLOCK) < 0)
			elog(ERROR, "could not make a helper pipe non-blocking: %m");
}

/* Bytes still wanted from the response pipe before the cap is exceeded. */
typedef struct SpawnIo
{
	const char *request;
	size_t		request_len;
	size_t		request_off;
	char	   *response;
	size_t		response_cap;	/* allocated = response_cap + 1 */
	size_t		response_len;
	char	   *diag;
	size_t		diag_len;
	bool		overflow;
} SpawnIo;

/* The exchange in progress, for spawn_send_request() during `start`. */
static SpawnIo *spawn_io_active = NULL;

/* Write as much of the request as the pipe takes; close it when done. */
static void
spawn_pump_request(SpawnIo *io)
{
	int			fd = spawn_child.fds[SPAWN_FD_REQUEST];

	while (fd >= 0 && io->request_off < io->request_len)
	{
		size_t		want = Min(io->request_len - io->request_off, SPAWN_WRITE_CHUNK);
		ssize_t		n = write(fd, io->request + io->request_off, want);

		if (n > 0)
			io->request_off += n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		else
			break;				/* EPIPE: the helper closed its stdin */
	}
	spawn_close_fd(SPAWN_FD_REQUEST);
}

/*
 * Read what is available from one output pipe; close it at EOF.  The
 * response is kept up to response_cap bytes (one more byte marks overflow);
 * diagnostics keep their first SPAWN_DIAG_KEEP bytes and drain the rest.
 */
static void
spawn_pump_output(SpawnIo *io, int which)
{
	char		scratch[8192];

	while (spawn_child.fds[which] >= 0)
	{
		char	   *dst;
		size_t		room;
		ssize_t		n;

		if (which == SPAWN_FD_RESPONSE)
		{
			dst = io->response + io->response_len;
			room = io->response_cap + 1 - io->response_len;
			room = Min(room, SPAWN_READ_CHUNK);
		}
		else
		{
			dst = scratch;
			room = sizeof(scratch);
		}
		n = read(spawn_child.fds[which], dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
		{
			spawn_close_fd(which);
			return;
		}
		if (which == SPAWN_FD_RESPONSE)
		{
			io->response_len += n;
			if (io->response_len > io->response_cap)
			{
				io->overflow = true;
				return;
			}
		}
		else if (io->diag_len < SPAWN_DIAG_KEEP)
		{
			size_t		keep = Min((size_t) n, SPAWN_DIAG_KEEP - io->diag_len);

			memcpy(io->diag + io->diag_len, scratch, keep);
			io->diag_len += keep;
		}
	}
}

/*
 * Wait until a pipe is ready, the latch is set, or timeout_ms passes.
 * Postmaster death exits the process (and the exit callback kills the
 * child).  The set is rebuilt each time because pipes close as we go.
 */
static void
spawn_wait(long timeout_ms)
{
	WaitEvent	events[5];
	int			nevents = 2;

	for (int i = 0; i < 3; i++)
		if (spawn_child.fds[i] >= 0)
			nevents++;
	spawn_child.set = CreateWaitEventSet(CurrentMemoryContext, nevents);
	AddWaitEventToSet(spawn_child.set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(spawn_child.set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	if (spawn_child.fds[SPAWN_FD_REQUEST] >= 0)
		AddWaitEventToSet(spawn_child.set, WL_SOCKET_WRITEABLE,
						  spawn_child.fds[SPAWN_FD_REQUEST], NULL, NULL);
	for (int i = SPAWN_FD_RESPONSE; i <= SPAWN_FD_DIAG; i++)
		if (spawn_child.fds[i] >= 0)
			AddWaitEventToSet(spawn_child.set, WL_SOCKET_READABLE,
							  spawn_child.fds[i], NULL, NULL);
	(void) WaitEventSetWait(spawn_child.set, timeout_ms, events, lengthof(events),
							PG_WAIT_EXTENSION);
	FreeWaitEventSet(spawn_child.set);
	spawn_child.set = NULL;
}

/*
 * The wait loop proper: pump the pipes until the child has exited and both
 * output pipes are at EOF, or the deadline passes, or the response
 * overflows.  When the child has exited, its process group is SIGKILLed
 * before it is reaped, so a grandchild holding a pipe cannot keep us
 * waiting.  Fills result (except the wall time).
 */
static void
spawn_loop(SpawnIo *io, SpawnSettleFn settle, void *arg, double deadline,
		   SpawnResult *result)
{
	struct rusage ru;
	bool		exited = false;
	double		sampled_cpu = 0;

	memset(&ru, 0, sizeof(ru));
	for (;;)
	{
		double		now;
		size_t		seen;

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();

		spawn_pump_request(io);
		seen = io->response_len + io->diag_len;
		spawn_pump_output(io, SPAWN_FD_RESPONSE);
		spawn_pump_output(io, SPAWN_FD_DIAG);
		if (spawn_sample_tree_cpu && spawn_child.pid > 0 && !exited &&
			io->response_len + io->diag_len > seen)
			sampled_cpu = Max(sampled_cpu, spawn_tree_cpu(spawn_child.pid));
		if (io->overflow)
		{
			result->response_overflow = true;
			break;
		}
		if (settle != NULL && spawn_child.pidfd >= 0 &&
			spawn_child.fds[SPAWN_FD_RESPONSE] >= 0 && io->response_len > 0)
		{
			SpawnSettle st = settle(arg, spawn_child.pidfd, io->response,
									io->response_len, result);

			if (st == SPAWN_SETTLE_DONE)
				break;
			if (st == SPAWN_SETTLE_NO)
				spawn_close_fd(SPAWN_FD_RESPONSE);
		}
		if (!exited && spawn_child.pid == 0)
		{
			/* channel: the exit pipe's EOF says the child was reaped */
			exited = spawn_child.fds[SPAWN_FD_DIAG] < 0;
		}
		else if (!exited && spawn_child_exited())
		{
			exited = true;
			/* Anything it forked dies too, so the pipes reach EOF. */
			(void) kill(-spawn_child.pid, SIGKILL);
		}
		if (exited && spawn_child.fds[SPAWN_FD_RESPONSE] < 0 &&
			spawn_child.fds[SPAWN_FD_DIAG] < 0 && spawn_child.pid == 0)
			break;
		if (exited && spawn_child.fds[SPAWN_FD_RESPONSE] < 0 &&
			spawn_child.fds[SPAWN_FD_DIAG] < 0)
		{
			while (wait4(spawn_child.pid, &result->wait_status, 0, &ru) < 0 && errno == EINTR)
				;
			spawn_child.pid = 0;
			break;
		}

		now = spawn_now();
		if (now >= deadline)
		{
			result->timed_out = true;
			break;
		}
		/* Pipe events, SIGCHLD (via the latch) or the deadline wake us. */
		spawn_wait((long) ((deadline - now) * 1000.0) + 1);
	}

	if (spawn_child.pid > 0 || spawn_child.pidfd >= 0)
	{
		/*
		 * A settle delivered SIGKILL through the pidfd already (it cannot
		 * be blocked): a second one would only cost a system call.
		 */
		if (result->settled)
			spawn_close_pidfd(false);
		spawn_cleanup(&result->wait_status, &ru);
	}
	if (result->settled)
		return;
	result->cpu_seconds = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	/* killed alive (deadline, overflow): its reading before the kill */
	result->cpu_seconds = Max(result->cpu_seconds, Max(spawn_killed_cpu, sampled_cpu));
	result->peak_rss_kb = ru.ru_maxrss;
}

/*
 * The common part of both modes: `start` creates the child (exec) or
 * reaches one (channel) and fills spawn_child; then the wait loop runs
 * until the deadline.  `start` returns false if the deadline passed
 * before the child was there.
 */
static void
spawn_exchange(SpawnStartFn start, SpawnSettleFn settle, void *arg,
			   const char *request, size_t request_len,
			   int timeout_ms, size_t response_cap, SpawnResult *result)
{
	SpawnIo		io;
	pqsigfunc	old_sigchld;
	double		begin;

	memset(result, 0, sizeof(*result));
	memset(&io, 0, sizeof(io));
	io.request = request;
	io.request_len = request_len;
	io.response_cap = response_cap;
	io.response = palloc(response_cap + 1);
	io.diag = palloc(SPAWN_DIAG_KEEP + 1);

	if (!spawn_exit_callback_registered)
	{
		before_shmem_exit(spawn_exit_callback, (Datum) 0);
		spawn_exit_callback_registered = true;
	}
	Assert(spawn_child.pid == 0 && spawn_child.pidfd < 0);

	spawn_sigchld_seen = false;
	spawn_killed_cpu = -1;
	spawn_measure_fn = NULL;
	spawn_sample_tree_cpu = false;
	old_sigchld = pqsignal(SIGCHLD, spawn_sigchld_handler);
	begin = spawn_now();
	PG_TRY();
	{
		double		deadline = begin + timeout_ms / 1000.0;

		spawn_io_active = &io;
		if (start(arg, deadline))
			spawn_loop(&io, settle, arg, deadline, result);
		else
			result->timed_out = true;
	}
	PG_FINALLY();
	{
		spawn_io_active = NULL;
		spawn_cleanup(NULL, NULL);
		pqsignal(SIGCHLD, old_sigchld);
	}
	PG_END_TRY();

	result->wall_seconds = spawn_now() - begin;
	result->response = io.response;
	result->response_len = Min(io.response_len, response_cap);
	io.diag[io.diag_len] = '\0';
	result->diagnostics = io.diag;
	result->diagnostics_len = io.diag_len;
}

/* exec mode's start: fork + exec the SpawnProgram in arg. */
static bool
spawn_start_exec(void *arg, double deadline)
{
	const SpawnProgram *program = (const SpawnProgram *) arg;

	spawn_start(program);
	spawn_sample_tree_cpu = program->sample_tree_cpu;
	return true;
}

void
spawn_run(const SpawnProgram *program, const char *request, size_t request_len,
		  int timeout_ms, size_t response_cap, SpawnResult *result)
{
	spawn_exchange(spawn_start_exec, NULL, (void *) program, request, request_len,
				   timeout_ms, response_cap, result);
}

void
spawn_run_channel(SpawnStartFn start, SpawnSettleFn settle, void *arg,
				  const char *request, size_t request_len,
				  int timeout_ms, size_t response_cap, SpawnResult *result)
{
	spawn_exchange(start, settle, arg, request, request_len, timeout_ms, response_cap,
				   result);
}

void
spawn_release(int which)
{
	Assert(which >= 0 && which < 3);
	spawn_close_fd(which);
	/* a request channel given up on: the next one starts from the top */
	if (which == SPAWN_ADOPT_REQUEST && spawn_io_active != NULL)
		spawn_io_active->request_off = 0;
}

void
spawn_send_request(void)
{
	Assert(spawn_io_active != NULL);
	spawn_pump_request(spawn_io_active);
}

void
spawn_set_abandon(SpawnAbandonFn fn)
{
	spawn_abandon_fn = fn;
}

void
spawn_set_measure(SpawnMeasureFn fn, void *arg)
{
	spawn_measure_fn = fn;
	spawn_measure_arg = arg;
}

double
spawn_killed_cpu_seconds(void)
{
	return spawn_killed_cpu;
}

void
spawn_forget_killed_cpu(void)
{
	spawn_killed_cpu = -1;
}

void
spawn_kill_current(void)
{
	spawn_cleanup(NULL, NULL);
}

void
spawn_adopt(int which, int fd)
{
	Assert(fd >= 0);
	if (which == SPAWN_ADOPT_PIDFD)
	{
		Assert(spawn_child.pidfd < 0);
		spawn_child.pidfd = fd;
	}
	else
	{
		Assert(which >= 0 && which < 3 && spawn_child.fds[which] < 0);
		spawn_child.fds[which] = fd;
	}
}
