
-- ===================================================================
-- sql/install/drift_report.sql — drift_report(): Evidently's data-drift
-- and regression report over two sets, in one parallel query
-- (part of the extension script).
--
-- drift_report() itself is C (src/drift_report.c): it reads the caller's
-- sets (a relation name or one SELECT query) with the caller's search_path
-- and hands them, as SQL that means the same under any search_path, to
-- drift_report_sets() below.  Every function here pins its search_path and
-- qualifies every name; the only SQL that runs with the caller's
-- search_path is the caller's own query, inside the one statement
-- drift_report_sets() builds, as the caller (SECURITY INVOKER).
-- ===================================================================

-- The kind of a column type for Evidently's type inference, or NULL when
-- drift tests do not apply to it (dates, json, arrays...).
CREATE FUNCTION drift_column_kind(type_oid oid)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE
		WHEN type_oid OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog.float4'::pg_catalog.regtype, 'pg_catalog.float8'::pg_catalog.regtype, 'pg_catalog.numeric'::pg_catalog.regtype]::pg_catalog.oid[]) THEN 'float'
		WHEN type_oid OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog.int2'::pg_catalog.regtype, 'pg_catalog.int4'::pg_catalog.regtype, 'pg_catalog.int8'::pg_catalog.regtype]::pg_catalog.oid[]) THEN 'integer'
		WHEN type_oid OPERATOR(pg_catalog.=) 'pg_catalog.bool'::pg_catalog.regtype::pg_catalog.oid THEN 'boolean'
		WHEN type_oid OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog.text'::pg_catalog.regtype, 'pg_catalog.varchar'::pg_catalog.regtype, 'pg_catalog.bpchar'::pg_catalog.regtype,
						  'pg_catalog.name'::pg_catalog.regtype, 'pg_catalog.char'::pg_catalog.regtype]::pg_catalog.oid[]) THEN 'text'
	END
$$;

-- Per-column options for column_drift(): report-wide stattest / threshold /
-- nullable_integers, then the column's own entry in options->'columns'.
CREATE FUNCTION drift_column_options(options jsonb, column_name text, kind text)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
	SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
			'kind', kind,
			'stattest', options OPERATOR(pg_catalog.->) 'stattest',
			'threshold', options OPERATOR(pg_catalog.->) 'threshold',
			'nullable_integers', options OPERATOR(pg_catalog.->) 'nullable_integers',
			'histogram', coalesce(options OPERATOR(pg_catalog.->) 'histograms', 'false'::pg_catalog.jsonb)))
		OPERATOR(pg_catalog.||) coalesce(options OPERATOR(pg_catalog.->) 'columns' OPERATOR(pg_catalog.->) column_name, '{}'::pg_catalog.jsonb)
$$;

-- Raise column_drift()'s error for these options, without rows.  Internal.
CREATE FUNCTION drift_column_options_check(options jsonb)
RETURNS void AS 'MODULE_PATHNAME', 'drift_column_options_check' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Levenshtein distance between two names, ignoring case: the nearest
-- column is suggested for a misspelt one.
CREATE FUNCTION drift_name_distance(a text, b text)
RETURNS integer LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	la CONSTANT integer := length(a);
	lb CONSTANT integer := length(b);
	prev integer[];
	cur integer[];
	i integer;
	j integer;
BEGIN
	a := lower(a);
	b := lower(b);
	prev := ARRAY(SELECT generate_series(0, lb));
	FOR i IN 1 .. la LOOP
		cur := ARRAY[i];
		FOR j IN 1 .. lb LOOP
			cur := cur || least(prev[j + 1] + 1, cur[j] + 1,
								prev[j] + CASE WHEN substr(a, i, 1) = substr(b, j, 1) THEN 0 ELSE 1 END);
		END LOOP;
		prev := cur;
	END LOOP;
	RETURN prev[lb + 1];
END
$$;

