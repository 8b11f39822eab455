/*-------------------------------------------------------------------------
 *
 * forkserver_client.c
 *	  A backend's side of spawn mode "forkserver": connect to the fork
 *	  server's socket, receive the pooled child's pidfd and exit pipe
 *	  (forkserver_proto.h), then hand everything to spawn.c's channel mode,
 *	  which writes the request and reads the response with the same
 *	  WaitEventSet loop, deadline, CHECK_FOR_INTERRUPTS and cleanup as exec
 *	  mode (SIGKILL through the pidfd on deadline, cancel, ERROR, FATAL).
 *	  The response is decoded by outcome.c exactly as in exec mode.
 *
 *	  The backend never has a child in this mode: the fork server forks
 *	  and reaps; every descriptor we receive is registered with spawn.c the
 *	  moment it exists, so nothing leaks whatever happens.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/wait_event.h"

#include "codeexec.h"
#include "forkserver.h"
#include "forkserver_proto.h"
#include "forkserver_settle.h"

/* What the start and settle callbacks share for one call. */
typedef struct FsClientCall
{
	const char *path;			/* the server's socket */
	FsSettle	settle;
} FsClientCall;

/* Take one external fd slot or ERROR. */
static void
fs_client_acquire_fd(void)
{
	if (!AcquireExternalFD())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("too many open files to reach the codeexec fork server")));
}

/*
 * Wait until `fd` has `event` (WL_SOCKET_*), the latch is set or the
 * deadline passes; CHECK_FOR_INTERRUPTS on the way.  false at the deadline.
 */
static bool
fs_client_wait(int fd, int event, double deadline)
{
	for (;;)
	{
		double		now = spawn_now();
		int			rc;

		CHECK_FOR_INTERRUPTS();
		if (now >= deadline)
			return false;
		rc = WaitLatchOrSocket(MyLatch, WL_LATCH_SET | event | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							   fd, (long) ((deadline - now) * 1000.0) + 1, PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
			ResetLatch(MyLatch);
		if (rc & event)
			return true;
	}
}

/* ERROR: the fork server cannot be reached (not preloaded, not running). */
static void
fs_client_unavailable(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the codeexec fork server is not available"),
			 errdetail("%s", detail),
			 errhint("Add codeexec to shared_preload_libraries and restart, or set codeexec.spawn_mode to 'exec'.")));
}

/* Connect to `path` (non-blocking; a full backlog is waited out). */
static bool
fs_client_connect(int sock, const char *path, double deadline)
{
	struct sockaddr_un addr;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
	for (;;)
	{
		if (connect(sock, (struct sockaddr *) &addr, sizeof(addr)) == 0)
			return true;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EINPROGRESS)
		{
			/* backlog full: every child is busy; try again shortly */
			double		retry = Min(deadline, spawn_now() + 0.002);

			if (spawn_now() >= deadline)
				return false;
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 (long) ((retry - spawn_now()) * 1000.0) + 1, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		fs_client_unavailable(psprintf("connect(\"%s\") failed: %s.", path, strerror(errno)));
	}
}

/* What came back where the child's hello was expected. */
typedef enum FsHello
{
	FS_HELLO_OK,				/* pidfd and exit pipe adopted */
	FS_HELLO_NONE,				/* closed before one byte or descriptor */
	FS_HELLO_BAD				/* anything else: garbage, a short frame */
} FsHello;

/*
 * Connections that may close before a hello, one after another, before the
 * call is reported as killed.  Each such close is a child that died between
 * accept() and its hello (hand-over: the old server's idle children); more
 * than a few in a row means something else is wrong.
 */
#define FS_CLIENT_MAX_CONNECTS 4

/* Descriptors a hello may carry that we look at; more make it a bad one. */
#define FS_HELLO_MAX_FDS 4

/*
 * One recvmsg of a hello's worth: its bytes into *data, the descriptors it
 * carried into fds (*nfds of them; the kernel closes any beyond
 * FS_HELLO_MAX_FDS and sets *truncated).  Returns recvmsg's result.
 */
static ssize_t
fs_client_recv_hello(int sock, int flags, ForkserverHello *data, int *fds, int *nfds,
					 bool *truncated)
{
	char		cbuf[CMSG_SPACE(sizeof(int) * FS_HELLO_MAX_FDS)];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(*data)};
	struct msghdr msg;
	struct cmsghdr *cmsg;
	ssize_t		n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	do
		n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	*nfds = 0;
	*truncated = n >= 0 && (msg.msg_flags & MSG_CTRUNC) != 0;
	if (n < 0)
		return n;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL; cmsg = CMSG_NXTHDR(&msg, cmsg))
	{
		if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
		{
			int			count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (int i = 0; i < count && *nfds < FS_HELLO_MAX_FDS; i++)
				memcpy(&fds[(*nfds)++], CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
		}
	}
	return n;
}

