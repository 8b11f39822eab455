#!/usr/bin/python3
"""gvisor/run.py - spawn mode gvisor against the live server named by
PGHOST/PGPORT/PGUSER (test/lib/cluster.sh exports them).

What it proves, beyond the security corpus (which test/run.sh also runs in
this mode):
  - the layer report counts runsc's container as the user, mount and UTS
    layers and says Landlock is replaced, and a call runs with
    codeexec.require_isolation on and is recorded as 'gvisor';
  - the code's system calls reach gVisor's kernel, not the host's (uname,
    compared with exec mode's answer on the same server);
  - the container root the backend writes hides the host's files even for
    a process with no seccomp filter and no Python guards (the bundle is
    run by runsc directly with python3 in place of the helper);
  - the memory, CPU and output limits hold inside gVisor (the CPU limit's
    SIGXCPU, which runsc reports as an exit code, is a timeout), and runsc's
    start is not counted against timeout_ms (codeexec.gvisor_start_ms);
  - timeout, cancel and backend exit leave no runsc process, no container
    state and no bundle behind;
  - a call's CPU counts the sandbox's, not only runsc's own rusage;
  - a missing or failing runsc, or a missing helper, is a clear ERROR.

Runs as root (CI) or as the PostgreSQL OS user; ends with
"N passed, N failed" and exits non-zero on any failure.
"""
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time

import psycopg2
import psycopg2.errors

BUNDLE_PREFIX = 'pgsql_tmp_codeexec_gvisor.'
passed = 0
failed = 0


def check(name, fn):
	global passed, failed
	try:
		detail = fn()
		ok = True
	except AssertionError as e:
		ok, detail = False, str(e)
	except Exception as e:		# an unexpected error fails the check too
		ok, detail = False, '%s: %s' % (type(e).__name__, e)
	if ok:
		passed += 1
		print('ok - %s%s' % (name, ' (%s)' % detail if detail else ''))
	else:
		failed += 1
		print('not ok - %s: %s' % (name, detail))


def session(mode='gvisor'):
	conn = psycopg2.connect('')
	conn.autocommit = True
	cur = conn.cursor()
	cur.execute('set codeexec.spawn_mode = %s', (mode,))
	return conn, cur


def one(cur, sql, args=()):
	cur.execute(sql, args)
	return cur.fetchone()


def server_setting(name):
	conn, cur = session()
	try:
		return one(cur, 'select current_setting(%s)', (name,))[0]
	finally:
		conn.close()


DATA_DIR = server_setting('data_directory')
RUNSC = server_setting('codeexec.runsc_path')	# the runsc the server runs


def bundle_dir(backend_pid):
	return os.path.join(DATA_DIR, 'base', 'pgsql_tmp', BUNDLE_PREFIX + str(backend_pid))


def runsc_processes(bundle=BUNDLE_PREFIX):
	"""Processes of the PostgreSQL OS user that belong to a runsc of ours:
	runsc and its gofer and sandbox name the bundle (by default any
	backend's) in their arguments.  Unless a bundle is named, the stubs of
	any gVisor sandbox count too: they show as 'exe' with no arguments.
	Zombies count."""
	uid = pwd.getpwnam('postgres').pw_uid
	found = []
	for pid in os.listdir('/proc'):
		if not pid.isdigit():
			continue
		try:
			if os.stat('/proc/' + pid).st_uid != uid:
				continue
			with open('/proc/%s/cmdline' % pid, 'rb') as f:
				cmd = f.read().replace(b'\0', b' ').decode(errors='replace')
			with open('/proc/%s/comm' % pid) as f:
				comm = f.read().strip()
		except OSError:
			continue
		if bundle in cmd or (bundle == BUNDLE_PREFIX and comm == 'exe' and cmd == ''):
			found.append('%s %s %s' % (pid, comm, cmd))
	return found


def eventually(cond, seconds=10):
	deadline = time.monotonic() + seconds
	while not cond():
		if time.monotonic() > deadline:
			return False
		time.sleep(0.2)
	return True


