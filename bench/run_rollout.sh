#!/usr/bin/env bash
# bench/run_rollout.sh — run the rollout benchmark (load time from S3 into
# shared memory against bundle size; alias move → every backend serving)
# against moto with signature checking, an MLflow server and a throwaway
# cluster, and record it in bench/RESULTS.md.
#
#   bash bench/run_rollout.sh          (after `make install`)
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/cluster.sh
STATE=$(mktemp -d /tmp/td_bench_servers.XXXXXX)
DIR=${TD_BENCH_DIR:-/tmp/taxi_duration_bench_rollout}
PORT=${TD_BENCH_PORT:-54421}
trap 'td_cluster_stop "$DIR"; python3 tests/lib/servers.py stop --state-dir "$STATE" >/dev/null' EXIT
python3 tests/lib/servers.py start --state-dir "$STATE" --auth --watch-pid $$ >/dev/null
set -a; . "$STATE/env"; set +a
td_cluster_start "$DIR" "$PORT" "shared_preload_libraries = 'taxi_duration'
taxi_duration.aws_endpoint_url = '$AWS_ENDPOINT_URL'
taxi_duration.aws_region = '$AWS_REGION'
taxi_duration.mlflow_tracking_uri = '$MLFLOW_TRACKING_URI'"
DSN="host=$DIR port=$PORT dbname=postgres user=postgres"
psql -X -q "$DSN" -c "CREATE EXTENSION taxi_duration"
report=$(python3 bench/bench_rollout.py --dsn "$DSN" --env "$STATE/env")
echo "$report"
{
	echo
	echo "## Model rollout — $(date -u +%Y-%m-%d) on $(nproc) cores, $(uname -m)"
	echo
	echo "Command: \`bash bench/run_rollout.sh\`"
	echo
	echo "$report"
} >>bench/RESULTS.md
