/*-------------------------------------------------------------------------
 *
 * forkserver.c
 *	  Server mode of codeexec-helper: started (fork + exec, empty
 *	  environment) and supervised by the codeexec fork-server background
 *	  worker as
 *
 *	    codeexec-helper --server <pool size> <require 0|1> <prewarm 0|1|2> <allowlist>
 *
 *	  with fd 0 a lifeline pipe from the worker, fd 3 the listening Unix
 *	  socket backends connect to, fd 4 a pipe to ask the worker for a
 *	  replacement, fds 1 and 2 the server log.  It
 *
 *	  1. enters the namespaces every execution can share (user, IPC, UTS,
 *	     network, mount with the minimal root), keeping its capabilities
 *	     inside its own user namespace so it can create PID namespaces;
 *	  2. initialises CPython once, pre-imports the whole allowlist (the
 *	     superset; each call narrows it) with the import guard installed,
 *	     then collects and freezes the GC so children do not dirty the
 *	     pages of that state;
 *	  3. keeps `pool size` children ready, each cloned into its own PID
 *	     namespace (CLONE_NEWPID per child, Python's at-fork hooks around
 *	     the clone, so e.g. `random` is reseeded in every child), blocked in
 *	     accept() on the listening socket (forkserver_child.c);
 *	  4. when a child reports (notify pipe) that it took a connection,
 *	     clones a replacement; when a child exits, reaps it and writes its
 *	     wait status and rusage into the child's exit pipe, which the
 *	     backend holds (forkserver_proto.h);
 *	  5. when a child that took a call crashes, hands over to a new server
 *	     (fs_drain): every child shares this process's memory layout, so
 *	     crash after crash must not let anyone map it out.
 *
 *	  It never reads a request or runs user code itself.  It dies with
 *	  the worker (PDEATHSIG, and EOF on the lifeline), and every child dies
 *	  with it (PDEATHSIG).
 *
 *-------------------------------------------------------------------------
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "forkserver.h"
#include "forkserver_proto.h"
#include "pyrun.h"
#include "request.h"
#include "response.h"
#include "wire.h"

#define FS_MAX_CHILDREN 1024	/* idle + busy children tracked at once */
#define FS_FD_PARK		100		/* fds are moved here before their final dup2 */

typedef enum FsState
{
	FS_EMPTY = 0,
	FS_IDLE,					/* waiting in accept() */
	FS_BUSY						/* took a connection */
} FsState;

typedef struct FsChild
{
	pid_t		pid;
	int			exit_w;			/* write end of its exit pipe */
	FsState		state;
	int64_t		idle_cpu_usec;	/* CPU it spent before its request */
	double		cloned_at;		/* CLOCK_MONOTONIC seconds */
} FsChild;

static FsChild fs_children[FS_MAX_CHILDREN];
static int	fs_idle;
static int	fs_notify[2] = {-1, -1};
static int	fs_lifeline[2] = {-1, -1};
static FsConfig fs_config;
static int	fs_replace_fd = -1;		/* FORKSERVER_FD_REPLACE, if the worker gave one */
static double fs_drain_started;	/* CLOCK_MONOTONIC seconds; 0: not draining */

/* How long a replaced server waits for its running calls before it exits. */
#define FS_DRAIN_MAX_S 300

/* CLOCK_MONOTONIC in seconds. */
static double
fs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* User plus system CPU of a rusage, in microseconds. */
static int64_t
fs_rusage_cpu_usec(const struct rusage *ru)
{
	return (int64_t) ru->ru_utime.tv_sec * 1000000 + ru->ru_utime.tv_usec +
		(int64_t) ru->ru_stime.tv_sec * 1000000 + ru->ru_stime.tv_usec;
}

/* A line on the server log (fd 2), best effort. */
static void
fs_log(const char *fmt,...)
{
	char		line[600];
	int			n;
	va_list		ap;

	n = snprintf(line, sizeof(line), "codeexec-helper (fork server %d): ", (int) getpid());
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int) sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(2, line, n) < 0)
		return;
}

void
fs_log_line(const char *text)
{
	fs_log("%s", text);
}

static void __attribute__((noreturn))
fs_die(const char *what)
{
	fs_log("%s", what);
	_exit(1);
}

