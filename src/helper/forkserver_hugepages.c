/*-------------------------------------------------------------------------
 *
 * forkserver_hugepages.c
 *	  The fork server's pymalloc arenas and malloc heap on transparent
 *	  huge pages.
 *
 *	  Every fork copies one page-table entry per resident page of the
 *	  server's anonymous memory, and every child's exit tears them down
 *	  again: ~60 ns a page here, paid per call for pages the call never
 *	  touches.  Python's arenas and the C heap are most of that memory.
 *	  On huge pages they are mapped by one entry per 2 MB instead of 512.
 *	  A child that writes into one pays a split of its own entry (~5 us)
 *	  before its usual copy-on-write fault; children turn huge pages off
 *	  for themselves (forkserver_child.c), so they never get new ones.
 *
 *	  The arenas are carved out of one 2 MB-aligned region advised
 *	  MADV_HUGEPAGE, but only while the server starts; once it is sealed,
 *	  arenas (the server's later ones, every child's) are plain mmap()s
 *	  again and the region's unused reservation is given back.  The heap
 *	  is collapsed at the seal.  Where the kernel has no transparent huge
 *	  pages or no MADV_COLLAPSE the advice is ignored, and where they are
 *	  turned off ("never") nothing is done: the server is as before.
 *
 *-------------------------------------------------------------------------
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "forkserver.h"
#include "sandbox_int.h"

#define FS_ARENA_SLOT	((size_t) 1 << 20)	/* CPython 3.11's ARENA_SIZE */
#define FS_ARENA_SLOTS	64

#define FS_SLOT(i)		((uint64_t) 1 << (i))

static char *fs_region;			/* FS_ARENA_SLOTS slots, FS_HUGE_PAGE-aligned */
static uint64_t fs_slot_used;	/* bit i: slot i holds an arena */
static int	fs_slots_kept;		/* after the seal: slots still mapped */
static int	fs_sealed;
static int	fs_thp_never;		/* the administrator turned them off */

