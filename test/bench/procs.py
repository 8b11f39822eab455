"""procs.py - CPU time and memory of a process tree, read from /proc.

CPU method: for a tree rooted at the postmaster, the sum over every live
process of utime+stime+cutime+cstime counts each CPU second once: a process
that has exited and been reaped (an exec-mode helper, a fork-server child, a
closed backend) is in its reaper's cutime/cstime, and live processes are in
no one's.  The difference between two samples, divided by the number of
executions in between, is the server-side CPU time per execution (backend +
helper + anything they spawned).  Resolution is one clock tick (10 ms), so
it is only meaningful summed over many executions.  Each reading waits
for the tree to keep the same processes a moment (tree_cpu_seconds).
"""

import os
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _stat(pid):
    """Return (ppid, cpu_seconds_including_reaped_children) or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    ppid = int(fields[1])
    ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return ppid, ticks / CLK_TCK


def tree(root_pid):
    """Return {pid: (ppid, cpu_s)} for root_pid and all its live descendants."""
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st:
                table[int(name)] = st
    members = {root_pid}
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _) in table.items():
            if ppid in members and pid not in members:
                members.add(pid)
                changed = True
    return {pid: table[pid] for pid in members if pid in table}


def tree_cpu_seconds(root_pid, still_s=0.2, timeout_s=10.0):
    """Total CPU seconds charged to the tree rooted at root_pid so far, read
    once the tree has kept the same processes for still_s (or timeout_s
    passed).  tree() reads one /proc file after another, so a process
    reaped during the scan is counted twice or not at all, depending on
    whether its parent was read before or after (pids wrap, so either order
    happens): a pgbench run's backends, exiting with seconds of CPU each,
    moved a later run's CPU per execution by ~100 ms."""
    deadline = time.monotonic() + timeout_s
    last = tree(root_pid)
    while time.monotonic() < deadline:
        time.sleep(still_s)
        now = tree(root_pid)
        still = now.keys() == last.keys()
        last = now
        if still:
            break
    return sum(cpu for _, cpu in last.values())


def machine_busy_seconds():
    """CPU seconds every CPU of the machine has spent not idle (all of
    /proc/stat's first line but idle and iowait) since boot.  Over a
    pgbench run it bounds the tree's figure from above: it also holds
    pgbench, the kernel's own threads and anything else running."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLK_TCK


def exe_name(pid):
    """Basename of the process's executable; if /proc/<pid>/exe cannot be
    read, the command name (comm, at most 15 characters); '' if neither."""
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def forkserver_procs(root_pid):
    """The codeexec-helper processes under root_pid: (servers, helpers),
    helpers mapping each pid to its parent's, servers those whose parent is
    not a helper (the fork server; two for a moment during a hand-over)."""
    members = tree(root_pid)
    helpers = {pid: members[pid][0] for pid in members
               if exe_name(pid) in ("codeexec-helper", "codeexec-helpe")}
    servers = [pid for pid, ppid in helpers.items() if ppid not in helpers]
    return servers, helpers


def rss_kb(pid):
    """Resident set size in kB (VmRSS), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rollup_kb(pid):
    """{field: kB} from /proc/<pid>/smaps_rollup (Rss, Pss, Private_Clean...)."""
    out = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[2] == "kB":
                    out[parts[0].rstrip(":")] = int(parts[1])
    except OSError:
        pass
    return out


def private_kb(pid):
    """Private (clean + dirty) memory of a process in kB, or None."""
    r = rollup_kb(pid)
    if not r:
        return None
    return r.get("Private_Clean", 0) + r.get("Private_Dirty", 0)


def tree_pss_kb(root_pid):
    """Sum of proportional set size over the tree (shared pages split)."""
    return sum(rollup_kb(pid).get("Pss", 0) for pid in tree(root_pid))
