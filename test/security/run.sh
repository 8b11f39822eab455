#!/usr/bin/env bash
# security/run.sh - the adversarial corpus against the live server named by
# PGHOST/PGPORT/PGUSER (exported by test/lib/cluster.sh): every case with the
# Python guards on, then every os_level case with them off (the layer-bypass
# run).  Ends with "N passed, N failed"; exits non-zero on any failure.
# CODEEXEC_SECURITY_ONLY=<regex> runs only the matching case ids;
# CODEEXEC_SPAWN_MODE=exec|forkserver the spawn mode (default: the server's).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${PGHOST:?PGHOST not set (source test/lib/cluster.sh first)}"
: "${PGPORT:?PGPORT not set}"
exec /usr/bin/python3 "$here/runner.py"
