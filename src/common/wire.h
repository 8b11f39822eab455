/*-------------------------------------------------------------------------
 *
 * wire.h
 *	  The wire format spoken between the backend (trusted) and the sandbox
 *	  helper (untrusted) over pipes.  Both sides include this header and
 *	  link wire.c; nothing here depends on PostgreSQL or CPython.
 *
 * A message is one frame:
 *
 *	  magic   4 bytes  "CXQ1" (request) or "CXR1" (response)
 *	  length  4 bytes  little-endian u32, length of the body that follows
 *	  body    a sequence of fields, each
 *	            tag    2 bytes little-endian u16 (one of WireTag)
 *	            len    4 bytes little-endian u32
 *	            value  len bytes
 *
 * Value encodings: text fields are UTF-8 bytes without a terminator (they may
 * legally contain anything; the reader validates); integer fields are 8-byte
 * little-endian two's complement; float fields are 8-byte little-endian
 * IEEE-754 doubles.
 *
 * Trust rules: the helper is hostile.  The backend decodes responses with
 * wire_next_field(), which never reads outside the buffer it is given and
 * reports a malformed frame instead of guessing.  Every field may appear at
 * most once; a field with the wrong size for its type, an unknown tag, or
 * a body length that disagrees with the bytes received makes the whole
 * frame malformed.  The backend never allocates more than its own cap for
 * a frame, whatever the length field claims.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CODEEXEC_WIRE_H
#define CODEEXEC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_REQUEST_MAGIC	"CXQ1"
#define WIRE_RESPONSE_MAGIC "CXR1"
#define WIRE_HEADER_SIZE	8
#define WIRE_FIELD_HEADER_SIZE 6

/* Hard ceiling for any frame, whatever the GUCs say (sanity bound). */
#define WIRE_MAX_FRAME		(512u * 1024u * 1024u)

typedef enum WireTag
{
	/* request fields (backend -> helper) */
	WIRE_REQ_CODE = 1,			/* text: the user's code */
	WIRE_REQ_CONTEXT_JSON = 2,	/* text: JSON object for `context` */
	WIRE_REQ_TIMEOUT_MS = 3,	/* int: wall-clock budget (helper sets CPU rlimit from it) */
	WIRE_REQ_MEMORY_MB = 4,		/* int: address-space limit */
	WIRE_REQ_MAX_OUTPUT = 5,	/* int: byte cap per captured stream and result */
	WIRE_REQ_ALLOWED_IMPORTS = 6,	/* text: module names separated by '\n' */
	WIRE_REQ_FLAGS = 7,			/* int: WIRE_FLAG_* bits */
	WIRE_REQ_OUTPUT_SLACK = 8,	/* int: extra bytes captured past the cap so
								 * the backend can redact before truncating */

	/* response fields (helper -> backend) */
	WIRE_RES_STATUS = 32,		/* text: one of the status names below */
	WIRE_RES_STDOUT = 33,		/* text */
	WIRE_RES_STDERR = 34,		/* text */
	WIRE_RES_RESULT_JSON = 35,	/* text: JSON of the global `result` */
	WIRE_RES_ERROR_TYPE = 36,	/* text */
	WIRE_RES_ERROR_MESSAGE = 37,	/* text */
	WIRE_RES_VIOLATIONS_JSON = 38,	/* text: JSON array of violations */
	WIRE_RES_TRUNCATED = 39,	/* int: WIRE_TRUNC_* bits */
	WIRE_RES_CPU_SECONDS = 40,	/* float */
	WIRE_RES_PEAK_MEMORY_KB = 41,	/* int */
	WIRE_RES_ISOLATION_JSON = 42	/* text: JSON report of isolation layers */
} WireTag;

#define WIRE_TAG_COUNT_LIMIT 64 /* all tags are below this */

/* request flag bits */
#define WIRE_FLAG_VALIDATE		0x01	/* run the AST validator before running */
#define WIRE_FLAG_VALIDATE_ONLY 0x02	/* validate, report, do not run */
#define WIRE_FLAG_NO_PY_GUARDS	0x04	/* test switch: skip AST rules, restricted
										 * builtins and import hook, so the OS
										 * layers are tested on their own */
