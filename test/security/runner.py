"""
runner.py - runs the adversarial corpus (cases/) against the live server
named by PGHOST/PGPORT/PGUSER, with the Python guards on, then runs every
os_level case again with them off (the layer-bypass run).

For each case it sets up the targets (a world-readable secret file, a
secret file in the data directory, loopback listeners, a world-writable
canary directory and file), calls codeexec_run(), and checks:
  - the status is one the case accepts for this run (and, for 'error', the
    error_type);
  - neither secret appears anywhere in the answer; no forbidden marker
    (ESCAPED, the case's own regexes) appears in what the code produced;
  - the listeners saw no connection and no datagram;
  - the canary directory is still empty, the canary file unchanged, no file
    appeared at the other write targets;
  - the backend that made the call is still the same, alive process.
After both runs: the postmaster never restarted, no helper process is left,
and the bypass switch cannot be set by a non-superuser.

Prints one line per check, a per-category table, and "N passed, N failed".
Only loopback addresses (127.0.0.1, ::1) and Unix sockets are ever used.
"""
import ast
import json
import os
import re
import secrets
import shutil
import socket
import stat
import sys
import tempfile
import threading
import time

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as corpus					# noqa: E402

BYPASS_GUC = os.environ.get('CODEEXEC_BYPASS_GUC', 'codeexec.unsafe_no_py_guards')
MARKERS = [r'ESCAPED', r'PWNED', r'CONNECTED']
NOT_RUN = {'violation', 'syntax_error'}	# statuses where no user code ran
HOSTNAME = socket.gethostname()
IMPORTS_GUC = 'codeexec.allowed_imports'	# superuser-set, comma-separated
# in the fork server's widened list for the bypass run, never in the default
SERVER_PROBE_MODULE = 'ctypes'


class Listeners:
	"""Loopback TCP (IPv4, IPv6 if the host has it), UDP and Unix listeners
	that count every connection or datagram they receive."""

	def __init__(self, rundir):
		self.hits = []
		self.lock = threading.Lock()
		self.socks = []
		self.tcp4 = self._tcp(socket.AF_INET, '127.0.0.1')
		try:
			self.tcp6 = self._tcp(socket.AF_INET6, '::1')
		except OSError:
			self.tcp6 = None
		self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		self.udp.bind(('127.0.0.1', 0))
		self.socks.append(self.udp)
		threading.Thread(target=self._recv_udp, daemon=True).start()
		self.unix_path = os.path.join(rundir, 'listen.sock')
		u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		u.bind(self.unix_path)
		os.chmod(self.unix_path, 0o777)
		u.listen(16)
		self.socks.append(u)
		threading.Thread(target=self._accept, args=(u, 'unix'), daemon=True).start()

	def _tcp(self, family, addr):
		s = socket.socket(family, socket.SOCK_STREAM)
		s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		s.bind((addr, 0))
		s.listen(16)
		self.socks.append(s)
		threading.Thread(target=self._accept, args=(s, addr), daemon=True).start()
		return s.getsockname()[1]

	def _record(self, what):
		with self.lock:
			self.hits.append(what)

	def _accept(self, s, name):
		while True:
			try:
				c, peer = s.accept()
			except OSError:
				return
			self._record('%s connection from %r' % (name, peer))
			c.close()

	def _recv_udp(self):
		while True:
			try:
				data, peer = self.udp.recvfrom(65536)
			except OSError:
				return
			self._record('udp datagram %r from %r' % (data[:32], peer))

	def count(self):
		with self.lock:
			return len(self.hits)

	def since(self, n):
		with self.lock:
			return self.hits[n:]

	def close(self):
		for s in self.socks:
			s.close()


