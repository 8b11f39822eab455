/*-------------------------------------------------------------------------
 *
 * forkserver_proto.h
 *	  What the backend (forkserver_client.c), the supervising worker
 *	  (forkserver_worker.c) and the helper in server mode (forkserver*.c in
 *	  src/helper) agree on, besides the CXQ1/CXR1 frames of wire.h.  No
 *	  PostgreSQL or CPython dependencies.
 *
 * Handoff on one connection to the server's listening socket:
 *
 *	  1. the backend connects and writes one CXQ1 request frame at once,
 *	     then shuts down its writing side (the child reads until EOF, as
 *	     in exec mode);
 *	  2. a pooled child accept()s the connection and, before it reads a
 *	     byte of the request, sends one ForkserverHello carrying, as
 *	     SCM_RIGHTS, two descriptors: a pidfd of itself (the backend
 *	     SIGKILLs exactly that child with pidfd_send_signal) and the read
 *	     end of its exit pipe.  If that send fails (the backend has gone)
 *	     the child exits without reading the request;
 *	  3. the child writes one CXR1 response frame and exits;
 *	  4. the server, the child's parent, reaps it and writes one
 *	     ForkserverExit record into the exit pipe, then closes it.  EOF on
 *	     the exit pipe without a record means the server itself died.
 *
 * Replacement: every child has the server's memory layout (addresses,
 * stack canary), so a child that took a call and then crashed (SIGSEGV,
 * SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP) may be someone probing it.
 * The server then writes one byte on FORKSERVER_FD_REPLACE, kills its idle
 * children, clones no more, and exits once its running children are gone;
 * the worker starts a new server (a new exec: new layout) at once.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_FORKSERVER_PROTO_H
#define CODEEXEC_FORKSERVER_PROTO_H

#include <stdint.h>

#define FORKSERVER_HELLO_MAGIC "CXF2"

/* The largest pool the worker may ask for (codeexec.forkserver_pool_size) */
#define FORKSERVER_MAX_POOL 64

/*
 * The hello.  The child sends it before it has read any user input, so
 * the backend can trust its CPU clock reading: the call's CPU time is the
 * child's CPU clock at the end minus this.
 */
typedef struct ForkserverHello
{
	char		magic[4];		/* FORKSERVER_HELLO_MAGIC */
	uint32_t	zero;
	uint64_t	cpu_nsec;		/* the child's CLOCK_PROCESS_CPUTIME_ID */
} ForkserverHello;

#define FORKSERVER_EXIT_MAGIC 0x31585843u	/* "CXX1" little-endian */

/* Name of the listening socket inside the 0700 socket directory. */
#define FORKSERVER_SOCKET_NAME "fs.sock"

/* Descriptor numbers of the helper in server mode (set by the worker). */
#define FORKSERVER_FD_LIFELINE 0	/* EOF: the supervising worker is gone */
#define FORKSERVER_FD_LISTEN 3	/* the listening Unix socket */
#define FORKSERVER_FD_REPLACE 4 /* write one byte: "start my replacement" */

/* argv[1] of the helper in server mode. */
#define FORKSERVER_ARG "--server"

/*
 * argv[4]: what idle children do before their call
 * (codeexec.forkserver_prewarm).
 */
#define FORKSERVER_PREWARM_OFF	0	/* nothing */
#define FORKSERVER_PREWARM_ON	1	/* narrow + one warm-up snippet, if idle 5 ms */
#define FORKSERVER_PREWARM_FULL 2	/* always, after copying the heap pages a call writes */

typedef struct ForkserverExit
{
	uint32_t	magic;			/* FORKSERVER_EXIT_MAGIC */
	int32_t		wait_status;	/* as from wait4() */
	int64_t		cpu_usec;		/* user + system CPU of the child */
	int64_t		maxrss_kb;		/* peak resident set of the child */
} ForkserverExit;

#endif
