/*-------------------------------------------------------------------------
 *
 * spawn_gvisor.h
 *	  gvisor spawn mode: the helper inside gVisor's runsc (see
 *	  spawn_gvisor.c).  Backend only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_SPAWN_GVISOR_H
#define CODEEXEC_SPAWN_GVISOR_H

#include "spawn.h"

/*
 * spawn_run() for the helper at codeexec.helper_path run by runsc at
 * codeexec.runsc_path; the same contract.
 */
extern void gvisor_run(const char *request, size_t request_len, int timeout_ms,
					   size_t response_cap, SpawnResult *result);

#endif
