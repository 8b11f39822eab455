"""Import-system tricks: importlib, __import__, sys.modules, __loader__,
__spec__, codecs and encodings lookups, relative and dotted imports of
forbidden modules, and imports of allowed modules that re-export
forbidden ones."""
from ._casedef import case

C = 'import_system'
PAYLOAD = '\nprint("ESCAPED", m)\n'
DYN = ('violation', 'error')

CASES = [
	case(C, 'import_os', 'import os\nm = os' + PAYLOAD),
	case(C, 'import_sys', 'import sys\nm = sys' + PAYLOAD),
	case(C, 'from_os_import', 'from os import system as m' + PAYLOAD),
	case(C, 'import_subprocess', 'import subprocess as m' + PAYLOAD),
	case(C, 'import_importlib', 'import importlib\nm = importlib.import_module("os")' + PAYLOAD),
	case(C, 'dunder_import', 'm = __import__("os")' + PAYLOAD),
	case(C, 'import_builtins', 'import builtins\nm = builtins.open' + PAYLOAD),
	case(C, 'submodule_of_allowed', 'import json.decoder\nm = json.decoder.re.enum.sys.modules["os"]' + PAYLOAD,
		 expect=DYN),
	case(C, 'dataclasses_inspect_os', 'import dataclasses\nm = dataclasses.inspect.os' + PAYLOAD,
		 expect=DYN),
	case(C, 'calendar_sys_modules', 'import calendar\nm = calendar.sys.modules["os"]' + PAYLOAD, expect=DYN),
	case(C, 'datetime_sys', 'import datetime\nm = datetime.sys' + PAYLOAD, expect=DYN),
	case(C, 'typing_sys', 'import typing\nm = typing.sys.modules["os"]' + PAYLOAD, expect=DYN),
	case(C, 'dataclasses_builtins', 'import dataclasses\nm = dataclasses.builtins.open' + PAYLOAD,
		 expect=DYN),
	case(C, 'enum_bltns_import', 'import enum\nm = getattr(enum.bltns, "__im" + "port__")("os")' + PAYLOAD,
		 expect=DYN),
	case(C, 'loader_of_allowed', 'import math\nm = math.__loader__.load_module("os")' + PAYLOAD),
	case(C, 'spec_of_allowed', 'import json\nm = json.__spec__.loader' + PAYLOAD),
	case(C, 'module_dict_import', 'import json\nm = json.__dict__["__builtins__"]["__import__"]("os")' + PAYLOAD),
	case(C, 'getattr_import_from_module', '''
import json
m = getattr(getattr(json, "decoder"), "re")
m = getattr(m, "enum")
m = getattr(m, "sys")
''' + PAYLOAD, expect=DYN),
	case(C, 'star_import_forbidden', 'from os import *\nm = system' + PAYLOAD),
	case(C, 'codecs_lookup_module', '''
import codecs
m = codecs.lookup("rot13")
m = codecs.sys
''' + PAYLOAD, expect=DYN),
	case(C, 'encodings_search_function', '''
import encodings
m = encodings.search_function("idna")
''' + PAYLOAD),
	case(C, 'codecs_encode_hex_import', '''
import codecs
m = codecs.decode(b"6f73", "hex")
m = codecs.getdecoder("undefined")
''' + PAYLOAD, expect=('violation', 'error', 'ok'), forbid=[r'ESCAPED <module']),
	case(C, 'pickle_reduce', '''
import pickle
class P:
    def __reduce__(self):
        return (print, ("ESCAPED",))
pickle.loads(pickle.dumps(P()))
m = 1
''' + PAYLOAD),
	case(C, 'marshal_code', '''
import marshal
m = marshal.loads(b"")
''' + PAYLOAD),
	case(C, 'caller_cannot_widen_allowlist', 'import os\nm = os' + PAYLOAD,
		 allowed_imports=['math', 'os'], sql_error={'42501', '22023'}),
	case(C, 'import_os_narrow_allowlist', 'import os\nprint("GUARDS_OFF", os.getpid())',
		 os_level=True, bypass={'ok'}, bypass_require=[r'^GUARDS_OFF \d+$'],
		 allowed_imports=['math']),
	case(C, 'ctypes_via_allowed_list', 'import ctypes\nm = ctypes' + PAYLOAD,
		 allowed_imports=['ctypes'], sql_error={'42501', '22023'}),
	case(C, 'importlib_util_spec', '''
import importlib.util
spec = importlib.util.find_spec("os")
m = importlib.util.module_from_spec(spec)
''' + PAYLOAD),
	case(C, 'exec_module_source', '''
import types
m = types.ModuleType("x")
exec("import os", m.__dict__)
''' + PAYLOAD),
	case(C, 'statistics_math_ok', '''
import statistics, math
print(statistics.mean([1, 2, 3]), math.floor(2.5))
''', expect={'ok'}, require=[r'^2 2$']),
]
