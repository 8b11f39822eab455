/*-------------------------------------------------------------------------
 *
 * redact.c
 *	  Secret redaction sessions (the API in redact.h): one per codeexec_run
 *	  call, counting hits per pattern across every text it redacts, plus the
 *	  policy that decides whether a call may switch redaction off.
 *
 * A session pins the compiled pattern set it started with and unpins it from
 * a reset callback on the memory context it was created in, so the pin is
 * released however the call ends (return or ERROR).
 *
 *-------------------------------------------------------------------------
 */
#include "redact_internal.h"

#include "redact.h"
#include "codeexec.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

struct RedactSession
{
	RedactPatternSet *set;
	int		   *counts;			/* hits, one slot per set->patterns[] */
	MemoryContextCallback unpin;
};

static void
redact_session_unpin(void *arg)
{
	RedactSession *session = (RedactSession *) arg;

	if (session->set != NULL)
		redact_patterns_unpin(session->set);
	session->set = NULL;
}

/*
 * Start a session in CurrentMemoryContext: pins the current compiled
 * patterns (loading them if the table changed) until that context goes.
 */
RedactSession *
redact_begin(void)
{
	RedactSession *session = palloc0(sizeof(RedactSession));

	/* callback first, so an ERROR after pinning cannot leak the pin */
	session->unpin.func = redact_session_unpin;
	session->unpin.arg = session;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &session->unpin);
	session->set = redact_patterns_pin();
	session->counts = palloc0(sizeof(int) * Max(session->set->npatterns, 1));
	return session;
}

/*
 * Length of the longest valid UTF-8 sequence at s[0..len), 0 if s starts
 * with an invalid one.  Stricter than the lead byte alone: overlong forms,
 * surrogates and code points above U+10FFFF are invalid, as for PCRE2.
 */
static int
redact_utf8_seqlen(const unsigned char *s, size_t len)
{
	int			n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if ((size_t) n > len)
		return 0;
	return pg_utf8_islegal(s, n) ? n : 0;
}

/*
 * A copy of text[0..len) with every byte that does not start a valid UTF-8
 * sequence replaced by U+FFFD, so PCRE2 (in UTF mode) never sees invalid
 * input.  Called only when the fast check found a problem.
 */
static char *
redact_utf8_sanitize(const char *text, size_t len, size_t *out_len)
{
	StringInfoData buf;
	size_t		i = 0;

	initStringInfo(&buf);
	while (i < len)
	{
		int			n = redact_utf8_seqlen((const unsigned char *) text + i, len - i);

		if (n > 0)
		{
			appendBinaryStringInfo(&buf, text + i, n);
			i += n;
		}
		else
		{
			appendBinaryStringInfo(&buf, "\xEF\xBF\xBD", 3);
			i++;
		}
	}
	*out_len = buf.len;
	return buf.data;
}

/* True if text[0..len) is valid UTF-8 (NUL bytes allowed). */
static bool
redact_utf8_valid(const char *text, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		/* pg_encoding_verifymbstr stops at NUL; step over those ourselves */
		int			ok = pg_encoding_verifymbstr(PG_UTF8, text + i,
												 (int) Min(len - i, (size_t) INT_MAX));

		i += ok;
		if (i < len)
		{
			if (text[i] != '\0')
				return false;
			i++;
		}
	}
	return true;
}

/*
 * Redacted copy of the first limit bytes of text[0..len); see
 * redact_text_prefix in redact.h.  In a UTF-8 database invalid sequences are
 * first replaced with U+FFFD (the input is then known valid and PCRE2 is told
 * to skip its own check; limit then counts bytes of the cleaned copy).
 */
char *
redact_text_prefix(RedactSession *session, const char *text, size_t len,
				   size_t limit, size_t *out_len, bool *cut)
{
	char	   *result;
	size_t		consumed;

	if (len > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("text to redact is too long")));
	if (session->set->utf && !redact_utf8_valid(text, len))
	{
		size_t		clean_len;
		char	   *clean = redact_utf8_sanitize(text, len, &clean_len);

		result = redact_scan(session->set, session->counts, clean, clean_len,
							 limit, out_len, &consumed);
		*cut = consumed < clean_len;
		pfree(clean);
		return result;
	}
	result = redact_scan(session->set, session->counts, text, len, limit,
						 out_len, &consumed);
	*cut = consumed < len;
	return result;
}

/* Redacted copy of all of text[0..len); see redact.h. */
char *
redact_text(RedactSession *session, const char *text, size_t len, size_t *out_len)
{
	bool		cut;

	/* SIZE_MAX, not len: a sanitized copy can be longer than text */
	return redact_text_prefix(session, text, len, SIZE_MAX, out_len, &cut);
}

/* Hits so far as {"pattern_name": count}; see redact.h. */
Jsonb *
redact_counts(RedactSession *session)
{
	JsonbParseState *state = NULL;
	JsonbValue *res;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < session->set->npatterns; i++)
	{
		JsonbValue	k,
					v;

		if (session->counts[i] == 0)
			continue;
		k.type = jbvString;
		k.val.string.val = session->set->patterns[i].name;
		k.val.string.len = strlen(k.val.string.val);
		pushJsonbValue(&state, WJB_KEY, &k);
		v.type = jbvNumeric;
		v.val.numeric = int64_to_numeric(session->counts[i]);
		pushJsonbValue(&state, WJB_VALUE, &v);
	}
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

/*
 * Decide whether a codeexec_run call redacts, given its `redact` argument
 * (arg_isnull: SQL NULL, meaning "the default") and the superuser-only GUC
 * codeexec.redact.  Redaction is on only if both the GUC and the argument
 * allow it.  Switching it off for one call (redact => false) while the GUC
 * is on weakens a superuser's policy, so only a superuser may: anyone else
 * gets an ERROR.
 */
bool
redact_resolve_enabled(bool arg_isnull, bool arg)
{
	if (!codeexec_redact_enabled)
		return false;
	if (arg_isnull || arg)
		return true;
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to turn off secret redaction"),
				 errdetail("codeexec.redact is on, and only a superuser may pass redact => false."),
				 errhint("Omit the redact argument, or ask a superuser to run the call.")));
	return false;
}
