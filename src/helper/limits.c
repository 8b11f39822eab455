/*-------------------------------------------------------------------------
 *
 * limits.c
 *	  Baseline limits every helper process runs under, whatever isolation
 *	  layers the kernel offers: no privilege gain through exec, death with
 *	  the parent, and rlimits on memory, CPU, files and processes.  The
 *	  backend's wall clock (SIGKILL) is the primary deadline; RLIMIT_CPU is
 *	  a backstop should the backend fail to deliver it.
 *
 *-------------------------------------------------------------------------
 */
#include "helper_limits.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

int
limits_process(pid_t expected_parent, char *errbuf, size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
	{
		snprintf(errbuf, errlen, "prctl(PR_SET_NO_NEW_PRIVS) failed: %s",
				 strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
	{
		snprintf(errbuf, errlen, "prctl(PR_SET_PDEATHSIG) failed: %s",
				 strerror(errno));
		return -1;
	}
	if (getppid() != expected_parent)
	{
		snprintf(errbuf, errlen, "parent process exited during start-up");
		return -1;
	}
	return 0;
}

/*
 * setrlimit with soft and hard values, clamped to the current hard limit;
 * names the limit on failure.
 */
static int
limits_set(int resource, rlim_t soft, rlim_t hard, const char *name,
		   char *errbuf, size_t errlen)
{
	struct rlimit rl;

	/* an unprivileged process cannot raise its hard limit: never try */
	if (getrlimit(resource, &rl) == 0 && rl.rlim_max != RLIM_INFINITY)
	{
		if (hard > rl.rlim_max)
			hard = rl.rlim_max;
		if (soft > hard)
			soft = hard;
	}
	rl.rlim_cur = soft;
	rl.rlim_max = hard;
	if (setrlimit(resource, &rl) != 0)
	{
		snprintf(errbuf, errlen, "setrlimit(%s) failed: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

int
limits_apply_shared(char *errbuf, size_t errlen)
{
	if (limits_set(RLIMIT_CORE, 0, 0, "RLIMIT_CORE", errbuf, errlen) < 0 ||
		limits_set(RLIMIT_FSIZE, 0, 0, "RLIMIT_FSIZE", errbuf, errlen) < 0 ||
		limits_set(RLIMIT_NOFILE, LIMITS_NOFILE, LIMITS_NOFILE, "RLIMIT_NOFILE",
				   errbuf, errlen) < 0 ||
		limits_set(RLIMIT_NPROC, 0, 0, "RLIMIT_NPROC", errbuf, errlen) < 0)
		return -1;
	return 0;
}

int
limits_apply_call(int64_t memory_mb, int64_t timeout_ms, char *errbuf, size_t errlen)
{
	rlim_t		as = (rlim_t) memory_mb * 1024 * 1024;
	rlim_t		cpu = (rlim_t) ((timeout_ms + 999) / 1000) + 1;

	if (limits_set(RLIMIT_AS, as, as, "RLIMIT_AS", errbuf, errlen) < 0 ||
		limits_set(RLIMIT_CPU, cpu, cpu + 1, "RLIMIT_CPU", errbuf, errlen) < 0)
		return -1;
	return 0;
}

int
limits_apply(int64_t memory_mb, int64_t timeout_ms, char *errbuf, size_t errlen)
{
	if (limits_apply_shared(errbuf, errlen) < 0)
		return -1;
	return limits_apply_call(memory_mb, timeout_ms, errbuf, errlen);
}

int
limits_memory_exhausted(void)
{
	size_t		probe = 4 * 1024 * 1024;
	void	   *p = mmap(NULL, probe, PROT_NONE,
						 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return 1;
	munmap(p, probe);
	return 0;
}
