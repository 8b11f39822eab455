/*
 * embedded_py.h
 *	  The helper's Python modules, compiled into the executable by
 *	  embed_py.py at build time (see Makefile).
 */
#ifndef CODEEXEC_EMBEDDED_PY_H
#define CODEEXEC_EMBEDDED_PY_H

typedef struct EmbeddedPy
{
	const char *name;			/* module name, e.g. "codeexec_validator" */
	const char *source;			/* NUL-terminated source text */
	int			size;
} EmbeddedPy;

extern const EmbeddedPy codeexec_embedded_py[];

#endif
