/*-------------------------------------------------------------------------
 *
 * forkserver_prefault.c
 *	  Breaking copy-on-write in a child before its request arrives.
 *
 *	  A child shares every page of the server's Python heap copy-on-write.
 *	  CPython writes reference counts into almost every object it touches,
 *	  so a call takes one page fault on its request path per inherited page
 *	  it writes (~170 for a print(1), thousands for pandas), and a fault is
 *	  a trap, a page copy and a page-table update each time.  Here the child
 *	  copies the pages a call writes before the call arrives, with
 *	  MADV_POPULATE_WRITE: eight runs of pages per process_madvise() on its
 *	  own pidfd where the kernel takes that advice from process_madvise
 *	  (Linux 6.13), else one madvise() per run.  Which pages those are the
 *	  server learns once, from a probe (forkserver_learn.c).
 *
 *	  prewarm "on" (fs_prefault_learned): every child, right after locking
 *	  itself, copies the pages one validated print(1) writes, unless a
 *	  connection is already waiting.  Any call writes nearly all of them
 *	  (the validator's, the runner's, the output path's), so this moves
 *	  faults off the request path rather than adding work; if nothing was
 *	  learned, nothing is copied.
 *
 *	  prewarm "full" (fs_prefault_child): an idle child copies the pages of
 *	  a heavier probe (our snippets and the allowlisted libraries' first-use
 *	  paths: a quarter of the resident pages with numpy and pandas).  If
 *	  that was not learned, it copies every page it inherited *resident*
 *	  (pages the server never touched, reserved arena space, are left
 *	  alone: mincore() tells them apart).
 *
 *	  The server has no /proc in its minimal root, so it opens
 *	  /proc/self/maps before entering it (fs_prefault_open) and, once its
 *	  heap is settled, records its private writable mappings
 *	  (fs_prefault_record); children inherit the table in memory and never
 *	  the descriptor.  Without MADV_POPULATE_WRITE (Linux < 5.14) nothing
 *	  is done and calls take their faults as before.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "forkserver.h"
#include "sandbox.h"

#define FS_MAX_RANGES	1024
#define FS_MAPS_BUF		(256 * 1024)
#define FS_CORE_CHUNK	4096	/* pages per mincore() call */

#define FS_MAX_LEARNED	16384

/*
 * Learned runs copied per process_madvise(), and per check for a waiting
 * connection.  A print(1)'s ~175 pages lie in ~134 runs of one or two
 * pages, so one system call per run was mostly the call's own cost: eight
 * per call took 0.06-0.1 ms off each child's CPU here
 * (test/bench/child_costs.sh, those 175 pages, 10 alternating rounds:
 * 0.95 against 0.89 ms per fork, copy and exit).
 */
#define FS_RUNS_PER_CALL 8

static FsRange fs_ranges[FS_MAX_RANGES];
static int	fs_range_anonymous[FS_MAX_RANGES];
static int	fs_nranges;
static FsRange fs_learned[FS_MAX_LEARNED];	/* what a call writes */
static int	fs_nlearned = -1;	/* -1: not learned, copy all resident */
static int	fs_maps_fd = -1;

void
fs_prefault_open(void)
{
	fs_maps_fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	fs_learn_open();
}

/*
 * Keep "start-end rw-p ..." lines: private and writable, anonymous (inode
 * 0: the heap, Python's arenas, .bss) or file-backed (libraries' .data,
 * whose pages a call writes too: libpython's static objects).  Learning
 * scans both; copying every resident page skips the file-backed ones,
 * because mincore() reports their page-cache pages as resident whether or
 * not the server ever wrote them, and copying those would only cost
 * memory.
 */
static void
fs_prefault_parse(char *text)
{
	char	   *line = text;

	fs_nranges = 0;
	while (line && *line && fs_nranges < FS_MAX_RANGES)
	{
		char	   *next = strchr(line, '\n');
		unsigned long start,
					end,
					inode;
		char		perms[5];

		if (next)
			*next++ = '\0';
		if (sscanf(line, "%lx-%lx %4s %*s %*s %lu", &start, &end, perms, &inode) == 4 &&
			strcmp(perms, "rw-p") == 0 && end > start)
		{
			fs_ranges[fs_nranges].start = start;
			fs_ranges[fs_nranges].end = end;
			fs_range_anonymous[fs_nranges] = inode == 0;
			fs_nranges++;
		}
		line = next;
	}
}

int
fs_prefault_record(void (*probe) (void), const char *level)
{
	char	   *buf = NULL;
	ssize_t		n;
	size_t		len = 0;

	if (fs_maps_fd >= 0 && (buf = malloc(FS_MAPS_BUF)) != NULL)
	{
		while (len < FS_MAPS_BUF - 1 &&
			   (n = pread(fs_maps_fd, buf + len, FS_MAPS_BUF - 1 - len, (off_t) len)) > 0)
			len += (size_t) n;
		buf[len] = '\0';
		fs_prefault_parse(buf);
		free(buf);
		if (probe != NULL && fs_nranges > 0)
			fs_nlearned = fs_learn_written(fs_ranges, fs_nranges, probe, level,
										   fs_learned, FS_MAX_LEARNED);
	}
	/* both descriptors were needed only for this */
	if (fs_maps_fd >= 0)
		close(fs_maps_fd);
	fs_maps_fd = -1;
	fs_learn_close();
	return fs_nlearned;
}

