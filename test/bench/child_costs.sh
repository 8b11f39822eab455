#!/usr/bin/env bash
# child_costs.sh - two per-child costs of the fork server measured on their
# own, behind figures quoted in docs/forkserver-measurements.md (not part
# of the test command's pass/fail):
#
#     bash test/bench/child_costs.sh [ROUNDS]
#
# copy_cost.c: a forked child's copy of 175 pages in 134 runs, by one
# madvise() per run, one process_madvise() per eight runs, or write faults
# (ROUNDS alternating rounds, default 10).  seccomp_cost.c: loading the
# pooled filter and the seal, compiled from the helper's own sandbox
# sources as the fork server compiles them.  Run on an otherwise idle
# machine; the binaries go to a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-10}
out=$(mktemp -d /tmp/codeexec-child-costs.XXXXXX)
trap 'rm -rf "$out"' EXIT
cc -O2 -Wall -o "$out/copy_cost" test/bench/copy_cost.c
make -s -f test/isolation/Makefile.driver MAIN=test/bench/seccomp_cost.c OUT="$out/seccomp_cost"
"$out/copy_cost" "$rounds"
"$out/seccomp_cost"