class Fixture:
	"""The host-side targets of the corpus and the context handed to the code."""

	def __init__(self, conn):
		cur = conn.cursor()
		cur.execute('show data_directory')
		self.data_dir = cur.fetchone()[0]
		cur.execute('show unix_socket_directories')
		sockdir = cur.fetchone()[0].split(',')[0].strip()
		cur.execute('show port')
		self.port = int(cur.fetchone()[0])
		cur.execute("select pg_read_file('postmaster.pid')")
		self.postmaster_pid = int(cur.fetchone()[0].split('\n')[0])
		st = os.stat(self.data_dir)
		self.server_uid, self.server_gid = st.st_uid, st.st_gid

		self.rundir = tempfile.mkdtemp(prefix='codeexec-sec-')
		os.chmod(self.rundir, 0o755)
		self.secret_tmp = 'CXSEC' + secrets.token_hex(16)
		self.secret_data = 'CXSEC' + secrets.token_hex(16)
		# World-readable on purpose: only the sandbox stands between the
		# helper (running as the server's user) and this file.
		self.secret_path = os.path.join(self.rundir, 'secret.txt')
		with open(self.secret_path, 'w') as f:
			f.write(self.secret_tmp + '\n')
		os.chmod(self.secret_path, 0o644)
		# In the data directory, created by the server itself (so it has
		# the server's owner and mode whoever runs this script).
		self.data_secret_path = os.path.join(self.data_dir, 'codeexec_security_secret.txt')
		cur.execute("copy (select %s) to " + quote_literal(self.data_secret_path),
					(self.secret_data,))
		# World-writable: only the sandbox stops the helper writing here.
		self.canary_dir = os.path.join(self.rundir, 'canary')
		os.mkdir(self.canary_dir)
		os.chmod(self.canary_dir, 0o777)
		self.canary_file = os.path.join(self.rundir, 'canary.txt')
		self._write_canary_file()
		self.outside_targets = [
			os.path.join(self.data_dir, 'pwned'),
			'/tmp/codeexec-security-pwned',
			'/dev/shm/codeexec-security-pwned',
		]
		for p in self.outside_targets:
			if os.path.lexists(p):
				raise SystemExit('stale write target %s exists; remove it first' % p)
		self.auto_conf = os.path.join(self.data_dir, 'postgresql.auto.conf')
		self.auto_conf_sig = file_signature(self.auto_conf)
		self.listeners = Listeners(self.rundir)
		self.context = {
			'xs': [1, 2, 3],
			'secret_path': self.secret_path,
			'data_dir': self.data_dir,
			'data_secret_path': self.data_secret_path,
			'postmaster_pid': self.postmaster_pid,
			'pg_port': self.port,
			'pg_socket': os.path.join(sockdir, '.s.PGSQL.%d' % self.port),
			'listen_port': self.listeners.tcp4,
			'listen_port6': self.listeners.tcp6,
			'listen_udp_port': self.listeners.udp.getsockname()[1],
			'listen_unix': self.listeners.unix_path,
			'canary_dir': self.canary_dir,
			'canary_file': self.canary_file,
		}

	def _write_canary_file(self):
		with open(self.canary_file, 'w') as f:
			f.write('canary\n')
		os.chmod(self.canary_file, 0o666)
		self.canary_sig = file_signature(self.canary_file)

	def host_damage(self):
		"""What the last case changed on the host (and undo it)."""
		found = []
		left = os.listdir(self.canary_dir)
		if left:
			found.append('created in canary dir: %s' % left)
			shutil.rmtree(self.canary_dir)
			os.mkdir(self.canary_dir)
			os.chmod(self.canary_dir, 0o777)
		if file_signature(self.canary_file) != self.canary_sig:
			found.append('canary file changed')
			if os.path.lexists(self.canary_file):
				os.unlink(self.canary_file)
			self._write_canary_file()
		for p in self.outside_targets:
			if os.path.lexists(p):
				found.append('created %s' % p)
				os.unlink(p)
		if file_signature(self.auto_conf) != self.auto_conf_sig:
			found.append('postgresql.auto.conf changed')
		return found

	def accept_auto_conf(self):
		"""The runner's own ALTER SYSTEM changed postgresql.auto.conf."""
		self.auto_conf_sig = file_signature(self.auto_conf)

	def cleanup(self):
		self.listeners.close()
		shutil.rmtree(self.rundir, ignore_errors=True)
		try:
			os.unlink(self.data_secret_path)
		except OSError as e:
			print('# could not remove %s: %s' % (self.data_secret_path, e))


def quote_literal(s):
	return "'" + s.replace("'", "''") + "'"


def file_signature(path):
	"""Content and mode of a file, or None if it does not exist."""
	try:
		st = os.lstat(path)
		with open(path, 'rb') as f:
			return (f.read(), stat.S_IMODE(st.st_mode), st.st_nlink)
	except OSError:
		return None


