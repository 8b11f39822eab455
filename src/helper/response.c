/*-------------------------------------------------------------------------
 *
 * response.c
 *	  Encodes and writes the helper's single response frame.  The frame is
 *	  built with wire.c; when the heap cannot grow (the code exhausted
 *	  RLIMIT_AS) a static arena stands in, big enough for any failure
 *	  response, so "memory_limit" can still be reported.
 *
 *-------------------------------------------------------------------------
 */
#include "response.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "wire.h"

#define RESPONSE_ARENA_SIZE (64 * 1024)

static char response_arena[RESPONSE_ARENA_SIZE];
static int	response_arena_used;

/*
 * Allocator for the wire buffer: the heap first, then the static arena
 * (used at most once, for a buffer of at most its size).
 */
static void *
response_realloc(void *ptr, size_t size)
{
	void	   *p;

	if (ptr == response_arena)
		return size <= RESPONSE_ARENA_SIZE ? ptr : NULL;
	/* only a fresh buffer may start in the arena: heap data is not moved */
	if (ptr != NULL)
		return realloc(ptr, size);
	p = malloc(size);
	if (p != NULL || response_arena_used ||
		size > RESPONSE_ARENA_SIZE)
		return p;
	response_arena_used = 1;
	return response_arena;
}

HelperText
response_cstr(const char *s)
{
	HelperText	t = {s, s ? strlen(s) : 0};

	return t;
}

static void
response_put(WireBuf *buf, uint16_t tag, HelperText t)
{
	if (t.data != NULL)
		wire_put_text(buf, tag, t.data, t.len);
}

static int
response_write_all(int fd, const char *data, size_t len)
{
	while (len > 0)
	{
		ssize_t		n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t) n;
	}
	return 0;
}

/*
 * Allocator for failure responses: one fixed buffer, no malloc, so that
 * response_fail() works with the heap exhausted and from a signal handler.
 */
static char response_small[8192];

static void *
response_small_realloc(void *ptr, size_t size)
{
	return size <= sizeof(response_small) ? response_small : NULL;
}

/* Encode `res` with `alloc` and write it to `fd`; 0 if fully written. */
static int
response_emit(int fd, const HelperResponse *res, wire_realloc_fn alloc)
{
	WireBuf		buf;
	struct rusage self;
	struct rusage kids;
	double		cpu;
	int64_t		peak_kb;

	memset(&self, 0, sizeof(self));
	memset(&kids, 0, sizeof(kids));
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	cpu = self.ru_utime.tv_sec + self.ru_stime.tv_sec +
		kids.ru_utime.tv_sec + kids.ru_stime.tv_sec +
		(self.ru_utime.tv_usec + self.ru_stime.tv_usec +
		 kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) / 1e6;
	peak_kb = self.ru_maxrss > kids.ru_maxrss ? self.ru_maxrss : kids.ru_maxrss;

	wire_buf_init(&buf, alloc);
	wire_begin(&buf, WIRE_RESPONSE_MAGIC);
	wire_put_text(&buf, WIRE_RES_STATUS, res->status, strlen(res->status));
	response_put(&buf, WIRE_RES_STDOUT, res->stdout_text);
	response_put(&buf, WIRE_RES_STDERR, res->stderr_text);
	response_put(&buf, WIRE_RES_RESULT_JSON, res->result_json);
	response_put(&buf, WIRE_RES_ERROR_TYPE, res->error_type);
	response_put(&buf, WIRE_RES_ERROR_MESSAGE, res->error_message);
	response_put(&buf, WIRE_RES_VIOLATIONS_JSON, res->violations_json);
	response_put(&buf, WIRE_RES_ISOLATION_JSON, res->isolation_json);
	wire_put_int(&buf, WIRE_RES_TRUNCATED, res->truncated);
	wire_put_float(&buf, WIRE_RES_CPU_SECONDS, cpu);
	wire_put_int(&buf, WIRE_RES_PEAK_MEMORY_KB, peak_kb);
	if (wire_finish(&buf) < 0)
		return -1;
	return response_write_all(fd, buf.data, buf.len);
}

int
response_send(int fd, const HelperResponse *res)
{
	return response_emit(fd, res, response_realloc);
}

void
response_fail(int fd, const char *status, const char *step, const char *message)
{
	HelperResponse res;

	memset(&res, 0, sizeof(res));
	res.status = status;
	res.error_type = response_cstr(step);
	res.error_message = response_cstr(message);
	_exit(response_emit(fd, &res, response_small_realloc) == 0 ? 0 : 1);
}
