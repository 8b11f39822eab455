"""
casedef: how a security case is written down.

A case is a dict:
  id          unique name (category/short-name)
  category    one of the category names (one module per category)
  code        the Python snippet sent to codeexec_run()
  expect      statuses acceptable with the Python guards on
  errors      if status is 'error', the acceptable error_type names
              (None = any).  Python-level cases use GUARD_ERRORS, which
              leaves out the OS errors on purpose: an attack that got
              past the Python guards and was stopped only by the OS
              layers must fail a Python-level case.
  os_level    True for cases that test an OS boundary; they run a second
              time with the Python guards off (the bypass run)
  bypass      statuses acceptable in the bypass run ('violation' is never
              acceptable there: the validator is off)
  bypass_errors  as `errors`, for the bypass run
  forbid      regexes that must not match stdout+stderr+result+error text
              (the observable sign that the attack worked); every case
              also gets the global markers of the runner (the secrets,
              ESCAPED, ...)
  require     regexes stdout must match (positive controls)
  bypass_require  the same, for the bypass run
  preimport   submodules the code imports lazily (inside a library call),
              added to the bypass run's allowlist so the helper imports
              them before it locks; its own import statements are found
              by the runner
  opts        per-call limits: timeout_ms, memory_mb, max_output_bytes
  max_stdout  stdout (bytes) must not exceed this
  truncated   if set, output_truncated must equal it
  killed_match  if the status is 'killed', a regex that error_type +
              error_message must match (the signal or system call named)
  sql_error   SQLSTATEs that are an acceptable answer instead of a result
              (e.g. a caller asking for more than the superuser allows)
  in_gvisor   keys above that take other values in spawn mode gvisor,
              where gVisor's kernel, not the host's, answers the code
              (the runner applies them when the session's mode is gvisor)

The code reads its targets from `context` (paths, pids, ports that the
runner puts there), so nothing host-specific is written into a case.
"""

# Errors the Python guards raise when they refuse something at run time.
GUARD_ERRORS = frozenset({
	'NameError', 'ImportError', 'ModuleNotFoundError', 'AttributeError',
	'KeyError', 'TypeError', 'ValueError', 'RuntimeError', 'SecurityError',
	'IndexError', 'StopIteration', 'UnboundLocalError',
})

# Errors an OS layer produces when it refuses a system call or a path.
# Not ModuleNotFoundError or ImportError: the bypass run pre-imports every
# module a case imports (runner.imports_of), so an import failing there
# means the attack never reached the system call it is about.
OS_ERRORS = frozenset({
	'PermissionError', 'FileNotFoundError', 'OSError', 'NotADirectoryError',
	'IsADirectoryError', 'BlockingIOError', 'ProcessLookupError',
	'ChildProcessError', 'FileExistsError', 'RuntimeError', 'InterruptedError',
	'MemoryError',
})

# Default outcome of an OS-level case with the guards off: the layer
# refuses with an errno (error) or kills the process (killed).
OS_BYPASS = frozenset({'error', 'killed'})


def case(category, name, code, expect=('violation',), errors=None,
		 os_level=False, bypass=None, bypass_errors=None, forbid=(),
		 require=(), bypass_require=(), max_stdout=None, truncated=None,
		 sql_error=(), killed_match=None, preimport=(), in_gvisor=None, **opts):
	"""Build one case dict; see the module comment for the keys."""
	if in_gvisor:
		# every keyword as given (read before any other local is set, so a
		# key added to the signature is carried too), built twice: as is,
		# and with in_gvisor's values
		args = {k: v for k, v in locals().items()
				if k not in ('category', 'name', 'code', 'in_gvisor', 'opts')}
		args.update(opts)
		base = case(category, name, code, **args)
		changed = case(category, name, code, **dict(args, **in_gvisor))
		base['in_gvisor'] = {k: v for k, v in changed.items() if base[k] != v}
		return base
	if os_level:
		if bypass is None:
			bypass = OS_BYPASS
		if bypass_errors is None and 'error' in bypass:
			bypass_errors = OS_ERRORS
		if 'violation' in bypass:
			raise ValueError('%s: violation cannot be a bypass outcome' % name)
	if errors is None and 'error' in expect and not os_level:
		errors = GUARD_ERRORS
	return {
		'id': '%s/%s' % (category, name),
		'category': category,
		'code': code.strip('\n') + '\n',
		'expect': frozenset(expect),
		'errors': frozenset(errors) if errors is not None else None,
		'os_level': os_level,
		'bypass': frozenset(bypass) if bypass is not None else None,
		'bypass_errors': frozenset(bypass_errors) if bypass_errors is not None else None,
		'forbid': list(forbid),
		'require': list(require),
		'bypass_require': list(bypass_require),
		'max_stdout': max_stdout,
		'truncated': truncated,
		'sql_error': frozenset(sql_error),
		'killed_match': killed_match,
		'preimport': list(preimport),
		'opts': opts,
	}
