#!/usr/bin/python3
"""test/bench/gvisor_start.py - where a spawn-mode-gvisor call's second goes,
split by what the container imports (not part of the test command's
pass/fail; figures in docs/security.md, Spawn mode gvisor):

    /usr/bin/python3 test/bench/gvisor_start.py [RUNS]      (as root)

Needs a running cluster with the extension (PGHOST, PGPORT, PGUSER,
PGDATABASE) and runsc.  A session in gvisor mode makes one call, so its
backend writes its OCI bundle; the bundle is copied to a temporary
directory, and runsc then runs that copy by hand, as the backend would,
RUNS times (default 8) for each of three programs in alternating order:

  helper, default allowlist   a print(1) request with the GUC's allowlist
  helper, no allowlist        the same request with allowed_imports empty
  python3 -I -S               python3 -c 'print(1)' in place of the helper

Each row prints the median, minimum and maximum wall time of runsc's run.
The first row minus the second is the allowlist's pre-import; the second
minus the third is the helper's own start (CPython, its validator and
runner, the codecs it loads before the lock) beyond a bare interpreter.
"""
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def helper_wire():
	"""test/helper/run.py's request encoder, without running its suite."""
	spec = importlib.util.spec_from_file_location('helper_suite', os.path.join(ROOT, 'test/helper/run.py'))
	mod = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(mod)
	return mod


def copy_bundle(work):
	"""A live gvisor-mode backend's bundle, copied to work; returns
	(its config, runsc's path, the server's allowlist)."""
	conn = psycopg2.connect('')
	conn.autocommit = True
	try:
		cur = conn.cursor()
		cur.execute("set codeexec.spawn_mode = gvisor")
		cur.execute("select pg_backend_pid(), current_setting('data_directory'), "
					"current_setting('codeexec.runsc_path'), current_setting('codeexec.allowed_imports')")
		pid, data_dir, runsc, allowed = cur.fetchone()
		cur.execute("select status from codeexec_run('x = 1')")
		status = cur.fetchone()[0]
		if status != 'ok':
			sys.exit('gvisor_start: a gvisor-mode call ended %r' % status)
		bundle = os.path.join(data_dir, 'base/pgsql_tmp/pgsql_tmp_codeexec_gvisor.%d' % pid)
		shutil.copytree(os.path.join(bundle, 'rootfs'), os.path.join(work, 'rootfs'), symlinks=True)
		with open(os.path.join(bundle, 'config.json')) as f:
			config = json.load(f)
	finally:
		conn.close()
	return config, runsc, [m.strip() for m in allowed.split(',') if m.strip()]


def run_container(work, runsc, config, stdin_bytes, n):
	"""One runsc run of the copied bundle with config; returns seconds."""
	with open(os.path.join(work, 'config.json'), 'w') as f:
		json.dump(config, f)
	shutil.chown(os.path.join(work, 'config.json'), 'postgres', 'postgres')
	state = os.path.join(work, 'state')
	shutil.rmtree(state, ignore_errors=True)
	os.mkdir(state)
	shutil.chown(state, 'postgres', 'postgres')
	argv = ['/usr/sbin/runuser', '-u', 'postgres', '--', runsc, '--rootless', '--network=none',
			'--ignore-cgroups', '--root=' + state, 'run', '--bundle', work, 'codeexec-bench-%d-%d' % (os.getpid(), n)]
	start = time.monotonic()
	r = subprocess.run(argv, input=stdin_bytes, capture_output=True, env={}, timeout=120)
	took = time.monotonic() - start
	if r.returncode != 0 or (stdin_bytes and not r.stdout.startswith(b'CXR1')) or \
			(not stdin_bytes and r.stdout != b'1\n'):
		sys.exit('gvisor_start: runsc exit %d, stdout %r, stderr %r' % (r.returncode, r.stdout[:80], r.stderr[-300:]))
	return took


def main():
	if os.geteuid() != 0:
		sys.exit('gvisor_start: run as root (runsc runs as the postgres OS user)')
	runs = int(sys.argv[1]) if len(sys.argv) > 1 else 8
	wire = helper_wire()
	work = tempfile.mkdtemp(prefix='codeexec-gvisor-start-')
	try:
		config, runsc, allowed = copy_bundle(work)
		subprocess.run(['chown', '-R', 'postgres:', work], check=True)
		os.chmod(work, 0o755)
		flags = wire.F_VALIDATE | wire.F_REQUIRE_ISO | 0x20	# WIRE_FLAG_IN_GVISOR
		python = json.loads(json.dumps(config))
		python['process']['args'] = ['/usr/bin/python3', '-I', '-S', '-c', 'print(1)']
		programs = [
			('helper, default allowlist', config, wire.request('print(1)', flags=flags, imports=allowed)),
			('helper, no allowlist', config, wire.request('print(1)', flags=flags, imports=[])),
			('python3 -I -S', python, b''),
		]
		times = {name: [] for name, _, _ in programs}
		for i in range(runs):
			order = programs if i % 2 == 0 else programs[::-1]
			for name, cfg, req in order:
				times[name].append(run_container(work, runsc, cfg, req, len(times[name]) + 3 * i))
	finally:
		shutil.rmtree(work, ignore_errors=True)
	print('| program in the container | runs | median s | min s | max s |')
	print('|---|---|---|---|---|')
	for name, _, _ in programs:
		t = times[name]
		print('| %s | %d | %.3f | %.3f | %.3f |' % (name, len(t), statistics.median(t), min(t), max(t)))
	print('(load average at the end: %s)' % ' '.join(open('/proc/loadavg').read().split()[:3]))


if __name__ == '__main__':
	main()
