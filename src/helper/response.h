/*-------------------------------------------------------------------------
 *
 * response.h
 *	  The one response frame the helper writes (wire.h), built up in a
 *	  HelperResponse and written by response_send().
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_HELPER_RESPONSE_H
#define CODEEXEC_HELPER_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

typedef struct HelperText
{
	const char *data;			/* NULL: field absent */
	size_t		len;
} HelperText;

typedef struct HelperResponse
{
	const char *status;			/* one of WIRE_STATUS_* */
	HelperText	stdout_text;
	HelperText	stderr_text;
	HelperText	result_json;
	HelperText	error_type;
	HelperText	error_message;
	HelperText	violations_json;
	HelperText	isolation_json;
	int64_t		truncated;		/* WIRE_TRUNC_* bits */
} HelperResponse;

/* Set a field to a NUL-terminated C string. */
extern HelperText response_cstr(const char *s);

/*
 * Encode `res` (adding cpu seconds and peak memory from getrusage) and
 * write it to `fd`.  Encoding uses a static arena when malloc fails, so a
 * small failure response can still be sent when the address space is
 * exhausted.  Returns 0 if the whole frame was written.
 */
extern int	response_send(int fd, const HelperResponse *res);

/*
 * Send a failure response with `status`, error_type naming the failed
 * step and error_message saying why, then exit: 0 if it was sent, else 1.
 * Uses no heap and only async-signal-safe calls, so it may be called from
 * a signal handler and with the address space exhausted.
 */
extern void response_fail(int fd, const char *status, const char *step,
						  const char *message) __attribute__((noreturn));

#endif
