
-- ===================================================================
-- sql/install/monitors.sql — scheduled monitoring (part of the extension
-- script).
--
-- A monitor compares each new window of a relation (e.g. a day of trips)
-- with a reference set, stores the drift report in monitor_reports and
-- raises an alert — a row in monitor_alerts, a NOTIFY on channel
-- taxi_duration_alerts and a WARNING in the server log — when the dataset
-- drifts or the RMSE degrades past the monitor's threshold.
-- run_monitors() is what pg_cron (schedule_monitoring()) or the Prefect
-- flow (python -m model monitor) calls.
--
-- Privileges (docs/security.md): a monitor belongs to the role that
-- defined it and its sets are only ever read with that role's privileges,
-- in a security-restricted operation, whoever runs it (src/monitors.c).
-- The tables are written only by the extension's owner, through the
-- internal functions below (EXECUTE revoked from PUBLIC), which the C entry
-- points call after checking the caller; roles read the rows of the
-- monitors whose owner's privileges they have (row-level security).
-- ===================================================================

CREATE TABLE monitors (
	name text PRIMARY KEY,
	owner regrole NOT NULL,			-- the role that defined it; its sets are read as this role
	reference regclass,				-- the reference set: a relation ...
	reference_query text,			-- ... or one SELECT query, or 'profile:NAME' (profiles.sql)
	search_path text NOT NULL,		-- the owner's search_path when defining it (for the query)
	current regclass NOT NULL,
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
	-- a plain reference (relation or query) is profiled once, at the first
	-- window, into the profile 'monitor:<name>' (profiles.sql); false: every
	-- window scans the reference again
	reference_profile boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now(),
	CHECK ((reference IS NULL) <> (reference_query IS NULL))
);
COMMENT ON TABLE monitors IS
	'Drift monitors: each window of "current" (a table or view, cut on time_column) is compared with "reference", read with the privileges of "owner"';
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

-- A monitor's alert belongs to one of its reports; a forwarder slot's alert
-- (check_forwarder_slots()) to no report: "slot" names the slot, "monitor"
-- is 'forwarder:' || slot and window_start the time it was raised.
CREATE TABLE monitor_alerts (
	id bigserial PRIMARY KEY,
	report_id bigint REFERENCES monitor_reports ON DELETE CASCADE,
	monitor text NOT NULL,
	window_start timestamptz NOT NULL,
	raised_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	kind text NOT NULL CHECK (kind IN ('dataset_drift', 'rmse', 'slot_retention',
									   'slot_unreserved', 'slot_lost', 'forwarder_silent')),
	message text NOT NULL,
	details jsonb NOT NULL,
	slot text,
	CHECK ((report_id IS NULL) = (slot IS NOT NULL))
);
COMMENT ON TABLE monitor_alerts IS
	'Alerts raised by monitors and by check_forwarder_slots() (also sent with NOTIFY taxi_duration_alerts and logged as a WARNING)';
COMMENT ON COLUMN monitor_alerts.slot IS
	'For a forwarder slot''s alert (kinds slot_*, forwarder_silent): the replication slot; NULL for a monitor''s alert';
CREATE INDEX ON monitor_alerts (monitor, raised_at);

-- pg_dump keeps the user's monitors, reports and alerts.
SELECT pg_catalog.pg_extension_config_dump('monitors', '');
SELECT pg_catalog.pg_extension_config_dump('monitor_reports', '');
SELECT pg_catalog.pg_extension_config_dump('monitor_reports_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('monitor_alerts', '');
SELECT pg_catalog.pg_extension_config_dump('monitor_alerts_id_seq', '');

-- Nobody but the extension's owner writes these tables; a role reads the
-- monitors (and their reports and alerts) whose owner's privileges it has.
ALTER TABLE monitors ENABLE ROW LEVEL SECURITY;
ALTER TABLE monitor_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE monitor_alerts ENABLE ROW LEVEL SECURITY;
CREATE POLICY monitors_of_my_roles ON monitors FOR SELECT
	USING (EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
				   WHERE r.oid OPERATOR(pg_catalog.=) owner::pg_catalog.oid
					 AND pg_catalog.pg_has_role(r.oid, 'USAGE')));
