"""Writing, creating, renaming and removing files on the host."""
from ._casedef import case

C = 'file_write'

CASES = [
	case(C, 'create_in_canary_dir', '''
f = open(context["canary_dir"] + "/pwned", "w")
f.write("PWNED")
f.close()
print("ESCAPED")
''', os_level=True),
	case(C, 'create_posix', '''
import posix
fd = posix.open(context["canary_dir"] + "/pwned", posix.O_WRONLY | posix.O_CREAT, 0o666)
posix.write(fd, b"PWNED")
print("ESCAPED")
''', os_level=True),
	case(C, 'append_canary_file', '''
with open(context["canary_file"], "a") as f:
    f.write("PWNED")
print("ESCAPED")
''', os_level=True),
	case(C, 'truncate_canary_file', '''
import posix
posix.truncate(context["canary_file"], 0)
print("ESCAPED")
''', os_level=True),
	case(C, 'unlink_canary_file', '''
import posix
posix.unlink(context["canary_file"])
print("ESCAPED")
''', os_level=True),
	case(C, 'rename_canary_file', '''
import posix
posix.rename(context["canary_file"], context["canary_dir"] + "/moved")
print("ESCAPED")
''', os_level=True),
	case(C, 'chmod_canary_file', '''
import posix
posix.chmod(context["canary_file"], 0o777)
print("ESCAPED")
''', os_level=True),
	case(C, 'mkdir_in_canary_dir', '''
import posix
posix.mkdir(context["canary_dir"] + "/pwned")
print("ESCAPED")
''', os_level=True),
	case(C, 'symlink_in_canary_dir', '''
import posix
posix.symlink("/etc/passwd", context["canary_dir"] + "/pwned")
print("ESCAPED")
''', os_level=True),
	case(C, 'write_datadir', '''
with open(context["data_dir"] + "/pwned", "w") as f:
    f.write("PWNED")
print("ESCAPED")
''', os_level=True),
	case(C, 'append_postgresql_conf', '''
with open(context["data_dir"] + "/postgresql.auto.conf", "a") as f:
    f.write("\\nshared_preload_libraries = 'pwned'\\n")
print("ESCAPED")
''', os_level=True),
	case(C, 'write_tmp', '''
import posix
fd = posix.open("/tmp/codeexec-security-pwned", posix.O_WRONLY | posix.O_CREAT, 0o666)
print("ESCAPED", fd)
''', os_level=True),
	case(C, 'write_dev_shm', '''
import posix
fd = posix.open("/dev/shm/codeexec-security-pwned", posix.O_WRONLY | posix.O_CREAT, 0o666)
print("ESCAPED", fd)
''', os_level=True),
	case(C, 'mkfifo_canary', '''
import posix
posix.mkfifo(context["canary_dir"] + "/pwned")
print("ESCAPED")
''', os_level=True),
	case(C, 'hardlink_canary', '''
import posix
posix.link(context["canary_file"], context["canary_dir"] + "/pwned")
print("ESCAPED")
''', os_level=True),
]