/* argv: --server <pool> <require> <prewarm> <allowlist>.  Exits on nonsense. */
static void
fs_parse_args(int argc, char **argv)
{
	if (argc != 6)
		fs_die("usage: codeexec-helper --server <pool size> <require 0|1> <prewarm 0|1|2> <allowlist>");
	fs_config.pool_size = atoi(argv[2]);
	if (fs_config.pool_size < 1 || fs_config.pool_size > FORKSERVER_MAX_POOL)
		fs_die("pool size out of range");
	fs_config.require = atoi(argv[3]) != 0;
	fs_config.prewarm = atoi(argv[4]);
	if (fs_config.prewarm < FORKSERVER_PREWARM_OFF || fs_config.prewarm > FORKSERVER_PREWARM_FULL)
		fs_die("prewarm out of range");
	fs_config.imports = argv[5];
	fs_config.imports_len = strlen(argv[5]);
}

/*
 * Numeric libraries start worker threads at import unless told not to;
 * a child may not create threads (RLIMIT_NPROC 0), so keep them single.
 */
static void
fs_single_threaded_libraries(void)
{
	static const char *const vars[] = {
		"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"
	};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		setenv(vars[i], "1", 1);
}

/*
 * What the prewarm "full" probe does (forkserver_learn.c): a call's kind of
 * work, all of it our own: the validator and runner on our snippets, and
 * the allowlisted libraries' first-use paths.
 */
static void
fs_probe_work(void)
{
	fs_warm_up(100);
	pyrun_rewarm();
}

/*
 * Start CPython, pre-import the allowlist with the guard installed, and
 * freeze the GC: everything allocated so far moves to the permanent
 * generation, so a collection in a child never touches (and so never
 * copies) those pages.
 */
static void
fs_start_python(void)
{
	char		errbuf[512];
	HelperRequest req;
	PyObject   *gc;
	PyObject   *r;

	fs_single_threaded_libraries();
	fs_hugepages_arenas();
	if (pyrun_start(errbuf, sizeof(errbuf)) != PYRUN_OK)
		fs_die(errbuf);
	gc = PyImport_ImportModule("gc");
	if (gc == NULL)
		fs_die("cannot import gc");
	memset(&req, 0, sizeof(req));
	req.imports = fs_config.imports;
	req.imports_len = fs_config.imports_len;
	if (pyrun_prepare(&req, 1, errbuf, sizeof(errbuf)) != PYRUN_OK)
		fs_die(errbuf);
	fs_warm_up(100);
	if (pyrun_server_ready(errbuf, sizeof(errbuf)) != PYRUN_OK)
		fs_log("%s", errbuf);	/* children do that work, as before */
	r = PyObject_CallMethod(gc, "collect", NULL);
	Py_XDECREF(r);
	r = PyObject_CallMethod(gc, "freeze", NULL);
	if (r == NULL)
		fs_die("gc.freeze() failed");
	Py_DECREF(r);
	Py_DECREF(gc);

	/*
	 * The filters before the heap is filled and learned: compiling them
	 * mallocs and frees, and the chunks it left free below the top used to
	 * take a child's first mallocs, on inherited pages the probe (below)
	 * had not written.
	 */
	fs_sandbox_precompile();
	fs_log("pymalloc: %ld free blocks of partly used pools taken", fs_pools_fill());
	fs_log("malloc: %ld free chunks below the top of the heap taken", fs_heap_fill());
	fs_hugepages_seal(errbuf, sizeof(errbuf));
	fs_log("%s", errbuf);
	if (fs_config.prewarm == FORKSERVER_PREWARM_FULL &&
		fs_prefault_record(fs_probe_work, "full") < 0)
		fs_log("prewarm full: could not learn which pages a call writes; "
			   "idle children copy every resident page");
	if (fs_config.prewarm == FORKSERVER_PREWARM_ON &&
		fs_prefault_record(fs_probe_call, "on") < 0)
		fs_log("prewarm on: could not learn which pages a call writes; "
			   "children take those faults during their call");
}

/*
 * Child side of a fork, before fs_child_main: put the descriptors the
 * child keeps at their fixed numbers (forkserver.h) and close the rest.
 */
static void
fs_child_descriptors(int exit_r)
{
	int			keep[3] = {fs_notify[1], exit_r, fs_lifeline[0]};
	int			target[3] = {FS_CHILD_FD_NOTIFY, FS_CHILD_FD_EXIT, FS_CHILD_FD_LIFELINE};

	for (int i = 0; i < 3; i++)
		if ((keep[i] = fcntl(keep[i], F_DUPFD, FS_FD_PARK)) < 0)
			_exit(1);
	for (int i = 0; i < 3; i++)
		if (dup2(keep[i], target[i]) < 0)
			_exit(1);
	if (syscall(SYS_close_range, FS_CHILD_FD_FIRST_FREE, ~0U, 0) < 0)
		_exit(1);
	close(FORKSERVER_FD_LIFELINE);	/* the worker's; the child has its own */
}

