# cluster.sh - shell functions to run a throwaway PostgreSQL cluster for
# codeexec's demo and test commands.  Sourced, not executed.
#
# PostgreSQL refuses to run as root, so the cluster runs as the `postgres`
# OS user (created by Debian's postgresql package); its data directory and
# socket directory live under CLUSTER_ROOT, which is deleted on stop.
#
# Settings (environment): PGBIN (server binaries; default from pg_config),
# PGPORT (default 54329), CLUSTER_ROOT (default /tmp/codeexec-cluster-$PGPORT),
# CLUSTER_PRELOAD (shared_preload_libraries, default codeexec; set it empty
# to preload nothing).

: "${PG_CONFIG:=pg_config}"
: "${PGBIN:=$($PG_CONFIG --bindir)}"
: "${PGPORT:=54329}"
: "${CLUSTER_ROOT:=/tmp/codeexec-cluster-$PGPORT}"
: "${CLUSTER_PRELOAD=codeexec}"
export PGPORT PGHOST="$CLUSTER_ROOT/sock" PGUSER=postgres PGDATABASE=postgres

cluster_as_postgres() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- env PATH="$PGBIN:$PATH" "$@"
	else
		env PATH="$PGBIN:$PATH" "$@"
	fi
}

# cluster_start [extra postgresql.conf lines...]
cluster_start() {
	cluster_stop quiet
	mkdir -p "$CLUSTER_ROOT/sock"
	if [ "$(id -u)" = 0 ]; then chown -R postgres: "$CLUSTER_ROOT"; fi
	cluster_as_postgres initdb -D "$CLUSTER_ROOT/data" -U postgres -A trust \
		--no-sync -E UTF8 --locale=C.UTF-8 >"$CLUSTER_ROOT/initdb.log" 2>&1 || {
		cat "$CLUSTER_ROOT/initdb.log"; return 1; }
	{
		echo "port = $PGPORT"
		echo "listen_addresses = '127.0.0.1'"
		echo "unix_socket_directories = '$CLUSTER_ROOT/sock'"
		echo "shared_preload_libraries = '$CLUSTER_PRELOAD'"
		echo "fsync = off"
		echo "max_connections = 60"
		echo "log_min_messages = warning"
		for line in "$@"; do echo "$line"; done
	} >>"$CLUSTER_ROOT/data/postgresql.conf"
	cluster_as_postgres pg_ctl -D "$CLUSTER_ROOT/data" -l "$CLUSTER_ROOT/server.log" \
		-w -t 60 start >/dev/null || { cat "$CLUSTER_ROOT/server.log"; return 1; }
}

# cluster_stop [quiet]: stop the server (if any) and delete the cluster.
cluster_stop() {
	if [ -f "$CLUSTER_ROOT/data/postmaster.pid" ]; then
		cluster_as_postgres pg_ctl -D "$CLUSTER_ROOT/data" -m fast -w stop >/dev/null 2>&1 ||
			cluster_as_postgres pg_ctl -D "$CLUSTER_ROOT/data" -m immediate -w stop >/dev/null 2>&1
	fi
	rm -rf "$CLUSTER_ROOT"
}

cluster_psql() {
	psql -X -v ON_ERROR_STOP=1 "$@"
}
