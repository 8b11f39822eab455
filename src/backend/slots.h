/*-------------------------------------------------------------------------
 *
 * slots.h
 *	  The cluster-wide cap codeexec.max_concurrent without shared memory:
 *	  N session-level advisory locks in a private lock-tag space.  Backend
 *	  only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_SLOTS_H
#define CODEEXEC_SLOTS_H

#include "postgres.h"

/* Take a free slot, waiting (interruptibly) if all are busy; -1: no cap. */
extern int	slots_acquire(void);

/* Give back what slots_acquire returned (no-op for -1). */
extern void slots_release(int slot);

#endif
