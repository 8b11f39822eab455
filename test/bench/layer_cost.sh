#!/usr/bin/env bash
# layer_cost.sh - what the OS isolation layers add to one exec-mode helper
# run (not part of the test command's pass/fail):
#
#     bash test/bench/layer_cost.sh [RUNS]
#
# Builds the test build of the sandbox driver (test/isolation/, the helper's
# own sandbox code compiled with -DCODEEXEC_TESTING, which honours
# CODEEXEC_TEST_DISABLE) and times `print(1)` through it RUNS times (default
# 100) with every layer on and with groups of layers switched off, as the
# postgres OS user (unprivileged user namespaces, like the server).  The
# difference between two lines is what the switched-off layers cost.  In
# spawn mode forkserver only the per-child part remains (PID namespace,
# Landlock, seccomp): see docs/forkserver.md.  Run as root.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-100}
make -s -f test/isolation/Makefile.driver TESTING=1 >/dev/null
driver=$PWD/test/isolation/driver-testbuild
ns=user_namespace,pid_namespace,network_namespace,mount_namespace,ipc_namespace,uts_namespace

time_it() {	# time_it LABEL DISABLE: mean wall time per run, as postgres
	local label=$1 disable=$2
	runuser -u postgres -- env CODEEXEC_TEST_DISABLE="$disable" RUNS="$runs" DRIVER="$driver" \
		/usr/bin/python3 -c '
import os, subprocess, sys, time
runs, driver = int(os.environ["RUNS"]), os.environ["DRIVER"]
cmd = [driver, "py", "math", "print(1)"]
for _ in range(3):
    subprocess.run(cmd, capture_output=True)
times = []
for _ in range(runs):
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True)
    times.append(time.perf_counter() - t)
    if r.stdout != b"1\n":
        sys.exit("driver failed: %r %r" % (r.stdout, r.stderr[-300:]))
times.sort()
print("%-40s p50 %6.2f ms  mean %6.2f ms" % (sys.argv[1], times[len(times) // 2] * 1e3,
                                             sum(times) / len(times) * 1e3))
' "$label"
}

echo "machine: $(nproc) CPUs, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg); $runs runs each"
time_it "every layer" ""
time_it "namespaces off (all six)" "$ns"
time_it "network namespace off" network_namespace
time_it "mount namespace off" mount_namespace
time_it "Landlock + seccomp off" landlock,seccomp
time_it "seccomp off" seccomp