def no_runsc_left(backend_pid=None):
	"""Nothing of backend_pid's containers (of any, when None) is left."""
	bundle = bundle_dir(backend_pid) if backend_pid else BUNDLE_PREFIX
	assert eventually(lambda: not runsc_processes(bundle)), 'left: %s' % runsc_processes(bundle)


def test_isolation_report():
	conn, cur = session()
	try:
		cur.execute('select layer, active, detail from codeexec_isolation()')
		rows = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
	finally:
		conn.close()
	inactive = sorted(k for k, (a, _) in rows.items() if not a)
	assert inactive == ['landlock'], 'inactive layers: %s' % inactive
	assert rows['landlock'][1].startswith('not in gVisor; replaced'), rows['landlock'][1]
	assert "gVisor container's read-only root" in rows['mount_namespace'][1], \
		rows['mount_namespace'][1]
	assert rows['uts_namespace'][1] == 'hostname "codeexec"', rows['uts_namespace'][1]
	return '%d layers, landlock replaced' % len(rows)


def test_print_runs_and_is_recorded():
	conn, cur = session()
	try:
		assert one(cur, 'show codeexec.require_isolation')[0] == 'on'
		eid, status, out = one(cur, "select execution_id, status, stdout from codeexec_run('print(6 * 7)')")
		assert (status, out) == ('ok', '42\n'), (status, out)
		mode = one(cur, 'select sandbox_mode from codeexec_execution where id = %s', (eid,))[0]
		assert mode == 'gvisor', mode
	finally:
		conn.close()


UNAME_CODE = 'import os\nu = os.uname()\nprint(u.release, u.nodename)'


def uname_in(mode):
	conn, cur = session(mode)
	try:
		cur.execute('set codeexec.unsafe_no_py_guards = on')
		status, out, err = one(cur, 'select status, stdout, error_message from codeexec_run(%s)',
							   (UNAME_CODE,))
		assert status == 'ok', '%s mode: %s %s' % (mode, status, err)
		return out.split()
	finally:
		conn.close()


def test_kernel_is_gvisor():
	host = os.uname().release
	exec_release, exec_node = uname_in('exec')
	gv_release, gv_node = uname_in('gvisor')
	# exec mode shows the host's kernel: the check below can tell them apart
	assert exec_release == host, 'exec mode saw %s, host is %s' % (exec_release, host)
	assert gv_release != host, 'gvisor mode saw the host kernel %s' % gv_release
	assert (exec_node, gv_node) == ('codeexec', 'codeexec'), (exec_node, gv_node)
	return 'host %s, gVisor says %s' % (host, gv_release)


# Run inside the container in place of the helper: no seccomp, no guards.
PROBE = r'''
import json, os
out = {"root": sorted(os.listdir("/")), "etc": sorted(os.listdir("/etc")),
       "tmp": os.listdir("/tmp")}
for p in [%r, "/etc/passwd", "/home", "/var", "/root", "/run"]:
    out[p] = os.path.exists(p)
for p in ["/tmp/w", "/usr/w", "/w"]:
    try:
        open(p, "w")
        out[p] = "written"
    except OSError as e:
        out[p] = e.errno
print(json.dumps(out))
'''


def as_postgres(argv):
	if os.geteuid() == 0:
		return ['/usr/sbin/runuser', '-u', 'postgres', '--'] + argv
	return argv


