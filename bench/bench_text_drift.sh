#!/usr/bin/env bash
# bench/bench_text_drift.sh — text content drift (Evidently's TF-IDF + SGD
# domain classifier, ported to C) in drift_report() against Evidently 0.7.23's
# own function on notes written from real trips, at several sizes; ratios in
# the same run (bench/bench_text_drift.py says what is timed).  A benchmark,
# not a test: no thresholds; it fails only if an AUC differs from Evidently's.
#
#   bash bench/bench_text_drift.sh                 (after `make install`)
#   SIZES="2000 5000" PERC_SIZES=2000 bash bench/bench_text_drift.sh   (smoke: not recorded)
#
# Environment: SIZES ("10000 40000 120000": trips per window), PERC_SIZES
# ("10000"), RUNS (3), RECORD (1: append to bench/RESULTS.md; default only
# with the default sizes), TAXI_DATA_DIR, TD_BENCH_DIR / TD_BENCH_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/cluster.sh
if [ -z "${TAXI_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
	export TAXI_DATA_DIR=$(cd ../shared/data && pwd)
fi
SIZES=${SIZES:-"10000 40000 120000"}
PERC_SIZES=${PERC_SIZES:-10000}
RUNS=${RUNS:-3}
RECORD=${RECORD:-auto}
[ "$RECORD" = auto ] && { [ "$SIZES" = "10000 40000 120000" ] && RECORD=1 || RECORD=0; }
DIR=${TD_BENCH_DIR:-/tmp/taxi_duration_bench_text}
PORT=${TD_BENCH_PORT:-54438}
trap 'td_cluster_stop "$DIR"; rm -rf "$DIR/data" "$DIR/work"' EXIT
td_cluster_start "$DIR" "$PORT" "shared_preload_libraries = 'taxi_duration'
work_mem = 64MB"
DSN="host=$DIR port=$PORT dbname=postgres user=postgres"
psql -X -q -v ON_ERROR_STOP=1 "$DSN" -c "CREATE EXTENSION taxi_duration"
mkdir -p "$DIR/work"
table=$(PYTHONPATH=python${PYTHONPATH:+:$PYTHONPATH} python3 bench/bench_text_drift.py --dsn "$DSN" \
	--work "$DIR/work" --sizes "$SIZES" --perc-sizes "$PERC_SIZES" --runs "$RUNS")
section="## Text content drift: drift_report() against Evidently's own test — $(date -u +%Y-%m-%d) on $(nproc) cores, $(uname -m)

\`bash bench/bench_text_drift.sh\` (RUNS=$RUNS, medians; free text written from real trips of green
2023-01/02 against 2023-04/03). The SQL time is the whole report (both scans, the value map, the
classifier); Evidently's is its stattest function alone on two sorted Series.

$table
"
echo "$section"
if [ "$RECORD" = 1 ]; then
	printf '\n%s' "$section" >> bench/RESULTS.md
fi
