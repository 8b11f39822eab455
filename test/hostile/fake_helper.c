/*
 * fake_helper.c - a deliberately hostile stand-in for codeexec-helper, used
 * by test/hostile/run.sh.  The behaviour is picked by the program's name
 * (the backend execs it with no arguments and an empty environment): the
 * part of basename(argv[0]) after "hostile-".  It links only wire.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire.h"

/* Read the whole request from fd 0 (until EOF); return its size. */
static size_t
read_request(void)
{
	char		buf[65536];
	size_t		total = 0;
	ssize_t		n;

	while ((n = read(0, buf, sizeof(buf))) != 0)
	{
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		total += n;
	}
	return total;
}

static void
write_all(int fd, const char *p, size_t len)
{
	while (len > 0)
	{
		ssize_t		n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(3);
		p += n;
		len -= n;
	}
}

static void
put_str(WireBuf *b, uint16_t tag, const char *s)
{
	wire_put_text(b, tag, s, strlen(s));
}

/* A well-formed "ok" frame with the given stdout and result JSON. */
static void
ok_frame(WireBuf *b, const char *out, size_t out_len, const char *result)
{
	wire_buf_init(b, realloc);
	wire_begin(b, WIRE_RESPONSE_MAGIC);
	put_str(b, WIRE_RES_STATUS, "ok");
	wire_put_text(b, WIRE_RES_STDOUT, out, out_len);
	put_str(b, WIRE_RES_STDERR, "");
	if (result)
		put_str(b, WIRE_RES_RESULT_JSON, result);
	wire_put_int(b, WIRE_RES_TRUNCATED, 0);
	wire_put_float(b, WIRE_RES_CPU_SECONDS, 0.0);
	wire_put_int(b, WIRE_RES_PEAK_MEMORY_KB, 1);
	wire_finish(b);
}

static void
send_ok(const char *out, const char *result)
{
	WireBuf		b;

	ok_frame(&b, out, strlen(out), result);
	write_all(1, b.data, b.len);
}

/* A frame with a status and up to two more text fields (tag 0: none). */
static void
send_fields(const char *status, uint16_t tag1, const char *v1, uint16_t tag2, const char *v2)
{
	WireBuf		b;

	wire_buf_init(&b, realloc);
	wire_begin(&b, WIRE_RESPONSE_MAGIC);
	put_str(&b, WIRE_RES_STATUS, status);
	if (tag1)
		put_str(&b, tag1, v1);
	if (tag2)
		put_str(&b, tag2, v2);
	wire_finish(&b);
	write_all(1, b.data, b.len);
}

/* A frame whose only field is the given status (and optional stdout bytes). */
static void
send_status(const char *status, const char *out, size_t out_len)
{
	WireBuf		b;

	wire_buf_init(&b, realloc);
	wire_begin(&b, WIRE_RESPONSE_MAGIC);
	put_str(&b, WIRE_RES_STATUS, status);
	if (out)
		wire_put_text(&b, WIRE_RES_STDOUT, out, out_len);
	wire_finish(&b);
	write_all(1, b.data, b.len);
}

