/*-------------------------------------------------------------------------
 *
 * recorder_msg.c
 *	  Nullable text/jsonb fields of recorder requests.  Each value is a
 *	  presence byte, then (if present) a 4-byte length and the bytes; a
 *	  jsonb is carried as its whole varlena so the worker needs no parsing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "libpq/pqformat.h"
#include "utils/builtins.h"

#include "recorder_msg.h"

void
recorder_msg_put_text(StringInfo buf, const char *s)
{
	pq_sendbyte(buf, s != NULL);
	if (s != NULL)
	{
		int			len = strlen(s);

		pq_sendint32(buf, len);
		pq_sendbytes(buf, s, len);
	}
}

void
recorder_msg_put_jsonb(StringInfo buf, const Jsonb *j)
{
	pq_sendbyte(buf, j != NULL);
	if (j != NULL)
	{
		pq_sendint32(buf, VARSIZE(j));
		pq_sendbytes(buf, (const char *) j, VARSIZE(j));
	}
}

/* recorder_msg_get_text: a text Datum (palloc'd), or *isnull. */
Datum
recorder_msg_get_text(StringInfo msg, bool *isnull)
{
	int			len;

	*isnull = (pq_getmsgbyte(msg) == 0);
	if (*isnull)
		return (Datum) 0;
	len = pq_getmsgint(msg, 4);
	return PointerGetDatum(cstring_to_text_with_len(pq_getmsgbytes(msg, len), len));
}

/* recorder_msg_get_jsonb: a jsonb Datum copied to aligned memory, or *isnull. */
Datum
recorder_msg_get_jsonb(StringInfo msg, bool *isnull)
{
	int			len;
	char	   *copy;

	*isnull = (pq_getmsgbyte(msg) == 0);
	if (*isnull)
		return (Datum) 0;
	len = pq_getmsgint(msg, 4);
	copy = palloc(len);
	pq_copymsgbytes(msg, copy, len);
	return PointerGetDatum(copy);
}