/*
 * Receive the child's hello: a ForkserverHello with exactly two
 * descriptors.  Each received descriptor is adopted by spawn.c at once.
 */
static FsHello
fs_client_hello(int sock, FsSettle *settle)
{
	ForkserverHello data;
	int			fds[FS_HELLO_MAX_FDS];
	int			nfds;
	bool		truncated;
	ssize_t		n = fs_client_recv_hello(sock, 0, &data, fds, &nfds, &truncated);

	if (n <= 0 && nfds == 0)
		return FS_HELLO_NONE;
	if (n != sizeof(data) || memcmp(data.magic, FORKSERVER_HELLO_MAGIC, sizeof(data.magic)) != 0 ||
		nfds != 2 || truncated)
	{
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		return FS_HELLO_BAD;
	}
	for (int i = 0; i < 2; i++)
	{
		if (!AcquireExternalFD())
		{
			for (int j = i; j < 2; j++)
				close(fds[j]);
			fs_client_acquire_fd();		/* ERRORs */
		}
		spawn_adopt(i == 0 ? SPAWN_ADOPT_PIDFD : SPAWN_ADOPT_EXIT, fds[i]);
	}
	if (fcntl(fds[1], F_SETFL, O_NONBLOCK) < 0)
		elog(ERROR, "could not make the fork-server exit pipe non-blocking: %m");
	fs_settle_begin(settle, fds[0], data.cpu_nsec);
	return FS_HELLO_OK;
}

/*
 * spawn.c's abandon callback, for a call that ends after its request was
 * sent but before the child's hello was taken (cancel, FATAL, deadline).
 * The child sends its hello before it reads a byte of the request, and
 * exits if that send fails.  Shut down, its hello can no longer be sent;
 * so either it is already queued here, and the pidfd in it kills the
 * child, or the child will never read the request.
 */