int
main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');
	const char *mode;
	WireBuf		b;

	name = name ? name + 1 : argv[0];
	mode = strncmp(name, "hostile-", 8) == 0 ? name + 8 : name;

	if (strcmp(mode, "no-read") == 0)
	{
		/* Answer without reading: the backend's writes hit EPIPE. */
		close(0);
		send_ok("no-read\n", "1");
		return 0;
	}
	read_request();

	if (strcmp(mode, "ok") == 0)
		send_ok("hi\n", "6");
	else if (strcmp(mode, "garbage") == 0)
	{
		for (int i = 0; i < 1000; i++)
			write_all(1, "\x13\x37garbage\xff", 10);
	}
	else if (strcmp(mode, "huge-length") == 0)
		write_all(1, "CXR1\xf0\xff\xff\x1f" "abc", 11);
	else if (strcmp(mode, "truncated") == 0)
	{
		ok_frame(&b, "hello\n", 6, "[1, 2, 3]");
		write_all(1, b.data, b.len / 2);
	}
	else if (strcmp(mode, "trailing") == 0)
	{
		ok_frame(&b, "hello\n", 6, "1");
		write_all(1, b.data, b.len);
		write_all(1, "extra", 5);
	}
	else if (strcmp(mode, "die-mid") == 0)
	{
		ok_frame(&b, "hello\n", 6, "1");
		write_all(1, b.data, b.len / 2);
		fputs("fake: dying mid-message\n", stderr);
		raise(SIGSEGV);
	}
	else if (strcmp(mode, "sigsys") == 0)
	{
		fputs("fake: forbidden system call\n", stderr);
		raise(SIGSYS);
	}
	else if (strcmp(mode, "hang") == 0)
	{
		for (;;)
			pause();
	}
	else if (strcmp(mode, "sleep") == 0)
	{
		sleep(3);
		send_ok("slept\n", "1");
	}
	else if (strcmp(mode, "flood") == 0)
	{
		static char chunk[65536];

		memset(chunk, 'x', sizeof(chunk));
		write_all(1, "CXR1", 4);
		for (;;)
			write_all(1, chunk, sizeof(chunk));
	}
	else if (strcmp(mode, "flood-stderr") == 0)
	{
		static char chunk[65536];

		memset(chunk, 'e', sizeof(chunk));
		for (int i = 0; i < 1600; i++)	/* 100 MiB of diagnostics */
			write_all(2, chunk, sizeof(chunk));
		send_ok("after flood\n", "1");
	}
	else if (strcmp(mode, "exit127") == 0)
	{
		fputs("fake: cannot start\n", stderr);
		return 127;
	}
	else if (strcmp(mode, "exit0-silent") == 0)
		return 0;
	else if (strcmp(mode, "bad-utf8") == 0)
		send_status("ok", "caf\xc3(\n", 6);
	else if (strcmp(mode, "nul-stdout") == 0)
		send_status("ok", "a\0b\n", 4);
	else if (strcmp(mode, "bad-json") == 0)
		send_ok("", "{\"a\": [1, 2");
	else if (strcmp(mode, "big-number") == 0)
		send_ok("", "1e999999999");
	else if (strcmp(mode, "nul-escape") == 0)
		send_ok("", "\"a\\u0000b\"");
	else if (strcmp(mode, "deep-json") == 0)
	{
		static char deep[200001];

		memset(deep, '[', 100000);
		memset(deep + 100000, ']', 100000);
		send_ok("", deep);
	}
	else if (strcmp(mode, "unknown-status") == 0)
		send_status("pwned", NULL, 0);
	else if (strcmp(mode, "dup-field") == 0)
		send_fields("ok", WIRE_RES_STATUS, "ok", 0, NULL);
	else if (strcmp(mode, "request-tag") == 0)
		send_fields("ok", WIRE_REQ_CODE, "x", 0, NULL);
	else if (strcmp(mode, "bad-violations") == 0)
		send_fields("violation", WIRE_RES_VIOLATIONS_JSON, "{\"not\": \"an array\"}", 0, NULL);
	else if (strcmp(mode, "grandchild") == 0)
	{
		/* A grandchild keeps the pipes open after the helper exits. */
		if (fork() == 0)
		{
			for (;;)
				pause();
		}
		send_ok("grandchild\n", "1");
	}
	else if (strcmp(mode, "sandbox-error") == 0)
		send_fields("sandbox_error", WIRE_RES_ERROR_TYPE, "landlock",
					WIRE_RES_ERROR_MESSAGE, "not supported by this kernel");
	else if (strcmp(mode, "lying-rusage") == 0)
	{
		wire_buf_init(&b, realloc);
		wire_begin(&b, WIRE_RESPONSE_MAGIC);
		put_str(&b, WIRE_RES_STATUS, "ok");
		wire_put_float(&b, WIRE_RES_CPU_SECONDS, 12345.0);
		wire_put_int(&b, WIRE_RES_PEAK_MEMORY_KB, 99999999);
		wire_finish(&b);
		write_all(1, b.data, b.len);
	}
	else
	{
		fprintf(stderr, "fake: unknown mode %s\n", mode);
		return 2;
	}
	return 0;
}
