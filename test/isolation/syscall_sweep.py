#!/usr/bin/python3
"""test/isolation/syscall_sweep.py - makes every x86_64 system call number,
one per sandboxed driver run, and checks the seccomp layer's verdict on each
against the allowlist as docs/security.md publishes it; then each argument
check of the filters with arguments on both sides of it.

The hand-picked attacks in run.sh prove the calls an attacker reaches for
first; this proves the rest of the boundary: a call the published table does
not allow must be trapped (exit 159, a complete 'killed' frame naming its
number), and an 'errno' row must return its errno, whatever the call.
Allowed calls are made only in the argument cases (ARGUMENT_CASES), which
include values with bits above the low 32 set: the filter compares all 64
bits of a register, while the kernel reads an int argument from the low 32.

usage: syscall_sweep.py [--disable LAYERS] DRIVER STAGE [N,N,...]
  STAGE  c       exec mode's policy (driver -r c)
         sealed  a pooled child after its seal (driver -r -p c)
         pre     a pooled child before its seal (driver -r -p pre), where
                 the five hand-off calls are allowed too
  --disable LAYERS  run the test build with CODEEXEC_TEST_DISABLE=LAYERS
                 and without -r (for run.sh's check that the sweep notices
                 calls reaching the kernel)
In the number sweep every argument is 0.  Runs as root, the driver as the
postgres OS user.  Prints one line per mismatch and a summary; exit 1 on
mismatch.
"""
import concurrent.futures
import errno
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNISTD = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
# every x86_64 number (the highest is in the 400s), the x32 block's numbers
# without the x32 bit (512-547), and a few far beyond
NUMBERS = list(range(0, 600)) + [1000, 65535, 0x3FFFFFFF]
HANDOFF_CALLS = {"accept4", "sendmsg", "prlimit64", "seccomp", "process_madvise"}
# Since Linux 6.11 (uretprobe) and 6.16 (uprobe) the kernel lets these two
# past every seccomp filter on x86_64: they act only when made from the
# kernel's own probe trampolines.  Made anywhere else, uretprobe kills the
# caller with SIGILL and uprobe fails with ENXIO; an older kernel traps them.
KERNEL_EXEMPT = {335: ("uretprobe", -4, None), 336: ("uprobe", 0, errno.ENXIO)}
HI = 1 << 32
PROT_EXEC, CLONE_THREAD, CLONE_NEWUSER, CLONE_NEWNET = 4, 0x10000, 0x10000000, 0x40000000
AT_FDCWD, AT_EMPTY_PATH, MAP_ANON_PRIVATE, SIGSYS = 2**64 - 100, 0x1000, 0x22, 31
# (what, number, arguments, verdict): "trap", "errno E..." (refused with
# that errno), or "kernel" (the call reached the kernel, whatever it
# answered); signals sent are 0.  SELF is the driver's own pid there and
# SELF_HI that pid plus 2^32.  A dict verdict is per stage.  No allowed case
# can do harm with these values.
SELF, SELF_HI = "self", "self+2^32"
HANDOFF_ONLY_BEFORE_SEAL = {"c": "trap", "sealed": "trap", "pre": "kernel"}
ARGUMENT_CASES = [
    ("kill of itself", 62, [SELF, 0], "kernel"),
    ("kill of another pid", 62, [2, 0], "trap"),
    ("kill of every process", 62, [2**64 - 1, 0], "trap"),
    ("kill of its process group", 62, [0, 0], "trap"),
    ("kill of its pid plus 2^32", 62, [SELF_HI, 0], "trap"),
    ("tgkill of itself", 234, [SELF, SELF, 0], "kernel"),
    ("tgkill of another group", 234, [2, 2, 0], "trap"),
    ("tgkill of its pid plus 2^32", 234, [SELF_HI, SELF, 0], "trap"),
    ("clone of a thread", 56, [CLONE_THREAD], "kernel"),
    ("clone of a process", 56, [0], "trap"),
    ("clone of a thread in a new user namespace", 56, [CLONE_THREAD | CLONE_NEWUSER], "trap"),
    ("clone of a thread in a new network namespace", 56, [CLONE_THREAD | CLONE_NEWNET], "trap"),
    ("mmap of readable memory", 9, [0, 4096, 1, MAP_ANON_PRIVATE, 2**64 - 1, 0], "kernel"),
    ("mmap of executable memory", 9, [0, 4096, 1 | PROT_EXEC, MAP_ANON_PRIVATE, 2**64 - 1, 0], "trap"),
    ("mmap of executable memory, high bits set", 9, [0, 4096, PROT_EXEC | HI, MAP_ANON_PRIVATE, 2**64 - 1, 0], "trap"),
    ("mprotect to readable", 10, [0, 0, 1], "kernel"),
    ("mprotect to executable", 10, [0, 0, 1 | PROT_EXEC], "trap"),
    ("newfstatat of a descriptor", 262, [0, 0, 0, AT_EMPTY_PATH], "kernel"),
    ("newfstatat of a path", 262, [AT_FDCWD, 0, 0, 0], "errno EACCES"),
    # the flag, not the path, is what the filter sees: a non-empty path with
    # AT_EMPTY_PATH is looked up (docs/security.md, What remains)
    ("newfstatat of a path with AT_EMPTY_PATH", 262, [AT_FDCWD, 0, 0, AT_EMPTY_PATH], "kernel"),
    ("rt_sigaction query of SIGSYS", 13, [SIGSYS, 0, 0, 8], "kernel"),
    ("rt_sigaction of another signal", 13, [SIGSYS - 1, 0, 0, 8], "kernel"),
    ("rt_sigaction of a real-time signal", 13, [SIGSYS + 3, 1, 0, 8], "kernel"),
    ("rt_sigaction of signal 64", 13, [64, 1, 0, 8], "kernel"),
    ("rt_sigaction replacing the SIGSYS handler", 13, [SIGSYS, 1, 0, 8], "trap"),
    ("rt_sigaction replacing SIGSYS plus 2^32", 13, [SIGSYS | HI, 1, 0, 8], "trap"),
    ("rt_sigaction of signal 65", 13, [65, 1, 0, 8], "trap"),
    ("rt_sigaction of signal 1 plus 2^32", 13, [1 | HI, 0, 0, 8], "trap"),
    ("prlimit64 reading its limits", 302, [0, 0, 0, 0], "kernel"),
    ("prlimit64 reading another process's", 302, [2, 0, 0, 0], "trap"),
    ("prlimit64 reading pid 0 plus 2^32", 302, [HI, 0, 0, 0], "trap"),
    ("prlimit64 setting its limits", 302, [0, 0, 1, 0], HANDOFF_ONLY_BEFORE_SEAL),
    ("prlimit64 setting pid 0 plus 2^32", 302, [HI, 0, 1, 0], "trap"),
    ("process_madvise populating", 440, [2**64 - 1, 0, 0, 23, 0], HANDOFF_ONLY_BEFORE_SEAL),
    ("process_madvise with another advice", 440, [2**64 - 1, 0, 0, 20, 0], "trap"),
    ("process_madvise populating plus 2^32", 440, [2**64 - 1, 0, 0, 23 | HI, 0], "trap"),
    ("process_madvise with flags", 440, [2**64 - 1, 0, 0, 23, 1], "trap"),
    ("seccomp adding a filter", 317, [1, 0, 0], HANDOFF_ONLY_BEFORE_SEAL),
    ("seccomp in strict mode", 317, [0, 0, 0], "trap"),
    ("seccomp adding a filter plus 2^32", 317, [1 | HI, 0, 0], "trap"),
    ("accept4", 288, [2**64 - 1, 0, 0, 0], HANDOFF_ONLY_BEFORE_SEAL),
    ("sendmsg", 46, [2**64 - 1, 0, 0], HANDOFF_ONLY_BEFORE_SEAL),
]
STAGE_ARGS = {"c": ["-r", "c"], "sealed": ["-r", "-p", "c"], "pre": ["-r", "-p", "pre"]}