CREATE POLICY reports_of_my_monitors ON monitor_reports FOR SELECT
	USING (EXISTS (SELECT 1 FROM @extschema@.monitors m WHERE m.name OPERATOR(pg_catalog.=) monitor));
CREATE POLICY alerts_of_my_monitors ON monitor_alerts FOR SELECT
	USING (slot IS NULL AND
		   EXISTS (SELECT 1 FROM @extschema@.monitors m WHERE m.name OPERATOR(pg_catalog.=) monitor));
-- The forwarder slots' alerts are for every role that may read the table
-- (taxi_duration_admin): forwarder_lag, which they come from, is public.
CREATE POLICY forwarder_slot_alerts ON monitor_alerts FOR SELECT
	USING (slot IS NOT NULL);

-- The monitor `monitor_name`, locked, if `caller` may act on it: it must
-- have the privileges of the monitor's owner.  Internal.
CREATE FUNCTION monitor_for_caller(caller regrole, monitor_name text)
RETURNS @extschema@.monitors LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	m @extschema@.monitors;
BEGIN
	SELECT * INTO m FROM @extschema@.monitors WHERE name = monitor_name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'monitor "%" does not exist', monitor_name
			USING ERRCODE = 'undefined_object',
				  HINT = 'Create it with taxi_duration.create_monitor().';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE oid = m.owner) THEN
		RAISE EXCEPTION 'the owner of monitor "%" no longer exists', monitor_name
			USING ERRCODE = 'undefined_object',
				  HINT = 'A superuser can drop it with taxi_duration.drop_monitor() and create it again.';
	END IF;
	IF NOT pg_has_role(caller, m.owner, 'USAGE') THEN
		RAISE EXCEPTION 'permission denied for monitor "%"', monitor_name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('Monitor "%s" belongs to role %s; only roles with its privileges may use or change it.',
								  monitor_name, m.owner);
	END IF;
	RETURN m;
END
$$;

-- Store a monitor defined by `caller` (create_monitor() has read its sets
-- as the caller).  Internal.
CREATE FUNCTION monitor_save(caller regrole, name text, reference regclass, reference_query text,
							 search_path text, current regclass, time_column text,
							 window_size interval, columns text[], prediction text, target text,
							 options jsonb, rmse_degradation double precision, start_at timestamptz,
							 reference_profile boolean DEFAULT true)
