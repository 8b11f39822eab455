#!/usr/bin/python3
"""A fake fork server for test/forkserver/holding_tests.py: started by the
worker in place of codeexec-helper (listening socket on fd 3, lifeline on
fd 0).  Per connection it plays a pooled child that is slow to say hello:

  1. accepts, logs "accepted", reads the request to its end (the backend
     sends it before any hello) and logs "request N bytes";
  2. waits for the file <this file>.go (the test removes it), then sends
     the hello a real child sends (a ForkserverHello with a CPU clock of 0,
     a pidfd, an exit pipe): the pidfd names a stand-in for the child that
     it starts; logs "hello sent PID", or "hello refused ERRNO-NAME" if the
     backend had already given up.  If the go file says "burn", the
     stand-in first uses ~0.3 s of CPU (as a call would after its hello),
     and once it has, a response frame ("ok", stdout "burnt\\n") goes to
     the backend and "response sent" to the log; otherwise the stand-in
     sleeps and no response comes;
  3. logs "stand-in PID signal N" once the stand-in is gone.

Log: <this file>.log, one line per event.  Exits when the lifeline (the
worker) goes away.
"""
import array
import errno
import os
import select
import socket
import struct
import subprocess
import sys

# ForkserverHello (forkserver_proto.h): magic, 4 zero bytes, CPU clock
HELLO = b"CXF2" + bytes(4) + (0).to_bytes(8, "little")
BURN = ("import time\nend = time.process_time() + 0.3\n"
        "while time.process_time() < end:\n    pass\n"
        "print('burnt', flush=True)\ntime.sleep(60)\n")
me = os.path.abspath(sys.argv[0])
log_path, go_path = me + ".log", me + ".go"


def log(line):
    with open(log_path, "a") as f:
        f.write(line + "\n")


def worker_gone(timeout):
    return bool(select.select([0], [], [], timeout)[0]) and not os.read(0, 1)


def read_request(conn):
    conn.settimeout(10)
    total = 0
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return total
        total += len(chunk)


def response_frame(status, stdout):
    """A CXR1 frame (wire.h): status and stdout fields."""
    body = b""
    for tag, text in ((32, status), (33, stdout)):
        value = text.encode()
        body += struct.pack("<HI", tag, len(value)) + value
    return b"CXR1" + struct.pack("<I", len(body)) + body


def send_hello(conn, burn):
    argv = [sys.executable, "-c", BURN] if burn else ["sleep", "60"]
    stand_in = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    pidfd = os.pidfd_open(stand_in.pid)
    exit_r, exit_w = os.pipe()
    fds = array.array("i", [pidfd, exit_r])
    try:
        conn.sendmsg([HELLO], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        log("hello sent %d" % stand_in.pid)
        if burn and stand_in.stdout.readline():
            conn.sendall(response_frame("ok", "burnt\n"))
            log("response sent")
    except OSError as e:
        log("hello refused %s" % errno.errorcode.get(e.errno, str(e.errno)))
        stand_in.kill()
    os.close(pidfd)
    os.close(exit_r)
    try:
        stand_in.wait(timeout=10)
    except subprocess.TimeoutExpired:
        stand_in.kill()
        stand_in.wait()
        log("stand-in %d survived" % stand_in.pid)
    else:
        log("stand-in %d signal %d" % (stand_in.pid, -stand_in.returncode))
    os.close(exit_w)


listener = socket.socket(fileno=3)
while True:
    ready, _, _ = select.select([0, listener], [], [])
    if 0 in ready and not os.read(0, 1):
        break
    if listener not in ready:
        continue
    conn, _ = listener.accept()
    log("accepted")
    log("request %d bytes" % read_request(conn))
    while not os.path.exists(go_path):
        if worker_gone(0.01):
            sys.exit(0)
    with open(go_path) as f:
        send_hello(conn, f.read().strip() == "burn")
    conn.close()
