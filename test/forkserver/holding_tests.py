#!/usr/bin/python3
"""holding_tests.py FAKE: run by test/forkserver/run.sh against a cluster
whose fork server is holding_server.py, installed at FAKE (its log is
FAKE.log, its go file FAKE.go).  A backend sends its request as soon as it
has connected, before the child's hello; these tests check that a call
ending in between leaves no child able to run it, and that a call's CPU
time starts at the hello even when the backend takes it late.  Prints "N passed, N
failed"; exits nonzero on failure.
"""
import os
import signal
import sys
import threading
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "helper"))
import run as helper_tests  # noqa: E402  (check() and its counters)

check = helper_tests.check
FAKE = sys.argv[1]
LOG, GO = FAKE + ".log", FAKE + ".go"


def connect():
    conn = psycopg2.connect("")
    conn.autocommit = True
    return conn


def wait_event(prefix, timeout=5.0):
    """The first line of the fake's log that starts with prefix."""
    end = time.time() + timeout
    while True:
        try:
            with open(LOG) as f:
                for line in f:
                    if line.startswith(prefix):
                        return line.strip()
        except FileNotFoundError:
            pass
        if time.time() > end:
            return None
        time.sleep(0.01)


def start_over():
    for path in (LOG, GO):
        if os.path.exists(path):
            os.unlink(path)


def release(action=""):
    """Let the fake server send its hello: create the go file, with its
    action, at once (a rename), since the server reads it as soon as the
    file exists: written in place, it could be read still empty, and a
    "burn" taken for a plain hello."""
    with open(GO + ".tmp", "w") as f:
        f.write(action)
    os.rename(GO + ".tmp", GO)


def start_call(sql):
    """Run sql in a new session, in a thread: (the session's backend pid,
    the thread, a dict that gets "row" or the error's "error" code)."""
    cur = connect().cursor()
    cur.execute("SELECT pg_backend_pid()")
    backend = cur.fetchone()[0]
    outcome = {}

    def call():
        try:
            cur.execute(sql)
            outcome["row"] = cur.fetchone()
        except psycopg2.Error as e:
            outcome["error"] = e.pgcode

    thread = threading.Thread(target=call)
    thread.start()
    return backend, thread, outcome


def test_deadline_before_hello():
    start_over()
    cur = connect().cursor()
    cur.execute("SELECT status FROM codeexec_run('print(1)', timeout_ms => 300)")
    status = cur.fetchone()[0]
    check("no hello before the deadline: the call times out", status == "timeout", status)
    request = wait_event("request ")
    check("the request was sent before any hello (%s)" % request,
          request is not None and int(request.split()[1]) > 0)
    release()
    hello = wait_event("hello ")
    check("a hello after the call ended is refused, so a child would exit unrun",
          hello == "hello refused EPIPE", hello)


def test_end_with_hello_queued(how):
    """The hello (and its pidfd) is queued on the socket but not yet read
    when the call ends: the backend is stopped meanwhile.  A cancel ends
    it with an ERROR (spawn.c's PG_FINALLY), a terminate with a FATAL (its
    before_shmem_exit callback)."""
    start_over()
    backend, thread, outcome = start_call("SELECT status FROM codeexec_run('print(1)', "
                                          "timeout_ms => 20000)")
    stand_in = None
    if wait_event("request "):
        os.kill(backend, signal.SIGSTOP)
        try:
            release()
            hello = wait_event("hello sent ")
            stand_in = int(hello.split()[2]) if hello else None
            other = connect().cursor()
            other.execute("SELECT pg_%s_backend(%%s)" % how, (backend,))
        finally:
            os.kill(backend, signal.SIGCONT)
    thread.join(20)
    # a terminated session may lose its connection before the FATAL's text
    ended = {"cancel": ("57014",), "terminate": ("57P01", None)}[how]
    check("%s with the hello queued: the call ends" % how,
          "error" in outcome and outcome["error"] in ended, outcome)
    end = wait_event("stand-in %s " % stand_in) if stand_in else None
    check("%s with the hello queued: the process it names is SIGKILLed" % how,
          end == "stand-in %s signal 9" % stand_in, end)


def test_cpu_counted_from_the_hello():
    """The backend takes the hello only after the child has done its work
    (it is stopped meanwhile): the call's CPU time still starts at the
    hello, whose clock reading (0) is the child's own, not at the moment
    the backend got to it."""
    start_over()
    backend, thread, outcome = start_call("SELECT status, stdout, cpu_time_seconds FROM "
                                          "codeexec_run('print(1)', timeout_ms => 20000)")
    if wait_event("request "):
        os.kill(backend, signal.SIGSTOP)
        try:
            release("burn")
            wait_event("response sent", 10)
        finally:
            os.kill(backend, signal.SIGCONT)
    thread.join(20)
    row = outcome.get("row")
    check("work done before the backend took the hello is counted (%s)" % (row,),
          row is not None and row[:2] == ("ok", "burnt\n") and 0.25 <= row[2] < 5, outcome)
    hello = wait_event("hello sent ")
    end = wait_event("stand-in %s " % hello.split()[2]) if hello else None
    check("the settled stand-in is SIGKILLed", end is not None and end.endswith(" signal 9"), end)


def main():
    time.sleep(1.5)     # the worker starts the fake server
    test_deadline_before_hello()
    test_end_with_hello_queued("cancel")
    test_end_with_hello_queued("terminate")
    test_cpu_counted_from_the_hello()
    start_over()
    print("%d passed, %d failed" % (helper_tests.passed, helper_tests.failed))
    sys.exit(1 if helper_tests.failed else 0)


if __name__ == "__main__":
    main()
