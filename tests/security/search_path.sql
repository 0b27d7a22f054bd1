-- tests/security/search_path.sql — hostile functions and operators ahead of
-- pg_catalog on a superuser's search_path (issue 10, finding 2).
--
-- A role that may create objects in a schema on the victim's search_path
-- (public, before PostgreSQL 15 and after pg_upgrade) plants a function or
-- operator for every built-in one the extension's SQL names, with the same
-- argument types, plus more specific overloads of the variadic ones
-- (format(text, text) beats format(text, VARIADIC "any")).  Each one counts
-- its calls in a sequence (not rolled back by errors) and makes its author
-- superuser when a superuser calls it.  The superuser then calls every
-- entry point of the extension with that schema first on its search_path.
-- Nothing may fire.  The planted objects live in a schema of their own put
-- ahead of pg_catalog (the worst case of a hostile `public`: pgTAP itself
-- lives in public and does not pin its search_path); the report's exact
-- case, public.format(text, text) under the default search_path, comes last.
BEGIN;
SELECT plan(8);

SELECT uri AS default_uri FROM td_test_paths WHERE name = 'default' \gset

CREATE ROLE sec_eve LOGIN;
CREATE SCHEMA sec_hostile AUTHORIZATION sec_eve;
CREATE TABLE sec_sp_trips AS
SELECT '2023-01-01 00:00:00+00'::timestamptz + g * interval '10 minutes' AS t,
	   (g % 13)::double precision AS trip_distance, (g % 7 + 1)::integer AS pu,
	   (g % 5)::text AS payment, (g % 2 = 0) AS flag,
	   (g % 11)::double precision AS prediction, (g % 9)::double precision AS target
FROM generate_series(0, 431) AS g;
CREATE TABLE sec_sp_fill (pulocationid integer, dolocationid integer, trip_distance double precision,
						  predicted_duration double precision);
CREATE TRIGGER sec_sp_fill BEFORE INSERT ON sec_sp_fill FOR EACH ROW
	EXECUTE FUNCTION taxi_duration.fill_predicted_duration('predicted_duration');

-- Every name the extension's SQL and PL/pgSQL code calls, and the built-ins
-- the statements it builds at run time call.
CREATE TEMPORARY TABLE sec_names AS
SELECT DISTINCT m[1] AS name
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang,
	 regexp_matches(lower(p.prosrc), '([a-z_][a-z0-9_]*)\s*\(', 'g') AS m
WHERE p.pronamespace = 'taxi_duration'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
UNION
SELECT unnest(ARRAY['count', 'min', 'max', 'jsonb_build_object', 'now', 'set_config',
					'current_setting', 'nextval', 'pg_has_role', 'date_bin', 'pg_notify']);
GRANT SELECT ON sec_names TO sec_eve;

SET ROLE sec_eve;
CREATE SEQUENCE sec_hostile.hits;
CREATE TABLE sec_hostile.planted (what text);
DO $plant$
DECLARE
	body CONSTANT text := $b$
BEGIN
	PERFORM pg_catalog.nextval('sec_hostile.hits');
	IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r
		WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER) THEN
		EXECUTE 'ALTER ROLE sec_eve SUPERUSER';
	END IF;
	RETURN NULL;
END$b$;
	f record;
	n integer := 0;
	sig text;
