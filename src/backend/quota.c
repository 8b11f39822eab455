/*-------------------------------------------------------------------------
 *
 * quota.c
 *	  Placeholder for per-user quotas (the quotas issue replaces this):
 *	  admits every call and charges nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "quota.h"

bool
quota_admit(bool has_user_id, int64 user_id)
{
	return true;
}

void
quota_charge(bool has_user_id, int64 user_id, double cpu_seconds)
{
}