/*
 * Clone one child into slot `slot`, in a new PID namespace when the kernel
 * lets us (else a plain fork, and the child reports the layer missing).
 * Python's before/after-fork hooks run around the raw clone, as
 * os.fork() would run them.  Returns 0, or -1 if no process was created.
 */
static int
fs_spawn(int slot)
{
	int			exitp[2];
	pid_t		pid;
	int			pid_ns = 1;

	if (pipe2(exitp, O_CLOEXEC) < 0)
		return -1;
	PyOS_BeforeFork();
	pid = (pid_t) syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0 && (errno == EPERM || errno == EINVAL))
	{
		pid_ns = 0;
		pid = fork();
	}
	if (pid == 0)
	{
		PyOS_AfterFork_Child();
		fs_child_descriptors(exitp[0]);
		fs_child_main(&fs_config, slot, pid_ns);
	}
	PyOS_AfterFork_Parent();
	close(exitp[0]);
	if (pid < 0)
	{
		close(exitp[1]);
		return -1;
	}
	fs_children[slot].pid = pid;
	fs_children[slot].exit_w = exitp[1];
	fs_children[slot].state = FS_IDLE;
	fs_children[slot].cloned_at = fs_now();
	fs_idle++;
	return 0;
}

/*
 * Whether to clone replacements now.  A clone copies the server's page
 * tables (~0.1 ms of CPU here) and the new child then sets itself up and
 * copies the pages a call writes (~0.5 ms).  Done while a call runs, that
 * work competes with it, and with the backend's wait for the recorder
 * that follows, for the CPUs: it is better done once the running child
 * has exited, while the pool still has an idle child for a call arriving
 * meanwhile.  So a replacement waits, for at most FS_REFILL_DELAY_MS, while
 * exactly one call runs and two children are ready (the next call has one
 * and one is to spare).  With only one ready, it waits only if that child
 * has been ready for FS_REFILL_RECENT_MS (calls are not coming back to
 * back): back to back, a replacement cloned only after the exit met its
 * call before its copy was done, so the call took the faults.  With two
 * calls or more running only that second test applies: the CPUs are busy
 * anyway, and a large pool would run dry waiting for a moment when one
 * call runs (docs/forkserver-measurements.md).
 */
#define FS_REFILL_DELAY_MS 20
#define FS_REFILL_RECENT_MS 5

static double fs_refill_deferred_since;	/* ms; 0: not deferring */

static int
fs_busy_count(void)
{
	int			busy = 0;

	for (int s = 0; s < FS_MAX_CHILDREN; s++)
		busy += fs_children[s].state == FS_BUSY;
	return busy;
}

/* Seconds since the most recent clone of a child that is still idle. */
static double
fs_newest_idle_age(double now)
{
	double		newest = 0;

	for (int s = 0; s < FS_MAX_CHILDREN; s++)
		if (fs_children[s].state == FS_IDLE && fs_children[s].cloned_at > newest)
			newest = fs_children[s].cloned_at;
	return now - newest;
}

/* Whether a replacement should wait now (the rule above). */
static int
fs_refill_may_wait(double now)
{
	int			busy = fs_busy_count();

	if (busy == 0)
		return 0;
	if (busy == 1 && fs_idle >= 2)
		return 1;
	return fs_newest_idle_age(now) * 1e3 >= FS_REFILL_RECENT_MS;
}

/* Milliseconds to wait before filling the pool: 0 now, -1 nothing to do. */
static int
fs_refill_wait_ms(void)
{
	double		now = fs_now();

	if (fs_idle < fs_config.pool_size && fs_idle > 0 && fs_refill_may_wait(now))
	{
		double		ms = now * 1e3;

		if (fs_refill_deferred_since == 0)
			fs_refill_deferred_since = ms;
		if (ms - fs_refill_deferred_since < FS_REFILL_DELAY_MS)
			return (int) (FS_REFILL_DELAY_MS - (ms - fs_refill_deferred_since)) + 1;
	}
	fs_refill_deferred_since = 0;
	return fs_idle < fs_config.pool_size ? 0 : -1;
}

/* Top the pool up to pool_size idle children.  -1 if a clone failed. */
static int
fs_fill_pool(void)
{
	for (int slot = 0; slot < FS_MAX_CHILDREN && fs_idle < fs_config.pool_size; slot++)
		if (fs_children[slot].state == FS_EMPTY && fs_spawn(slot) < 0)
		{
			fs_log("cannot create a pooled child: %s", strerror(errno));
			return -1;
		}
	return 0;
}

