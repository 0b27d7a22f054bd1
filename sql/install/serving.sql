-- sql/install/serving.sql — prediction, model management and forwarder objects (part of the extension script).
-- Prediction functions, the trigger, and model management.  Everything lives
-- in the schema taxi_duration; see README.md and docs/.

\echo Use "CREATE EXTENSION taxi_duration" to load this file. \quit

-- Role allowed to load models, change taxi_duration.model_uri and manage
-- monitors (roles are cluster-wide, so it outlives DROP EXTENSION and is
-- shared by every database of the cluster; created once).  If it already
-- exists, it must be one this script would have made: a role created or
-- administered by a non-superuser (CREATEROLE) could otherwise be handed
-- these powers by that role (docs/security.md).
DO $$
DECLARE
	admin_role pg_catalog.oid;
	administrators text;
BEGIN
	SELECT r.oid INTO admin_role FROM pg_catalog.pg_roles AS r
	WHERE r.rolname OPERATOR(pg_catalog.=) 'taxi_duration_admin';
	IF admin_role IS NULL THEN
		CREATE ROLE taxi_duration_admin NOLOGIN;
	ELSE
		IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r
				   WHERE r.oid OPERATOR(pg_catalog.=) admin_role
					 AND (r.rolcanlogin OR r.rolsuper OR r.rolcreaterole OR r.rolcreatedb
						  OR r.rolreplication OR r.rolbypassrls)) THEN
			RAISE EXCEPTION 'role "taxi_duration_admin" already exists with attributes this extension does not give it'
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = 'The extension''s admin role is NOLOGIN and has no other attribute.',
					  HINT = 'Drop the role (or remove its attributes), then run CREATE EXTENSION again.';
		END IF;
		SELECT pg_catalog.string_agg(pg_catalog.quote_ident(r.rolname), ', ' ORDER BY r.rolname)
		INTO administrators
		FROM pg_catalog.pg_auth_members AS m
		JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) m.member
		WHERE m.roleid OPERATOR(pg_catalog.=) admin_role AND m.admin_option AND NOT r.rolsuper;
		IF administrators IS NOT NULL THEN
			RAISE EXCEPTION 'role "taxi_duration_admin" already exists and is administered by roles that are not superusers'
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = pg_catalog.format('Roles %s hold ADMIN OPTION on it: they could let any role load models, change taxi_duration.model_uri and manage monitors.', administrators),
					  HINT = 'Revoke ADMIN OPTION on taxi_duration_admin from those roles, or drop the role, then run CREATE EXTENSION again.';
		END IF;
	END IF;
	IF pg_catalog.current_setting('server_version_num')::pg_catalog.int4 OPERATOR(pg_catalog.>=) 150000 THEN
		EXECUTE 'GRANT ALTER SYSTEM ON PARAMETER taxi_duration.model_uri TO taxi_duration_admin';
	END IF;
END
$$;

GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

------------------------------------------------------------------------------
-- Prediction
------------------------------------------------------------------------------

-- Not STRICT: a NULL argument is a missing value for the model.
-- STABLE, not IMMUTABLE: the answer changes when a new model is loaded.
-- COST 100, not 1: a prediction (about 2.4 us) costs some 40 times a row of a
-- plain sequential scan, so the planner should run big scoring queries in
-- parallel and test cheaper conditions first.  The measured figure is nearer
-- COST 300, but that would cross JIT's optimisation thresholds
-- (jit_optimize_above_cost) from about 700,000 rows, and compiling buys nothing
-- around a C call; with 100 they are crossed only from 2,000,000 rows.
CREATE FUNCTION predict_duration(pu_location_id integer,
								 do_location_id integer,
								 trip_distance double precision)
RETURNS double precision
AS 'MODULE_PATHNAME', 'predict_duration'
LANGUAGE C STABLE PARALLEL SAFE COST 100;

COMMENT ON FUNCTION predict_duration(integer, integer, double precision) IS
'Predicted trip duration in minutes from pickup and drop-off zones and distance in miles';

CREATE FUNCTION predict_duration(pu_location_id integer,
								 do_location_id integer,
								 trip_distance double precision,
								 pickup_datetime timestamp)
RETURNS double precision
AS 'MODULE_PATHNAME', 'predict_duration_at'
LANGUAGE C STABLE PARALLEL SAFE COST 100;

COMMENT ON FUNCTION predict_duration(integer, integer, double precision, timestamp) IS
'Predicted trip duration in minutes, using the pickup time (local, as TLC records it) when the model does';

CREATE FUNCTION predict_duration(ride jsonb)
RETURNS double precision
AS 'MODULE_PATHNAME', 'predict_duration_jsonb'
LANGUAGE C STRICT STABLE PARALLEL SAFE COST 100;

