
-- ===================================================================
-- sql/install/profiles.sql — reference profiles (part of the extension
-- script; docs/monitoring.md, "Reference profiles").
--
-- A profile stores what a drift report needs from its reference set, so
-- that a report (or a monitor's window) scans only the current set:
-- per column the exact value map of the reference (lib/stats value map
-- bytes: every distinct value with its count, and the missing count), the
-- column's type, the reference row count and the reference's regression
-- accumulator.  drift_report(reference => 'profile:NAME', ...) merges the
-- stored maps into the current window's maps and gives the same report, to
-- the bit, as a rescan of the reference.
--
-- Privileges: as for monitors (monitors.sql, docs/security.md).  A profile
-- belongs to the role that created it; its reference is read with that
-- role's privileges only, in a security-restricted operation, whoever
-- refreshes it (src/monitoring/profiles.c).  The tables are written only by
-- the extension's owner through the internal functions below; a role reads
-- (and reports against) only the profiles whose owner's privileges it has
-- (row-level security), because a value map is the reference's data.
-- ===================================================================

-- The aggregates a profile is made of (profile_agg.c); the transition,
-- combine and (de)serialize functions are the drift and regression
-- aggregates' own, so they run in parallel the same way.
CREATE FUNCTION drift_value_map_final(internal)
RETURNS bytea AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE AGGREGATE drift_value_map(value double precision, is_reference boolean) (
	SFUNC = drift_number_sfunc, STYPE = internal,
	FINALFUNC = drift_value_map_final,
	COMBINEFUNC = drift_combine,
	SERIALFUNC = drift_serialize, DESERIALFUNC = drift_deserialize,
	PARALLEL = SAFE);
CREATE AGGREGATE drift_value_map(value text, is_reference boolean) (
	SFUNC = drift_text_sfunc, STYPE = internal,
	FINALFUNC = drift_value_map_final,
	COMBINEFUNC = drift_combine,
	SERIALFUNC = drift_serialize, DESERIALFUNC = drift_deserialize,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE drift_value_map(double precision, boolean) IS
	'The exact value counts of a column (distinct value -> reference and current counts, missing counts) as bytea, for column_drift_from_maps()';
COMMENT ON AGGREGATE drift_value_map(text, boolean) IS
	'The exact value counts of a text column as bytea, for column_drift_from_maps()';

CREATE FUNCTION column_drift_from_maps(reference bytea, current bytea, options jsonb DEFAULT '{}')
RETURNS jsonb AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION column_drift_from_maps(bytea, bytea, jsonb) IS
	'column_drift()''s verdict on two value maps (drift_value_map()) merged: the same as column_drift() over both windows';

CREATE FUNCTION regression_state_final(internal)
RETURNS bytea AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE AGGREGATE regression_state(prediction double precision, target double precision,
								  zero_handling text) (
	SFUNC = regression_zero_sfunc, STYPE = internal,
	FINALFUNC = regression_state_final,
	COMBINEFUNC = regression_combine,
	SERIALFUNC = regression_serialize, DESERIALFUNC = regression_deserialize,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE regression_state(double precision, double precision, text) IS
	'regression_quality()''s accumulator as bytea (this build''s layout), for regression_quality_from_state()';
CREATE FUNCTION regression_quality_from_state(state bytea)
RETURNS jsonb AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION regression_quality_from_state(bytea) IS
	'regression_quality() of an accumulator stored by regression_state()';

CREATE TABLE reference_profiles (
	name text PRIMARY KEY,
	owner regrole NOT NULL,			-- the role that created it; its reference is read as this role
	reference regclass,				-- the reference set: a relation ...
	reference_query text,			-- ... or one SELECT query
	search_path text NOT NULL,		-- the owner's search_path when creating it (for the query)
	columns text[],					-- as asked (NULL: every column of a type drift tests apply to)
	prediction text,
	target text,
	reference_rows bigint NOT NULL,
	regression bytea,				-- the reference's regression accumulator (zero targets dropped)
	refreshed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	-- a monitor's own profile, 'monitor:<monitor>' (made at its first window,
	-- refresh_monitor_reference()); dropped with the monitor
	monitor text UNIQUE REFERENCES monitors ON DELETE CASCADE,
	CHECK ((monitor IS NULL) = (name NOT LIKE 'monitor:%')),
	CHECK (monitor IS NULL OR name = 'monitor:' || monitor),
	CHECK ((reference IS NULL) <> (reference_query IS NULL)),
	CHECK ((prediction IS NULL) = (target IS NULL))
);
COMMENT ON TABLE reference_profiles IS
	'Reference profiles: what drift_report(reference => ''profile:NAME'') needs from a reference set, computed once with the privileges of "owner"';

CREATE TABLE reference_profile_columns (
	profile text NOT NULL REFERENCES reference_profiles ON DELETE CASCADE ON UPDATE CASCADE,
	position integer NOT NULL,
	name text NOT NULL,
	type regtype NOT NULL,			-- the column's type in the reference set
	kind text NOT NULL CHECK (kind IN ('float', 'integer', 'boolean', 'text')),
	value_rows bigint NOT NULL,		-- values counted (missing left out)
	missing bigint NOT NULL,		-- NULL, NaN, ±Infinity
	distinct_values bigint NOT NULL,
	value_map bytea NOT NULL,		-- lib/stats value map: distinct value -> count
	PRIMARY KEY (profile, name),
	UNIQUE (profile, position)
);
COMMENT ON TABLE reference_profile_columns IS
	'Per column of a reference profile: its exact value counts (drift_value_map()) and type';

SELECT pg_catalog.pg_extension_config_dump('reference_profiles', '');
SELECT pg_catalog.pg_extension_config_dump('reference_profile_columns', '');

ALTER TABLE reference_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE reference_profile_columns ENABLE ROW LEVEL SECURITY;
CREATE POLICY profiles_of_my_roles ON reference_profiles FOR SELECT
	USING (EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
				   WHERE r.oid OPERATOR(pg_catalog.=) owner::pg_catalog.oid
					 AND pg_catalog.pg_has_role(r.oid, 'USAGE')));
CREATE POLICY columns_of_my_profiles ON reference_profile_columns FOR SELECT
	USING (EXISTS (SELECT 1 FROM @extschema@.reference_profiles p
				   WHERE p.name OPERATOR(pg_catalog.=) profile));

-- The profile `profile_name`, locked, if `caller` has the privileges of
-- its owner.  Internal.
CREATE FUNCTION reference_profile_for_caller(caller regrole, profile_name text)
RETURNS @extschema@.reference_profiles LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	p @extschema@.reference_profiles;
BEGIN
	SELECT * INTO p FROM @extschema@.reference_profiles WHERE name = profile_name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'reference profile "%" does not exist', profile_name
			USING ERRCODE = 'undefined_object',
				  HINT = 'Create it with taxi_duration.create_reference_profile().';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE oid = p.owner) THEN
		RAISE EXCEPTION 'the owner of reference profile "%" no longer exists', profile_name
			USING ERRCODE = 'undefined_object',
				  HINT = 'A superuser can drop it with taxi_duration.drop_reference_profile().';
	END IF;
	IF NOT pg_has_role(caller, p.owner, 'USAGE') THEN
		RAISE EXCEPTION 'permission denied for reference profile "%"', profile_name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('Reference profile "%s" belongs to role %s; only roles with its privileges may use or change it.',
								  profile_name, p.owner);
	END IF;
	RETURN p;
