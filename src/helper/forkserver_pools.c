/*-------------------------------------------------------------------------
 *
 * forkserver_pools.c
 *	  Filling the fork server's partly used pymalloc pools, and the holes
 *	  of its C heap, before it forks, so that the objects a child creates
 *	  land in fresh memory.
 *
 *	  CPython serves a small object from the first partly used pool of its
 *	  size class.  After start-up those pools are the server's: their free
 *	  blocks lie scattered between live objects, so every object a child
 *	  creates or frees writes an inherited page, a copy-on-write fault each
 *	  (~2 µs here).  Allocating every free block of every partly used pool
 *	  once, in the server, and keeping them, leaves each size class with a
 *	  pool of its own in which a child's objects are packed together: fewer
 *	  pages written per call.  The blocks stay allocated for the server's
 *	  life (the free space the pools already had, a few hundred kB).
 *
 *	  The counts come from CPython's own allocator statistics
 *	  (_PyObject_DebugMallocStats, as sys._debugmallocstats prints them);
 *	  if they cannot be read, nothing is done.
 *
 *-------------------------------------------------------------------------
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forkserver.h"

/* Defined by CPython's obmalloc.c (exported, not in the public headers). */
extern int	_PyObject_DebugMallocStats(FILE *out);

#define FS_HEAP_FILL_MAX (64 * 1024)	/* larger holes are left alone */

/*
 * Allocate (and keep) every free block of the size classes the statistics
 * list, plus one each, which opens a fresh pool.  Returns the number of
 * blocks taken, or -1 if the statistics could not be read.
 */
long
fs_pools_fill(void)
{
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *out = open_memstream(&text, &len);
	long		taken = 0;
	int			classes = 0;

	if (out == NULL)
		return -1;
	_PyObject_DebugMallocStats(out);
	fclose(out);
	for (char *line = text; line != NULL && *line != '\0';)
	{
		char	   *next = strchr(line, '\n');
		int			idx;
		long		size,
					pools,
					used,
					avail;

		/* "class size num-pools blocks-in-use avail-blocks" */
		if (sscanf(line, " %d %ld %ld %ld %ld", &idx, &size, &pools, &used, &avail) == 5 &&
			size > 0 && size <= 512 && avail >= 0)
		{
			classes++;
			for (long i = 0; i <= avail; i++)
			{
				if (PyObject_Malloc((size_t) size) == NULL)
					break;
				taken++;
			}
		}
		line = next ? next + 1 : NULL;
	}
	free(text);
	return classes > 0 ? taken : -1;
}

/*
 * The same for the C heap (large Python objects, buffers, the parser's
 * arenas): take every free chunk below the top of the heap, largest sizes
 * first, so that a child's malloc carves fresh memory from the top instead
 * of reusing the server's holes.  A chunk carved from the top (the top's
 * size, keepcost, shrank) is given back at once and ends that size.
 * Returns the chunks taken.
 */
long
fs_heap_fill(void)
{
	long		taken = 0;

	for (size_t size = FS_HEAP_FILL_MAX; size >= 16; size -= 16)
	{
		for (;;)
		{
			struct mallinfo2 before = mallinfo2();
			void	   *p = malloc(size);
			struct mallinfo2 after = mallinfo2();

			if (p == NULL)
				break;
			if (after.keepcost < before.keepcost || after.arena != before.arena)
			{
				free(p);
				break;
			}
			taken++;
		}
	}
	return taken;
}
