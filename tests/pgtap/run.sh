#!/usr/bin/env bash
# tests/pgtap/run.sh — pgTAP with pg_prove on a throwaway cluster.
#
#   bash tests/pgtap/run.sh [MODE] [pg_prove args or test files...]
#
# MODE (default preload):
#   preload    taxi_duration in shared_preload_libraries; tests/pgtap/*.sql
#   nopreload  not preloaded: every function says what to configure;
#              tests/pgtap/nopreload/*.sql
#   nomodel    preloaded, but the configured model cannot be loaded;
#              tests/pgtap/nomodel/*.sql
#
# The extension must be installed (make install).  The tests read the paths
# of their fixtures from a table td_test_paths made here.  Environment:
# TD_PGTAP_PORT (default 54400), TD_PGTAP_DIR (the cluster's directory: kept
# running after the tests when set, for more suites to use; else a
# temporary one, stopped and removed).  Runs the server as `postgres` when
# invoked as root.  Exits with pg_prove's status.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/tests/lib/cluster.sh"

mode=preload
case "${1:-}" in preload | nopreload | nomodel) mode=$1 && shift ;; esac
port=${TD_PGTAP_PORT:-54400}
keep=${TD_PGTAP_DIR:-}
dir=${keep:-$(mktemp -d /tmp/td_pgtap.XXXXXX)}
if [ -z "$keep" ]; then
	trap 'td_cluster_stop "$dir"; rm -rf "$dir"' EXIT
fi
share=$(pg_config --sharedir)
default_uri="file://$share/extension/taxi_duration/default_bundle.json"
bundles="$repo/tests/fixtures/bundles"

case $mode in
	preload) conf="shared_preload_libraries = 'taxi_duration'
max_worker_processes = 16
taxi_duration.load_retry_interval = 0" ;;
	nopreload) conf="" ;;
	nomodel) conf="shared_preload_libraries = 'taxi_duration'
taxi_duration.model_uri = 'file:///nonexistent/taxi/bundle.json'
taxi_duration.load_retry_interval = 3600" ;;
esac
td_cluster_start "$dir" "$port" "$conf" || exit 1
psql_do() { psql -X -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

psql_do -c "CREATE EXTENSION pgtap" || exit 1
case $mode in
	preload)
		psql_do -c "CREATE EXTENSION dblink" -c "CREATE EXTENSION taxi_duration" \
			-c "CREATE TABLE td_test_paths (name text PRIMARY KEY, uri text)" \
			-c "INSERT INTO td_test_paths VALUES
				('default', '$default_uri'),
				('small', 'file://$bundles/small_xgb.json'),
				('linear', 'file://$bundles/linear.json'),
				('bad_dir', 'file://$bundles/bad'),
				('socket_dir', '$dir'), ('port', '$port')" || exit 1
		;;
	nomodel)
		psql_do -c "CREATE EXTENSION taxi_duration" \
			-c "CREATE TABLE td_test_paths (name text PRIMARY KEY, uri text)" \
			-c "INSERT INTO td_test_paths VALUES ('default', '$default_uri')" || exit 1
		# wait for the loader worker's first (failing) attempt
		for _ in $(seq 100); do
			[ "$(psql -X -At -h "$dir" -p "$port" -U postgres -d postgres \
				-c "SELECT last_error IS NOT NULL FROM taxi_duration.model_info()")" = t ] && break
			sleep 0.1
		done
		;;
esac

if [ $# -eq 0 ]; then
	case $mode in
		preload) set -- "$here"/*.sql ;;
		*) set -- "$here/$mode"/*.sql ;;
	esac
fi
cd "$repo" && pg_prove -h "$dir" -p "$port" -U postgres -d postgres "$@"
