/*
 * copy_cost.c - what copying a pooled child's learned pages costs, by the
 * system call that asks for it (test/bench/child_costs.sh runs it; not
 * part of the test command's pass/fail).
 *
 * A process holding 12 MB on 4 kB pages forks children that each populate
 * (MADV_POPULATE_WRITE) 175 pages lying in 134 runs of one or two pages,
 * the shape of what a print(1) writes in the fork server, then exit.  The
 * ways of asking are timed in alternating rounds, so that a shared host's
 * drift falls on all of them alike:
 *
 *   madvise   one madvise() per run (the fork server before 6d8d2d6)
 *   batch8    one process_madvise() per eight runs, on a pidfd of itself
 *             (the fork server now; needs Linux >= 6.13)
 *   fault     a write to each page instead (the copy-on-write faults a
 *             call takes when nothing was copied)
 *   none      fork and exit only
 *
 * Prints, per way, the children's CPU (user + system) per fork in µs, the
 * mean over the rounds and each round's figure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define REGION_BYTES ((size_t) 12 << 20)
#define RUNS 134
#define DOUBLE_RUNS 41			/* runs of two pages: 175 pages in all */
#define BATCH 8
#define PAGE 4096

enum way
{
	WAY_NONE, WAY_MADVISE, WAY_BATCH8, WAY_FAULT, WAY_COUNT
};
static const char *const way_names[WAY_COUNT] = {"none", "madvise", "batch8", "fault"};

static struct iovec runs[RUNS];

/* The runs: gaps of 3..20 pages between them, from a fixed seed. */
static void
lay_out_runs(char *region)
{
	size_t		off = 0;

	srand(1);
	for (int i = 0; i < RUNS; i++)
	{
		size_t		len = (size_t) (i < DOUBLE_RUNS ? 2 : 1) * PAGE;

		off += (size_t) (3 + rand() % 18) * PAGE;
		runs[i].iov_base = region + off;
		runs[i].iov_len = len;
		off += len;
	}
}

/* In the child: copy the runs the given way.  0, or -1 on failure. */
static int
copy_runs(enum way way)
{
	int			pidfd;

	switch (way)
	{
		case WAY_NONE:
			return 0;
		case WAY_MADVISE:
			for (int i = 0; i < RUNS; i++)
				if (madvise(runs[i].iov_base, runs[i].iov_len, MADV_POPULATE_WRITE) != 0)
					return -1;
			return 0;
		case WAY_BATCH8:
			pidfd = (int) syscall(SYS_pidfd_open, getpid(), 0);
			for (int i = 0; i < RUNS; i += BATCH)
			{
				int			n = RUNS - i < BATCH ? RUNS - i : BATCH;

				if (syscall(SYS_process_madvise, pidfd, runs + i, (size_t) n,
							MADV_POPULATE_WRITE, 0U) < 0)
					return -1;
			}
			return 0;
		case WAY_FAULT:
			for (int i = 0; i < RUNS; i++)
				for (size_t at = 0; at < runs[i].iov_len; at += PAGE)
					((volatile char *) runs[i].iov_base)[at] = 2;
			return 0;
		default:
			return -1;
	}
}

static double
children_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
		ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* Fork `forks` children that copy the given way; their CPU per fork. */
static double
one_round(enum way way, int forks)
{
	double		before = children_cpu_us();

	for (int i = 0; i < forks; i++)
	{
		pid_t		pid = fork();
		int			status;

		if (pid == 0)
			_exit(copy_runs(way) == 0 ? 0 : 1);
		if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
		{
			fprintf(stderr, "%s: a child failed (%s)\n", way_names[way],
					pid < 0 ? strerror(errno) : "see its exit status");
			exit(1);
		}
	}
	return (children_cpu_us() - before) / forks;
}

int
main(int argc, char **argv)
{
	int			rounds = argc > 1 ? atoi(argv[1]) : 10;
	int			forks = argc > 2 ? atoi(argv[2]) : 2000;
	double		cpu[WAY_COUNT][64];
	char	   *region = mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE,
							  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (region == MAP_FAILED || rounds < 1 || rounds > 64 || forks < 1)
	{
		fprintf(stderr, "usage: copy_cost [ROUNDS (1..64)] [FORKS]\n");
		return 2;
	}
	madvise(region, REGION_BYTES, MADV_NOHUGEPAGE);
	memset(region, 1, REGION_BYTES);
	lay_out_runs(region);
	for (int r = 0; r < rounds; r++)
		for (int w = 0; w < WAY_COUNT; w++)
			cpu[w][r] = one_round((enum way) w, forks);
	printf("children's CPU per fork + copy of 175 pages in %d runs + exit (us), %d rounds of %d forks\n",
		   RUNS, rounds, forks);
	for (int w = 0; w < WAY_COUNT; w++)
	{
		double		sum = 0;

		for (int r = 0; r < rounds; r++)
			sum += cpu[w][r];
		printf("%-8s mean %7.1f  rounds:", way_names[w], sum / rounds);
		for (int r = 0; r < rounds; r++)
			printf(" %.0f", cpu[w][r]);
		printf("\n");
	}
	return 0;
}