END
$$;

-- Scan a reference set once: per column its value map, the row count and
-- the regression accumulator.  It runs as its caller (SECURITY INVOKER):
-- profiles.c calls it as the profile's owner in a security-restricted
-- operation.  The values are cast exactly as drift_report_sets() casts a
-- reference column of that kind.  Internal.
CREATE FUNCTION reference_profile_scan(reference_sql text, reference_columns text[], reference_types oid[],
									   query_search_path text, columns text[], prediction text, target text,
									   OUT column_names text[], OUT column_types oid[], OUT kinds text[],
									   OUT value_maps bytea[], OUT reference_rows bigint, OUT regression bytea)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	col text;
	kind text;
	pos integer;
	selects text[] := '{}';
	aggs text[] := '{}';
	query text;
BEGIN
	IF (prediction IS NULL) <> (target IS NULL) THEN
		RAISE EXCEPTION 'a reference profile needs both a prediction and a target column, or neither'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The regression metrics compare the prediction with the target.';
	END IF;
	IF columns IS NULL THEN
		SELECT array_agg(r.name ORDER BY r.ord) INTO column_names
		FROM unnest(reference_columns, reference_types) WITH ORDINALITY AS r(name, type_oid, ord)
		WHERE @extschema@.drift_column_kind(r.type_oid) IS NOT NULL;
	ELSE
		column_names := columns;
		IF prediction IS NOT NULL AND NOT prediction = ANY (column_names) THEN
			column_names := column_names || prediction;
		END IF;
		IF target IS NOT NULL AND NOT target = ANY (column_names) THEN
			column_names := column_names || target;
		END IF;
	END IF;
	IF column_names IS NULL OR cardinality(column_names) = 0 THEN
		RAISE EXCEPTION 'no column to profile'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'The reference set has no column of a numeric, boolean or text type.',
				  HINT = 'Pass the columns to profile.';
	END IF;
	column_types := '{}';
	kinds := '{}';
	FOREACH col IN ARRAY column_names LOOP
		pos := array_position(reference_columns, col);
		IF col IS NULL OR pos IS NULL THEN
			RAISE EXCEPTION 'column "%" is not in the reference set', col
				USING ERRCODE = 'undefined_column';
		END IF;
		IF cardinality(array_positions(column_names, col)) > 1 THEN
			RAISE EXCEPTION 'column "%" is named twice', col
				USING ERRCODE = 'duplicate_column';
		END IF;
		kind := @extschema@.drift_column_kind(reference_types[pos]);
		IF kind IS NULL THEN
			RAISE EXCEPTION 'column "%" has type %, which drift tests do not apply to', col,
							format_type(reference_types[pos], NULL)
				USING ERRCODE = 'datatype_mismatch',
					  HINT = 'Profile numeric, boolean or text columns; cast others in a query.';
		END IF;
		column_types := column_types || reference_types[pos];
		kinds := kinds || kind;
		selects := selects || format('%s AS %I', CASE kind
			WHEN 'text' THEN format('%I::pg_catalog.text', col)
			WHEN 'boolean' THEN format('%I::pg_catalog.int4::pg_catalog.float8', col)
			ELSE format('%I::pg_catalog.float8', col) END, col);
		aggs := aggs || format('@extschema@.drift_value_map(%I, true)', col);
	END LOOP;

	query := format($q$
		SELECT ARRAY[%2$s]::pg_catalog.bytea[], pg_catalog.count(*), %3$s
		FROM (SELECT %1$s FROM (%4$s
			) AS reference_set) AS reference_values$q$,
		array_to_string(selects, ', '), array_to_string(aggs, ', '),
		CASE WHEN prediction IS NOT NULL THEN
			format('@extschema@.regression_state(%I::pg_catalog.float8, %I::pg_catalog.float8, ''drop'')', prediction, target)
		ELSE 'NULL::pg_catalog.bytea' END,
		E'\n' || reference_sql || E'\n');
	PERFORM pg_catalog.set_config('search_path', coalesce(query_search_path, ''), true);
	EXECUTE query INTO value_maps, reference_rows, regression;
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	IF reference_rows = 0 THEN
		RAISE EXCEPTION 'the reference set is empty'
			USING ERRCODE = 'no_data_found',
				  HINT = 'Drift is measured against a reference; give a set with rows.';
	END IF;
