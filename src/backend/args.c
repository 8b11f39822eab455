/*-------------------------------------------------------------------------
 *
 * args.c
 *	  Argument checks of the SQL entry points (see args.h).  Limits: NULL
 *	  takes the user-settable default codeexec.X; the value (from the
 *	  argument or the default) must be positive and at most the superuser
 *	  ceiling codeexec.X_limit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "args.h"
#include "codeexec.h"

/* One limit: the argument or the default, checked against the ceiling. */
static int32
args_limit(FunctionCallInfo fcinfo, int argno, int32 dflt, int32 ceiling,
		   const char *name)
{
	bool		from_arg = argno >= 0 && !PG_ARGISNULL(argno);
	int32		value = from_arg ? PG_GETARG_INT32(argno) : dflt;

	if (value <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be positive", name),
				 errdetail("The value given was %d.", value)));
	if (value > ceiling)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s %d exceeds the maximum %d", name, value, ceiling),
				 from_arg ? 0 : errdetail("The value comes from codeexec.%s.", name),
				 errhint("The maximum is codeexec.%s_limit, which only a superuser can raise.",
						 name)));
	return value;
}

void
args_resolve_limits(FunctionCallInfo fcinfo, const int argno[3], CallLimits *limits)
{
	limits->timeout_ms = args_limit(fcinfo, argno[0], codeexec_timeout_ms,
									codeexec_timeout_ms_limit, "timeout_ms");
	limits->memory_mb = args_limit(fcinfo, argno[1], codeexec_memory_mb,
								   codeexec_memory_mb_limit, "memory_mb");
	limits->max_output_bytes = args_limit(fcinfo, argno[2], codeexec_max_output_bytes,
										  codeexec_max_output_bytes_limit,
										  "max_output_bytes");
}

void
args_check_size(const char *what, size_t len, int limit, const char *guc_name)
{
	if (len > (size_t) limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s is too large", what),
				 errdetail("It is %zu bytes; the limit is %d bytes.", len, limit),
				 errhint("The limit is %s, which only a superuser can raise.", guc_name)));
}

void
args_check_encoding(void)
{
	if (GetDatabaseEncoding() != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("codeexec requires a UTF8 database"),
				 errdetail("The database encoding is %s.", GetDatabaseEncodingName()),
				 errhint("Create the database with ENCODING 'UTF8'.")));
}