RETURNS @extschema@.monitors LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	m @extschema@.monitors;
BEGIN
	-- Options are checked now, not at the first window: a typo in a column
	-- name fails here.  The report's columns are those given (with the
	-- prediction and target), else at most the current relation's.
	PERFORM @extschema@.drift_report_check_options(monitor_save.options,
		CASE WHEN monitor_save.columns IS NOT NULL
			 THEN array_remove(monitor_save.columns || ARRAY[monitor_save.prediction, monitor_save.target], NULL)
			 ELSE ARRAY(SELECT a.attname::text FROM pg_attribute AS a
						WHERE a.attrelid = monitor_save.current AND a.attnum > 0 AND NOT a.attisdropped
						ORDER BY a.attnum) END);
	IF EXISTS (SELECT 1 FROM @extschema@.monitors AS t WHERE t.name = monitor_save.name) THEN
		PERFORM @extschema@.monitor_for_caller(caller, monitor_save.name);
		-- a new definition: its profile is made again at the next window
		DELETE FROM @extschema@.reference_profiles AS p WHERE p.monitor = monitor_save.name;
	END IF;
	INSERT INTO @extschema@.monitors AS t (name, owner, reference, reference_query, search_path,
		current, time_column, window_size, columns, prediction, target, options, rmse_degradation,
		next_window_start, reference_profile)
	VALUES (monitor_save.name, caller, monitor_save.reference, monitor_save.reference_query,
		monitor_save.search_path, monitor_save.current, monitor_save.time_column,
		coalesce(monitor_save.window_size, '1 day'), monitor_save.columns, monitor_save.prediction,
		monitor_save.target, coalesce(monitor_save.options, '{}'), monitor_save.rmse_degradation,
		start_at, coalesce(monitor_save.reference_profile, true))
	ON CONFLICT ON CONSTRAINT monitors_pkey DO UPDATE SET
		owner = EXCLUDED.owner, reference = EXCLUDED.reference,
		reference_query = EXCLUDED.reference_query, search_path = EXCLUDED.search_path,
		current = EXCLUDED.current, time_column = EXCLUDED.time_column,
		window_size = EXCLUDED.window_size, columns = EXCLUDED.columns,
		prediction = EXCLUDED.prediction, target = EXCLUDED.target, options = EXCLUDED.options,
		rmse_degradation = EXCLUDED.rmse_degradation,
		reference_profile = EXCLUDED.reference_profile,
		next_window_start = coalesce(EXCLUDED.next_window_start, t.next_window_start)
	RETURNING * INTO m;
	RETURN m;
END
$$;

-- Enable or disable a monitor, or move where its next window starts.  Internal.
CREATE FUNCTION monitor_alter(caller regrole, monitor_name text, enabled boolean,
							  next_window_start timestamptz)
RETURNS @extschema@.monitors LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	m @extschema@.monitors;
BEGIN
	PERFORM @extschema@.monitor_for_caller(caller, monitor_name);
	UPDATE @extschema@.monitors AS t
	SET enabled = coalesce(monitor_alter.enabled, t.enabled),
		next_window_start = coalesce(monitor_alter.next_window_start, t.next_window_start)
	WHERE t.name = monitor_name
	RETURNING * INTO m;
	RETURN m;
END
$$;

-- Drop a monitor with its reports and alerts.  Internal.
CREATE FUNCTION monitor_drop(caller regrole, monitor_name text)
RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM @extschema@.monitors WHERE name = monitor_name) THEN
		RETURN false;
	END IF;
	-- a superuser may drop a monitor whose owner was dropped
	IF NOT (SELECT rolsuper FROM pg_roles WHERE oid = caller) THEN
		PERFORM @extschema@.monitor_for_caller(caller, monitor_name);
	END IF;
	DELETE FROM @extschema@.monitor_alerts WHERE monitor = monitor_name AND slot IS NULL;
	DELETE FROM @extschema@.monitors WHERE name = monitor_name;
	RETURN true;
END
$$;

-- The C entry points (src/monitors.c): they note the caller, read its sets
-- as the caller, and call the internal functions above as the owner.
CREATE FUNCTION create_monitor(name text, reference text, current regclass, time_column text,
							   window_size interval DEFAULT '1 day',
							   columns text[] DEFAULT NULL,
							   prediction text DEFAULT NULL,
							   target text DEFAULT NULL,
							   options jsonb DEFAULT '{}',
							   rmse_degradation double precision DEFAULT 0.1,
							   start_at timestamptz DEFAULT NULL,
							   reference_profile boolean DEFAULT true)
RETURNS @extschema@.monitors AS 'MODULE_PATHNAME', 'create_monitor' LANGUAGE C VOLATILE;

CREATE FUNCTION alter_monitor(name text, enabled boolean DEFAULT NULL,
							  next_window_start timestamptz DEFAULT NULL)
RETURNS @extschema@.monitors AS 'MODULE_PATHNAME', 'alter_monitor' LANGUAGE C VOLATILE;

CREATE FUNCTION drop_monitor(name text)
RETURNS boolean AS 'MODULE_PATHNAME', 'drop_monitor' LANGUAGE C STRICT VOLATILE;

