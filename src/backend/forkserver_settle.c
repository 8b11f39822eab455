/*-------------------------------------------------------------------------
 *
 * forkserver_settle.c
 *	  Ending a fork-server call as soon as its response is complete, instead
 *	  of when the child has exited and the server has reaped it.
 *
 *	  A child's exit is slow: tearing down an address space inherited from
 *	  the whole fork server costs ~0.3-0.4 ms here, and the exit record then
 *	  needs the server to wake, reap and write.  So a pooled child, once its
 *	  response is sent, waits for us to hang up (forkserver_child.c), and we
 *	  take the call's figures from the kernel while it is still alive:
 *
 *	    CPU time   the child's process CPU clock (clock_getcpuclockid) now,
 *	               minus its reading in the child's hello (sent before the
 *	               child read any user input, so it can be trusted): what
 *	               the call cost, like the exit record's rusage minus the
 *	               child's idle time;
 *	    peak RSS   VmHWM of /proc/<pid>/status (ru_maxrss is the same
 *	               high-water mark, taken at exit).
 *
 *	  Then the child is SIGKILLed through its pidfd.  That kill succeeding
 *	  proves the child had not been reaped when we read its figures, so
 *	  the pid (asked of the pidfd: PIDFD_GET_INFO, or its fdinfo before
 *	  Linux 6.13) still named it.  Nothing here
 *	  trusts the child: a hostile one can only lie in its own response.
 *	  When a figure cannot be read, the caller waits for the exit record as
 *	  before.
 *
 *	  The status file is opened at the hello, while the child runs the
 *	  call and we would only wait: procfs looking up a pid it has not seen
 *	  costs ~25 us of the ~55 an open+read takes here, and the response
 *	  then waits only for the read.  The same kill proves the file named
 *	  the child: it was alive from the pid's lookup to the kill.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "forkserver_settle.h"
#include "storage/fd.h"
#include "wire.h"

/* Read an open /proc file from its start into buf (NUL-terminated). */
static bool
fs_settle_read_fd(int fd, char *buf, size_t size)
{
	ssize_t		n;

	do
		n = pread(fd, buf, size - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

/*
 * Read a small /proc file into buf (NUL-terminated).  Plain open/close:
 * nothing between them can ERROR, so the descriptor cannot leak.
 */
static bool
fs_settle_read_proc(const char *path, char *buf, size_t size)
{
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	bool		ok;

	if (fd < 0)
		return false;
	ok = fs_settle_read_fd(fd, buf, size);
	close(fd);
	return ok;
}

/* The path of a process's status file, for VmHWM. */
static void
fs_settle_status_path(char *path, size_t size, pid_t pid)
{
	snprintf(path, size, "/proc/%d/status", (int) pid);
}

/* The number after "\n<key>" in a /proc text file, or -1. */
static long
fs_settle_field(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	char	   *end;
	long		v;

	if (p == NULL)
		return -1;
	p += strlen(key);
	v = strtol(p, &end, 10);
	return end == p ? -1 : v;
}

/*
 * PIDFD_GET_INFO (Linux 6.13): the pid a pidfd names, in our namespace,
 * with one ioctl instead of opening, reading and parsing its fdinfo.  The
 * ioctl is extensible: the kernel takes the size from the command and
 * fills what both sides know.  Declared here for older headers.
 */
typedef struct FsPidfdInfo
{
	uint64		mask;
	uint64		cgroupid;
	uint32		pid;
	uint32		ids[10];		/* tgid, ppid, then uids and gids: unused */
	uint32		spare;
} FsPidfdInfo;

#define FS_PIDFD_GET_INFO	_IOWR(0xFF, 11, FsPidfdInfo)
#define FS_PIDFD_INFO_PID	((uint64) 1)

/* The pid pidfd names, or -1 (exited, or an interface this kernel lacks). */
static long
fs_settle_pid(int pidfd)
{
	FsPidfdInfo info;
	char		path[64];
	char		text[512];

	StaticAssertStmt(sizeof(FsPidfdInfo) == 64, "PIDFD_INFO_SIZE_VER0 is 64 bytes");
	memset(&info, 0, sizeof(info));
	info.mask = FS_PIDFD_INFO_PID;
	if (ioctl(pidfd, FS_PIDFD_GET_INFO, &info) == 0 && (info.mask & FS_PIDFD_INFO_PID))
		return info.pid;
	/* before 6.13: the fdinfo text */
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	if (!fs_settle_read_proc(path, text, sizeof(text)))
		return -1;
	return fs_settle_field(text, "\nPid:");
}

void
fs_settle_init(FsSettle *s)
{
	s->ready = false;
	s->status_fd = -1;
}

/*
 * The CPU clock at the start is the child's own reading, sent in its hello
 * before it read the request: we may take the hello only after the child
 * has run the call (the request goes out before the hello), and reading
 * the clock then would miss that work.
 */
void
fs_settle_begin(FsSettle *s, int pidfd, uint64 hello_cpu_nsec)
{
	char		path[64];
	long		pid;

	s->ready = false;
	pid = fs_settle_pid(pidfd);
	if (pid <= 0 || clock_getcpuclockid((pid_t) pid, &s->cpu_clock) != 0)
		return;
	s->cpu_start = hello_cpu_nsec / 1e9;
	s->pid = (pid_t) pid;
	s->ready = true;

	/* without a free descriptor, fs_settle_try opens it by path instead */
	if (s->status_fd < 0 && AcquireExternalFD())
	{
		fs_settle_status_path(path, sizeof(path), s->pid);
		s->status_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->status_fd < 0)
			ReleaseExternalFD();
	}
}

bool
fs_settle_cpu_used(FsSettle *s, double *cpu_seconds)
{
	double		now;

	if (!s->ready || !spawn_cpu_clock_seconds(s->cpu_clock, &now))
		return false;
	*cpu_seconds = Max(now - s->cpu_start, 0.0);
	return true;
}

void
fs_settle_end(FsSettle *s)
{
	if (s->status_fd >= 0)
	{
		close(s->status_fd);
		ReleaseExternalFD();
		s->status_fd = -1;
	}
}

SpawnSettle
fs_settle_try(FsSettle *s, int pidfd, const char *response, size_t response_len,
			  SpawnResult *result)
{
	char		path[64];
	char		status[4096];
	int64		body;
	bool		have_status;
	long		hwm_kb;
	double		cpu_end;

	if (response_len < WIRE_HEADER_SIZE)
		return SPAWN_SETTLE_NOT_YET;
	body = s->ready ? wire_parse_header(response, response_len, WIRE_RESPONSE_MAGIC) : -1;
	if (body < 0)
		return SPAWN_SETTLE_NO;
	if ((int64) (response_len - WIRE_HEADER_SIZE) < body)
		return SPAWN_SETTLE_NOT_YET;
	if ((int64) (response_len - WIRE_HEADER_SIZE) > body)
		return SPAWN_SETTLE_NO;	/* bytes after the frame: decoded as malformed */

	if (s->status_fd >= 0)
		have_status = fs_settle_read_fd(s->status_fd, status, sizeof(status));
	else
	{
		fs_settle_status_path(path, sizeof(path), s->pid);
		have_status = fs_settle_read_proc(path, status, sizeof(status));
	}
	if (!have_status ||
		(hwm_kb = fs_settle_field(status, "\nVmHWM:")) < 0 ||
		!spawn_cpu_clock_seconds(s->cpu_clock, &cpu_end) ||
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) != 0)
		return SPAWN_SETTLE_NO;

	result->wait_status = 0;
	result->cpu_seconds = Max(cpu_end - s->cpu_start, 0.0);
	result->peak_rss_kb = hwm_kb;
	result->settled = true;
	return SPAWN_SETTLE_DONE;
}
