#!/usr/bin/python3
"""client.py - parallel sessions against codeexec for the concurrency and
restart tests (psycopg2; connects through the cluster's socket or
127.0.0.1 only, from the PG* environment).

Each subcommand prints one JSON object on stdout with what the sessions
observed, for run.sh to compare with what the database recorded.

  burst USER SESSIONS CALLS TAG [rollback]
      SESSIONS parallel sessions each make CALLS calls for USER, each
      in its own transaction (or all in one transaction that is rolled
      back).  Reports the statuses seen and the attempts made.
  kill USER SESSIONS TAG
      SESSIONS sessions each start one endless call; once all are
      running, a separate session terminates them with
      pg_terminate_backend.  Reports attempts and how many were killed.
  load USER SESSIONS TAG SECONDS
      like burst, but each session calls in autocommit until the server
      goes away or SECONDS pass, appending "tag execution_id" of every
      call whose reply it received to TAG.log (for the restart test).
"""
import json
import os
import sys
import threading
import time

import psycopg2

RUN = "SELECT (r).status, (r).execution_id FROM codeexec_run(%s, user_id => %s, tag => %s) r"


def connect():
    return psycopg2.connect(dbname=os.environ.get("PGDATABASE", "postgres"))


def burst(user, sessions, calls, tag, rollback):
    statuses = {}
    lock = threading.Lock()
    errors = []

    def session(n):
        try:
            conn = connect()
            cur = conn.cursor()
            for i in range(calls):
                cur.execute(RUN, ("print(%d)" % i, user, "%s-%d-%d" % (tag, n, i)))
                status = cur.fetchone()[0]
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                if not rollback:
                    conn.commit()
            conn.rollback()
            conn.close()
        except Exception as e:  # reported, makes the test fail
            errors.append(repr(e))

    threads = [threading.Thread(target=session, args=(n,)) for n in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"attempts": sessions * calls, "statuses": statuses, "errors": errors}


def kill(user, sessions, tag):
    killed = []
    pids = []
    lock = threading.Lock()

    def session(n):
        conn = connect()
        cur = conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        with lock:
            pids.append(cur.fetchone()[0])
        try:
            cur.execute(RUN.replace("codeexec_run(%s,", "codeexec_run(%s, timeout_ms => 60000,"),
                        ("while True: pass", user, "%s-%d" % (tag, n)))
        except psycopg2.Error:
            with lock:
                killed.append(n)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(sessions)]
    for t in threads:
        t.start()
    admin = connect()
    admin.autocommit = True
    cur = admin.cursor()
    deadline = time.time() + 30
    while time.time() < deadline:
        with lock:
            mine = list(pids)
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)"
                    " AND state = 'active' AND query LIKE '%%codeexec_run%%'"
                    " AND now() - query_start > interval '300 ms'", (mine,))
        if len(mine) == sessions and cur.fetchone()[0] == sessions:
            break
        time.sleep(0.05)
    cur.execute("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM"
                " pg_stat_activity WHERE pid = ANY(%s)", (pids,))
    terminated = cur.fetchone()[0]
    for t in threads:
        t.join()
    return {"attempts": sessions, "terminated": terminated, "killed": len(killed)}


def load(user, sessions, tag, seconds):
    out = open(tag + ".log", "a")
    lock = threading.Lock()
    done = [0]

    def session(n):
        try:
            conn = connect()
            conn.autocommit = True
            cur = conn.cursor()
            end = time.time() + seconds
            i = 0
            while time.time() < end:
                t = "%s-%d-%d" % (tag, n, i)
                cur.execute(RUN, ("print(1)", user, t))
                status, eid = cur.fetchone()
                with lock:
                    out.write("%s %s\n" % (t, eid))
                    out.flush()
                    done[0] += 1
                i += 1
        except psycopg2.Error:
            pass  # the server went away: expected in this test

    threads = [threading.Thread(target=session, args=(n,)) for n in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"completed": done[0]}


def main(argv):
    cmd = argv[1]
    if cmd == "burst":
        res = burst(int(argv[2]), int(argv[3]), int(argv[4]), argv[5],
                    len(argv) > 6 and argv[6] == "rollback")
    elif cmd == "kill":
        res = kill(int(argv[2]), int(argv[3]), argv[4])
    elif cmd == "load":
        res = load(int(argv[2]), int(argv[3]), argv[4], float(argv[5]))
    else:
        raise SystemExit("unknown command " + cmd)
    print(json.dumps(res, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