def syscall_names():
    """{number: name} from the kernel headers the helper is built against."""
    names = {}
    with open(UNISTD) as f:
        for line in f:
            m = re.match(r"#define __NR_(\w+)\s+(\d+)\s*$", line)
            if m:
                names[int(m.group(2))] = m.group(1)
    return names


def published_table():
    """({allowed names}, {name: errno number}) from docs/security.md."""
    allowed, refused = set(), {}
    with open(os.path.join(ROOT, "docs", "security.md")) as f:
        text = f.read()
    section = text.split("## The seccomp allowlist", 1)[1].split("\n## ", 1)[0]
    for m in re.finditer(r"^\| `(\w+)` \| (allow|errno (E[A-Z]+))\b", section, re.M):
        if m.group(2) == "allow":
            allowed.add(m.group(1))
        else:
            refused[m.group(1)] = getattr(errno, m.group(3))
    if len(allowed) < 20 or not refused:
        sys.exit("syscall_sweep: could not read the allowlist table of docs/security.md")
    return allowed, refused


def run_driver(driver, stage_args, call, disable):
    """Run the driver's "nr" attack; call is "N[,a0,...]"."""
    cmd = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", driver]
    env = dict(os.environ)
    if disable:
        env["CODEEXEC_TEST_DISABLE"] = disable
        stage_args = [a for a in stage_args if a != "-r"]
    # stdout is a pipe, as in the server: RLIMIT_FSIZE=0 forbids file output
    try:
        p = subprocess.run(cmd + stage_args + ["nr", call], cwd="/", env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=20)
    except subprocess.TimeoutExpired:
        return None, b""
    return p.returncode, p.stdout


