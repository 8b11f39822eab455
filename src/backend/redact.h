/*-------------------------------------------------------------------------
 *
 * redact.h
 *	  Secret redaction of helper output (pipeline step 4), driven by the
 *	  patterns in codeexec_redaction_pattern.  Backend only.
 *
 * A RedactSession lives for one codeexec_run call: it counts hits per
 * pattern name across every text it is given, so the caller can report them
 * in `redactions`.  All memory is palloc'd in the current memory context.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_REDACT_H
#define CODEEXEC_REDACT_H

#include "postgres.h"
#include "utils/jsonb.h"

typedef struct RedactSession RedactSession;

/*
 * Start a session (loads/compiles patterns from the cache as needed).  The
 * session pins the compiled patterns until CurrentMemoryContext is reset or
 * deleted, so create it in a per-call context, not a permanent one.
 */
extern RedactSession *redact_begin(void);

/*
 * Return a redacted copy of text[0..len) (palloc'd, NUL-terminated) and set
 * *out_len.  Counts hits into the session.
 */
extern char *redact_text(RedactSession *session, const char *text, size_t len,
						 size_t *out_len);

/*
 * Like redact_text, for a text that will be cut to limit bytes: returns the
 * redaction of text[0..limit) only, where a match that starts before limit
 * is replaced whole (the search sees all of text) and matches that start at
 * or after limit are dropped uncounted.  No byte past limit is returned
 * except through such a match, so a secret cut short at the end of text
 * (where patterns may no longer match it) can never move into the kept part
 * because an earlier replacement was shorter than its secret.  *cut is set
 * when some of text was dropped.  The result may still be longer than limit
 * (a replacement longer than its secret): the caller truncates it.
 */
extern char *redact_text_prefix(RedactSession *session, const char *text,
								size_t len, size_t limit, size_t *out_len,
								bool *cut);

/*
 * Return a copy of a jsonb value with every string redacted, object keys
 * included, and every number whose digits a pattern matches (a card number
 * stored as a JSON number) replaced by the replacement string.  Keys that
 * become equal after redaction collapse to one (the last value wins).
 */
extern Jsonb *redact_jsonb(RedactSession *session, Jsonb *value);

/* Hits so far as a jsonb object {"pattern_name": count, ...}; {} if none. */
extern Jsonb *redact_counts(RedactSession *session);

/*
 * Whether a codeexec_run call redacts: arg/arg_isnull is its `redact`
 * argument.  Off if codeexec.redact is off; ERROR if a non-superuser passes
 * false while codeexec.redact is on.
 */
extern bool redact_resolve_enabled(bool arg_isnull, bool arg);

#endif
