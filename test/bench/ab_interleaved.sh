#!/usr/bin/env bash
# ab_interleaved.sh - two builds of codeexec-helper on two clusters at once,
# one benchmark snippet in interleaved batches (not part of the test
# command's pass/fail):
#
#     bash test/bench/ab_interleaved.sh HELPER_A HELPER_B [BATCHES] [CALLS] [PAUSE_MS] [SNIPPET]
#
# Starts a throwaway cluster per helper (test/lib/cluster.sh; ports PGPORT
# and PGPORT+1, default 54393 and 54394), with codeexec.helper_path
# pointing at it, and runs ab_interleaved.py: BATCHES (default 30) rounds
# of CALLS calls (default 200) on each side, PAUSE_MS (default 0: back to
# back) before each call, SNIPPET print1, data or pandas (pandas with the
# benchmark's numpy+pandas settings: phases.sh).  Both clusters run for
# the whole time and take turns every batch, so a shared host's load
# falls on both alike within seconds, which ab_helpers.sh's one-cluster
# rounds cannot give.  Only the helper differs: the installed backend and
# extension serve both.  Copy a build aside first (cp codeexec-helper
# /tmp/helper-a).  Run as root; both paths must be readable and
# executable by the postgres user.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 2 ] || { sed -n '2,19p' "$0"; exit 2; }
helpers=("$(realpath "$1")" "$(realpath "$2")")
batches=${3:-30}
calls=${4:-200}
pause_ms=${5:-0}
snippet=${6:-print1}
base_port=${PGPORT:-54393}
ports=("$base_port" "$((base_port + 1))")
unset CLUSTER_ROOT PGHOST

# on_cluster PORT COMMAND...: run a cluster.sh function on that port's cluster
on_cluster() {
	(
		export PGPORT=$1
		shift
		# shellcheck source=test/lib/cluster.sh
		source test/lib/cluster.sh
		"$@"
	)
}
trap 'on_cluster "${ports[0]}" cluster_stop; on_cluster "${ports[1]}" cluster_stop' EXIT

# shellcheck source=test/bench/phases.sh
source test/bench/phases.sh
settings=()
if [ "$snippet" = pandas ]; then
	on_cluster "${ports[0]}" cluster_start
	imports=$(on_cluster "${ports[0]}" default_imports)
	on_cluster "${ports[0]}" cluster_stop
	numpy_pandas_settings "$imports"
	settings=("${NUMPY_PANDAS_SETTINGS[@]}")
fi
for i in 0 1; do
	on_cluster "${ports[$i]}" cluster_start "codeexec.helper_path = '${helpers[$i]}'" "${settings[@]}"
	on_cluster "${ports[$i]}" cluster_psql -q -c "CREATE EXTENSION codeexec" >/dev/null
done
/usr/bin/python3 test/bench/ab_interleaved.py \
	"$(on_cluster "${ports[0]}" printenv PGHOST)" "${ports[0]}" \
	"$(on_cluster "${ports[1]}" printenv PGHOST)" "${ports[1]}" \
	"$batches" "$calls" "$pause_ms" "$snippet"
echo "A = ${helpers[0]}"
echo "B = ${helpers[1]}"