-- Check a report's options before any set is read: known keys, JSON types
-- and values, and per-column entries that name one of the report's
-- columns (`report_columns`) and hold known options.  A typo is an error,
-- never a silent default.  drift_report() and create_monitor() call it.
CREATE FUNCTION drift_report_check_options(options jsonb, report_columns text[])
RETURNS void LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	known_options CONSTANT text[] := ARRAY['drift_share', 'stattest', 'threshold', 'columns', 'histograms',
											'nullable_integers'];
	column_options CONSTANT text[] := ARRAY['stattest', 'threshold', 'type', 'histogram', 'nullable_integers'];
	-- the JSON type each option takes ('null' resets it to the default)
	option_types CONSTANT jsonb := '{"drift_share": ["number"], "stattest": ["string", "null"],
		"threshold": ["number", "null"], "columns": ["object"], "histograms": ["boolean"],
		"histogram": ["boolean"], "type": ["string", "null"], "nullable_integers": ["string"]}';
	examples CONSTANT jsonb := '{"drift_share": 0.5, "stattest": "psi", "threshold": 0.2,
		"columns": {"trip_distance": {"stattest": "psi", "threshold": 0.2}}, "histograms": true,
		"histogram": true, "type": "num", "nullable_integers": "integer"}';
	k text;
	v jsonb;
	ck text;
	cv jsonb;
	nearest text;
	message text;
	detail text;
BEGIN
	IF options IS NULL THEN
		RETURN;
	END IF;
	report_columns := coalesce(report_columns, '{}');
	IF jsonb_typeof(options) <> 'object' THEN
		RAISE EXCEPTION 'report options must be a jsonb object'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example ''{"drift_share": 0.5, "columns": {"trip_distance": {"stattest": "psi"}}}''.';
	END IF;
	FOR k, v IN SELECT e.key, e.value FROM jsonb_each(options) AS e ORDER BY e.key LOOP
		IF k <> ALL (known_options) THEN
			RAISE EXCEPTION 'unknown report option "%"', k
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Options are drift_share, stattest, threshold, histograms, nullable_integers and columns (per-column stattest, threshold, type, histogram and nullable_integers).';
		END IF;
		IF NOT (option_types->k) ? jsonb_typeof(v) THEN
			RAISE EXCEPTION 'report option "%" must be of JSON type %, not %', k,
							array_to_string(ARRAY(SELECT jsonb_array_elements_text(option_types->k)), ' or '),
							jsonb_typeof(v)
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = format('For example %s.', jsonb_build_object(k, examples->k));
		END IF;
	END LOOP;
	IF options ? 'drift_share' AND NOT (options->>'drift_share')::double precision BETWEEN 0 AND 1 THEN
		RAISE EXCEPTION 'report option "drift_share" must be between 0 and 1'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('It is %s.', options->'drift_share');
	END IF;
	-- stattest, threshold, nullable_integers for every column: checked as column_drift() checks them
	PERFORM @extschema@.drift_column_options_check(
		jsonb_strip_nulls(jsonb_build_object('stattest', options->'stattest', 'threshold', options->'threshold',
											 'nullable_integers', options->'nullable_integers')));

	FOR k, v IN SELECT e.key, e.value FROM jsonb_each(coalesce(options->'columns', '{}')) AS e ORDER BY e.key LOOP
		IF k <> ALL (report_columns) THEN
			SELECT c INTO nearest FROM unnest(report_columns) AS c
			WHERE @extschema@.drift_name_distance(k, c) <= greatest(2, length(k) / 3)
			ORDER BY @extschema@.drift_name_distance(k, c), c LIMIT 1;
			RAISE EXCEPTION 'unknown column "%" in report option "columns"', k
				USING ERRCODE = 'undefined_column',
					  DETAIL = format('The report''s columns are %s.', array_to_string(report_columns, ', ')),
					  HINT = CASE WHEN nearest IS NOT NULL THEN format('Did you mean "%s"?', nearest)
								  ELSE 'Name one of the report''s columns, or pass the column in "columns".' END;
		END IF;
		IF jsonb_typeof(v) <> 'object' THEN
			RAISE EXCEPTION 'the options of column "%" must be a jsonb object, not %', k, jsonb_typeof(v)
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'For example {"stattest": "psi", "threshold": 0.2}.';
		END IF;
		FOR ck, cv IN SELECT e.key, e.value FROM jsonb_each(v) AS e ORDER BY e.key LOOP
			IF ck <> ALL (column_options) THEN
				SELECT o INTO nearest FROM unnest(column_options) AS o
				WHERE @extschema@.drift_name_distance(ck, o) <= greatest(2, length(ck) / 3)
				ORDER BY @extschema@.drift_name_distance(ck, o), o LIMIT 1;
				RAISE EXCEPTION 'unknown option "%" for column "%"', ck, k
					USING ERRCODE = 'invalid_parameter_value',
						  HINT = CASE WHEN nearest IS NOT NULL THEN format('Did you mean "%s"? ', nearest) ELSE '' END
								 || 'A column''s options are stattest, threshold, type, histogram and nullable_integers.';
			END IF;
			IF NOT (option_types->ck) ? jsonb_typeof(cv) THEN
				RAISE EXCEPTION 'option "%" of column "%" must be of JSON type %, not %', ck, k,
								array_to_string(ARRAY(SELECT jsonb_array_elements_text(option_types->ck)), ' or '),
								jsonb_typeof(cv)
					USING ERRCODE = 'invalid_parameter_value',
						  HINT = format('For example %s.', jsonb_build_object(ck, examples->ck));
			END IF;
		END LOOP;
		BEGIN
			PERFORM @extschema@.drift_column_options_check(v);
		EXCEPTION WHEN invalid_parameter_value THEN
			GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
			RAISE EXCEPTION '% for column "%"', message, k
				USING ERRCODE = 'invalid_parameter_value', DETAIL = detail;
		END;
	END LOOP;
