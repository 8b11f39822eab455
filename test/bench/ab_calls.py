"""ab_calls.py - back-to-back print(1) calls through the running throwaway
cluster (test/lib/cluster.sh's environment), for ab_helpers.sh:

    python3 test/bench/ab_calls.py CALLS LABEL

Prints one line: LABEL, latency percentiles and mean (ms, timed in the
client around execute + fetch), and the CPU of the cluster's process tree
per call (ms).  Every call must return status 'ok', or it exits 1.
"""
import os
import sys
import time

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procs  # noqa: E402

QUERY = "SELECT status FROM codeexec_run('print(1)')"


def main():
    calls, label = int(sys.argv[1]), sys.argv[2]
    root = os.environ["CLUSTER_ROOT"]
    with open(os.path.join(root, "data", "postmaster.pid")) as f:
        postmaster = int(f.readline())
    conn = psycopg2.connect(host=os.environ["PGHOST"], port=os.environ["PGPORT"],
                            user="postgres", dbname="postgres")
    conn.autocommit = True
    cur = conn.cursor()
    for _ in range(50):  # the pool and the caches settle first
        cur.execute(QUERY)
        cur.fetchall()
    times, bad = [], 0
    cpu0 = procs.tree_cpu_seconds(postmaster)
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        cur.execute(QUERY)
        rows = cur.fetchall()
        times.append(time.perf_counter_ns() - t0)
        bad += rows != [("ok",)]
    cpu = procs.tree_cpu_seconds(postmaster) - cpu0
    if bad:
        sys.exit(f"{label}: {bad} of {calls} calls did not return 'ok'")
    times.sort()

    def pct(p):
        return times[min(len(times) - 1, int(p * len(times)))] / 1e6
    print(f"{label:12s} p10 {pct(.1):6.3f}  p50 {pct(.5):6.3f}  p90 {pct(.9):6.3f}  "
          f"p99 {pct(.99):6.3f}  mean {sum(times) / len(times) / 1e6:6.3f}  "
          f"cpu/call {cpu / calls * 1e3:6.3f}")


if __name__ == "__main__":
    main()