def test_bundle_root_hides_host():
	secret = os.path.join(DATA_DIR, 'PG_VERSION')
	assert os.path.exists(secret), 'the control file is missing on the host'
	conn, cur = session()
	work = tempfile.mkdtemp(prefix='codeexec-gvisor-test-')
	try:
		pid = one(cur, 'select pg_backend_pid()')[0]
		assert one(cur, "select status from codeexec_run('x = 1')")[0] == 'ok'
		bundle = bundle_dir(pid)
		shutil.copytree(os.path.join(bundle, 'rootfs'), os.path.join(work, 'rootfs'), symlinks=True)
		with open(os.path.join(bundle, 'config.json')) as f:
			config = json.load(f)
		config['process']['args'] = ['/usr/bin/python3', '-I', '-S', '-c', PROBE % secret]
		with open(os.path.join(work, 'config.json'), 'w') as f:
			json.dump(config, f)
		os.mkdir(os.path.join(work, 'state'))
		if os.geteuid() == 0:
			subprocess.run(['chown', '-R', 'postgres:', work], check=True)
		os.chmod(work, 0o755)
		r = subprocess.run(as_postgres([RUNSC, '--rootless', '--network=none', '--ignore-cgroups',
										'--root=' + os.path.join(work, 'state'), 'run',
										'--bundle', work, 'codeexec-test-%d' % os.getpid()]),
						   capture_output=True, text=True, timeout=120, env={})
		assert r.returncode == 0, 'runsc exit %d: %s' % (r.returncode, r.stderr[-500:])
		out = json.loads(r.stdout)
	finally:
		conn.close()
		shutil.rmtree(work, ignore_errors=True)
	allowed = {'usr', 'etc', 'bin', 'lib', 'lib32', 'lib64', 'libx32', 'sbin',
			   'codeexec-helper', 'proc', 'sys', 'dev', 'tmp'}
	assert set(out['root']) <= allowed and {'usr', 'codeexec-helper'} <= set(out['root']), out['root']
	assert set(out['etc']) <= {'alternatives', 'ld.so.cache'} and out['tmp'] == [], out
	seen = [p for p in (secret, '/etc/passwd', '/home', '/var', '/root', '/run') if out[p]]
	assert not seen, 'visible in the container: %s' % seen
	# / and /tmp are read-only mounts; /usr is also the host's root-owned tree
	erofs, eacces = 30, 13
	assert (out['/tmp/w'], out['/w']) == (erofs, erofs) and out['/usr/w'] in (erofs, eacces), out
	return 'root: %s' % ' '.join(out['root'])


def test_short_timeout_still_runs():
	"""runsc's start (about a second) is not the code's time: a call whose
	timeout_ms is shorter than it still runs; without the allowance it
	times out."""
	conn, cur = session()
	try:
		code = 'print(sum(range(10 ** 6)))'
		ok = one(cur, 'select status, stdout from codeexec_run(%s, timeout_ms => 500)', (code,))
		cur.execute('set codeexec.gvisor_start_ms = 0')
		short = one(cur, 'select status from codeexec_run(%s, timeout_ms => 500)', (code,))[0]
	finally:
		conn.close()
	assert ok == ('ok', '499999500000\n'), ok
	assert short == 'timeout', 'without codeexec.gvisor_start_ms: %s' % short


def test_timeout_leaves_nothing():
	conn, cur = session()
	try:
		pid = one(cur, 'select pg_backend_pid()')[0]
		start_ms = int(one(cur, "select setting from pg_settings where name = 'codeexec.gvisor_start_ms'")[0])
		# sleeps, so that the wall-clock deadline (not the CPU limit) ends it:
		# the test switch lets it import time
		cur.execute('set codeexec.unsafe_no_py_guards = on')
		began = time.monotonic()
		status = one(cur, 'select status from codeexec_run(%s, timeout_ms => 1000)',
					 ('import time\ntime.sleep(3600)',))[0]
		took = time.monotonic() - began
		assert status == 'timeout', status
		assert took < (1000 + start_ms) / 1000 + 3, 'took %.1f s' % took
		result = 'timed out after %.1f s (timeout_ms 1000 + gvisor_start_ms %d)' % (took, start_ms)
		state = os.listdir(os.path.join(bundle_dir(pid), 'state'))
		assert state == [], 'container state left: %s' % state
		assert one(cur, "select status from codeexec_run('print(1)')")[0] == 'ok'
	finally:
		conn.close()
	no_runsc_left(pid)
	return result


