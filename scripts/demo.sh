#!/usr/bin/env bash
# scripts/demo.sh — the main job on a local default, from a fresh machine:
# install dependencies, build and install the extension, start a throwaway
# cluster with the library preloaded, serve the default model, load a month
# of real trips (TAXI_DATA_DIR, else the TLC download), predict every one in
# SQL and print the RMSE against the actual durations and the rows per
# second.  The cluster is removed at the end (TD_KEEP=1 keeps it running).
#
#   MONTH=2021-02 TAXI_DATA_DIR=/path/to/parquet bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

[ "${TD_SKIP_INSTALL:-0}" = 1 ] || bash scripts/install-deps.sh runtime
VENV=${TD_VENV:-$PWD/.venv}
export PATH="$VENV/bin:$PATH"

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
make -s -j"$(nproc)"
$SUDO make -s install >/dev/null

. tests/lib/cluster.sh
DIR=${TD_DEMO_DIR:-/tmp/taxi_duration_demo}
PORT=${TD_DEMO_PORT:-54329}
MONTH=${MONTH:-2021-02}
[ "${TD_KEEP:-0}" = 1 ] || trap 'td_cluster_stop "$DIR"' EXIT

td_cluster_start "$DIR" "$PORT" "shared_preload_libraries = 'taxi_duration'"
DSN="host=$DIR port=$PORT dbname=postgres user=postgres"

psql -X -q "$DSN" -c "CREATE EXTENSION taxi_duration"
echo "loading green taxi trips of $MONTH ..."
taxi-duration load-trips --dsn "$DSN" --month "$MONTH" >/dev/null
taxi-duration score --dsn "$DSN"
[ "${TD_KEEP:-0}" = 1 ] && echo "cluster left running: psql \"$DSN\""
exit 0
