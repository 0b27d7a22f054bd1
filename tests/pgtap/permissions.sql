-- permissions.sql — who may load models and change where they come from.
BEGIN;
SELECT plan(9);

SELECT uri AS small_uri FROM td_test_paths WHERE name = 'small' \gset
SELECT uri AS default_uri FROM td_test_paths WHERE name = 'default' \gset

CREATE ROLE td_ordinary;
CREATE ROLE td_admin_member IN ROLE taxi_duration_admin;
CREATE ROLE td_admin_files IN ROLE taxi_duration_admin, pg_read_server_files;
GRANT SELECT ON td_test_paths TO td_ordinary, td_admin_member, td_admin_files;

SELECT ok(EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'taxi_duration_admin' AND NOT rolcanlogin),
          'the extension created the NOLOGIN role taxi_duration_admin');
SELECT ok(has_parameter_privilege('taxi_duration_admin', 'taxi_duration.model_uri', 'ALTER SYSTEM'),
          'taxi_duration_admin may ALTER SYSTEM SET taxi_duration.model_uri');
SELECT ok(NOT has_parameter_privilege('td_ordinary', 'taxi_duration.model_uri', 'ALTER SYSTEM'),
          'an ordinary role may not change taxi_duration.model_uri');

SET ROLE td_ordinary;
SELECT ok(taxi_duration.predict_duration(130, 205, 3.66) > 0, 'an ordinary role can predict');
SELECT throws_ok(format('SELECT taxi_duration.load_model(%L)', :'small_uri'),
                 '42501', NULL, 'an ordinary role cannot load a model');
SELECT throws_ok('SET taxi_duration.model_uri = ''file:///tmp/x.json''',
                 '55P02', NULL, 'nobody can SET taxi_duration.model_uri in a session');
RESET ROLE;

SET ROLE td_admin_member;
SELECT throws_ok(format('SELECT taxi_duration.load_model(%L)', :'small_uri'),
                 '42501', 'permission denied to load a model from a file',
                 'taxi_duration_admin alone cannot read server files');
RESET ROLE;

SET ROLE td_admin_files;
SELECT lives_ok(format('SELECT taxi_duration.load_model(%L)', :'small_uri'),
                'taxi_duration_admin with pg_read_server_files loads a file');
SELECT lives_ok(format('SELECT taxi_duration.load_model(%L)', :'default_uri'),
                'and can put the default back');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
