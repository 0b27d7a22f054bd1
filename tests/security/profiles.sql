-- tests/security/profiles.sql — attacks on reference profiles (issue 17,
-- item 3; docs/security.md).  A profile holds the exact value counts of its
-- reference set, i.e. its data: no role may read, use, refresh, replace or
-- drop another role's profile, make one from data it cannot read, or make a
-- superuser's refresh read with the superuser's privileges.  Run by
-- tests/security/run.sh as the superuser `postgres`, acting as attackers
-- with SET ROLE.
BEGIN;
SELECT plan(45);

CREATE ROLE sec_pa_alice IN ROLE taxi_duration_admin;		-- owns the secret table's profile
CREATE ROLE sec_pa_bob IN ROLE taxi_duration_admin;			-- another admin member
CREATE ROLE sec_pa_carol;									-- an ordinary role
CREATE ROLE sec_pa_dave IN ROLE sec_pa_alice;				-- a member of alice
CREATE SCHEMA sec_pa AUTHORIZATION sec_pa_alice;
CREATE TABLE sec_pa_secret AS
SELECT '2023-01-01 00:00:00+00'::timestamptz + g * interval '10 minutes' AS t,
	   (g % 13)::double precision AS salary, ('name-' || g % 7) AS secret_name
FROM generate_series(0, 431) AS g;
GRANT SELECT ON sec_pa_secret TO sec_pa_alice;			-- alice only
CREATE TABLE sec_pa_public AS SELECT * FROM sec_pa_secret;
GRANT SELECT ON sec_pa_public TO PUBLIC;
CREATE TABLE sec_pa_ran_as (who name);
GRANT INSERT ON sec_pa_ran_as TO PUBLIC;

-- alice's profile of the table only she can read
SET ROLE sec_pa_alice;
SELECT lives_ok($$SELECT taxi_duration.create_reference_profile('sec_pa_alice_p', 'public.sec_pa_secret')$$,
                'alice profiles the table she can read');
CREATE FUNCTION sec_pa.tag() RETURNS double precision LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.sec_pa_ran_as VALUES (current_user);
	IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
		EXECUTE 'ALTER ROLE sec_pa_alice SUPERUSER';
	END IF;
	RETURN 1;
END
$$;
CREATE FUNCTION sec_pa.escape() RETURNS double precision LANGUAGE plpgsql AS $$
BEGIN
	RESET ROLE;
	EXECUTE 'ALTER ROLE sec_pa_alice SUPERUSER';
	RETURN 1;
END
$$;
SELECT lives_ok($$SELECT taxi_duration.create_reference_profile('sec_pa_tag',
                    'SELECT sec_pa.tag() AS x, salary FROM public.sec_pa_public')$$,
                'and one whose reference query calls her own function');
RESET ROLE;
SELECT is((SELECT owner::text FROM taxi_duration.reference_profiles WHERE name = 'sec_pa_alice_p'), 'sec_pa_alice',
          'the profile records its owner');
SELECT is((SELECT count(*)::int FROM taxi_duration.reference_profile_columns WHERE profile = 'sec_pa_alice_p'), 2,
          'with one row per column');

-- ------------------------------------------------------------------
-- Another admin member: not alice's profile, in any way
-- ------------------------------------------------------------------
SET ROLE sec_pa_bob;
SELECT is((SELECT count(*)::int FROM taxi_duration.reference_profiles WHERE name = 'sec_pa_alice_p'), 0,
          'bob does not see alice''s profile');
SELECT is((SELECT count(*)::int FROM taxi_duration.reference_profile_columns WHERE profile = 'sec_pa_alice_p'), 0,
          'nor its value maps');
SELECT throws_ok($$SELECT taxi_duration.drift_report('profile:sec_pa_alice_p', 'public.sec_pa_public')$$,
                 '42704', NULL, 'nor report against it');
SELECT throws_ok($$SELECT taxi_duration.create_monitor('sec_pa_m', 'profile:sec_pa_alice_p', 'public.sec_pa_public', 't')$$,
                 '42704', NULL, 'nor define a monitor on it');
SELECT throws_ok($$SELECT taxi_duration.refresh_reference_profile('sec_pa_alice_p')$$,
                 '42501', NULL, 'nor refresh it');
SELECT throws_ok($$SELECT taxi_duration.drop_reference_profile('sec_pa_alice_p')$$,
                 '42501', NULL, 'nor drop it');
