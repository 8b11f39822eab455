/*-------------------------------------------------------------------------
 *
 * output.h
 *	  Output validation (pipeline step 4): redaction, then truncation to
 *	  max_output_bytes.  Backend only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_OUTPUT_H
#define CODEEXEC_OUTPUT_H

#include "execute.h"
#include "redact.h"

/*
 * Redact (when session is not NULL) stdout, stderr, error_message and the
 * result, then truncate the three texts to max_output bytes at a UTF-8
 * boundary; output_truncated becomes true if anything was cut here.
 */
extern void output_apply(CallOutcome *out, RedactSession *session, int max_output);

/* Cut s to at most max bytes without splitting a UTF-8 character. */
extern bool output_truncate_utf8(char *s, size_t max);

#endif
