-- predict.sql — the positional forms of predict_duration(): values, NULLs,
-- special values, and errors.  Model outputs are compared, not printed, so
-- retraining the default model does not change this file's output.
\set SHOW_CONTEXT never
SET search_path = taxi_duration, public;

-- the course's example gives a plausible duration, the same every time
SELECT predict_duration(130, 205, 3.66) BETWEEN 5 AND 40 AS plausible,
       predict_duration(130, 205, 3.66) = predict_duration(130, 205, 3.66) AS repeatable;

-- longer trips take longer; the pickup time matters when it is given
SELECT predict_duration(130, 205, 10) > predict_duration(130, 205, 0.5) AS longer_takes_longer;
SELECT predict_duration(74, 75, 1.5, '2021-02-03 08:30') <>
       predict_duration(74, 75, 1.5, '2021-02-03 03:30') AS time_of_day_matters;
SELECT predict_duration(130, 205, 3.66, NULL) = predict_duration(130, 205, 3.66) AS null_time_is_no_time;

-- NULL is a missing value, never an error
SELECT predict_duration(NULL, 205, 3.66) > 0 AS null_pickup_zone,
       predict_duration(130, NULL, 3.66) > 0 AS null_dropoff_zone,
       predict_duration(130, 205, NULL) > 0 AS null_distance,
       predict_duration(NULL, NULL, NULL) > 0 AS all_null;
SELECT predict_duration(130, 205, 'NaN') = predict_duration(130, 205, NULL) AS nan_is_missing;

-- a zone pair never seen in training contributes nothing: both zones known,
-- the pair unknown, so the pair feature is simply absent
SELECT predict_duration(1, 2, 3.0) > 0 AS unseen_pair;

-- non-finite and impossible values are errors
SELECT predict_duration(130, 205, 'Infinity');
SELECT predict_duration(130, 205, '-Infinity');
SELECT predict_duration(130, 205, -0.5);
SELECT predict_duration(130, 205, 3.66, 'infinity');
SELECT predict_duration(130, 205, 3.66, '-infinity');

-- absurd but possible distances are scored; the trees saturate
SELECT predict_duration(130, 205, 1e6) BETWEEN 0 AND 120 AS absurd_distance_bounded;

-- zone ids outside the TLC zones (1..265) are errors
SELECT predict_duration(0, 205, 3.66);
SELECT predict_duration(130, 266, 3.66);
SELECT predict_duration(-7, 205, 3.66);
SELECT predict_duration(2147483647, 205, 3.66);

-- over a table, in one statement; the same with parallel workers (a regular
-- table: parallel workers cannot read a temporary one), compared exactly
-- through the sum of each prediction's bits read as an integer
CREATE TABLE predict_trips AS
SELECT 1 + (g * 37) % 265 AS pu, 1 + (g * 91) % 265 AS dz, (g % 200) / 10.0 AS dist,
       timestamp '2021-02-01' + g * interval '7 minutes' AS pickup
FROM generate_series(1, 5000) AS g;
ANALYZE predict_trips;
SELECT count(*) AS rows, count(predict_duration(pu, dz, dist, pickup)) AS predicted
FROM predict_trips;
CREATE FUNCTION pg_temp.bits(double precision) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ('x' || encode(float8send($1), 'hex'))::bit(64)::bigint $$;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_bits AS
SELECT sum(pg_temp.bits(predict_duration(pu, dz, dist, pickup))) AS s FROM predict_trips;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF)
SELECT sum(pg_temp.bits(predict_duration(pu, dz, dist, pickup))) FROM predict_trips;
SELECT (SELECT sum(pg_temp.bits(predict_duration(pu, dz, dist, pickup))) FROM predict_trips) = s
       AS parallel_equals_serial
FROM serial_bits;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
DROP TABLE predict_trips;

-- the planner's cost of a prediction: 100 operators (see docs/serving.md, "Scoring many rows")
SELECT p.oid::regprocedure AS function, procost
FROM pg_proc p
WHERE pronamespace = 'taxi_duration'::regnamespace AND proname = 'predict_duration'
ORDER BY p.oid::regprocedure::text COLLATE "C";

-- labels: STABLE (depends on the loaded model), PARALLEL SAFE, not STRICT
-- (NULL means missing) except the jsonb form
SELECT p.oid::regprocedure AS function, provolatile, proparallel, proisstrict
FROM pg_proc p
WHERE pronamespace = 'taxi_duration'::regnamespace
ORDER BY p.oid::regprocedure::text COLLATE "C";