class Session:
	"""One superuser connection; remembers its backend pid to tell whether
	a case killed it."""

	def __init__(self):
		self.conn = None
		self.connect()

	def connect(self):
		if self.conn is not None:
			try:
				self.conn.close()
			except psycopg2.Error:
				pass
		self.conn = psycopg2.connect('')
		self.conn.autocommit = True
		cur = self.conn.cursor()
		cur.execute("set statement_timeout = '60s'")
		# CODEEXEC_SPAWN_MODE: run the corpus against that spawn mode
		# (both must hold the same boundary); default: the server's
		if os.environ.get('CODEEXEC_SPAWN_MODE'):
			cur.execute('set codeexec.spawn_mode = %s', (os.environ['CODEEXEC_SPAWN_MODE'],))
			cur.execute('show codeexec.spawn_mode')
			assert cur.fetchone()[0] == os.environ['CODEEXEC_SPAWN_MODE']
		cur.execute('select pg_backend_pid()')
		self.pid = cur.fetchone()[0]
		# the GUCs exist once the library is loaded (preloaded or not)
		cur.execute("select codeexec_validate('1')")
		cur.execute('select current_setting(%s)', (IMPORTS_GUC,))
		self.default_imports = [m.strip() for m in cur.fetchone()[0].split(',') if m.strip()]

	def alive(self):
		"""None if the same backend still answers, else why not (and reconnect)."""
		try:
			cur = self.conn.cursor()
			cur.execute('select pg_backend_pid()')
			pid = cur.fetchone()[0]
		except psycopg2.Error as e:
			self.connect()
			return 'backend connection lost: %s' % str(e).strip()
		if pid != self.pid:
			self.pid = pid
			return 'backend pid changed'
		return None


RUN_SQL = """
select status, stdout, stderr, result::text, error_type, error_message, output_truncated
  from codeexec_run(%(code)s, %(ctx)s::jsonb,
                    timeout_ms => %(timeout_ms)s, memory_mb => %(memory_mb)s,
                    max_output_bytes => %(max_output_bytes)s,
                    allowed_imports => %(allowed_imports)s::text[],
                    redact => false, tag => 'security')
"""


def imports_of(c):
	"""
	Modules a case imports (empty if its code does not parse): each
	imported name and its top-level package (`urllib.request` and
	`urllib`: the helper imports the allowlist's entries before it locks,
	and a submodule not loaded then cannot be read after), plus the case's
	`preimport` list.
	"""
	try:
		tree = ast.parse(c['code'])
	except (SyntaxError, ValueError, MemoryError, RecursionError):
		return []
	names = set(c['preimport'])
	for node in ast.walk(tree):
		if isinstance(node, ast.Import):
			found = [a.name for a in node.names]
		elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
			found = [node.module]
		else:
			continue
		names.update(found)
		names.update(n.split('.')[0] for n in found)
	return sorted(names)


def bypass_imports(sess, c):
	"""
	The allowlist for a case's bypass run: its own list (or the server's
	default) plus every module it imports, also set as the session's
	codeexec.allowed_imports (a caller may only narrow that list, and this
	session is a superuser's).  The helper imports the allowlist before
	Landlock and seccomp are locked, so the attack gets as far as the system
	call it is about (a socket, a fork, a ptrace) instead of failing at the
	import because Landlock forbids reading the module's file.
	"""
	base = c['opts'].get('allowed_imports') or sess.default_imports
	names = sorted(set(base) | set(imports_of(c)))
	sess.conn.cursor().execute('select set_config(%s, %s, false)', (IMPORTS_GUC, ','.join(names)))
	return names


def server_imports_for_bypass(sess, cases):
	"""
	In fork-server mode a call can import only modules the server imported
	when it started (Landlock forbids reading module files in a child), so
	an os_level case that imports ctypes, socket, resource, ... would end
	in ModuleNotFoundError before reaching the system call it is about.
	So for the bypass run the server's own allowlist gets every module
	those cases import (ALTER SYSTEM; the worker restarts the server on
	reload).  Returns the list set, or None in exec mode (each call's
	helper imports the session's list itself).
	"""
	cur = sess.conn.cursor()
	cur.execute('show codeexec.spawn_mode')
	if cur.fetchone()[0] != 'forkserver':
		return None
	names = set(sess.default_imports) | {SERVER_PROBE_MODULE}
	for c in cases:
		if c['os_level']:
			names.update(imports_of(c))
	names = sorted(names)
	cur.execute('alter system set ' + IMPORTS_GUC + ' = %s', (','.join(names),))
	cur.execute('select pg_reload_conf()')
	wait_for_server_imports(sess, True)
	return names


