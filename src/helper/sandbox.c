/*-------------------------------------------------------------------------
 *
 * sandbox.c
 *	  Placeholder for the OS isolation layers (the isolation issue replaces
 *	  this with namespaces, Landlock and seccomp).  Reports every layer as
 *	  inactive, so a server that requires isolation refuses to run.
 *
 *-------------------------------------------------------------------------
 */
#include "sandbox.h"

int
sandbox_prepare(int require, char *errbuf, size_t errlen)
{
	return 0;
}

int
sandbox_lock(int require, char *errbuf, size_t errlen)
{
	return 0;
}

const char *
sandbox_report_json(void)
{
	return "[]";
}
