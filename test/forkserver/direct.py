#!/usr/bin/python3
"""Drive codeexec-helper in server mode without PostgreSQL (development aid
and the first part of test/forkserver/run.sh).

Usage: /usr/bin/python3 test/forkserver/direct.py PATH_TO_HELPER

Plays the supervising worker (listening socket on fd 3, lifeline on fd 0)
and the backend (connect, receive the pidfd and exit pipe, send a CXQ1
frame, read the CXR1 response, hang up, read the exit record).
"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "helper"))
import run as helper_tests  # noqa: E402  (frame encoder/decoder)

check = helper_tests.check     # counts in helper_tests.passed / .failed


class Server:
    def __init__(self, helper, pool=2, imports=None):
        self.dir = tempfile.mkdtemp(prefix="fsdirect-")
        self.path = os.path.join(self.dir, "fs.sock")
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lsock.bind(self.path)
        self.lsock.listen(64)
        life_r, self.life_w = os.pipe()
        imports = imports or helper_tests.DEFAULT_IMPORTS
        lfd = self.lsock.fileno()

        def child_fds():
            os.dup2(life_r, 0)
            os.dup2(lfd, 3)
        self.proc = subprocess.Popen(
            [helper, "--server", str(pool), "1", "1", "\n".join(imports)],
            env={}, pass_fds=(3,), preexec_fn=child_fds, stdin=None)
        os.close(life_r)

    def call(self, code, timeout=10, **kw):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.path)
        msg, fds, flags, addr = socket.recv_fds(s, 16, 2)
        # ForkserverHello: magic, 4 zero bytes, the child's CPU clock in ns
        assert len(msg) == 16 and msg[:8] == b"CXF2\0\0\0\0" and len(fds) == 2, (msg, fds)
        pidfd, exit_r = fds
        s.sendall(helper_tests.request(code, **kw))
        s.shutdown(socket.SHUT_WR)
        # A child that sent its whole response waits for us to hang up
        # (forkserver_child.c), so read one frame, not to EOF.
        data = b""
        while len(data) < 8 or len(data) < 8 + struct.unpack("<I", data[4:8])[0]:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        rec = b""
        while True:
            chunk = os.read(exit_r, 64)
            if not chunk:
                break
            rec += chunk
        os.close(exit_r)
        os.close(pidfd)
        res = helper_tests.parse_response(data) if data else {}
        if len(rec) == 24:
            magic, ws, cpu, rss = struct.unpack("<Iiqq", rec)
            res["_ws"] = ws
        return res

    def stop(self):
        os.close(self.life_w)
        self.proc.wait(5)
        self.lsock.close()
        os.unlink(self.path)
        os.rmdir(self.dir)


def main():
    srv = Server(sys.argv[1])
    r = srv.call("print(1)")
    check("print(1)", r.get("status") == "ok" and r.get("stdout") == "1\n" and r.get("_ws") == 0, r)
    r1 = srv.call("import json\njson.dumps = None\nimport random\nresult = random.random()")
    r2 = srv.call("import json\nimport random\nresult = [json.dumps is None, random.random()]")
    check("fresh child per call", r2.get("result", "").startswith("[false,"), (r1, r2))
    check("different random state", r1.get("result") != r2.get("result", "[0, 0]")[8:-1], (r1, r2))
    r = srv.call("import os")
    check("allowlist", r.get("status") == "violation", r)
    r = srv.call("import math\nresult=math.pi", imports=["json"])
    check("narrowed allowlist", r.get("status") == "violation", r)
    r = srv.call("", flags=helper_tests.F_REPORT_ISO | helper_tests.F_REQUIRE_ISO)
    layers = {l["layer"]: l for l in json.loads(r.get("isolation", "[]"))}
    inactive = [n for n, l in layers.items() if not l["active"]]
    check("isolation report: every layer active in a pooled child",
          len(layers) >= 11 and not inactive, r.get("isolation"))
    check("isolation report: own PID namespace per child",
          "own namespace" in layers.get("pid_namespace", {}).get("detail", ""), layers.get("pid_namespace"))
    # numpy registers no at-fork hook: its global RandomState, seeded when
    # the server imported numpy, is reseeded in every child by the preload
    # (numpy is installed by test/lib/setup.sh, so it is not optional here)
    with_numpy = helper_tests.DEFAULT_IMPORTS + ["numpy", "pandas"]
    srv_np = Server(sys.argv[1], imports=with_numpy)
    draws = [srv_np.call("import numpy\nresult = int(numpy.random.randint(0, 2 ** 62))",
                         imports=with_numpy).get("result") for _ in range(4)]
    check("numpy: every child has its own global random state",
          None not in draws and len(set(draws)) == len(draws), draws)
    # pandas, warmed up in the server (codeexec_preload._warm_pandas), works
    # in a child, and its sampling draws from that reseeded state too
    code = ("import pandas as pd\ndf = pd.DataFrame({'a': range(1000)})\n"
            "print(df.describe().loc['count', 'a'])\nresult = int(df.sample(1)['a'].iloc[0])")
    runs = [srv_np.call(code, imports=with_numpy) for _ in range(4)]
    check("pandas: describe() in a child", all(r.get("stdout") == "1000.0\n" for r in runs), runs[0])
    samples = [r.get("result") for r in runs]
    check("pandas: sample() differs between children", len(set(samples)) > 1, samples)
    srv_np.stop()
    t = time.time()
    n = 50
    for _ in range(n):
        srv.call("print(1)")
    dt = (time.time() - t) / n
    print("mean round trip %.3f ms" % (dt * 1000))
    srv.stop()
    print("%d passed, %d failed" % (helper_tests.passed, helper_tests.failed))
    sys.exit(1 if helper_tests.failed else 0)


if __name__ == "__main__":
    main()