END
$$;

-- Store a profile computed as its owner.  `replace`: a refresh (the
-- definition and owner stay, the data is replaced); otherwise the name
-- must be free.  Internal.
CREATE FUNCTION reference_profile_store(caller regrole, name text, reference regclass,
										reference_query text, search_path text, columns text[],
										prediction text, target text, column_names text[],
										column_types oid[], kinds text[], value_maps bytea[],
										reference_rows bigint, regression bytea, replace boolean,
										monitor text DEFAULT NULL)
RETURNS @extschema@.reference_profiles LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	p @extschema@.reference_profiles;
	i integer;
BEGIN
	IF replace THEN
		p := @extschema@.reference_profile_for_caller(caller, reference_profile_store.name);
		UPDATE @extschema@.reference_profiles AS t
		SET reference_rows = reference_profile_store.reference_rows,
			regression = reference_profile_store.regression, refreshed_at = clock_timestamp()
		WHERE t.name = p.name
		RETURNING * INTO p;
		DELETE FROM @extschema@.reference_profile_columns AS c WHERE c.profile = p.name;
	ELSE
		IF reference_profile_store.monitor IS NULL AND reference_profile_store.name LIKE 'monitor:%' THEN
			RAISE EXCEPTION 'reference profile names starting with "monitor:" are reserved'
				USING ERRCODE = 'reserved_name',
					  DETAIL = 'A monitor profiles its reference as "monitor:<monitor name>".',
					  HINT = 'Choose another name.';
		END IF;
		IF EXISTS (SELECT 1 FROM @extschema@.reference_profiles AS t
				   WHERE t.name = reference_profile_store.name) THEN
			RAISE EXCEPTION 'reference profile "%" already exists', reference_profile_store.name
				USING ERRCODE = 'duplicate_object',
					  HINT = 'Refresh it with taxi_duration.refresh_reference_profile(), or drop it first.';
		END IF;
		INSERT INTO @extschema@.reference_profiles AS t (name, owner, reference, reference_query,
			search_path, columns, prediction, target, reference_rows, regression, monitor)
		VALUES (reference_profile_store.name, caller, reference_profile_store.reference,
			reference_profile_store.reference_query, reference_profile_store.search_path,
			reference_profile_store.columns, reference_profile_store.prediction,
			reference_profile_store.target, reference_profile_store.reference_rows,
			reference_profile_store.regression, reference_profile_store.monitor)
		RETURNING * INTO p;
	END IF;
	FOR i IN 1 .. cardinality(column_names) LOOP
		INSERT INTO @extschema@.reference_profile_columns (profile, position, name, type, kind,
			value_rows, missing, distinct_values, value_map)
		SELECT p.name, i, column_names[i], column_types[i]::regtype, kinds[i],
			   s.value_rows, s.missing, s.distinct_values, value_maps[i]
		FROM @extschema@.drift_value_map_summary(value_maps[i]) AS s;
	END LOOP;
	RETURN p;
