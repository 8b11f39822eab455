"""bench.py - the benchmark driver (run by run.sh against a cluster it
started; PGHOST/PGPORT in the environment).

    bench.py [--quick] [--out-dir DIR] [--memory-json FILE]
    bench.py memory FILE     (only: snapshot the fork server's memory to FILE)

Runs every snippet through every available mechanism, then pgbench at 1, 2,
4 and 8 clients for the SQL mechanisms, and writes the markdown report to
DIR/<date>-<host>[-quick].md and stdout.  Unavailable mechanisms are listed
with the exact error that made them so; nothing here decides pass or fail.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

import cli_mech
import machine
import procs
import report
import sql_mech
from snippets import SNIPPETS, cli_code

QUICK = {"max_n": 30, "budget_s": 3, "tp_snippets": ["print1"], "tp_seconds": 3}
FULL = {"max_n": 500, "budget_s": 20, "tp_snippets": ["print1", "data"], "tp_seconds": 12}
CLIENTS = [1, 2, 4, 8]
REFS = ["codeexec forkserver", "codeexec exec"]
PEERS = ["plpython3u", "python3 -I -S", "bwrap --unshare-all", "runsc do"]


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def reference_outputs():
    """Expected stdout of each snippet: one run of plain python3 -I -S."""
    out = {}
    for name in SNIPPETS:
        ns, cpu, status, stdout, stderr = cli_mech.run_once(
            cli_mech.argv("python3 -I -S", cli_code(name)))
        if status != 0:
            sys.exit(f"reference run of {name} failed: {stderr}")
        out[name] = stdout
    return out


def forkserver_memory(pm_pid):
    """Snapshot of the fork server (a codeexec-helper whose parent is not one)
    and its idle children; {} when no helper process is alive."""
    tree = procs.tree(pm_pid)
    helpers = {pid for pid in tree if procs.exe_name(pid) == "codeexec-helper"}
    servers = [pid for pid in helpers if tree[pid][0] not in helpers]
    if not servers:
        return {}
    fs = servers[0]
    roll = procs.rollup_kb(fs)
    kids = [procs.private_kb(pid) for pid in helpers if tree[pid][0] == fs]
    return {"pid": fs, "rss": roll.get("Rss"), "pss": roll.get("Pss"),
            "private": roll.get("Private_Clean", 0) + roll.get("Private_Dirty", 0),
            "children_private": sorted(k for k in kids if k is not None),
            "servers_found": len(servers)}


def memory_only(path):
    """Warm the fork server with one call, let its pool refill, snapshot it."""
    err = sql_mech.setup({}).get("codeexec")
    ok, err = sql_mech.probe("codeexec forkserver") if not err else (False, err)
    snap = {"note": err} if not ok else {}
    if ok:
        time.sleep(1.0)
        snap = forkserver_memory(sql_mech.postmaster_pid()) or {"note": "no codeexec-helper process found"}
    with open(path, "w") as f:
        json.dump(snap, f)


def availability():
    """Probe every mechanism; return [(name, ok, detail)] and the usable set."""
    rows, usable = [], set()
    for mech in sql_mech.MECHANISMS:
        ok, detail = sql_mech.probe(mech)
        rows.append((mech, ok, detail))
        if ok:
            usable.add(mech)
    me = "root" if os.geteuid() == 0 else str(os.geteuid())
    for peer in cli_mech.PEERS:
        ok, detail = cli_mech.probe(peer)
        rows.append((f"{peer} (as {me})", ok, detail))
        if ok:
            usable.add(peer)
        if os.geteuid() == 0 and peer != "python3 -I -S":
            ok2, detail2 = cli_mech.probe(peer, as_user="nobody")
            rows.append((f"{peer} (as nobody, via runuser; not timed)", ok2, detail2))
    return rows, usable


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    ap.add_argument("--memory-json", help="fork-server snapshot taken with the default allowlist")
    ap.add_argument("cmd", nargs="*")
    a = ap.parse_args()
    if a.cmd[:1] == ["memory"]:
        return memory_only(a.cmd[1])
    cfg = QUICK if a.quick else FULL
    started = time.monotonic()
    cli_mech.become_subreaper()

    log("reference outputs (python3 -I -S)")
    expected = reference_outputs()
    errs = sql_mech.setup({n: (SNIPPETS[n][0], expected[n]) for n in SNIPPETS})
    pm_pid = sql_mech.postmaster_pid()
    with sql_mech.connect() as c, c.cursor() as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0]
    mach = machine.describe(pg_version, os.environ.get("BENCH_GIT_REV", "?"))
    log("probing mechanisms")
    avail, usable = availability()
    notes = [f"setup of {k} failed: {v}" for k, v in errs.items() if v]

    latency, backend_rss = [], {}
    order = [m for m in list(sql_mech.MECHANISMS) + list(cli_mech.PEERS) if m in usable]
    for snip in SNIPPETS:
        for mech in order:
            log(f"latency: {mech} / {snip}")
            if mech in sql_mech.MECHANISMS:
                r = sql_mech.measure(mech, SNIPPETS[snip][0], expected[snip],
                                     cfg["max_n"], cfg["budget_s"], pm_pid)
                backend_rss[mech] = max(backend_rss.get(mech) or 0, r["backend_rss_kb"] or 0)
            else:
                r = cli_mech.measure(mech, cli_code(snip), expected[snip],
                                     cfg["max_n"], cfg["budget_s"])
            latency.append((mech, snip, r))

    memory = {"backend_rss": backend_rss}
    if "codeexec forkserver" in usable:
        time.sleep(1.0)  # let the pool refill before looking at idle children
        memory["forkserver"] = forkserver_memory(pm_pid)
        if not memory["forkserver"]:
            memory["forkserver_note"] = "no codeexec-helper process found under the postmaster"
    else:
        memory["forkserver_note"] = "not available (see Availability)"

    throughput = []
    for snip in cfg["tp_snippets"]:
        for mech in [m for m in sql_mech.MECHANISMS if m in usable]:
            for n in CLIENTS:
                log(f"pgbench: {mech} / {snip} / {n} clients")
                throughput.append((mech, snip, n, sql_mech.throughput(
                    mech, snip, n, cfg["tp_seconds"], os.environ.get("PGBENCH", "pgbench"), pm_pid)))
    memory["cluster_pss_kb"] = procs.tree_pss_kb(pm_pid)

    snap = {}
    if a.memory_json and os.path.exists(a.memory_json):
        with open(a.memory_json) as f:
            snap = json.load(f)
        if snap.get("pid"):
            kids = snap["children_private"]
            notes.append(
                f"With the default allowlist (no numpy/pandas) the fork server had RSS {snap['rss']} kB, "
                f"private {snap['private']} kB; {len(kids)} idle children, private memory median "
                f"{statistics.median(kids) if kids else '—'} kB, max {max(kids) if kids else '—'} kB.")
        else:
            notes.append(f"Default-allowlist memory snapshot: {snap.get('note', 'not taken')}.")
    notes.append("The Memory section above was taken with numpy and pandas allowlisted "
                 "(the fork server pre-imports them).")
    notes.append("Command-line peers get `import sys; sys.path.append('/usr/lib/python3/dist-packages')` "
                 "prepended for the pandas snippet, since -S skips the site module.")
    notes.append("plpython3u keeps its interpreter and imported modules between calls (the "
                 "unsandboxed floor), so its pandas cost after the first call is only the work itself.")
    notes.append(f"Total run time {time.monotonic() - started:.0f} s.")

    now = datetime.datetime.now()
    host = platform.node()
    ctx = {"date": now.strftime("%Y-%m-%d %H:%M"), "host": host,
           "mode": "quick" if a.quick else "full", "machine": mach,
           "availability": avail, "isolation": sql_mech.isolation_report(),
           "settings": sql_mech.codeexec_settings(),
           "latency": latency, "throughput": throughput, "memory": memory,
           "memory_default": snap,
           "notes": notes, "snippets": list(SNIPPETS),
           "peers": [p for p in PEERS if p in usable],
           "refs": [r for r in REFS if r in usable] or REFS,
           "load_end": machine.loadavg()}
    text = report.render(ctx)
    os.makedirs(a.out_dir, exist_ok=True)
    path = os.path.join(a.out_dir, f"{now:%Y-%m-%d}-{host}{'-quick' if a.quick else ''}.md")
    with open(path, "w") as f:
        f.write(text)
    print(text)
    log(f"report written to {path}")


if __name__ == "__main__":
    main()
