#!/usr/bin/env bash
# tests/security/run.sh — the security suite: every privilege boundary of the
# extension, attacked (docs/security.md lists the scenarios and where each
# is tested).
#
#   bash tests/security/run.sh          (after `make install`; root is fine)
#
# Starts a throwaway cluster with taxi_duration and pg_cron preloaded and runs
#   - the pgTAP files tests/security/*.sql on it (as the superuser, acting as
#     attackers with SET ROLE): monitors, search_path, the admin role;
#   - the pytest files tests/security/test_*.py, which use that cluster
#     (TD_SECURITY_DSN) or start clusters of their own for scenarios that
#     need another configuration (a model server that never answers, a
#     fresh cluster for the pre-created role).
# Environment: TD_SECURITY_SQL_PORT (default 54590).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/cluster.sh
DIR=${TD_SECURITY_DIR:-/tmp/taxi_duration_security}
PORT=${TD_SECURITY_SQL_PORT:-54590}
trap 'td_cluster_stop "$DIR"' EXIT
td_cluster_start "$DIR" "$PORT" "shared_preload_libraries = 'taxi_duration, pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 20" || exit 1
DSN="host=$DIR port=$PORT dbname=postgres user=postgres"
psql -X -q "$DSN" -v ON_ERROR_STOP=1 -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION pg_cron" \
	-c "CREATE EXTENSION taxi_duration" \
	-c "CREATE TABLE td_test_paths (name text PRIMARY KEY, uri text)" \
	-c "INSERT INTO td_test_paths VALUES
		('default', 'file://$(pg_config --sharedir)/extension/taxi_duration/default_bundle.json')" || exit 1

status=0
pg_prove -h "$DIR" -p "$PORT" -U postgres -d postgres tests/security/*.sql || status=1
TD_SECURITY_DSN="$DSN" TD_SECURITY_LOG="$DIR/server.log" \
	python3 -m pytest -q -p no:cacheprovider tests/security || status=1
if grep -E "terminated by signal|server process .* was terminated" "$DIR/server.log"; then
	echo "a backend crashed"
	status=1
fi
exit $status
