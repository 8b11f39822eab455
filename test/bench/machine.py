"""machine.py - what the benchmark ran on: CPU, cores, RAM, kernel, versions
of everything measured, the load average (the machine may be shared), and
what a fork and a copy-on-write fault cost there.

The last two are the costs a fork-server call is made of (docs/forkserver.md),
and they differ from host to host far more than the CPU model suggests (a
virtual machine's page-table handling can double them), so a report carries
them to make runs on different machines comparable."""

import os
import platform
import subprocess


def _cmd(args):
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=60)
        return (p.stdout or p.stderr).strip().splitlines()[0] if (p.stdout or p.stderr).strip() else "?"
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unavailable ({e})"


def _lscpu():
    """lscpu's "Field: value" lines as a dict."""
    fields = {}
    for line in _cmd_all(["lscpu"]):
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def _cmd_all(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=60).stdout.splitlines()
    except OSError:
        return []


def _mem_total():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "?"


def _pymods():
    code = ("import sys; sys.path.append('/usr/lib/python3/dist-packages'); "
            "import numpy, pandas, psycopg2; "
            "print(sys.version.split()[0], numpy.__version__, pandas.__version__, "
            "psycopg2.__version__.split()[0])")
    return _cmd(["/usr/bin/python3", "-I", "-S", "-c", code])


# Run in a fresh python3 -I -S so the forked process is the same size on
# every machine: the interpreter plus a 12 MB anonymous mapping on 4 kB pages.
_FORK_PROBE = r"""
import mmap, os, time
size = 12 << 20
m = mmap.mmap(-1, size)
m.madvise(mmap.MADV_NOHUGEPAGE)
for off in range(0, size, 4096):
    m[off] = 1
def per_fork(pages, rounds=300):
    t0 = time.perf_counter()
    for _ in range(rounds):
        pid = os.fork()
        if pid == 0:
            for i in range(pages):
                m[i * 4096] = 2
            os._exit(0)
        os.waitpid(pid, 0)
    return (time.perf_counter() - t0) / rounds * 1e6
per_fork(0, 20)
bare = min(per_fork(0) for _ in range(3))
touched = min(per_fork(400) for _ in range(3))
print(f"{bare:.0f} {(touched - bare) / 400:.2f}")
"""


def fork_costs():
    """(fork + exit + wait of a ~20 MB process in us, extra us per page the
    child writes), best of three rounds each; None if it could not run."""
    try:
        out = subprocess.run(["/usr/bin/python3", "-I", "-S", "-c", _FORK_PROBE],
                             capture_output=True, text=True, timeout=120).stdout.split()
        return float(out[0]), float(out[1])
    except (OSError, subprocess.TimeoutExpired, IndexError, ValueError):
        return None


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def describe(pg_version, git_rev, load_start=None):
    """Ordered list of (item, value) describing the machine and software."""
    py, np_, pd_, pg2 = (_pymods().split() + ["?"] * 4)[:4]
    try:
        with open("/etc/debian_version") as f:
            debian = f.read().strip()
    except OSError:
        debian = "?"
    costs = fork_costs()
    cpu = _lscpu()
    return [
        ("host", platform.node()),
        ("CPU", cpu.get("Model name", "?")),
        ("hypervisor", cpu.get("Hypervisor vendor", "none reported")),
        ("cores (online)", str(os.cpu_count())),
        ("RAM", _mem_total()),
        ("kernel", platform.release()),
        ("Debian", debian),
        ("PostgreSQL", pg_version),
        ("python3 (/usr/bin)", py),
        ("numpy / pandas / psycopg2", f"{np_} / {pd_} / {pg2}"),
        ("bwrap", _cmd(["bwrap", "--version"])),
        ("runsc", _cmd(["runsc", "--version"])),
        ("codeexec commit", git_rev),
        ("fork + exit + wait of a 20 MB process (python3, 12 MB on 4 kB pages)",
         f"{costs[0]:.0f} µs" if costs else "unavailable"),
        ("each page the forked child writes (copy-on-write), extra",
         f"{costs[1]:.2f} µs" if costs else "unavailable"),
        ("load average at start", load_start or loadavg()),
    ]
