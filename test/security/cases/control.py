"""Positive controls: ordinary code must still work, and the context the
runner passes must arrive, or every refusal above would prove nothing."""
from ._casedef import case

C = 'control'

CASES = [
	case(C, 'print_sum', 'print(sum(context["xs"]))', expect={'ok'}, require=[r'^6$']),
	case(C, 'result_value', 'result = {"n": len(context["secret_path"]) > 0}', expect={'ok'}),
	case(C, 'allowed_imports_work', '''
import json, math, re
print(json.dumps({"a": math.isqrt(16)}), re.sub("b", "c", "abc"))
''', expect={'ok'}, require=[r'^\{"a": 4\} acc$']),
	case(C, 'ordinary_exception', 'raise ValueError("plain")', expect={'error'},
		 errors={'ValueError'}),
	case(C, 'guards_off_proof', '''
import posix
print("GUARDS_OFF", type(posix.getpid()).__name__)
''', os_level=True, bypass={'ok'}, bypass_require=[r'^GUARDS_OFF int$']),
	case(C, 'isolated_pid', '''
import posix
print("PIDS", posix.getpid(), posix.getppid())
''', os_level=True, bypass={'ok'}, bypass_require=[r'^PIDS [12] [01]$']),
	case(C, 'isolated_uid', '''
import posix
print("UID", posix.getuid() != 0 or posix.geteuid() != 0, posix.getuid())
''', os_level=True, bypass={'ok'}, bypass_require=[r'^UID True \d+$']),
]
