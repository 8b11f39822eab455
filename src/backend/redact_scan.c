/*-------------------------------------------------------------------------
 *
 * redact_scan.c
 *	  The redaction pass over one text: finds the non-overlapping matches of
 *	  every pattern of a set, leftmost first, and writes the text with each
 *	  match replaced.
 *
 * Design (docs/redaction.md explains the choice): each pattern keeps its
 * next match, found by its own JIT-compiled matcher searching forward from
 * the cursor.  The earliest pending match wins (ties: the longer one, then
 * the lower id); the text up to it is copied, the replacement appended, the
 * cursor moved past it, and only the patterns whose pending match started
 * before the new cursor search again, from the cursor.  The cursor only moves
 * forward, so each pattern's matcher walks the text once (plus the short
 * re-searches after overlaps): one logical pass, with each pattern still
 * getting PCRE2's own start-of-match optimisations (literal prefixes).
 *
 * A pattern may name a group `secret`: then only that group is replaced and
 * the rest of the match (e.g. the scheme and user of a URL) is kept.
 *
 *-------------------------------------------------------------------------
 */
#include "redact_internal.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "mb/pg_wchar.h"

/* A pattern's next match: [start, end) matched, [rstart, rend) replaced. */
typedef struct RedactPending
{
	size_t		start;
	size_t		end;
	size_t		rstart;
	size_t		rend;
	bool		found;			/* false: no (further) match in the text */
} RedactPending;

/* Offset of the character after the one at pos (UTF-8 aware if utf). */
static size_t
redact_next_char(const char *text, size_t len, size_t pos, bool utf)
{
	pos++;
	if (utf)
		while (pos < len && (((unsigned char) text[pos]) & 0xC0) == 0x80)
			pos++;
	return pos;
}

/*
 * Search pattern pat in text from offset `from`; store its next acceptable
 * match in *pend.  Empty matches and matches its validator rejects are
 * skipped by resuming one character after their start.  Returns false on a
 * PCRE2 error (match or JIT-stack limit): the caller fails closed.
 */
static bool
redact_search(RedactPatternSet *set, RedactPattern *pat, const char *text,
			  size_t len, size_t from, RedactPending *pend)
{
	uint32		options = set->utf ? PCRE2_NO_UTF_CHECK : 0;

	pend->found = false;
	while (from <= len)
	{
		int			rc = pcre2_match(pat->code, (PCRE2_SPTR) text, len, from,
									 options, pat->match_data, set->match_context);
		PCRE2_SIZE *ov;

		if (rc == PCRE2_ERROR_NOMATCH)
			return true;
		if (rc < 0)
			return false;
		ov = pcre2_get_ovector_pointer(pat->match_data);
		if (ov[1] <= ov[0])
		{
			/* empty match (or \K oddity): nothing to hide here, move on */
			if (ov[0] >= len)
				return true;
			from = redact_next_char(text, len, Max(ov[0], from), set->utf);
			continue;
		}
		pend->start = ov[0];
		pend->end = ov[1];
		pend->rstart = ov[0];
		pend->rend = ov[1];
		if (pat->secret_group > 0 && rc > pat->secret_group &&
			ov[2 * pat->secret_group] != PCRE2_UNSET &&
			ov[2 * pat->secret_group + 1] > ov[2 * pat->secret_group])
		{
			pend->rstart = ov[2 * pat->secret_group];
			pend->rend = ov[2 * pat->secret_group + 1];
		}
		if (pat->validator == REDACT_VALIDATOR_LUHN &&
			!redact_luhn_valid(text + pend->rstart, pend->rend - pend->rstart))
		{
			from = redact_next_char(text, len, ov[0], set->utf);
			continue;
		}
		pend->found = true;
		return true;
	}
	return true;
}

/* True if a should be taken before b (both found). */
static bool
redact_pending_before(const RedactPending *a, const RedactPending *b)
{
	if (a->start != b->start)
		return a->start < b->start;
	return a->end > b->end;
}

/*
 * Redact text[0..len) with every pattern of set, adding hits to counts[]
 * (one slot per pattern).  text must be valid UTF-8 when set->utf (the
 * caller checks).  Returns a palloc'd NUL-terminated copy and its length.
 *
 * Only the redaction of the text's first `limit` bytes is produced (pass
 * len for all of it): a match that starts before limit is replaced whole,
 * however far past limit it reaches; copying stops at limit (backed up to a
 * character start) or at the end of such a match; matches starting at or
 * after limit are neither replaced nor counted.  The whole text is still
 * searched, so a match is judged on everything after it too (lookaheads,
 * greedy tails).  *consumed is set to the offset where the input stopped.
 *
 * If PCRE2 reports an error (a pattern hit its match limit), the rest of the
 * text from the cursor is replaced by that pattern's replacement and a
 * WARNING is raised: redaction fails closed rather than letting a secret
 * through.
 */
char *
redact_scan(RedactPatternSet *set, int *counts, const char *text, size_t len,
			size_t limit, size_t *out_len, size_t *consumed)
{
	StringInfoData out;
	RedactPending *pend;
	size_t		cursor = 0;
	int			failed = -1;

	initStringInfo(&out);
	if (limit >= len)
		limit = len;
	else if (set->utf)
		while (limit > 0 && (((unsigned char) text[limit]) & 0xC0) == 0x80)
			limit--;
	if (set->npatterns == 0 || len == 0)
	{
		appendBinaryStringInfo(&out, text, limit);
		*out_len = out.len;
		*consumed = limit;
		return out.data;
	}
	pend = palloc(sizeof(RedactPending) * set->npatterns);
	for (int i = 0; i < set->npatterns && failed < 0; i++)
		if (!redact_search(set, &set->patterns[i], text, len, 0, &pend[i]))
			failed = i;

	while (failed < 0)
	{
		int			best = -1;
		RedactPattern *pat;

		for (int i = 0; i < set->npatterns; i++)
			if (pend[i].found &&
				(best < 0 || redact_pending_before(&pend[i], &pend[best])))
				best = i;
		if (best < 0 || pend[best].start >= limit)
			break;
		CHECK_FOR_INTERRUPTS();
		pat = &set->patterns[best];
		appendBinaryStringInfo(&out, text + cursor, pend[best].rstart - cursor);
		appendBinaryStringInfo(&out, pat->replacement, pat->replacement_len);
		counts[best]++;
		cursor = pend[best].rend;

		/* patterns whose next match began before the cursor look again */
		for (int i = 0; i < set->npatterns && failed < 0; i++)
			if (pend[i].found && pend[i].start < cursor &&
				!redact_search(set, &set->patterns[i], text, len, cursor, &pend[i]))
				failed = i;
	}

	if (failed >= 0)
	{
		RedactPattern *pat = &set->patterns[failed];

		ereport(WARNING,
				(errmsg("redaction pattern \"%s\" failed on this output; the rest of it was withheld",
						pat->name),
				 errdetail("PCRE2 stopped with an error (match or stack limit)."),
				 errhint("Simplify the pattern in codeexec_redaction_pattern.")));
		appendBinaryStringInfo(&out, pat->replacement, pat->replacement_len);
		counts[failed]++;
		cursor = len;
	}
	if (cursor < limit)
	{
		appendBinaryStringInfo(&out, text + cursor, limit - cursor);
		cursor = limit;
	}
	pfree(pend);
	*out_len = out.len;
	*consumed = cursor;
	return out.data;
}
