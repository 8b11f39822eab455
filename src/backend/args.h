/*-------------------------------------------------------------------------
 *
 * args.h
 *	  Checking and resolving the arguments of the SQL entry points against
 *	  the GUCs: per-call limits, size limits, the database encoding.  Every
 *	  check failure is an ERROR (a bad argument, not a failure of the code).
 *	  Backend only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_ARGS_H
#define CODEEXEC_ARGS_H

#include "postgres.h"
#include "fmgr.h"

typedef struct CallLimits
{
	int32		timeout_ms;
	int32		memory_mb;
	int32		max_output_bytes;
} CallLimits;

/*
 * Resolve the three limits from nullable int arguments at argno[0..2]
 * (timeout_ms, memory_mb, max_output_bytes); argno < 0 means "not an
 * argument of this function, use the default".
 */
extern void args_resolve_limits(FunctionCallInfo fcinfo, const int argno[3],
								CallLimits *limits);

/* ERROR if len exceeds the byte limit held by GUC guc_name. */
extern void args_check_size(const char *what, size_t len, int limit, const char *guc_name);

/* ERROR unless the database encoding is UTF8 (the wire speaks UTF-8). */
extern void args_check_encoding(void);

#endif
