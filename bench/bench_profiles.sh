#!/usr/bin/env bash
# bench/bench_profiles.sh — a monitor's time per window against a 10 M-row
# reference: rescanning the reference (before) against a stored reference
# profile (after), in the same run, on the same cluster (issue 17, item 3).
# A benchmark, not a test: no thresholds; the ratio is against the rescan.
#
#   bash bench/bench_profiles.sh              (after `make install`; as root or
#                                              a user that can run the cluster)
#   COPIES=4 bash bench/bench_profiles.sh     (smoke run: not recorded)
#
# The reference is green 2023-01 repeated COPIES times (152: 10.02 M trips,
# as taxi-duration load-trips --copies does, repeated in SQL to load fast);
# the windows are WINDOWS days of green 2023-02 (1 day each, about 2,000
# trips).  Columns: pulocationid, dolocationid (integer), trip_distance,
# zone (text), prediction and duration (double precision, regression).
# Both paths run the same drift_report() with 2 parallel workers; each
# window is timed once per path, alternating, after one warm-up of each.
# The section also says whether the two reports are identical (drift
# columns and the whole report text, regression included: its sums are
# exact and order-independent, so a parallel rescan matches too;
# tests/monitoring/test_profiles.py checks it).
#
# Environment: COPIES (152), WINDOWS (7), TAXI_DATA_DIR (../shared/data),
# RECORD (1: append to bench/RESULTS.md; default only when COPIES=152),
# TD_BENCH_DIR / TD_BENCH_PORT (the throwaway cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/cluster.sh
if [ -z "${TAXI_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
	export TAXI_DATA_DIR=$(cd ../shared/data && pwd)
fi
COPIES=${COPIES:-152}
WINDOWS=${WINDOWS:-7}
RECORD=${RECORD:-auto}
[ "$RECORD" = auto ] && { [ "$COPIES" = 152 ] && RECORD=1 || RECORD=0; }
DIR=${TD_BENCH_DIR:-/tmp/taxi_duration_bench_profiles}
PORT=${TD_BENCH_PORT:-54437}
trap 'td_cluster_stop "$DIR"; rm -rf "$DIR/data"' EXIT
start=$SECONDS

td_cluster_start "$DIR" "$PORT" "shared_preload_libraries = 'taxi_duration'
shared_buffers = 1GB
work_mem = 64MB
maintenance_work_mem = 512MB
max_worker_processes = 8
max_parallel_workers = 8
max_parallel_workers_per_gather = 2
max_wal_size = 8GB
checkpoint_timeout = 30min"
DSN="host=$DIR port=$PORT dbname=postgres user=postgres"
psql -X -q -v ON_ERROR_STOP=1 "$DSN" -c "CREATE EXTENSION taxi_duration"
taxi-duration load-trips -q --dsn "$DSN" --month 2023-01 --table trips_2023_01 >/dev/null
taxi-duration load-trips -q --dsn "$DSN" --month 2023-02 --table trips_2023_02 >/dev/null

psql -X -q -v ON_ERROR_STOP=1 -v copies="$COPIES" "$DSN" <<'EOF'
-- the reference: 2023-01 repeated, with a text column and a prediction
CREATE TABLE bench_reference AS
SELECT t.lpep_pickup_datetime, t.pulocationid, t.dolocationid, t.trip_distance, t.duration,
	   CASE WHEN t.pulocationid % 5 = 0 THEN NULL ELSE 'zone-' || (t.pulocationid % 7) END AS zone,
	   round((4 + 3.2 * t.trip_distance)::numeric, 1)::double precision AS prediction
FROM trips_2023_01 AS t, generate_series(1, :copies) AS c;
CREATE TABLE bench_current AS
SELECT t.lpep_pickup_datetime, t.pulocationid, t.dolocationid, t.trip_distance, t.duration,
	   CASE WHEN t.pulocationid % 5 = 0 THEN NULL ELSE 'zone-' || (t.pulocationid % 7) END AS zone,
	   round((4 + 3.1 * t.trip_distance)::numeric, 1)::double precision AS prediction
FROM trips_2023_02 AS t;
CREATE INDEX ON bench_current (lpep_pickup_datetime);
VACUUM ANALYZE bench_reference;
VACUUM ANALYZE bench_current;
EOF

psql -X -q -At -v ON_ERROR_STOP=1 -v windows="$WINDOWS" -v copies="$COPIES" "$DSN" <<'EOF' >"$DIR/section.md"
SET bench.windows = :windows;
CREATE TEMPORARY TABLE bench_times (path text, window_start timestamptz, seconds double precision,
									report jsonb);
CREATE TEMPORARY TABLE bench_profile (seconds double precision);
DO $$
DECLARE
	t0 timestamptz := clock_timestamp();
BEGIN
	PERFORM taxi_duration.create_reference_profile('bench_profile', 'bench_reference',
		ARRAY['pulocationid', 'dolocationid', 'trip_distance', 'zone'], 'prediction', 'duration');
	INSERT INTO bench_profile VALUES (extract(epoch FROM clock_timestamp() - t0));
END
$$;
DO $$
DECLARE
	w timestamptz;
	t0 timestamptz;
	r jsonb;
	path text;
	cur text;
	cols CONSTANT text[] := ARRAY['pulocationid', 'dolocationid', 'trip_distance', 'zone'];
BEGIN
	-- warm-up: one window each way (the reference's pages in shared buffers)
	cur := 'SELECT * FROM public.bench_current WHERE lpep_pickup_datetime >= ''2023-01-31'' AND lpep_pickup_datetime < ''2023-02-01''';
	PERFORM taxi_duration.drift_report('bench_reference', cur, cols, 'prediction', 'duration');
	PERFORM taxi_duration.drift_report('profile:bench_profile', cur, cols, 'prediction', 'duration');
	FOR i IN 1 .. current_setting('bench.windows')::int LOOP
		w := timestamptz '2023-02-01 00:00:00+00' + (i - 1) * interval '1 day';
		cur := format('SELECT * FROM public.bench_current WHERE lpep_pickup_datetime >= %L AND lpep_pickup_datetime < %L',
					  w AT TIME ZONE 'UTC', (w + interval '1 day') AT TIME ZONE 'UTC');
		FOREACH path IN ARRAY ARRAY['rescan', 'profile'] LOOP
			t0 := clock_timestamp();
			r := taxi_duration.drift_report(CASE path WHEN 'rescan' THEN 'bench_reference' ELSE 'profile:bench_profile' END,
											cur, cols, 'prediction', 'duration');
			INSERT INTO bench_times VALUES (path, w, extract(epoch FROM clock_timestamp() - t0), r);
		END LOOP;
	END LOOP;
END
$$;
WITH per_path AS (
	SELECT path, percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median,
		   min(seconds) AS fastest, max(seconds) AS slowest
	FROM bench_times GROUP BY path),
pairs AS (
	SELECT a.window_start, a.report AS rescan, b.report AS profile
	FROM bench_times a JOIN bench_times b USING (window_start)
	WHERE a.path = 'rescan' AND b.path = 'profile')
SELECT format(E'Reference: %s trips (green 2023-01 x %s); 4 drift columns (2 integer, 1 float, 1 text with NULLs) + prediction and target (regression). Windows: %s days of green 2023-02 (%s to %s trips each). drift_report() with 2 parallel workers, each window once per path after a warm-up of each.\n\n'
			  '| time per window | median | fastest | slowest |\n|---|---|---|---|\n'
			  '| before: rescan of the reference | %s s | %s s | %s s |\n'
			  '| after: stored profile | %s s | %s s | %s s |\n'
			  '| **ratio before / after (median)** | **%sx** | | |\n\n'
			  'Profile: created once in %s s (one parallel scan of the reference); %s stored (value maps %s, regression state %s bytes). '
			  'Reports identical: drift columns, counts and current regression in %s of %s windows; the whole report text in %s of %s (regression sums are exact and order-independent, so a parallel rescan matches too; tests/monitoring/test_profiles.py checks it).',
			  (SELECT reference_rows FROM taxi_duration.reference_profiles WHERE name = 'bench_profile'), :copies,
			  (SELECT count(*) FROM pairs),
			  (SELECT min((rescan->>'current_rows')::int) FROM pairs), (SELECT max((rescan->>'current_rows')::int) FROM pairs),
			  round(r.median::numeric, 3), round(r.fastest::numeric, 3), round(r.slowest::numeric, 3),
			  round(p.median::numeric, 3), round(p.fastest::numeric, 3), round(p.slowest::numeric, 3),
			  round((r.median / p.median)::numeric, 1),
			  round((SELECT seconds FROM bench_profile)::numeric, 1),
			  pg_size_pretty((SELECT sum(pg_column_size(value_map)) FROM taxi_duration.reference_profile_columns)
							 + (SELECT pg_column_size(regression) FROM taxi_duration.reference_profiles)),
			  pg_size_pretty((SELECT sum(pg_column_size(value_map)) FROM taxi_duration.reference_profile_columns)),
			  (SELECT pg_column_size(regression) FROM taxi_duration.reference_profiles),
			  (SELECT count(*) FROM pairs WHERE (rescan - 'regression')::text = (profile - 'regression')::text
				   AND rescan->'regression'->'current' = profile->'regression'->'current'),
			  (SELECT count(*) FROM pairs),
			  (SELECT count(*) FROM pairs WHERE rescan::text = profile::text), (SELECT count(*) FROM pairs))
FROM per_path r, per_path p WHERE r.path = 'rescan' AND p.path = 'profile';
EOF
section="## Reference profiles: a monitor window against $(awk -v r="$((COPIES * 65946))" 'BEGIN { printf "%.3g M", r / 1e6 }') reference rows, rescan vs stored profile — $(date -u +%Y-%m-%d) on $(nproc) cores, $(uname -m)

Command: \`bash bench/bench_profiles.sh\`$([ "$COPIES" = 152 ] || echo " (COPIES=$COPIES)") — $((SECONDS - start)) s in all

$(cat "$DIR/section.md")"
echo "$section"
if [ "$RECORD" = 1 ]; then
	printf '\n%s\n' "$section" >>bench/RESULTS.md
	echo "(appended to bench/RESULTS.md)"
fi
