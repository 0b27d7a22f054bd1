-- tests/security/monitors.sql — attacks on monitoring (issue 10, findings 1
-- and 2; docs/security.md).  Run by tests/security/run.sh as the superuser
-- `postgres`, acting as attackers with SET ROLE.  Every test here failed on
-- the code before the fix (monitors stored SQL text run as whoever ran them).
BEGIN;
SELECT plan(53);

CREATE ROLE sec_alice LOGIN IN ROLE taxi_duration_admin;	-- owns a schema
CREATE ROLE sec_bob IN ROLE taxi_duration_admin;			-- no CREATE anywhere
CREATE ROLE sec_carol;										-- an ordinary role
CREATE SCHEMA sec_alice AUTHORIZATION sec_alice;
CREATE TABLE sec_trips AS
SELECT '2023-01-01 00:00:00+00'::timestamptz + g * interval '10 minutes' AS t,
	   (g % 13)::double precision AS trip_distance, 'x'::text AS secret
FROM generate_series(0, 431) AS g;	-- three days
GRANT SELECT ON sec_trips TO sec_alice, sec_bob;
CREATE TABLE sec_secret (trip_distance double precision, t timestamptz);	-- nobody but us
CREATE TABLE sec_ran_as (who name);
GRANT INSERT ON sec_ran_as TO sec_alice;

-- ------------------------------------------------------------------
-- Finding 1a: an admin member's function in a monitor, run by a superuser
-- ------------------------------------------------------------------
SET ROLE sec_alice;
CREATE FUNCTION sec_alice.pwn() RETURNS double precision LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.sec_ran_as VALUES (current_user);
	IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
		EXECUTE 'ALTER ROLE sec_alice SUPERUSER';
	END IF;
	RETURN 1;
END
$$;
-- the way back: RESET ROLE would return to the session's user, the superuser
CREATE FUNCTION sec_alice.escape() RETURNS double precision LANGUAGE plpgsql AS $$
BEGIN
	RESET ROLE;
	EXECUTE 'ALTER ROLE sec_alice SUPERUSER';
	RETURN 1;
END
$$;
CREATE FUNCTION sec_alice.temp_trap() RETURNS double precision LANGUAGE plpgsql AS $$
BEGIN
	CREATE TEMPORARY TABLE sec_trap (x int);
	RETURN 1;
END
$$;
SELECT lives_ok($$SELECT taxi_duration.create_monitor('sec_pwn', 'SELECT sec_alice.pwn() AS trip_distance',
                                                      'sec_trips', 't')$$,
                'an admin member defines a monitor whose reference calls her own function');
SELECT lives_ok($$SELECT taxi_duration.create_monitor('sec_escape', 'SELECT sec_alice.escape() AS trip_distance',
                                                      'sec_trips', 't')$$,
                'and one whose function tries RESET ROLE');
SELECT lives_ok($$SELECT taxi_duration.create_monitor('sec_temp', 'SELECT sec_alice.temp_trap() AS trip_distance',
                                                      'sec_trips', 't')$$,
                'and one whose function creates a temporary table');
SELECT is((SELECT owner::text FROM taxi_duration.monitors WHERE name = 'sec_pwn'), 'sec_alice',
          'the monitor records its owner');
RESET ROLE;

-- a superuser runs every monitor, as a pg_cron job owned by it would
CREATE TEMPORARY TABLE sec_run AS SELECT * FROM taxi_duration.run_monitors('2023-01-04 00:00:00+00');
SELECT is((SELECT windows FROM sec_run WHERE monitor = 'sec_pwn'), 3,
          'run by a superuser, the monitor computed its windows');
SELECT ok(NOT (SELECT rolsuper FROM pg_roles WHERE rolname = 'sec_alice'),
          'its owner did not become superuser');
SELECT is((SELECT array_agg(DISTINCT who) FROM sec_ran_as), ARRAY['sec_alice']::name[],
          'its query ran as its owner, never as the superuser running it');
SELECT matches((SELECT error FROM sec_run WHERE monitor = 'sec_escape'), 'cannot set parameter "role"',
               'a monitor''s code cannot RESET ROLE to the superuser running it');
