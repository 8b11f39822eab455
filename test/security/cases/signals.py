"""Signalling the parent, the backend and the postmaster; ptrace."""
from ._casedef import case

C = 'signals'


def _kill(name, target, sig):
	return case(C, name, '''
import posix
posix.kill(%s, %d)
print("ESCAPED")
''' % (target, sig), os_level=True, killed_match=r'\bkill\b')


CASES = [
	_kill('kill_ppid', 'posix.getppid()', 9),
	_kill('term_ppid', 'posix.getppid()', 15),
	_kill('kill_backend', 'context["backend_pid"]', 9),
	_kill('term_backend', 'context["backend_pid"]', 15),
	_kill('int_backend', 'context["backend_pid"]', 2),
	_kill('kill_postmaster', 'context["postmaster_pid"]', 9),
	_kill('quit_postmaster', 'context["postmaster_pid"]', 3),
	_kill('kill_all', '-1', 9),
	_kill('kill_pgrp', '0', 15),
	_kill('probe_backend', 'context["backend_pid"]', 0),
	case(C, 'killpg_backend', '''
import posix
posix.killpg(posix.getpgid(context["backend_pid"]), 9)
print("ESCAPED")
''', os_level=True),
	case(C, 'pidfd_backend', '''
import posix
fd = posix.pidfd_open(context["backend_pid"])
print("ESCAPED", fd)
''', os_level=True),
	case(C, 'ptrace_ctypes', '''
import ctypes
libc = ctypes.CDLL(None)
r = libc.ptrace(16, context["backend_pid"], 0, 0)
if r == 0:
    print("ESCAPED")
raise OSError(ctypes.get_errno(), "ptrace refused")
''', os_level=True, killed_match=r'ptrace'),
	# The seccomp trap must not be defusable: a SIGSYS handler installed
	# through the raw call with the signal number plus 2^32 (the kernel
	# reads an int; a filter comparing 64 bits saw another signal).  The
	# handler is libc's getpid (returns harmlessly), the restorer the one
	# glibc's own sigaction() registered for SIGUSR1 (its struct sigaction,
	# 152 bytes, begins with the handler).
	case(C, 'sigsys_handler_high_bits', '''
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
class KSigaction(ctypes.Structure):
    _fields_ = [("handler", ctypes.c_void_p), ("flags", ctypes.c_ulong),
                ("restorer", ctypes.c_void_p), ("mask", ctypes.c_ulong)]
getpid = ctypes.cast(libc.getpid, ctypes.c_void_p).value
libc.sigaction(10, ctypes.create_string_buffer(getpid.to_bytes(8, "little"), 152), None)
old = KSigaction()
libc.syscall(13, ctypes.c_long(10), None, ctypes.byref(old), ctypes.c_long(8))
new = KSigaction(getpid, 0x04000000, old.restorer, 0)
r = libc.syscall(13, ctypes.c_long(31 | 1 << 32), ctypes.byref(new), None, ctypes.c_long(8))
print("rt_sigaction", r, ctypes.get_errno())
r = libc.syscall(111)
print("ESCAPED: the forbidden call returned", r)
''', os_level=True, bypass={'killed'}, killed_match=r'rt_sigaction'),
	case(C, 'ptrace_traceme', '''
import ctypes
libc = ctypes.CDLL(None)
if libc.ptrace(0, 0, 0, 0) == 0:
    print("ESCAPED")
raise OSError("ptrace refused")
''', os_level=True),
	case(C, 'process_vm_readv', '''
import ctypes
libc = ctypes.CDLL(None)
buf = ctypes.create_string_buffer(8)
print("ESCAPED", libc.process_vm_readv(context["backend_pid"], 0, 0, 0, 0, 0))
''', os_level=True),
	case(C, 'ignore_all_signals_loop', '''
import _signal
for s in range(1, 65):
    try:
        _signal.signal(s, _signal.SIG_IGN)
    except (OSError, ValueError, RuntimeError):
        pass
while True:
    pass
''', os_level=True, bypass={'timeout', 'killed'}, expect={'violation'}, timeout_ms=1500),
	case(C, 'pthread_kill_self_ignored', '''
import _signal
_signal.signal(_signal.SIGXCPU, _signal.SIG_IGN)
while True:
    pass
''', os_level=True, bypass={'timeout', 'killed'}, timeout_ms=1500),
	# The runner is the init of its PID namespace, and Linux drops a signal
	# an init sends itself whose action is the default (docs/security.md,
	# the PID namespace row): its own SIGTERM does not end it, and abort()
	# ends in glibc's last resort, SIGSEGV.  Without the PID namespace both
	# would die of their signal, as they do under gVisor's kernel.
	case(C, 'self_sigterm_dropped_as_init', '''
import posix
posix.kill(posix.getpid(), 15)
print("ALIVE", posix.getpid())
''', os_level=True, bypass={'ok'}, bypass_require=[r'^ALIVE 1$'],
		 in_gvisor=dict(bypass={'killed'}, bypass_require=[], killed_match=r'SIGTERM')),
	case(C, 'self_abort_as_init', '''
import posix
posix.abort()
''', os_level=True, bypass={'killed'}, killed_match=r'SIGSEGV',
		 in_gvisor=dict(killed_match=r'SIGABRT')),
]
