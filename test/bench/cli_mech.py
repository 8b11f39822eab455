"""cli_mech.py - the command-line peers: a fresh process per execution.

Latency is measured around posix_spawn + reading the child's stdout to EOF +
wait4, in a tight loop in this process (no shell).  CPU time per execution is
the rusage (user + system) of the child and of every descendant: this process
makes itself a child subreaper, so processes the child leaves behind (bwrap
does not wait for its PID-namespace init; runsc's sandbox and gofer) are
re-parented here and reaped after the timed part, their rusage added.
"""

import ctypes
import os
import subprocess
import time

PR_SET_CHILD_SUBREAPER = 36

PY = "/usr/bin/python3"

BWRAP = ["bwrap", "--unshare-all", "--die-with-parent",
         "--ro-bind", "/usr", "/usr",
         "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
         "--symlink", "usr/bin", "/bin",
         # numpy finds libblas.so.3 through Debian's alternatives symlinks
         "--ro-bind", "/etc/alternatives", "/etc/alternatives",
         "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache",
         "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--chdir", "/"]

RUNSC = ["runsc", "--rootless", "--network=none", "do"]

# name -> argv prefix; the snippet follows as: python3 -I -S -c CODE
PEERS = {
    "python3 -I -S": [],
    "bwrap --unshare-all": BWRAP,
    "runsc do": RUNSC,
}


def argv(peer, code):
    """Full argv for running code under a peer."""
    return PEERS[peer] + [PY, "-I", "-S", "-c", code]


def become_subreaper():
    """Make orphaned descendants re-parent to this process (prctl)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def _reap_leftovers(limit_s=5.0):
    """Reap re-parented descendants until none is left; return their CPU s."""
    cpu = 0.0
    deadline = time.monotonic() + limit_s
    while True:
        try:
            pid, _, ru = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return cpu
        if pid:
            cpu += ru.ru_utime + ru.ru_stime
        elif time.monotonic() > deadline:
            return cpu
        else:
            time.sleep(0.001)


def run_once(cmd):
    """Spawn cmd; return (elapsed_ns, cpu_s, exit_status, stdout, stderr).

    The elapsed time ends when the child has exited and its stdout is read;
    cpu_s also covers descendants reaped afterwards (see become_subreaper).
    """
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    fa = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, out_w, 1),
        (os.POSIX_SPAWN_DUP2, err_w, 2),
        (os.POSIX_SPAWN_CLOSE, out_r),
        (os.POSIX_SPAWN_CLOSE, err_r),
    ]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    t0 = time.perf_counter_ns()
    pid = os.posix_spawnp(cmd[0], cmd, env, file_actions=fa)
    os.close(out_w)
    os.close(err_w)
    out = _drain(out_r)
    err = _drain(err_r)
    _, status, ru = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    cpu = ru.ru_utime + ru.ru_stime + _reap_leftovers()
    return t1 - t0, cpu, status, out, err


def _drain(fd):
    chunks = []
    while True:
        b = os.read(fd, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


def probe(peer, as_user=None):
    """Run print(1) under peer (optionally as another OS user through runuser).

    Returns (ok, detail): detail is the exact error text when not ok.
    """
    cmd = argv(peer, "print(1)")
    if as_user:
        cmd = ["runuser", "-u", as_user, "--"] + cmd
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"{type(e).__name__}: {e}"
    if p.returncode == 0 and p.stdout.strip() == "1":
        return True, ""
    return False, f"exit {p.returncode}; stdout={p.stdout.strip()[:300]!r}; stderr={p.stderr.strip()[-800:]!r}"


def measure(peer, code, expected, max_n, budget_s, min_n=3):
    """Run code under peer until max_n runs or budget_s seconds (at least min_n).

    Returns dict: first_ms, samples_ns (after the first run), cpu_s (sum over
    samples), errors (count), error_example.
    """
    cmd = argv(peer, code)
    res = {"samples_ns": [], "cpu_s": 0.0, "errors": 0, "error_example": ""}
    ns, cpu, status, out, err = run_once(cmd)
    res["first_ms"] = ns / 1e6
    _check(res, status, out, err, expected)
    deadline = time.monotonic() + budget_s
    while len(res["samples_ns"]) < max_n and (
            time.monotonic() < deadline or len(res["samples_ns"]) < min_n):
        ns, cpu, status, out, err = run_once(cmd)
        res["samples_ns"].append(ns)
        res["cpu_s"] += cpu
        _check(res, status, out, err, expected)
    return res


def _check(res, status, out, err, expected):
    if status != 0 or out.rstrip() != expected.rstrip():
        res["errors"] += 1
        if not res["error_example"]:
            last = [l for l in err.splitlines() if l.strip()][-1:] or [""]
            res["error_example"] = f"wait status {status}; stdout={out[:100]!r}; stderr ends {last[0][:300]!r}"