#define WIRE_FLAG_REPORT_ISOLATION 0x08 /* probe the layers, report, do not run */
#define WIRE_FLAG_REQUIRE_ISOLATION 0x10	/* refuse to run if any OS layer
											 * cannot be set up */
#define WIRE_FLAG_IN_GVISOR		0x20	/* spawn mode gvisor: check runsc's
										 * root instead of building one; no
										 * setgroups file, no Landlock there
										 * (see sandbox.h) */

/*
 * WIRE_RES_STATUS values.  The first seven are the user-visible statuses of
 * SPEC section 2 (the backend adds `cancelled` and `quota_exceeded` itself).
 * The last two are server-side failures that the backend turns into an
 * ERROR, never into a result: `sandbox_error` (an isolation layer could not
 * be set up and isolation is required) and `helper_error` (the helper could
 * not start, e.g. CPython failed to initialise).  For both, error_type
 * names the step that failed and error_message says why.
 */
#define WIRE_STATUS_OK				"ok"
#define WIRE_STATUS_ERROR			"error"
#define WIRE_STATUS_SYNTAX_ERROR	"syntax_error"
#define WIRE_STATUS_VIOLATION		"violation"
#define WIRE_STATUS_TIMEOUT			"timeout"
#define WIRE_STATUS_MEMORY_LIMIT	"memory_limit"
#define WIRE_STATUS_KILLED			"killed"
#define WIRE_STATUS_SANDBOX_ERROR	"sandbox_error"
#define WIRE_STATUS_HELPER_ERROR	"helper_error"

/* response truncation bits */
#define WIRE_TRUNC_STDOUT	0x01
#define WIRE_TRUNC_STDERR	0x02

typedef enum WireKind
{
	WIRE_KIND_TEXT,
	WIRE_KIND_INT,
	WIRE_KIND_FLOAT
} WireKind;

typedef struct WireField
{
	uint16_t	tag;
	uint32_t	len;
	const char *value;			/* points into the frame body; not terminated */
} WireField;

typedef enum WireResult
{
	WIRE_OK = 0,
	WIRE_END = 1,
	WIRE_MALFORMED = -1
} WireResult;

/* Growable output buffer; the caller supplies the allocator. */
typedef void *(*wire_realloc_fn) (void *ptr, size_t size);

typedef struct WireBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	int			failed;			/* allocation failed or frame too large */
	wire_realloc_fn realloc_fn;
} WireBuf;

/* The kind a tag must have; -1 for a tag that does not exist. */
extern int	wire_tag_kind(uint16_t tag);

/* Encoding: start a frame, add fields, finish (patches the length). */
extern void wire_buf_init(WireBuf *buf, wire_realloc_fn realloc_fn);
extern void wire_begin(WireBuf *buf, const char magic[4]);
extern void wire_put_text(WireBuf *buf, uint16_t tag, const char *value, size_t len);
extern void wire_put_int(WireBuf *buf, uint16_t tag, int64_t value);
extern void wire_put_float(WireBuf *buf, uint16_t tag, double value);
extern int	wire_finish(WireBuf *buf);	/* 0 on success, -1 if failed */

/*
 * Decoding.  wire_parse_header checks the magic and returns the body length
 * (or -1).  wire_next_field walks the body from *pos; it checks bounds, tag
 * existence, the value size of int/float tags, and (through *seen, a bitmap
 * of WIRE_TAG_COUNT_LIMIT bits the caller zeroes) that no tag repeats.
 */
extern int64_t wire_parse_header(const char *buf, size_t len, const char magic[4]);
extern WireResult wire_next_field(const char *body, size_t body_len, size_t *pos,
								  uint64_t *seen, WireField *field);
extern int64_t wire_get_int(const WireField *field);
extern double wire_get_float(const WireField *field);

#endif							/* CODEEXEC_WIRE_H */