SELECT matches((SELECT error FROM sec_run WHERE monitor = 'sec_temp'), 'security-restricted operation',
               'nor create temporary objects that would outlive the run');
SELECT ok(NOT (SELECT rolsuper FROM pg_roles WHERE rolname = 'sec_alice'),
          'after every attempt, the owner is still not superuser');

-- ------------------------------------------------------------------
-- Finding 1b: a role with no CREATE anywhere reads pg_authid through a monitor
-- ------------------------------------------------------------------
SET ROLE sec_bob;
SELECT throws_ok($$INSERT INTO taxi_duration.monitors (name, owner, search_path, current, time_column, reference_query)
                   VALUES ('sec_x', 'sec_bob', '', 'sec_trips', 't', 'SELECT 1 AS x')$$,
                 '42501', NULL, 'no role may insert into monitors directly');
SELECT throws_ok($$UPDATE taxi_duration.monitors SET reference_query = 'SELECT 1 AS x'$$,
                 '42501', NULL, 'nor update them');
SELECT throws_ok($$DELETE FROM taxi_duration.monitor_reports$$,
                 '42501', NULL, 'nor delete reports');
SELECT throws_ok($$INSERT INTO taxi_duration.monitor_alerts (report_id, monitor, window_start, kind, message, details)
                   VALUES (1, 'sec_pwn', now(), 'rmse', 'forged', '{}')$$,
                 '42501', NULL, 'nor forge alerts');
SELECT lives_ok($$SELECT taxi_duration.create_monitor('sec_steal',
                    $q$SELECT rolname || ':' || rolpassword AS secret FROM pg_authid
                       UNION ALL SELECT pg_read_file('/etc/hostname')$q$,
                    'sec_trips', 't', options => '{"histograms": true}')$$,
                'a monitor may name a query its owner cannot run (it is checked, not run, when defined)');
RESET ROLE;
ALTER ROLE sec_carol PASSWORD 'sec-carol-password';
DELETE FROM sec_run;
INSERT INTO sec_run SELECT * FROM taxi_duration.run_monitors('2023-01-04 00:00:00+00');
SELECT matches((SELECT error FROM sec_run WHERE monitor = 'sec_steal'), 'permission denied',
               'run by a superuser, the monitor still reads pg_authid as its owner: denied');
SELECT is((SELECT count(*)::int FROM taxi_duration.monitor_reports
           WHERE report::text ~ '(SCRAM-SHA-256|md5|sec_carol)'), 0,
          'no report holds a password hash or a role name');

-- ------------------------------------------------------------------
-- Owners: who sees, runs and changes a monitor
-- ------------------------------------------------------------------
SET ROLE sec_bob;
SELECT is((SELECT count(*)::int FROM taxi_duration.monitors WHERE name = 'sec_pwn'), 0,
          'a role does not see monitors whose owner''s privileges it lacks');
SELECT is((SELECT count(*)::int FROM taxi_duration.monitor_reports WHERE monitor = 'sec_pwn'), 0,
          'nor their reports');
SELECT is((SELECT count(*)::int FROM taxi_duration.monitors WHERE name = 'sec_steal'), 1,
          'it sees its own');
SELECT throws_ok($$SELECT * FROM taxi_duration.run_monitor('sec_pwn')$$, '42501', NULL,
                 'it cannot run another role''s monitor');
SELECT throws_ok($$SELECT taxi_duration.alter_monitor('sec_pwn', enabled => false)$$, '42501', NULL,
                 'nor alter it');
SELECT throws_ok($$SELECT taxi_duration.drop_monitor('sec_pwn')$$, '42501', NULL,
                 'nor drop it');
SELECT throws_ok($$SELECT taxi_duration.create_monitor('sec_pwn', 'sec_trips', 'sec_trips', 't')$$, '42501', NULL,
                 'nor redefine it');
SELECT throws_ok($$SELECT * FROM taxi_duration.monitor_run('sec_alice', 'sec_pwn', now())$$, '42501', NULL,
                 'the internal run function is not callable, so the caller cannot be forged');
