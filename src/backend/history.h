/*-------------------------------------------------------------------------
 *
 * history.h
 *	  Recording one codeexec_execution row per call (pipeline step 5).
 *	  Backend only.  run.c fills an ExecRecord and calls history_record(),
 *	  which returns the new row's id.  How the row is written (a plain
 *	  insert in the caller's transaction, or through a background worker
 *	  that commits independently of it) is history.c's business.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_HISTORY_H
#define CODEEXEC_HISTORY_H

#include "postgres.h"
#include "utils/jsonb.h"

typedef struct ExecRecord
{
	bool		has_user_id;
	int64		user_id;
	const char *code;			/* as given (NUL-free, valid UTF-8) */
	Jsonb	   *context;		/* already redacted; never NULL */
	const char *status;			/* a user-visible status name */
	bool		success;
	const char *stdout_text;	/* NULL for SQL NULL */
	const char *stderr_text;
	Jsonb	   *result;			/* NULL for SQL NULL */
	const char *error_type;
	const char *error_message;
	Jsonb	   *violations;		/* NULL for SQL NULL */
	Jsonb	   *redactions;
	bool		output_truncated;
	double		execution_time_seconds;
	double		cpu_time_seconds;	/* < 0 for SQL NULL */
	int64		peak_memory_kb; /* < 0 for SQL NULL */
	int32		timeout_ms;
	int32		memory_mb;
	const char *sandbox_mode;	/* "exec", "forkserver", "gvisor" */
	const char *tag;			/* NULL for SQL NULL */
	double		charge_cpu_seconds; /* > 0: also charge this to user_id's
									 * quota, in the recorder's same
									 * transaction (history_charge) */
} ExecRecord;

extern int64 history_record(const ExecRecord *rec);

/*
 * Optional, before running: if the call then ends without history_record()
 * (backend killed, error escaping the caller), a 'cancelled' row is
 * committed from rec, and, for a call with a user, a charge of the CPU
 * history_charge() gave or, before that, of what the helper had used when
 * it was killed (spawn_killed_cpu_seconds).  history_record() may be
 * called from PG_CATCH inside HOLD_INTERRUPTS()/RESUME_INTERRUPTS() (it
 * uses no SPI).
 */
extern void history_begin(const ExecRecord *rec);

/*
 * After the run, with history on: the CPU time to charge to the user of
 * the call history_begin() started.  history_record() applies the charge
 * its record carries together with the row (one recorder round trip
 * instead of two); should the call end without history_record(), this
 * amount, instead of the killed helper's, goes with the 'cancelled' row.
 * No-op without a user; nothing is sent for a non-positive amount.
 */
extern void history_charge(double cpu_seconds);

#endif
