"""ab_calls.py - back-to-back calls of one benchmark snippet (print1 unless
named: snippets.py) through the running throwaway cluster
(test/lib/cluster.sh's environment), for ab_helpers.sh:

    python3 test/bench/ab_calls.py CALLS LABEL [SNIPPET]

The benchmark's own latency loop (sql_mech.measure: one connection, timed
in the client around execute + fetch, the cluster's process-tree CPU)
after 50 calls to let the pool and the caches settle.  Prints one line:
LABEL, percentiles and mean (ms), and CPU per call (ms).  Every call must
return status 'ok' and print what plain python3 prints (bench.py's
reference run), or it exits 1.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import snippets  # noqa: E402
import sql_mech  # noqa: E402
import stats  # noqa: E402

MECHANISM = "codeexec forkserver"


def main():
    calls, label = int(sys.argv[1]), sys.argv[2]
    name = sys.argv[3] if len(sys.argv) > 3 else "print1"
    code = snippets.SNIPPETS[name][0]
    expected = bench.reference_outputs([name])[name]
    postmaster = sql_mech.postmaster_pid()
    sql_mech.measure(MECHANISM, code, expected, 50, 3600, postmaster)
    res = sql_mech.measure(MECHANISM, code, expected, calls, 3600, postmaster)
    if res["errors"]:
        sys.exit(f"{label}: {res['errors']} of {calls} calls failed: {res['error_example']}")
    s = stats.summarize(res["samples_ns"])
    print(f"{label:12s} p50 {s['p50']:6.3f}  p90 {s['p90']:6.3f}  p99 {s['p99']:6.3f}  "
          f"mean {s['mean']:6.3f}  cpu/call {res['cpu_s'] / s['n'] * 1e3:6.3f}")


if __name__ == "__main__":
    main()
