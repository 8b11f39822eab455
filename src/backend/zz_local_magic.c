/* local test only, never committed: the backend branch owns PG_MODULE_MAGIC */
#include "postgres.h"
#include "fmgr.h"
PG_MODULE_MAGIC;
