"""Processes and threads: fork, exec, fork and thread bombs."""
from ._casedef import case

C = 'processes'

CASES = [
	case(C, 'fork', '''
import posix
pid = posix.fork()
if pid == 0:
    posix._exit(0)
print("ESCAPED", pid)
''', os_level=True, killed_match=r'fork|clone'),
	case(C, 'fork_bomb', '''
import posix
while True:
    posix.fork()
''', os_level=True, bypass={'error', 'killed', 'timeout'}, timeout_ms=2000),
	case(C, 'os_fork_bomb', '''
import os
while True:
    os.fork()
''', os_level=True, bypass={'error', 'killed', 'timeout'}, timeout_ms=2000),
	case(C, 'execv_shell', '''
import posix
posix.execv("/bin/sh", ["sh", "-c", "echo ESCAPED"])
''', os_level=True),
	case(C, 'system', '''
import posix
print("ESCAPED", posix.system("touch " + context["canary_dir"] + "/pwned"))
''', os_level=True),
	case(C, 'subprocess', '''
import subprocess
print("ESCAPED", subprocess.run(["id"], capture_output=True).stdout)
''', os_level=True),
	case(C, 'posix_spawn', '''
import posix
print("ESCAPED", posix.posix_spawn("/bin/true", ["true"], {}))
''', os_level=True),
	case(C, 'fork_exec_private', '''
import _posixsubprocess, posix
r, w = posix.pipe()
pid = _posixsubprocess.fork_exec(["/bin/true"], [b"/bin/true"], True, (), None, None,
    -1, -1, -1, -1, -1, -1, r, w, True, False, None, None, None, -1, None, False)
print("ESCAPED", pid)
''', os_level=True),
	case(C, 'thread_bomb', '''
import _thread, time
n = 0
while n < 100000:
    _thread.start_new_thread(time.sleep, (60,))
    n += 1
print("ESCAPED", n)
''', os_level=True, bypass={'error', 'killed', 'timeout', 'memory_limit'},
		 timeout_ms=3000),
	case(C, 'threading_bomb', '''
import threading, time
ts = []
for i in range(100000):
    t = threading.Thread(target=time.sleep, args=(60,))
    t.start()
    ts.append(t)
print("ESCAPED", len(ts))
''', os_level=True, bypass={'error', 'killed', 'timeout', 'memory_limit'},
		 timeout_ms=3000),
	case(C, 'vfork_via_spawn', '''
import posix
print("ESCAPED", posix.posix_spawnp("true", ["true"], {}))
''', os_level=True),
	case(C, 'multiprocessing', '''
import multiprocessing
p = multiprocessing.Process(target=print, args=("ESCAPED",))
p.start()
p.join()
''', os_level=True, preimport=('multiprocessing.popen_fork',)),
	case(C, 'setsid_daemon', '''
import posix
posix.setsid()
print("ESCAPED")
''', os_level=True, bypass={'error', 'killed'}),
	case(C, 'unshare_ns', '''
import ctypes
if ctypes.CDLL(None).unshare(0x10000000) == 0:
    print("ESCAPED")
raise OSError("unshare refused")
''', os_level=True),
]
