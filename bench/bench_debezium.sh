#!/bin/bash
# bench/bench_debezium.sh — td-forwarder and Debezium (embedded engine, PostgreSQL connector,
# pgoutput; bench/debezium/) side by side on the same table, trips and moto: throughput, commit →
# stream latency, CPU and peak RSS, bytes per event, and a kill -9 while inserting (lost and
# duplicated ride ids).  Appends a "## Debezium side by side — <date>" section to
# bench/RESULTS.md.  Run from anywhere as root; needs Java 17 and mvn (Maven Central, or the
# artifacts already in ~/.m2), what tests/forwarder/run.sh needs, and TAXI_DATA_DIR (2021-01 and
# 2021-02).  Environment: TRIPS (1000000), KILL_TRIPS (200000), PACED_TRIPS (30000), PACED_RATE
# (1000 trips/s), KILL_RATE (5000 trips/s), TX (1000 rows per COPY transaction), SHARDS (512),
# PYTHON (.venv's, else python3); TD_BENCH_KEEP=1 keeps the work directory (logs).
# Ports: PostgreSQL 55132 (127.0.0.1 and a private socket), moto 55101.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-}
if [ -z "$PY" ]; then
	if [ -x "$ROOT/.venv/bin/python" ]; then PY="$ROOT/.venv/bin/python"; else PY=python3; fi
fi
WORK=$(mktemp -d /tmp/td_dbz_bench.XXXXXX)
chmod 755 "$WORK"
cleanup() {
	. "$ROOT/tests/lib/cluster.sh"
	td_cluster_stop "$WORK/pg"
	"$PY" "$ROOT/tests/lib/servers.py" stop --state-dir "$WORK/servers" >/dev/null 2>&1
	[ -n "${TD_BENCH_KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
make -s -C "$ROOT/forwarder" >/dev/null
(cd "$ROOT/bench/debezium" && { mvn -B -q -o package 2>/dev/null || mvn -B -q package; })
if [ -z "${TAXI_DATA_DIR:-}" ]; then
	if [ -d "$ROOT/../shared/data" ]; then TAXI_DATA_DIR="$(cd "$ROOT/../shared/data" && pwd)"; else TAXI_DATA_DIR=/work/shared/data; fi
fi
export TAXI_DATA_DIR
CMD="bash bench/bench_debezium.sh"
for v in SHARDS TX KILL_RATE PACED_RATE PACED_TRIPS KILL_TRIPS TRIPS; do
	[ -n "${!v:-}" ] && CMD="$v=${!v} $CMD"
done
"$PY" -u "$ROOT/bench/bench_debezium.py" "$WORK" --trips "${TRIPS:-1000000}" \
	--kill-trips "${KILL_TRIPS:-200000}" --paced-trips "${PACED_TRIPS:-30000}" \
	--paced-rate "${PACED_RATE:-1000}" --kill-rate "${KILL_RATE:-5000}" --tx "${TX:-1000}" \
	--shards "${SHARDS:-512}" \
	--command "$CMD" >"$WORK/section.md"
cat "$WORK/section.md"
cat "$WORK/section.md" >>"$ROOT/bench/RESULTS.md"