SELECT throws_ok($$SELECT taxi_duration.create_reference_profile('sec_pa_alice_p', 'public.sec_pa_public')$$,
                 '42710', NULL, 'nor replace it by creating one of the same name');
SELECT throws_ok($$SELECT taxi_duration.create_reference_profile('sec_pa_bob_p', 'public.sec_pa_secret')$$,
                 '42501', NULL, 'bob cannot profile a table he cannot read');
SELECT throws_ok($$SELECT taxi_duration.create_reference_profile('sec_pa_bob_q',
                    'SELECT rolname, rolpassword FROM pg_authid')$$,
                 '42501', NULL, 'nor a query he cannot run (the reference is scanned as him)');
SELECT throws_ok($$INSERT INTO taxi_duration.reference_profiles (name, owner, search_path, reference_query, reference_rows)
                   VALUES ('sec_pa_forged', 'sec_pa_alice', '', 'SELECT 1', 1)$$,
                 '42501', NULL, 'no role may insert a profile directly');
SELECT throws_ok($$UPDATE taxi_duration.reference_profile_columns SET value_map = '\x00'$$,
                 '42501', NULL, 'nor change a stored value map');
SELECT throws_ok($$DELETE FROM taxi_duration.reference_profiles$$,
                 '42501', NULL, 'nor delete profiles');
SELECT throws_ok($$SELECT taxi_duration.reference_profile_store('sec_pa_alice', 'sec_pa_forged', NULL, 'SELECT 1', '',
                    NULL, NULL, NULL, ARRAY['x'], ARRAY[701]::oid[], ARRAY['float'], ARRAY['\x00'::bytea], 1, NULL, true)$$,
                 '42501', NULL, 'nor call the internal store function with a forged caller');
SELECT throws_ok($$SELECT * FROM taxi_duration.reference_profile_for_caller('sec_pa_alice', 'sec_pa_alice_p')$$,
                 '42501', NULL, 'nor the internal lookup');
SELECT lives_ok($$SELECT taxi_duration.create_reference_profile('sec_pa_bob_p', 'public.sec_pa_public')$$,
                'bob profiles a table he can read');
SELECT lives_ok($$SELECT taxi_duration.create_monitor('sec_pa_bob_m', 'profile:sec_pa_bob_p', 'public.sec_pa_public', 't')$$,
                'and defines a monitor on his own profile');
RESET ROLE;

-- an ordinary role: no profiles at all
SET ROLE sec_pa_carol;
SELECT throws_ok($$SELECT taxi_duration.create_reference_profile('sec_pa_carol_p', 'public.sec_pa_public')$$,
                 '42501', NULL, 'a role outside taxi_duration_admin cannot create profiles');
SELECT throws_ok($$SELECT taxi_duration.drift_report('profile:sec_pa_bob_p', 'public.sec_pa_public')$$,
                 '42501', NULL, 'nor report against one');
RESET ROLE;

-- a member of alice has her privileges: her profiles are its profiles
SET ROLE sec_pa_dave;
SELECT is((SELECT count(*)::int FROM taxi_duration.reference_profiles WHERE name = 'sec_pa_alice_p'), 1,
          'a member of the owner sees the profile');
SELECT ok((SELECT (taxi_duration.drift_report('profile:sec_pa_alice_p', 'public.sec_pa_public')->>'number_of_columns')::int = 2),
          'and reports against it');
RESET ROLE;

-- ------------------------------------------------------------------
-- A superuser's refresh runs as the owner, restricted
-- ------------------------------------------------------------------
DELETE FROM sec_pa_ran_as;
SELECT lives_ok($$SELECT taxi_duration.refresh_reference_profile('sec_pa_tag')$$,
                'a superuser refreshes alice''s profile');
SELECT is((SELECT array_agg(DISTINCT who) FROM sec_pa_ran_as), ARRAY['sec_pa_alice']::name[],
          'its query ran as alice, never as the superuser');
SELECT ok(NOT (SELECT rolsuper FROM pg_roles WHERE rolname = 'sec_pa_alice'),
          'and alice did not become superuser');
REVOKE SELECT ON sec_pa_secret FROM sec_pa_alice;
SELECT throws_ok($$SELECT taxi_duration.refresh_reference_profile('sec_pa_alice_p')$$,
                 '42501', NULL, 'once alice may no longer read the table, even a superuser''s refresh is denied');
-- alice redefines her tagged profile's function to escape
SET ROLE sec_pa_alice;
CREATE OR REPLACE FUNCTION sec_pa.tag() RETURNS double precision LANGUAGE plpgsql AS $$
BEGIN
	RESET ROLE;
	EXECUTE 'ALTER ROLE sec_pa_alice SUPERUSER';
	RETURN 1;