def restore_server_imports(sess):
	cur = sess.conn.cursor()
	cur.execute('alter system reset ' + IMPORTS_GUC)
	cur.execute('select pg_reload_conf()')
	wait_for_server_imports(sess, False)


def wait_for_server_imports(sess, widened, timeout=60):
	"""Until a call with the guards off can (widened) or cannot import
	SERVER_PROBE_MODULE, i.e. the fork server started with the new list is
	answering."""
	deadline = time.monotonic() + timeout
	while True:
		set_bypass(sess, True)
		cur = sess.conn.cursor()
		cur.execute('select set_config(%s, %s, false)',
					(IMPORTS_GUC, ','.join(sess.default_imports + [SERVER_PROBE_MODULE])))
		cur.execute('select status from codeexec_run(%s)', ('import ' + SERVER_PROBE_MODULE,))
		status = cur.fetchone()[0]
		set_bypass(sess, False)
		if (status == 'ok') == widened:
			return
		if time.monotonic() > deadline:
			raise RuntimeError('the fork server did not restart with %s allowlist (status %s)'
							   % ('the widened' if widened else 'its own', status))
		time.sleep(0.2)


def run_case(sess, fx, c, bypass):
	"""Run one case in one mode; return a list of failure reasons."""
	ctx = dict(fx.context, backend_pid=sess.pid)
	opts = c['opts']
	imports = bypass_imports(sess, c) if bypass else opts.get('allowed_imports')
	params = {
		'code': c['code'],
		'ctx': json.dumps(ctx),
		'timeout_ms': opts.get('timeout_ms'),
		'memory_mb': opts.get('memory_mb'),
		'max_output_bytes': opts.get('max_output_bytes'),
		'allowed_imports': imports,
	}
	before = fx.listeners.count()
	errs = []
	row = None
	try:
		cur = sess.conn.cursor()
		cur.execute(RUN_SQL, params)
		row = cur.fetchone()
	except psycopg2.Error as e:
		if e.pgcode not in c['sql_error']:
			errs.append('SQL error %s: %s' % (e.pgcode, str(e).strip().splitlines()[0]))
	if row is not None:
		errs += check_row(fx, c, bypass, row)
	time.sleep(0.02)	# let a late datagram or connection land before we look
	errs += ['listener hit: %s' % h for h in fx.listeners.since(before)]
	errs += ['host changed: %s' % d for d in fx.host_damage()]
	dead = sess.alive()
	if dead:
		errs.append(dead)
	if row is None:
		return errs, 'sql-error'
	# the label names how the attack was stopped: the status, and for an
	# error its type, for a kill the signal or syscall the helper reported
	label = row[0]
	if row[0] in ('error', 'killed') and (row[4] or row[5]):
		label += ' ' + (row[4] or '') + (': ' + row[5][:60] if row[0] == 'killed' and row[5] else '')
	return errs, label


