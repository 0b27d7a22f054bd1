-- no_preload.sql — without shared_preload_libraries the extension installs
-- and every function says what to configure.
BEGIN;
SELECT plan(5);

SELECT lives_ok('CREATE EXTENSION taxi_duration', 'the extension installs without the preload');
SELECT throws_ok('SELECT taxi_duration.predict_duration(130, 205, 3.66)', '55000',
                 'taxi_duration must be loaded via "shared_preload_libraries"',
                 'predict_duration() explains what to configure');
SELECT throws_ok('SELECT taxi_duration.predict_duration(''{"ride": {"PULocationID": 130, "DOLocationID": 205, "trip_distance": 3.66}}''::jsonb)',
                 '55000', NULL, 'the jsonb form too');
SELECT throws_ok('SELECT * FROM taxi_duration.model_info()', '55000', NULL, 'model_info() too');
SELECT throws_ok('SELECT * FROM taxi_duration.load_model(''file:///nonexistent.json'')', '55000', NULL,
                 'load_model() too');

SELECT * FROM finish();
ROLLBACK;
