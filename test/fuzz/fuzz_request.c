/*-------------------------------------------------------------------------
 *
 * fuzz_request.c
 *	  libFuzzer harness for the helper's parser of requests
 *	  (src/helper/request.c, request_read()).  The input is placed in a
 *	  memfd that request_read() reads to EOF, exactly as it reads the
 *	  backend's pipe.
 *
 *	  Properties checked beyond "no crash, no sanitizer report": a request
 *	  that is accepted has its code, context and imports inside the frame
 *	  it was read into, its integers inside the documented ranges, and the
 *	  frame's header agrees with the bytes read; a rejected one has a
 *	  non-empty reason.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "request.h"
#include "wire.h"

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* True if [p, p+len) lies inside [base, base+size) (p may be NULL if len 0). */
static int
fuzz_inside(const char *p, size_t len, const char *base, size_t size)
{
	if (p == NULL)
		return len == 0;
	return p >= base && len <= size && (size_t) (p - base) <= size - len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	HelperRequest req;
	char		errbuf[256];
	int			fd;
	int			rc;

	fd = memfd_create("fuzz-request", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t) size)
		abort();
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	errbuf[0] = '\0';
	rc = request_read(fd, &req, errbuf, sizeof(errbuf));
	close(fd);
	if (rc < 0)
	{
		FUZZ_CHECK(errbuf[0] != '\0');
		free(req.frame);
		return 0;
	}
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(req.frame != NULL);
	FUZZ_CHECK(size >= WIRE_HEADER_SIZE && memcmp(req.frame, data, size) == 0);
	if (req.code_len > 0 || req.code != NULL)
		FUZZ_CHECK(req.code_len == 0 || fuzz_inside(req.code, req.code_len, req.frame, size));
	FUZZ_CHECK(fuzz_inside(req.context, req.context_len, req.frame, size));
	FUZZ_CHECK(fuzz_inside(req.imports, req.imports_len, req.frame, size));
	FUZZ_CHECK(req.timeout_ms >= 1 && req.timeout_ms <= 24LL * 3600 * 1000);
	FUZZ_CHECK(req.memory_mb >= 1 && req.memory_mb <= 1024LL * 1024);
	FUZZ_CHECK(req.max_output >= 0 && req.output_slack >= 0);
	FUZZ_CHECK(req.flags >= 0 && req.flags <= 0xff);
	free(req.frame);
	return 0;
}