END
$$;

-- Drop a profile, unless a monitor uses it.  Internal.
CREATE FUNCTION reference_profile_drop(caller regrole, profile_name text)
RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	users text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM @extschema@.reference_profiles WHERE name = profile_name) THEN
		RETURN false;
	END IF;
	-- a superuser may drop a profile whose owner was dropped
	IF NOT (SELECT rolsuper FROM pg_roles WHERE oid = caller) THEN
		PERFORM @extschema@.reference_profile_for_caller(caller, profile_name);
	END IF;
	SELECT p.monitor INTO users FROM @extschema@.reference_profiles AS p WHERE p.name = profile_name;
	IF users IS NOT NULL THEN
		RAISE EXCEPTION 'reference profile "%" belongs to monitor "%"', profile_name, users
			USING ERRCODE = 'dependent_objects_still_exist',
				  DETAIL = 'A monitor''s own profile is dropped with the monitor.',
				  HINT = 'Drop the monitor, or create it again with reference_profile => false.';
	END IF;
	SELECT string_agg(format('%I', m.name), ', ' ORDER BY m.name) INTO users
	FROM @extschema@.monitors AS m
	WHERE m.reference_query = 'profile:' || profile_name;
	IF users IS NOT NULL THEN
		RAISE EXCEPTION 'reference profile "%" is used by a monitor', profile_name
			USING ERRCODE = 'dependent_objects_still_exist',
				  DETAIL = format('Monitors using it: %s.', users),
				  HINT = 'Drop those monitors, or create them again with another reference.';
	END IF;
	DELETE FROM @extschema@.reference_profiles WHERE name = profile_name;
	RETURN true;
END
$$;

-- A profile as drift_report_sets() uses it, read in one snapshot as the
-- caller: row-level security shows only the profiles whose owner's
-- privileges the caller has.  Internal (SECURITY INVOKER).
CREATE FUNCTION reference_profile_read(profile_name text,
									   OUT column_names text[], OUT column_types oid[], OUT kinds text[],
									   OUT value_maps bytea[], OUT reference_rows bigint,
									   OUT regression bytea, OUT prediction text, OUT target text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NOT has_table_privilege('@extschema@.reference_profiles', 'SELECT') THEN
		RAISE EXCEPTION 'permission denied for reference profile "%"', profile_name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Reference profiles are for members of taxi_duration_admin, and each for the roles with its owner''s privileges.';
	END IF;
	SELECT array_agg(c.name ORDER BY c.position), array_agg(c.type::oid ORDER BY c.position),
		   array_agg(c.kind ORDER BY c.position), array_agg(c.value_map ORDER BY c.position),
		   p.reference_rows, p.regression, p.prediction, p.target
	INTO column_names, column_types, kinds, value_maps, reference_rows, regression, prediction, target
	FROM @extschema@.reference_profiles AS p
	JOIN @extschema@.reference_profile_columns AS c ON c.profile = p.name
	WHERE p.name = profile_name
	GROUP BY p.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'reference profile "%" does not exist', profile_name
			USING ERRCODE = 'undefined_object',
				  DETAIL = 'Or it belongs to a role whose privileges this role does not have.',
				  HINT = 'Create it with taxi_duration.create_reference_profile(); list them in taxi_duration.reference_profiles.';
	END IF;
END
$$;

-- Counts of a stored value map, for reference_profile_columns.
CREATE FUNCTION drift_value_map_summary(value_map bytea, OUT value_rows bigint, OUT missing bigint,
										OUT distinct_values bigint)
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION drift_value_map_summary(bytea) IS
	'The reference values counted, missing values and distinct values of a value map (drift_value_map())';

-- Store a monitor's own profile 'monitor:<monitor>' (scanned as the
-- monitor's owner from the monitor's definition), replacing the one it had.
-- `caller` must have the owner's privileges.  Internal.
CREATE FUNCTION monitor_profile_store(caller regrole, monitor_name text, column_names text[],
									  column_types oid[], kinds text[], value_maps bytea[],
									  reference_rows bigint, regression bytea)
