/*-------------------------------------------------------------------------
 *
 * execute.c
 *	  One round trip to the helper (see execute.h): encode the request with
 *	  wire.c, run the helper in the configured spawn mode, interpret the
 *	  result.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "codeexec.h"
#include "execute.h"
#include "forkserver.h"
#include "outcome.h"
#include "slots.h"
#include "spawn.h"
#include "spawn_gvisor.h"
#include "wire.h"

/* wire.c's allocator: palloc in the current context, huge allowed. */
static void *
execute_realloc(void *ptr, size_t size)
{
	if (ptr == NULL)
		return MemoryContextAllocHuge(CurrentMemoryContext, size);
	return repalloc_huge(ptr, size);
}

/*
 * The most response bytes we accept: four capped texts (stdout, stderr,
 * error message, result) with slack, violations bounded by the code size,
 * and a fixed allowance for the small fields.  Never above WIRE_MAX_FRAME.
 */
static size_t
execute_response_cap(const ExecParams *params)
{
	uint64		cap = 4 * ((uint64) params->max_output_bytes + EXECUTE_OUTPUT_SLACK) +
		8 * (uint64) params->code_len + 1024 * 1024;

	return (size_t) Min(cap, (uint64) WIRE_MAX_FRAME);
}

void
execute_helper(const ExecParams *params, CallOutcome *out)
{
	WireBuf		req;
	SpawnResult sr;

	wire_buf_init(&req, execute_realloc);
	wire_begin(&req, WIRE_REQUEST_MAGIC);
	wire_put_text(&req, WIRE_REQ_CODE, params->code, params->code_len);
	wire_put_text(&req, WIRE_REQ_CONTEXT_JSON, params->context_json, params->context_len);
	wire_put_int(&req, WIRE_REQ_TIMEOUT_MS, params->timeout_ms);
	wire_put_int(&req, WIRE_REQ_MEMORY_MB, params->memory_mb);
	wire_put_int(&req, WIRE_REQ_MAX_OUTPUT, params->max_output_bytes);
	wire_put_text(&req, WIRE_REQ_ALLOWED_IMPORTS, params->allowed_imports,
				  strlen(params->allowed_imports));
	wire_put_int(&req, WIRE_REQ_FLAGS, params->flags |
				 (codeexec_spawn_mode == CODEEXEC_SPAWN_GVISOR ? WIRE_FLAG_IN_GVISOR : 0));
	wire_put_int(&req, WIRE_REQ_OUTPUT_SLACK, EXECUTE_OUTPUT_SLACK);
	if (wire_finish(&req) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("codeexec request is too large"),
				 errdetail("A request frame may not exceed %u bytes.", WIRE_MAX_FRAME)));

	if (codeexec_spawn_mode == CODEEXEC_SPAWN_FORKSERVER)
		forkserver_run(req.data, req.len, params->timeout_ms,
					   execute_response_cap(params), &sr);
	else if (codeexec_spawn_mode == CODEEXEC_SPAWN_GVISOR)
		gvisor_run(req.data, req.len,
				   (int) Min((int64) params->timeout_ms + codeexec_gvisor_start_ms, PG_INT32_MAX),
				   execute_response_cap(params), &sr);
	else
	{
		char	   *argv[] = {codeexec_helper_path, NULL};
		SpawnProgram helper = {argv, SPAWN_HELPER_WHAT, SPAWN_HELPER_HINT};

		spawn_run(&helper, req.data, req.len, params->timeout_ms,
				  execute_response_cap(params), &sr);
	}
	pfree(req.data);
	outcome_from_spawn(&sr, params, out);
	/* The outcome holds copies; the raw response can go now. */
	pfree(sr.response);
	pfree(sr.diagnostics);
}

void
execute_helper_in_slot(const ExecParams *params, CallOutcome *out)
{
	int			slot = slots_acquire();

	PG_TRY();
	{
		execute_helper(params, out);
	}
	PG_FINALLY();
	{
		slots_release(slot);
	}
	PG_END_TRY();
}
