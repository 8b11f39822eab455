/*-------------------------------------------------------------------------
 *
 * seccomp_policy.c
 *	  The seccomp allowlist, as one reviewable table.  It is applied by
 *	  sandbox_seccomp.c after CPython and the allowed modules are loaded,
 *	  so it only has to cover what the interpreter does while it runs user
 *	  code, writes the response and exits (measured with strace -f over
 *	  json/statistics/decimal/re/datetime/collections snippets, a raised
 *	  exception with its traceback, a memory error and numpy/pandas).
 *
 *	  Every call not listed here gets the default action: SIGSYS (trap),
 *	  whose handler reports "killed" naming the call and the process dies
 *	  of SIGSYS.  A call is listed as
 *	    ALLOW  the interpreter needs it (with an argument check where the
 *	           call is dangerous with other arguments);
 *	    ERRNO  the interpreter makes it on harmless paths (e.g. linecache
 *	           opening a source file for a traceback) and copes with the
 *	           error; Landlock or the mount namespace would refuse it too;
 *	    KILL   the same as not listed, named here only because an attack
 *	           needs it and a reviewer will look for it.
 *	  docs/security.md reproduces this table; keep both in step.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>

#include "sandbox_int.h"

#define A(n, rule, why)		{n, SBX_ALLOW, 0, rule, why}
#define E(n, err, why)		{n, SBX_ERRNO, err, SBX_ARG_ANY, why}
#define K(n, why)			{n, SBX_KILL, 0, SBX_ARG_ANY, why}

const SbxSyscallRule sbx_seccomp_policy[] = {
	/* --- I/O on descriptors the process already holds (its pipes) --- */
	A("read", SBX_ARG_ANY, "read the request remainder and pipes"),
	A("write", SBX_ARG_ANY, "write the response frame and diagnostics"),
	A("readv", SBX_ARG_ANY, "buffered reads"),
	A("writev", SBX_ARG_ANY, "buffered writes of the response"),
	A("lseek", SBX_ARG_ANY, "io module probes seekability of its streams"),
	A("close", SBX_ARG_ANY, "closing descriptors"),
	A("fcntl", SBX_ARG_ANY, "descriptor flags (F_GETFD/F_GETFL) on own fds"),
	A("fstat", SBX_ARG_ANY, "stat of an open descriptor"),
	A("newfstatat", SBX_ARG_EMPTY_PATH, "glibc's fstat(fd) is newfstatat(fd, \"\", AT_EMPTY_PATH); without the flag a path lookup gets EACCES"),
	A("poll", SBX_ARG_ANY, "waiting on own pipes"),
	A("ppoll", SBX_ARG_ANY, "waiting on own pipes"),

	/* --- memory --- */
	A("brk", SBX_ARG_ANY, "malloc heap"),
	A("mmap", SBX_ARG_PROT_NO_EXEC, "malloc arenas and large objects; never executable"),
	A("munmap", SBX_ARG_ANY, "freeing memory"),
	A("mremap", SBX_ARG_ANY, "growing large buffers (realloc)"),
	A("mprotect", SBX_ARG_PROT_NO_EXEC, "guard pages, arena growth; never executable"),
	A("madvise", SBX_ARG_ANY, "malloc trimming (MADV_DONTNEED)"),

	/* --- signals, restricted to the process itself --- */
	A("rt_sigaction", SBX_ARG_NOT_SIGSYS, "CPython signal set-up; the SIGSYS handler cannot be replaced"),
	A("rt_sigprocmask", SBX_ARG_ANY, "signal masks (a blocked SIGSYS is still forced by the kernel)"),
	A("rt_sigreturn", SBX_ARG_ANY, "return from signal handlers"),
	A("sigaltstack", SBX_ARG_ANY, "CPython's faulthandler/stack-overflow handling"),
	A("kill", SBX_ARG_SELF_PID, "os.kill(os.getpid(), sig) only; any other target is killed"),
	A("tgkill", SBX_ARG_SELF_PID, "raise()/abort() on itself only"),

	/* --- process and thread life cycle --- */
	A("exit", SBX_ARG_ANY, "thread exit"),
	A("exit_group", SBX_ARG_ANY, "process exit after the response"),
	A("clone", SBX_ARG_THREAD_ONLY, "threads only (CLONE_THREAD set, no namespace flags): no process fork"),
	E("clone3", ENOSYS, "its flags are in memory seccomp cannot read; ENOSYS makes glibc fall back to clone"),
	A("set_robust_list", SBX_ARG_ANY, "new threads (glibc)"),
	A("rseq", SBX_ARG_ANY, "new threads (glibc restartable sequences)"),
	A("futex", SBX_ARG_ANY, "locks: the GIL, malloc, threads"),
	A("sched_yield", SBX_ARG_ANY, "lock back-off"),
	A("sched_getaffinity", SBX_ARG_ANY, "os.cpu_count()/numpy thread sizing"),
	A("set_tid_address", SBX_ARG_ANY, "new threads (glibc)"),

	/* --- harmless queries --- */
	A("getpid", SBX_ARG_ANY, "own pid (1 in its namespace)"),
	A("gettid", SBX_ARG_ANY, "own thread id"),
	A("getppid", SBX_ARG_ANY, "0: the parent is outside the PID namespace"),
	A("getuid", SBX_ARG_ANY, "ids inside the user namespace"),
	A("geteuid", SBX_ARG_ANY, "ids inside the user namespace"),
	A("getgid", SBX_ARG_ANY, "ids inside the user namespace"),
	A("getegid", SBX_ARG_ANY, "ids inside the user namespace"),
	A("uname", SBX_ARG_ANY, "platform/os.uname(); shows the UTS namespace"),
	A("getrandom", SBX_ARG_ANY, "random/hash seeds, secrets"),
	A("clock_gettime", SBX_ARG_ANY, "time.time() etc. when the vDSO is bypassed"),
	A("clock_getres", SBX_ARG_ANY, "time.get_clock_info()"),
	A("gettimeofday", SBX_ARG_ANY, "time queries"),
	A("clock_nanosleep", SBX_ARG_ANY, "time.sleep(); the wall deadline still kills"),
	A("nanosleep", SBX_ARG_ANY, "time.sleep() on older glibc"),
	A("getrusage", SBX_ARG_ANY, "CPU time and peak memory for the response"),
	A("times", SBX_ARG_ANY, "os.times()"),
	A("prlimit64", SBX_ARG_READ_ONLY_LIMIT, "reading own limits (resource.getrlimit); setting is killed"),
	A("getcwd", SBX_ARG_ANY, "os.getcwd(): \"/\" of the minimal root"),

	/* --- refused with an errno: harmless interpreter paths --- */
	E("open", EACCES, "linecache/tracebacks open source files; Landlock denies too"),
	E("openat", EACCES, "as open"),
	E("openat2", EACCES, "as open"),
	E("stat", EACCES, "path stats (linecache, importlib) report 'not there'"),
	E("lstat", EACCES, "as stat"),
	E("statx", EACCES, "as stat"),
	E("access", EACCES, "as stat"),
	E("faccessat", EACCES, "as stat"),
	E("faccessat2", EACCES, "as stat"),
	E("readlink", EACCES, "os.path.realpath in tracebacks"),
	E("readlinkat", EACCES, "as readlink"),
	E("getdents64", EACCES, "directory listings (no directory can be opened anyway)"),
	E("ioctl", ENOTTY, "isatty() probes on the pipes; no device is reachable"),
	E("prctl", EINVAL, "glibc/CPython probes (e.g. thread names); nothing needed"),
	E("sysinfo", ENOSYS, "memory probes by numeric libraries"),

	/* --- attack calls: killed (same as unlisted, listed for review) --- */
	K("execve", "running another program"),
	K("execveat", "running another program"),
	K("fork", "process creation"),
	K("vfork", "process creation"),
	K("socket", "any network or unix-socket access"),
	K("socketpair", "unix sockets"),
	K("connect", "network"),
	K("bind", "network"),
	K("ptrace", "debugging other processes"),
	K("process_vm_readv", "reading other processes' memory"),
	K("process_vm_writev", "writing other processes' memory"),
	K("io_uring_setup", "io_uring bypasses seccomp for its operations"),
	K("io_uring_enter", "io_uring"),
	K("io_uring_register", "io_uring"),
	K("bpf", "kernel attack surface"),
	K("perf_event_open", "kernel attack surface, side channels"),
	K("userfaultfd", "race-widening for kernel exploits"),
	K("keyctl", "kernel keyrings"),
	K("add_key", "kernel keyrings"),
	K("request_key", "kernel keyrings"),
	K("mount", "filesystem namespace changes"),
	K("umount2", "revealing what the minimal root hides"),
	K("pivot_root", "filesystem namespace changes"),
	K("chroot", "filesystem namespace changes"),
	K("unshare", "new namespaces (and their kernel attack surface)"),
	K("setns", "joining other namespaces"),
	K("tkill", "signalling a thread by id only"),
	K("rt_sigqueueinfo", "signals to other processes"),
	K("rt_tgsigqueueinfo", "signals to other processes"),
	K("pidfd_open", "handles on other processes"),
	K("pidfd_send_signal", "signals to other processes"),
	K("pidfd_getfd", "stealing descriptors"),
	K("kcmp", "probing other processes"),
	K("memfd_create", "anonymous executable files"),
	K("landlock_create_ruleset", "no sandbox changes after lock"),
	K("seccomp", "no sandbox changes after lock"),
	K("setuid", "identity changes"),
	K("setgid", "identity changes"),
	K("setresuid", "identity changes"),
	K("setresgid", "identity changes"),
	K("setgroups", "identity changes"),
	K("capset", "capability changes"),
	K("shmget", "System V IPC"),
	K("msgget", "System V IPC"),
	K("semget", "System V IPC"),
	K("mq_open", "POSIX message queues"),
	K("pkey_mprotect", "executable memory"),
	K("open_by_handle_at", "escaping mount restrictions"),
	K("name_to_handle_at", "file handles"),
	K("open_tree", "filesystem namespace changes"),
	K("move_mount", "filesystem namespace changes"),
	K("fsopen", "filesystem namespace changes"),
	K("init_module", "kernel modules"),
	K("finit_module", "kernel modules"),
	K("kexec_load", "kernel replacement"),
	K("reboot", "host control"),
	K("sethostname", "host identity"),
	K("setrlimit", "raising limits"),
	K("acct", "host control"),
	K("swapon", "host control"),
	K("syslog", "kernel log"),
};

const int	sbx_seccomp_policy_len = sizeof(sbx_seccomp_policy) / sizeof(sbx_seccomp_policy[0]);
