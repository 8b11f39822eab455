/*
 * seccomp_cost.c - what loading a pooled child's two seccomp filters
 * costs (test/bench/child_costs.sh runs it; not part of the test
 * command's pass/fail).
 *
 * Built with the helper's own sandbox sources: compiles the filters once
 * as the fork server does (sbx_seccomp_precompile), then forks children
 * that load the pooled filter and stack the seal on it
 * (sbx_seccomp_apply_pooled, sbx_seccomp_seal), timing each load inside
 * the child.  Prints the mean of each over all children, in µs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "sandbox.h"
#include "sandbox_int.h"

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	int			children = argc > 1 ? atoi(argv[1]) : 3000;
	double		pooled = 0,
				seal = 0;
	char		errbuf[256];

	if (children < 1)
	{
		fprintf(stderr, "usage: seccomp_cost [CHILDREN]\n");
		return 2;
	}
	/* pid 1: the children of the fork server are pid 1 of their namespace */
	if (sbx_seccomp_precompile(1, errbuf, sizeof(errbuf)) != 0)
	{
		fprintf(stderr, "%s\n", errbuf);
		return 1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
	{
		perror("prctl");
		return 1;
	}
	for (int i = 0; i < children; i++)
	{
		double		took[2];
		int			fds[2];
		pid_t		pid;

		if (pipe(fds) != 0 || (pid = fork()) < 0)
		{
			perror("pipe/fork");
			return 1;
		}
		if (pid == 0)
		{
			double		t0 = now_us(),
						t1;

			if (sbx_seccomp_apply_pooled(errbuf, sizeof(errbuf)) != 0)
				_exit(1);
			t1 = now_us();
			if (sbx_seccomp_seal(1, errbuf, sizeof(errbuf)) != 0)
				_exit(1);
			took[0] = t1 - t0;
			took[1] = now_us() - t1;
			_exit(write(fds[1], took, sizeof(took)) == sizeof(took) ? 0 : 1);
		}
		close(fds[1]);
		if (read(fds[0], took, sizeof(took)) != sizeof(took))
		{
			fprintf(stderr, "a child could not load the filters\n");
			return 1;
		}
		close(fds[0]);
		waitpid(pid, NULL, 0);
		pooled += took[0];
		seal += took[1];
	}
	printf("seccomp load, mean of %d children: pooled filter %.1f us, seal %.1f us\n",
		   children, pooled / children, seal / children);
	return 0;
}
