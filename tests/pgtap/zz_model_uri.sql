-- zz_model_uri.sql — taxi_duration.model_uri is followed live by the loader
-- worker; a broken URI is reported and leaves the previous model serving.
-- Runs outside a transaction (ALTER SYSTEM cannot run in one) and undoes
-- what it changes; named zz_ so it runs last.
SELECT plan(5);

SELECT uri AS small_uri FROM td_test_paths WHERE name = 'small' \gset
SELECT uri AS bad_dir FROM td_test_paths WHERE name = 'bad_dir' \gset

CREATE FUNCTION pg_temp.wait_for_version(wanted text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..200 LOOP
        EXIT WHEN (SELECT model_version FROM taxi_duration.model_info()) = wanted;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN (SELECT model_version FROM taxi_duration.model_info());
END $$;

SELECT model_version AS default_version FROM taxi_duration.model_info() \gset

-- file:// model_uri values need pg_read_server_files too (the default bundle excepted)
CREATE ROLE td_uri_admin IN ROLE taxi_duration_admin, pg_read_server_files;
SET ROLE td_uri_admin;
ALTER SYSTEM SET taxi_duration.model_uri = :'small_uri';
RESET ROLE;
SELECT pg_reload_conf();
SELECT is(pg_temp.wait_for_version('test-small'), 'test-small',
          'taxi_duration_admin sets model_uri and the worker serves it after a reload');
SELECT is((SELECT source FROM taxi_duration.model_info()), :'small_uri',
          'model_info() names the source');

ALTER SYSTEM SET taxi_duration.model_uri = 'file:///nonexistent/bundle.json';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT is(pg_temp.wait_for_version('test-small'), 'test-small',
          'a model_uri that cannot be loaded leaves the previous model serving');
SELECT ok((SELECT last_error LIKE 'file:///nonexistent/bundle.json: could not open%' FROM taxi_duration.model_info()),
          'and the failure is reported by model_info()');

ALTER SYSTEM RESET taxi_duration.model_uri;
SELECT pg_reload_conf();
SELECT is(pg_temp.wait_for_version(:'default_version'), :'default_version',
          'resetting model_uri serves the default bundle again');

DROP ROLE td_uri_admin;
SELECT * FROM finish();
