"""Resource exhaustion: memory bombs, CPU loops, sleeping past the
deadline, output floods, deep recursion.  None of these needs a forbidden
import, so with the guards on they run and the limits must stop them; the
ones marked os_level go through the same limits with the guards off."""
from ._casedef import case

C_MEM = 'memory'
C_CPU = 'cpu_time'
C_OUT = 'output_flood'
C_REC = 'recursion'
MEM = {'memory_limit'}

CASES = [
	# --- memory: sizes are computed so no constant-size rule applies ---
	case(C_MEM, 'bytearray_huge', '''
n = int("1" + "0" * 11)
x = bytearray(n)
print("ESCAPED", len(x))
''', expect=MEM, os_level=True, bypass=MEM, memory_mb=64),
	case(C_MEM, 'list_growth', '''
xs = []
while True:
    xs.append([0] * 100000)
''', expect=MEM, os_level=True, bypass=MEM, memory_mb=64, timeout_ms=8000),
	case(C_MEM, 'string_doubling', '''
s = "x"
while True:
    s = s + s
''', expect=MEM, os_level=True, bypass=MEM, memory_mb=64, timeout_ms=8000),
	case(C_MEM, 'dict_growth', '''
d = {}
i = 0
while True:
    d[i] = str(i) * 10
    i += 1
''', expect=MEM, os_level=True, bypass=MEM, memory_mb=64, timeout_ms=10000),
	case(C_MEM, 'big_int_power', '''
n = int("9" * 3)
x = n ** (n ** 3)
print("ESCAPED", x.bit_length())
''', expect=MEM | {'timeout', 'violation'}, os_level=True,
		 bypass=MEM | {'timeout'}, memory_mb=64, timeout_ms=3000),
	case(C_MEM, 'constant_bomb', '''
x = 'a' * 10 ** 10
print("ESCAPED", len(x))
''', expect={'violation'}),
	case(C_MEM, 'constant_power', '''
x = 9 ** 9 ** 9
print("ESCAPED")
''', expect={'violation'}),
	case(C_MEM, 'bytes_join_bomb', '''
chunk = bytes(int("1" + "0" * 7))
data = b"".join([chunk] * 1000)
print("ESCAPED", len(data))
''', expect=MEM, os_level=True, bypass=MEM, memory_mb=64),
	case(C_MEM, 'mmap_anonymous', '''
import mmap
m = mmap.mmap(-1, int("1" + "0" * 11))
m[-1] = 1
print("ESCAPED", len(m))
''', os_level=True, bypass={'error', 'killed', 'memory_limit'}),
	case(C_MEM, 'resource_raise_as', '''
import resource
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
print("ESCAPED")
''', os_level=True),
	# --- CPU and wall clock ---
	case(C_CPU, 'while_true', '''
while True:
    pass
''', expect={'timeout'}, os_level=True, bypass={'timeout'}, timeout_ms=1000),
	case(C_CPU, 'busy_arithmetic', '''
x = 0
while True:
    x = (x * 31 + 7) % 1000003
''', expect={'timeout'}, os_level=True, bypass={'timeout'}, timeout_ms=1000),
	case(C_CPU, 'regex_backtracking', '''
import re
re.match("(a+)+$", "a" * 40 + "b")
print("ESCAPED")
''', expect={'timeout'}, timeout_ms=1000),
	case(C_CPU, 'time_sleep', '''
import time
time.sleep(30)
print("ESCAPED")
''', expect={'timeout', 'violation'}, os_level=True, bypass={'timeout'}, timeout_ms=1000),
	case(C_CPU, 'select_sleep', '''
import select
select.select([], [], [], 30)
print("ESCAPED")
''', os_level=True, bypass={'timeout', 'killed', 'error'}, timeout_ms=1000),
	case(C_CPU, 'sigwait_forever', '''
import _signal
_signal.pthread_sigmask(_signal.SIG_BLOCK, {_signal.SIGUSR1})
_signal.sigwait({_signal.SIGUSR1})
print("ESCAPED")
''', os_level=True, bypass={'timeout', 'killed', 'error'}, timeout_ms=1000),
	case(C_CPU, 'catch_everything_loop', '''
while True:
    try:
        while True:
            pass
    except BaseException:
        pass
''', expect={'timeout'}, os_level=True, bypass={'timeout'}, timeout_ms=1000),
	case(C_CPU, 'generator_spin', '''
def g():
    while True:
        yield 1
print("ESCAPED", sum(g()))
''', expect={'timeout'}, os_level=True, bypass={'timeout'}, timeout_ms=1000),
	case(C_CPU, 'sleep_in_finally', '''
import time
try:
    while True:
        pass
finally:
    time.sleep(60)
''', expect={'timeout', 'violation'}, timeout_ms=1000),
	case(C_CPU, 'raise_cpu_rlimit', '''
import resource
resource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
while True:
    pass
''', os_level=True, bypass={'error', 'killed', 'timeout'}, timeout_ms=1500),
	# --- output floods ---
	case(C_OUT, 'print_loop', '''
while True:
    print("x" * 1000)
''', expect={'ok', 'timeout'}, os_level=True, bypass={'ok', 'timeout'},
		 max_output_bytes=4096, max_stdout=4096, timeout_ms=2000),
	case(C_OUT, 'print_big_string', '''
print("y" * int("5" + "0" * 7))
''', expect={'ok', 'memory_limit'}, truncated=True, max_output_bytes=4096,
		 max_stdout=4096),
	case(C_OUT, 'print_many_small', '''
for i in range(2000000):
    print(i)
''', expect={'ok', 'timeout'}, max_output_bytes=4096, max_stdout=4096,
		 timeout_ms=4000),
	case(C_OUT, 'posix_write_fd1', '''
import posix
while True:
    posix.write(1, b"z" * 65536)
''', os_level=True, bypass={'ok', 'error', 'killed', 'timeout'},
		 max_output_bytes=4096, max_stdout=4096, timeout_ms=2000),
	case(C_OUT, 'posix_write_fd2', '''
import posix
while True:
    posix.write(2, b"z" * 65536)
''', os_level=True, bypass={'ok', 'error', 'killed', 'timeout'},
		 max_output_bytes=4096, max_stdout=4096, timeout_ms=2000),
	case(C_OUT, 'huge_result', '''
result = ["r" * 1000] * 10000
''', expect={'ok', 'error', 'memory_limit', 'timeout'}, errors={'ValueError', 'OverflowError', 'TypeError', 'RuntimeError'},
		 max_output_bytes=4096, max_stdout=4096),
	case(C_OUT, 'huge_exception_message', '''
raise ValueError("e" * int("1" + "0" * 7))
''', expect={'error', 'memory_limit'}, errors={'ValueError'}, max_output_bytes=4096),
	case(C_OUT, 'unicode_flood', '''
while True:
    print("\\u00e9\\U0001f600" * 500)
''', expect={'ok', 'timeout'}, max_output_bytes=4096, max_stdout=4096,
		 timeout_ms=2000),
	# --- recursion ---
	case(C_REC, 'python_recursion', '''
def f(n):
    return f(n + 1) + 1
print("ESCAPED", f(0))
''', expect={'error'}, errors={'RecursionError'}),
	case(C_REC, 'mutual_recursion', '''
def a(n):
    return b(n + 1)
def b(n):
    return a(n + 1)
a(0)
''', expect={'error'}, errors={'RecursionError'}),
	case(C_REC, 'setrecursionlimit_crash', '''
import sys
sys.setrecursionlimit(10 ** 8)
x = []
for i in range(10 ** 6):
    x = [x]
print(len(repr(x)))
''', os_level=True, bypass={'error', 'killed', 'memory_limit', 'timeout'}),
	case(C_REC, 'deep_nesting_source', '[' * 5000 + ']' * 5000,
		 expect={'violation', 'syntax_error'}),
	case(C_REC, 'deep_expression', 'x = ' + '-' * 100000 + '1',
		 expect={'violation', 'syntax_error', 'error'}, errors={'RecursionError', 'MemoryError'}),
	case(C_REC, 'recursive_repr', '''
class A:
    def __repr__(self):
        return repr(self)
print(repr(A()))
''', expect={'error', 'violation'}, errors={'RecursionError'}),
	case(C_REC, 'deep_json_result', '''
x = []
for i in range(100000):
    x = [x]
result = x
''', expect={'error', 'ok'}, errors={'RecursionError', 'ValueError'}),
]