COMMENT ON FUNCTION predict_duration(jsonb) IS
'Predicted trip duration in minutes for a trip event {"ride": {...}, "ride_id": ...} or a bare ride object';

CREATE FUNCTION fill_predicted_duration()
RETURNS trigger
AS 'MODULE_PATHNAME', 'fill_predicted_duration'
LANGUAGE C;

COMMENT ON FUNCTION fill_predicted_duration() IS
'BEFORE INSERT OR UPDATE row trigger: fills the column named by its first argument with the predicted duration; a second argument ''null'' turns rejected rows into NULL with a warning';

------------------------------------------------------------------------------
-- Model management
------------------------------------------------------------------------------

-- What model_info() and load_model() return.
CREATE TYPE model_status AS (
	model_name text,			-- from the bundle
	model_version text,
	run_id text,
	source text,				-- the URI it was loaded from
	sha256 text,				-- of the bundle's bytes
	bytes bigint,				-- bundle size
	loaded_at timestamptz,
	generation bigint,			-- increases with every load, cluster-wide
	estimator text,				-- xgboost or linear
	objective text,
	trees integer,				-- trees evaluated per prediction
	features integer,
	inputs text[],
	image_bytes bigint,			-- the shared compiled image
	created_at text,			-- when the bundle was exported
	last_error text,			-- last failed automatic load since then
	last_error_at timestamptz
);

CREATE FUNCTION model_info()
RETURNS model_status
AS 'MODULE_PATHNAME', 'model_info'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION model_info() IS
'The model every backend serves from its next statement on, and the last failed automatic load';

CREATE FUNCTION load_model(uri text)
RETURNS model_status
AS 'MODULE_PATHNAME', 'load_model'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION load_model(text) IS
'Load a model bundle (file://, later s3:// and models:/) into shared memory and serve it from the next statement on, in every backend';

CREATE FUNCTION load_model()
RETURNS model_status
AS 'MODULE_PATHNAME', 'load_configured_model'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION load_model() IS
'Reload the model named by taxi_duration.model_uri (the default bundle when it is empty)';

-- Every model load attempt, by load_model(), the loader worker or a first
-- prediction, successful or not.  Written by the loader worker (in the
-- database named by taxi_duration.database) from a shared-memory log, so a
-- failed load is recorded even though its own transaction rolled back.
CREATE TABLE model_loads (
	id bigserial PRIMARY KEY,
	loaded_at timestamptz NOT NULL,
	outcome text NOT NULL CHECK (outcome IN ('loaded', 'failed')),
	trigger text NOT NULL,		-- load_model, worker start, worker poll, model_uri changed, first use
	source text NOT NULL,		-- the URI asked for
	resolved_uri text,			-- for models:/ URIs, the s3:// bundle it pointed to
	model_version text,
	sha256 text,
	generation bigint,			-- the published generation, when loaded
	message text,				-- why it failed (never names a server path)
	pid integer,
	role name,
	detail text					-- the error's detail: may name server paths
);

COMMENT ON TABLE model_loads IS
'Every model load attempt and its outcome (written by the taxi_duration model loader worker)';
COMMENT ON COLUMN model_loads.detail IS
'Detail of the failure; may name server paths, so readable by taxi_duration_admin and pg_read_all_settings only';

-- Everyone sees what was loaded and why a load failed; the detail, which
-- may name server files, only privileged roles.
GRANT SELECT (id, loaded_at, outcome, trigger, source, resolved_uri, model_version, sha256,
			  generation, message, pid, role) ON model_loads TO PUBLIC;
GRANT SELECT ON model_loads TO taxi_duration_admin, pg_read_all_settings;
SELECT pg_catalog.pg_extension_config_dump('model_loads', '');
SELECT pg_catalog.pg_extension_config_dump('model_loads_id_seq', '');

