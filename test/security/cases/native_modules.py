"""Native escape hatches: ctypes, mmap, signal, resource, fcntl, and
raw memory access."""
from ._casedef import case

C = 'native_modules'

CASES = [
	case(C, 'ctypes_system', '''
import ctypes
libc = ctypes.CDLL("libc.so.6")
print("ESCAPED", libc.system(b"id"))
''', os_level=True),
	case(C, 'ctypes_pythonapi', '''
import ctypes
print("ESCAPED", ctypes.pythonapi.PyEval_GetBuiltins())
'''),
	case(C, 'ctypes_memmove_segv', '''
import ctypes
ctypes.memmove(0, b"x", 1)
''', os_level=True, bypass={'error', 'killed'}),
	case(C, 'mmap_file', '''
import mmap, posix
fd = posix.open(context["secret_path"], posix.O_RDONLY)
m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
print(m[:])
''', os_level=True),
	case(C, 'mmap_exec_page', '''
import mmap
m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
print("ESCAPED")
''', os_level=True),
	case(C, 'signal_alarm_self', '''
import _signal
_signal.alarm(0)
_signal.setitimer(_signal.ITIMER_REAL, 0)
while True:
    pass
''', os_level=True, bypass={'timeout', 'killed'}, timeout_ms=1500),
	case(C, 'resource_nofile', '''
import resource
resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 20, 1 << 20))
print("ESCAPED")
''', os_level=True),
	case(C, 'resource_nproc', '''
import resource
resource.setrlimit(resource.RLIMIT_NPROC, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
print("ESCAPED")
''', os_level=True),
	case(C, 'fcntl_ioctl_tty', '''
import fcntl
fcntl.ioctl(0, 0x5412, b"x")
print("ESCAPED")
''', os_level=True),
	case(C, 'faulthandler_dump', '''
import faulthandler
faulthandler._sigsegv()
''', os_level=True, bypass={'killed', 'error'}),
	case(C, 'io_uring_setup_ctypes', '''
import ctypes
libc = ctypes.CDLL(None)
params = ctypes.create_string_buffer(120)
fd = libc.syscall(425, 8, params)
if fd >= 0:
    print("ESCAPED", fd)
raise OSError("io_uring refused")
''', os_level=True),
	case(C, 'bpf_ctypes', '''
import ctypes
libc = ctypes.CDLL(None)
if libc.syscall(321, 0, 0, 0) >= 0:
    print("ESCAPED")
raise OSError("bpf refused")
''', os_level=True, killed_match=r'\bbpf\b'),
	case(C, 'userfaultfd_ctypes', '''
import ctypes
libc = ctypes.CDLL(None)
if libc.syscall(323, 0) >= 0:
    print("ESCAPED")
raise OSError("userfaultfd refused")
''', os_level=True),
	case(C, 'keyctl_ctypes', '''
import ctypes
libc = ctypes.CDLL(None)
if libc.syscall(250, 0, -3, 0) >= 0:
    print("ESCAPED")
raise OSError("keyctl refused")
''', os_level=True),
	case(C, 'mount_ctypes', '''
import ctypes
libc = ctypes.CDLL(None)
if libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == 0:
    print("ESCAPED")
raise OSError("mount refused")
''', os_level=True),
	case(C, 'uname_hostname', '''
import posix
print("HOST", posix.uname().nodename)
''', os_level=True, bypass={'ok', 'error', 'killed'}, forbid=[r'HOST {hostname}$']),
]
