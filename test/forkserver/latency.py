#!/usr/bin/python3
"""latency.py MODE N THINK_MS: p50/p90/p99 of
SELECT status FROM codeexec_run('print(1)') in one session (libpq
settings from the environment), after one warm-up call."""
import sys
import time

import psycopg2

mode, n, think = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) / 1000
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("SET codeexec.spawn_mode = %s", (mode,))
cur.execute("SELECT status FROM codeexec_run('print(1)')")
lat = []
for _ in range(n):
    if think:
        time.sleep(think)
    t = time.perf_counter()
    cur.execute("SELECT status FROM codeexec_run('print(1)')")
    assert cur.fetchone()[0] == "ok"
    lat.append(time.perf_counter() - t)
lat.sort()


def q(p):
    return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000


print("| %s | think %d ms | n=%d | p50 %.2f ms | p90 %.2f ms | p99 %.2f ms |"
      % (mode, think * 1000, n, q(.5), q(.9), q(.99)))