SELECT throws_ok($$SELECT taxi_duration.monitor_save('sec_alice', 'sec_x', 'sec_trips', NULL, '', 'sec_trips', 't',
                   '1 day', NULL, NULL, NULL, '{}', 0.1, NULL)$$, '42501', NULL,
                 'nor the internal save function');
SELECT throws_ok($$SELECT taxi_duration.monitor_window_report(m, now() - interval '1 day', now())
                   FROM taxi_duration.monitors m$$, '42501', NULL,
                 'nor the function that reads sets as their owner');
SELECT throws_ok($$SELECT taxi_duration.create_monitor('sec_b2', 'sec_secret', 'sec_trips', 't')$$, '42501', NULL,
                 'a monitor cannot name a reference table its owner cannot read');
SELECT throws_ok($$SELECT taxi_duration.create_monitor('sec_b3', 'sec_trips', 'sec_secret', 't')$$, '42501', NULL,
                 'nor a current table');
RESET ROLE;
SET ROLE sec_alice;
SELECT ok((SELECT count(*) FROM taxi_duration.monitor_reports WHERE monitor = 'sec_pwn') = 3,
          'the owner reads its reports');
RESET ROLE;

-- ------------------------------------------------------------------
-- A monitor whose owner was dropped runs as nobody
-- ------------------------------------------------------------------
CREATE ROLE sec_dave IN ROLE taxi_duration_admin;
GRANT SELECT ON sec_trips TO sec_dave;
SET ROLE sec_dave;
SELECT taxi_duration.create_monitor('sec_orphan', 'sec_trips', 'sec_trips', 't') IS NOT NULL AS created \gset
RESET ROLE;
REVOKE SELECT ON sec_trips FROM sec_dave;
DROP ROLE sec_dave;
SELECT throws_ok($$SELECT * FROM taxi_duration.run_monitor('sec_orphan', '2023-01-04 00:00:00+00')$$,
                 '42704', 'the owner of monitor "sec_orphan" no longer exists',
                 'a monitor whose owner was dropped does not run, not even for a superuser');
SELECT is((SELECT count(*)::int FROM taxi_duration.run_monitors('2023-01-04 00:00:00+00')
           WHERE monitor = 'sec_orphan' AND error LIKE '%no longer exists%'), 1,
          'run_monitors() reports it and goes on');
SELECT ok(taxi_duration.drop_monitor('sec_orphan'), 'a superuser drops it');

-- ------------------------------------------------------------------
-- Sets are one plain SELECT
-- ------------------------------------------------------------------
SET ROLE sec_bob;
SELECT throws_ok($$SELECT taxi_duration.create_monitor('sec_q1', 'SELECT 1 AS x; ALTER ROLE sec_bob SUPERUSER',
                                                       'sec_trips', 't')$$,
                 '22023', 'the reference set must be one query', 'a second statement is refused');
SELECT throws_ok($$SELECT taxi_duration.create_monitor('sec_q2',
                   'WITH d AS (DELETE FROM sec_trips RETURNING *) SELECT * FROM d', 'sec_trips', 't')$$,
                 '22023', NULL, 'a data-modifying WITH is refused');
SELECT throws_ok($$SELECT taxi_duration.create_monitor('sec_q3', 'SELECT * FROM sec_trips FOR UPDATE',
                                                       'sec_trips', 't')$$,
                 '22023', NULL, 'FOR UPDATE is refused');
SELECT throws_ok($$SELECT taxi_duration.drift_report('sec_trips', 'SELECT * FROM sec_trips; DROP TABLE sec_trips')$$,
                 '22023', 'the current set must be one query', 'drift_report() refuses a set that is not one query');
SELECT throws_ok($$SELECT taxi_duration.drift_report('sec_trips', 'SELECT * FROM sec_trips) s; SELECT (1')$$,
                 '42601', NULL, 'nor text that would break out of its parentheses');
RESET ROLE;