-- The report of one window and the first time in the current relation,
-- each read as the monitor's owner in a security-restricted operation.
-- Internal.
CREATE FUNCTION monitor_window_report(m @extschema@.monitors, window_start timestamptz,
									  window_end timestamptz)
RETURNS jsonb AS 'MODULE_PATHNAME', 'monitor_window_report' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION monitor_first_row(m @extschema@.monitors)
RETURNS timestamptz AS 'MODULE_PATHNAME', 'monitor_first_row' LANGUAGE C STRICT VOLATILE;

-- Raise one alert: a row, a NOTIFY and a WARNING.  Internal.
CREATE FUNCTION raise_monitor_alert(report @extschema@.monitor_reports, kind text,
									message text, details jsonb)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
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

-- Compute every complete window of one monitor up to `until` for `caller`;
-- returns the reports stored.  Safe to run concurrently: the monitor row is
-- locked.  Internal: run_monitor() calls it as the extension's owner.
CREATE FUNCTION monitor_run(caller regrole, monitor_name text, until timestamptz)
RETURNS SETOF @extschema@.monitor_reports LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	m @extschema@.monitors;
	window_start timestamptz;
	window_end timestamptz;
	first_row timestamptz;
	n_rows bigint;
	report jsonb;
	stored @extschema@.monitor_reports;
	rmse double precision;
	reference_rmse double precision;
BEGIN
	m := @extschema@.monitor_for_caller(caller, monitor_name);
	window_start := m.next_window_start;
	IF window_start IS NULL THEN
		first_row := @extschema@.monitor_first_row(m);
		IF first_row IS NULL THEN
			RETURN;
		END IF;
		window_start := date_bin(m.window_size, first_row, timestamptz '2000-01-01 00:00:00+00');
	END IF;

	LOOP
		window_end := window_start + m.window_size;
		EXIT WHEN window_end > until;
		-- An empty window is stored, not reported on; the report counts the rows itself.
		report := @extschema@.monitor_window_report(m, window_start, window_end);
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
	UPDATE @extschema@.monitors AS t SET next_window_start = window_start WHERE t.name = m.name;
END
$$;

-- Run every enabled monitor the caller may run (all of them, for a
-- superuser), each with its owner's privileges.  A monitor that fails (a
-- dropped table, a bad option) is logged and skipped; the others still run.
CREATE FUNCTION run_monitors(until timestamptz DEFAULT now())
RETURNS TABLE (monitor text, windows integer, error text) LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	m record;
BEGIN
	IF pg_catalog.pg_is_in_recovery() THEN
		RAISE EXCEPTION 'run_monitors() must run on the primary'
			USING ERRCODE = '25006',
				  DETAIL = 'This server is a standby: a monitor''s reports and alerts are written to tables.',
				  HINT = 'Call it on the primary; the standby receives the results through replication. taxi_duration.drift_report() works on a standby.';
	END IF;
	-- row-level security shows the caller only the monitors it may run
	FOR m IN SELECT t.name FROM @extschema@.monitors AS t WHERE t.enabled ORDER BY t.name LOOP
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

CREATE FUNCTION run_monitor(monitor_name text, until timestamptz DEFAULT now())
RETURNS SETOF @extschema@.monitor_reports AS 'MODULE_PATHNAME', 'run_monitor' LANGUAGE C VOLATILE;

