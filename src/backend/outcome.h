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

#endif
