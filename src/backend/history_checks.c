/*-------------------------------------------------------------------------
 *
 * history_checks.c
 *	  The functions behind two CHECK constraints of codeexec_execution:
 *	  code_sha256 is 64 lowercase hex digits, status is one of SPEC
 *	  section 2's statuses.
 *
 *	  They were written in SQL (a regular expression and an IN list) up to
 *	  version 0.1.0.  PostgreSQL rebuilds a table's CHECK expressions from
 *	  their stored text for every INSERT statement, and the recorder
 *	  inserts one row per statement: parsing the IN list's array constant
 *	  and running the regular expression were ~15 % of the recorder's CPU,
 *	  on every call's path.  A function call parses in a fraction of that.
 *	  Both are IMMUTABLE and STRICT, as the expressions they replace.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "wire.h"

PG_FUNCTION_INFO_V1(codeexec_is_sha256_hex);
PG_FUNCTION_INFO_V1(codeexec_is_status);

/* Every status a history row may have (SPEC section 2). */
static const char *const history_statuses[] = {
	WIRE_STATUS_OK, WIRE_STATUS_ERROR, WIRE_STATUS_SYNTAX_ERROR,
	WIRE_STATUS_VIOLATION, WIRE_STATUS_TIMEOUT, WIRE_STATUS_MEMORY_LIMIT,
	WIRE_STATUS_KILLED, "cancelled", "quota_exceeded"
};

/* codeexec_is_sha256_hex(text): exactly 64 characters, each 0-9 or a-f. */
Datum
codeexec_is_sha256_hex(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	const char *p = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);

	if (len != 64)
		PG_RETURN_BOOL(false);
	for (int i = 0; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(true);
}

/* codeexec_is_status(text): one of history_statuses, byte for byte. */
Datum
codeexec_is_status(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	const char *p = VARDATA_ANY(t);
	size_t		len = VARSIZE_ANY_EXHDR(t);

	for (size_t i = 0; i < lengthof(history_statuses); i++)
		if (strlen(history_statuses[i]) == len && memcmp(history_statuses[i], p, len) == 0)
			PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(false);
}