-- Schedule run_monitors() with pg_cron (the extension pg_cron must exist in
-- this database), as the calling role or, for a superuser, as `run_as`.
-- The job never runs as a superuser: it runs the monitors its role may run.
-- Returns the pg_cron job id.
CREATE FUNCTION schedule_monitoring(schedule text DEFAULT '5 * * * *',
									job_name text DEFAULT 'taxi_duration_monitors',
									run_as regrole DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	job bigint;
	job_role name;
	command CONSTANT text := 'SELECT * FROM @extschema@.run_monitors()';
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION 'pg_cron is not installed in this database'
			USING ERRCODE = 'undefined_object',
				  HINT = 'Install postgresql-NN-cron, add pg_cron to shared_preload_libraries, set cron.database_name to this database and run CREATE EXTENSION pg_cron; or run taxi_duration.run_monitors() from the Prefect flow (python -m model monitor).';
	END IF;
	SELECT rolname INTO job_role FROM pg_roles WHERE oid = coalesce(run_as, current_user::regrole);
	IF (SELECT rolsuper FROM pg_roles WHERE rolname = job_role) THEN
		RAISE EXCEPTION 'monitoring must not be scheduled as a superuser'
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('The job would run as role "%s", a superuser.', job_role),
				  HINT = 'Schedule it as a role that can log in and owns the monitors: SET ROLE to it first, or, as a superuser, pass run_as => ''role''.';
	END IF;
	IF job_role = current_user THEN
		EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
			USING job_name, schedule, command;
	ELSE
		-- pg_cron lets only superusers schedule for another role
		EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4, $5, true)' INTO job
			USING job_name, schedule, command, current_database(), job_role;
	END IF;
	RETURN job;
END
$$;