def long_call_in_thread(cur, result):
	def run():
		try:
			cur.execute("select status from codeexec_run('while True: pass', timeout_ms => 60000)")
			result.append(cur.fetchone()[0])
		except psycopg2.Error as e:
			result.append(e)
	t = threading.Thread(target=run)
	t.start()
	return t


def wait_for_container(pid):
	bundle = bundle_dir(pid)
	assert eventually(lambda: runsc_processes(bundle), 30), \
		'no runsc started for backend %d' % pid


def interrupt_long_call(interrupt):
	"""Start an endless call on a session of its own, wait for its container,
	then `select <interrupt>(pid)` from a second session.  Returns the
	backend's pid, what the call ended with, the seconds it took to end after
	the interrupt, and the call's connection and cursor (the caller closes
	them)."""
	conn, cur = session()
	admin, acur = session()
	try:
		pid = one(cur, 'select pg_backend_pid()')[0]
		result = []
		t = long_call_in_thread(cur, result)
		wait_for_container(pid)
		assert os.path.isdir(bundle_dir(pid))
		began = time.monotonic()
		one(acur, 'select %s(%%s)' % interrupt, (pid,))
		t.join(30)
		return pid, result, time.monotonic() - began, conn, cur
	finally:
		admin.close()


def test_cancel_kills_the_container():
	pid, result, took, conn, cur = interrupt_long_call('pg_cancel_backend')
	try:
		assert result and isinstance(result[0], psycopg2.errors.QueryCanceled), result
		assert os.listdir(os.path.join(bundle_dir(pid), 'state')) == []
		assert one(cur, "select status from codeexec_run('print(1)')")[0] == 'ok'
	finally:
		conn.close()
	no_runsc_left(pid)
	return 'cancelled in %.3f s' % took


def test_terminate_removes_bundle():
	pid, result, took, conn, cur = interrupt_long_call('pg_terminate_backend')
	conn.close()
	assert result and isinstance(result[0], psycopg2.Error), result
	assert eventually(lambda: not os.path.exists(bundle_dir(pid))), 'bundle left: %s' % bundle_dir(pid)
	no_runsc_left(pid)


def test_limits_hold_in_gvisor():
	conn, cur = session()
	try:
		mem = one(cur, "select status from codeexec_run('x = bytearray(512 * 1024 * 1024)', memory_mb => 128)")[0]
		out = one(cur, "select status, output_truncated, length(stdout) from codeexec_run("
				  "'print(\"x\" * 5000000)', max_output_bytes => 4096)")
		# the CPU limit (SIGXCPU, seen through runsc's exit code 128 + 24)
		# ends it long before the wall-clock deadline of 1 s + gvisor_start_ms
		cpu = one(cur, "select status, error_message from codeexec_run('while True: pass', "
				  "timeout_ms => 1000)")
	finally:
		conn.close()
	assert cpu == ('timeout', 'execution exceeded its CPU time limit (SIGXCPU)'), cpu
	assert mem == 'memory_limit', mem
	assert out[0] == 'ok' and out[1] is True and out[2] <= 4096, out


CPU_LOOP = 'x = 0\nfor i in range(15000000):\n    x += i\nprint(x > 0)'


def test_cpu_is_counted():
	"""runsc's wait4 rusage holds only part of its sandbox's CPU (it
	recorded 1.1 s of a loop that takes 2.1 s on the host); the backend
	also reads the CPU clocks of runsc's process tree when the response
	arrives.  The loop's CPU in gVisor (where it runs natively in a stub
	process, plus the Sentry's and runsc's work) cannot be less than on the
	host in fork-server mode."""
	figures = {}
	for mode in ('forkserver', 'gvisor'):
		conn, cur = session(mode)
		try:
			figures[mode] = one(cur, 'select status, stdout, cpu_time_seconds from codeexec_run(%s, '
								'timeout_ms => 30000)', (CPU_LOOP,))
		finally:
			conn.close()
	host, gvisor = figures['forkserver'], figures['gvisor']
	assert host[:2] == ('ok', 'True\n') and gvisor[:2] == ('ok', 'True\n'), figures
	assert gvisor[2] >= 0.9 * host[2], 'gvisor %.3f s of CPU against %.3f s on the host' % (gvisor[2], host[2])
	return 'CPU %.2f s in gVisor, %.2f s in fork-server mode' % (gvisor[2], host[2])


