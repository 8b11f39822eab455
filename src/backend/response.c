/*-------------------------------------------------------------------------
 *
 * response.c
 *	  PG-free decoding of the helper's response frame (see response.h).
 *	  The helper is hostile: nothing here trusts a length, a tag or a
 *	  status name it sends, and nothing reads outside the given buffer.
 *
 *-------------------------------------------------------------------------
 */
#include "response.h"

#include <string.h>

#include "wire.h"

static const char *const response_status_names[] = {
	WIRE_STATUS_OK, WIRE_STATUS_ERROR, WIRE_STATUS_SYNTAX_ERROR,
	WIRE_STATUS_VIOLATION, WIRE_STATUS_TIMEOUT, WIRE_STATUS_MEMORY_LIMIT,
	WIRE_STATUS_KILLED, WIRE_STATUS_SANDBOX_ERROR, WIRE_STATUS_HELPER_ERROR,
	NULL
};

/* True if the status text is one of the names the helper may send. */
static bool
response_status_known(const ResponseText *status)
{
	for (int i = 0; response_status_names[i] != NULL; i++)
	{
		size_t		n = strlen(response_status_names[i]);

		if (status->len == n && memcmp(status->data, response_status_names[i], n) == 0)
			return true;
	}
	return false;
}

/* The text slot of a response tag, or NULL for a non-text tag. */
static ResponseText *
response_text_slot(HelperResponse *out, uint16_t tag)
{
	switch (tag)
	{
		case WIRE_RES_STATUS:
			return &out->status;
		case WIRE_RES_STDOUT:
			return &out->stdout_text;
		case WIRE_RES_STDERR:
			return &out->stderr_text;
		case WIRE_RES_RESULT_JSON:
			return &out->result_json;
		case WIRE_RES_ERROR_TYPE:
			return &out->error_type;
		case WIRE_RES_ERROR_MESSAGE:
			return &out->error_message;
		case WIRE_RES_VIOLATIONS_JSON:
			return &out->violations_json;
		case WIRE_RES_ISOLATION_JSON:
			return &out->isolation_json;
	}
	return NULL;
}

const char *
response_decode(const char *buf, size_t len, HelperResponse *out)
{
	int64_t		body_len;
	const char *body;
	size_t		pos = 0;
	uint64_t	seen = 0;
	WireField	field;
	WireResult	r;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return "empty response";
	if (len < WIRE_HEADER_SIZE)
		return "truncated frame header";
	body_len = wire_parse_header(buf, len, WIRE_RESPONSE_MAGIC);
	if (body_len < 0)
		return "bad magic or frame length";
	if ((uint64_t) body_len > len - WIRE_HEADER_SIZE)
		return "truncated frame (fewer bytes than its length field claims)";
	if ((uint64_t) body_len < len - WIRE_HEADER_SIZE)
		return "trailing bytes after the frame";
	body = buf + WIRE_HEADER_SIZE;

	while ((r = wire_next_field(body, (size_t) body_len, &pos, &seen, &field)) == WIRE_OK)
	{
		ResponseText *slot;

		if (field.tag < WIRE_RES_STATUS)
			return "request field in a response";
		slot = response_text_slot(out, field.tag);
		if (slot != NULL)
		{
			slot->present = true;
			slot->data = field.value;
			slot->len = field.len;
		}
		else if (field.tag == WIRE_RES_TRUNCATED)
		{
			out->has_truncated = true;
			out->truncated = wire_get_int(&field);
		}
		else if (field.tag == WIRE_RES_CPU_SECONDS)
		{
			out->has_cpu_seconds = true;
			out->cpu_seconds = wire_get_float(&field);
		}
		else if (field.tag == WIRE_RES_PEAK_MEMORY_KB)
		{
			out->has_peak_memory_kb = true;
			out->peak_memory_kb = wire_get_int(&field);
		}
		else
			return "unexpected field";
	}
	if (r == WIRE_MALFORMED)
		return "malformed field";
	if (!out->status.present)
		return "no status field";
	if (!response_status_known(&out->status))
		return "unknown status";
	return NULL;
}

bool
response_json_depth_ok(const char *json, size_t len, int max_depth)
{
	int			depth = 0;
	bool		in_string = false;

	for (size_t i = 0; i < len; i++)
	{
		char		c = json[i];

		if (in_string)
		{
			if (c == '\\')
				i++;			/* skip the escaped character */
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if (c == '[' || c == '{')
		{
			if (++depth > max_depth)
				return false;
		}
		else if ((c == ']' || c == '}') && depth > 0)
			depth--;
	}
	return true;
}
