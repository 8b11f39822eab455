#!/usr/bin/env bash
# ab_helpers.sh - two builds of codeexec-helper side by side, back-to-back
# calls of one benchmark snippet in the fork server (not part of the test
# command's pass/fail):
#
#     bash test/bench/ab_helpers.sh HELPER_A HELPER_B [ROUNDS] [CALLS] [SNIPPET]
#
# Each round starts a throwaway cluster (test/lib/cluster.sh, PGPORT
# default 54391) per helper, with codeexec.helper_path pointing at it, and
# runs CALLS calls (default 3,000; ROUNDS default 4) of SNIPPET (print1,
# data or pandas: test/bench/snippets.py; pandas with the benchmark's
# numpy+pandas settings: phases.sh).  The order alternates
# between rounds, so a shared host's drift falls on both builds alike; the
# spread of each build's lines says how far one round can be trusted.  It
# measures the backend and extension that are installed (test/run.sh or
# `make install`): only the helper differs.  Copy a build aside first
# (cp codeexec-helper /tmp/helper-a) since `make` replaces it.  Run as
# root; both paths must be readable and executable by the postgres user.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 2 ] || { sed -n '2,18p' "$0"; exit 2; }
helpers=("$(realpath "$1")" "$(realpath "$2")")
rounds=${3:-4}
calls=${4:-3000}
snippet=${5:-print1}
export PGPORT=${PGPORT:-54391}
unset CLUSTER_ROOT PGHOST
# shellcheck source=test/lib/cluster.sh
source test/lib/cluster.sh
trap 'cluster_stop' EXIT

# shellcheck source=test/bench/phases.sh
source test/bench/phases.sh
settings=()
if [ "$snippet" = pandas ]; then
	cluster_start
	numpy_pandas_settings "$(default_imports)"
	cluster_stop
	settings=("${NUMPY_PANDAS_SETTINGS[@]}")
fi

for round in $(seq "$rounds"); do
	order=(0 1)
	[ $((round % 2)) = 0 ] && order=(1 0)
	for i in "${order[@]}"; do
		cluster_start "codeexec.helper_path = '${helpers[$i]}'" "${settings[@]}"
		cluster_psql -q -c "CREATE EXTENSION codeexec" >/dev/null
		/usr/bin/python3 test/bench/ab_calls.py "$calls" "$([ "$i" = 0 ] && echo A || echo B) r$round" "$snippet"
		cluster_stop
	done
done | tee "$CLUSTER_ROOT.lines"
awk '{ n[$1]++; p50[$1] += $4; mean[$1] += $10; cpu[$1] += $12 }
	END { for (k in n) printf "%s, mean of %d rounds: p50 %.3f  mean %.3f  cpu/call %.3f ms\n",
		k, n[k], p50[k] / n[k], mean[k] / n[k], cpu[k] / n[k] }' "$CLUSTER_ROOT.lines" | sort
rm -f "$CLUSTER_ROOT.lines"
echo "A = ${helpers[0]}"
echo "B = ${helpers[1]}"