-- ------------------------------------------------------------------
-- drift_report() runs as its caller; no function is SECURITY DEFINER
-- ------------------------------------------------------------------
SET ROLE sec_carol;
SELECT throws_ok($$SELECT taxi_duration.drift_report('pg_authid', 'pg_authid')$$, '42501', NULL,
                 'drift_report() reads only what its caller can');
SELECT throws_ok($$SELECT taxi_duration.drift_report('SELECT rolpassword FROM pg_authid', 'pg_authid')$$, '42501', NULL,
                 'in a query too');
RESET ROLE;
-- Forwarder slot alerts (check_forwarder_slots(), issue 15): only
-- taxi_duration_admin runs the check; nobody writes the alerts but the
-- extension's owner, through it.
SET ROLE sec_carol;
SELECT throws_ok($$SELECT * FROM taxi_duration.check_forwarder_slots()$$, '42501', NULL,
                 'an ordinary role may not run the forwarder slot check');
SELECT throws_ok($$SELECT * FROM taxi_duration.forwarder_slots_check(NULL, NULL, NULL, 0.2, '0')$$, '42501', NULL,
                 'nor its internal function');
SELECT throws_ok($$SELECT taxi_duration.raise_slot_alert('sec_slot', 'slot_lost', 'forged', '{}')$$, '42501', NULL,
                 'nor raise a slot alert');
RESET ROLE;
SET ROLE sec_bob;
SELECT throws_ok($$INSERT INTO taxi_duration.monitor_alerts (monitor, window_start, kind, message, details, slot)
                   VALUES ('forwarder:sec_slot', now(), 'slot_lost', 'forged', '{}', 'sec_slot')$$,
                 '42501', NULL, 'an admin member cannot forge a slot alert directly');
SELECT throws_ok($$SELECT * FROM taxi_duration.forwarder_slots_check('sec_bob', NULL, NULL, 0.2, '0')$$, '42501', NULL,
                 'nor call the internal check (which runs as the extension''s owner)');
SELECT lives_ok($$SELECT * FROM taxi_duration.check_forwarder_slots(max_retained_bytes => 1)$$,
                'an admin member runs the check');
RESET ROLE;
SELECT is((SELECT array_agg(p.oid::regprocedure::text) FROM pg_proc p
           WHERE p.pronamespace = 'taxi_duration'::regnamespace AND p.prosecdef), NULL,
          'no function of the extension is SECURITY DEFINER');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
           JOIN pg_language l ON l.oid = p.prolang
           WHERE p.pronamespace = 'taxi_duration'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
             AND (p.proconfig IS NULL OR NOT p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'])),
          NULL, 'every SQL and PL/pgSQL function pins search_path to pg_catalog, pg_temp');
SELECT is((SELECT array_agg(DISTINCT table_name || ':' || grantee || ':' || privilege_type)
           FROM information_schema.role_table_grants
           WHERE table_schema = 'taxi_duration'
             AND privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES')
             AND grantee <> (SELECT rolname FROM pg_roles r JOIN pg_extension e ON e.extowner = r.oid
                             WHERE e.extname = 'taxi_duration')),
          NULL, 'nobody but the extension''s owner may write its tables');

-- ------------------------------------------------------------------
-- Scheduling never runs as a superuser
-- ------------------------------------------------------------------
SELECT throws_ok($$SELECT taxi_duration.schedule_monitoring()$$, '42501',
                 'monitoring must not be scheduled as a superuser',
                 'a superuser cannot schedule monitoring as itself');
SELECT throws_ok($$SELECT taxi_duration.schedule_monitoring(run_as => 'postgres')$$, '42501',
                 'monitoring must not be scheduled as a superuser',
                 'nor as another superuser');
SELECT taxi_duration.schedule_monitoring('5 * * * *', 'sec_job', run_as => 'sec_alice') AS sec_job \gset
SELECT is((SELECT username FROM cron.job WHERE jobid = :sec_job), 'sec_alice',
          'a superuser schedules it as the monitors'' owner');
SET ROLE sec_alice;
SELECT throws_ok($$SELECT taxi_duration.schedule_monitoring(run_as => 'sec_bob')$$, NULL, NULL,
                 'an owner cannot schedule it as another role');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
