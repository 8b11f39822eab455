#!/usr/bin/env bash
# run.sh - the benchmark command (not part of the test command's pass/fail):
#
#     bash test/bench/run.sh [--quick]
#
# Builds codeexec and installs it into a private copy of PostgreSQL (never
# the system's), starts a throwaway cluster with codeexec preloaded and
# plpython3u available, and runs bench.py, which times the same snippets
# through codeexec (forkserver and exec spawn modes), plpython3u, python3,
# bwrap and runsc, and writes test/bench/results/<date>-<host>[-quick].md.
# --quick takes about two minutes; the full run is bounded to ~15 minutes.
#
# Environment: PGPORT (default 54347), BENCH_PG_ROOT (private PostgreSQL copy,
# default /tmp/codeexec-bench-pg) or PG_CONFIG (an install to use instead),
# BENCH_OUT_DIR (default test/bench/results).  Run as root (the cluster runs
# as the postgres OS user).  If codeexec does not build, the peers are still
# measured and the report says why codeexec is missing.
set -euo pipefail

quick=()
for arg in "$@"; do
	case $arg in
	--quick) quick=(--quick) ;;
	*) echo "usage: $0 [--quick]" >&2; exit 2 ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/setup.sh"
setup_install_deps

if [ -z "${PG_CONFIG:-}" ]; then
	bash "$CODEEXEC_ROOT/test/lib/pg-mirror.sh" "${BENCH_PG_ROOT:-/tmp/codeexec-bench-pg}" >/dev/null
	PG_CONFIG=${BENCH_PG_ROOT:-/tmp/codeexec-bench-pg}/usr/lib/postgresql/15/bin/pg_config
fi
export PG_CONFIG PGBIN=$("$PG_CONFIG" --bindir)
export PGPORT=${PGPORT:-54347} PGBENCH=$PGBIN/pgbench
export CLUSTER_ROOT=${CLUSTER_ROOT:-/tmp/codeexec-bench-cluster-$PGPORT}
export BENCH_GIT_REV=$(git -C "$CODEEXEC_ROOT" describe --always --dirty 2>/dev/null || echo '?')

# Build into the private copy; a failed build leaves the peers measurable.
build_log=/tmp/codeexec-bench-build-$PGPORT.log
if (cd "$CODEEXEC_ROOT" && make -s -j2 PG_CONFIG="$PG_CONFIG" && make -s install PG_CONFIG="$PG_CONFIG") \
	>"$build_log" 2>&1; then
	export CLUSTER_PRELOAD=codeexec
else
	echo "bench: codeexec did not build (see $build_log); measuring the peers only" >&2
	tail -5 "$build_log" >&2
	export CLUSTER_PRELOAD=''
fi

source "$CODEEXEC_ROOT/test/lib/cluster.sh"
# shellcheck source=test/bench/phases.sh
source "$here/phases.sh"
py=/usr/bin/python3
work=$(mktemp -d /tmp/codeexec-bench-XXXXXX)
trap 'cluster_stop; rm -rf "$work"' EXIT
export BENCH_LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# Phase "default": the default allowlist, for the plain snippets.
cluster_start
# The server's own default allowlist, extended in the next phase.
numpy_pandas_settings "$(default_imports)"
"$py" "$here/bench.py" phase default --snippets print1,data "${quick[@]}" --json "$work/default.json"
cluster_stop

# Phase "numpy+pandas": the allowlist extended, for the import-heavy snippet
# (phases.sh).
cluster_start "${NUMPY_PANDAS_SETTINGS[@]}"
"$py" "$here/bench.py" phase numpy+pandas --snippets pandas "${quick[@]}" --json "$work/pandas.json"
cluster_stop

"$py" "$here/bench.py" report "${quick[@]}" --out-dir "${BENCH_OUT_DIR:-$here/results}" \
	"$work/default.json" "$work/pandas.json"
