/*-------------------------------------------------------------------------
 *
 * response.h
 *	  Decoding the helper's response frame.  The core (response_decode,
 *	  response_json_depth_ok) uses only libc and wire.c, never PostgreSQL,
 *	  so a fuzz harness can link response.c + wire.c on their own; every
 *	  pointer it returns points into the caller's buffer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_RESPONSE_H
#define CODEEXEC_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deepest JSON nesting accepted from the helper (result, violations). */
#define RESPONSE_MAX_JSON_DEPTH 256

typedef struct ResponseText
{
	bool		present;
	const char *data;			/* into the frame; not terminated */
	size_t		len;
} ResponseText;

typedef struct HelperResponse
{
	ResponseText status;
	ResponseText stdout_text;
	ResponseText stderr_text;
	ResponseText result_json;
	ResponseText error_type;
	ResponseText error_message;
	ResponseText violations_json;
	ResponseText isolation_json;
	bool		has_truncated;
	int64_t		truncated;		/* WIRE_TRUNC_* bits */
	bool		has_cpu_seconds;
	double		cpu_seconds;
	bool		has_peak_memory_kb;
	int64_t		peak_memory_kb;
} HelperResponse;

/*
 * Decode one complete response frame buf[0..len).  Returns NULL on success
 * (filling *out) or a static English description of what is wrong.  A
 * frame is accepted only if: the magic is CXR1, the body length equals the
 * bytes received, every field is well-formed and unique, only response tags
 * occur, and a status is present and is one of the names in wire.h.
 */
extern const char *response_decode(const char *buf, size_t len, HelperResponse *out);

/*
 * True if the JSON text nests objects/arrays at most max_depth deep.  A
 * pre-scan that only tracks strings and brackets, so it is safe to run
 * before a recursive parser; it does not validate the JSON.
 */
extern bool response_json_depth_ok(const char *json, size_t len, int max_depth);

#endif
