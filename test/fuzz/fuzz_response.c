/*-------------------------------------------------------------------------
 *
 * fuzz_response.c
 *	  libFuzzer harness for the backend's parser of helper responses: the
 *	  input is what a hostile helper writes to its response pipe.
 *
 *	  Two layers are driven with every input: the PG-free decoding core of
 *	  the backend (src/backend/response.c: response_decode() and
 *	  response_json_depth_ok()), and wire.c's field walker underneath it.
 *
 *	  Properties checked on every input, beyond "no crash, no sanitizer
 *	  report":
 *	    - every decoded field lies inside the body it was decoded from;
 *	    - a tag is never returned twice in one frame;
 *	    - int and float fields are exactly 8 bytes;
 *	    - a frame decoded to its end re-encodes, field by field with
 *	      wire_put_*, to exactly the input bytes (the format has one
 *	      encoding per message, so any difference is a decoder bug).
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#include "response.h"

#define FUZZ_MAX_FIELDS WIRE_TAG_COUNT_LIMIT

static void *
fuzz_realloc(void *p, size_t n)
{
	return realloc(p, n);
}

/* Abort (a finding for libFuzzer) when a property does not hold. */
#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* True if a decoded text slot is absent or lies inside the frame. */
static int
fuzz_text_inside(const ResponseText *t, const char *frame, size_t size)
{
	if (!t->present)
		return 1;
	return t->data >= frame && t->len <= size &&
		(size_t) (t->data - frame) <= size - t->len;
}

/*
 * fuzz_backend_decode: response_decode() either rejects the frame with a
 * reason, or accepts it with a status and every text inside the frame;
 * the JSON depth pre-scan must terminate on any text, including the JSON
 * fields of an accepted frame and the raw input itself.
 */
static void
fuzz_backend_decode(const char *frame, size_t size)
{
	HelperResponse res;
	const char *err;
	const ResponseText *texts[] = {
		&res.status, &res.stdout_text, &res.stderr_text, &res.result_json,
		&res.error_type, &res.error_message, &res.violations_json,
		&res.isolation_json
	};

	memset(&res, 0x5a, sizeof(res));
	err = response_decode(frame, size, &res);
	(void) response_json_depth_ok(frame, size, RESPONSE_MAX_JSON_DEPTH);
	if (err != NULL)
	{
		FUZZ_CHECK(err[0] != '\0');
		return;
	}
	FUZZ_CHECK(res.status.present && res.status.len > 0);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		FUZZ_CHECK(fuzz_text_inside(texts[i], frame, size));
	if (res.result_json.present)
		(void) response_json_depth_ok(res.result_json.data, res.result_json.len,
									  RESPONSE_MAX_JSON_DEPTH);
	if (res.violations_json.present)
		(void) response_json_depth_ok(res.violations_json.data, res.violations_json.len,
									  RESPONSE_MAX_JSON_DEPTH);
}

/*
 * fuzz_reencode: encode the decoded fields again and compare with the
 * input frame; they must be byte-identical.
 */
static void
fuzz_reencode(const uint8_t *data, size_t size, const WireField *fields, int n)
{
	WireBuf		buf;

	wire_buf_init(&buf, fuzz_realloc);
	wire_begin(&buf, WIRE_RESPONSE_MAGIC);
	for (int i = 0; i < n; i++)
	{
		switch (wire_tag_kind(fields[i].tag))
		{
			case WIRE_KIND_TEXT:
				wire_put_text(&buf, fields[i].tag, fields[i].value, fields[i].len);
				break;
			case WIRE_KIND_INT:
				wire_put_int(&buf, fields[i].tag, wire_get_int(&fields[i]));
				break;
			case WIRE_KIND_FLOAT:
				/* doubles go through memcpy, so NaN payloads survive */
				wire_put_float(&buf, fields[i].tag, wire_get_float(&fields[i]));
				break;
			default:
				abort();
		}
	}
	FUZZ_CHECK(wire_finish(&buf) == 0);
	FUZZ_CHECK(buf.len == size);
	FUZZ_CHECK(memcmp(buf.data, data, size) == 0);
	free(buf.data);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *frame = (const char *) data;
	int64_t		body_len;
	const char *body;
	size_t		pos = 0;
	uint64_t	seen = 0;
	WireField	fields[FUZZ_MAX_FIELDS];
	WireField	f;
	WireResult	r = WIRE_END;
	int			n = 0;

	fuzz_backend_decode(frame, size);

	body_len = wire_parse_header(frame, size, WIRE_RESPONSE_MAGIC);
	if (body_len < 0)
		return 0;
	FUZZ_CHECK(size >= WIRE_HEADER_SIZE);
	/* a backend reads exactly body_len bytes; a shorter frame is an error */
	if ((uint64_t) body_len > size - WIRE_HEADER_SIZE)
		return 0;
	body = frame + WIRE_HEADER_SIZE;
	while ((r = wire_next_field(body, (size_t) body_len, &pos, &seen, &f)) == WIRE_OK)
	{
		int			kind = wire_tag_kind(f.tag);

		FUZZ_CHECK(n < FUZZ_MAX_FIELDS);
		FUZZ_CHECK(kind >= 0);
		FUZZ_CHECK(f.value >= body && f.len <= (size_t) body_len &&
				   f.value + f.len <= body + body_len);
		FUZZ_CHECK(pos <= (size_t) body_len);
		if (kind != WIRE_KIND_TEXT)
		{
			FUZZ_CHECK(f.len == 8);
			(void) wire_get_int(&f);
			(void) wire_get_float(&f);
		}
		for (int i = 0; i < n; i++)
			FUZZ_CHECK(fields[i].tag != f.tag);
		fields[n++] = f;
	}
	if (r == WIRE_END)
	{
		FUZZ_CHECK(pos == (size_t) body_len);
		if ((size_t) body_len == size - WIRE_HEADER_SIZE)
			fuzz_reencode(data, size, fields, n);
	}
	return 0;
}
