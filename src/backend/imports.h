/*-------------------------------------------------------------------------
 *
 * imports.h
 *	  The import allowlist: parsing codeexec.allowed_imports, checking a
 *	  per-call list against it, and encoding the result for the wire.
 *	  Backend only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_IMPORTS_H
#define CODEEXEC_IMPORTS_H

#include "postgres.h"
#include "utils/array.h"

/* First entry of a comma-separated list that is not a module name, or NULL. */
extern char *imports_find_invalid(const char *list);

/*
 * The effective allowlist as the wire wants it (names separated by '\n'):
 * the GUC list when per_call is NULL, otherwise per_call, which must be a
 * subset of the GUC list (ERROR otherwise).
 */
extern char *imports_resolve(ArrayType *per_call);

#endif