BEGIN
	-- same name, same argument types as a built-in function or aggregate
	FOR f IN
		SELECT DISTINCT p.proname, pg_catalog.oidvectortypes(p.proargtypes) AS args,
			   pg_catalog.format_type(p.prorettype, NULL) AS ret
		FROM pg_catalog.pg_proc p
		WHERE p.pronamespace OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.regnamespace
		  AND p.prokind OPERATOR(pg_catalog.=) ANY (ARRAY['f', 'a']::"char"[])
		  AND NOT p.proretset AND p.provariadic OPERATOR(pg_catalog.=) 0
		  AND p.proname::text IN (SELECT name FROM pg_temp.sec_names)
		  AND NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(p.proargtypes::pg_catalog.oid[]
														 OPERATOR(pg_catalog.||) p.prorettype) AS t(oid)
						  JOIN pg_catalog.pg_type ty ON ty.oid OPERATOR(pg_catalog.=) t.oid
						  WHERE ty.typtype OPERATOR(pg_catalog.=) 'p')
	LOOP
		sig := pg_catalog.format('sec_hostile.%I(%s)', f.proname, f.args);
		EXECUTE pg_catalog.format('CREATE FUNCTION %s RETURNS %s LANGUAGE plpgsql AS %L', sig, f.ret, body);
		INSERT INTO sec_hostile.planted VALUES (sig);
	END LOOP;
	-- more specific overloads of the variadic built-ins
	FOREACH sig IN ARRAY ARRAY[
		'format(text, text) RETURNS text', 'format(text, text, text) RETURNS text',
		'format(text, text, text, text) RETURNS text', 'format(text, name) RETURNS text',
		'format(text, timestamptz) RETURNS text', 'format(text, timestamptz, timestamptz, bigint) RETURNS text',
		'jsonb_build_object(text, text) RETURNS jsonb', 'jsonb_build_object(text, jsonb) RETURNS jsonb',
		'jsonb_build_object(text, double precision) RETURNS jsonb',
		'jsonb_build_object(text, bigint, text, bigint) RETURNS jsonb',
		'jsonb_build_object(text, text, text, text) RETURNS jsonb',
		'concat(text, text) RETURNS text', 'array_position(text[], text) RETURNS integer']
	LOOP
		EXECUTE pg_catalog.format('CREATE FUNCTION sec_hostile.%s LANGUAGE plpgsql AS %L', sig, body);
		INSERT INTO sec_hostile.planted VALUES (sig);
	END LOOP;
	-- the same operators as the built-in ones
	FOR f IN
		SELECT o.oprname, pg_catalog.format_type(o.oprleft, NULL) AS l,
			   pg_catalog.format_type(o.oprright, NULL) AS r, pg_catalog.format_type(o.oprresult, NULL) AS res
		FROM pg_catalog.pg_operator o
		WHERE o.oprnamespace OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.regnamespace
		  AND o.oprleft OPERATOR(pg_catalog.<>) 0 AND o.oprright OPERATOR(pg_catalog.<>) 0
		  AND o.oprname OPERATOR(pg_catalog.=) ANY (ARRAY['=', '<>', '<', '>', '<=', '>=', '||', '->', '->>',
														  '?', '+', '-', '*', '/', '#>', '#>>', '@>', '~~']::pg_catalog.name[])
		  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type ty
						  WHERE ty.oid OPERATOR(pg_catalog.=) ANY (ARRAY[o.oprleft, o.oprright, o.oprresult])
							AND ty.typtype OPERATOR(pg_catalog.=) 'p')
	LOOP
		n := n OPERATOR(pg_catalog.+) 1;
		sig := pg_catalog.format('sec_hostile.op_%s(%s, %s)', n, f.l, f.r);
		EXECUTE pg_catalog.format('CREATE FUNCTION %s RETURNS %s LANGUAGE plpgsql AS %L', sig, f.res, body);
		EXECUTE pg_catalog.format('CREATE OPERATOR sec_hostile.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %s)',
								  f.oprname, f.l, f.r, pg_catalog.split_part(sig, '(', 1));
		INSERT INTO sec_hostile.planted VALUES (pg_catalog.format('operator %s(%s, %s)', f.oprname, f.l, f.r));
	END LOOP;
END
$plant$;
RESET ROLE;

SELECT cmp_ok((SELECT count(*)::int FROM sec_hostile.planted), '>', 500,
              'hundreds of hostile functions and operators are planted');
