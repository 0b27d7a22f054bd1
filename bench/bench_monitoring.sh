#!/usr/bin/env bash
# bench/bench_monitoring.sh — taxi_duration.drift_report() (2 parallel workers,
# and serial) against Evidently 0.7.23 on the same 10 M + 10 M rows: time,
# peak memory, and whether both give the same verdicts.  A benchmark, not a
# test: no thresholds; ratios against Evidently measured in the same run.
#
#   bash bench/bench_monitoring.sh              (after `make install`; as root
#                                                or as a user that can run the cluster)
#   ROWS=200000 bash bench/bench_monitoring.sh  (smoke run: not recorded)
#
# Environment: ROWS (rows per window, default 10000000), TAXI_DATA_DIR (as for
# the tests, default ../shared/data), EVIDENTLY_TIMEOUT (s, default 1200),
# EVIDENTLY_MEM_CAP_MB (default: 90 % of MemAvailable, at most 20 GB),
# RECORD (1: append the section to bench/RESULTS.md; default: only when
# ROWS=10000000), TD_BENCH_WORK (keep the generated data there and reuse it),
# TD_BENCH_DIR / TD_BENCH_PORT (the throwaway cluster).
#
# Phases, strictly one after the other (bench/bench_monitoring.py has the
# details): generate the two windows once (parquet for Evidently, CSV for
# COPY, from the same Arrow table) → cluster → load + VACUUM ANALYZE → SQL
# runs → cluster stopped → Evidently → compare.py → Markdown section.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/cluster.sh
if [ -z "${TAXI_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
	export TAXI_DATA_DIR=$(cd ../shared/data && pwd)
fi
ROWS=${ROWS:-10000000}
RECORD=${RECORD:-auto}
[ "$RECORD" = auto ] && { [ "$ROWS" = 10000000 ] && RECORD=1 || RECORD=0; }
DIR=${TD_BENCH_DIR:-/tmp/taxi_duration_bench_monitoring}
PORT=${TD_BENCH_PORT:-54427}
if [ -n "${TD_BENCH_WORK:-}" ]; then
	WORK=$TD_BENCH_WORK
	mkdir -p "$WORK"
	KEEP=1
else
	WORK=$(mktemp -d /tmp/td_bench_monitoring.XXXXXX)
	KEEP=0
fi
chmod 755 "$WORK"              # the server reads the CSVs (COPY FROM file as postgres)
cleanup() {
	td_cluster_stop "$DIR"
	[ "$KEEP" = 1 ] || rm -rf "$WORK" "$DIR/data"    # the cluster's 3 GB of tables; server.log stays
}
trap cleanup EXIT
start=$SECONDS
B="python3 -u bench/bench_monitoring.py"

$B generate --work "$WORK" --rows "$ROWS"
chmod -R a+rX "$WORK/data"

td_cluster_start "$DIR" "$PORT" "shared_preload_libraries = 'taxi_duration'
shared_buffers = 2GB
work_mem = 64MB
maintenance_work_mem = 512MB
max_worker_processes = 8
max_parallel_workers = 8
max_parallel_workers_per_gather = 2
max_wal_size = 8GB
checkpoint_timeout = 30min"
DSN="host=$DIR port=$PORT dbname=postgres user=postgres"
psql -X -q -v ON_ERROR_STOP=1 "$DSN" -c "CREATE EXTENSION taxi_duration"
$B load --work "$WORK" --dsn "$DSN"
$B sql --work "$WORK" --dsn "$DSN" --server-log "$DIR/server.log" \
	--postmaster "$(head -1 "$DIR/data/postmaster.pid")"
td_cluster_stop "$DIR"         # Evidently gets the machine to itself

$B evidently --work "$WORK" --timeout "${EVIDENTLY_TIMEOUT:-1200}" \
	--mem-cap-mb "${EVIDENTLY_MEM_CAP_MB:-0}"
report=$($B report --work "$WORK" --total-seconds $((SECONDS - start)))
[ -f "$WORK/compare.txt" ] && { echo "compare.py (ours = drift_report() with 2 workers):"; cat "$WORK/compare.txt"; echo; }
section="## Monitoring: drift_report() vs Evidently — $(awk -v r="$ROWS" 'BEGIN { printf "%g M + %g M", r / 1e6, r / 1e6 }') rows — $(date -u +%Y-%m-%d) on $(nproc) cores, $(uname -m)

Command: \`bash bench/bench_monitoring.sh\`$([ "$ROWS" = 10000000 ] || echo " (ROWS=$ROWS)")

$report"
echo "$section"
if [ "$RECORD" = 1 ]; then
	printf '\n%s\n' "$section" >>bench/RESULTS.md
	echo "(appended to bench/RESULTS.md)"
fi
