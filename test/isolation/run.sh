#!/bin/bash
# test/isolation/run.sh - proves each OS isolation layer of the helper on
# its own.  For every layer an attack is run twice through the test-only
# build (compiled with -DCODEEXEC_TESTING, which honours
# CODEEXEC_TEST_DISABLE): once with the layer switched off (together with
# any other layer that would also stop that attack) -- the attack must
# succeed, proving the test can detect it -- and once with only the other
# layers switched off -- the attack must fail, so the layer alone stops it.
# Plus: the full stack kills forbidden calls with a 'killed' response naming
# the call, fails closed when a layer is missing, and dies with its parent.
#
# Runs as root; the sandboxed processes run as the postgres OS user, like
# the server's helpers.  Network traffic only to a listener this script
# starts on 127.0.0.1.  Prints "N passed, N failed"; exit 1 on failure.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
make -s -f test/isolation/Makefile.driver TESTING=1 >/dev/null || exit 1
make -s -f test/isolation/Makefile.driver >/dev/null || exit 1
TB=$ROOT/test/isolation/driver-testbuild
PROD=$ROOT/test/isolation/driver
WORK=$(mktemp -d /tmp/codeexec-isolation.XXXXXX)
chmod 755 "$WORK"
PASS=0
FAIL=0
cleanup() {
	[ -n "${LISTENER:-}" ] && kill "$LISTENER" 2>/dev/null
	[ -n "${VICTIM:-}" ] && kill "$VICTIM" 2>/dev/null
	[ -n "${QUEUE:-}" ] && ipcrm -q "$QUEUE" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok   $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/     /' <<<"$2"; }

# run_tb DISABLE MODS CODE: run CODE in the test build as postgres with the
# named layers disabled; sets OUT (stdout+stderr, report lines removed) and RC.
run_tb() {
	OUT=$(cd / && runuser -u postgres -- env CODEEXEC_TEST_DISABLE="$1" \
		"$TB" py "$2" "$3" 2>&1 | tr -d '\0' | grep -av '^REPORT ')
	RC=${PIPESTATUS[0]}
}

# layer_test NAME WITHOUT WITH MODS CODE EXPECT_WITHOUT EXPECT_WITH
# WITHOUT: disabled set where the attack must succeed (output matches
# EXPECT_WITHOUT); WITH: the same minus the layer under test, where the
# output must match EXPECT_WITH and must not match EXPECT_WITHOUT.
layer_test() {
	local name=$1 without=$2 with=$3 mods=$4 code=$5 yes=$6 no=$7
	run_tb "$without" "$mods" "$code"
	if grep -Eaq -- "$yes" <<<"$OUT"; then
		ok "$name: attack succeeds without the layer ($without)"
	else
		bad "$name: attack should succeed with $without disabled" "$OUT"
	fi
	run_tb "$with" "$mods" "$code"
	if grep -Eaq -- "$no" <<<"$OUT" && ! grep -Eaq -- "$yes" <<<"$OUT"; then
		ok "$name: attack fails with the layer (disabled: ${with:-none})"
	else
		bad "$name: attack should fail with the layer (disabled: ${with:-none})" "$OUT"
	fi
}

# --- seccomp: only seccomp stops creating a socket --------------------------
layer_test seccomp "seccomp" "" socket \
	'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_STREAM); print("SOCKET_CREATED")' \
	'SOCKET_CREATED' 'forbidden system call socket'

# --- network namespace: connect to a loopback listener we start ------------
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(b"HELLO-FROM-HOST\n"); c.close()
' "$PORT" &
LISTENER=$!
sleep 0.3
layer_test network_namespace "seccomp,landlock,network_namespace" "seccomp,landlock" socket \
	"import socket
s = socket.socket()
try:
    s.connect(('127.0.0.1', $PORT)); print('GOT', s.recv(64))
except OSError as e:
    print('CONNECT_FAILED', e)" \
	'GOT b.HELLO-FROM-HOST' 'CONNECT_FAILED'

# --- Landlock: TCP connect (ABI 4) is stopped by Landlock alone too --------
layer_test landlock_net "seccomp,landlock,network_namespace" "seccomp,network_namespace" socket \
	"import socket
s = socket.socket()
try:
    s.connect(('127.0.0.1', $PORT)); print('GOT', s.recv(64))
except OSError as e:
    print('CONNECT_FAILED', e)" \
	'GOT b.HELLO-FROM-HOST' 'CONNECT_FAILED.*Permission denied'

# --- Landlock: reading a file that is inside the minimal root --------------
# (seccomp refuses open with EACCES too, so it is switched off in both runs)
layer_test landlock_fs "seccomp,landlock" "seccomp" "" \
	"try:
    print('READ', open('/usr/lib/python3.11/os.py').read(40).splitlines()[0])
except OSError as e:
    print('READ_FAILED', e)" \
	'READ r"""OS routines' 'READ_FAILED.*Permission denied'

# --- mount namespace: host files outside the minimal root ------------------
layer_test mount_namespace "seccomp,landlock,mount_namespace" "seccomp,landlock" "" \
	"import os
try:
    print('PASSWD', open('/etc/passwd').read().splitlines()[0])
except OSError as e:
    print('READ_FAILED', e)
print('ROOT', sorted(os.listdir('/')))" \
	'PASSWD root:' 'READ_FAILED.*No such file'

run_tb "seccomp,landlock" "" "import os; print('ROOT', sorted(os.listdir('/')))"
if grep -q "ROOT \['bin', 'etc', 'lib', 'lib32', 'lib64', 'sbin', 'usr'\]" <<<"$OUT" ||
	grep -q "ROOT \['bin', 'etc', 'lib', 'lib64', 'sbin', 'usr'\]" <<<"$OUT"; then
	ok "mount_namespace: the root holds only bin etc lib* sbin usr"
else
	bad "mount_namespace: unexpected root listing" "$OUT"
fi
run_tb "seccomp,landlock" "" "
try:
    open('/usr/codeexec-write-test', 'w'); print('WROTE')
except OSError as e:
    print('WRITE_FAILED', e)"
if grep -q 'WRITE_FAILED.*Read-only file system' <<<"$OUT"; then
	ok "mount_namespace: /usr is read-only even without Landlock and seccomp"
else
	bad "mount_namespace: /usr should be read-only" "$OUT"
fi

# --- PID namespace: signalling a process of the server's user --------------
setpriv --reuid=postgres --regid=postgres --init-groups sleep 300 &
VICTIM=$!
sleep 0.2
layer_test pid_namespace "seccomp,landlock,pid_namespace" "seccomp,landlock" "" \
	"import os
try:
    os.kill($VICTIM, 0); print('VICTIM_VISIBLE')
except OSError as e:
    print('KILL_FAILED', e)
print('MYPID', os.getpid())" \
	'VICTIM_VISIBLE' 'KILL_FAILED.*No such process'
if grep -q 'MYPID 1$' <<<"$OUT"; then ok "pid_namespace: the runner is pid 1"; else bad "pid_namespace: runner is not pid 1" "$OUT"; fi

# --- Landlock scope (ABI 6): signals leave the domain only without it ------
layer_test landlock_signal_scope "seccomp,landlock,pid_namespace" "seccomp,pid_namespace" "" \
	"import os
try:
    os.kill($VICTIM, 0); print('VICTIM_VISIBLE')
except OSError as e:
    print('KILL_FAILED', e)" \
	'VICTIM_VISIBLE' 'KILL_FAILED.*Operation not permitted'

# --- IPC namespace: a System V message queue of the server's user ---------
KEY=$((0x5e1f0000 + RANDOM))
QUEUE=$(setpriv --reuid=postgres --regid=postgres --init-groups /usr/bin/python3 -c '
import ctypes, sys
q = ctypes.CDLL(None).msgget(int(sys.argv[1]), 0o1600)  # IPC_CREAT | 0600
print(q)' "$KEY")
layer_test ipc_namespace "seccomp,ipc_namespace" "seccomp" ctypes \
	"import ctypes
libc = ctypes.CDLL(None, use_errno=True)
q = libc.msgget($KEY, 0)
print('QUEUE_FOUND' if q >= 0 else 'NO_QUEUE errno %d' % ctypes.get_errno())" \
	'QUEUE_FOUND' 'NO_QUEUE errno 2'

# --- UTS namespace: the host name is not visible ---------------------------
HOSTNAME=$(hostname)
layer_test uts_namespace "uts_namespace" "" "" \
	"import os; print('NODENAME=' + os.uname().nodename + '=')" \
	"NODENAME=$HOSTNAME=" 'NODENAME=codeexec='

# --- user namespace: the code does not run as the server's uid -------------
PGUID=$(id -u postgres)
layer_test user_namespace "user_namespace" "" "" \
	"import os; print('UID=%d=' % os.getuid())" \
	"UID=$PGUID=" 'UID=65534='

# --- capabilities: dropped even inside the user namespace ------------------
layer_test capabilities "seccomp,capabilities" "seccomp" ctypes \
	"import ctypes
libc = ctypes.CDLL(None, use_errno=True)
r = libc.sethostname(b'pwned', 5)
print('SETHOSTNAME_OK' if r == 0 else 'SETHOSTNAME_FAILED errno %d' % ctypes.get_errno())" \
	'SETHOSTNAME_OK' 'SETHOSTNAME_FAILED errno 1'

# expect_killed_at STAGE LABEL ATTACK [DRIVER OPTIONS...]: the production
# driver run with the options and ATTACK (its name, then its argument if it
# takes one) at STAGE (c: once locked; with -p, pre: a pooled child between
# its lock and its seal) dies of SIGSYS (exit 159) after writing a complete
# 'killed' response naming the call.  Through a pipe, as in the server
# (RLIMIT_FSIZE=0 forbids file output).
expect_killed_at() {
	local stage=$1 label=$2 attack=$3 rc name
	shift 3
	# $attack unquoted: the attack's name and its argument
	(cd / && runuser -u postgres -- "$PROD" -r "$@" "$stage" $attack 2>/dev/null | cat >"$WORK/out"; exit "${PIPESTATUS[0]}")
	rc=$?
	name=${attack%% *}
	case $name in
	fork) name=clone ;; kill_parent) name=kill ;; x32) name='' ;; setrlimit) name=prlimit64 ;;
	process_madvise_cold) name=process_madvise ;; sigsys_handler) name=rt_sigaction ;;
	esac
	if [ "$rc" = 159 ] && head -c 4 "$WORK/out" | grep -q CXR1 &&
		grep -aq "killed" "$WORK/out" && grep -aq "forbidden system call ${name}" "$WORK/out"; then
		ok "$label"
	else
		bad "$label (exit $rc)" "$(cat -v "$WORK/out")"
	fi
}

