/*-------------------------------------------------------------------------
 *
 * forkserver_learn.c
 *	  Learning which of the server's pages a call writes, for prewarm "on"
 *	  and "full" (forkserver_prefault.c).
 *
 *	  Copying every resident page of the server into each idle child costs
 *	  as many page copies as the server has pages (9,000+ with pandas),
 *	  while a call writes a fraction of them (~1,600 for a pandas
 *	  describe(), ~170 for a print(1)).  So the server forks one probe that
 *	  runs our own work (for "on" one validated print(1); for "full" the
 *	  validator and runner on our snippets and the allowlisted libraries'
 *	  first-use paths) and then reads the probe's
 *	  page map: a page that was shared with the server and is now mapped
 *	  by the probe alone ("exclusively mapped", bit 56 of
 *	  /proc/<pid>/pagemap) is one the work wrote.  Idle children then copy
 *	  just those pages.  The probe runs no user code and is killed once
 *	  read.
 *
 *	  /proc is not in the server's minimal root, so the directory is opened
 *	  before (fs_learn_open); reading another process's page map needs no
 *	  privilege beyond being its parent with the same credentials.  Any
 *	  failure returns -1 (forkserver_prefault.c says what children do
 *	  then).
 *
 *-------------------------------------------------------------------------
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "forkserver.h"

#define FS_PM_PRESENT	(1ULL << 63)
#define FS_PM_FILE		(1ULL << 61)	/* page cache or shared: not written */
#define FS_PM_EXCLUSIVE (1ULL << 56)
#define FS_PM_CHUNK		4096	/* page-map entries read at once */
#define FS_PROBE_WAIT_MS 30000

static int	fs_proc_dir = -1;

void
fs_learn_open(void)
{
	fs_proc_dir = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* Once learned: a view of the host's /proc has no business in the server. */
void
fs_learn_close(void)
{
	if (fs_proc_dir >= 0)
		close(fs_proc_dir);
	fs_proc_dir = -1;
}

/* Read `n` page-map entries from `fd` starting at page `first`. */
static int
fs_learn_read(int fd, uintptr_t first, uint64_t *out, size_t n)
{
	size_t		want = n * sizeof(uint64_t);
	ssize_t		got = pread(fd, out, want, (off_t) (first * sizeof(uint64_t)));

	return got == (ssize_t) want ? 0 : -1;
}

/*
 * Append page `pg` to the runs in out[0..*nout); false when out is full.
 */
static int
fs_learn_add(FsRange *out, int *nout, int max, uintptr_t pg, size_t page)
{
	uintptr_t	addr = pg * page;

	if (*nout > 0 && out[*nout - 1].end == addr)
	{
		out[*nout - 1].end += page;
		return 1;
	}
	if (*nout == max)
		return 0;
	out[*nout].start = addr;
	out[*nout].end = addr + page;
	(*nout)++;
	return 1;
}

/*
 * The pages of `ranges` written by the probe, as runs in `out`; `resident`
 * counts those resident in the server.  Returns the number of runs, or -1.
 */
static int
fs_learn_scan(pid_t probe, const FsRange *ranges, int nranges, FsRange *out, int max,
			  long *pages, long *resident)
{
	static uint64_t mine[FS_PM_CHUNK];
	static uint64_t theirs[FS_PM_CHUNK];
	char		path[32];
	size_t		page = (size_t) sysconf(_SC_PAGESIZE);
	int			self_fd = openat(fs_proc_dir, "self/pagemap", O_RDONLY | O_CLOEXEC);
	int			probe_fd;
	int			nout = 0;
	int			ok = 1;

	snprintf(path, sizeof(path), "%d/pagemap", (int) probe);
	probe_fd = openat(fs_proc_dir, path, O_RDONLY | O_CLOEXEC);
	*pages = *resident = 0;
	for (int r = 0; ok && self_fd >= 0 && probe_fd >= 0 && r < nranges; r++)
	{
		for (uintptr_t pg = ranges[r].start / page; ok && pg < ranges[r].end / page;)
		{
			size_t		n = ranges[r].end / page - pg;

			if (n > FS_PM_CHUNK)
				n = FS_PM_CHUNK;
			if (fs_learn_read(self_fd, pg, mine, n) != 0 ||
				fs_learn_read(probe_fd, pg, theirs, n) != 0)
				ok = 0;
			for (size_t i = 0; ok && i < n; i++)
			{
				if (mine[i] & FS_PM_PRESENT)
					(*resident)++;

				/*
				 * Written by the probe: mapped by it alone, and anonymous
				 * (a page of a file-backed private mapping, libpython's
				 * .data, becomes anonymous when written; one only read is
				 * still the file's).  It may not be resident in the server:
				 * heap or arena space the probe was the first to use.
				 */
				if ((theirs[i] & (FS_PM_PRESENT | FS_PM_FILE | FS_PM_EXCLUSIVE)) ==
					(FS_PM_PRESENT | FS_PM_EXCLUSIVE))
				{
					ok = fs_learn_add(out, &nout, max, pg + i, page);
					(*pages)++;
				}
			}
			pg += n;
		}
	}
	if (self_fd < 0 || probe_fd < 0)
		ok = 0;
	if (self_fd >= 0)
		close(self_fd);
	if (probe_fd >= 0)
		close(probe_fd);
	return ok ? nout : -1;
}

int
fs_learn_written(const FsRange *ranges, int nranges, void (*work) (void),
				 const char *level, FsRange *out, int max)
{
	int			ready[2];
	struct pollfd pfd;
	pid_t		pid;
	char		c;
	int			nout = -1;
	long		pages = 0,
				resident = 0;

	if (fs_proc_dir < 0 || pipe2(ready, O_CLOEXEC) != 0)
		return -1;
	PyOS_BeforeFork();
	pid = fork();
	if (pid == 0)
	{
		PyOS_AfterFork_Child();
		close(ready[0]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
			_exit(1);
		work();
		if (write(ready[1], "1", 1) != 1)
			_exit(1);
		for (;;)
			pause();			/* read, then killed */
	}
	PyOS_AfterFork_Parent();
	close(ready[1]);
	pfd.fd = ready[0];
	pfd.events = POLLIN;
	if (pid > 0 && poll(&pfd, 1, FS_PROBE_WAIT_MS) == 1 && read(ready[0], &c, 1) == 1)
		nout = fs_learn_scan(pid, ranges, nranges, out, max, &pages, &resident);
	if (pid > 0)
	{
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	close(ready[0]);
	if (nout >= 0)
	{
		char		line[160];

		snprintf(line, sizeof(line),
				 "prewarm %s: a call writes %ld of the %ld resident private pages (%d runs)",
				 level, pages, resident, nout);
		fs_log_line(line);
	}

	return nout;
}