END
$$;
RESET ROLE;
SELECT throws_like($$SELECT taxi_duration.refresh_reference_profile('sec_pa_tag')$$,
                   '%cannot set parameter "role"%', 'the refresh cannot RESET ROLE to the superuser running it');
SELECT ok(NOT (SELECT rolsuper FROM pg_roles WHERE rolname = 'sec_pa_alice'),
          'after every attempt, alice is still not superuser');

-- bob's monitor runs as bob: when bob loses the owner's privileges (his
-- own profile, given away to alice), the monitor cannot read it any more
UPDATE taxi_duration.reference_profiles SET owner = 'sec_pa_alice' WHERE name = 'sec_pa_bob_p';
SET ROLE sec_pa_bob;
SELECT throws_ok($$SELECT * FROM taxi_duration.run_monitor('sec_pa_bob_m', '2023-01-03 00:00:00+00')$$,
                 '42704', NULL, 'a monitor reads its profile with its owner''s privileges, whoever runs it');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM taxi_duration.monitor_reports WHERE monitor = 'sec_pa_bob_m'), 0,
          'and stored no report');
SELECT throws_ok($$SELECT taxi_duration.drop_reference_profile('sec_pa_bob_p')$$,
                 '2BP01', NULL, 'a profile a monitor uses cannot be dropped');

-- A monitor's own profile ('monitor:NAME', made at its first window from a
-- plain reference): the same boundary as any profile, and the owner's
-- privileges on the reference are checked again at every window and refresh.
RESET ROLE;
GRANT SELECT ON sec_pa_secret TO sec_pa_alice;
SET ROLE sec_pa_alice;
SELECT lives_ok($$SELECT taxi_duration.create_monitor('sec_pa_am', 'public.sec_pa_secret', 'public.sec_pa_public', 't',
                    window_size => '1 day', start_at => '2023-01-01 00:00:00+00')$$,
                'alice monitors with her secret table as reference (profiled by default)');
SELECT is((SELECT count(*)::int FROM taxi_duration.run_monitor('sec_pa_am', '2023-01-02 00:00:00+00')), 1,
          'its first window is computed');
RESET ROLE;
SELECT is((SELECT owner::text FROM taxi_duration.reference_profiles WHERE monitor = 'sec_pa_am'), 'sec_pa_alice',
          'the monitor''s profile was made as, and belongs to, the monitor''s owner');
SET ROLE sec_pa_bob;
SELECT is((SELECT count(*)::int FROM taxi_duration.reference_profiles WHERE name = 'monitor:sec_pa_am'), 0,
          'bob does not see alice''s monitor profile');
SELECT throws_ok($$SELECT taxi_duration.drift_report('profile:monitor:sec_pa_am', 'public.sec_pa_public')$$,
                 '42704', NULL, 'bob cannot report against it');
SELECT throws_ok($$SELECT taxi_duration.refresh_monitor_reference('sec_pa_am')$$,
                 '42501', NULL, 'bob cannot refresh alice''s monitor reference');
SELECT throws_ok($$SELECT taxi_duration.refresh_reference_profile('monitor:sec_pa_am')$$,
                 '42501', NULL, 'nor the profile by its name');
SELECT throws_ok($$SELECT taxi_duration.drop_reference_profile('monitor:sec_pa_am')$$,
                 '42501', NULL, 'nor drop it');
SELECT throws_ok($$SELECT taxi_duration.monitor_profile_store('sec_pa_alice', 'sec_pa_am', '{}', '{}', '{}', '{}', 1, NULL)$$,
                 '42501', NULL, 'nor store one through the internal function');
RESET ROLE;
SELECT throws_ok($$SELECT taxi_duration.drop_reference_profile('monitor:sec_pa_am')$$,
                 '2BP01', NULL, 'even a superuser drops a monitor''s profile only with the monitor');
REVOKE SELECT ON sec_pa_secret FROM sec_pa_alice;
SET ROLE sec_pa_alice;
SELECT throws_ok($$SELECT taxi_duration.refresh_monitor_reference('sec_pa_am')$$,
                 '42501', NULL, 'alice, no longer allowed to read the reference, cannot refresh the profile');
SELECT throws_ok($$SELECT * FROM taxi_duration.run_monitor('sec_pa_am', '2023-01-03 00:00:00+00')$$,
                 '42501', NULL, 'nor compute another window from the stored profile');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
