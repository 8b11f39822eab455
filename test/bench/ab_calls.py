"""ab_calls.py - back-to-back print(1) calls through the running throwaway
cluster (test/lib/cluster.sh's environment), for ab_helpers.sh:

    python3 test/bench/ab_calls.py CALLS LABEL

The benchmark's own latency loop (sql_mech.measure: one connection, timed
in the client around execute + fetch, the cluster's process-tree CPU)
after 50 calls to let the pool and the caches settle.  Prints one line:
LABEL, percentiles and mean (ms), and CPU per call (ms).  Every call must
return status 'ok' and print 1, or it exits 1.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sql_mech  # noqa: E402
import stats  # noqa: E402

MECHANISM = "codeexec forkserver"


def main():
    calls, label = int(sys.argv[1]), sys.argv[2]
    postmaster = sql_mech.postmaster_pid()
    sql_mech.measure(MECHANISM, "print(1)", "1", 50, 3600, postmaster)
    res = sql_mech.measure(MECHANISM, "print(1)", "1", calls, 3600, postmaster)
    if res["errors"]:
        sys.exit(f"{label}: {res['errors']} of {calls} calls failed: {res['error_example']}")
    s = stats.summarize(res["samples_ns"])
    print(f"{label:12s} p50 {s['p50']:6.3f}  p90 {s['p90']:6.3f}  p99 {s['p99']:6.3f}  "
          f"mean {s['mean']:6.3f}  cpu/call {res['cpu_s'] / s['n'] * 1e3:6.3f}")


if __name__ == "__main__":
    main()
