"""sql_mech.py - the mechanisms reached through SQL: codeexec in each spawn
mode, and plpython3u (unsandboxed, in-process: the floor).

Latency: one persistent psycopg2 connection (autocommit), the snippet sent as
a bind parameter, timed client-side around execute + fetch.  Server CPU per
execution: process-tree CPU of the cluster before and after (see procs.py).
Throughput: pgbench -f with a script that fails (division by zero aborts the
client) unless the call really succeeded with the expected output.
"""

import os
import re
import subprocess
import tempfile
import time

import psycopg2

import procs

# mechanism name -> spawn mode passed as codeexec.spawn_mode (None: plpython3u)
MECHANISMS = {
    "codeexec forkserver": "forkserver",
    "codeexec exec": "exec",
    "codeexec gvisor": "gvisor",
    "plpython3u": None,
}
# About a second a call: measured in the latency cells only, not in the
# spaced loops or under pgbench, whose budgets are sized for milliseconds.
SLOW = {"codeexec gvisor"}

# The floor of any call through SQL on this machine (spaced loops only): a
# constant SELECT, with the snippet bound like the others and unused.  After
# a long pause it shows what waking the client's backend alone costs.
ROUND_TRIP = "SELECT constant (round trip)"

PLPY_FUNCTION = """
CREATE OR REPLACE FUNCTION bench_plpy(code text) RETURNS text
LANGUAGE plpython3u AS $f$
import io, contextlib
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    exec(code, {"__name__": "__bench__"})
return buf.getvalue()
$f$;
"""


def connect(mode=None, host=None, port=None):
    """A new autocommit connection; mode sets codeexec.spawn_mode for it;
    host and port default to PGHOST and PGPORT."""
    opts = f"-c codeexec.spawn_mode={mode}" if mode else ""
    conn = psycopg2.connect(host=host or os.environ["PGHOST"], port=port or os.environ["PGPORT"],
                            user="postgres", dbname="postgres", options=opts)
    conn.autocommit = True
    return conn


def postmaster_pid(conn=None):
    """Pid of the cluster's postmaster (first line of postmaster.pid); that
    of conn's cluster if given."""
    with (conn or connect()).cursor() as cur:
        cur.execute("SHOW data_directory")
        datadir = cur.fetchone()[0]
    with open(os.path.join(datadir, "postmaster.pid")) as f:
        return int(f.readline())


def setup(snippets_expected):
    """Create plpython3u, bench_plpy() and the bench_snippet table.

    snippets_expected: {name: (code, expected_stdout)}.  Returns
    {"plpython3u": error or "", "codeexec": error or ""}.
    """
    errors = {}
    conn = connect()
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS bench_snippet")
    cur.execute("CREATE TABLE bench_snippet (name text PRIMARY KEY, code text, expected text)")
    for name, (code, expected) in snippets_expected.items():
        cur.execute("INSERT INTO bench_snippet VALUES (%s, %s, %s)", (name, code, expected))
    for key, stmts in (("plpython3u", ["CREATE EXTENSION IF NOT EXISTS plpython3u", PLPY_FUNCTION]),
                       ("codeexec", ["CREATE EXTENSION IF NOT EXISTS codeexec"])):
        try:
            for s in stmts:
                cur.execute(s)
            errors[key] = ""
        except psycopg2.Error as e:
            errors[key] = _pgerr(e)
    conn.close()
    return errors


def _pgerr(e):
    """Exact error text of a psycopg2 error, one line."""
    text = (e.pgerror or str(e)).strip()
    return " ".join(text.split())


def _statement(mech):
    if mech == ROUND_TRIP:
        return "SELECT 'ok', '1' || chr(10), NULL, NULL WHERE %s IS NOT NULL"
    if MECHANISMS[mech] is None:
        return "SELECT 'ok', bench_plpy(%s), NULL, NULL"
    return "SELECT status, stdout, error_type, error_message FROM codeexec_run(%s)"


def _call(cur, mech, code):
    cur.execute(_statement(mech), (code,))
    return cur.fetchone()


def probe(mech):
    """Run print(1) through mech; return (ok, exact error text)."""
    try:
        conn = connect(MECHANISMS[mech])
    except psycopg2.Error as e:
        return False, _pgerr(e)
    try:
        with conn.cursor() as cur:
            status, out, etype, emsg = _call(cur, mech, "print(1)\n")
        if status == "ok" and (out or "").strip() == "1":
            return True, ""
        return False, f"status={status} stdout={out!r} error_type={etype} error_message={emsg}"
    except psycopg2.Error as e:
        return False, _pgerr(e)
    finally:
        conn.close()


def isolation_report():
    """Rows of codeexec_isolation(), or an error string."""
    try:
        with connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT layer, active, detail FROM codeexec_isolation()")
            return cur.fetchall()
    except psycopg2.Error as e:
        return _pgerr(e)


