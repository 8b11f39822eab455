"""machine.py - what the benchmark ran on: CPU, cores, RAM, kernel, versions
of everything measured, and the load average (the machine may be shared)."""

import os
import platform
import subprocess


def _cmd(args):
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=60)
        return (p.stdout or p.stderr).strip().splitlines()[0] if (p.stdout or p.stderr).strip() else "?"
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unavailable ({e})"


def _lscpu_model():
    for line in _cmd_all(["lscpu"]):
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "?"


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
    return [
        ("host", platform.node()),
        ("CPU", _lscpu_model()),
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
        ("load average at start", load_start or loadavg()),
    ]