SELECT ok(EXISTS (SELECT 1 FROM sec_hostile.planted WHERE what LIKE 'format(text, text) %'),
          'including the format(text, text) of the original report');

-- Every entry point, as the superuser, with the hostile schema first (the
-- statements here qualify their own operators and functions: only the
-- extension's code is under test).
CREATE TEMPORARY TABLE sec_results (what text, result text);
SET search_path = sec_hostile, pg_catalog, public;
INSERT INTO sec_results SELECT 'predict', taxi_duration.predict_duration(130, 205, 3.66)::text;
INSERT INTO sec_results SELECT 'predict_at', taxi_duration.predict_duration(130, 205, 3.66, '2021-02-03 08:30')::text;
INSERT INTO sec_results SELECT 'predict_json',
	taxi_duration.predict_duration('{"ride": {"PULocationID": 130, "DOLocationID": 205, "trip_distance": 3.66}}')::text;
INSERT INTO public.sec_sp_fill (pulocationid, dolocationid, trip_distance) VALUES (130, 205, 3.66);
INSERT INTO sec_results SELECT 'model_info', (taxi_duration.model_info()).model_name;
INSERT INTO sec_results SELECT 'load_model', (taxi_duration.load_model(:'default_uri')).model_name;
INSERT INTO sec_results SELECT 'load_model()', (taxi_duration.load_model()).model_name;
INSERT INTO sec_results SELECT 'forwarder_lag', pg_catalog.count(*)::text FROM taxi_duration.forwarder_lag;
INSERT INTO sec_results SELECT 'aggregates', pg_catalog.concat_ws(' ',
	taxi_duration.wasserstein_norm(trip_distance, t OPERATOR(pg_catalog.<) '2023-01-02'),
	taxi_duration.ks_statistic(trip_distance, t OPERATOR(pg_catalog.<) '2023-01-02'),
	taxi_duration.ks_pvalue(trip_distance, t OPERATOR(pg_catalog.<) '2023-01-02'),
	taxi_duration.jensenshannon(payment, t OPERATOR(pg_catalog.<) '2023-01-02'),
	taxi_duration.psi(trip_distance, t OPERATOR(pg_catalog.<) '2023-01-02'),
	taxi_duration.kl_div(trip_distance, t OPERATOR(pg_catalog.<) '2023-01-02'),
	taxi_duration.chisquare_pvalue(payment, t OPERATOR(pg_catalog.<) '2023-01-02'),
	taxi_duration.ztest_pvalue(flag::int::float8, t OPERATOR(pg_catalog.<) '2023-01-02'),
	taxi_duration.column_drift(trip_distance, t OPERATOR(pg_catalog.<) '2023-01-02', '{"histogram": true}'),
	taxi_duration.regression_quality(prediction, target))
FROM public.sec_sp_trips;
INSERT INTO sec_results SELECT 'drift_report',
	taxi_duration.drift_report('public.sec_sp_trips', 'SELECT * FROM public.sec_sp_trips',
							   NULL, 'prediction', 'target', '{"histograms": true}')::text;
INSERT INTO sec_results SELECT 'create_monitor',
	(taxi_duration.create_monitor('sec_sp', 'public.sec_sp_trips', 'public.sec_sp_trips', 't',
								  prediction => 'prediction', target => 'target')).name;
INSERT INTO sec_results SELECT 'run_monitor', pg_catalog.count(*)::text
	FROM taxi_duration.run_monitor('sec_sp', '2023-01-03 00:00:00+00');
INSERT INTO sec_results SELECT 'run_monitors', pg_catalog.count(*)::text
	FROM taxi_duration.run_monitors('2023-01-04 00:00:00+00');
INSERT INTO sec_results SELECT 'alter_monitor', (taxi_duration.alter_monitor('sec_sp', enabled => false)).name;
INSERT INTO sec_results SELECT 'schedule_monitoring',
	taxi_duration.schedule_monitoring('5 * * * *', 'sec_sp_job', run_as => 'sec_eve')::text;
INSERT INTO sec_results SELECT 'drop_monitor', taxi_duration.drop_monitor('sec_sp')::text;
INSERT INTO sec_results SELECT 'create_reference_profile',
	(taxi_duration.create_reference_profile('sec_sp_profile', 'SELECT * FROM public.sec_sp_trips',
											prediction => 'prediction', target => 'target')).name;
INSERT INTO sec_results SELECT 'refresh_reference_profile',
	(taxi_duration.refresh_reference_profile('sec_sp_profile')).name;
INSERT INTO sec_results SELECT 'drift_report_profile',
	taxi_duration.drift_report('profile:sec_sp_profile', 'public.sec_sp_trips',
							   NULL, 'prediction', 'target', '{"histograms": true}')::text;
INSERT INTO sec_results SELECT 'profile_monitor', pg_catalog.count(*)::text
	FROM taxi_duration.run_monitor((taxi_duration.create_monitor('sec_sp_p', 'profile:sec_sp_profile',
		'public.sec_sp_trips', 't', prediction => 'prediction', target => 'target')).name,
		'2023-01-03 00:00:00+00');
INSERT INTO sec_results SELECT 'drop_reference_profile',
	(taxi_duration.drop_monitor('sec_sp_p') AND taxi_duration.drop_reference_profile('sec_sp_profile'))::text;
INSERT INTO taxi_duration.forwarder_status (slot, updated_at) VALUES ('sec_sp_slot', pg_catalog.now() OPERATOR(pg_catalog.-) interval '1 hour');
INSERT INTO sec_results SELECT 'check_forwarder_slots', pg_catalog.string_agg(kind, ',')
	FROM taxi_duration.check_forwarder_slots(max_silence => '1 minute');
DELETE FROM taxi_duration.forwarder_status WHERE slot OPERATOR(pg_catalog.=) 'sec_sp_slot';
RESET search_path;

SELECT is((SELECT count(*)::int FROM sec_results WHERE result IS NOT NULL), 21,
          'every entry point ran and answered');
SELECT ok((SELECT predicted_duration > 0 FROM sec_sp_fill), 'the trigger filled its column');
SELECT is((SELECT last_value::int FROM sec_hostile.hits WHERE is_called), NULL,
          'no hostile function or operator was called');
SELECT ok(NOT (SELECT rolsuper FROM pg_roles WHERE rolname = 'sec_eve'),
          'and their author is not superuser');

-- The original report: CREATE on public for everyone (the default before
-- PostgreSQL 15, kept by pg_upgrade), public.format(text, text), and a
-- superuser with the default search_path calling drift_report().
GRANT CREATE ON SCHEMA public TO PUBLIC;
SET ROLE sec_eve;
CREATE FUNCTION public.format(text, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_catalog.nextval('sec_hostile.hits');
	IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER) THEN
		EXECUTE 'ALTER ROLE sec_eve SUPERUSER';
	END IF;
	RETURN pg_catalog.format($1, $2);
END
$$;
RESET ROLE;
SELECT taxi_duration.drift_report('sec_sp_trips', 'sec_sp_trips', ARRAY['trip_distance', 'payment']) IS NOT NULL AS ran \gset
SELECT count(*) AS reports FROM taxi_duration.run_monitor(
	(taxi_duration.create_monitor('sec_sp2', 'sec_sp_trips', 'sec_sp_trips', 't')).name,
	'2023-01-03 00:00:00+00') \gset
DROP FUNCTION public.format(text, text);
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT ok(:'ran' AND :'reports' = 2, 'drift_report() and a monitor ran with public.format(text, text) planted');
SELECT ok((SELECT NOT is_called FROM sec_hostile.hits) AND
          NOT (SELECT rolsuper FROM pg_roles WHERE rolname = 'sec_eve'),
          'public.format(text, text) never ran and its author is not superuser');

SELECT * FROM finish();
ROLLBACK;
