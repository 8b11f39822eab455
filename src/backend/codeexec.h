/*-------------------------------------------------------------------------
 *
 * codeexec.h
 *	  Configuration of the backend side: the codeexec.* GUC variables
 *	  defined in codeexec.c and read by the rest of the library.  Backend
 *	  only.
 *
 * Naming: a user-settable default `codeexec.X` has a superuser-only
 * ceiling `codeexec.X_limit`; a per-call argument or a default above the
 * ceiling is an ERROR.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_H
#define CODEEXEC_H

#include "postgres.h"

typedef enum CodeexecSpawnMode
{
	CODEEXEC_SPAWN_EXEC,
	CODEEXEC_SPAWN_FORKSERVER,
	CODEEXEC_SPAWN_GVISOR
} CodeexecSpawnMode;

/* user-settable defaults */
extern int	codeexec_timeout_ms;
extern int	codeexec_memory_mb;
extern int	codeexec_max_output_bytes;

/* superuser-only ceilings and switches */
extern int	codeexec_timeout_ms_limit;
extern int	codeexec_memory_mb_limit;
extern int	codeexec_max_output_bytes_limit;
extern int	codeexec_max_code_bytes;
extern int	codeexec_max_context_bytes;
extern char *codeexec_allowed_imports;
extern bool codeexec_redact_enabled;
extern bool codeexec_history;
extern bool codeexec_require_isolation;
extern int	codeexec_spawn_mode;
extern int	codeexec_max_concurrent;
extern char *codeexec_helper_path;
extern char *codeexec_runsc_path;
extern int	codeexec_gvisor_start_ms;
extern bool codeexec_unsafe_no_py_guards;

extern const char *codeexec_spawn_mode_name(int mode);

/* extension_schema.c: the extension's schema here, or InvalidOid. */
extern Oid	codeexec_extension_schema(void);

#endif