END
$$;

CREATE FUNCTION drift_report(reference text, current text,
							 columns text[] DEFAULT NULL,
							 prediction text DEFAULT NULL,
							 target text DEFAULT NULL,
							 options jsonb DEFAULT '{}')
RETURNS jsonb AS 'MODULE_PATHNAME', 'drift_report' LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION drift_report(text, text, text[], text, text, jsonb) IS
	'Evidently''s data-drift report (per-column test, score, threshold, drifted; share of drifted columns; dataset drift) and regression quality of a current set against a reference set (each a table or view name or a SELECT query, read as the caller)';

-- The report over two sets already read by drift_report(): each set's SQL
-- (a qualified relation or a checked SELECT), its column names and types,
-- and the search_path its query was written for.  Internal: call
-- drift_report().  It runs as its caller, so it can never read more than
-- the caller can.
CREATE FUNCTION drift_report_sets(reference_sql text, reference_columns text[], reference_types oid[],
								  current_sql text, current_columns text[], current_types oid[],
								  query_search_path text,
								  columns text[], prediction text, target text, options jsonb,
								  reference_profile text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	drift_share double precision;
	cols text[];
	kinds text[];
	col text;
	kind text;
	type_oid oid;
	pos integer;
	selects text[] := '{}';
	value_expr text;
	aggs text[] := '{}';
	query text;
	per_column jsonb;
	regression jsonb;
	counts jsonb;
	result jsonb;
	n_drifted integer := 0;
	n_columns integer;
	skipped jsonb;
	i integer;
	col_options jsonb;
	-- a stored reference profile (profiles.sql): its columns, maps, counts
	profile_kinds text[];
	profile_maps bytea[];
	profile_rows bigint;
	profile_regression bytea;
	profile_prediction text;
	profile_target text;
	profile_pos integer;
	profile_aggs text[] := '{}';
BEGIN
	options := coalesce(options, '{}');
	-- A profile stands for the reference set: its columns and types are the
	-- profiled ones, its maps and regression state were read as the caller.
	IF reference_profile IS NOT NULL THEN
		SELECT r.column_names, r.column_types, r.kinds, r.value_maps, r.reference_rows,
			   r.regression, r.prediction, r.target
		INTO reference_columns, reference_types, profile_kinds, profile_maps, profile_rows,
			 profile_regression, profile_prediction, profile_target
		FROM @extschema@.reference_profile_read(reference_profile) AS r;
		IF prediction IS NOT NULL AND target IS NOT NULL
		   AND (prediction IS DISTINCT FROM profile_prediction OR target IS DISTINCT FROM profile_target) THEN
			RAISE EXCEPTION 'reference profile "%" has no regression metrics of prediction "%" against target "%"',
							reference_profile, prediction, target
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = CASE WHEN profile_prediction IS NULL THEN 'It was created without a prediction and a target.'
							   ELSE format('It was created with prediction "%s" and target "%s".', profile_prediction, profile_target) END,
					  HINT = 'Create a profile with the same prediction and target as the report.';
		END IF;
	END IF;

	-- The columns: given, or every column both sets share with a type drift
	-- tests apply to (prediction and target included, as in Evidently).
	IF columns IS NULL THEN
		SELECT array_agg(r.name ORDER BY r.ord) INTO cols
		FROM unnest(reference_columns, reference_types) WITH ORDINALITY AS r(name, type_oid, ord)
		WHERE r.name = ANY (current_columns)
		  AND @extschema@.drift_column_kind(r.type_oid) IS NOT NULL;
	ELSE
		cols := columns;
		IF prediction IS NOT NULL AND NOT prediction = ANY (cols) THEN
			cols := cols || prediction;
		END IF;
		IF target IS NOT NULL AND NOT target = ANY (cols) THEN
			cols := cols || target;
		END IF;
	END IF;
	IF cols IS NULL OR cardinality(cols) = 0 THEN
		RAISE EXCEPTION 'no column to compare'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'The reference and current sets share no column of a numeric, boolean or text type.',
				  HINT = 'Pass the columns to compare.';
	END IF;

	-- the options, before any set is read: a typo never becomes a silent default
	PERFORM @extschema@.drift_report_check_options(options, cols);
	drift_share := coalesce((options->>'drift_share')::double precision, 0.5);

	FOREACH col IN ARRAY cols LOOP
		IF col IS NULL OR array_position(reference_columns, col) IS NULL THEN
			RAISE EXCEPTION 'column "%" is not in the reference set', col
				USING ERRCODE = 'undefined_column';
		END IF;
		pos := array_position(current_columns, col);
		IF pos IS NULL THEN
			RAISE EXCEPTION 'column "%" is not in the current set', col
				USING ERRCODE = 'undefined_column';
		END IF;
		-- Evidently types a column from the current window's dtype.
		type_oid := current_types[pos];
		kind := @extschema@.drift_column_kind(type_oid);
		IF kind IS NULL THEN
			RAISE EXCEPTION 'column "%" has type %, which drift tests do not apply to', col, format_type(type_oid, NULL)
				USING ERRCODE = 'datatype_mismatch',
					  HINT = 'Compare numeric, boolean or text columns; cast others in a query.';
		END IF;
		kinds := kinds || kind;
		value_expr := CASE kind
			WHEN 'text' THEN format('%I::pg_catalog.text', col)
			WHEN 'boolean' THEN format('%I::pg_catalog.int4::pg_catalog.float8', col)
			ELSE format('%I::pg_catalog.float8', col) END;
		-- Both sets select the value already cast, so that the UNION ALL
		-- branches have one type per column even when the tables differ
		-- (integer here, bigint there): a parallel plan needs that.
		selects := selects || format('%s AS %I', value_expr, col);
		col_options := @extschema@.drift_column_options(options, col, kind);
		aggs := aggs || format('%L, @extschema@.column_drift(%I, is_reference, %L::pg_catalog.jsonb)',
							   col, col, col_options);
		-- With a profile: the current window's map, merged with the stored one.
		IF reference_profile IS NOT NULL THEN
			profile_pos := array_position(reference_columns, col);
			IF (profile_kinds[profile_pos] = 'text') <> (kind = 'text') THEN
				RAISE EXCEPTION 'column "%" is % in the current set but % in reference profile "%"',
								col, format_type(type_oid, NULL), format_type(reference_types[profile_pos], NULL),
								reference_profile
					USING ERRCODE = 'datatype_mismatch',
						  HINT = 'Cast the column in the current set''s query, or profile a reference with the same types.';
			END IF;
			profile_aggs := profile_aggs || format(
				'%L, @extschema@.column_drift_from_maps($1[%s], @extschema@.drift_value_map(%I, false), %L::pg_catalog.jsonb)',
				col, profile_pos, col, col_options);
		END IF;
	END LOOP;

	-- Every name below is qualified: the statement runs with the search_path
	-- the sets were written for, and only their own names may depend on it.
	-- The newline before each closing parenthesis ends a trailing comment.
	query := format($q$
		WITH both_sets AS (
			SELECT %1$s, true AS is_reference FROM (%5$s
				) AS reference_set
			UNION ALL
			SELECT %1$s, false AS is_reference FROM (%6$s
				) AS current_set)
		SELECT %2$s,
			   pg_catalog.jsonb_build_object(
				 'current', %3$s,
				 'reference', %4$s),
			   pg_catalog.jsonb_build_object(
				 'reference_rows', pg_catalog.count(*) FILTER (WHERE is_reference),
				 'current_rows', pg_catalog.count(*) FILTER (WHERE NOT is_reference))
		FROM both_sets$q$,
		array_to_string(selects, ', '),
		-- jsonb_build_object takes at most 100 arguments: 50 columns per call
		(SELECT string_agg('pg_catalog.jsonb_build_object(' || array_to_string(aggs[g:g + 49], ', ') || ')',
						   ' OPERATOR(pg_catalog.||) ')
		 FROM generate_series(1, cardinality(aggs), 50) AS g),
		CASE WHEN prediction IS NOT NULL AND target IS NOT NULL THEN
			format('@extschema@.regression_quality(%I::pg_catalog.float8, %I::pg_catalog.float8, ''replace'') FILTER (WHERE NOT is_reference)', prediction, target)
		ELSE 'NULL::pg_catalog.jsonb' END,
		CASE WHEN prediction IS NOT NULL AND target IS NOT NULL THEN
			format('@extschema@.regression_quality(%I::pg_catalog.float8, %I::pg_catalog.float8, ''drop'') FILTER (WHERE is_reference)', prediction, target)
		ELSE 'NULL::pg_catalog.jsonb' END,
		E'\n' || reference_sql || E'\n', E'\n' || current_sql || E'\n');
	IF reference_profile IS NOT NULL THEN
		-- only the current set is scanned; $1 the stored maps, $2 the stored
		-- regression state, $3 the reference's row count
		query := format($q$
			SELECT %2$s,
				   pg_catalog.jsonb_build_object(
					 'current', %3$s,
					 'reference', %4$s),
				   pg_catalog.jsonb_build_object(
					 'reference_rows', $3,
					 'current_rows', pg_catalog.count(*))
			FROM (SELECT %1$s FROM (%5$s
				) AS current_set) AS current_values$q$,
			array_to_string(selects, ', '),
			(SELECT string_agg('pg_catalog.jsonb_build_object(' || array_to_string(profile_aggs[g:g + 49], ', ') || ')',
							   ' OPERATOR(pg_catalog.||) ')
			 FROM generate_series(1, cardinality(profile_aggs), 50) AS g),
			CASE WHEN prediction IS NOT NULL AND target IS NOT NULL THEN
				format('@extschema@.regression_quality(%I::pg_catalog.float8, %I::pg_catalog.float8, ''replace'')', prediction, target)
			ELSE 'NULL::pg_catalog.jsonb' END,
			CASE WHEN prediction IS NOT NULL AND target IS NOT NULL THEN
				'@extschema@.regression_quality_from_state($2)'
			ELSE 'NULL::pg_catalog.jsonb' END,
			E'\n' || current_sql || E'\n');
	END IF;
	PERFORM pg_catalog.set_config('search_path', coalesce(query_search_path, ''), true);
	IF reference_profile IS NOT NULL THEN
		EXECUTE query INTO per_column, regression, counts
			USING profile_maps, profile_regression, profile_rows;
	ELSE
		EXECUTE query INTO per_column, regression, counts;
	END IF;
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	IF (counts->>'reference_rows')::bigint = 0 THEN
		RAISE EXCEPTION 'the reference set is empty'
			USING ERRCODE = 'no_data_found',
				  HINT = 'Drift is measured against a reference; give a set with rows.';
	END IF;
	IF (counts->>'current_rows')::bigint = 0 THEN
		RAISE EXCEPTION 'the current set is empty'
			USING ERRCODE = 'no_data_found';
	END IF;

	-- A column that cannot be tested (empty in a window, free text) is
	-- reported with its error and left out of the share (Evidently would
	-- abort the whole report).
	SELECT count(*) FILTER (WHERE NOT v ? 'error'),
		   count(*) FILTER (WHERE (v->>'drifted')::boolean),
		   coalesce(jsonb_agg(k ORDER BY k) FILTER (WHERE v ? 'error'), '[]')
	INTO n_columns, n_drifted, skipped
	FROM jsonb_each(per_column) AS e(k, v);
	IF n_columns = 0 THEN
		RAISE EXCEPTION 'no column could be tested'
			USING ERRCODE = 'no_data_found',
				  DETAIL = format('Every column is empty in a window or its test could not be computed: %s.', per_column::text),
				  HINT = 'Check the sets'' filters; each column''s "error" says what stopped its test.';
	END IF;

	result := jsonb_build_object(
		'columns', per_column,
		'column_order', to_jsonb(cols),
		'skipped_columns', skipped,
		'number_of_columns', n_columns,
		'number_of_drifted_columns', n_drifted,
		'share_of_drifted_columns', n_drifted::double precision / n_columns,
		'drift_share', drift_share,
		'dataset_drift', n_drifted::double precision / n_columns >= drift_share)
		|| counts;
	IF prediction IS NOT NULL AND target IS NOT NULL THEN
		result := result || jsonb_build_object('prediction', prediction, 'target', target,
											   'regression', regression);
	END IF;
	RETURN result;
END
$$;

COMMENT ON FUNCTION drift_report_sets(text, text[], oid[], text, text[], oid[], text, text[], text, text, jsonb, text) IS
	'Internal: the report over two sets read by drift_report()';
