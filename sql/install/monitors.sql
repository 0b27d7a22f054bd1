
-- ===================================================================
-- sql/install/monitors.sql — scheduled monitoring (part of the extension
-- script).
--
-- A monitor compares each new window of a table (e.g. a day of trips) with
-- a reference set, stores the drift report in monitor_reports and raises an
-- alert — a row in monitor_alerts, a NOTIFY on channel
-- taxi_duration_alerts and a WARNING in the server log — when the dataset
-- drifts or the RMSE degrades past the monitor's threshold.
-- run_monitors() is what pg_cron (schedule_monitoring()) or the Prefect
-- flow (python -m model monitor) calls.
-- ===================================================================

CREATE TABLE monitors (
	name text PRIMARY KEY,
	reference text NOT NULL,
	current text NOT NULL,
	time_column text NOT NULL,
	window_size interval NOT NULL DEFAULT '1 day'
		CHECK (window_size > interval '0' AND date_part('month', window_size) = 0
			   AND date_part('year', window_size) = 0),
	columns text[],
	prediction text,
	target text,
	options jsonb NOT NULL DEFAULT '{}',
	rmse_degradation double precision DEFAULT 0.1 CHECK (rmse_degradation >= 0),
	next_window_start timestamptz,
	enabled boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE monitors IS
	'Drift monitors: each window of "current" (a table or view, cut on time_column) is compared with "reference"';
COMMENT ON COLUMN monitors.rmse_degradation IS
	'Alert when the window''s RMSE exceeds the reference RMSE by this fraction (0.1 = 10%); NULL: no RMSE alert';
COMMENT ON COLUMN monitors.next_window_start IS
	'Start of the first window not computed yet; NULL: the window holding the earliest row';

CREATE TABLE monitor_reports (
	id bigserial PRIMARY KEY,
	monitor text NOT NULL REFERENCES monitors ON DELETE CASCADE ON UPDATE CASCADE,
	window_start timestamptz NOT NULL,
	window_end timestamptz NOT NULL,
	computed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	current_rows bigint NOT NULL,
	dataset_drift boolean,
	share_of_drifted_columns double precision,
	number_of_drifted_columns integer,
	rmse double precision,
	reference_rmse double precision,
	report jsonb NOT NULL,
	UNIQUE (monitor, window_start)
);
COMMENT ON TABLE monitor_reports IS
	'One drift_report() per monitor and window (an empty window is stored with current_rows = 0)';

CREATE TABLE monitor_alerts (
	id bigserial PRIMARY KEY,
	report_id bigint NOT NULL REFERENCES monitor_reports ON DELETE CASCADE,
	monitor text NOT NULL,
	window_start timestamptz NOT NULL,
	raised_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	kind text NOT NULL CHECK (kind IN ('dataset_drift', 'rmse')),
	message text NOT NULL,
	details jsonb NOT NULL
);
COMMENT ON TABLE monitor_alerts IS
	'Alerts raised by monitors (also sent with NOTIFY taxi_duration_alerts and logged as a WARNING)';
CREATE INDEX ON monitor_alerts (monitor, raised_at);

-- pg_dump keeps the user's monitors, reports and alerts.
SELECT pg_catalog.pg_extension_config_dump('monitors', '');
SELECT pg_catalog.pg_extension_config_dump('monitor_reports', '');
SELECT pg_catalog.pg_extension_config_dump('monitor_reports_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('monitor_alerts', '');
SELECT pg_catalog.pg_extension_config_dump('monitor_alerts_id_seq', '');

-- Create (or replace) a monitor; checks that the sets and columns exist by
-- computing nothing but their shape.
CREATE FUNCTION create_monitor(name text, reference text, current text, time_column text,
							   window_size interval DEFAULT '1 day',
							   columns text[] DEFAULT NULL,
							   prediction text DEFAULT NULL,
							   target text DEFAULT NULL,
							   options jsonb DEFAULT '{}',
							   rmse_degradation double precision DEFAULT 0.1,
							   start_at timestamptz DEFAULT NULL)
RETURNS @extschema@.monitors LANGUAGE plpgsql AS $$
DECLARE
	m @extschema@.monitors;
	rel regclass;
BEGIN
	rel := to_regclass(current);
	IF rel IS NULL THEN
		RAISE EXCEPTION 'relation "%" does not exist', current
			USING ERRCODE = 'undefined_table',
				  HINT = 'A monitor''s current set is a table or view with a time column.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = rel AND attname = time_column
				   AND attnum > 0 AND NOT attisdropped
				   AND atttypid IN ('timestamp'::regtype, 'timestamptz'::regtype, 'date'::regtype)) THEN
		RAISE EXCEPTION 'column "%" of "%" is not a date or timestamp column', time_column, current
			USING ERRCODE = 'undefined_column';
	END IF;
	-- Validate the sets, columns and options on empty windows.
	PERFORM @extschema@.drift_set_view('td_drift_reference', reference, 'reference');
	DROP VIEW pg_temp.td_drift_reference;
	INSERT INTO @extschema@.monitors AS t (name, reference, current, time_column, window_size, columns,
		prediction, target, options, rmse_degradation, next_window_start)
	VALUES (name, reference, current, time_column, window_size, columns,
		prediction, target, coalesce(options, '{}'), rmse_degradation, start_at)
	ON CONFLICT ON CONSTRAINT monitors_pkey DO UPDATE SET
		reference = EXCLUDED.reference, current = EXCLUDED.current,
		time_column = EXCLUDED.time_column, window_size = EXCLUDED.window_size,
		columns = EXCLUDED.columns, prediction = EXCLUDED.prediction,
		target = EXCLUDED.target, options = EXCLUDED.options,
		rmse_degradation = EXCLUDED.rmse_degradation,
		next_window_start = coalesce(EXCLUDED.next_window_start, t.next_window_start)
	RETURNING * INTO m;
	RETURN m;
END
$$;

-- Raise one alert: a row, a NOTIFY and a WARNING.
CREATE FUNCTION raise_monitor_alert(report @extschema@.monitor_reports, kind text,
									message text, details jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	alert_id bigint;
BEGIN
	INSERT INTO @extschema@.monitor_alerts (report_id, monitor, window_start, kind, message, details)
	VALUES (report.id, report.monitor, report.window_start, kind, message, details)
	RETURNING id INTO alert_id;
	PERFORM pg_notify('taxi_duration_alerts', jsonb_build_object(
		'alert_id', alert_id, 'monitor', report.monitor, 'kind', kind,
		'window_start', report.window_start, 'window_end', report.window_end,
		'message', message)::text);
	RAISE WARNING 'taxi_duration monitor "%": %', report.monitor, message
		USING DETAIL = format('Window %s to %s, report %s.', report.window_start,
							  report.window_end, report.id);
END
$$;

-- Compute every complete window of one monitor up to `until`; returns the
-- reports stored.  Safe to run concurrently: the monitor row is locked.
CREATE FUNCTION run_monitor(monitor_name text, until timestamptz DEFAULT now())
RETURNS SETOF @extschema@.monitor_reports LANGUAGE plpgsql AS $$
DECLARE
	m @extschema@.monitors;
	window_start timestamptz;
	window_end timestamptz;
	first_row timestamptz;
	current_query text;
	has_rows boolean;
	n_rows bigint;
	report jsonb;
	stored @extschema@.monitor_reports;
	rmse double precision;
	reference_rmse double precision;
BEGIN
	IF until IS NULL THEN
		RAISE EXCEPTION 'until must not be null'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Windows ending at or before "until" are computed; the default is now().';
	END IF;
	SELECT * INTO m FROM @extschema@.monitors WHERE name = monitor_name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'monitor "%" does not exist', monitor_name
			USING ERRCODE = 'undefined_object',
				  HINT = 'Create it with taxi_duration.create_monitor().';
	END IF;
	window_start := m.next_window_start;
	IF window_start IS NULL THEN
		EXECUTE format('SELECT min(%I)::timestamptz FROM %s', m.time_column, m.current) INTO first_row;
		IF first_row IS NULL THEN
			RETURN;
		END IF;
		window_start := date_bin(m.window_size, first_row, timestamptz '2000-01-01 00:00:00+00');
	END IF;

	LOOP
		window_end := window_start + m.window_size;
		EXIT WHEN window_end > until;
		current_query := format('SELECT * FROM %s WHERE %I >= %L::timestamptz AND %I < %L::timestamptz',
								m.current, m.time_column, window_start, m.time_column, window_end);
		-- An empty window is stored, not reported on; the report counts the rows itself.
		EXECUTE format('SELECT EXISTS (%s)', current_query) INTO has_rows;
		IF has_rows THEN
			report := @extschema@.drift_report(m.reference, current_query, m.columns,
											   m.prediction, m.target, m.options);
		ELSE
			report := jsonb_build_object('current_rows', 0);
		END IF;
		n_rows := (report->>'current_rows')::bigint;
		-- The alert limit in force for this window, for the HTML page.
		report := report || jsonb_build_object('rmse_degradation', m.rmse_degradation);
		rmse := (report->'regression'->'current'->>'rmse')::double precision;
		reference_rmse := (report->'regression'->'reference'->>'rmse')::double precision;
		INSERT INTO @extschema@.monitor_reports (monitor, window_start, window_end, current_rows,
			dataset_drift, share_of_drifted_columns, number_of_drifted_columns,
			rmse, reference_rmse, report)
		VALUES (m.name, window_start, window_end, n_rows,
			(report->>'dataset_drift')::boolean,
			(report->>'share_of_drifted_columns')::double precision,
			(report->>'number_of_drifted_columns')::integer,
			rmse, reference_rmse, report)
		ON CONFLICT ON CONSTRAINT monitor_reports_monitor_window_start_key DO UPDATE SET
			window_end = EXCLUDED.window_end, computed_at = EXCLUDED.computed_at,
			current_rows = EXCLUDED.current_rows, dataset_drift = EXCLUDED.dataset_drift,
			share_of_drifted_columns = EXCLUDED.share_of_drifted_columns,
			number_of_drifted_columns = EXCLUDED.number_of_drifted_columns,
			rmse = EXCLUDED.rmse, reference_rmse = EXCLUDED.reference_rmse,
			report = EXCLUDED.report
		RETURNING * INTO stored;

		IF stored.dataset_drift THEN
			PERFORM @extschema@.raise_monitor_alert(stored, 'dataset_drift',
				format('dataset drift: %s of %s columns drifted (share %s >= %s)',
					   stored.number_of_drifted_columns, report->>'number_of_columns',
					   round(stored.share_of_drifted_columns::numeric, 3), report->>'drift_share'),
				jsonb_build_object('drifted_columns',
					(SELECT coalesce(jsonb_agg(k ORDER BY k), '[]') FROM jsonb_each(report->'columns') AS e(k, v)
					 WHERE (v->>'drifted')::boolean)));
		END IF;
		IF m.rmse_degradation IS NOT NULL AND rmse IS NOT NULL AND reference_rmse IS NOT NULL
		   AND rmse > reference_rmse * (1 + m.rmse_degradation) THEN
			PERFORM @extschema@.raise_monitor_alert(stored, 'rmse',
				format('RMSE degraded: %s against %s on the reference (more than %s%% worse)',
					   round(rmse::numeric, 4), round(reference_rmse::numeric, 4),
					   round((m.rmse_degradation * 100)::numeric, 1)),
				jsonb_build_object('rmse', rmse, 'reference_rmse', reference_rmse,
								   'rmse_degradation', m.rmse_degradation));
		END IF;
		RETURN NEXT stored;
		window_start := window_end;
	END LOOP;
	UPDATE @extschema@.monitors SET next_window_start = window_start WHERE name = m.name;
END
$$;

-- Run every enabled monitor.  A monitor that fails (a dropped table, a bad
-- option) is logged and skipped; the others still run.
CREATE FUNCTION run_monitors(until timestamptz DEFAULT now())
RETURNS TABLE (monitor text, windows integer, error text) LANGUAGE plpgsql AS $$
DECLARE
	m record;
BEGIN
	FOR m IN SELECT name FROM @extschema@.monitors WHERE enabled ORDER BY name LOOP
		monitor := m.name;
		BEGIN
			SELECT count(*) INTO windows FROM @extschema@.run_monitor(m.name, until);
			error := NULL;
		EXCEPTION WHEN OTHERS THEN
			windows := 0;
			error := SQLERRM;
			RAISE WARNING 'taxi_duration monitor "%" failed: %', m.name, SQLERRM;
		END;
		RETURN NEXT;
	END LOOP;
END
$$;

-- Schedule run_monitors() with pg_cron (the extension pg_cron must exist in
-- this database).  Returns the pg_cron job id.
CREATE FUNCTION schedule_monitoring(schedule text DEFAULT '5 * * * *',
									job_name text DEFAULT 'taxi_duration_monitors')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	job bigint;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION 'pg_cron is not installed in this database'
			USING ERRCODE = 'undefined_object',
				  HINT = 'Install postgresql-15-cron, add pg_cron to shared_preload_libraries, set cron.database_name to this database and run CREATE EXTENSION pg_cron; or run taxi_duration.run_monitors() from the Prefect flow (python -m model monitor).';
	END IF;
	EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
		USING job_name, schedule, 'SELECT * FROM @extschema@.run_monitors()';
	RETURN job;
END
$$;

COMMENT ON FUNCTION run_monitor(text, timestamptz) IS
	'Compute and store the drift report of every complete new window of a monitor; raise alerts';
COMMENT ON FUNCTION run_monitors(timestamptz) IS
	'Run every enabled monitor (what pg_cron or the Prefect flow calls)';
COMMENT ON FUNCTION schedule_monitoring(text, text) IS
	'Schedule run_monitors() with pg_cron';

-- Monitoring is managed by the admin role; reports are read by it too.
REVOKE ALL ON FUNCTION create_monitor(text, text, text, text, interval, text[], text, text, jsonb, double precision, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION run_monitor(text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION run_monitors(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION schedule_monitoring(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION raise_monitor_alert(monitor_reports, text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION create_monitor(text, text, text, text, interval, text[], text, text, jsonb, double precision, timestamptz) TO taxi_duration_admin;
GRANT EXECUTE ON FUNCTION run_monitor(text, timestamptz) TO taxi_duration_admin;
GRANT EXECUTE ON FUNCTION run_monitors(timestamptz) TO taxi_duration_admin;
GRANT EXECUTE ON FUNCTION raise_monitor_alert(monitor_reports, text, text, jsonb) TO taxi_duration_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON monitors, monitor_reports, monitor_alerts TO taxi_duration_admin;
GRANT USAGE ON SEQUENCE monitor_reports_id_seq, monitor_alerts_id_seq TO taxi_duration_admin;
