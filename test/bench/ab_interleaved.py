"""ab_interleaved.py - one benchmark snippet through two running clusters
in interleaved batches, for ab_interleaved.sh:

    python3 test/bench/ab_interleaved.py SOCKET_DIR_A PORT_A SOCKET_DIR_B PORT_B \
        BATCHES CALLS PAUSE_MS [SNIPPET]

One connection per cluster, kept for the whole run; 50 calls each to let
the pools and caches settle; then BATCHES rounds in which each side runs
CALLS timed calls after one untimed call (sql_mech.measure: timed in the
client around execute + fetch, PAUSE_MS before each call untimed), A
first in even rounds and B first in odd ones.  Every call must return
status 'ok' and print what plain python3 prints, or it exits 1.  Prints
each side's percentiles over all its calls, CPU per call (that cluster's
process tree), and in how many batches B's p50 was the lower: on a
shared host that count, not the pooled figures, says whether a
difference is real.
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
    clusters = (sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])
    batches, calls, pause_ms = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
    name = sys.argv[8] if len(sys.argv) > 8 else "print1"
    code = snippets.SNIPPETS[name][0]
    expected = bench.reference_outputs([name])[name]
    sides = {}
    for label, (host, port) in zip("AB", clusters):
        conn = sql_mech.connect(host=host, port=port)
        sides[label] = {"conn": conn, "pm": sql_mech.postmaster_pid(conn),
                        "samples": [], "cpu_s": 0.0, "p50s": []}
        sql_mech.measure(MECHANISM, code, expected, 50, 3600, sides[label]["pm"], conn=conn)
    for batch in range(batches):
        for label in ("AB" if batch % 2 == 0 else "BA"):
            side = sides[label]
            res = sql_mech.measure(MECHANISM, code, expected, calls, 3600, side["pm"],
                                   think_s=pause_ms / 1000, conn=side["conn"])
            if res["errors"]:
                sys.exit(f"{label}: {res['errors']} calls failed: "
                         f"{res['error_example']}")
            side["samples"] += res["samples_ns"]
            side["cpu_s"] += res["cpu_s"]
            side["p50s"].append(stats.summarize(res["samples_ns"])["p50"])
    for label in "AB":
        side = sides[label]
        s = stats.summarize(side["samples"])
        print(f"{label}: n {s['n']}  p50 {s['p50']:.3f}  p90 {s['p90']:.3f}  p99 {s['p99']:.3f}  "
              f"mean {s['mean']:.3f}  cpu/call {side['cpu_s'] / s['n'] * 1e3:.3f} ms")
    lower = sum(b < a for a, b in zip(sides["A"]["p50s"], sides["B"]["p50s"]))
    print(f"B's p50 was the lower in {lower} of {batches} batches")


if __name__ == "__main__":
    main()
