/*-------------------------------------------------------------------------
 *
 * driver.c
 *	  Stand-alone driver for the sandbox layers (test/isolation only): it
 *	  enters the sandbox the way the helper does (sandbox_prepare, rlimits,
 *	  CPython with pre-imported modules, sandbox_lock) and then either runs
 *	  one C-level attack or a Python snippet, printing what happened.
 *
 *	  usage: driver [-r] [-p] c <attack> [arg]
 *	         driver [-r] [-p] pre <attack> [arg]
 *	         driver [-r] py <module,module,...> <code>
 *	  -r requires every layer (sandbox_error on failure, exit 3).
 *	  -p locks as a pooled fork-server child does: the filters precompiled,
 *	  sandbox_lock_pooled(), then (c) sandbox_seal() before the attack, or
 *	  (pre) the attack in between, where the hand-off calls still work.
 *	  Attack "nr N[,a0,...]" makes system call number N with those
 *	  arguments, the rest 0.
 *	  The layer report goes to stderr as "REPORT <json>".
 *
 *-------------------------------------------------------------------------
 */
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "sandbox.h"
#include "sandbox_int.h"

static void
drv_result(const char *what, long rc)
{
	if (rc < 0)
		printf("%s: refused errno=%d (%s)\n", what, errno, strerror(errno));
	else
		printf("%s: succeeded rc=%ld\n", what, rc);
	fflush(stdout);
}

static void
drv_sigsys_caught(int sig)
{
	static const char msg[] = "SIGSYS caught: the trap was defused\n";

	(void) write(1, msg, sizeof(msg) - 1);
}

/* the kernel returns from a handler through the restorer: rt_sigreturn */
__asm__(".pushsection .text\n.globl drv_restorer\ndrv_restorer:\n"
		"\tmovq $15, %rax\n\tsyscall\n.popsection\n");
extern void drv_restorer(void);

static int
drv_attack(const char *name, const char *arg)
{
	long		rc;

	errno = 0;
	if (strcmp(name, "none") == 0)
		rc = 0;
	else if (strcmp(name, "open") == 0)
		rc = open(arg ? arg : "/etc/passwd", O_RDONLY);
	else if (strcmp(name, "socket") == 0)
		rc = socket(AF_INET, SOCK_STREAM, 0);
	else if (strcmp(name, "connect") == 0)
	{
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(arg))};
		int			fd = socket(AF_INET, SOCK_STREAM, 0);

		inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
		rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *) &sa, sizeof(sa));
	}
	else if (strcmp(name, "fork") == 0)
	{
		rc = fork();
		if (rc == 0)
			_exit(0);
	}
	else if (strcmp(name, "ptrace") == 0)
		rc = ptrace(PTRACE_ATTACH, arg ? atoi(arg) : 1, NULL, NULL);
	else if (strcmp(name, "kill_parent") == 0)
		rc = kill(arg ? atoi(arg) : getppid(), 0);
	else if (strcmp(name, "kill_self") == 0)
		rc = kill(getpid(), 0);
	else if (strcmp(name, "mount") == 0)
		rc = mount("none", "/", "tmpfs", 0, NULL);
	else if (strcmp(name, "unshare") == 0)
		rc = unshare(CLONE_NEWUSER);
	else if (strcmp(name, "io_uring_setup") == 0)
		rc = syscall(425, 8, calloc(1, 256));
	else if (strcmp(name, "bpf") == 0)
		rc = syscall(SYS_bpf, 0, NULL, 0);
	else if (strcmp(name, "keyctl") == 0)
		rc = syscall(SYS_keyctl, 0, 0, 0, 0, 0);
	else if (strcmp(name, "execve") == 0)
	{
		char	   *argv[] = {"/usr/bin/true", NULL};

		rc = execve(argv[0], argv, NULL);
	}
	else if (strcmp(name, "accept4") == 0)
		rc = accept4(-1, NULL, NULL, 0);	/* EBADF if it reaches the kernel */
	else if (strcmp(name, "sendmsg") == 0)
	{
		struct msghdr msg = {0};

		rc = sendmsg(-1, &msg, 0);
	}
	else if (strcmp(name, "setrlimit") == 0)
	{
		struct rlimit rl = {.rlim_cur = 63, .rlim_max = 63};

		rc = setrlimit(RLIMIT_NOFILE, &rl);	/* prlimit64 with a new limit */
	}
	else if (strcmp(name, "seccomp") == 0)
		rc = syscall(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */ , 0, NULL);
	else if (strcmp(name, "process_madvise") == 0)
		rc = syscall(SYS_process_madvise, -1, NULL, 0, 23 /* MADV_POPULATE_WRITE */ , 0);
	else if (strcmp(name, "process_madvise_cold") == 0)
		rc = syscall(SYS_process_madvise, -1, NULL, 0, 20 /* MADV_COLD */ , 0);
	else if (strcmp(name, "nr") == 0)
	{
		/* "N[,a0,...,a5]": any call by number, missing arguments 0 */
		unsigned long a[7] = {0};
		char	   *p = (char *) arg;

		for (int i = 0; i < 7 && p && *p; i++)
		{
			a[i] = strtoul(p, &p, 0);
			p = *p == ',' ? p + 1 : NULL;
		}
		rc = syscall(a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
	}
	else if (strcmp(name, "sigsys_handler") == 0)
	{
		/*
		 * Replace the SIGSYS handler through the raw call, the signal
		 * number with bits above 32 set (arg: 1) or not (0): the kernel
		 * reads an int, a filter comparing 64 bits sees another number.
		 * Then a forbidden call: with the trap defused, this survives.
		 */
		struct
		{
			void	   *handler;
			unsigned long flags;
			void	   *restorer;
			unsigned long mask;
		}			ksa = {(void *) drv_sigsys_caught, 0x04000000 /* SA_RESTORER */ ,
			(void *) drv_restorer, 0};
		unsigned long sig = SIGSYS | (arg && atoi(arg) ? 1UL << 32 : 0);

		rc = syscall(SYS_rt_sigaction, sig, &ksa, NULL, 8);
		drv_result("rt_sigaction(SIGSYS)", rc);
		rc = syscall(SYS_getpgrp);
	}
	else if (strcmp(name, "x32") == 0)
		rc = syscall(0x40000000 | SYS_getpid);	/* x32 ABI number */
	else if (strcmp(name, "i386") == 0)
	{
		/* getpid through the 32-bit ABI (int 0x80): a non-native arch */
		__asm__ volatile ("int $0x80":"=a" (rc):"0"(20L):"memory");
	}
	else
	{
		fprintf(stderr, "unknown attack %s\n", name);
		return 2;
	}
	drv_result(name, rc);
	return 0;
}

