/*-------------------------------------------------------------------------
 *
 * forkserver_worker.c
 *	  The background worker that supervises the fork server (spawn mode
 *	  "forkserver").  It
 *
 *	  - owns the listening Unix socket, in a 0700 directory only the
 *	    PostgreSQL OS user can enter ($PGDATA/codeexec_forkserver, or a
 *	    mkdtemp() directory in /tmp when that path would not fit in
 *	    sun_path), and publishes its path in shared memory.  Because the
 *	    worker keeps the socket across server restarts, a call that
 *	    connects while the server is being restarted waits in the backlog
 *	    and is served by the next server;
 *	  - fork + execs `codeexec-helper --server <pool> <require> <prewarm> <allowlist>`
 *	    with the exec-mode hygiene (signals reset, empty environment, only
 *	    fds 0 (lifeline), 1/2 (log), 3 (socket) and 4 (its replace pipe),
 *	    PDEATHSIG), restarts it
 *	    as soon as it dies (at most once a second), and restarts it when a
 *	    setting it was started with changes on reload;
 *	  - replaces it when it asks to be (fd 4, FORKSERVER_FD_REPLACE: one of
 *	    its children crashed, see forkserver_proto.h): the new server is
 *	    started at once (at most once a second) and the old one, kept
 *	    alive as the "draining" server, exits by itself once its running
 *	    calls have ended;
 *	  - kills both on shutdown (and they die with the worker anyway:
 *	    PDEATHSIG and EOF on the lifeline; their children die with them).
 *
 *	  Main loop per PostgreSQL idiom: WaitLatch(... WL_EXIT_ON_PM_DEATH),
 *	  SIGCHLD sets the latch, SIGHUP reloads the configuration.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "codeexec.h"
#include "forkserver.h"
#include "forkserver_proto.h"
#include "imports.h"

#define FS_RESTART_INTERVAL 1.0 /* seconds between two server starts */
#define FS_DIR_NAME "codeexec_forkserver"
#define FS_LISTEN_BACKLOG 256

int			codeexec_forkserver_pool_size = 2;
int			codeexec_forkserver_prewarm = FORKSERVER_PREWARM_ON;

/* The worker's own state (process-local). */
static pid_t fs_server_pid = 0;
static int	fs_listen_fd = -1;
static int	fs_lifeline_w = -1;
static int	fs_replace_r = -1;	/* the server's "replace me" pipe */
static pid_t fs_draining_pid = 0;	/* a replaced server finishing its calls */
static int	fs_draining_lifeline_w = -1;
static double fs_last_start = 0;
static char fs_dir[MAXPGPATH];
static char *fs_started_imports = NULL;
static int	fs_started_pool = 0;
static bool fs_started_require = false;
static int	fs_started_prewarm = FORKSERVER_PREWARM_OFF;

/* on/off and their boolean spellings, as when the setting was a boolean */
static const struct config_enum_entry fs_prewarm_options[] = {
	{"off", FORKSERVER_PREWARM_OFF, false},
	{"on", FORKSERVER_PREWARM_ON, false},
	{"full", FORKSERVER_PREWARM_FULL, false},
	{"false", FORKSERVER_PREWARM_OFF, true},
	{"true", FORKSERVER_PREWARM_ON, true},
	{"no", FORKSERVER_PREWARM_OFF, true},
	{"yes", FORKSERVER_PREWARM_ON, true},
	{"0", FORKSERVER_PREWARM_OFF, true},
	{"1", FORKSERVER_PREWARM_ON, true},
	{NULL, 0, false}
};

static void
fs_worker_sigchld(SIGNAL_ARGS)
{
	int			save_errno = errno;

	SetLatch(MyLatch);
	errno = save_errno;
}

/* Publish the server pid and listening state. */
static void
fs_publish(bool listening, pid_t pid, bool new_generation)
{
	SpinLockAcquire(&forkserver_shared->mutex);
	forkserver_shared->listening = listening;
	forkserver_shared->server_pid = pid;
	if (new_generation)
		forkserver_shared->generation++;
	SpinLockRelease(&forkserver_shared->mutex);
}

/*
 * Create the 0700 socket directory and the listening socket; publish the
 * path.  A directory left by a previous run is reused after its mode and
 * owner are checked.
 */
