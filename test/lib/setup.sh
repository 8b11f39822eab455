# setup.sh - shared set-up for the demo and test commands (sourced).
#
# setup_install_deps: installs every Debian package the project needs to build,
#   run, test and benchmark (idempotent; needs root and Debian's registry).
# setup_build_install: builds the library, the helper and the extension script
#   and installs them into the PostgreSQL found by pg_config.
# setup_cluster: starts a throwaway cluster with codeexec preloaded
#   (see cluster.sh for the settings it honours).

CODEEXEC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# One list, so CI, the demo and developers install the same things.
CODEEXEC_DEBS=(
	build-essential pkg-config procps iproute2 util-linux
	postgresql-15 postgresql-server-dev-15 postgresql-contrib postgresql-plpython3-15
	libseccomp-dev libpcre2-dev python3 python3-dev
	python3-psycopg2 python3-django python3-numpy python3-pandas
	clang libclang-rt-14-dev afl++
	bubblewrap runsc hyperfine
)

setup_install_deps() {
	if [ "$(id -u)" != 0 ]; then
		echo "setup: not root, assuming dependencies are installed" >&2
		return 0
	fi
	local missing=()
	for p in "${CODEEXEC_DEBS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "setup: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/codeexec-apt.log 2>&1 || {
			tail -30 /tmp/codeexec-apt.log; return 1; }
	fi
	# Debian's package creates and starts a default cluster; we use our own.
	if command -v pg_ctlcluster >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q '^15 main .* online'; then
		if ! pg_ctlcluster 15 main stop; then
			echo "setup: note: could not stop Debian's default cluster (it does not conflict)" >&2
		fi
	fi
}

setup_build_install() {
	cd "$CODEEXEC_ROOT"
	make -s -j2 >/tmp/codeexec-build.log 2>&1 || { cat /tmp/codeexec-build.log; return 1; }
	make -s install >>/tmp/codeexec-build.log 2>&1 || { cat /tmp/codeexec-build.log; return 1; }
}

setup_cluster() {
	# shellcheck source=cluster.sh
	source "$CODEEXEC_ROOT/test/lib/cluster.sh"
	cluster_start "$@"
	cluster_psql -q -c 'CREATE EXTENSION IF NOT EXISTS codeexec'
}
