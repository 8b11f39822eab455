# shellcheck shell=bash
# phases.sh - what the benchmark's numpy+pandas phase runs with, shared by
# run.sh, ab_helpers.sh and ab_interleaved.sh (sourced after
# test/lib/cluster.sh).

# default_imports: the server's own default allowlist, read from the
# running cluster (a short list if that fails); the numpy+pandas phase
# extends it.
default_imports() {
	cluster_psql -Atc 'SHOW codeexec.allowed_imports' 2>/dev/null ||
		echo 'math,json,statistics,collections'
}

# numpy_pandas_settings IMPORTS: sets the array NUMPY_PANDAS_SETTINGS to the
# phase's cluster settings: IMPORTS with numpy and pandas added, and the
# prewarm level documented for such allowlists (docs/forkserver.md).
numpy_pandas_settings() {
	# shellcheck disable=SC2034  # read by the scripts that source this file
	NUMPY_PANDAS_SETTINGS=("codeexec.allowed_imports = '$1,numpy,pandas'"
		"codeexec.forkserver_prewarm = full")
}
