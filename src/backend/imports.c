/*-------------------------------------------------------------------------
 *
 * imports.c
 *	  The import allowlist (see imports.h).  codeexec.allowed_imports is a
 *	  superuser-set list; a caller may narrow it per call, never widen it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "codeexec.h"
#include "imports.h"

/*
 * True if name is a dotted Python module name of ASCII identifiers
 * ("a", "a.b_c"); anything else could smuggle a separator onto the wire.
 */
static bool
imports_is_module_name(const char *name)
{
	bool		at_start = true;

	if (*name == '\0' || strlen(name) > 200)
		return false;
	for (const char *p = name; *p; p++)
	{
		if (*p == '.')
		{
			if (at_start)
				return false;
			at_start = true;
		}
		else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
				 (!at_start && *p >= '0' && *p <= '9'))
			at_start = false;
		else
			return false;
	}
	return !at_start;
}

/*
 * Split a comma-separated list into trimmed, palloc'd entries (empty
 * entries are kept so the caller can reject them).
 */
static List *
imports_split(const char *list)
{
	List	   *out = NIL;
	const char *p = list;

	if (list == NULL)
		return NIL;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return NIL;
	for (;;)
	{
		const char *start;
		const char *end;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
			end--;
		out = lappend(out, pnstrdup(start, end - start));
		if (*p == '\0')
			break;
		p++;
	}
	return out;
}

char *
imports_find_invalid(const char *list)
{
	ListCell   *lc;

	foreach(lc, imports_split(list))
	{
		char	   *name = lfirst(lc);

		if (!imports_is_module_name(name))
			return name;
	}
	return NULL;
}

/* True if name is in the list of strings. */
static bool
imports_contains(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp(lfirst(lc), name) == 0)
			return true;
	return false;
}

char *
imports_resolve(ArrayType *per_call)
{
	List	   *allowed = imports_split(codeexec_allowed_imports);
	StringInfoData out;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	ListCell   *lc;

	initStringInfo(&out);
	if (per_call == NULL)
	{
		foreach(lc, allowed)
		{
			if (out.len > 0)
				appendStringInfoChar(&out, '\n');
			appendStringInfoString(&out, lfirst(lc));
		}
		return out.data;
	}

	if (ARR_NDIM(per_call) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("allowed_imports must be a one-dimensional array")));
	deconstruct_array(per_call, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	for (int i = 0; i < nelems; i++)
	{
		char	   *name;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("allowed_imports must not contain NULL")));
		name = TextDatumGetCString(elems[i]);
		if (!imports_is_module_name(name))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" is not a module name", name),
					 errdetail("Module names are dotted Python identifiers such as \"math\" or \"os.path\".")));
		if (!imports_contains(allowed, name))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("module \"%s\" is not in codeexec.allowed_imports", name),
					 errdetail("A per-call allowed_imports list may only narrow the server's list."),
					 errhint("A superuser can add the module to codeexec.allowed_imports.")));
		if (out.len > 0)
			appendStringInfoChar(&out, '\n');
		appendStringInfoString(&out, name);
	}
	return out.data;
}
