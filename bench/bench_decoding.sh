#!/usr/bin/env bash
# bench/bench_decoding.sh — decoding speed of the taxi_duration output plugin
# against wal2json and test_decoding, on a throwaway cluster; appends the
# table to bench/RESULTS.md (a benchmark, not a test: no thresholds).
#
#   bash bench/bench_decoding.sh       (after `make install`; needs the
#                                       postgresql-15-wal2json package)
#
# Three slots are created before ROWS synthetic trips are inserted in XACTS
# transactions; each slot is then peeked in full (peek: nothing is consumed,
# so every run decodes the same WAL), RUNS times, and the median is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/cluster.sh
DIR=${TD_BENCH_DIR:-/tmp/taxi_duration_bench_decoding}
PORT=${TD_BENCH_PORT:-54425}
ROWS=${ROWS:-1000000}
XACTS=${XACTS:-100}
RUNS=${RUNS:-3}
trap 'td_cluster_stop "$DIR"' EXIT
# some server builds only create slots for plugins listed in this setting
plugins=
if td_as_pg "$(pg_config --bindir)/postgres" --describe-config 2>/dev/null |
	grep -q '^output_plugin_libraries'; then
	plugins="output_plugin_libraries = 'pgoutput, test_decoding, wal2json, taxi_duration'"
fi
td_cluster_start "$DIR" "$PORT" "wal_level = logical
max_replication_slots = 4
max_wal_senders = 4
shared_buffers = 256MB
max_wal_size = 4GB
$plugins"
DSN="host=$DIR port=$PORT dbname=postgres user=postgres"
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$DSN" "$@"; }

q -c "CREATE TABLE trips (ride_id bigint PRIMARY KEY, pulocationid integer,
	dolocationid integer, trip_distance double precision,
	lpep_pickup_datetime timestamp)"
q -c "SELECT 'init' FROM pg_create_logical_replication_slot('s_taxi', 'taxi_duration')" \
	-c "SELECT 'init' FROM pg_create_logical_replication_slot('s_wal2json', 'wal2json')" \
	-c "SELECT 'init' FROM pg_create_logical_replication_slot('s_test', 'test_decoding')" >/dev/null
q -c "DO \$\$
BEGIN
	FOR x IN 0 .. $XACTS - 1 LOOP
		INSERT INTO trips
		SELECT i, 1 + i % 265, 1 + (i * 7) % 265, round((i % 5000) / 100.0 + 0.01, 2),
		       timestamp '2021-01-01' + i * interval '2.5 seconds'
		FROM generate_series(x * ($ROWS / $XACTS) + 1, (x + 1) * ($ROWS / $XACTS)) i;
		COMMIT;
	END LOOP;
END
\$\$"

# seconds for one full peek of slot $1 with options $2 (SQL text); also rows
peek() {
	local start end rows
	start=$(date +%s.%N)
	rows=$(q -c "SELECT count(*) FROM pg_logical_slot_peek_changes('$1', NULL, NULL $2)")
	end=$(date +%s.%N)
	echo "$(echo "$end - $start" | bc) $rows"
}

# "median-seconds rows" over RUNS peeks
median() {
	local times=() t r
	for _ in $(seq "$RUNS"); do
		read -r t r < <(peek "$1" "$2")
		times+=("$t")
	done
	echo "$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') $r"
}

declare -A secs rows
names=(taxi_duration wal2json test_decoding)
declare -A slot=([taxi_duration]=s_taxi [wal2json]=s_wal2json [test_decoding]=s_test)
declare -A opts=(
	[taxi_duration]=", 'tables', 'public.trips'"
	[wal2json]=", 'format-version', '2', 'add-tables', 'public.trips'"
	[test_decoding]="")
for n in "${names[@]}"; do
	read -r secs[$n] rows[$n] < <(median "${slot[$n]}" "${opts[$n]}")
done

report=$( {
	echo "$ROWS synthetic trips (5 columns) in $XACTS transactions, decoded in full by"
	echo "\`SELECT count(*) FROM pg_logical_slot_peek_changes(slot, NULL, NULL, <options>)\`; medians of $RUNS runs."
	echo
	echo "| plugin | options | rows out | seconds | vs wal2json |"
	echo "|---|---|---|---|---|"
	for n in "${names[@]}"; do
		o=${opts[$n]#, }
		printf '| %s | %s | %s | %.3f | %.2f x |\n' "$n" "\`${o:-(default)}\`" "${rows[$n]}" \
			"${secs[$n]}" "$(echo "${secs[$n]} / ${secs[wal2json]}" | bc -l)"
	done
} )
echo "$report"
{
	echo
	echo "## Logical decoding — $(date -u +%Y-%m-%d) on $(nproc) cores, $(uname -m)"
	echo
	echo "Command: \`bash bench/bench_decoding.sh\`"
	echo
	echo "$report"
} >>bench/RESULTS.md