RETURNS @extschema@.reference_profiles LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	m @extschema@.monitors;
BEGIN
	m := @extschema@.monitor_for_caller(caller, monitor_name);
	IF NOT m.reference_profile OR m.reference_query LIKE 'profile:%' THEN
		RAISE EXCEPTION 'monitor "%" does not profile its reference', monitor_name
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = CASE WHEN m.reference_profile
							   THEN format('Its reference is the reference profile "%s".', substr(m.reference_query, 9))
							   ELSE 'It was created with reference_profile => false: every window scans the reference.' END,
				  HINT = CASE WHEN m.reference_profile
							 THEN 'Refresh that profile with taxi_duration.refresh_reference_profile().'
							 ELSE 'Create it again with reference_profile => true to profile its reference.' END;
	END IF;
	DELETE FROM @extschema@.reference_profiles AS p WHERE p.monitor = monitor_name;
	RETURN @extschema@.reference_profile_store(m.owner, 'monitor:' || monitor_name, m.reference,
		m.reference_query, m.search_path, m.columns, m.prediction, m.target, column_names,
		column_types, kinds, value_maps, reference_rows, regression, false, monitor_name);
END
$$;

-- The C entry points (src/monitoring/profiles.c): they note the caller,
-- scan the reference as the profile's owner and store it as the
-- extension's owner.
CREATE FUNCTION create_reference_profile(name text, reference text,
										 columns text[] DEFAULT NULL,
										 prediction text DEFAULT NULL,
										 target text DEFAULT NULL)
RETURNS @extschema@.reference_profiles AS 'MODULE_PATHNAME', 'create_reference_profile' LANGUAGE C VOLATILE;
CREATE FUNCTION refresh_reference_profile(name text)
RETURNS @extschema@.reference_profiles AS 'MODULE_PATHNAME', 'refresh_reference_profile' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION drop_reference_profile(name text)
RETURNS boolean AS 'MODULE_PATHNAME', 'drop_reference_profile' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION refresh_monitor_reference(name text)
RETURNS @extschema@.reference_profiles AS 'MODULE_PATHNAME', 'refresh_monitor_reference' LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION create_reference_profile(text, text, text[], text, text) IS
	'Scan a reference set once (as the calling role, who owns the profile) and store what drift reports need from it; use it as drift_report(reference => ''profile:NAME'') or as a monitor''s reference';
COMMENT ON FUNCTION refresh_reference_profile(text) IS
	'Scan a profile''s reference set again, with its owner''s privileges, and replace the stored data';
COMMENT ON FUNCTION refresh_monitor_reference(text) IS
	'Scan a monitor''s reference again, with its owner''s privileges, into its profile ''monitor:<name>'' (after the reference data changed)';
COMMENT ON FUNCTION drop_reference_profile(text) IS
	'Drop a reference profile (refused while a monitor uses it)';

REVOKE ALL ON FUNCTION reference_profile_for_caller(regrole, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION reference_profile_store(regrole, text, regclass, text, text, text[], text, text, text[], oid[], text[], bytea[], bigint, bytea, boolean, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION reference_profile_drop(regrole, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION create_reference_profile(text, text, text[], text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION refresh_reference_profile(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION drop_reference_profile(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION monitor_profile_store(regrole, text, text[], oid[], text[], bytea[], bigint, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION refresh_monitor_reference(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION refresh_monitor_reference(text) TO taxi_duration_admin;
GRANT EXECUTE ON FUNCTION create_reference_profile(text, text, text[], text, text) TO taxi_duration_admin;
GRANT EXECUTE ON FUNCTION refresh_reference_profile(text) TO taxi_duration_admin;
GRANT EXECUTE ON FUNCTION drop_reference_profile(text) TO taxi_duration_admin;
GRANT SELECT ON reference_profiles, reference_profile_columns TO taxi_duration_admin;
