/*-------------------------------------------------------------------------
 *
 * redact.c
 *	  Placeholder for secret redaction (issue 4 replaces this): passes text
 *	  through unchanged and reports no hits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "redact.h"
#include "utils/builtins.h"

struct RedactSession
{
	int			unused;
};

RedactSession *
redact_begin(void)
{
	return palloc0(sizeof(RedactSession));
}

char *
redact_text(RedactSession *session, const char *text, size_t len, size_t *out_len)
{
	char	   *copy = palloc(len + 1);

	memcpy(copy, text, len);
	copy[len] = '\0';
	*out_len = len;
	return copy;
}

Jsonb *
redact_jsonb(RedactSession *session, Jsonb *value)
{
	return value;
}

Jsonb *
redact_counts(RedactSession *session)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
}
