/*-------------------------------------------------------------------------
 *
 * request.h
 *	  The helper's view of one request frame (wire.h): read from fd 0,
 *	  decoded and bounds-checked by request.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_HELPER_REQUEST_H
#define CODEEXEC_HELPER_REQUEST_H

#include <stddef.h>
#include <stdint.h>

/* Largest request the helper accepts, whatever the frame header claims. */
#define REQUEST_MAX_BYTES	(64u * 1024u * 1024u)
/* the buffer a request is first read into (grown by doubling) */
#define REQUEST_FIRST_BUFFER	(64 * 1024)

/* Defaults for fields the backend leaves out (the SPEC's GUC defaults). */
#define REQUEST_DEFAULT_TIMEOUT_MS	5000
#define REQUEST_DEFAULT_MEMORY_MB	256
#define REQUEST_DEFAULT_MAX_OUTPUT	(1024 * 1024)

typedef struct HelperRequest
{
	const char *code;			/* points into the frame; not terminated */
	size_t		code_len;
	const char *context;		/* JSON text, may be NULL */
	size_t		context_len;
	const char *imports;		/* module names separated by '\n' */
	size_t		imports_len;
	int64_t		timeout_ms;
	int64_t		memory_mb;
	int64_t		max_output;
	int64_t		output_slack;
	int64_t		flags;
	char	   *frame;			/* the whole frame, malloc'd */
} HelperRequest;

/*
 * Read one frame from `fd` until EOF and decode it into *req.  Returns 0 on
 * success; on failure returns -1 with a reason in errbuf.
 */
extern int	request_read(int fd, HelperRequest *req, char *errbuf, size_t errlen);

#endif
