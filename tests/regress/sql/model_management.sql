-- model_management.sql — model_info(), load_model() and its errors.  Every
-- failed load leaves the previous model serving.
\set SHOW_CONTEXT never
SET search_path = taxi_duration, public;
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures 'file://' :abs_srcdir '/../fixtures/bundles'

-- the default bundle is served without any configuration
SELECT model_name, estimator, objective, trees > 0 AS has_trees,
       inputs, source LIKE 'file://%/extension/taxi_duration/default_bundle.json' AS default_source,
       length(sha256) AS sha256_len, bytes > 0 AS has_bytes, generation > 0 AS published,
       last_error
FROM model_info();

SELECT predict_duration(130, 205, 3.66) AS before \gset

-- bad bundles: each rejected with a clear error
SELECT model_version FROM load_model(:'fixtures' || '/bad/not_json.json');
SELECT model_version FROM load_model(:'fixtures' || '/bad/truncated.json');
SELECT model_version FROM load_model(:'fixtures' || '/bad/wrong_format.json');
SELECT model_version FROM load_model(:'fixtures' || '/bad/version2.json');
SELECT model_version FROM load_model(:'fixtures' || '/bad/cycle.json');
SELECT model_version FROM load_model(:'fixtures' || '/bad/child_out_of_range.json');
SELECT model_version FROM load_model(:'fixtures' || '/bad/split_index_out_of_range.json');
SELECT model_version FROM load_model(:'fixtures' || '/bad/infinite_threshold.json');
SELECT model_version FROM load_model(:'fixtures' || '/bad/unknown_objective.json');
SELECT model_version FROM load_model(:'fixtures' || '/bad/huge_num_nodes.json');
SELECT model_version FROM load_model(:'fixtures' || '/bad/deep_nesting.json');
SELECT model_version FROM load_model(:'fixtures' || '/bad/wrong_types.json');
SELECT model_version FROM load_model(:'fixtures' || '/bad/ubjson.json');
SELECT model_version FROM load_model('file:///nonexistent/bundle.json');
SELECT model_version FROM load_model('file://relative/bundle.json');
SELECT model_version FROM load_model('s3://rll-models-dev');
SELECT model_version FROM load_model('s3://rll-models-dev/key with spaces.json');
SELECT model_version FROM load_model('models:/taxi-duration');
SELECT model_version FROM load_model('http://example.com/bundle.json');
SELECT model_version FROM load_model('');
ALTER SYSTEM SET taxi_duration.model_uri = 'ftp://example.com/bundle.json';
SET taxi_duration.model_uri = 'file:///tmp/bundle.json';
SET taxi_duration.max_bundle_size = '16kB';
SELECT model_version FROM load_model(:'fixtures' || '/small_xgb.json');
RESET taxi_duration.max_bundle_size;

SELECT predict_duration(130, 205, 3.66) = :'before' AS still_serving_previous;

-- a good bundle replaces the model, the next statement serves it
SELECT model_version, trees, generation > 1 AS newer FROM load_model(:'fixtures' || '/small_xgb.json');
SELECT predict_duration(130, 205, 3.66) <> :'before' AS new_model_served;
SELECT model_version, estimator FROM load_model(:'fixtures' || '/linear.json');
SELECT predict_duration(130, 205, 3.66) > 0 AS linear_predicts;

-- a model that needs an input the call does not carry
SELECT model_version, inputs FROM load_model(:'fixtures' || '/requires_pickup.json');
SELECT predict_duration(130, 205, 3.66);
SELECT predict_duration('{"PULocationID": 130, "DOLocationID": 205, "trip_distance": 3.66}');
SELECT predict_duration(130, 205, 3.66, '2021-02-03 08:30') > 0 AS with_pickup_time;
SELECT predict_duration(130, 205, 3.66, NULL) > 0 AS null_pickup_is_missing_not_absent;

-- load_model() with no argument reloads the configured (default) model
SELECT model_name, source LIKE '%/default_bundle.json' AS default_source FROM load_model();
SELECT predict_duration(130, 205, 3.66) = :'before' AS default_back;
