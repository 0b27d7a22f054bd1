-- statement_version.sql — one model version per statement (docs/serving.md):
-- a parallel statement uses the version current at its start in the leader
-- and every worker; a cursor keeps its opening statement's version across
-- FETCHes; each statement of a multi-statement query string starts afresh.
-- Model A is the small test bundle, model B the default one: they predict
-- differently for every row used here.
BEGIN;
SELECT plan(12);

SELECT uri AS a_uri FROM td_test_paths WHERE name = 'small' \gset
SELECT uri AS b_uri FROM td_test_paths WHERE name = 'default' \gset
SELECT 'host=' || (SELECT uri FROM td_test_paths WHERE name = 'socket_dir') ||
       ' port=' || (SELECT uri FROM td_test_paths WHERE name = 'port') ||
       ' user=postgres dbname=postgres' AS self_dsn \gset

CREATE TABLE sv_trips AS
SELECT g AS id, g % 265 + 1 AS pu, (g * 7) % 265 + 1 AS du, (g % 60)::double precision / 4 AS dist
FROM generate_series(1, 60000) AS g;
SELECT taxi_duration.load_model(:'a_uri') IS NOT NULL AS loaded \gset
ALTER TABLE sv_trips ADD COLUMN pa double precision, ADD COLUMN pb double precision;
UPDATE sv_trips SET pa = taxi_duration.predict_duration(pu, du, dist);
SELECT taxi_duration.predict_duration(130, 205, 3.66) AS a_value \gset
SELECT taxi_duration.load_model(:'b_uri') IS NOT NULL AS loaded \gset
UPDATE sv_trips SET pb = taxi_duration.predict_duration(pu, du, dist);
SELECT taxi_duration.predict_duration(130, 205, 3.66) AS b_value \gset
ANALYZE sv_trips;
SELECT is((SELECT count(*)::int FROM sv_trips WHERE pa = pb), 0, 'the two models differ on every row');
SELECT isnt(:'a_value'::float8, :'b_value'::float8, 'and on the course''s ride');

-- ------------------------------------------------------------------
-- Parallel statements, with the leader taking part and without it
-- ------------------------------------------------------------------
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;

CREATE FUNCTION pg_temp.workers_launched(query text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || query INTO plan;
	RETURN coalesce((plan->0->'Plan'->>'Workers Launched')::int,
					(plan->0->'Plan'->'Plans'->0->>'Workers Launched')::int, 0);
END
$$;
SELECT cmp_ok(pg_temp.workers_launched(
	'SELECT count(*) FROM sv_trips WHERE taxi_duration.predict_duration(pu, du, dist) > 0'), '>', 0,
	'the statements below run with parallel workers');

-- a statement on A, a swap to B, then a statement that must be all B
SELECT taxi_duration.load_model(:'a_uri') IS NOT NULL AS loaded \gset
SELECT count(*) AS warm FROM sv_trips WHERE taxi_duration.predict_duration(pu, du, dist) > 0 \gset
SELECT taxi_duration.load_model(:'b_uri') IS NOT NULL AS loaded \gset
SELECT is((SELECT count(*)::int FROM sv_trips WHERE taxi_duration.predict_duration(pu, du, dist) = pb),
          60000, 'after a swap, every row of a parallel statement uses the new model');

SET LOCAL parallel_leader_participation = off;
SELECT taxi_duration.load_model(:'a_uri') IS NOT NULL AS loaded \gset
SELECT count(*) AS warm FROM sv_trips WHERE taxi_duration.predict_duration(pu, du, dist) > 0 \gset
SELECT taxi_duration.load_model(:'b_uri') IS NOT NULL AS loaded \gset
SELECT is((SELECT count(*)::int FROM sv_trips WHERE taxi_duration.predict_duration(pu, du, dist) = pb),
          60000, 'and with only the workers predicting');
SELECT is((SELECT count(*)::int FROM sv_trips WHERE taxi_duration.predict_duration(pu, du, dist) = pb),
          60000, 'and in the next statement too');
RESET parallel_leader_participation;

-- a swap from another session while a parallel statement runs: one version
SELECT dblink_connect('sv_other', :'self_dsn') AS connected \gset
CREATE FUNCTION pg_temp.swap_once(uri text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM * FROM dblink('sv_other', format('SELECT 1 FROM taxi_duration.load_model(%L)', uri)) AS t(x int);
	RETURN true;
END
$$;
SELECT is((SELECT count(DISTINCT p = pa)::int FROM
		   (SELECT taxi_duration.predict_duration(pu, du, dist) AS p, pa,
				   CASE WHEN id = 30000 THEN pg_temp.swap_once(:'a_uri') END AS swapped
			FROM sv_trips) AS s),
		  1, 'a swap by another session during a statement does not change its version');
SELECT taxi_duration.load_model(:'b_uri') IS NOT NULL AS loaded \gset

-- ------------------------------------------------------------------
-- A cursor keeps the version of the statement that opened it
-- ------------------------------------------------------------------
DECLARE sv_cursor NO SCROLL CURSOR FOR
	SELECT taxi_duration.predict_duration(pu, du, dist) AS p, pa, pb FROM sv_trips ORDER BY id;
FETCH 1 FROM sv_cursor \gset c1_
FETCH 1 FROM sv_cursor \gset c2_
SELECT taxi_duration.load_model(:'a_uri') IS NOT NULL AS loaded \gset
FETCH 1 FROM sv_cursor \gset c3_
FETCH 1 FROM sv_cursor \gset c4_
SELECT ok(:'c1_p' = :'c1_pb' AND :'c2_p' = :'c2_pb', 'a cursor''s first rows use the model of its opening');
SELECT ok(:'c3_p' = :'c3_pb' AND :'c4_p' = :'c4_pb', 'and so do its rows fetched after a swap');
CLOSE sv_cursor;
SELECT is((SELECT taxi_duration.predict_duration(pu, du, dist) FROM sv_trips WHERE id = 3), (SELECT pa FROM sv_trips WHERE id = 3),
          'the next statement uses the new model');

-- ------------------------------------------------------------------
-- Each statement of a multi-statement query string starts afresh
-- ------------------------------------------------------------------
SELECT is((SELECT p FROM dblink('sv_other', format(
			'SELECT taxi_duration.predict_duration(130, 205, 3.66); '
			'SELECT 1 FROM taxi_duration.load_model(%L); '
			'SELECT taxi_duration.predict_duration(130, 205, 3.66)', :'b_uri')) AS t(p float8)),
		  :'b_value'::float8,
		  'the third statement of a query string sees the model its second one loaded');
SELECT throws_ok($$SET taxi_duration.statement_generation = '1'$$, '55P02', NULL,
                 'the setting that hands a version to parallel workers is not for users');
SELECT dblink_disconnect('sv_other') AS disconnected \gset

SELECT * FROM finish();
ROLLBACK;
