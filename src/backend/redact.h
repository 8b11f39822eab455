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