/* Children report the slot whose connection they took (FsNotice). */
static void
fs_read_notifications(void)
{
	FsNotice	notices[32];
	ssize_t		n;

	while ((n = read(fs_notify[0], notices, sizeof(notices))) > 0)
		for (ssize_t i = 0; i < n / (ssize_t) sizeof(FsNotice); i++)
		{
			int			s = notices[i].slot;

			if (s >= 0 && s < FS_MAX_CHILDREN && fs_children[s].state == FS_IDLE)
			{
				fs_children[s].state = FS_BUSY;
				fs_children[s].idle_cpu_usec = notices[i].cpu_usec;
				fs_idle--;
			}
		}
}

/*
 * Signals that end a process that went wrong on its own, as a memory
 * probe would make it (not SIGKILL: deadlines, cancels, the settle; not
 * SIGSYS: a refused system call; not SIGXCPU: the CPU limit).
 */
static int
fs_is_crash(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
		sig == SIGABRT || sig == SIGTRAP;
}

/*
 * A child running a call crashed.  Every child is a fork of this process:
 * same addresses, same stack-protector canary.  A process that is forked
 * again after each crash is what lets an attacker guess such secrets a
 * piece at a time (a wrong guess costs one crash, a right one survives).
 * So this server retires: it asks the worker for a replacement (a fresh
 * exec, so a fresh layout and canary), kills its idle children so no
 * further call lands on this layout, clones no more, and exits once its
 * running calls are over (main loop).  Run by hand, without the worker's
 * replace pipe, it carries on.
 */
static void
fs_drain(int sig)
{
	if (fs_replace_fd < 0)
		return;					/* run by hand: nobody would replace us */
	fs_log("a child running a call died of signal %d (%s); handing over to a new server",
		   sig, strsignal(sig));
	fs_drain_started = fs_now();
	if (write(fs_replace_fd, "R", 1) != 1)
		fs_log("cannot ask the worker for a replacement: %s", strerror(errno));
	close(fs_replace_fd);
	fs_replace_fd = -1;
	fs_read_notifications();	/* a child that just took a call is busy */
	for (int s = 0; s < FS_MAX_CHILDREN; s++)
		if (fs_children[s].state == FS_IDLE)
			kill(fs_children[s].pid, SIGKILL);

	/*
	 * Wait until they are gone (zombies, not reaped: fs_reap does that).
	 * A child the kill woke in accept() but that has not run yet still
	 * dequeues a connection that arrives meanwhile, before it looks at the
	 * signal, and then dies with it: the caller's next call, sent as soon
	 * as the exit record below arrives, would be lost that way.  A zombie
	 * has closed its descriptors, so from here on only the new server's
	 * children can take a connection.
	 */
	for (int s = 0; s < FS_MAX_CHILDREN; s++)
		if (fs_children[s].state == FS_IDLE)
		{
			siginfo_t	info;

			while (waitid(P_PID, fs_children[s].pid, &info, WEXITED | WNOWAIT) < 0 &&
				   errno == EINTR)
				;
		}
}

/* Draining: true once no child is left (or the wait has lasted too long). */
static int
fs_drained(void)
{
	int			left = 0;

	for (int s = 0; s < FS_MAX_CHILDREN; s++)
		left += fs_children[s].state != FS_EMPTY;
	return left == 0 || fs_now() - fs_drain_started > FS_DRAIN_MAX_S;
}

/*
 * Reap every exited child and hand its wait status and rusage to whoever
 * holds its exit pipe.  Returns how many died while still idle (they never
 * took a connection: a sign something is wrong when it keeps happening).
 */
static int
fs_reap(void)
{
	int			idle_deaths = 0;
	int			status;
	struct rusage ru;
	pid_t		pid;

	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0)
	{
		for (int s = 0; s < FS_MAX_CHILDREN; s++)
		{
			ForkserverExit rec;

			if (fs_children[s].state == FS_EMPTY || fs_children[s].pid != pid)
				continue;
			if (fs_children[s].state == FS_IDLE)
			{
				fs_idle--;
				idle_deaths++;
			}
			else if (WIFSIGNALED(status) && fs_is_crash(WTERMSIG(status)) &&
					 fs_drain_started == 0)
			{
				/*
				 * Before the exit record: once its backend has it, its next
				 * call must find no idle child of this layout.
				 */
				fs_drain(WTERMSIG(status));
			}
			rec.magic = FORKSERVER_EXIT_MAGIC;
			rec.wait_status = status;
			rec.cpu_usec = fs_rusage_cpu_usec(&ru) - fs_children[s].idle_cpu_usec;
			if (rec.cpu_usec < 0)
				rec.cpu_usec = 0;
			rec.maxrss_kb = ru.ru_maxrss;
			/* nobody may be reading any more (EPIPE is ignored) */
			if (write(fs_children[s].exit_w, &rec, sizeof(rec)) < 0)
				(void) 0;
			close(fs_children[s].exit_w);
			memset(&fs_children[s], 0, sizeof(fs_children[s]));
			break;
		}
	}
	return fs_drain_started > 0 ? 0 : idle_deaths;
}