-- ===================================================================
-- Forwarder slots: alerts before a slot is invalidated
--
-- A stopped forwarder's slot keeps every WAL segment written since; with
-- max_slot_wal_keep_size set, PostgreSQL invalidates the slot at the first
-- checkpoint past that size, and the forwarder can never send the trips
-- committed in between (docs/operations.md, "Slot retention and
-- max_slot_wal_keep_size").  check_forwarder_slots() looks at every slot in
-- forwarder_lag and raises an alert — a row in monitor_alerts (slot set,
-- no report), a NOTIFY taxi_duration_alerts and a WARNING — for:
--   slot_retention    the slot retains more than max_retained_bytes, or
--                     safe_wal_size is below min_safe_fraction of
--                     max_slot_wal_keep_size (default 20 %)
--   slot_unreserved   wal_status 'unreserved': past max_slot_wal_keep_size,
--                     invalidated at the next checkpoint
--   slot_lost         wal_status 'lost' (or, 17+, an invalidation_reason)
--   forwarder_silent  the forwarder has not reported for max_silence, or
--                     never did on a slot of plugin taxi_duration in this
--                     database (no forwarder_status row)
-- (one of the first three, the most severe, plus the fourth).  The same
-- alert (slot and kind) is raised again only after repeat_after, so the
-- check can run every minute.  The entry point is C (monitors.c): it runs
-- forwarder_slots_check() as the extension's owner, the only writer of
-- monitor_alerts; EXECUTE is for taxi_duration_admin.
-- ===================================================================

-- Raise one forwarder slot alert: a row, a NOTIFY and a WARNING.  Internal.
CREATE FUNCTION raise_slot_alert(slot_name text, kind text, message text, details jsonb)
RETURNS bigint LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	alert_id bigint;
	raised timestamptz := clock_timestamp();
BEGIN
	INSERT INTO @extschema@.monitor_alerts (report_id, monitor, window_start, raised_at, kind,
											message, details, slot)
	VALUES (NULL, 'forwarder:' || slot_name, raised, raised, kind, message, details, slot_name)
	RETURNING id INTO alert_id;
	PERFORM pg_notify('taxi_duration_alerts', jsonb_build_object(
		'alert_id', alert_id, 'monitor', 'forwarder:' || slot_name, 'slot', slot_name,
		'kind', kind, 'raised_at', raised, 'message', message)::text);
	RAISE WARNING 'taxi_duration forwarder slot "%": %', slot_name, message
		USING DETAIL = format('Alert %s (%s); see taxi_duration.forwarder_lag.', alert_id, kind);
	RETURN alert_id;
END
$$;

-- The check itself (see above).  Internal: check_forwarder_slots() calls it
-- as the extension's owner.
CREATE FUNCTION forwarder_slots_check(caller regrole, max_retained_bytes bigint,
									  max_silence interval, min_safe_fraction double precision,
									  repeat_after interval)
RETURNS TABLE (slot text, kind text, message text, details jsonb, alert_id bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	-- the WAL a slot may retain: max_slot_wal_keep_size (-1: unlimited), or
	-- wal_keep_size when larger (PostgreSQL keeps the larger of the two)
	keep_bytes CONSTANT bigint := CASE
		WHEN pg_size_bytes(current_setting('max_slot_wal_keep_size')) < 0 THEN NULL
		ELSE greatest(pg_size_bytes(current_setting('max_slot_wal_keep_size')),
					  pg_size_bytes(current_setting('wal_keep_size'))) END;
	r record;
	k text;
	msg text;
	found_kinds text[];
BEGIN
	IF pg_is_in_recovery() THEN
		RAISE EXCEPTION 'check_forwarder_slots() must run on the primary'
			USING ERRCODE = '25006',
				  DETAIL = 'This server is a standby: alerts are written to taxi_duration.monitor_alerts.',
				  HINT = 'Call it on the primary; a slot on a standby shows in pg_replication_slots there.';
	END IF;
	IF max_retained_bytes IS NOT NULL AND max_retained_bytes <= 0 THEN
		RAISE EXCEPTION 'max_retained_bytes must be positive, not %', max_retained_bytes
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give a size in bytes, e.g. pg_size_bytes(''1GB''), or NULL for no byte limit.';
	END IF;
	IF max_silence IS NOT NULL AND max_silence <= interval '0' THEN
		RAISE EXCEPTION 'max_silence must be positive, not %', max_silence
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The forwarder reports every loop (TD_POLL_MS); NULL: no silence alert.';
	END IF;
	IF min_safe_fraction IS NULL OR NOT (min_safe_fraction >= 0 AND min_safe_fraction < 1) THEN
		RAISE EXCEPTION 'min_safe_fraction must be at least 0 and below 1, not %',
						coalesce(min_safe_fraction::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'It is the share of max_slot_wal_keep_size under which safe_wal_size raises an alert (0.2 = 20 %); 0 turns that alert off.';
	END IF;
	IF repeat_after IS NULL OR repeat_after < interval '0' THEN
		RAISE EXCEPTION 'repeat_after must be zero or positive, not %',
						coalesce(repeat_after::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The same alert of a slot is raised again only after this interval; 0: at every check.';
	END IF;

	-- every forwarder's status row, and every slot of this plugin in this
	-- database that no forwarder ever reported on (created by hand or by the
	-- container's initdb script before the forwarder first ran: it retains
	-- WAL all the same)
	FOR r IN
		SELECT l.slot, l.updated_at, l.last_sent_lsn, l.confirmed_flush_lsn, l.active,
			   l.retained_wal_bytes, l.retained_wal, l.last_error, l.wal_status, l.safe_wal_size,
			   l.since_last_report, l.invalidation_reason
		FROM @extschema@.forwarder_lag AS l
		UNION ALL
		SELECT s.slot_name::text, NULL, NULL, s.confirmed_flush_lsn, s.active,
			   pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint,
			   pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)), NULL,
			   s.wal_status, s.safe_wal_size, NULL, NULL
		FROM pg_replication_slots AS s
		WHERE s.plugin = 'taxi_duration' AND s.database = current_database()
		  AND NOT EXISTS (SELECT 1 FROM @extschema@.forwarder_status AS f WHERE f.slot = s.slot_name)
		ORDER BY 1
	LOOP
		found_kinds := ARRAY[]::text[];
		IF r.wal_status = 'lost' OR r.invalidation_reason IS NOT NULL THEN
			found_kinds := found_kinds || 'slot_lost'::text;
		ELSIF r.wal_status = 'unreserved' THEN
			found_kinds := found_kinds || 'slot_unreserved'::text;
		ELSIF (max_retained_bytes IS NOT NULL AND r.retained_wal_bytes > max_retained_bytes)
			  OR (keep_bytes IS NOT NULL AND r.safe_wal_size IS NOT NULL
				  AND r.safe_wal_size < min_safe_fraction * keep_bytes) THEN
			found_kinds := found_kinds || 'slot_retention'::text;
		END IF;
		IF max_silence IS NOT NULL AND (r.updated_at IS NULL OR r.since_last_report > max_silence) THEN
			found_kinds := found_kinds || 'forwarder_silent'::text;
		END IF;

		FOREACH k IN ARRAY found_kinds LOOP
			msg := CASE k
				WHEN 'slot_lost' THEN format(
					'slot "%s" was invalidated (%s): the WAL it still needed was removed, so the trips committed after LSN %s can no longer be decoded and the forwarder sends nothing; resynchronise (docs/operations.md, "Slot retention and max_slot_wal_keep_size")',
					r.slot, coalesce('invalidation_reason ' || r.invalidation_reason, 'wal_status lost'),
					coalesce(r.last_sent_lsn::text, r.confirmed_flush_lsn::text, '(none sent)'))
				WHEN 'slot_unreserved' THEN format(
					'slot "%s" retains %s of WAL, past max_slot_wal_keep_size (%s): it is invalidated at the next checkpoint unless its forwarder catches up first',
					r.slot, r.retained_wal, current_setting('max_slot_wal_keep_size'))
				WHEN 'slot_retention' THEN format(
					'slot "%s" retains %s of WAL (wal_status %s)%s',
					r.slot, r.retained_wal, r.wal_status,
					CASE WHEN r.safe_wal_size IS NOT NULL AND keep_bytes IS NOT NULL THEN format(
						': %s more and it is invalidated (max_slot_wal_keep_size %s); is its forwarder running?',
						pg_size_pretty(r.safe_wal_size), current_setting('max_slot_wal_keep_size'))
					ELSE format(': more than %s; is its forwarder running?', pg_size_pretty(max_retained_bytes)) END)
				WHEN 'forwarder_silent' THEN CASE WHEN r.updated_at IS NULL THEN format(
					'no forwarder has ever reported on slot "%s" (no row in taxi_duration.forwarder_status), which retains %s of WAL: start its forwarder, or drop the slot if it is not used',
					r.slot, coalesce(r.retained_wal, 'no'))
				ELSE format('the forwarder of slot "%s" has not reported for %s (last at %s, max_silence %s): stopped or stuck?',
					r.slot, date_trunc('second', r.since_last_report), r.updated_at, max_silence) END
				END;
			slot := r.slot;
			kind := k;
			message := msg;
			details := jsonb_build_object(
				'wal_status', r.wal_status, 'retained_wal_bytes', r.retained_wal_bytes,
				'safe_wal_size', r.safe_wal_size, 'max_slot_wal_keep_size_bytes', keep_bytes,
				'invalidation_reason', r.invalidation_reason, 'active', r.active,
				'updated_at', r.updated_at, 'since_last_report', r.since_last_report,
				'last_sent_lsn', r.last_sent_lsn, 'confirmed_flush_lsn', r.confirmed_flush_lsn,
				'last_error', r.last_error, 'max_retained_bytes', max_retained_bytes,
				'max_silence', max_silence, 'min_safe_fraction', min_safe_fraction,
				'checked_by', caller);
			alert_id := NULL;
			IF NOT EXISTS (SELECT 1 FROM @extschema@.monitor_alerts AS a
						   WHERE a.slot = r.slot AND a.kind = k
							 AND a.raised_at > clock_timestamp() - repeat_after) THEN
				alert_id := @extschema@.raise_slot_alert(r.slot, k, msg, details);
			END IF;
			RETURN NEXT;
		END LOOP;
	END LOOP;
END
$$;

CREATE FUNCTION check_forwarder_slots(max_retained_bytes bigint DEFAULT NULL,
									  max_silence interval DEFAULT '5 minutes',
									  min_safe_fraction double precision DEFAULT 0.2,
									  repeat_after interval DEFAULT '1 hour')
RETURNS TABLE (slot text, kind text, message text, details jsonb, alert_id bigint)
AS 'MODULE_PATHNAME', 'check_forwarder_slots' LANGUAGE C VOLATILE;

COMMENT ON FUNCTION check_forwarder_slots(bigint, interval, double precision, interval) IS
	'Alert (monitor_alerts, NOTIFY taxi_duration_alerts, WARNING) on forwarder slots close to invalidation, unreserved or lost, and on silent forwarders; returns every problem found, alert_id NULL when the same alert was raised within repeat_after';

COMMENT ON FUNCTION create_monitor(text, text, regclass, text, interval, text[], text, text, jsonb, double precision, timestamptz, boolean) IS
	'Create (or, as a role with its owner''s privileges, replace) a drift monitor owned by the calling role';
COMMENT ON FUNCTION alter_monitor(text, boolean, timestamptz) IS
	'Enable or disable a monitor, or move the start of its next window';
COMMENT ON FUNCTION drop_monitor(text) IS
	'Drop a monitor with its reports and alerts';
COMMENT ON FUNCTION run_monitor(text, timestamptz) IS
	'Compute and store the drift report of every complete new window of a monitor, with its owner''s privileges; raise alerts';
COMMENT ON FUNCTION run_monitors(timestamptz) IS
	'Run every enabled monitor the caller may run (what pg_cron or the Prefect flow calls)';
COMMENT ON FUNCTION schedule_monitoring(text, text, regrole) IS
	'Schedule run_monitors() with pg_cron, never as a superuser';

-- Monitoring is for the admin role; the internal functions are for the
-- extension's owner alone.
REVOKE ALL ON FUNCTION monitor_for_caller(regrole, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION monitor_save(regrole, text, regclass, text, text, regclass, text, interval, text[], text, text, jsonb, double precision, timestamptz, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION monitor_alter(regrole, text, boolean, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION monitor_drop(regrole, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION monitor_window_report(monitors, timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION monitor_first_row(monitors) FROM PUBLIC;
REVOKE ALL ON FUNCTION raise_monitor_alert(monitor_reports, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION monitor_run(regrole, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION create_monitor(text, text, regclass, text, interval, text[], text, text, jsonb, double precision, timestamptz, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION alter_monitor(text, boolean, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION drop_monitor(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION run_monitor(text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION run_monitors(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION schedule_monitoring(text, text, regrole) FROM PUBLIC;
REVOKE ALL ON FUNCTION raise_slot_alert(text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION forwarder_slots_check(regrole, bigint, interval, double precision, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION check_forwarder_slots(bigint, interval, double precision, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION create_monitor(text, text, regclass, text, interval, text[], text, text, jsonb, double precision, timestamptz, boolean) TO taxi_duration_admin;
GRANT EXECUTE ON FUNCTION alter_monitor(text, boolean, timestamptz) TO taxi_duration_admin;
GRANT EXECUTE ON FUNCTION drop_monitor(text) TO taxi_duration_admin;
GRANT EXECUTE ON FUNCTION run_monitor(text, timestamptz) TO taxi_duration_admin;
GRANT EXECUTE ON FUNCTION run_monitors(timestamptz) TO taxi_duration_admin;
GRANT EXECUTE ON FUNCTION schedule_monitoring(text, text, regrole) TO taxi_duration_admin;
GRANT EXECUTE ON FUNCTION check_forwarder_slots(bigint, interval, double precision, interval) TO taxi_duration_admin;
GRANT SELECT ON monitors, monitor_reports, monitor_alerts TO taxi_duration_admin;
