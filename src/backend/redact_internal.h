/*-------------------------------------------------------------------------
 *
 * redact_internal.h
 *	  Definitions shared by the redact*.c files only (not by the rest of the
 *	  backend, which sees redact.h).
 *
 * Ownership: a RedactPatternSet is the compiled form of the enabled rows of
 * codeexec_redaction_pattern.  redact_patterns.c owns the current set; a
 * RedactSession pins the set it started with (refcount), so a table change
 * in the middle of a call never frees patterns that are in use.  A stale set
 * is freed when its last pin goes.  Backends are single-threaded, so the
 * refcount needs no locking.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_REDACT_INTERNAL_H
#define CODEEXEC_REDACT_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "postgres.h"

/* Post-match checks a row may ask for (column `validator`). */
typedef enum RedactValidator
{
	REDACT_VALIDATOR_NONE,
	REDACT_VALIDATOR_LUHN
} RedactValidator;

typedef struct RedactPattern
{
	char	   *name;
	char	   *replacement;	/* final text, never NULL */
	size_t		replacement_len;
	RedactValidator validator;
	int			secret_group;	/* number of (?<secret>...), or -1 */
	pcre2_code *code;
	pcre2_match_data *match_data;
} RedactPattern;

typedef struct RedactPatternSet
{
	MemoryContext cxt;			/* holds this struct, names, replacements */
	int			refcount;		/* pins by sessions (+1 while current) */
	bool		utf;			/* compiled with PCRE2_UTF */
	int			npatterns;
	RedactPattern *patterns;	/* in id order: lower id wins ties */
	pcre2_match_context *match_context;
	pcre2_jit_stack *jit_stack;
} RedactPatternSet;

/* redact_patterns.c */
extern RedactPatternSet *redact_patterns_pin(void);
extern void redact_patterns_unpin(RedactPatternSet *set);
extern RedactValidator redact_validator_from_name(const char *name);
extern pcre2_code *redact_compile(const char *pattern, size_t len, bool utf,
								  char *errbuf, size_t errbuflen,
								  size_t *erroffset);

/* redact_luhn.c */
extern bool redact_luhn_valid(const char *digits, size_t len);

/* redact_scan.c */
extern char *redact_scan(RedactPatternSet *set, int *counts,
						 const char *text, size_t len, size_t limit,
						 size_t *out_len, size_t *consumed);

#endif