def as_text(out):
    return out.replace(b"\0", b"").decode("utf-8", "replace")


def refused_with(rc, out, err):
    """The driver saw the call fail with errno err (the process went on)."""
    return rc == 0 and as_text(out).startswith("nr: refused errno=%d " % err)


def trap_problem(nr, name, rc, out):
    """None if the run died of the seccomp trap with a complete 'killed'
    frame naming call nr (and name, when both sides know one)."""
    text = as_text(out)
    m = re.search(r"forbidden system call (?:(\w+) )?\(number (\d+)\) refused", text)
    if rc != 159 or not out.startswith(b"CXR1") or "killed" not in text or m is None:
        return "not trapped: exit %s, output %r" % (rc, text[-160:])
    if int(m.group(2)) != nr or (m.group(1) and name and m.group(1) != name):
        return "trapped under another name: %r" % m.group(0)
    return None


def verdict(nr, name, rc, out, refused):
    """None when the run matches the table, else what went wrong."""
    if rc is None:
        return "still running after 20 s (the call reached the kernel and blocked)"
    if nr in KERNEL_EXEMPT:
        _, exempt_rc, exempt_errno = KERNEL_EXEMPT[nr]
        if exempt_errno is None and rc == exempt_rc or \
                exempt_errno is not None and refused_with(rc, out, exempt_errno):
            return None
    if name in refused:
        return None if refused_with(rc, out, refused[name]) else \
            "expected errno %d, got exit %s: %r" % (refused[name], rc, as_text(out)[-160:])
    return trap_problem(nr, name, rc, out)


def main(argv):
    disable = None
    if len(argv) > 1 and argv[1] == "--disable":
        disable = argv[2]
        argv = argv[:1] + argv[3:]
    if len(argv) not in (3, 4) or argv[2] not in STAGE_ARGS:
        sys.exit(__doc__)
    driver, stage = os.path.abspath(argv[1]), argv[2]
    numbers = [int(n, 0) for n in argv[3].split(",")] if len(argv) == 4 else NUMBERS
    names = syscall_names()
    for nr, (exempt_name, _, _) in KERNEL_EXEMPT.items():
        names.setdefault(nr, exempt_name)	# newer than Debian 12's headers
    allowed, refused = published_table()
    if stage == "pre":
        allowed = allowed | HANDOFF_CALLS
    unknown = (allowed | set(refused)) - set(names.values())
    if unknown:
        sys.exit("syscall_sweep: the table names calls x86_64 does not have: %s" % sorted(unknown))
    todo = [n for n in numbers if names.get(n) not in allowed]

    def one(nr):
        rc, out = run_driver(driver, STAGE_ARGS[stage], str(nr), disable)
        return nr, verdict(nr, names.get(nr), rc, out, refused)

    bad = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for nr, problem in sorted(pool.map(one, todo)):
            if problem:
                bad += 1
                if bad <= 40:
                    print("  %d %s: %s" % (nr, names.get(nr, "(unnamed)"), problem))
    if bad > 40:
        print("  ... and %d more" % (bad - 40))
    cases = 0
    if len(argv) == 3:
        cases = len(ARGUMENT_CASES)
        for line in argument_cases(driver, stage, disable):
            bad += 1
            print(line)
    trapped = sum(1 for n in todo if names.get(n) not in refused)
    print("%s: %d numbers made, %d to trap, %d to refuse with an errno; %d argument cases; "
          "%d mismatched" % (stage, len(todo), trapped, len(todo) - trapped, cases, bad))
    return 1 if bad else 0


def argument_cases(driver, stage, disable):
    """Yield a line for each ARGUMENT_CASES entry whose verdict is wrong."""
    rc, out = run_driver(driver, STAGE_ARGS[stage], "39", disable)
    m = re.search(rb"nr: succeeded rc=(\d+)", out)
    if m is None:
        yield "  getpid failed in the driver: %r" % out
        return
    pids = {SELF: int(m.group(1)), SELF_HI: int(m.group(1)) | HI}
    for what, nr, args, expect in ARGUMENT_CASES:
        expect = expect[stage] if isinstance(expect, dict) else expect
        call = ",".join(str(pids.get(a, a)) for a in [nr] + args)
        rc, out = run_driver(driver, STAGE_ARGS[stage], call, disable)
        if expect == "trap":
            ok = trap_problem(nr, None, rc, out) is None
        elif expect.startswith("errno "):
            ok = refused_with(rc, out, getattr(errno, expect[6:]))
        else:
            ok = rc == 0 and as_text(out).startswith("nr: ")
        if not ok:
            yield "  %s (%s): expected %s, got exit %s: %r" % (what, call, expect, rc,
                                                            as_text(out)[-160:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
