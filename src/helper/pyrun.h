/*-------------------------------------------------------------------------
 *
 * pyrun.h
 *	  The helper's embedded CPython: start-up with an isolated
 *	  configuration, loading the embedded modules, and the two calls into
 *	  codeexec_runner (prepare before the sandbox lock, run after it).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_HELPER_PYRUN_H
#define CODEEXEC_HELPER_PYRUN_H

#include <stddef.h>

#include "request.h"
#include "response.h"

/* pyrun_start() outcomes */
#define PYRUN_OK			0
#define PYRUN_FAILED		(-1)	/* CPython or our modules failed */
#define PYRUN_NO_MEMORY		(-2)	/* failed for lack of address space */

/*
 * Initialise CPython (isolated config, home CODEEXEC_PYTHON_HOME) and
 * execute the embedded modules from memory.  Returns a PYRUN_* code with a
 * message in errbuf on failure.
 */
extern int	pyrun_start(char *errbuf, size_t errlen);

/*
 * Pre-import the allowlist and its lazy dependencies and, when `guards`,
 * install the import guard.  Must run before sandbox_lock().
 */
extern int	pyrun_prepare(const HelperRequest *req, int guards,
						  char *errbuf, size_t errlen);

/*
 * Fork-server child: narrow the allowlist pyrun_prepare() installed (the
 * server's superset) to the request's.  Modules outside it stay loaded
 * but user code cannot reach them.
 */
extern int	pyrun_narrow(const HelperRequest *req, char *errbuf, size_t errlen);

/*
 * Run the allowlisted libraries' first-use paths again (the fork server's
 * prewarm probe; pyrun_prepare ran them once).  Errors are ignored.
 */
extern void pyrun_rewarm(void);

/*
 * Fork server, after its warm-up runs: build the module views user code
 * gets on import and drop the last run's leftovers, so that children
 * inherit the one and need not free the other.
 */
extern int	pyrun_server_ready(char *errbuf, size_t errlen);

/*
 * Validate and/or run the request's code and fill *res (its text fields
 * point into Python objects kept alive until exit).  Returns a PYRUN_*
 * code; on PYRUN_NO_MEMORY the caller reports memory_limit.
 */
extern int	pyrun_execute(const HelperRequest *req, HelperResponse *res,
						  char *errbuf, size_t errlen);

#endif