int
main(int argc, char **argv)
{
	char		err[512];
	int			require = 0;
	int			pooled = 0;
	int			argi = 1;
	struct rlimit rl;

	if (argi < argc && strcmp(argv[argi], "-r") == 0)
	{
		require = 1;
		argi++;
	}
	if (argi < argc && strcmp(argv[argi], "-p") == 0)
	{
		pooled = 1;
		argi++;
	}
	if (argc - argi < 2)
	{
		fprintf(stderr, "usage: driver [-r] c <attack> [arg] | py <mods> <code>\n");
		return 2;
	}
	if (sandbox_prepare(require, err, sizeof(err)) != 0)
	{
		fprintf(stderr, "sandbox_error: %s\n", err);
		return 3;
	}
	/* the fork server compiles its filters before any limit is set */
	if (pooled && sbx_seccomp_precompile(getpid(), err, sizeof(err)) != 0)
	{
		fprintf(stderr, "sandbox_error: %s\n", err);
		return 3;
	}
	/* limits as main.c sets them (a representative subset) */
	rl.rlim_cur = rl.rlim_max = 1024UL * 1024 * 1024;
	setrlimit(RLIMIT_AS, &rl);
	rl.rlim_cur = rl.rlim_max = 10;
	setrlimit(RLIMIT_CPU, &rl);
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_FSIZE, &rl);
	setrlimit(RLIMIT_CORE, &rl);
	rl.rlim_cur = rl.rlim_max = 64;
	setrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max = 32;
	setrlimit(RLIMIT_NPROC, &rl);
	rl.rlim_cur = rl.rlim_max = 8 * 1024 * 1024;
	setrlimit(RLIMIT_STACK, &rl);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);

	if (strcmp(argv[argi], "py") == 0)
	{
		PyConfig	config;
		char		mods[1024];
		char	   *save = NULL;
		int			rc;

		PyConfig_InitIsolatedConfig(&config);
		PyConfig_SetBytesString(&config, &config.home, "/usr");
		config.site_import = 0;
		config.write_bytecode = 0;
		config.install_signal_handlers = 0;
		Py_InitializeFromConfig(&config);
		PyConfig_Clear(&config);
		PyRun_SimpleString("import sys; sys.path.append('/usr/lib/python3/dist-packages')");
		snprintf(mods, sizeof(mods), "%s", argv[argi + 1]);
		for (char *m = strtok_r(mods, ",", &save); m; m = strtok_r(NULL, ",", &save))
		{
			PyObject   *mod = PyImport_ImportModule(m);

			if (mod == NULL)
				PyErr_Print();
			Py_XDECREF(mod);
		}
		if (sandbox_lock(require, err, sizeof(err)) != 0)
		{
			fprintf(stderr, "sandbox_error: %s\n", err);
			return 3;
		}
		fprintf(stderr, "REPORT %s\n", sandbox_report_json());
		rc = PyRun_SimpleString(argc - argi > 2 ? argv[argi + 2] : "pass");
		PyRun_SimpleString("import sys; sys.stdout.flush(); sys.stderr.flush()");
		fflush(stdout);
		fflush(stderr);
		_exit(rc == 0 ? 0 : 1);
	}
	if (pooled)
	{
		sandbox_lock_pooled();
		if (strcmp(argv[argi], "pre") == 0)
			return drv_attack(argv[argi + 1], argc - argi > 2 ? argv[argi + 2] : NULL);
		if (sandbox_seal(require, err, sizeof(err)) != 0)
		{
			fprintf(stderr, "sandbox_error: %s\n", err);
			return 3;
		}
	}
	else if (sandbox_lock(require, err, sizeof(err)) != 0)
	{
		fprintf(stderr, "sandbox_error: %s\n", err);
		return 3;
	}
	fprintf(stderr, "REPORT %s\n", sandbox_report_json());
	return drv_attack(argv[argi + 1], argc - argi > 2 ? argv[argi + 2] : NULL);
}