static void *
fs_arena_mmap(size_t size)
{
	void	   *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int
fs_arena_slot(void *ptr)
{
	uintptr_t	at = (uintptr_t) ptr;
	uintptr_t	base = (uintptr_t) fs_region;

	if (fs_region == NULL || at < base || at >= base + (size_t) fs_slots_kept * FS_ARENA_SLOT)
		return -1;
	return (int) ((at - base) / FS_ARENA_SLOT);
}

static void *
fs_arena_alloc(void *ctx, size_t size)
{
	(void) ctx;
	if (!fs_sealed && fs_region != NULL && size == FS_ARENA_SLOT)
	{
		for (int i = 0; i < FS_ARENA_SLOTS; i++)
			if (!(fs_slot_used & FS_SLOT(i)))
			{
				fs_slot_used |= FS_SLOT(i);
				return fs_region + (size_t) i * FS_ARENA_SLOT;
			}
	}
	return fs_arena_mmap(size);
}

/*
 * A freed slot keeps its address space: the region must stay one mapping.
 * Before the seal its memory stays too, for the next arena (giving half a
 * huge page back would split it); after, it is given back.
 */
static void
fs_arena_free(void *ctx, void *ptr, size_t size)
{
	int			slot = fs_arena_slot(ptr);

	(void) ctx;
	if (slot < 0)
	{
		munmap(ptr, size);
		return;
	}
	if (fs_sealed)
		(void) madvise(ptr, size, MADV_DONTNEED);
	fs_slot_used &= ~FS_SLOT(slot);
}

/*
 * Before the server enters its minimal root, which has no /sys: whether
 * transparent huge pages are off system-wide ("[never]"), as database
 * hosts are often told to have them.  MADV_COLLAPSE would collapse the
 * heap all the same, so nothing is done then.
 */
void
fs_hugepages_check(void)
{
	char		mode[128];

	fs_thp_never = sbx_read_setting("/sys/kernel/mm/transparent_hugepage/enabled",
									mode, sizeof(mode)) &&
		strstr(mode, "[never]") != NULL;
}

/*
 * len bytes of fresh read-write memory starting on a huge-page boundary
 * (mmap's flags plus `flags`), or NULL: over-reserve by one huge page,
 * then trim both ends.
 */
void *
fs_huge_reserve(size_t len, int flags)
{
	char	   *raw = mmap(NULL, len + FS_HUGE_PAGE, PROT_READ | PROT_WRITE,
						   MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
	uintptr_t	aligned;

	if (raw == MAP_FAILED)
		return NULL;
	aligned = fs_huge_ceil((uintptr_t) raw);
	if (aligned > (uintptr_t) raw)
		munmap(raw, aligned - (uintptr_t) raw);
	munmap((char *) aligned + len, (uintptr_t) raw + FS_HUGE_PAGE - aligned);
	return (void *) aligned;
}

/*
 * Move the break up to the next huge-page boundary, before CPython
 * allocates: the kernel puts the heap's start anywhere, and the run below
 * the first boundary stayed on 4 kB pages (~400 entries with the default
 * allowlist that every fork copied and every exit tore down).  Now the
 * heap the server builds lies in whole aligned 2 MB pages for the seal to
 * collapse.  The gap is never touched, so it costs no memory; malloc takes
 * the break's move for another user's and starts its top chunk above it.
 */
static void
fs_heap_align(void)
{
	uintptr_t	now = (uintptr_t) sbrk(0);

	if (now != (uintptr_t) -1 && fs_huge_ceil(now) > now)
		(void) sbrk((intptr_t) (fs_huge_ceil(now) - now));
}

void
fs_hugepages_arenas(void)
{
	size_t		span = FS_ARENA_SLOTS * FS_ARENA_SLOT;
	PyObjectArenaAllocator alloc = {NULL, fs_arena_alloc, fs_arena_free};

	if (fs_thp_never)
		return;

	/*
	 * The heap grows in steps of two huge pages, so that it spans whole
	 * aligned ones for the seal to collapse.  Kept for good, children
	 * included: with less, a child's first free() would trim the heap's
	 * top back into a shared huge page.
	 */
	mallopt(M_TOP_PAD, (int) (2 * FS_HUGE_PAGE));
	fs_heap_align();

	fs_region = fs_huge_reserve(span, MAP_NORESERVE);
	if (fs_region == NULL)
		return;
	fs_slots_kept = FS_ARENA_SLOTS;
	(void) madvise(fs_region, span, MADV_HUGEPAGE);
	PyObject_SetArenaAllocator(&alloc);
}

/*
 * Collapse the malloc heap's whole aligned huge pages (fs_hugepages_arenas
 * made it grow in big steps so that it has some; Linux 6.1+).  The heap
 * is one contiguous run below the break, mallinfo2().arena bytes long;
 * were it not, the range would name other memory, whose contents a
 * collapse keeps all the same.  Returns the bytes collapsed, or -errno.
 */
static long
fs_heap_collapse(void)
{
	char	   *end = sbrk(0);
	uintptr_t	from = fs_huge_ceil((uintptr_t) end - mallinfo2().arena);
	uintptr_t	to = fs_huge_floor((uintptr_t) end);

	if (to <= from)
		return 0;
	if (madvise((void *) from, to - from, MADV_COLLAPSE) != 0)
		return -errno;
	return (long) (to - from);
}

/* "<n> MB of <done>", or "<failed> (<why>)" for a -errno */
static void
fs_said(char *buf, size_t len, long bytes, const char *done, const char *failed)
{
	if (bytes >= 0)
		snprintf(buf, len, "%ld MB of %s", bytes >> 20, done);
	else
		snprintf(buf, len, "%s (%s)", failed, strerror((int) -bytes));
}

void
fs_hugepages_seal(char *report, size_t len)
{
	int			top = 0;
	size_t		keep = 0;
	long		heap;
	long		text;
	char		heap_said[96];
	char		text_said[96];

	fs_sealed = 1;
	if (fs_thp_never)
	{
		snprintf(report, len, "huge pages: off (transparent_hugepage/enabled is never)");
		return;
	}
	heap = fs_heap_collapse();
	text = fs_hugetext_remap();
	if (fs_region != NULL)
	{
		for (int i = 0; i < FS_ARENA_SLOTS; i++)
			if (fs_slot_used & FS_SLOT(i))
				top = i + 1;
		/* whole huge pages: the free slots beside the last arena stay */
		keep = fs_huge_ceil((size_t) top * FS_ARENA_SLOT);
		if (keep < FS_ARENA_SLOTS * FS_ARENA_SLOT)
			munmap(fs_region + keep, FS_ARENA_SLOTS * FS_ARENA_SLOT - keep);
		fs_slots_kept = (int) (keep / FS_ARENA_SLOT);
	}
	fs_said(heap_said, sizeof(heap_said), heap, "the heap collapsed", "heap not collapsed");
	fs_said(text_said, sizeof(text_said), text, "libpython's code and constants copied",
			"libpython's code not copied");
	snprintf(report, len, "huge pages: arenas in %zu MB, %s, %s", keep >> 20, heap_said, text_said);
}
