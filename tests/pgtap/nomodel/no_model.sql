-- no_model.sql — a server whose configured model cannot be loaded: the
-- reason is reported, predictions fail with a hint until a model is loaded,
-- and loading one fixes it without a restart.  The cluster is started with
-- taxi_duration.model_uri pointing at a file that does not exist.
BEGIN;
SELECT plan(7);

SELECT uri AS default_uri FROM td_test_paths WHERE name = 'default' \gset

SELECT is((SELECT model_name FROM taxi_duration.model_info()), NULL,
          'model_info() shows no model');
SELECT ok((SELECT last_error LIKE 'file:///nonexistent/taxi/bundle.json: could not open model bundle%'
           FROM taxi_duration.model_info()),
          'model_info() shows why the configured model did not load');
SELECT throws_ok('SELECT taxi_duration.predict_duration(130, 205, 3.66)', '55000',
                 'no taxi_duration model is loaded',
                 'predict_duration() says no model is loaded');
SELECT throws_ok('SELECT taxi_duration.predict_duration(''{"PULocationID": 130, "DOLocationID": 205, "trip_distance": 3.66}''::jsonb)',
                 '55000', 'no taxi_duration model is loaded', 'so does the jsonb form');
SELECT lives_ok(format('SELECT taxi_duration.load_model(%L)', :'default_uri'),
                'loading a model by hand works');
SELECT ok(taxi_duration.predict_duration(130, 205, 3.66) > 0, 'and predictions work at once');
SELECT is((SELECT last_error FROM taxi_duration.model_info()), NULL,
          'a successful load clears the reported failure');

SELECT * FROM finish();
ROLLBACK;
