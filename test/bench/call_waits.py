"""call_waits.py - a fork-server call's child under bpftrace, for
call_waits.sh:

    python3 test/bench/call_waits.py CALLS PAUSE_MS

Connects to the cluster of PGHOST/PGPORT, finds its fork server
(procs.forkserver_procs), starts bpftrace on call_waits.bt with the
server's pid, runs CALLS calls of print(1) (sql_mech.measure: PAUSE_MS
before each, every output checked), stops bpftrace and prints what it
found next to the calls' client-side p50 and mean.
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import procs  # noqa: E402
import snippets  # noqa: E402
import sql_mech  # noqa: E402
import stats  # noqa: E402

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "call_waits.bt")


def start_bpftrace(server_pid):
    """bpftrace running call_waits.bt, once its probes are attached."""
    bt = subprocess.Popen(["bpftrace", SCRIPT, str(server_pid)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    for line in bt.stdout:
        if line.startswith("Attaching"):
            return bt
    sys.exit("bpftrace exited before attaching its probes (exit %s)" % bt.wait())


def main():
    calls, pause_ms = int(sys.argv[1]), float(sys.argv[2])
    code = snippets.SNIPPETS["print1"][0]
    expected = bench.reference_outputs(["print1"])["print1"]
    conn = sql_mech.connect()
    pm = sql_mech.postmaster_pid(conn)
    warm = sql_mech.measure("codeexec forkserver", code, expected, 20, 60.0, pm, min_n=20, conn=conn)
    if warm["errors"]:
        sys.exit("the warm-up calls failed, e.g. %s" % warm["error_example"])
    servers, _ = procs.forkserver_procs(pm)
    if len(servers) != 1:
        sys.exit("expected one fork server under postmaster %d, found %s" % (pm, servers))
    bt = start_bpftrace(servers[0])
    time.sleep(0.5)
    res = sql_mech.measure("codeexec forkserver", code, expected, calls, 3600.0, pm,
                           min_n=calls, think_s=pause_ms / 1000.0, conn=conn)
    bt.send_signal(signal.SIGINT)
    report, _ = bt.communicate(timeout=60)
    if res["errors"]:
        sys.exit("%d calls failed, e.g. %s" % (res["errors"], res["error_example"]))
    s = stats.summarize(res["samples_ns"])
    print("%d calls of print(1), %g ms apart: p50 %.3f ms, mean %.3f ms, CPU %.2f ms per call"
          " (client side, traced)" % (s["n"], pause_ms, s["p50"], s["mean"],
                                      res["cpu_s"] * 1000.0 / s["n"]))
    # bpftrace prints every map left at exit: the script clears its own,
    # only blank lines remain
    sys.stdout.write("\n".join(l for l in report.splitlines() if l.strip()) + "\n")


if __name__ == "__main__":
    main()
