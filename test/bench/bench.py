"""bench.py - the benchmark driver, run by run.sh.

    bench.py phase LABEL --snippets a,b [--quick] --json FILE
        against the cluster in PGHOST/PGPORT (configured by run.sh for this
        phase): runs the snippets through every available mechanism, pgbench
        at 1, 2, 4 and 8 clients for the SQL mechanisms (snippets chosen by
        the mode), and snapshots memory; saves everything to FILE.
    bench.py report [--quick] [--out-dir DIR] FILE...
        merges the phases into the markdown report, written to
        DIR/<date>-<host>[-quick].md and stdout.

Phases exist because the allowlist changes what codeexec pre-imports: the
plain snippets run with the default allowlist, the pandas one with numpy and
pandas added.  Unavailable mechanisms are listed with the exact error that
made them so; nothing here decides pass or fail.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time

import cli_mech
import machine
import procs
import report
import sql_mech
from snippets import SNIPPETS, cli_code

# spaced: print(1) again with a pause (seconds) before each call, as many
# calls as given: an interactive client (an agent that thinks between calls)
# rather than a loop.  The longer the pause, the colder the caches and the
# more slowly a VM's idle vCPUs wake; the constant SELECT
# (sql_mech.ROUND_TRIP) shows what that costs a call through SQL that does
# nothing.  A 1 ms pause is long enough for the work a fork-server call
# leaves behind (its child's exit, the replacement's clone and set-up) to
# end on another CPU before the next call, and too short for idle vCPUs to
# cool: it shows what a call costs when it has the machine to itself.
# max_n: a cell's latency runs, unless budget_s ends it first.  2,000 gives
# the fast mechanisms' p99 its 20 slowest calls to stand on (with 500 it was
# the 5th slowest, which one burst of a shared host's load could move by
# milliseconds); the slow ones stay bounded by the budget.
# rounds: print(1) again through codeexec and each peer in turn, a short
# cell each, the order reversed every other round: (rounds, {mechanism:
# (max_n, budget_s)}).  A shared host's load drifts over the minutes between
# one mechanism's cell and another's, so a ratio of two cells measured
# apart moves with it; within a round both sides see the same host.
QUICK = {"max_n": 30, "budget_s": 3, "tp_snippets": ["print1"], "tp_seconds": 3,
         "spaced": [(0.001, 20), (0.02, 20), (0.2, 5)],
         "rounds": (2, {"codeexec forkserver": (30, 0.5), "plpython3u": (30, 0.3),
                        "python3 -I -S": (5, 0.3), "bwrap --unshare-all": (5, 0.3),
                        "runsc do": (2, 0.5)})}
FULL = {"max_n": 2000, "budget_s": 20, "tp_snippets": ["print1", "data"], "tp_seconds": 12,
        "spaced": [(0.001, 500), (0.005, 300), (0.02, 300), (0.2, 100)],
        "rounds": (8, {"codeexec forkserver": (300, 2.0), "plpython3u": (300, 1.0),
                       "python3 -I -S": (100, 1.5), "bwrap --unshare-all": (60, 1.5),
                       "runsc do": (6, 2.0)})}
CLIENTS = [1, 2, 4, 8]
REFS = ["codeexec forkserver", "codeexec exec", "codeexec gvisor"]
PEERS = ["plpython3u", "python3 -I -S", "bwrap --unshare-all", "runsc do"]


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def reference_outputs(names):
    """Expected stdout of each snippet: one run of plain python3 -I -S."""
    out = {}
    for name in names:
        ns, cpu, status, stdout, stderr = cli_mech.run_once(
            cli_mech.argv("python3 -I -S", cli_code(name)))
        if status != 0:
            sys.exit(f"reference run of {name} failed: {stderr}")
        out[name] = stdout
    return out


def forkserver_memory(pm_pid):
    """Snapshot of the fork server (a codeexec-helper whose parent is not one)
    and its idle children; {} when no helper process is alive."""
    servers, helpers = procs.forkserver_procs(pm_pid)
    if not servers:
        return {}
    fs = servers[0]
    roll = procs.rollup_kb(fs)
    kids = [procs.private_kb(pid) for pid, ppid in helpers.items() if ppid == fs]
    return {"pid": fs, "rss": roll.get("Rss"), "pss": roll.get("Pss"),
            "private": roll.get("Private_Clean", 0) + roll.get("Private_Dirty", 0),
            "children_private": sorted(k for k in kids if k is not None),
            "servers_found": len(servers)}


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


def run_phase(label, snippets, quick, json_path):
    """Measure one cluster configuration and save the results as JSON."""
    cfg = QUICK if quick else FULL
    started = time.monotonic()
    cli_mech.become_subreaper()
    log(f"phase {label}: reference outputs (python3 -I -S)")
    expected = reference_outputs(snippets)
    errs = sql_mech.setup({n: (SNIPPETS[n][0], expected[n]) for n in snippets})
    pm_pid = sql_mech.postmaster_pid()
    with sql_mech.connect() as c, c.cursor() as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0]
    log(f"phase {label}: probing mechanisms")
    avail, usable = availability()
    notes = [f"[{label}] setup of {k} failed: {v}" for k, v in errs.items() if v]

    latency, backend_rss = [], {}

    def cell(mech, snip, max_n, budget_s):
        """One latency cell: mech runs snip until max_n calls or budget_s."""
        if mech in sql_mech.MECHANISMS:
            r = sql_mech.measure(mech, SNIPPETS[snip][0], expected[snip], max_n, budget_s, pm_pid)
            backend_rss[mech] = max(backend_rss.get(mech) or 0, r["backend_rss_kb"] or 0)
            return r
        return cli_mech.measure(mech, cli_code(snip), expected[snip], max_n, budget_s)

    order = [m for m in list(sql_mech.MECHANISMS) + list(cli_mech.PEERS) if m in usable]
    for snip in snippets:
        for mech in order:
            log(f"latency: {mech} / {snip}")
            latency.append((mech, snip, cell(mech, snip, cfg["max_n"], cfg["budget_s"])))

    rounds = []
    count, cells = cfg["rounds"]
    in_rounds = [m for m in cells if m in usable]
    if "print1" in snippets and "codeexec forkserver" in in_rounds:
        for rnd in range(count):
            log(f"alternating rounds: round {rnd + 1} of {count}")
            for mech in in_rounds if rnd % 2 == 0 else in_rounds[::-1]:
                rounds.append((rnd, mech, cell(mech, "print1", *cells[mech])))

    spaced = []
    if "print1" in snippets:
        for think, n in cfg["spaced"]:
            for mech in [sql_mech.ROUND_TRIP] + [m for m in sql_mech.MECHANISMS
                                                 if m in usable and m not in sql_mech.SLOW]:
                log(f"latency, {think * 1000:.0f} ms apart: {mech} / print1")
                # the budget: twice the pauses and ~3 ms a call (exec mode,
                # ~100 ms a call, stops at the budget with fewer calls)
                r = sql_mech.measure(mech, SNIPPETS["print1"][0], expected["print1"],
                                     n, n * (think + 0.003) * 2, pm_pid, think_s=think)
                r["think_ms"] = think * 1000
                spaced.append((mech, "print1", r))

    forkserver = {}
    if "codeexec forkserver" in usable:
        time.sleep(1.0)  # let the pool refill before looking at idle children
        forkserver = forkserver_memory(pm_pid) or {
            "note": "no codeexec-helper process found under the postmaster"}
    else:
        forkserver = {"note": "not available (see Availability)"}

    throughput = []
    for snip in [s for s in cfg["tp_snippets"] if s in snippets]:
        for mech in [m for m in sql_mech.MECHANISMS if m in usable and m not in sql_mech.SLOW]:
            for n in CLIENTS:
                log(f"pgbench: {mech} / {snip} / {n} clients")
                throughput.append((mech, snip, n, sql_mech.throughput(
                    mech, snip, n, cfg["tp_seconds"], os.environ.get("PGBENCH", "pgbench"), pm_pid)))
    settings = sql_mech.codeexec_settings()
    result = {
        "label": label, "pg_version": pg_version, "availability": avail,
        "isolation": sql_mech.isolation_report(), "settings": settings,
        "latency": latency, "spaced": spaced, "rounds": rounds,
        "throughput": throughput,
        "memory": {"forkserver": forkserver, "backend_rss": backend_rss,
                   "cluster_pss_kb": procs.tree_pss_kb(pm_pid)},
        "notes": notes, "seconds": time.monotonic() - started,
    }
    with open(json_path, "w") as f:
        json.dump(result, f)


def write_report(paths, quick, out_dir):
    """Merge phase results into the markdown report; print and save it."""
    phases = []
    for p in paths:
        with open(p) as f:
            phases.append(json.load(f))
    first = phases[0]
    usable = {m for ph in phases for m, ok, _ in ph["availability"] if ok}
    usable |= {m.split(" (as ")[0] for m in usable}
    notes = [n for ph in phases for n in ph["notes"]]
    for ph in phases[1:]:
        for row, row0 in zip(ph["availability"], first["availability"]):
            if row[1] != row0[1]:
                notes.append(f"[{ph['label']}] availability of {row[0]} differs: {row[2]}")
    notes += [
        "Phases: " + "; ".join(f"`{ph['label']}` ran {sorted({s for _, s, _ in ph['latency']})} "
                               f"in {ph['seconds']:.0f} s" for ph in phases) + ".",
        "Command-line peers get `import sys; sys.path.append('/usr/lib/python3/dist-packages')` "
        "prepended for the pandas snippet, since -S skips the site module.",
        "plpython3u keeps its interpreter and imported modules between calls (the "
        "unsandboxed floor), so its pandas cost after the first call is only the work itself.",
    ]
    now = datetime.datetime.now()
    host = platform.node()
    ctx = {"date": now.strftime("%Y-%m-%d %H:%M"), "host": host,
           "mode": "quick" if quick else "full",
           "machine": machine.describe(first["pg_version"], os.environ.get("BENCH_GIT_REV", "?"),
                                       os.environ.get("BENCH_LOAD_START")),
           "availability": first["availability"], "isolation": first["isolation"],
           "settings": [(ph["label"], ph["settings"]) for ph in phases],
           "latency": [tuple(x) for ph in phases for x in ph["latency"]],
           "spaced": [tuple(x) for ph in phases for x in ph.get("spaced", [])],
           "rounds": [tuple(x) for ph in phases for x in ph.get("rounds", [])],
           "throughput": [tuple(x) for ph in phases for x in ph["throughput"]],
           "memory": [(ph["label"], ph["memory"]) for ph in phases],
           "memory_default": first["memory"]["forkserver"],
           "notes": notes, "snippets": list(SNIPPETS),
           "peers": [p for p in PEERS if p in usable],
           "refs": [r for r in REFS if r in usable] or REFS,
           "load_end": machine.loadavg()}
    text = report.render(ctx)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{now:%Y-%m-%d}-{host}{'-quick' if quick else ''}.md")
    with open(path, "w") as f:
        f.write(text)
    print(text)
    log(f"report written to {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["phase", "report"])
    ap.add_argument("args", nargs="+")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--snippets", default=",".join(SNIPPETS))
    ap.add_argument("--json")
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    a = ap.parse_args()
    if a.cmd == "phase":
        run_phase(a.args[0], [s for s in a.snippets.split(",") if s], a.quick, a.json)
    else:
        write_report(a.args, a.quick, a.out_dir)


if __name__ == "__main__":
    main()
