"""Listing directories of the host."""
from ._casedef import case

C = 'dir_listing'


def _ls(name, path_expr, forbid, fn='listdir'):
	code = 'import posix\nprint(posix.%s(%s))' % (fn, path_expr)
	if fn == 'scandir':
		code = 'import posix\nprint([e.name for e in posix.scandir(%s)])' % path_expr
	return case(C, name, code, os_level=True, forbid=forbid)


CASES = [
	_ls('root', '"/"', [r"'(etc|home|var|root)'"]),
	_ls('root_scandir', '"/"', [r"'(etc|home|var|root)'"], fn='scandir'),
	_ls('etc', '"/etc"', [r"'passwd'", r"'hostname'"]),
	_ls('tmp', '"/tmp"', [r"codeexec-sec"]),
	_ls('runner_dir', 'context["canary_dir"] + "/.."', [r"secret"]),
	_ls('data_dir', 'context["data_dir"]', [r"PG_VERSION", r"pg_wal"]),
	_ls('proc', '"/proc"', [r"'\d+'"]),
	_ls('home', '"/home"', [r"'\w+'"]),
	_ls('root_home', '"/root"', [r"'\.\w+'"], fn='scandir'),
	case(C, 'glob_module', '''
import glob
print(glob.glob("/etc/*"))
''', os_level=True, forbid=[r"/etc/passwd"], bypass={'ok', 'error', 'killed'}),
	case(C, 'pathlib_iterdir', '''
import pathlib
print(list(pathlib.Path(context["data_dir"]).iterdir()))
''', os_level=True, forbid=[r"PG_VERSION"]),
]