static void
fs_worker_listen(void)
{
	struct sockaddr_un addr;
	struct stat st;
	char		path[MAXPGPATH];

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	snprintf(fs_dir, sizeof(fs_dir), "%s/%s", DataDir, FS_DIR_NAME);
	if (strlen(fs_dir) + 1 + strlen(FORKSERVER_SOCKET_NAME) >= sizeof(addr.sun_path))
	{
		strlcpy(fs_dir, "/tmp/codeexec-fs-XXXXXX", sizeof(fs_dir));
		if (mkdtemp(fs_dir) == NULL)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create a directory for the codeexec fork server socket: %m")));
	}
	else if (mkdir(fs_dir, 0700) != 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", fs_dir)));
	if (lstat(fs_dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
		chmod(fs_dir, 0700) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("\"%s\" is not a private directory of the server's user", fs_dir),
				 errhint("Remove it; the fork-server worker recreates it.")));
	snprintf(path, sizeof(path), "%s/%s", fs_dir, FORKSERVER_SOCKET_NAME);
	(void) unlink(path);
	strlcpy(addr.sun_path, path, sizeof(addr.sun_path));

	fs_listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fs_listen_fd < 0 ||
		bind(fs_listen_fd, (struct sockaddr *) &addr, sizeof(addr)) != 0 ||
		listen(fs_listen_fd, FS_LISTEN_BACKLOG) != 0)
		ereport(ERROR,
				(errcode_for_socket_access(),
				 errmsg("could not listen on the codeexec fork server socket \"%s\": %m", path)));

	SpinLockAcquire(&forkserver_shared->mutex);
	strlcpy(forkserver_shared->socket_path, path, sizeof(forkserver_shared->socket_path));
	forkserver_shared->listening = true;
	SpinLockRelease(&forkserver_shared->mutex);
}

/* The allowlist GUC as the server's argument: names separated by '\n'. */
static char *
fs_allowlist_arg(void)
{
	return imports_resolve(NULL);
}

/*
 * Child side of the server's fork: never returns (see the exec-mode
 * recipe in STYLE.md; only async-signal-safe calls, _exit on failure).
 */
static void
fs_worker_exec(const char *path, char **argv, int lifeline_r, int replace_w, pid_t parent)
{
	char	   *envp[1] = {NULL};
	sigset_t	none;
	int			lfd,
				lifed,
				repd;

	for (int sig = 1; sig < NSIG; sig++)
		(void) signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((lfd = fcntl(fs_listen_fd, F_DUPFD, 16)) < 0 ||
		(lifed = fcntl(lifeline_r, F_DUPFD, 16)) < 0 ||
		(repd = fcntl(replace_w, F_DUPFD, 16)) < 0 ||
		dup2(lifed, FORKSERVER_FD_LIFELINE) < 0 ||
		dup2(2, 1) < 0 ||
		dup2(lfd, FORKSERVER_FD_LISTEN) < 0 ||
		dup2(repd, FORKSERVER_FD_REPLACE) < 0)
		_exit(127);
	if (syscall(SYS_close_range, FORKSERVER_FD_REPLACE + 1, ~0U, 0) < 0)
		_exit(127);
	(void) setsid();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	execve(path, argv, envp);
	_exit(127);
}

