#!/usr/bin/env bash
# tests/monitoring/run.sh — monitoring against real parts: Evidently parity and
# scheduled monitoring end to end.
#
#   bash tests/monitoring/run.sh [parity|e2e|profiles|evidently]   (all by default; after `make install`)
#
# Starts a throwaway cluster with taxi_duration and pg_cron preloaded, then
#   parity: tests/monitoring/parity.py — drift_report() against Evidently 0.7.23
#           (its own virtualenv) on real TLC months and every edge case;
#   e2e:    tests/monitoring/test_monitoring_e2e.py — pg_cron and the Prefect flow
#           computing windows of real trips, alerts (rows, NOTIFY, log), the HTML
#           page in headless Chromium;
#   profiles: tests/monitoring/test_profiles.py — reports against stored reference
#           profiles equal to the rescan's, to the bit, on real months and a monitor;
#   evidently: tests/monitoring/test_evidently_snapshot.py — a monitor's reports exported as
#           Evidently 0.7 snapshots, loaded and rendered by Evidently 0.7.23, its HTML in
#           headless Chromium, `evidently ui` serving the workspace.
# Environment: TAXI_DATA_DIR, TD_MONITORING_PORT (default 54470).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/cluster.sh
if [ -z "${TAXI_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
	export TAXI_DATA_DIR=$(cd ../shared/data && pwd)
fi
what=${1:-all}
DIR=${TD_MONITORING_DIR:-/tmp/taxi_duration_monitoring}
PORT=${TD_MONITORING_PORT:-54470}
trap 'td_cluster_stop "$DIR"' EXIT
td_cluster_start "$DIR" "$PORT" "shared_preload_libraries = 'taxi_duration, pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 20
log_min_messages = warning"
DSN="host=$DIR port=$PORT dbname=postgres user=postgres"
psql -X -q "$DSN" -c "CREATE EXTENSION taxi_duration" -c "CREATE EXTENSION pg_cron"

status=0
if [ "$what" = all ] || [ "$what" = parity ]; then
	export TD_MONITORING_DATA=${TD_MONITORING_DATA:-/tmp/td_monitoring/datasets}
	export TD_MONITORING_OUT=${TD_MONITORING_OUT:-/tmp/td_monitoring/evidently}
	python3 tests/monitoring/parity.py --dsn "$DSN" ${TD_PARITY_SAVE:+--save "$TD_PARITY_SAVE"} || status=1
fi
if [ "$what" = all ] || [ "$what" = e2e ]; then
	taxi-duration load-trips --dsn "$DSN" --month 2021-01 --table trips_2021_01 >/dev/null
	taxi-duration load-trips --dsn "$DSN" --month 2021-02 --table trips_2021_02 >/dev/null
	TD_MONITORING_DSN="$DSN" TD_MONITORING_LOG="$DIR/server.log" \
		python3 -m pytest -q -p no:cacheprovider tests/monitoring/test_monitoring_e2e.py || status=1
fi
if [ "$what" = all ] || [ "$what" = profiles ]; then
	for m in 2023-01 2023-02 2021-01 2021-02; do
		taxi-duration load-trips --dsn "$DSN" --month "$m" --table "trips_${m/-/_}" >/dev/null
	done
	TD_PROFILES_DSN="$DSN" python3 -m pytest -q -p no:cacheprovider tests/monitoring/test_profiles.py || status=1
fi
if [ "$what" = all ] || [ "$what" = evidently ]; then
	for m in 2021-01 2021-02; do
		psql -X -q "$DSN" -tAc "SELECT to_regclass('trips_${m/-/_}')" | grep -q . ||
			taxi-duration load-trips -q --dsn "$DSN" --month $m --table "trips_${m/-/_}" >/dev/null
	done
	TD_MONITORING_DSN="$DSN" \
		python3 -m pytest -q -p no:cacheprovider tests/monitoring/test_evidently_snapshot.py || status=1
fi
if grep -E "terminated by signal|server process .* was terminated" "$DIR/server.log"; then
	echo "a backend crashed"; status=1
fi
exit $status
