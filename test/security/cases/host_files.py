"""Reading host files: /etc/passwd, the data directory, /proc of the
sandbox and of the backend, the runner's world-readable secret file."""
from ._casedef import case

C = 'host_files'


def _read(name, path_expr, forbid=(), via='open'):
	"""A case that reads path_expr with one of several file APIs and prints it."""
	bodies = {
		'open': 'print(open(%s).read())',
		'open_bytes': 'print(open(%s, "rb").read())',
		'io': 'import _io\nprint(_io.open(%s).read())',
		'posix': ('import posix\nfd = posix.open(%s, posix.O_RDONLY)\n'
				  'print(posix.read(fd, 65536))'),
		'fileio': 'import _io\nprint(_io.FileIO(%s).read())',
	}
	return case(C, name, bodies[via] % path_expr, os_level=True, forbid=forbid)


PASSWD = [r'root:.*:0:0:']
ENVIRON = [r'PGDATA', r'PATH=', r'HOME=', r'PGPORT', r'LANG=']

CASES = [
	_read('etc_passwd_open', '"/etc/passwd"', PASSWD),
	_read('etc_passwd_bytes', '"/etc/passwd"', PASSWD, via='open_bytes'),
	_read('etc_passwd_io', '"/etc/passwd"', PASSWD, via='io'),
	_read('etc_passwd_posix', '"/etc/passwd"', PASSWD, via='posix'),
	_read('etc_passwd_fileio', '"/etc/passwd"', PASSWD, via='fileio'),
	_read('etc_shadow', '"/etc/shadow"', [r'root:[^:]*:\d+']),
	_read('etc_hostname', '"/etc/hostname"', via='posix'),
	_read('tmp_secret_open', 'context["secret_path"]'),
	_read('tmp_secret_posix', 'context["secret_path"]', via='posix'),
	_read('tmp_secret_fileio', 'context["secret_path"]', via='fileio'),
	_read('datadir_secret_open', 'context["data_secret_path"]'),
	_read('datadir_secret_posix', 'context["data_secret_path"]', via='posix'),
	_read('datadir_pg_hba', 'context["data_dir"] + "/pg_hba.conf"',
		  [r'local\s+all', r'host\s+all'], via='io'),
	_read('datadir_pg_control', 'context["data_dir"] + "/global/pg_control"',
		  via='fileio'),
	_read('datadir_postmaster_pid', 'context["data_dir"] + "/postmaster.pid"',
		  via='posix'),
	_read('proc_self_environ', '"/proc/self/environ"', ENVIRON, via='fileio'),
	_read('proc_backend_environ', '"/proc/%d/environ" % context["backend_pid"]',
		  ENVIRON, via='fileio'),
	_read('proc_backend_cmdline', '"/proc/%d/cmdline" % context["backend_pid"]',
		  [r'postgres'], via='posix'),
	_read('proc_backend_maps', '"/proc/%d/maps" % context["backend_pid"]',
		  [r'codeexec\.so', r'postgres'], via='io'),
	case(C, 'proc_backend_mem', '''
import posix
pid = context["backend_pid"]
maps = open("/proc/%d/maps" % pid).read().splitlines()
fd = posix.open("/proc/%d/mem" % pid, posix.O_RDONLY)
start = int(maps[0].split("-")[0], 16)
posix.lseek(fd, start, 0)
print("ESCAPED", posix.read(fd, 64))
''', os_level=True),
	case(C, 'proc_backend_mem_write', '''
import posix
fd = posix.open("/proc/%d/mem" % context["backend_pid"], posix.O_RDWR)
print("ESCAPED", fd)
''', os_level=True),
	case(C, 'proc_1_root', '''
import posix
print(posix.listdir("/proc/1/root/etc"))
print(open("/proc/1/root/etc/passwd").read())
''', os_level=True, forbid=PASSWD),
	case(C, 'proc_self_cwd_escape', '''
import posix
posix.chdir("/proc/self/cwd/..")
print(posix.listdir("."))
print(open(context["secret_path"]).read())
''', os_level=True),
	case(C, 'dotdot_traversal', '''
print(open("../../../../../../../../etc/passwd").read())
''', os_level=True, forbid=PASSWD),
	case(C, 'openat_dirfd', '''
import posix
d = posix.open("/", posix.O_RDONLY)
fd = posix.open("etc/passwd", posix.O_RDONLY, dir_fd=d)
print(posix.read(fd, 4096))
''', os_level=True, forbid=PASSWD),
	case(C, 'stdin_fd_reuse', '''
import posix
for fd in range(0, 64):
    try:
        posix.lseek(fd, 0, 0)
        print(fd, posix.read(fd, 4096))
    except OSError:
        pass
print(open(context["secret_path"]).read())
''', os_level=True),
	case(C, 'inherited_fd_scan', '''
import posix
found = []
for fd in range(3, 1024):
    try:
        posix.fstat(fd)
        found.append(fd)
    except OSError:
        pass
# the sandbox has only its own pipes; a backend fd (a relation file, the
# postmaster socket) would be an escape
for fd in found:
    data = posix.pread(fd, 4096, 0)
    print("ESCAPED", fd, data)
print(open(context["secret_path"]).read())
''', os_level=True),
]
