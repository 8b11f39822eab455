/*-------------------------------------------------------------------------
 *
 * forkserver_hugetext.c
 *	  libpython's code on transparent huge pages, in the fork server.
 *
 *	  fork() does not copy the page-table entries of a file mapping that
 *	  holds no private page, so every child finds libpython's code and
 *	  constants unmapped and takes a read fault for each 64 kB of them it
 *	  touches: ~45 per print(1), spread over all 2.8 MB of code.  The
 *	  server replaces the whole aligned huge pages of libpython's
 *	  read-only segments (6 of its 6.1 MB on Debian 12) by an anonymous
 *	  copy on huge pages: fork copies one entry per 2 MB of it, a child
 *	  runs it without a fault, and its exit has as little to tear down.
 *
 *	  The copy holds the same bytes at the same addresses, so nothing that
 *	  runs or points into them notices; mremap() puts each run in place in
 *	  one step.  A huge page has one protection, so the constants that
 *	  share one with code become executable too; nothing is ever writable
 *	  and executable.  Called from the huge-page seal, so not at all when
 *	  they are turned off.
 *
 *-------------------------------------------------------------------------
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "forkserver.h"

/*
 * libpython's read-only prefix: its loaded segments from the first, up to
 * the first writable one, and that one's part that is read-only once
 * relocated (RELRO); and the extent of its code.
 */
typedef struct FsTextSpan
{
	const void *inside;			/* an address of libpython's code */
	uintptr_t	lo;
	uintptr_t	hi;
	uintptr_t	exec_lo;
	uintptr_t	exec_hi;
	int			found;
} FsTextSpan;

static uintptr_t fs_page;		/* the page size */

static int
fs_text_find(struct dl_phdr_info *info, size_t size, void *arg)
{
	FsTextSpan *span = arg;
	uintptr_t	at = (uintptr_t) span->inside;
	int			mine = 0;
	int			writable = 0;

	(void) size;
	for (int i = 0; i < info->dlpi_phnum; i++)
	{
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t	from = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && at >= from && at < from + ph->p_memsz)
			mine = 1;
	}
	if (!mine)
		return 0;

	span->found = 1;
	for (int i = 0; i < info->dlpi_phnum && !writable; i++)
	{
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t	from = fs_align_floor(info->dlpi_addr + ph->p_vaddr, fs_page);
		uintptr_t	to = fs_align_ceil(info->dlpi_addr + ph->p_vaddr + ph->p_memsz, fs_page);

		if (ph->p_type != PT_LOAD)
			continue;
		if (span->hi != 0 && from != span->hi)
			break;				/* a hole: the prefix ends */
		if (ph->p_flags & PF_W)
		{
			writable = 1;
			continue;
		}
		if (span->hi == 0)
			span->lo = from;
		span->hi = to;
		if (ph->p_flags & PF_X)
		{
			if (span->exec_hi == 0)
				span->exec_lo = from;
			span->exec_hi = to;
		}
	}
	/* ld.so made [start, end) of RELRO read-only, end rounded down */
	for (int i = 0; i < info->dlpi_phnum && writable; i++)
	{
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t	from = fs_align_floor(info->dlpi_addr + ph->p_vaddr, fs_page);
		uintptr_t	to = fs_align_floor(info->dlpi_addr + ph->p_vaddr + ph->p_memsz, fs_page);

		if (ph->p_type == PT_GNU_RELRO && from == span->hi && to > from)
			span->hi = to;
	}
	return 1;
}

/*
 * Put [from, from + len) of the current mapping on huge pages, with
 * protection prot.  The copy must be on huge pages before it replaces
 * the original: on 4 kB pages fork would copy its every entry.
 */
static int
fs_text_replace(uintptr_t from, size_t len, int prot)
{
	char	   *copy;
	int			err;

	copy = fs_huge_reserve(len, 0);
	if (copy == NULL)
		return -errno;
	(void) madvise(copy, len, MADV_HUGEPAGE);
	memcpy(copy, (const void *) from, len);
	if (madvise(copy, len, MADV_COLLAPSE) != 0 || mprotect(copy, len, prot) != 0)
		goto fail;
	/* one step: the destination's old mapping goes as the copy arrives */
	if (mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *) from) == MAP_FAILED)
		goto fail;
	return 0;

fail:
	err = errno;
	munmap(copy, len);
	return -err;
}

/*
 * Returns the bytes now on huge pages (0 when libpython has no whole
 * aligned huge page of read-only segments), or -errno of the first
 * failure (what was done before it stays).
 */
long
fs_hugetext_remap(void)
{
	FsTextSpan	span = {0};
	uintptr_t	from;
	uintptr_t	to;
	uintptr_t	run;
	long		done = 0;

	fs_page = (uintptr_t) sysconf(_SC_PAGESIZE);
	span.inside = (const void *) Py_Initialize;
	dl_iterate_phdr(fs_text_find, &span);
	if (!span.found)
		return -ENOENT;
	from = fs_huge_ceil(span.lo);
	to = fs_huge_floor(span.hi);

	/* runs of huge pages of one protection: r-x where they hold code */
	for (run = from; run < to;)
	{
		uintptr_t	end = run;
		int			prot = 0;
		int			rc;

		while (end < to)
		{
			int			p = PROT_READ;

			if (span.exec_hi > end && span.exec_lo < end + FS_HUGE_PAGE)
				p |= PROT_EXEC;
			if (end > run && p != prot)
				break;
			prot = p;
			end += FS_HUGE_PAGE;
		}
		rc = fs_text_replace(run, end - run, prot);
		if (rc < 0)
			return rc;
		done += (long) (end - run);
		run = end;
	}
	return done;
}