def check_row(fx, c, bypass, row):
	status, out, err, result, etype, emsg, truncated = row
	out, err, result, etype, emsg = (x or '' for x in (out, err, result, etype, emsg))
	errs = []
	want = c['bypass'] if bypass else c['expect']
	want_err = c['bypass_errors'] if bypass else c['errors']
	if status not in want:
		errs.append('status %s not in %s (%s: %s)' % (status, sorted(want), etype, emsg[:200]))
	elif status == 'error' and want_err is not None and etype not in want_err:
		errs.append('error_type %s not acceptable (%s)' % (etype, emsg[:200]))
	for name, secret in (('tmp', fx.secret_tmp), ('data dir', fx.secret_data)):
		if any(secret in x for x in (out, err, result, etype, emsg)):
			errs.append('the %s secret leaked' % name)
	produced = out + '\n' + result + ('' if status in NOT_RUN else '\n' + emsg)
	for rx in MARKERS + c['forbid']:
		m = re.search(rx.replace('{hostname}', re.escape(HOSTNAME)), produced, re.M)
		if m:
			errs.append('forbidden output %r: %r' % (rx, produced[max(0, m.start() - 20):m.end() + 40]))
	for rx in (c['bypass_require'] if bypass else c['require']):
		if not re.search(rx, out, re.M):
			errs.append('stdout does not match %r: %r' % (rx, out[:200]))
	if status == 'killed' and c['killed_match'] and not re.search(c['killed_match'], etype + ' ' + emsg):
		errs.append('killed without naming %r: %r' % (c['killed_match'], (etype + ' ' + emsg)[:120]))
	if c['max_stdout'] is not None and len(out.encode()) > c['max_stdout']:
		errs.append('stdout is %d bytes, cap %d' % (len(out.encode()), c['max_stdout']))
	if c['truncated'] is not None and truncated != c['truncated']:
		errs.append('output_truncated is %s' % truncated)
	return errs


class Tally:
	def __init__(self):
		self.rows = {}		# (run, category) -> [passed, failed]
		self.passed = self.failed = 0

	def add(self, run, category, ok, label, detail):
		r = self.rows.setdefault((run, category), [0, 0])
		r[0 if ok else 1] += 1
		if ok:
			self.passed += 1
		else:
			self.failed += 1
		print('%s %s%s' % ('ok  ' if ok else 'FAIL', label, '' if ok else ' -- ' + '; '.join(detail)))
		sys.stdout.flush()

	def table(self):
		print('\n%-20s %-8s %6s %6s' % ('category', 'run', 'passed', 'failed'))
		for (run, cat), (p, f) in sorted(self.rows.items()):
			print('%-20s %-8s %6d %6d' % (cat, run, p, f))
		for run in ('guards', 'bypass', 'suite'):
			p = sum(v[0] for k, v in self.rows.items() if k[0] == run)
			f = sum(v[1] for k, v in self.rows.items() if k[0] == run)
			if p or f:
				print('%s run: %d passed, %d failed' % (run, p, f))


def set_bypass(sess, on):
	cur = sess.conn.cursor()
	cur.execute('select set_config(%s, %s, false)', (BYPASS_GUC, 'on' if on else 'off'))


def bypass_is_superuser_only(sess):
	"""A role without superuser cannot switch the guards off."""
	cur = sess.conn.cursor()
	role = 'codeexec_security_nosu'
	cur.execute('drop role if exists ' + role)
	cur.execute('create role ' + role)
	try:
		cur.execute('set role ' + role)
		try:
			cur.execute('select set_config(%s, %s, false)', (BYPASS_GUC, 'on'))
			return ['a non-superuser could set %s' % BYPASS_GUC]
		except psycopg2.Error as e:
			if e.pgcode != '42501':
				return ['unexpected SQLSTATE %s: %s' % (e.pgcode, str(e).strip())]
			return []
	finally:
		cur = sess.conn.cursor()
		cur.execute('reset role')
		cur.execute('drop role ' + role)


def helpers_left(postmaster_pid, pool_size, data_dir):
	"""
	codeexec-helper processes that descend from this server's postmaster
	(other servers on the machine may be running helpers of their own) and
	outlived their call: every exec-mode helper, and fork-server processes
	beyond the server itself and its pool of idle children (those live as
	long as the cluster; their command line is the server's, "--server").
	In spawn mode gvisor, any runsc, gofer or sandbox process naming one of
	this server's bundles, wherever it was reparented.
	"""
	bundles = os.path.join(data_dir, 'base', 'pgsql_tmp', 'pgsql_tmp_codeexec_gvisor.')
	parent = {}
	helpers = []
	gvisor = []
	for d in os.listdir('/proc'):
		if not d.isdigit():
			continue
		try:
			with open('/proc/%s/stat' % d) as f:
				st = f.read()
			with open('/proc/%s/cmdline' % d, 'rb') as f:
				cmd = f.read().replace(b'\0', b' ').decode(errors='replace')
		except OSError:
			continue
		parent[int(d)] = int(st[st.rindex(')') + 2:].split()[1])
		if bundles in cmd:
			gvisor.append('%s %s' % (d, cmd.strip()))
		elif 'codeexec-helper' in cmd or 'codeexec-helper' in st[:st.rindex(')')]:
			helpers.append((int(d), cmd.strip()))
	left = []
	for pid, cmd in helpers:
		p = pid
		while p > 1 and p != postmaster_pid:
			p = parent.get(p, 0)
		if p == postmaster_pid:
			left.append('%d %s' % (pid, cmd))
	forkserver = [x for x in left if ' --server ' in x]
	if len(forkserver) <= 1 + pool_size:
		left = [x for x in left if x not in forkserver]
	return '; '.join(left + gvisor)


