/*-------------------------------------------------------------------------
 *
 * request.c
 *	  Reads and decodes the single request frame the backend writes to the
 *	  helper's fd 0.  Everything is checked before use: the frame must be
 *	  complete, no larger than REQUEST_MAX_BYTES, well formed by wire.c's
 *	  rules, carry only request tags, and hold integers in sane ranges.
 *
 *-------------------------------------------------------------------------
 */
#include "request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire.h"

/*
 * Read until EOF into a malloc'd buffer of at most `max` bytes.  Returns the
 * byte count, or -1 (with errbuf set) on a read error or an oversized input.
 */
static ssize_t
request_slurp(int fd, char **out, size_t max, char *errbuf, size_t errlen)
{
	size_t		cap = REQUEST_FIRST_BUFFER;
	size_t		len = 0;
	char	   *buf = malloc(cap);

	if (buf == NULL)
	{
		snprintf(errbuf, errlen, "out of memory reading the request");
		return -1;
	}
	for (;;)
	{
		ssize_t		n;

		if (len == cap)
		{
			char	   *bigger;

			if (cap > max)
			{
				free(buf);
				snprintf(errbuf, errlen, "request is larger than %zu bytes", max);
				return -1;
			}
			cap *= 2;
			bigger = realloc(buf, cap);
			if (bigger == NULL)
			{
				free(buf);
				snprintf(errbuf, errlen, "out of memory reading the request");
				return -1;
			}
			buf = bigger;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			free(buf);
			snprintf(errbuf, errlen, "reading the request failed: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t) n;
	}
	if (len > max)
	{
		free(buf);
		snprintf(errbuf, errlen, "request is larger than %zu bytes", max);
		return -1;
	}
	*out = buf;
	return (ssize_t) len;
}

/* Store an integer field after checking it lies in [lo, hi]. */
static int
request_int(const WireField *f, int64_t lo, int64_t hi, int64_t *dst,
			const char *what, char *errbuf, size_t errlen)
{
	int64_t		v = wire_get_int(f);

	if (v < lo || v > hi)
	{
		snprintf(errbuf, errlen, "request field %s out of range: %lld",
				 what, (long long) v);
		return -1;
	}
	*dst = v;
	return 0;
}

int
request_read(int fd, HelperRequest *req, char *errbuf, size_t errlen)
{
	char	   *frame = NULL;
	ssize_t		n;
	int64_t		body_len;
	const char *body;
	size_t		pos = 0;
	uint64_t	seen = 0;
	WireField	f;
	WireResult	r;

	memset(req, 0, sizeof(*req));
	req->timeout_ms = REQUEST_DEFAULT_TIMEOUT_MS;
	req->memory_mb = REQUEST_DEFAULT_MEMORY_MB;
	req->max_output = REQUEST_DEFAULT_MAX_OUTPUT;

	n = request_slurp(fd, &frame, REQUEST_MAX_BYTES, errbuf, errlen);
	if (n < 0)
		return -1;
	req->frame = frame;
	body_len = wire_parse_header(frame, (size_t) n, WIRE_REQUEST_MAGIC);
	if (body_len < 0)
	{
		snprintf(errbuf, errlen, "request has no valid CXQ1 header (%zd bytes read)", n);
		return -1;
	}
	if ((size_t) body_len != (size_t) n - WIRE_HEADER_SIZE)
	{
		snprintf(errbuf, errlen, "request body is %lld bytes but %zd arrived",
				 (long long) body_len, n - WIRE_HEADER_SIZE);
		return -1;
	}
	body = frame + WIRE_HEADER_SIZE;
	while ((r = wire_next_field(body, (size_t) body_len, &pos, &seen, &f)) == WIRE_OK)
	{
		int			rc = 0;

		switch (f.tag)
		{
			case WIRE_REQ_CODE:
				req->code = f.value;
				req->code_len = f.len;
				break;
			case WIRE_REQ_CONTEXT_JSON:
				req->context = f.value;
				req->context_len = f.len;
				break;
			case WIRE_REQ_ALLOWED_IMPORTS:
				req->imports = f.value;
				req->imports_len = f.len;
				break;
			case WIRE_REQ_TIMEOUT_MS:
				rc = request_int(&f, 1, 24LL * 3600 * 1000, &req->timeout_ms,
								 "timeout_ms", errbuf, errlen);
				break;
			case WIRE_REQ_MEMORY_MB:
				rc = request_int(&f, 1, 1024LL * 1024, &req->memory_mb,
								 "memory_mb", errbuf, errlen);
				break;
			case WIRE_REQ_MAX_OUTPUT:
				rc = request_int(&f, 0, WIRE_MAX_FRAME / 4, &req->max_output,
								 "max_output", errbuf, errlen);
				break;
			case WIRE_REQ_OUTPUT_SLACK:
				rc = request_int(&f, 0, WIRE_MAX_FRAME / 4, &req->output_slack,
								 "output_slack", errbuf, errlen);
				break;
			case WIRE_REQ_FLAGS:
				rc = request_int(&f, 0, 0xff, &req->flags, "flags", errbuf, errlen);
				break;
			default:
				snprintf(errbuf, errlen, "request carries response field %u", f.tag);
				return -1;
		}
		if (rc < 0)
			return -1;
	}
	if (r == WIRE_MALFORMED)
	{
		snprintf(errbuf, errlen, "request frame is malformed at body offset %zu", pos);
		return -1;
	}
	if (req->code == NULL && !(req->flags & WIRE_FLAG_REPORT_ISOLATION))
	{
		snprintf(errbuf, errlen, "request has no code field");
		return -1;
	}
	if (req->code == NULL)
		req->code = "";
	return 0;
}
