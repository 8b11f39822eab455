#!/usr/bin/python3
"""
gen_seeds.py - writes the committed seed corpora of the fuzzers:
seeds/response/ (frames a helper might send) and seeds/request/ (frames
the backend sends), valid ones of every shape plus edge cases (empty,
truncated, oversized length, duplicate or unknown tags, wrong int sizes).
Deterministic: run it again after a wire-format change and commit the
result.  The encoder here is written from wire.h, independently of wire.c,
so the seeds also check the C code against the documented format.
"""
import os
import struct
import sys

TEXT, INT, FLOAT = 'text', 'int', 'float'
REQ = {'code': (1, TEXT), 'context': (2, TEXT), 'timeout_ms': (3, INT),
	   'memory_mb': (4, INT), 'max_output': (5, INT), 'imports': (6, TEXT),
	   'flags': (7, INT), 'slack': (8, INT)}
RES = {'status': (32, TEXT), 'stdout': (33, TEXT), 'stderr': (34, TEXT),
	   'result': (35, TEXT), 'error_type': (36, TEXT), 'error_message': (37, TEXT),
	   'violations': (38, TEXT), 'truncated': (39, INT), 'cpu': (40, FLOAT),
	   'peak_kb': (41, INT), 'isolation': (42, TEXT)}


def field(tag, kind, value):
	if kind == TEXT:
		raw = value.encode() if isinstance(value, str) else value
	elif kind == INT:
		raw = struct.pack('<q', value)
	else:
		raw = struct.pack('<d', value)
	return struct.pack('<HI', tag, len(raw)) + raw


def frame(magic, table, **fields):
	body = b''.join(field(*table[k], v) for k, v in fields.items())
	return magic + struct.pack('<I', len(body)) + body


def res(**kw):
	return frame(b'CXR1', RES, **kw)


def req(**kw):
	return frame(b'CXQ1', REQ, **kw)


RESPONSES = {
	'ok_minimal': res(status='ok'),
	'ok_full': res(status='ok', stdout='6\n', stderr='', result='{"n": 1}',
				   truncated=0, cpu=0.0123, peak_kb=10240),
	'error': res(status='error', stderr='Traceback...\n', error_type='ValueError',
				 error_message='bad', cpu=0.5, peak_kb=9000),
	'violation': res(status='violation', violations='[{"rule": "import", "message": "os",'
					 ' "line": 1, "col": 0, "severity": "error"}]'),
	'truncated': res(status='ok', stdout='x' * 300, truncated=3),
	'isolation': res(status='ok', isolation='[{"layer": "seccomp", "active": true, "detail": "x"}]'),
	'sandbox_error': res(status='sandbox_error', error_type='sandbox_prepare',
						 error_message='user_namespace: unshare: EPERM'),
	'killed': res(status='killed', error_type='SIGSYS', error_message='socket'),
	'nan_cpu': res(status='ok', cpu=float('nan'), peak_kb=-1),
	'negative_int': res(status='ok', truncated=-1, peak_kb=-(1 << 63)),
	'bad_utf8': res(status='ok', stdout=b'\xff\xfe\xc3(\x00nul'),
	'unknown_status': res(status='pwned'),
	'deep_json_result': res(status='ok', result='[' * 300 + ']' * 300),
	'json_strings_brackets': res(status='ok', result='["[[[\\"]]", {"a": "}}}"}]',
								 violations='[' * 255 + '"\\\\' + ']' * 255),
	'unterminated_json': res(status='error', result='{"a": "\\', violations='[[[['),
	'empty_body': b'CXR1' + struct.pack('<I', 0),
	'empty': b'',
	'magic_only': b'CXR1',
	'request_magic': req(code='print(1)'),
	'length_too_big': b'CXR1' + struct.pack('<I', 0xffffffff) + field(32, TEXT, 'ok'),
	'length_short': b'CXR1' + struct.pack('<I', 3) + field(32, TEXT, 'ok'),
	'length_long': b'CXR1' + struct.pack('<I', 100) + field(32, TEXT, 'ok'),
	'dup_tag': b'CXR1' + struct.pack('<I', 16) + field(32, TEXT, 'ok') + field(32, TEXT, 'ok'),
	'unknown_tag': b'CXR1' + struct.pack('<I', 8) + field(63, TEXT, 'xx'),
	'tag_64': b'CXR1' + struct.pack('<I', 8) + field(64, TEXT, 'xx'),
	'tag_huge': b'CXR1' + struct.pack('<I', 8) + field(0xffff, TEXT, 'xx'),
	'int_wrong_size': b'CXR1' + struct.pack('<I', 10) + struct.pack('<HI', 39, 4) + b'\0' * 4,
	'field_len_overflow': b'CXR1' + struct.pack('<I', 6) + struct.pack('<HI', 33, 0xfffffffa),
	'half_field_header': b'CXR1' + struct.pack('<I', 3) + b'\x20\x00\x02',
}

REQUESTS = {
	'minimal': req(code='print(1)'),
	'full': req(code='print(sum(context["xs"]))', context='{"xs": [1, 2, 3]}',
				timeout_ms=5000, memory_mb=256, max_output=1 << 20,
				imports='math\njson\nre', flags=1, slack=4096),
	'validate_only': req(code='import os', flags=3),
	'no_guards': req(code='import posix', flags=0x15),
	'report_isolation': req(flags=0x08),
	'no_code': req(context='{}'),
	'bad_utf8_code': req(code=b'\xff\xfe\x00print(1)'),
	'timeout_zero': req(code='x', timeout_ms=0),
	'timeout_max': req(code='x', timeout_ms=24 * 3600 * 1000),
	'memory_negative': req(code='x', memory_mb=-1),
	'flags_big': req(code='x', flags=0x100),
	'response_tag': b'CXQ1' + struct.pack('<I', 14) + field(1, TEXT, 'x') + field(32, TEXT, 'o'),
	'response_magic': res(status='ok'),
	'empty': b'',
	'header_only': b'CXQ1' + struct.pack('<I', 0),
	'length_mismatch': b'CXQ1' + struct.pack('<I', 50) + field(1, TEXT, 'x'),
	'dup_code': b'CXQ1' + struct.pack('<I', 14) + field(1, TEXT, 'a') + field(1, TEXT, 'b'),
	'int_short': b'CXQ1' + struct.pack('<I', 10) + struct.pack('<HI', 3, 4) + b'\1\0\0\0',
}


def write(dirname, items):
	os.makedirs(dirname, exist_ok=True)
	for name, data in items.items():
		with open(os.path.join(dirname, name), 'wb') as f:
			f.write(data)


if __name__ == '__main__':
	here = os.path.dirname(os.path.abspath(__file__))
	write(os.path.join(here, 'seeds', 'response'), RESPONSES)
	write(os.path.join(here, 'seeds', 'request'), REQUESTS)
	print('%d response seeds, %d request seeds' % (len(RESPONSES), len(REQUESTS)), file=sys.stderr)
