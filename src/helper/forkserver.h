/*-------------------------------------------------------------------------
 *
 * forkserver.h
 *	  Server mode of codeexec-helper ("codeexec-helper --server ..."), the
 *	  process the supervising background worker keeps running in spawn
 *	  mode `forkserver`.  forkserver.c is the server (CPython initialised
 *	  once, a pool of pre-forked children); forkserver_child.c is the life
 *	  of one child (one execution, never reused); forkserver_sandbox.c the
 *	  isolation steps particular to this mode.  The protocol with the
 *	  backend is in src/common/forkserver_proto.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_HELPER_FORKSERVER_H
#define CODEEXEC_HELPER_FORKSERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* What a child inherits from the server (descriptor numbers in the child). */
#define FS_CHILD_FD_NOTIFY	4		/* write: "slot N took a connection" */
#define FS_CHILD_FD_EXIT	5		/* read end of this child's exit pipe */
#define FS_CHILD_FD_LIFELINE 6		/* read: EOF once the server is gone */
#define FS_CHILD_FD_FIRST_FREE 7

/*
 * What a child writes on the notify pipe when it takes a connection (one
 * write, far below PIPE_BUF, so never interleaved): its slot, and the CPU
 * it spent before any request existed (clone, warm-up), which the server
 * subtracts from the figure it reports for the execution.
 */
typedef struct FsNotice
{
	int32_t		slot;
	int64_t		cpu_usec;
} FsNotice;

/* Server configuration, from argv. */
typedef struct FsConfig
{
	int			pool_size;		/* idle children kept ready */
	int			require;		/* codeexec.require_isolation at start */
	int			prewarm;		/* FORKSERVER_PREWARM_* (forkserver_proto.h) */
	const char *imports;		/* allowlist superset, '\n'-separated */
	size_t		imports_len;
	const char *ns_error;		/* shared-namespace failure, or NULL */
	int			bounding_cleared;	/* capabilities the server's bounding set
									 * lost for good (fs_sandbox_server), or 0 */
	sigset_t	changed_signals;	/* dispositions that are not SIG_DFL once
									 * the server is ready: a child resets these */
} FsConfig;

/* Entry point of server mode; never returns. */
extern int	forkserver_main(int argc, char **argv) __attribute__((noreturn));

/*
 * The life of one child, called right after the fork with its slot number;
 * never returns.  `pid_ns`: the fork made a new PID namespace.
 */
extern void fs_child_main(const FsConfig *config, int slot, int pid_ns)
			__attribute__((noreturn));

/*
 * Python's arenas and the malloc heap on huge pages while the server
 * starts (forkserver_hugepages.c): check the system's setting while /sys
 * is visible; set up before Py_Initialize; seal once the heap is settled,
 * with a line for the log.  The seal also puts libpython's code on huge
 * pages (forkserver_hugetext.c: the bytes copied, or -errno).
 */
#define FS_HUGE_PAGE	((size_t) 2 << 20)

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25		/* Linux 6.1; older kernels refuse it */
#endif

/* addresses and sizes rounded down / up to a multiple of unit, a power of 2 */
static inline uintptr_t
fs_align_floor(uintptr_t x, uintptr_t unit)
{
	return x & ~(unit - 1);
}

static inline uintptr_t
fs_align_ceil(uintptr_t x, uintptr_t unit)
{
	return fs_align_floor(x + unit - 1, unit);
}

#define fs_huge_floor(x)	fs_align_floor((x), FS_HUGE_PAGE)
#define fs_huge_ceil(x)		fs_align_ceil((x), FS_HUGE_PAGE)

extern void fs_hugepages_check(void);
extern void fs_hugepages_arenas(void);
extern void fs_hugepages_seal(char *report, size_t len);
extern void *fs_huge_reserve(size_t len, int flags);
extern long fs_hugetext_remap(void);

/* Run our own snippets: first-use work in the server, pre-faulting in a child. */
extern void fs_warm_up(int nsnippets);
extern void fs_probe_call(void);

/* forkserver_sandbox.c */
extern int	fs_sandbox_server(int *bounding_cleared, char *errbuf, size_t errlen);
extern int	fs_sandbox_child(int pid_ns, int bounding_cleared, char *errbuf,
							 size_t errlen);
extern void fs_sandbox_precompile(void);

/* A range of addresses [start, end). */
typedef struct FsRange
{
	uintptr_t	start;
	uintptr_t	end;
} FsRange;

/*
 * forkserver_prefault.c: the server opens /proc/self/maps before its
 * minimal root hides /proc and records its private writable mappings once
 * its heap is settled, and which of their pages a call writes (`probe`
 * does a call's kind of work, `level` names the prewarm level in the log;
 * forkserver_learn.c; returns the number of runs learned, or -1); a child
 * copies those pages (breaking copy-on-write) before its request arrives:
 * fs_prefault_child copies every resident page if none were learned;
 * fs_prefault_learned nothing, and it stops once `stop_fd` (-1: never) is
 * readable.  `self_pidfd` is the child's pidfd of itself (-1: none), for
 * copying several runs per system call.  The descriptors are closed once
 * the record is made.
 */
extern void fs_prefault_open(void);
extern int	fs_prefault_record(void (*probe) (void), const char *level);
extern void fs_prefault_child(int self_pidfd);
extern void fs_prefault_learned(int stop_fd, int self_pidfd);

/*
 * forkserver_learn.c: fs_learn_open before the minimal root; then
 * fs_learn_written forks a probe that runs `work`, and stores in `out` (at
 * most `max` runs) the pages of `ranges` resident in the server that the
 * probe wrote.  Returns the number of runs, or -1.
 */
extern void fs_learn_open(void);
extern void fs_learn_close(void);
extern int	fs_learn_written(const FsRange *ranges, int nranges, void (*work) (void),
							 const char *level, FsRange *out, int max);

/*
 * forkserver_pools.c, before forking: fs_pools_fill allocates and keeps the
 * free blocks of the partly used pymalloc pools, so that a child's objects
 * go to fresh pools (returns the blocks taken, or -1); fs_heap_fill does
 * the same for the free chunks below the top of the C heap (returns the
 * chunks taken).
 */
extern long fs_pools_fill(void);
extern long fs_heap_fill(void);

/* forkserver.c: one line on the server log. */
extern void fs_log_line(const char *text);

#endif
