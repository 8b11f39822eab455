/*-------------------------------------------------------------------------
 *
 * codeexec.c
 *	  Library entry point: _PG_init defines the codeexec.* GUCs.  Nothing
 *	  here needs shared memory, so the library works both from
 *	  shared_preload_libraries and when loaded on first use.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "codeexec.h"
#include "forkserver.h"
#include "imports.h"
#include "quota.h"
#include "recorder.h"

PG_MODULE_MAGIC;

#ifndef CODEEXEC_HELPER_PATH
#define CODEEXEC_HELPER_PATH "codeexec-helper"
#endif

/* The allowlist of SPEC section 5 (numpy/pandas only when listed). */
#define CODEEXEC_DEFAULT_IMPORTS \
	"math, cmath, json, re, datetime, collections, itertools, functools, " \
	"statistics, decimal, fractions, random, string, textwrap, heapq, " \
	"bisect, copy, dataclasses, enum, typing, base64, hashlib, csv, io, " \
	"pprint, difflib, calendar, unicodedata"

int			codeexec_timeout_ms = 5000;
int			codeexec_memory_mb = 256;
int			codeexec_max_output_bytes = 1024 * 1024;
int			codeexec_timeout_ms_limit = 60000;
int			codeexec_memory_mb_limit = 1024;
int			codeexec_max_output_bytes_limit = 16 * 1024 * 1024;
int			codeexec_max_code_bytes = 256 * 1024;
int			codeexec_max_context_bytes = 1024 * 1024;
char	   *codeexec_allowed_imports = NULL;
bool		codeexec_redact_enabled = true;
bool		codeexec_history = true;
bool		codeexec_require_isolation = true;
int			codeexec_spawn_mode = CODEEXEC_SPAWN_EXEC;
int			codeexec_max_concurrent = 8;
char	   *codeexec_helper_path = NULL;
char	   *codeexec_runsc_path = NULL;
int			codeexec_gvisor_start_ms = 5000;
bool		codeexec_unsafe_no_py_guards = false;

static const struct config_enum_entry codeexec_spawn_mode_options[] = {
	{"exec", CODEEXEC_SPAWN_EXEC, false},
	{"forkserver", CODEEXEC_SPAWN_FORKSERVER, false},
	{"gvisor", CODEEXEC_SPAWN_GVISOR, false},
	{NULL, 0, false}
};

/*
 * The name of a spawn mode as stored in codeexec_execution.sandbox_mode.
 */
const char *
codeexec_spawn_mode_name(int mode)
{
	for (int i = 0; codeexec_spawn_mode_options[i].name != NULL; i++)
		if (codeexec_spawn_mode_options[i].val == mode)
			return codeexec_spawn_mode_options[i].name;
	return "unknown";
}

/*
 * check hook for codeexec.allowed_imports: a comma-separated list of
 * dotted module names (the wire format separates them with newlines, so a
 * name may not contain anything else).
 */
static bool
codeexec_check_allowed_imports(char **newval, void **extra, GucSource source)
{
	const char *bad = imports_find_invalid(*newval);

	if (bad != NULL)
	{
		GUC_check_errdetail("\"%s\" is not a module name.", bad);
		return false;
	}
	return true;
}

void		_PG_init(void);

/*
 * Define every GUC.  Defaults callers may change are PGC_USERSET; the
 * ceilings and every switch that weakens a protection are PGC_SUSET.
 */