REVOKE ALL ON FUNCTION load_model(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION load_model() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION load_model(text) TO taxi_duration_admin;
GRANT EXECUTE ON FUNCTION load_model() TO taxi_duration_admin;

-- Streaming: the forwarder's state
--
-- Written by forwarder/td-forwarder over its own connection (not inside the
-- decoding session): one status row per slot, upserted every loop, and the
-- records Kinesis can never accept (too large, invalid partition key, a
-- permanent error), kept here so that they do not stall the stream.
CREATE TABLE forwarder_dead_letters (
	id bigserial PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	slot text NOT NULL,
	commit_lsn pg_lsn,
	ride_id text,
	reason text NOT NULL,
	data text
);

COMMENT ON TABLE forwarder_dead_letters IS
'Trip events the forwarder could not write to Kinesis, with the reason';

CREATE TABLE forwarder_status (
	slot text PRIMARY KEY,
	updated_at timestamptz,
	last_sent_lsn pg_lsn,		-- the slot was advanced to here
	records_sent bigint NOT NULL DEFAULT 0,
	records_retried bigint NOT NULL DEFAULT 0,
	records_dead bigint NOT NULL DEFAULT 0,
	records_pending integer NOT NULL DEFAULT 0,
	last_error text,
	last_error_at timestamptz
);

COMMENT ON TABLE forwarder_status IS
'The forwarder''s progress per replication slot (upserted every loop)';

-- What a DBA needs to see a slot in danger: the WAL it retains, its
-- wal_status (reserved, extended: past max_wal_size; unreserved: past
-- max_slot_wal_keep_size, removed at the next checkpoint; lost: invalidated),
-- safe_wal_size (the WAL that may still be written before the slot is lost,
-- when max_slot_wal_keep_size is set), how long ago the forwarder last
-- reported, and on PostgreSQL 17+ why the slot was invalidated and since when
-- it is inactive (NULL before 17: the view has the same columns everywhere).
-- check_forwarder_slots() (monitors.sql) raises alerts from these columns.
DO $forwarder_lag$
DECLARE
	v17 CONSTANT boolean :=
		pg_catalog.current_setting('server_version_num')::pg_catalog.int4 >= 170000;
BEGIN
	EXECUTE pg_catalog.format($view$
CREATE VIEW @extschema@.forwarder_lag AS
SELECT f.slot,
	   f.updated_at,
	   f.records_pending,
	   f.records_sent,
	   f.records_retried,
	   f.records_dead,
	   f.last_sent_lsn,
	   s.confirmed_flush_lsn,
	   s.active,
	   pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), s.restart_lsn)::bigint
		   AS retained_wal_bytes,
	   pg_catalog.pg_size_pretty(
		   pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), s.restart_lsn))
		   AS retained_wal,
	   f.last_error,
	   f.last_error_at,
	   s.wal_status,
	   s.safe_wal_size,
	   pg_catalog.now() - f.updated_at AS since_last_report,
	   %s AS invalidation_reason,
	   %s AS inactive_since
FROM @extschema@.forwarder_status f
LEFT JOIN pg_catalog.pg_replication_slots s ON s.slot_name = f.slot
$view$,
		CASE WHEN v17 THEN 's.invalidation_reason' ELSE 'NULL::pg_catalog.text' END,
		CASE WHEN v17 THEN 's.inactive_since' ELSE 'NULL::pg_catalog.timestamptz' END);
END
$forwarder_lag$;

COMMENT ON VIEW forwarder_lag IS
'Per forwarder slot: records pending, WAL retained by the slot and how close it is to invalidation (wal_status, safe_wal_size), time since the forwarder last reported, last error and when';
COMMENT ON COLUMN forwarder_lag.wal_status IS
'The slot''s WAL: reserved (within max_wal_size), extended (retained past max_wal_size), unreserved (past max_slot_wal_keep_size: removed at the next checkpoint), lost (invalidated: the forwarder cannot go on)';
COMMENT ON COLUMN forwarder_lag.safe_wal_size IS
'Bytes of WAL that may still be written before the slot is invalidated; NULL when max_slot_wal_keep_size is -1 (unlimited) or the slot is lost';
COMMENT ON COLUMN forwarder_lag.since_last_report IS
'Time since the forwarder last upserted its status (it does every loop): a stopped or stuck forwarder';
COMMENT ON COLUMN forwarder_lag.invalidation_reason IS
'Why the slot was invalidated (wal_removed, rows_removed, ...; PostgreSQL 17+, NULL before)';
COMMENT ON COLUMN forwarder_lag.inactive_since IS
'Since when no process uses the slot (PostgreSQL 17+, NULL before)';

GRANT SELECT ON forwarder_lag TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('forwarder_dead_letters', '');
SELECT pg_catalog.pg_extension_config_dump('forwarder_dead_letters_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('forwarder_status', '');

-- The loads this server made, from shared memory (the last 64): on a hot
-- standby, which cannot write model_loads, this is the load history.
CREATE FUNCTION recent_model_loads()
RETURNS TABLE (seq bigint, loaded_at timestamptz, outcome text, trigger text, source text,
			   resolved_uri text, model_version text, sha256 text, generation bigint,
			   message text, pid integer, role name, detail text)
AS 'MODULE_PATHNAME', 'recent_model_loads'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION recent_model_loads() IS
'The last 64 model loads of this server, from shared memory (a standby''s load history; detail for privileged roles only)';