/* The worker is gone: take every child down and exit. */
static void __attribute__((noreturn))
fs_shutdown(void)
{
	for (int s = 0; s < FS_MAX_CHILDREN; s++)
		if (fs_children[s].state != FS_EMPTY)
			kill(fs_children[s].pid, SIGKILL);
	_exit(0);
}

/*
 * Which signal dispositions differ from SIG_DFL, now that CPython and this
 * file have set theirs (nothing changes them later): a child resets only
 * those instead of making a system call for every signal.
 */
static void
fs_note_changed_signals(void)
{
	sigemptyset(&fs_config.changed_signals);
	for (int sig = 1; sig < NSIG; sig++)
	{
		struct sigaction sa;

		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL)
			sigaddset(&fs_config.changed_signals, sig);
	}
}

/* Process set-up that does not depend on CPython (see file header). */
static void
fs_process_setup(void)
{
	struct rlimit no_core = {0, 0};
	struct pollfd pfd = {.fd = FORKSERVER_FD_LIFELINE, .events = POLLIN};
	char		errbuf[512];
	struct stat st;

	signal(SIGPIPE, SIG_IGN);
	/* run by hand (tests), fd 4 may be anything: only a pipe is the worker's */
	if (fstat(FORKSERVER_FD_REPLACE, &st) == 0 && S_ISFIFO(st.st_mode))
		fs_replace_fd = FORKSERVER_FD_REPLACE;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 ||
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		fs_die("prctl failed");
	/* the worker may have died before the death signal was armed */
	if (poll(&pfd, 1, 0) != 0)
		fs_die("the supervising worker is gone");
	setrlimit(RLIMIT_CORE, &no_core);
	if (fs_config.prewarm != FORKSERVER_PREWARM_OFF)
		fs_prefault_open();
	fs_hugepages_check();
	if (fs_sandbox_server(&fs_config.bounding_cleared, errbuf, sizeof(errbuf)) != 0)
	{
		fs_log("isolation: %s", errbuf);
		fs_config.ns_error = strdup(errbuf);
	}
}

int
forkserver_main(int argc, char **argv)
{
	sigset_t	chld;
	int			sfd;
	int			backoff_ms = -1;

	/*
	 * No malloc fast bins: a child's first large malloc would consolidate
	 * every fast-bin chunk it inherited, writing chunk headers all over the
	 * heap (~50 copy-on-write faults per child).  CPython allocates small
	 * objects itself, so the server barely notices.
	 */
	mallopt(M_MXFAST, 0);
	fs_parse_args(argc, argv);
	fs_process_setup();
	fs_start_python();

	if (pipe2(fs_notify, O_CLOEXEC | O_NONBLOCK) < 0 ||
		pipe2(fs_lifeline, O_CLOEXEC) < 0)
		fs_die("cannot create pipes");
	/* notifications are single int writes: never partial, never block */
	fcntl(fs_notify[1], F_SETFL, 0);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		fs_die("signalfd failed");
	fs_note_changed_signals();
	fs_log("ready: pool of %d, allowlist of %zu bytes%s", fs_config.pool_size,
		   fs_config.imports_len, fs_config.ns_error ? ", isolation incomplete" : "");

	for (;;)
	{
		struct pollfd pfd[3] = {
			{.fd = FORKSERVER_FD_LIFELINE, .events = POLLIN},
			{.fd = fs_notify[0], .events = POLLIN},
			{.fd = sfd, .events = POLLIN},
		};

		int			wait_ms = backoff_ms;

		if (fs_drain_started > 0)
		{
			if (fs_drained())
				fs_shutdown();
			wait_ms = 1000;
		}
		else if (backoff_ms < 0 && (wait_ms = fs_refill_wait_ms()) == 0)
			wait_ms = fs_fill_pool() < 0 ? 100 : -1;
		if (poll(pfd, 3, wait_ms) < 0 && errno != EINTR)
			fs_die("poll failed");
		backoff_ms = -1;
		if (pfd[0].revents)
			fs_shutdown();
		if (pfd[1].revents)
			fs_read_notifications();
		if (pfd[2].revents)
		{
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) > 0)
				;
			/* children dying before they served anyone: do not spin */
			if (fs_reap() > 0)
				backoff_ms = 100;
		}
	}
}
