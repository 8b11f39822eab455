/*-------------------------------------------------------------------------
 *
 * namespaces.c
 *	  The namespace layers of the sandbox, entered in this order:
 *
 *	  1. parent-death signal, so the helper never outlives the backend;
 *	  2. user namespace: the server's uid/gid map to 65534 inside,
 *	     setgroups denied.  It is what lets an unprivileged server create
 *	     the others, and the code never holds a capability outside it;
 *	  3. IPC, UTS (hostname "codeexec"), network (no interface is brought
 *	     up, not even loopback) and mount namespaces, the last with the
 *	     minimal root of namespaces_mount.c;
 *	  4. PID namespace: fork, so the process that goes on to run Python is
 *	     pid 1 of a namespace holding nothing else.  The original process
 *	     becomes a waiter that mirrors the child's fate (exit status, or
 *	     the fatal signal re-raised on itself) so the backend's waitpid
 *	     sees it; if the waiter dies the child is SIGKILLed (PDEATHSIG).
 *
 *	  Then, in the child, every capability is dropped (sbx_drop_capabilities).
 *
 *	  Each namespace is entered with its own unshare() call so that the
 *	  report can say exactly which one failed.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "sandbox_int.h"

#define SBX_INSIDE_ID	65534	/* "nobody" inside the user namespace */
#define SBX_HOSTNAME	"codeexec"

/*
 * sbx_write_file: write text to a /proc file in one write(); 0 or -1.
 */
static int
sbx_write_file(const char *path, const char *text)
{
	int			fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t		len = (ssize_t) strlen(text);
	int			save;

	if (fd < 0)
		return -1;
	if (write(fd, text, len) != len)
	{
		save = errno;
		close(fd);
		errno = save ? save : EIO;
		return -1;
	}
	return close(fd);
}

/*
 * sbx_parent_death: die with SIGKILL when the backend dies, and close the
 * race where it died before the prctl: the response pipe's read end is then
 * gone, which poll() reports as POLLERR on our write end.
 */
static void
sbx_parent_death(void)
{
	struct pollfd pfd = {.fd = 1, .events = 0};

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR))
		_exit(1);
}

/*
 * A kernel setting (a small /proc/sys or /sys file) into buf, as text.
 * Returns whether anything was read.
 */
bool
sbx_read_setting(const char *path, char *buf, size_t size)
{
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t		n;

	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0;
}

/*
 * sbx_userns_hint: a short reason why unprivileged user namespaces are
 * refused on this machine, read from the sysctls that control them.
 */
static const char *
sbx_userns_hint(void)
{
	char		buf[32];

	if (sbx_read_setting("/proc/sys/kernel/unprivileged_userns_clone", buf, sizeof(buf)) &&
		buf[0] == '0')
		return " (kernel.unprivileged_userns_clone is 0; set it to 1)";
	if (sbx_read_setting("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", buf, sizeof(buf)) &&
		buf[0] == '1')
		return " (kernel.apparmor_restrict_unprivileged_userns is 1; allow the helper in an AppArmor profile or set it to 0)";
	if (sbx_read_setting("/proc/sys/user/max_user_namespaces", buf, sizeof(buf)) &&
		buf[0] == '0' && (buf[1] == '\0' || buf[1] == '\n'))
		return " (user.max_user_namespaces is 0; raise it)";
	return "";
}

/*
 * sbx_enter_user_ns: new user namespace with the caller's uid and gid
 * mapped to SBX_INSIDE_ID and setgroups denied (so the single-gid map
 * cannot be used to drop supplementary groups that act as deny lists).
 */
static int
sbx_enter_user_ns(int require, char *errbuf, size_t errlen)
{
	uid_t		uid = geteuid();
	gid_t		gid = getegid();
	char		map[64];

	if (sandbox_layer_disabled(SBX_USER_NS))
		return sandbox_layer_fail(SBX_USER_NS, require, errbuf, errlen, 0,
								  "disabled by test knob");
	if (unshare(CLONE_NEWUSER) != 0)
	{
		int			e = errno;

		return sandbox_layer_fail(SBX_USER_NS, require, errbuf, errlen, e,
								  "unshare(CLONE_NEWUSER)%s", sbx_userns_hint());
	}
	/*
	 * gVisor has no setgroups file.  Nothing is lost there as long as the
	 * process has no supplementary groups to drop (runsc's container starts
	 * with none; checked, not assumed).
	 */
	if (sbx_write_file("/proc/self/setgroups", "deny") != 0 &&
		!(sandbox_in_gvisor() && errno == ENOENT && getgroups(0, NULL) == 0))
		return sandbox_layer_fail(SBX_USER_NS, require, errbuf, errlen, errno,
								  "write /proc/self/setgroups");
	snprintf(map, sizeof(map), "%d %u 1\n", SBX_INSIDE_ID, (unsigned) uid);
	if (sbx_write_file("/proc/self/uid_map", map) != 0)
		return sandbox_layer_fail(SBX_USER_NS, require, errbuf, errlen, errno,
								  "write /proc/self/uid_map");
	snprintf(map, sizeof(map), "%d %u 1\n", SBX_INSIDE_ID, (unsigned) gid);
	if (sbx_write_file("/proc/self/gid_map", map) != 0)
		return sandbox_layer_fail(SBX_USER_NS, require, errbuf, errlen, errno,
								  "write /proc/self/gid_map");
	sandbox_layer_set(SBX_USER_NS, 1, "uid %u -> %d, gid %u -> %d, %s",
					  (unsigned) uid, SBX_INSIDE_ID, (unsigned) gid, SBX_INSIDE_ID,
					  sandbox_in_gvisor() ?
					  "no supplementary groups (gVisor container, no setgroups file)" :
					  "setgroups denied");
	return 0;
}