def main():
	only = os.environ.get('CODEEXEC_SECURITY_ONLY')	# regex on case ids
	all_cases = corpus.load_all()
	if only:
		all_cases = [c for c in all_cases if re.search(only, c['id'])]
	sess = Session()
	cur = sess.conn.cursor()
	cur.execute('show codeexec.spawn_mode')
	if cur.fetchone()[0] == 'gvisor':
		all_cases = [dict(c, **c.get('in_gvisor', {})) for c in all_cases]
	cur.execute('select pg_postmaster_start_time()::text')
	start_time = cur.fetchone()[0]
	fx = Fixture(sess.conn)
	tally = Tally()
	widened = None		# the fork server's list while the bypass run needs it
	try:
		print('# %d cases, %d os_level; rundir %s' % (
			len(all_cases), sum(c['os_level'] for c in all_cases), fx.rundir))
		for c in all_cases:
			errs, status = run_case(sess, fx, c, False)
			tally.add('guards', c['category'], not errs, '%s [guards] %s' % (c['id'], status), errs)

		switch_errs = []
		try:
			set_bypass(sess, True)
		except psycopg2.Error as e:
			switch_errs.append('cannot set %s: %s' % (BYPASS_GUC, str(e).strip()))
			sess.alive()
		tally.add('suite', 'bypass_switch', not switch_errs,
				  'bypass switch %s can be set by a superuser' % BYPASS_GUC, switch_errs)
		default_imports = sess.default_imports
		if not switch_errs:
			widened = server_imports_for_bypass(sess, all_cases)
			if widened is not None:
				fx.accept_auto_conf()
				print('# fork server restarted for the bypass run, pre-importing %s' % ','.join(widened))
		for c in all_cases:
			if not c['os_level']:
				continue
			if switch_errs:
				tally.add('bypass', c['category'], False, '%s [bypass] not run' % c['id'],
						  ['bypass switch unavailable'])
				continue
			set_bypass(sess, True)		# again: a lost connection resets it
			errs, status = run_case(sess, fx, c, True)
			tally.add('bypass', c['category'], not errs, '%s [bypass] %s' % (c['id'], status), errs)
		if widened is not None:
			sess.default_imports = default_imports
			restore_server_imports(sess)
			fx.accept_auto_conf()
			widened = None
		if not switch_errs:
			set_bypass(sess, False)
			sess.conn.cursor().execute('reset ' + IMPORTS_GUC)
			try:
				errs = bypass_is_superuser_only(sess)
			except psycopg2.Error as e:
				errs = [str(e).strip()]
			tally.add('suite', 'bypass_switch', not errs,
					  'bypass switch refused to a non-superuser', errs)
	finally:
		if widened is not None:		# a run cut short still gives the server back its list
			restore_server_imports(sess)
		fx.cleanup()

	cur = sess.conn.cursor()
	cur.execute('show codeexec.forkserver_pool_size')
	pool_size = int(cur.fetchone()[0])
	deadline = time.monotonic() + 5	# a killed process takes a moment to go
	while True:
		left = helpers_left(fx.postmaster_pid, pool_size, fx.data_dir)
		if not left or time.monotonic() > deadline:
			break
		time.sleep(0.2)
	tally.add('suite', 'after', not left, 'no codeexec-helper process left', [left])
	cur.execute('select pg_postmaster_start_time()::text')
	now = cur.fetchone()[0]
	tally.add('suite', 'after', now == start_time, 'server never restarted',
			  ['start time %s -> %s' % (start_time, now)])
	tally.table()
	print('%d passed, %d failed' % (tally.passed, tally.failed))
	return 1 if tally.failed else 0


if __name__ == '__main__':
	sys.exit(main())