# expect_killed LABEL ATTACK [DRIVER OPTIONS...]: expect_killed_at stage c.
expect_killed() {
	expect_killed_at c "$@"
}

# --- seccomp kills with a report naming the call; the waiter mirrors SIGSYS
for attack in socket fork ptrace kill_parent mount unshare io_uring_setup bpf keyctl execve x32 \
	accept4 sendmsg setrlimit seccomp process_madvise; do
	expect_killed "seccomp: $attack killed by SIGSYS with a response naming it" "$attack"
done

# --- the trap cannot be defused: a new SIGSYS handler is refused, also when
# the signal number carries bits above 32 that the kernel ignores (before
# the fix the filter compared 64 bits, let SIGSYS + 2^32 through, and the
# driver caught the next forbidden call and exited 0)
for hi in 0 1; do
	expect_killed "seccomp: a new SIGSYS handler is killed (signal number plus 2^32: $hi)" \
		"sigsys_handler $hi"
done

# --- every system call number: the published table and nothing else -------
# syscall_sweep.py makes each x86_64 number in a driver of its own and checks
# the verdict against docs/security.md: exec mode's policy, a pooled child
# after its seal, and before it (where the five hand-off calls reach the
# kernel too).
for stage in c sealed pre; do
	if OUT=$(/usr/bin/python3 test/isolation/syscall_sweep.py "$PROD" "$stage" 2>&1); then
		ok "seccomp sweep, $(tail -n 1 <<<"$OUT")"
	else
		bad "seccomp sweep, stage $stage" "$OUT"
	fi
