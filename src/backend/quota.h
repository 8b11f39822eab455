/*-------------------------------------------------------------------------
 *
 * quota.h
 *	  Per-user quota admission and accounting (pipeline step 1).  Backend
 *	  only.  quota_admit() checks and consumes one execution for the user
 *	  before anything runs; quota_charge() adds the CPU seconds used after.
 *	  A NULL user (has_user_id false) is never limited.  Both are committed
 *	  by the recorder worker (recorder.h), independently of the caller's
 *	  transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_QUOTA_H
#define CODEEXEC_QUOTA_H

#include "postgres.h"

#include "lib/stringinfo.h"

/* true: admitted (one execution consumed); false: over quota. */
extern bool quota_admit(bool has_user_id, int64 user_id);
extern void quota_charge(bool has_user_id, int64 user_id, double cpu_seconds);
extern bool quota_charge_payload(StringInfo buf, bool has_user_id, int64 user_id,
								 double cpu_seconds);

/*
 * A charge for user_id whose CPU seconds are filled in later by
 * quota_charge_set_cpu(), which writes them into the payload's bytes in
 * place (no allocation: it runs on the abort and exit paths, for a call
 * cut short before its charge was made: history.c).
 */
extern void quota_charge_payload_open(StringInfo buf, int64 user_id);
extern void quota_charge_set_cpu(char *payload, double cpu_seconds);

/* Defines the codeexec.default_* quota GUCs; _PG_init calls it. */
extern void quota_define_gucs(void);

#endif
