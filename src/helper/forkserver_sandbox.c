/*-------------------------------------------------------------------------
 *
 * forkserver_sandbox.c
 *	  The isolation steps particular to the fork server (server mode of the
 *	  helper), on top of the layers of sandbox*.c / namespaces*.c:
 *
 *	  fs_sandbox_server()  in the server, before CPython starts: the
 *	                       namespaces every child can share (user, IPC,
 *	                       UTS, network, mount with the minimal root),
 *	                       and an empty capability bounding set, which
 *	                       every child inherits (the server never execs,
 *	                       so the set limits nothing it does).
 *	  fs_sandbox_child()   in each child right after the fork into its own
 *	                       PID namespace: record that layer, drop every
 *	                       capability (the server keeps its own, inside its
 *	                       user namespace, to create PID namespaces).
 *
 *	  fs_sandbox_precompile() in the server: the seccomp filters of a
 *	                       pooled child, compiled once for every child.
 *
 *	  The lock (Landlock, seccomp) is sandbox_lock_pooled() before the call
 *	  exists and sandbox_seal() after its request (sandbox.h): exec mode's
 *	  layers, loading the precompiled filters.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <unistd.h>

#include "forkserver.h"
#include "sandbox_int.h"

/*
 * fs_sandbox_server: enter the shared namespaces, then empty the bounding
 * set for the children.  Returns 0, or -1 with errbuf naming the layer
 * that failed (entering stops there).  *bounding_cleared: how many
 * capabilities the bounding set held, or 0 if it could not be emptied
 * (each child then empties its own and reports why it could not).
 */
int
fs_sandbox_server(int *bounding_cleared, char *errbuf, size_t errlen)
{
	int			failed;

	*bounding_cleared = 0;
	if (sbx_namespaces_enter_shared(1, errbuf, errlen) != 0)
		return -1;
	*bounding_cleared = sbx_clear_bounding_set(&failed);
	if (*bounding_cleared < 0)
		*bounding_cleared = 0;
	return 0;
}

/*
 * fs_sandbox_precompile: compile the seccomp filters once in the server,
 * for children that are pid 1 of their own PID namespace, so that a child
 * only loads them (compiling costs milliseconds per process).  On failure
 * each child compiles its own, as exec mode does.
 */
void
fs_sandbox_precompile(void)
{
	char		errbuf[256];

	if (sbx_seccomp_precompile(1, errbuf, sizeof(errbuf)) != 0)
		fs_log_line(errbuf);
}

/*
 * fs_sandbox_child: a freshly forked child's first isolation step (see file
 * header).  `pid_ns` says whether the fork really made a new PID
 * namespace; `bounding_cleared` is fs_sandbox_server's count.  Returns 0,
 * or -1 with errbuf set.
 */
int
fs_sandbox_child(int pid_ns, int bounding_cleared, char *errbuf, size_t errlen)
{
	if (pid_ns)
		sandbox_layer_set(SBX_PID_NS, 1,
						  "pooled child is pid %d of its own namespace (one per execution)",
						  (int) getpid());
	else if (sandbox_layer_fail(SBX_PID_NS, 1, errbuf, errlen, 0,
								"the fork server could not create a PID namespace") != 0)
		return -1;
	return sbx_drop_capabilities(bounding_cleared, 1, errbuf, errlen);
}
