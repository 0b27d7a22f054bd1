# tests/lib/cluster.sh — start and stop throwaway PostgreSQL clusters.
#
# Sourced by tests/run_all.sh, scripts/demo.sh and bench/*.sh.  PostgreSQL
# refuses to run as root, so when invoked as root every server command runs
# as the `postgres` OS user (created by the postgresql package).
#
#   td_as_pg CMD...                  run CMD as the cluster's OS user
#   td_cluster_start DIR PORT [CONF] initdb DIR, append CONF lines, start
#   td_cluster_stop DIR              stop it (fast), ignore errors
# shellcheck shell=bash

TD_PG_BINDIR=${TD_PG_BINDIR:-$(pg_config --bindir)}

td_as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

td_cluster_start() {
	local dir=$1 port=$2 conf=${3:-}
	rm -rf "$dir"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	# UTF8 whatever the caller's locale (none on a fresh machine: SQL_ASCII,
	# and psycopg returns bytes); the server programs run from $dir, which the
	# postgres OS user can read (the caller's directory, e.g. /root, may not be)
	(cd "$dir" && td_as_pg "$TD_PG_BINDIR/initdb" -D "$dir/data" -U postgres --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1) ||
		{ cat "$dir/initdb.log"; return 1; }
	{
		echo "port = $port"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$dir'"
		echo "fsync = off"
		echo "$conf"
	} | td_as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
	(cd "$dir" && td_as_pg "$TD_PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		-t 60 start >/dev/null) || { cat "$dir/server.log"; return 1; }
}

td_cluster_stop() {
	local dir=$1
	[ -d "$dir/data" ] || return 0
	td_as_pg "$TD_PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}