/* Start the fork server; on failure log and try again later. */
static void
fs_worker_start_server(void)
{
	char		pool[16];
	char		prewarm[16];
	char	   *imports = fs_allowlist_arg();
	char	   *argv[7];
	int			lifeline[2];
	int			replace[2];
	pid_t		parent = getpid();
	pid_t		pid;

	snprintf(pool, sizeof(pool), "%d", codeexec_forkserver_pool_size);
	argv[0] = codeexec_helper_path;
	argv[1] = FORKSERVER_ARG;
	argv[2] = pool;
	argv[3] = codeexec_require_isolation ? "1" : "0";
	snprintf(prewarm, sizeof(prewarm), "%d", codeexec_forkserver_prewarm);
	argv[4] = prewarm;
	argv[5] = imports;
	argv[6] = NULL;
	fs_last_start = spawn_now();

	if (pipe2(lifeline, O_CLOEXEC) != 0)
	{
		ereport(LOG, (errmsg("codeexec fork server: could not create a pipe: %m")));
		return;
	}
	if (pipe2(replace, O_CLOEXEC | O_NONBLOCK) != 0)
	{
		close(lifeline[0]);
		close(lifeline[1]);
		ereport(LOG, (errmsg("codeexec fork server: could not create a pipe: %m")));
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		fs_worker_exec(codeexec_helper_path, argv, lifeline[0], replace[1], parent);
	close(lifeline[0]);
	close(replace[1]);
	if (pid < 0)
	{
		close(lifeline[1]);
		close(replace[0]);
		ereport(LOG, (errmsg("codeexec fork server: could not fork: %m")));
		return;
	}
	fs_lifeline_w = lifeline[1];
	fs_replace_r = replace[0];
	fs_server_pid = pid;
	if (fs_started_imports)
		pfree(fs_started_imports);
	fs_started_imports = MemoryContextStrdup(TopMemoryContext, imports);
	fs_started_pool = codeexec_forkserver_pool_size;
	fs_started_require = codeexec_require_isolation;
	fs_started_prewarm = codeexec_forkserver_prewarm;
	pfree(imports);
	fs_publish(true, pid, true);
	ereport(LOG,
			(errmsg("codeexec fork server started (pid %d, pool of %d)",
					(int) pid, codeexec_forkserver_pool_size)));
}

static void
fs_worker_close_replace(void)
{
	if (fs_replace_r >= 0)
		close(fs_replace_r);
	fs_replace_r = -1;
}

/* A server that has been reaped: forget its pid, close its lifeline. */
static void
fs_worker_forget(pid_t *pid, int *lifeline_w)
{
	*pid = 0;
	if (*lifeline_w >= 0)
		close(*lifeline_w);
	*lifeline_w = -1;
}

/* Kill and reap a server (and, through PDEATHSIG, its children). */
static void
fs_worker_kill(pid_t *pid, int *lifeline_w)
{
	if (*pid > 0)
	{
		(void) kill(*pid, SIGKILL);
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	fs_worker_forget(pid, lifeline_w);
}

/*
 * The server asked to be replaced (a byte on its replace pipe): it becomes
 * the draining server, keeping its lifeline so its running calls finish,
 * and the main loop starts a new one.  One draining server at a time: a
 * second request while one drains kills the older (it is being asked to
 * leave because of repeated crashes anyway).
 */
static void
fs_worker_check_replace(void)
{
	char		buf[16];
	ssize_t		n;

	if (fs_replace_r < 0 || fs_server_pid == 0)
		return;
	n = read(fs_replace_r, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	fs_worker_close_replace();
	if (n <= 0)
		return;					/* EOF: it died; fs_worker_reap reports it */
	/* its calls are killed */
	fs_worker_kill(&fs_draining_pid, &fs_draining_lifeline_w);
	ereport(LOG,
			(errmsg("codeexec fork server (pid %d) had a child crash; starting a new server, whose children get a new memory layout",
					(int) fs_server_pid),
			 errdetail("The old server exits once its running calls have ended.")));
	fs_draining_pid = fs_server_pid;
	fs_draining_lifeline_w = fs_lifeline_w;
	fs_server_pid = 0;
	fs_lifeline_w = -1;
	fs_publish(true, 0, false);
}

/* Reap the draining server if it has finished. */
static void
fs_worker_reap_draining(void)
{
	if (fs_draining_pid > 0 && waitpid(fs_draining_pid, NULL, WNOHANG) == fs_draining_pid)
		fs_worker_forget(&fs_draining_pid, &fs_draining_lifeline_w);
}

/* Reap the server if it exited; true if it did. */
static bool
fs_worker_reap(void)
{
	int			status;
	pid_t		pid;

	if (fs_server_pid == 0)
		return false;
	pid = waitpid(fs_server_pid, &status, WNOHANG);
	if (pid != fs_server_pid)
		return false;
	if (WIFSIGNALED(status))
		ereport(LOG,
				(errmsg("codeexec fork server (pid %d) was terminated by signal %d; restarting it",
						(int) pid, WTERMSIG(status))));
	else if (WEXITSTATUS(status) == 127)
		ereport(LOG,
				(errmsg("codeexec fork server: could not execute \"%s\"; trying again in a second",
						codeexec_helper_path)));
	else
		ereport(LOG,
				(errmsg("codeexec fork server (pid %d) exited with code %d; restarting it",
						(int) pid, WEXITSTATUS(status))));
	fs_worker_forget(&fs_server_pid, &fs_lifeline_w);
	fs_worker_close_replace();
	fs_publish(true, 0, false);
	/* 127: execve failed (see fs_worker_exec); calls fail instead of waiting */
	SpinLockAcquire(&forkserver_shared->mutex);
	forkserver_shared->exec_failed = WIFEXITED(status) && WEXITSTATUS(status) == 127;
	SpinLockRelease(&forkserver_shared->mutex);
	return true;
}

/* Stop the current server (the draining one, if any, is left alone). */
static void
fs_worker_stop_server(void)
{
	fs_worker_close_replace();
	fs_worker_kill(&fs_server_pid, &fs_lifeline_w);
}

/* before_shmem_exit: no fork server outlives its worker. */
static void
fs_worker_exit(int code, Datum arg)
{
	fs_worker_stop_server();
	fs_worker_kill(&fs_draining_pid, &fs_draining_lifeline_w);
	if (forkserver_shared != NULL)
		fs_publish(false, 0, false);
}

/* After a reload: a setting the server was started with changed? */
static bool
fs_worker_settings_changed(void)
{
	char	   *imports = fs_allowlist_arg();
	bool		changed;

	changed = fs_started_imports == NULL || strcmp(imports, fs_started_imports) != 0 ||
		fs_started_pool != codeexec_forkserver_pool_size ||
		fs_started_require != codeexec_require_isolation ||
		fs_started_prewarm != codeexec_forkserver_prewarm;
	pfree(imports);
	return changed;
}

void
forkserver_worker_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	pqsignal(SIGCHLD, fs_worker_sigchld);
	BackgroundWorkerUnblockSignals();

	before_shmem_exit(fs_worker_exit, (Datum) 0);
	fs_worker_listen();

	for (;;)
	{
		long		timeout = -1;
		int			events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH;

		if (fs_server_pid == 0)
		{
			double		wait = fs_last_start + FS_RESTART_INTERVAL - spawn_now();

			if (wait <= 0)
				fs_worker_start_server();
			else
			{
				timeout = (long) (wait * 1000) + 1;
				events |= WL_TIMEOUT;
			}
		}
		if (fs_replace_r >= 0)
			events |= WL_SOCKET_READABLE;
		(void) WaitLatchOrSocket(MyLatch, events, fs_replace_r, timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		fs_worker_check_replace();

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			if (fs_server_pid > 0 && fs_worker_settings_changed())
			{
				ereport(LOG, (errmsg("codeexec fork server settings changed; restarting it")));
				fs_worker_stop_server();
				fs_last_start = 0;
				fs_publish(true, 0, false);
			}
		}
		(void) fs_worker_reap();
		fs_worker_reap_draining();
	}
}

/*
 * The number of pooled children when the GUC is not set: one per core
 * the machine has online, and at least FS_MIN_DEFAULT_POOL.  A session
 * calling back to back takes a child per call, so the child its next call
 * takes was cloned pool_size - 1 calls earlier.  With only one call
 * between, that child had more often not finished setting itself up and
 * copying the pages a call writes (forkserver_prefault.c) when its call
 * came, and the call waited or took the faults; on 2 cores a pool of 3
 * took ~14 % off the back-to-back median, a pool of 4 nothing more
 * (docs/forkserver-measurements.md).
 */
#define FS_MIN_DEFAULT_POOL 3

static int
fs_default_pool_size(void)
{
	long		n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < FS_MIN_DEFAULT_POOL)
		n = FS_MIN_DEFAULT_POOL;
	return n > FORKSERVER_MAX_POOL ? FORKSERVER_MAX_POOL : (int) n;
}

void
forkserver_register(void)
{
	BackgroundWorker worker;
	int			pool_default = fs_default_pool_size();

	DefineCustomIntVariable("codeexec.forkserver_pool_size",
							"Number of pre-forked, sandboxed children the fork server keeps ready.",
							"Defaults to the number of CPU cores, and at least 3.  Changing it restarts the fork server.",
							&codeexec_forkserver_pool_size, pool_default,
							1, FORKSERVER_MAX_POOL,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("codeexec.forkserver_prewarm",
							 "What idle fork-server children do before they take a call.",
							 "off: nothing; on: run a warm-up snippet if not taken within 5 ms; "
							 "full: always, after copying the pages of the server's heap that a "
							 "call writes, learned at start (for large allowlists such as "
							 "numpy/pandas: fewer page faults per call, more memory per child).  "
							 "Changing it restarts the fork server.",
							 &codeexec_forkserver_prewarm, FORKSERVER_PREWARM_ON,
							 fs_prewarm_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;

	forkserver_shmem_register();
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_PostmasterStart;
	worker.bgw_restart_time = 1;
	strlcpy(worker.bgw_library_name, "codeexec", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "forkserver_worker_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "codeexec fork server", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "codeexec fork server", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}