/*
 * sbx_enter_simple_ns: unshare one namespace that needs no further set-up
 * beyond what `after` does (may be NULL); records the layer.
 */
static int
sbx_enter_simple_ns(SandboxLayerId id, int flag, const char *flagname,
					int (*after) (char *detail, size_t len),
					int require, char *errbuf, size_t errlen)
{
	char		detail[160] = "new namespace";

	if (sandbox_layer_disabled(id))
		return sandbox_layer_fail(id, require, errbuf, errlen, 0,
								  "disabled by test knob");
	if (unshare(flag) != 0)
		return sandbox_layer_fail(id, require, errbuf, errlen, errno,
								  "unshare(%s)", flagname);
	if (after != NULL && after(detail, sizeof(detail)) != 0)
		return sandbox_layer_fail(id, require, errbuf, errlen, errno, "%s", detail);
	sandbox_layer_set(id, 1, "%s", detail);
	return 0;
}

/*
 * The lengths include the terminating NUL: Linux stores the same name
 * either way, and gVisor refuses a name without a NUL within the length.
 */
static int
sbx_after_uts(char *detail, size_t len)
{
	if (sethostname(SBX_HOSTNAME, sizeof(SBX_HOSTNAME)) != 0)
	{
		snprintf(detail, len, "sethostname");
		return -1;
	}
	if (setdomainname(SBX_HOSTNAME, sizeof(SBX_HOSTNAME)) != 0)
	{
		snprintf(detail, len, "setdomainname");
		return -1;
	}
	snprintf(detail, len, "hostname \"%s\"", SBX_HOSTNAME);
	return 0;
}

static int
sbx_after_net(char *detail, size_t len)
{
	snprintf(detail, len, "no interfaces up (loopback left down)");
	return 0;
}

static int
sbx_after_ipc(char *detail, size_t len)
{
	snprintf(detail, len, "private System V IPC and POSIX message queues");
	return 0;
}

static int
sbx_after_mount(char *detail, size_t len)
{
	char		err[160];

	if (sandbox_in_gvisor())
		return sbx_check_container_root(detail, len);
	if (sbx_mount_minimal_root(err, sizeof(err)) != 0)
	{
		snprintf(detail, len, "%s", err);
		return -1;
	}
	snprintf(detail, len, "minimal read-only root: /usr (+ /etc/alternatives, /etc/ld.so.cache), no /proc, /dev, /tmp, /home, /var, data directory");
	return 0;
}

/*
 * sbx_mirror_child: the waiter's whole life.  Closes the request and
 * response pipes (they belong to the child), reaps the child and exits
 * the same way: same exit code, or the same signal re-raised (core dumps
 * off so SIGSYS/SIGSEGV leave no file).  Never returns.
 */