def test_missing_runsc_is_an_error():
	conn, cur = session()
	try:
		cur.execute("set codeexec.runsc_path = '/nonexistent/runsc'")
		try:
			cur.execute("select status from codeexec_run('print(1)')")
		except psycopg2.Error as e:
			assert e.pgcode == '58P01', (e.pgcode, e.pgerror)
			assert e.diag.message_primary == "could not execute gVisor's runsc", e.diag.message_primary
			assert 'codeexec.runsc_path' in (e.diag.message_hint or ''), e.diag.message_hint
			return e.diag.message_primary
		raise AssertionError('the call ran without runsc')
	finally:
		conn.close()


def test_runsc_failure_is_an_error():
	"""runsc failing itself (here: a wrapper that gives it a platform that
	does not exist) is a server-side ERROR with runsc's own message, not a
	'killed' result; so is a helper path that does not exist."""
	work = tempfile.mkdtemp(prefix='codeexec-gvisor-test-')
	wrapper = os.path.join(work, 'runsc')
	with open(wrapper, 'w') as f:
		f.write('#!/bin/sh\nexec %s --platform=no-such-platform "$@"\n' % RUNSC)
	os.chmod(work, 0o755)
	os.chmod(wrapper, 0o755)
	conn, cur = session()
	errors = []
	try:
		for setting, value in [('codeexec.runsc_path', wrapper),
							   ('codeexec.helper_path', '/nonexistent/codeexec-helper')]:
			cur.execute('set %s = %%s' % setting, (value,))
			try:
				cur.execute("select status from codeexec_run('print(1)')")
				errors.append(('no error', cur.fetchone()))
			except psycopg2.Error as e:
				errors.append((e.pgcode, e.diag.message_primary, e.diag.message_detail))
			cur.execute('reset %s' % setting)
	finally:
		conn.close()
		shutil.rmtree(work, ignore_errors=True)
	runsc, helper = errors
	assert runsc[:2] == ('58000', "gVisor's runsc could not run the codeexec container"), runsc
	assert 'no-such-platform' in (runsc[2] or ''), runsc
	assert helper[:2] == ('58P01', 'could not execute the codeexec helper'), helper


def main():
	for name, fn in [
		('isolation report counts the container, Landlock replaced', test_isolation_report),
		('a call runs with require_isolation and is recorded as gvisor', test_print_runs_and_is_recorded),
		("the code's system calls reach gVisor's kernel", test_kernel_is_gvisor),
		('the bundle root hides the host without seccomp or guards', test_bundle_root_hides_host),
		('rlimits (memory, CPU) and the output cap hold in gVisor', test_limits_hold_in_gvisor),
		("the CPU counted is the sandbox's too", test_cpu_is_counted),
		('a timeout shorter than runsc start still runs the code', test_short_timeout_still_runs),
		('timeout leaves no runsc process or container state', test_timeout_leaves_nothing),
		('cancel kills the container', test_cancel_kills_the_container),
		('backend exit removes the bundle and the container', test_terminate_removes_bundle),
		('a missing runsc is a clear ERROR', test_missing_runsc_is_an_error),
		('a failing runsc or a missing helper is a clear ERROR', test_runsc_failure_is_an_error),
		# last, and alone on the machine in CI: no gVisor process of ours at all
		('no runsc, gofer, sandbox or stub process is left', no_runsc_left),
	]:
		check(name, fn)
	print('gvisor: %d passed, %d failed' % (passed, failed))
	return 0 if failed == 0 else 1


if __name__ == '__main__':
	raise SystemExit(main())