done
# ... and the sweep notices a call that reaches the kernel: with the filter
# off in the test build, each of these four must be reported
OUT=$(/usr/bin/python3 test/isolation/syscall_sweep.py --disable seccomp "$TB" c 41,111,121,321 2>&1)
rc=$?
if [ "$rc" = 1 ] && grep -q '4 numbers made, .* 4 mismatched$' <<<"$OUT"; then
	ok "seccomp sweep reports calls that reach the kernel with the filter off"
else
	bad "seccomp sweep with the filter off (exit $rc)" "$OUT"
fi

# --- a pooled fork-server child: locked before its call, then sealed -------
# The hand-off calls reach the kernel between sandbox_lock_pooled() and
# sandbox_seal() (errno, or success), and are killed like any forbidden
# call after the seal, together with everything the exec-mode policy kills.
for attack in accept4 sendmsg setrlimit seccomp process_madvise; do
	(cd / && runuser -u postgres -- "$PROD" -r -p pre "$attack" 2>/dev/null | cat >"$WORK/out")
	if grep -Eq "^$attack: (succeeded|refused errno=(9|14) )" "$WORK/out"; then
		ok "pooled child: $attack works before the seal"
	else
		bad "pooled child: $attack before the seal" "$(cat -v "$WORK/out")"
	fi
done
# process_madvise only populates pages, even before the seal
expect_killed_at pre "pooled child: process_madvise with an advice other than MADV_POPULATE_WRITE killed before the seal" \
	process_madvise_cold -p
for attack in accept4 sendmsg setrlimit seccomp process_madvise fork socket execve; do
	expect_killed "pooled child: $attack killed after the seal, naming it" "$attack" -p
done
REPORT=$(cd / && runuser -u postgres -- "$PROD" -r -p c none 2>&1 >/dev/null | sed -n 's/^REPORT //p')
if grep -q '"layer":"seccomp","active":true' <<<"$REPORT" && ! grep -q 'not yet sealed' <<<"$REPORT"; then
	ok "pooled child: the report shows the sealed policy"
