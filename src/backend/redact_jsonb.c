/*-------------------------------------------------------------------------
 *
 * redact_jsonb.c
 *	  Redaction of a jsonb value (a result, or the context stored in
 *	  history): rebuilds the value with every string, object keys included,
 *	  passed through redact_text, and numbers that a pattern matches (a card
 *	  number returned as a JSON number) turned into the replacement string.
 *
 *-------------------------------------------------------------------------
 */
#include "redact_internal.h"

#include "redact.h"

#include "utils/builtins.h"
#include "utils/numeric.h"

/*
 * Numbers shorter than this many characters are not looked at: no built-in
 * pattern matches fewer than 13 digits, and numeric_out on every small
 * number of a large result would cost more than it could ever find.
 */
#define REDACT_MIN_NUMBER_CHARS 13

/*
 * Redact one scalar in place.  Strings are redacted; numbers are rendered as
 * text and, if redaction changes that text, become the redacted string.
 */
static void
redact_jsonb_scalar(RedactSession *session, JsonbValue *v)
{
	const char *text;
	size_t		len;
	size_t		out_len;
	char	   *out;

	if (v->type == jbvString)
	{
		text = v->val.string.val;
		len = v->val.string.len;
	}
	else if (v->type == jbvNumeric)
	{
		text = DatumGetCString(DirectFunctionCall1(numeric_out,
												   NumericGetDatum(v->val.numeric)));
		len = strlen(text);
		if (len < REDACT_MIN_NUMBER_CHARS)
			return;
	}
	else
		return;

	out = redact_text(session, text, len, &out_len);
	if (out_len == len && memcmp(out, text, len) == 0)
		return;					/* nothing matched: keep the value as it was */
	v->type = jbvString;
	v->val.string.val = out;
	v->val.string.len = (int) out_len;
}

/* See redact.h. */
Jsonb *
redact_jsonb(RedactSession *session, Jsonb *value)
{
	JsonbIterator *it = JsonbIteratorInit(&value->root);
	JsonbParseState *state = NULL;
	JsonbValue	v;
	JsonbValue *res = NULL;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		switch (tok)
		{
			case WJB_KEY:
			case WJB_VALUE:
			case WJB_ELEM:
				redact_jsonb_scalar(session, &v);
				/* a key must stay a string, which redaction guarantees */
				res = pushJsonbValue(&state, tok, &v);
				break;
			case WJB_BEGIN_ARRAY:
				/* keep a top-level scalar a scalar */
				res = pushJsonbValue(&state, tok, v.val.array.rawScalar ? &v : NULL);
				break;
			default:
				res = pushJsonbValue(&state, tok, NULL);
				break;
		}
	}
	return JsonbValueToJsonb(res);
}
