/*-------------------------------------------------------------------------
 *
 * wire.c
 *	  Encoder and bounds-checked decoder for the backend <-> helper wire
 *	  format described in wire.h.  Linked into both the backend library and
 *	  the helper executable, so it uses only the C library and the allocator
 *	  the caller hands it.
 *
 *-------------------------------------------------------------------------
 */
#include "wire.h"

#include <string.h>

static void
wire_store_u16(char *out, uint16_t v)
{
	out[0] = (char) (v & 0xff);
	out[1] = (char) (v >> 8);
}

static void
wire_store_u32(char *out, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		out[i] = (char) ((v >> (8 * i)) & 0xff);
}

static void
wire_store_u64(char *out, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (char) ((v >> (8 * i)) & 0xff);
}

static uint16_t
wire_load_u16(const char *in)
{
	const unsigned char *p = (const unsigned char *) in;

	return (uint16_t) (p[0] | (p[1] << 8));
}

static uint32_t
wire_load_u32(const char *in)
{
	const unsigned char *p = (const unsigned char *) in;

	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) |
		((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static uint64_t
wire_load_u64(const char *in)
{
	const unsigned char *p = (const unsigned char *) in;
	uint64_t	v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int
wire_tag_kind(uint16_t tag)
{
	switch ((WireTag) tag)
	{
		case WIRE_REQ_CODE:
		case WIRE_REQ_CONTEXT_JSON:
		case WIRE_REQ_ALLOWED_IMPORTS:
		case WIRE_RES_STATUS:
		case WIRE_RES_STDOUT:
		case WIRE_RES_STDERR:
		case WIRE_RES_RESULT_JSON:
		case WIRE_RES_ERROR_TYPE:
		case WIRE_RES_ERROR_MESSAGE:
		case WIRE_RES_VIOLATIONS_JSON:
		case WIRE_RES_ISOLATION_JSON:
			return WIRE_KIND_TEXT;
		case WIRE_REQ_TIMEOUT_MS:
		case WIRE_REQ_MEMORY_MB:
		case WIRE_REQ_MAX_OUTPUT:
		case WIRE_REQ_FLAGS:
		case WIRE_REQ_OUTPUT_SLACK:
		case WIRE_RES_TRUNCATED:
		case WIRE_RES_PEAK_MEMORY_KB:
			return WIRE_KIND_INT;
		case WIRE_RES_CPU_SECONDS:
			return WIRE_KIND_FLOAT;
	}
	return -1;
}

void
wire_buf_init(WireBuf *buf, wire_realloc_fn realloc_fn)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->failed = 0;
	buf->realloc_fn = realloc_fn;
}

/* Make room for `extra` more bytes; on failure mark the buffer failed. */
static int
wire_reserve(WireBuf *buf, size_t extra)
{
	size_t		need;
	size_t		newcap;
	char	   *p;

	if (buf->failed)
		return -1;
	if (extra > WIRE_MAX_FRAME || buf->len > WIRE_MAX_FRAME - extra)
	{
		buf->failed = 1;
		return -1;
	}
	need = buf->len + extra;
	if (need <= buf->cap)
		return 0;
	newcap = buf->cap ? buf->cap : 256;
	while (newcap < need)
		newcap *= 2;
	p = buf->realloc_fn(buf->data, newcap);
	if (p == NULL)
	{
		buf->failed = 1;
		return -1;
	}
	buf->data = p;
	buf->cap = newcap;
	return 0;
}

void
wire_begin(WireBuf *buf, const char magic[4])
{
	buf->len = 0;
	if (wire_reserve(buf, WIRE_HEADER_SIZE) < 0)
		return;
	memcpy(buf->data, magic, 4);
	wire_store_u32(buf->data + 4, 0);
	buf->len = WIRE_HEADER_SIZE;
}

static void
wire_put_raw(WireBuf *buf, uint16_t tag, const char *value, size_t len)
{
	if (len > WIRE_MAX_FRAME)
	{
		buf->failed = 1;
		return;
	}
	if (wire_reserve(buf, WIRE_FIELD_HEADER_SIZE + len) < 0)
		return;
	wire_store_u16(buf->data + buf->len, tag);
	wire_store_u32(buf->data + buf->len + 2, (uint32_t) len);
	if (len > 0)
		memcpy(buf->data + buf->len + WIRE_FIELD_HEADER_SIZE, value, len);
	buf->len += WIRE_FIELD_HEADER_SIZE + len;
}

void
wire_put_text(WireBuf *buf, uint16_t tag, const char *value, size_t len)
{
	wire_put_raw(buf, tag, value, len);
}

void
wire_put_int(WireBuf *buf, uint16_t tag, int64_t value)
{
	char		tmp[8];

	wire_store_u64(tmp, (uint64_t) value);
	wire_put_raw(buf, tag, tmp, 8);
}

void
wire_put_float(WireBuf *buf, uint16_t tag, double value)
{
	char		tmp[8];
	uint64_t	bits;

	memcpy(&bits, &value, 8);
	wire_store_u64(tmp, bits);
	wire_put_raw(buf, tag, tmp, 8);
}

int
wire_finish(WireBuf *buf)
{
	if (buf->failed || buf->len < WIRE_HEADER_SIZE)
		return -1;
	wire_store_u32(buf->data + 4, (uint32_t) (buf->len - WIRE_HEADER_SIZE));
	return 0;
}

int64_t
wire_parse_header(const char *buf, size_t len, const char magic[4])
{
	uint32_t	body_len;

	if (len < WIRE_HEADER_SIZE || memcmp(buf, magic, 4) != 0)
		return -1;
	body_len = wire_load_u32(buf + 4);
	if (body_len > WIRE_MAX_FRAME)
		return -1;
	return (int64_t) body_len;
}

WireResult
wire_next_field(const char *body, size_t body_len, size_t *pos,
				uint64_t *seen, WireField *field)
{
	size_t		p = *pos;
	uint16_t	tag;
	uint32_t	len;
	int			kind;

	if (p == body_len)
		return WIRE_END;
	if (p > body_len || body_len - p < WIRE_FIELD_HEADER_SIZE)
		return WIRE_MALFORMED;
	tag = wire_load_u16(body + p);
	len = wire_load_u32(body + p + 2);
	p += WIRE_FIELD_HEADER_SIZE;
	if (len > body_len - p)
		return WIRE_MALFORMED;
	kind = wire_tag_kind(tag);
	if (kind < 0 || tag >= WIRE_TAG_COUNT_LIMIT)
		return WIRE_MALFORMED;
	if ((kind == WIRE_KIND_INT || kind == WIRE_KIND_FLOAT) && len != 8)
		return WIRE_MALFORMED;
	if (*seen & ((uint64_t) 1 << tag))
		return WIRE_MALFORMED;
	*seen |= (uint64_t) 1 << tag;

	field->tag = tag;
	field->len = len;
	field->value = body + p;
	*pos = p + len;
	return WIRE_OK;
}

int64_t
wire_get_int(const WireField *field)
{
	return (int64_t) wire_load_u64(field->value);
}

double
wire_get_float(const WireField *field)
{
	uint64_t	bits = wire_load_u64(field->value);
	double		v;

	memcpy(&v, &bits, 8);
	return v;
}
