#!/usr/bin/env bash
# bench/run.sh — run the prediction benchmark on a throwaway cluster and
# record the result in bench/RESULTS.md (a benchmark, not a test: no
# thresholds; ratios against baselines measured in the same run).
#
#   bash bench/run.sh          (after `make install`; TAXI_DATA_DIR as for the tests)
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/cluster.sh
if [ -z "${TAXI_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
	export TAXI_DATA_DIR=$(cd ../shared/data && pwd)
fi
DIR=${TD_BENCH_DIR:-/tmp/taxi_duration_bench}
PORT=${TD_BENCH_PORT:-54420}
COPIES=${COPIES:-17}
trap 'td_cluster_stop "$DIR"' EXIT
td_cluster_start "$DIR" "$PORT" "shared_preload_libraries = 'taxi_duration'
shared_buffers = 512MB"
DSN="host=$DIR port=$PORT dbname=postgres user=postgres"
psql -X -q "$DSN" -c "CREATE EXTENSION taxi_duration"
taxi-duration load-trips --dsn "$DSN" --month 2021-02 --table bench_trips --copies "$COPIES" >/dev/null
report=$(python3 bench/bench_predict.py --dsn "$DSN" --copies "$COPIES")
echo "$report"
{
	echo
	echo "## predict_duration() — $(date -u +%Y-%m-%d) on $(nproc) cores, $(uname -m)"
	echo
	echo "Command: \`bash bench/run.sh\`"
	echo
	echo "$report"
} >>bench/RESULTS.md
