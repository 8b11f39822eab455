#!/usr/bin/env bash
# demo.sh - the README's first command: on a fresh Debian 12 machine (as root)
# installs the dependencies, builds and installs codeexec, starts a throwaway
# cluster with the library preloaded, and runs a few real queries.  The
# cluster is left running so you can try more; the last lines say how to
# connect and how to stop it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/setup.sh"
export PGPORT=${PGPORT:-54320}
setup_install_deps
setup_build_install
setup_cluster

show() { echo; echo "=> $1"; cluster_psql -c "$1"; }
show "SELECT status, stdout, result FROM codeexec_run('result = sum(context[\"xs\"]); print(\"hi\")', '{\"xs\": [1, 2, 3]}')"
show "SELECT status, stdout FROM codeexec_run(\$\$
import statistics, json
data = context['temps']
print(json.dumps({'mean': statistics.mean(data), 'max': max(data)}))
\$\$, '{\"temps\": [18.5, 21.0, 19.25, 23.5]}')"
show "SELECT status, error_type, error_message FROM codeexec_run('1/0')"
show "SELECT status, violations FROM codeexec_run('import os; os.system(\"id\")')"
show "SELECT status, execution_time_seconds < 1 AS under_a_second FROM codeexec_run('while True: pass', timeout_ms => 500)"
show "SELECT codeexec_validate('open(\"/etc/passwd\").read()')"
show "SELECT layer, active, detail FROM codeexec_isolation()"
show "SELECT id, status, left(code, 40) AS code FROM codeexec_execution ORDER BY id"
echo
echo "The cluster is still running: psql -h $PGHOST -p $PGPORT -U postgres"
echo "Stop it with: runuser -u postgres -- $PGBIN/pg_ctl -D $CLUSTER_ROOT/data stop"