else
	bad "pooled child: report after the seal" "$REPORT"
fi

(cd / && runuser -u postgres -- "$PROD" -r c open /usr/lib/python3.11/os.py 2>/dev/null | cat >"$WORK/out")
if grep -q 'open: refused errno=13' "$WORK/out"; then ok "seccomp: open refused with EACCES, process goes on"; else bad "seccomp: open" "$(cat "$WORK/out")"; fi
(cd / && runuser -u postgres -- "$PROD" -r c kill_self 2>/dev/null | cat >"$WORK/out")
if grep -q 'kill_self: succeeded' "$WORK/out"; then ok "seccomp: kill of itself allowed"; else bad "seccomp: kill_self" "$(cat "$WORK/out")"; fi

# --- the full production stack runs real snippets --------------------------
OUT=$(cd / && runuser -u postgres -- "$PROD" -r py json,statistics,decimal,re,datetime,collections,numpy,pandas \
	'import json, statistics, decimal, re, datetime, numpy as np, pandas as pd
print(json.dumps(statistics.mean([1, 2, 3])), decimal.Decimal(1) / 4, re.sub("a", "b", "aa"), datetime.date(2024, 1, 1).isoformat())
print(int((np.arange(4) @ np.arange(4))), pd.DataFrame({"x": [1, 2]}).x.sum())
json.loads("{")' 2>&1)
if grep -q '^2 0.25 bb 2024-01-01$' <<<"$OUT" && grep -q '^14 3$' <<<"$OUT" &&
	grep -q 'JSONDecodeError' <<<"$OUT"; then
	ok "full stack: json/statistics/decimal/re/datetime/numpy/pandas and a traceback work"
else
	bad "full stack snippets" "$OUT"
fi
REPORT=$(cd / && runuser -u postgres -- "$PROD" -r c none 2>&1 >/dev/null | sed -n 's/^REPORT //p')
if /usr/bin/python3 -c '
import json, sys
r = json.loads(sys.argv[1])
names = [l["layer"] for l in r]
want = ["user_namespace", "pid_namespace", "network_namespace", "mount_namespace", "ipc_namespace",
        "uts_namespace", "capabilities", "no_new_privs", "landlock", "seccomp", "rlimits"]
assert names == want, names
assert all(l["active"] is True for l in r), r
' "$REPORT"; then ok "report: every layer listed and active"; else bad "report" "$REPORT"; fi

# --- fail closed: with require set, each missing layer is a sandbox_error ---
for layer in user_namespace pid_namespace network_namespace mount_namespace ipc_namespace \
	uts_namespace capabilities landlock seccomp; do
	OUT=$(cd / && runuser -u postgres -- env CODEEXEC_TEST_DISABLE=$layer "$TB" -r c none 2>&1)
	rc=$?
	if [ "$rc" = 3 ] && grep -q "sandbox_error: $layer: disabled by test knob" <<<"$OUT" &&
		! grep -q 'none: succeeded' <<<"$OUT"; then
		ok "fail closed without $layer"
	else
		bad "fail closed without $layer (exit $rc)" "$OUT"
	fi
done
OUT=$(cd / && runuser -u postgres -- env CODEEXEC_TEST_DISABLE=seccomp "$PROD" -r c none 2>&1)
if grep -q 'none: succeeded' <<<"$OUT" && grep -q '"layer":"seccomp","active":true' <<<"$OUT"; then
	ok "production build ignores CODEEXEC_TEST_DISABLE"
else
	bad "production build must not honour the test knob" "$OUT"
fi

# --- parent death: killing the waiter kills the sandboxed runner ----------
(cd / && exec setpriv --reuid=postgres --regid=postgres --init-groups \
	"$PROD" -r py time 'import time; time.sleep(60)' >/dev/null 2>&1) &
WAITER=$!
sleep 0.5
RUNNER=$(pgrep -P "$WAITER")
if [ -n "$WAITER" ] && [ -n "$RUNNER" ]; then
	kill -9 "$WAITER"
	# reaped here, so bash's "Killed" notice goes to /dev/null with it
	{ wait "$WAITER"; } 2>/dev/null
	sleep 0.3
	# gone, or a zombie waiting for init to reap it
	state=$(awk '{print $3}' "/proc/$RUNNER/stat" 2>/dev/null)
	if [ -z "$state" ] || [ "$state" = Z ]; then ok "runner dies with its waiter (PDEATHSIG)"; else bad "runner $RUNNER survived its waiter (state $state)"; fi
else
	bad "parent death: could not find waiter/runner ($WAITER/$RUNNER)"
	kill -9 "$WAITER" 2>/dev/null
	{ wait "$WAITER"; } 2>/dev/null
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