void
_PG_init(void)
{
	DefineCustomIntVariable("codeexec.timeout_ms",
							"Default wall-clock limit of one execution.",
							NULL, &codeexec_timeout_ms, 5000, 1, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("codeexec.memory_mb",
							"Default address-space limit of one execution, in MB.",
							NULL, &codeexec_memory_mb, 256, 1, INT_MAX,
							PGC_USERSET, GUC_UNIT_MB, NULL, NULL, NULL);
	DefineCustomIntVariable("codeexec.max_output_bytes",
							"Default cap on each of stdout, stderr and error message.",
							NULL, &codeexec_max_output_bytes, 1024 * 1024, 1, INT_MAX,
							PGC_USERSET, GUC_UNIT_BYTE, NULL, NULL, NULL);

	DefineCustomIntVariable("codeexec.timeout_ms_limit",
							"Highest timeout_ms a caller may ask for.",
							NULL, &codeexec_timeout_ms_limit, 60000, 1, 24 * 3600 * 1000,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("codeexec.memory_mb_limit",
							"Highest memory_mb a caller may ask for.",
							NULL, &codeexec_memory_mb_limit, 1024, 16, 1024 * 1024,
							PGC_SUSET, GUC_UNIT_MB, NULL, NULL, NULL);
	DefineCustomIntVariable("codeexec.max_output_bytes_limit",
							"Highest max_output_bytes a caller may ask for.",
							NULL, &codeexec_max_output_bytes_limit, 16 * 1024 * 1024,
							1, 64 * 1024 * 1024,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("codeexec.max_code_bytes",
							"Largest code accepted by codeexec_run and codeexec_validate.",
							NULL, &codeexec_max_code_bytes, 256 * 1024, 1, 64 * 1024 * 1024,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("codeexec.max_context_bytes",
							"Largest context (as JSON text) accepted by codeexec_run.",
							NULL, &codeexec_max_context_bytes, 1024 * 1024, 2, 128 * 1024 * 1024,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomStringVariable("codeexec.allowed_imports",
							   "Modules user code may import (comma-separated); a per-call list must be a subset.",
							   NULL, &codeexec_allowed_imports, CODEEXEC_DEFAULT_IMPORTS,
							   PGC_SUSET, GUC_LIST_INPUT,
							   codeexec_check_allowed_imports, NULL, NULL);
	DefineCustomBoolVariable("codeexec.redact",
							 "Redact secrets from output, results and recorded context.",
							 NULL, &codeexec_redact_enabled, true,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("codeexec.history",
							 "Record every call in codeexec_execution.",
							 NULL, &codeexec_history, true,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("codeexec.require_isolation",
							 "Refuse to run code when an OS isolation layer cannot be set up.",
							 NULL, &codeexec_require_isolation, true,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	/* forkserver needs the worker, which only exists when preloaded */
	DefineCustomEnumVariable("codeexec.spawn_mode",
							 "How the sandbox helper is started.",
							 NULL, &codeexec_spawn_mode,
							 process_shared_preload_libraries_in_progress ?
							 CODEEXEC_SPAWN_FORKSERVER : CODEEXEC_SPAWN_EXEC,
							 codeexec_spawn_mode_options,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("codeexec.max_concurrent",
							"Cluster-wide number of executions that may run at once (0: no cap).",
							NULL, &codeexec_max_concurrent, 8, 0, 1024,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("codeexec.helper_path",
							   "Path of the codeexec-helper executable.",
							   NULL, &codeexec_helper_path, CODEEXEC_HELPER_PATH,
							   PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("codeexec.runsc_path",
							   "Path of gVisor's runsc, for spawn mode gvisor.",
							   NULL, &codeexec_runsc_path, "/usr/bin/runsc",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("codeexec.gvisor_start_ms",
							"Wall-clock time a call gets on top of its timeout in spawn mode gvisor, for runsc to start the container.",
							"The code's own CPU limit is unchanged.",
							&codeexec_gvisor_start_ms, 5000, 0, 60000,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomBoolVariable("codeexec.unsafe_no_py_guards",
							 "Test switch: skip the AST rules, restricted builtins and import hook.",
							 "Only for testing the OS isolation layers on their own.",
							 &codeexec_unsafe_no_py_guards, false,
							 PGC_SUSET, GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);

	quota_define_gucs();
	recorder_define_gucs();
	forkserver_register();

	MarkGUCPrefixReserved("codeexec");

	/* History and quotas are committed by the recorder worker. */
	if (process_shared_preload_libraries_in_progress)
		recorder_init();
}
