/*-------------------------------------------------------------------------
 *
 * outcome.h
 *	  Interpreting a finished helper run (the PostgreSQL-specific step after
 *	  response.c's PG-free decoding): exit status, deadline, response
 *	  fields, UTF-8 and JSON checks, conversion to text and jsonb.  Backend
 *	  only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_OUTCOME_H
#define CODEEXEC_OUTCOME_H

#include "execute.h"
#include "spawn.h"

extern void outcome_from_spawn(const SpawnResult *sr, const ExecParams *params,
							   CallOutcome *out);

/*
 * The helper's (or runsc's) diagnostics as palloc'd text safe for a message:
 * invalid UTF-8 and control characters other than newline and tab become
 * '?', trailing space is dropped.
 */
extern char *outcome_diag_text(const SpawnResult *sr);

#endif