def codeexec_settings():
    """[(name, setting)] of every codeexec.* GUC the server knows, and the
    server's fsync and synchronous_commit."""
    with connect() as conn, conn.cursor() as cur:
        # fsync and synchronous_commit: whether a recorded call waits for a WAL flush
        cur.execute("SELECT name, setting FROM pg_settings WHERE name LIKE 'codeexec.%'"
                    " OR name IN ('fsync', 'synchronous_commit') ORDER BY name")
        return cur.fetchall()


def measure(mech, code, expected, max_n, budget_s, pm_pid, min_n=3, think_s=0.0, conn=None):
    """Latency loop over one connection; same result shape as cli_mech.measure,
    plus backend_rss_kb (the session's backend after the loop).  think_s: a
    pause before each call (not timed), as an interactive client makes.
    conn: an open connection to use (and leave open) instead of a new one."""
    res = {"samples_ns": [], "cpu_s": 0.0, "errors": 0, "error_example": ""}
    own_conn = conn is None
    if own_conn:
        conn = connect(MECHANISMS.get(mech))
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")
    backend = cur.fetchone()[0]
    t0 = time.perf_counter_ns()
    row = _safe_call(cur, mech, code)
    res["first_ms"] = (time.perf_counter_ns() - t0) / 1e6
    _check(res, row, expected)
    cpu0 = procs.tree_cpu_seconds(pm_pid)  # once e.g. the last mechanism's backend has gone
    deadline = time.monotonic() + budget_s
    while len(res["samples_ns"]) < max_n and (
            time.monotonic() < deadline or len(res["samples_ns"]) < min_n):
        if think_s:
            time.sleep(think_s)
        t0 = time.perf_counter_ns()
        row = _safe_call(cur, mech, code)
        res["samples_ns"].append(time.perf_counter_ns() - t0)
        _check(res, row, expected)
    res["cpu_s"] = procs.tree_cpu_seconds(pm_pid) - cpu0  # the last child's exit included
    res["backend_rss_kb"] = procs.rss_kb(backend)
    if own_conn:
        conn.close()
    return res


def _safe_call(cur, mech, code):
    try:
        return _call(cur, mech, code)
    except psycopg2.Error as e:
        return ("sql error", None, None, _pgerr(e))


def _check(res, row, expected):
    status, out, etype, emsg = row
    if status != "ok" or (out or "").rstrip() != expected.rstrip():
        res["errors"] += 1
        if not res["error_example"]:
            res["error_example"] = (f"status={status} stdout={(out or '')[:200]!r} "
                                    f"error_type={etype} error_message={(emsg or '')[:400]}")


def pgbench_script(mech, snippet):
    """Text of the pgbench script for mech running the named snippet."""
    if MECHANISMS[mech] is None:
        return ("SELECT 1 / (bench_plpy(s.code) = s.expected)::int\n"
                f"  FROM bench_snippet s WHERE s.name = '{snippet}';\n")
    return ("SELECT 1 / (r.status = 'ok' AND r.stdout = s.expected)::int\n"
            f"  FROM bench_snippet s, codeexec_run(s.code) r WHERE s.name = '{snippet}';\n")


def throughput(mech, snippet, clients, seconds, pgbench, pm_pid):
    """Run pgbench; return {tps, txns, cpu_ms_per_exec, machine_cpu_ms_per_exec,
    error}: CPU of the server's process tree, and of the whole machine (a
    cross-check: the first can never exceed the second)."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(pgbench_script(mech, snippet))
        script = f.name
    env = dict(os.environ)
    if MECHANISMS[mech]:
        env["PGOPTIONS"] = f"-c codeexec.spawn_mode={MECHANISMS[mech]}"
    cmd = [pgbench, "-n", "-f", script, "-c", str(clients), "-j", str(clients),
           "-T", str(seconds), "-h", env["PGHOST"], "-p", env["PGPORT"],
           "-U", "postgres", "postgres"]
    # each reading waits for the previous run's backends, then this run's,
    # to be gone (procs.tree_cpu_seconds)
    cpu0, busy0 = procs.tree_cpu_seconds(pm_pid), procs.machine_busy_seconds()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    cpu = procs.tree_cpu_seconds(pm_pid) - cpu0
    busy = procs.machine_busy_seconds() - busy0
    os.unlink(script)
    out = p.stdout
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    txns = re.search(r"number of transactions actually processed: (\d+)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    res = {"tps": float(tps.group(1)) if tps else None,
           "txns": int(txns.group(1)) if txns else 0,
           "failed": int(failed.group(1)) if failed else None,
           "error": ""}
    res["cpu_ms_per_exec"] = cpu * 1000 / res["txns"] if res["txns"] else None
    res["machine_cpu_ms_per_exec"] = busy * 1000 / res["txns"] if res["txns"] else None
    if p.returncode != 0:
        errlines = [l for l in p.stderr.splitlines() if "error" in l.lower()]
        res["error"] = f"pgbench exit {p.returncode}: " + " | ".join(errlines[:2])[:500]
    return res
