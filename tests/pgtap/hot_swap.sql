-- hot_swap.sql — one shared model, swapped live: other sessions see a new
-- model from their next statement, a running statement keeps its version,
-- and a bad bundle never replaces a good one.
BEGIN;
SELECT plan(14);

SELECT uri AS default_uri FROM td_test_paths WHERE name = 'default' \gset
SELECT uri AS small_uri FROM td_test_paths WHERE name = 'small' \gset
SELECT uri AS bad_dir FROM td_test_paths WHERE name = 'bad_dir' \gset
SELECT 'host=' || (SELECT uri FROM td_test_paths WHERE name = 'socket_dir') ||
       ' port=' || (SELECT uri FROM td_test_paths WHERE name = 'port') ||
       ' user=postgres dbname=postgres' AS other_dsn \gset

SELECT lives_ok(format('SELECT taxi_duration.load_model(%L)', :'default_uri'),
                'the default bundle loads');
SELECT is((SELECT model_version FROM taxi_duration.model_info()),
          (SELECT model_version FROM taxi_duration.model_info()),
          'model_info() reports a version');

-- a second session, opened while the default model is served
SELECT dblink_connect('other', :'other_dsn');
CREATE TEMP TABLE seen AS
SELECT taxi_duration.predict_duration(130, 205, 3.66) AS here,
       (SELECT p FROM dblink('other', 'SELECT taxi_duration.predict_duration(130, 205, 3.66)') AS t(p float8)) AS there;
SELECT is(here, there, 'both sessions predict with the same model') FROM seen;

-- the other session loads another model; we see it from our next statement
SELECT lives_ok(format($$SELECT * FROM dblink('other', %L) AS t(v text)$$,
                       format('SELECT model_version FROM taxi_duration.load_model(%L)', :'small_uri')),
                'another session loads a different model');
SELECT isnt(taxi_duration.predict_duration(130, 205, 3.66), (SELECT here FROM seen),
            'this session serves the new model from its next statement');
SELECT is((SELECT model_version FROM taxi_duration.model_info()), 'test-small',
          'model_info() shows the new version');
SELECT is((SELECT p FROM dblink('other', 'SELECT taxi_duration.predict_duration(130, 205, 3.66)') AS t(p float8)),
          taxi_duration.predict_duration(130, 205, 3.66),
          'the session that loaded it serves it too');

-- a statement that is running when the model changes finishes on its version
SELECT taxi_duration.predict_duration(130, 205, 3.66) AS before_swap \gset
SELECT is(
  (SELECT count(DISTINCT p)::int FROM (
     SELECT CASE WHEN g = 50
                 THEN (SELECT count(*) FROM dblink('other',
                        format('SELECT model_version FROM taxi_duration.load_model(%L)', :'default_uri')) AS t(v text))
            END AS swapped,
            taxi_duration.predict_duration(130, 205, 3.66) AS p
     FROM generate_series(1, 100) AS g) s),
  1, 'a running statement finishes on the model it started with');
SELECT isnt(taxi_duration.predict_duration(130, 205, 3.66), :'before_swap'::float8,
            'the next statement uses the model loaded meanwhile');

-- bad bundles are rejected and the good model keeps serving
SELECT taxi_duration.predict_duration(130, 205, 3.66) AS good \gset
SELECT throws_ok(format('SELECT taxi_duration.load_model(%L)', :'bad_dir' || '/cycle.json'),
                 '22023', NULL, 'a bundle with a cyclic tree is rejected');
SELECT throws_ok(format('SELECT taxi_duration.load_model(%L)', :'bad_dir' || '/truncated.json'),
                 '22023', NULL, 'a truncated bundle is rejected');
SELECT throws_ok(format('SELECT taxi_duration.load_model(%L)', :'bad_dir' || '/version2.json'),
                 '0A000', NULL, 'an unknown format version is rejected');
SELECT is(taxi_duration.predict_duration(130, 205, 3.66), :'good'::float8,
          'the previous model still serves after failed loads');
SELECT is((SELECT p FROM dblink('other', 'SELECT taxi_duration.predict_duration(130, 205, 3.66)') AS t(p float8)),
          :'good'::float8, 'and other sessions still serve it too');

SELECT dblink_disconnect('other');
SELECT * FROM finish();
ROLLBACK;