static void
fs_client_abandon(int sock)
{
	ForkserverHello data;
	int			fds[FS_HELLO_MAX_FDS];
	int			nfds;
	bool		truncated;

	(void) shutdown(sock, SHUT_RDWR);
	(void) fs_client_recv_hello(sock, MSG_DONTWAIT, &data, fds, &nfds, &truncated);
	if (nfds > 0)
		(void) syscall(SYS_pidfd_send_signal, fds[0], SIGKILL, NULL, 0);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

/* spawn.c's measure callback: the child's CPU before it is killed. */
static bool
fs_client_measure(void *arg, double *cpu_seconds)
{
	return fs_settle_cpu_used(&((FsClientCall *) arg)->settle, cpu_seconds);
}

/*
 * spawn.c's start callback: reach a pooled child.  `arg` is the
 * FsClientCall.  false if the deadline passed before a child took the
 * connection.
 *
 * The request goes out right after connect(), before the hello: the child
 * finds it waiting once its hello is sent, instead of sleeping until we
 * have woken up, read the hello and written it (a round trip of two
 * wake-ups).  fs_client_abandon covers the call ending in between.
 *
 * A connection closed before the hello never had its request read (the
 * child reads only after its hello), so no code ran and connecting again
 * is safe.  That happens at a hand-over: an idle child of the old server,
 * SIGKILLed but not yet scheduled, can still dequeue a connection from the
 * shared listening socket and dies holding it.
 */
static bool
fs_client_start(void *arg, double deadline)
{
	FsClientCall *call = (FsClientCall *) arg;
	int			sock;
	int			req;
	FsHello		hello = FS_HELLO_NONE;

	for (int attempt = 0; attempt < FS_CLIENT_MAX_CONNECTS && hello == FS_HELLO_NONE; attempt++)
	{
		if (attempt > 0)
		{
			elog(DEBUG1, "codeexec: a fork-server child closed the connection before its hello; connecting again");
			spawn_set_abandon(NULL);
			spawn_release(SPAWN_ADOPT_REQUEST);
			spawn_release(SPAWN_ADOPT_RESPONSE);
		}
		fs_client_acquire_fd();
		sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (sock < 0)
		{
			ReleaseExternalFD();
			ereport(ERROR,
					(errcode_for_socket_access(),
					 errmsg("could not create a socket for the codeexec fork server: %m")));
		}
		spawn_adopt(SPAWN_ADOPT_RESPONSE, sock);
		if (!fs_client_connect(sock, call->path, deadline))
			return false;

		fs_client_acquire_fd();
		req = fcntl(sock, F_DUPFD_CLOEXEC, 0);
		if (req < 0)
		{
			ReleaseExternalFD();
			elog(ERROR, "could not duplicate the fork-server socket: %m");
		}
		spawn_adopt(SPAWN_ADOPT_REQUEST, req);
		spawn_set_abandon(fs_client_abandon);
		spawn_send_request();

		if (!fs_client_wait(sock, WL_SOCKET_READABLE, deadline))
			return false;
		hello = fs_client_hello(sock, &call->settle);
	}
	if (hello == FS_HELLO_OK)
	{
		spawn_set_abandon(NULL);	/* the pidfd is spawn.c's now */
		spawn_set_measure(fs_client_measure, call);
	}
	else if (hello == FS_HELLO_NONE)
		spawn_release(SPAWN_ADOPT_REQUEST);
	/* EOF or garbage: the loop sees EOF, "killed" */
	return true;
}

/* spawn.c's settle callback (forkserver_settle.c). */
static SpawnSettle
fs_client_settle(void *arg, int pidfd, const char *response, size_t response_len,
				 SpawnResult *result)
{
	return fs_settle_try(&((FsClientCall *) arg)->settle, pidfd, response,
						 response_len, result);
}

/*
 * Turn what came through the exit pipe into the wait status and rusage
 * exec mode would have.  Without a record the server died before reaping
 * the child: a complete response still counts (outcome.c decodes it), no
 * response is reported as the child killed.
 */
static void
fs_client_exit_record(SpawnResult *sr)
{
	ForkserverExit rec;

	if (sr->settled)
		return;					/* figures read from the live child */
	if (sr->timed_out)
	{
		sr->diagnostics_len = 0;
		sr->diagnostics[0] = '\0';
		return;
	}
	if (sr->diagnostics_len == sizeof(rec))
	{
		memcpy(&rec, sr->diagnostics, sizeof(rec));
		if (rec.magic == FORKSERVER_EXIT_MAGIC)
		{
			sr->wait_status = rec.wait_status;
			sr->cpu_seconds = rec.cpu_usec / 1e6;
			sr->peak_rss_kb = rec.maxrss_kb;
			sr->diagnostics_len = 0;
			sr->diagnostics[0] = '\0';
			return;
		}
	}
	sr->wait_status = sr->response_len > 0 ? 0 : SIGKILL;
	sr->diagnostics = pstrdup(sr->response_len > 0 ?
							  "the fork server died before reporting the child's exit" :
							  "the fork-server child closed the connection without a response (the fork server may have died)");
	sr->diagnostics_len = strlen(sr->diagnostics);
}

void
forkserver_run(const char *request, size_t request_len, int timeout_ms,
			   size_t response_cap, SpawnResult *result)
{
	char		path[sizeof(((ForkserverShared *) 0)->socket_path)];
	FsClientCall call;
	bool		listening;
	bool		exec_failed;
	pid_t		server_pid;

	if (forkserver_shared == NULL)
		fs_client_unavailable("The codeexec library was not loaded through shared_preload_libraries.");
	SpinLockAcquire(&forkserver_shared->mutex);
	listening = forkserver_shared->listening;
	exec_failed = forkserver_shared->exec_failed;
	server_pid = forkserver_shared->server_pid;
	memcpy(path, forkserver_shared->socket_path, sizeof(path));
	SpinLockRelease(&forkserver_shared->mutex);
	if (!listening)
		fs_client_unavailable("The fork-server background worker is not running.");
	if (exec_failed && server_pid == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("could not execute the codeexec helper"),
				 errdetail("The fork-server worker could not start \"%s\" (see the server log).",
						   codeexec_helper_path),
				 errhint("Check codeexec.helper_path in postgresql.conf, or install the helper with \"make install\".")));

	memset(&call, 0, sizeof(call));
	call.path = path;
	fs_settle_init(&call.settle);
	PG_TRY();
	{
		spawn_run_channel(fs_client_start, fs_client_settle, &call, request, request_len,
						  timeout_ms, response_cap, result);
	}
	PG_FINALLY();
	{
		fs_settle_end(&call.settle);
	}
	PG_END_TRY();
	fs_client_exit_record(result);
}
