#!/usr/bin/python3
"""A fake fork server for test/forkserver/run.sh: started by the worker in
place of codeexec-helper (same argv, listening socket on fd 3, lifeline on
fd 0), it accepts every connection and closes it at once, as a server
whose children all die between accept() and their hello would.  Exits when
the lifeline (the worker) goes away.
"""
import os
import select
import socket

listener = socket.socket(fileno=3)
while True:
    ready, _, _ = select.select([0, listener], [], [])
    if 0 in ready and not os.read(0, 1):
        break
    if listener in ready:
        conn, _ = listener.accept()
        conn.close()
