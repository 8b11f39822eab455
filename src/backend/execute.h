/*-------------------------------------------------------------------------
 *
 * execute.h
 *	  One round trip to the helper, shared by codeexec_run and
 *	  codeexec_validate: build the request frame, run the helper (spawn.c),
 *	  and turn whatever came back into a CallOutcome of PostgreSQL values
 *	  (outcome.c).  Backend only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_EXECUTE_H
#define CODEEXEC_EXECUTE_H

#include "postgres.h"
#include "utils/jsonb.h"

/* Extra bytes the helper captures past max_output (redaction sees them). */
#define EXECUTE_OUTPUT_SLACK (64 * 1024)

typedef struct ExecParams
{
	const char *code;
	size_t		code_len;
	const char *context_json;	/* JSON object text */
	size_t		context_len;
	int32		timeout_ms;
	int32		memory_mb;
	int32		max_output_bytes;
	const char *allowed_imports;	/* names separated by '\n' */
	int64		flags;			/* WIRE_FLAG_* */
} ExecParams;

/* What one execution produced, as SQL values (NULL pointers: SQL NULL). */
typedef struct CallOutcome
{
	const char *status;			/* a user-visible status name */
	char	   *stdout_text;
	char	   *stderr_text;
	Jsonb	   *result;
	char	   *error_type;
	char	   *error_message;
	Jsonb	   *violations;
	Jsonb	   *isolation;		/* the layer report (WIRE_FLAG_REPORT_ISOLATION) */
	bool		output_truncated;
	double		execution_time_seconds;
	double		cpu_time_seconds;	/* < 0: unknown */
	int64		peak_memory_kb; /* < 0: unknown */
} CallOutcome;

/*
 * Run the helper once.  Code failures and helper misbehaviour become a
 * status in *out; server-side failures (helper missing, sandbox_error,
 * helper_error) and interrupts are ERRORs.
 */
extern void execute_helper(const ExecParams *params, CallOutcome *out);

/* execute_helper inside a codeexec.max_concurrent slot (slots.h). */
extern void execute_helper_in_slot(const ExecParams *params, CallOutcome *out);

#endif
