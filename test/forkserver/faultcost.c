/*
 * faultcost.c - what a fork and a copy-on-write page fault cost on this
 * machine (the floor under every fork-server execution).  Maps and fills
 * 40 MB, then three times: fork, write one byte in each of 1000 pages in
 * the child, exit; prints the times.  Used by test/forkserver/bench.sh.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int
main(void)
{
	size_t		n = 40 << 20;
	char	   *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 1;
	memset(p, 1, n);
	for (int k = 0; k < 3; k++)
	{
		double		t0;
		pid_t		pid;

		fflush(stdout);			/* nothing buffered may be inherited */
		t0 = now();
		pid = fork();

		if (pid == 0)
		{
			double		t1 = now();
			double		t2;

			for (size_t i = 0; i < 1000; i++)
				p[i * 4096] = 2;
			t2 = now();
			printf("fork of a 40 MB process %.2f ms; 1000 copy-on-write faults %.2f ms (%.1f us each)\n",
				   (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t2 - t1) * 1e3);
			fflush(stdout);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		printf("  fork + faults + exit + reap %.2f ms\n", (now() - t0) * 1e3);
	}
	return 0;
}