static void
sbx_mirror_child(pid_t child)
{
	int			status;
	struct rlimit no_core = {0, 0};
	sigset_t	set;
	int			sig;

	close(0);
	close(1);
	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	sbx_drop_capabilities(0, 0, NULL, 0);
	while (waitpid(child, &status, 0) < 0)
	{
		if (errno != EINTR)
			_exit(125);
	}
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	sig = WTERMSIG(status);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

/*
 * sbx_enter_pid_ns: new PID namespace and the fork into it.  Only the
 * child returns.  A lifeline pipe closes the race where the waiter dies
 * before the child has set its parent-death signal.
 */
static int
sbx_enter_pid_ns(int require, char *errbuf, size_t errlen)
{
	int			lifeline[2];
	pid_t		child;

	if (sandbox_layer_disabled(SBX_PID_NS))
		return sandbox_layer_fail(SBX_PID_NS, require, errbuf, errlen, 0,
								  "disabled by test knob");
	if (unshare(CLONE_NEWPID) != 0)
		return sandbox_layer_fail(SBX_PID_NS, require, errbuf, errlen, errno,
								  "unshare(CLONE_NEWPID)");
	if (pipe2(lifeline, O_CLOEXEC) != 0)
		return sandbox_layer_fail(SBX_PID_NS, require, errbuf, errlen, errno,
								  "pipe2 for the lifeline");
	child = fork();
	if (child < 0)
	{
		int			e = errno;

		close(lifeline[0]);
		close(lifeline[1]);
		return sandbox_layer_fail(SBX_PID_NS, require, errbuf, errlen, e,
								  "fork into the new PID namespace");
	}
	if (child > 0)
	{
		close(lifeline[0]);
		sbx_mirror_child(child);	/* never returns */
	}
	close(lifeline[1]);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	{
		struct pollfd pfd = {.fd = lifeline[0], .events = POLLIN};

		/* the write end only closes when the waiter is gone */
		if (poll(&pfd, 1, 0) != 0)
			_exit(1);
	}
	close(lifeline[0]);
	if (setsid() < 0)
		return sandbox_layer_fail(SBX_PID_NS, require, errbuf, errlen, errno,
								  "setsid in the new PID namespace");
	sandbox_layer_set(SBX_PID_NS, 1, "runner is pid %d of a new namespace, own session",
					  (int) getpid());
	return 0;
}

/*
 * sbx_namespaces_enter: all namespace layers in order (see file header).
 * Returns 0, or -1 with errbuf set when a required layer failed.
 */
int
sbx_namespaces_enter(int require, char *errbuf, size_t errlen)
{
	if (sbx_namespaces_enter_shared(require, errbuf, errlen) != 0 ||
		sbx_enter_pid_ns(require, errbuf, errlen) != 0)
		return -1;
	return 0;
}

/*
 * sbx_namespaces_enter_shared: every namespace layer but the PID one, for
 * the fork server, whose children each get their own PID namespace.
 */
int
sbx_namespaces_enter_shared(int require, char *errbuf, size_t errlen)
{
	sbx_parent_death();
	if (sbx_enter_user_ns(require, errbuf, errlen) != 0 ||
		sbx_enter_simple_ns(SBX_IPC_NS, CLONE_NEWIPC, "CLONE_NEWIPC", sbx_after_ipc,
							require, errbuf, errlen) != 0 ||
		sbx_enter_simple_ns(SBX_UTS_NS, CLONE_NEWUTS, "CLONE_NEWUTS", sbx_after_uts,
							require, errbuf, errlen) != 0 ||
		sbx_enter_simple_ns(SBX_NET_NS, CLONE_NEWNET, "CLONE_NEWNET", sbx_after_net,
							require, errbuf, errlen) != 0 ||
		sbx_enter_simple_ns(SBX_MOUNT_NS, CLONE_NEWNS, "CLONE_NEWNS", sbx_after_mount,
							require, errbuf, errlen) != 0)
		return -1;
	return 0;
}

/*
 * sbx_clear_bounding_set: empty the capability bounding set.  Returns the
 * number of capabilities the kernel knows (the first number it refused as
 * invalid), or -1 with errno set and *failed the capability that could not
 * be dropped.  Dropping needs CAP_SETPCAP: inside a fresh user namespace
 * the process has it.  One prctl per capability, each committing new
 * credentials, so the fork server does this once for all its children
 * (they inherit the empty set).
 */
int
sbx_clear_bounding_set(int *failed)
{
	int			cap;

	for (cap = 0; cap < 64; cap++)
	{
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
		{
			if (errno == EINVAL)
				break;			/* past the last capability */
			*failed = cap;
			return -1;
		}
	}
	return cap;
}

/*
 * sbx_drop_capabilities: empty the bounding, ambient, effective, permitted
 * and inheritable sets.  Inside a fresh user namespace the process holds a
 * full set (over that namespace only); the code needs none of it, and
 * without CAP_SYS_ADMIN it cannot mount, set the hostname or make another
 * namespace even if a later layer were missing.  `bounding_cleared` > 0:
 * the bounding set was already emptied (by the fork server, of that many
 * capabilities) and was inherited; otherwise it is emptied here.  With
 * errbuf NULL (the waiter) failures are ignored.
 */
int
sbx_drop_capabilities(int bounding_cleared, int require, char *errbuf, size_t errlen)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	int			cleared = bounding_cleared;
	int			failed = -1;

	if (errbuf != NULL && sandbox_layer_disabled(SBX_CAPABILITIES))
		return sandbox_layer_fail(SBX_CAPABILITIES, require, errbuf, errlen, 0,
								  "disabled by test knob");
	if (cleared <= 0 && (cleared = sbx_clear_bounding_set(&failed)) < 0 &&
		errbuf != NULL)
		return sandbox_layer_fail(SBX_CAPABILITIES, require, errbuf, errlen,
								  errno, "PR_CAPBSET_DROP %d", failed);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) != 0)
	{
		if (errbuf != NULL)
			return sandbox_layer_fail(SBX_CAPABILITIES, require, errbuf, errlen, errno,
									  "capset");
		return 0;
	}
	if (errbuf != NULL)
		sandbox_layer_set(SBX_CAPABILITIES, 1, "all dropped (bounding set of %d cleared%s)",
						  cleared, bounding_cleared > 0 ? " by the fork server" : "");
	return 0;
}