/* Populate-write [start, start + len).  -1: unsupported (Linux < 5.14). */
static int
fs_prefault_populate(uintptr_t start, size_t len)
{
	return madvise((void *) start, len, MADV_POPULATE_WRITE) != 0 && errno == EINVAL ? -1 : 0;
}

/* Populate-write the resident pages of [start, end). 0, or -1: unsupported. */
static int
fs_prefault_range(uintptr_t start, uintptr_t end, size_t page)
{
	static unsigned char core[FS_CORE_CHUNK];

	for (uintptr_t at = start; at < end;)
	{
		size_t		npages = (end - at) / page;
		size_t		run = 0;

		if (npages > FS_CORE_CHUNK)
			npages = FS_CORE_CHUNK;
		if (mincore((void *) at, npages * page, core) != 0)
			return 0;			/* unmapped since it was recorded: skip */
		for (size_t i = 0; i <= npages; i++)
		{
			if (i < npages && (core[i] & 1))
			{
				run++;
				continue;
			}
			if (run > 0 && fs_prefault_populate(at + (i - run) * page, run * page) < 0)
				return -1;
			run = 0;
		}
		at += npages * page;
	}
	return 0;
}

/*
 * Populate-write the n (<= FS_RUNS_PER_CALL) runs at `runs`: in one
 * process_madvise() through `self_pidfd` while that works, else one
 * madvise() per run.  Anything short of the whole batch done (the kernel
 * refusing the advice there, or a run unmapped since it was learned) is
 * redone run by run: re-populating a page already copied costs ~0.2 us.
 * Returns 0, or -1: MADV_POPULATE_WRITE unsupported (Linux < 5.14).
 */
static int
fs_prefault_populate_runs(int self_pidfd, const FsRange *runs, int n)
{
	static int	batch_refused;
	struct iovec iov[FS_RUNS_PER_CALL];
	size_t		total = 0;

	if (self_pidfd >= 0 && !batch_refused && sandbox_pooled_populates())
	{
		ssize_t		done;

		for (int i = 0; i < n; i++)
		{
			iov[i].iov_base = (void *) runs[i].start;
			iov[i].iov_len = runs[i].end - runs[i].start;
			total += iov[i].iov_len;
		}
		done = syscall(SYS_process_madvise, self_pidfd, iov, (size_t) n,
					   MADV_POPULATE_WRITE, 0U);
		if (done == (ssize_t) total)
			return 0;
		if (done < 0 && (errno == EINVAL || errno == ENOSYS || errno == EPERM))
			batch_refused = 1;	/* this kernel will not: madvise() from now */
	}
	for (int i = 0; i < n; i++)
		if (fs_prefault_populate(runs[i].start, runs[i].end - runs[i].start) < 0)
			return -1;
	return 0;
}

/*
 * Copy the learned pages, giving up as soon as `stop_fd` (if >= 0) is
 * readable (a connection is waiting for this child or another): a call
 * must not wait behind a copy, and its pages then fault on its own path,
 * as without one.  With the CPUs saturated (several clients back to back)
 * that is most children, and copying regardless cost ~5 % of throughput
 * on the Intel VM (docs/forkserver-measurements.md, eleventh session).
 * On the AMD VM a child that gives up often takes a call a ready sibling
 * had been woken for; copying on longer moved those faults off the call
 * but not its time (seventeenth session), so the rule stays.  The check
 * costs one poll() per FS_RUNS_PER_CALL runs.
 */
void
fs_prefault_learned(int stop_fd, int self_pidfd)
{
	struct pollfd pfd = {.fd = stop_fd, .events = POLLIN};

	for (int i = 0; i < fs_nlearned; i += FS_RUNS_PER_CALL)
	{
		int			n = fs_nlearned - i < FS_RUNS_PER_CALL ? fs_nlearned - i : FS_RUNS_PER_CALL;

		if ((stop_fd >= 0 && poll(&pfd, 1, 0) > 0) ||
			fs_prefault_populate_runs(self_pidfd, fs_learned + i, n) < 0)
			return;
	}
}

void
fs_prefault_child(int self_pidfd)
{
	size_t		page = (size_t) sysconf(_SC_PAGESIZE);

	if (fs_nlearned >= 0)
	{
		fs_prefault_learned(-1, self_pidfd);
		return;
	}
	for (int i = 0; i < fs_nranges; i++)
		if (fs_range_anonymous[i] &&
			fs_prefault_range(fs_ranges[i].start, fs_ranges[i].end, page) < 0)
			return;
}
