
-- ===================================================================
-- sql/install/drift_report.sql — drift_report(): Evidently's data-drift
-- and regression report over two sets, in one parallel query
-- (part of the extension script).
-- ===================================================================

-- The kind of a column type for Evidently's type inference, or NULL when
-- drift tests do not apply to it (dates, json, arrays...).
CREATE FUNCTION drift_column_kind(type_oid oid)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE
		WHEN type_oid IN ('float4'::regtype, 'float8'::regtype, 'numeric'::regtype) THEN 'float'
		WHEN type_oid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) THEN 'integer'
		WHEN type_oid = 'bool'::regtype THEN 'boolean'
		WHEN type_oid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype,
						  'name'::regtype, 'char'::regtype) THEN 'text'
	END
$$;

-- A temporary view over a set given as a table or view name, or a query.
CREATE FUNCTION drift_set_view(view_name text, source text, what text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	rel regclass;
BEGIN
	IF source IS NULL OR btrim(source) = '' THEN
		RAISE EXCEPTION 'the % set is missing', what
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Give a table or view name, or a query.';
	END IF;
	BEGIN
		rel := to_regclass(source);
	EXCEPTION WHEN invalid_name OR syntax_error THEN
		rel := NULL;
	END;
	IF to_regclass('pg_temp.' || quote_ident(view_name)) IS NOT NULL THEN
		EXECUTE format('DROP VIEW pg_temp.%I', view_name);
	END IF;
	IF rel IS NOT NULL THEN
		EXECUTE format('CREATE TEMPORARY VIEW %I AS SELECT * FROM %s', view_name, rel);
		RETURN;
	END IF;
	BEGIN
		EXECUTE format('CREATE TEMPORARY VIEW %I AS %s', view_name, source);
	EXCEPTION WHEN syntax_error OR undefined_table OR undefined_column OR undefined_function THEN
		RAISE EXCEPTION 'invalid % set', what
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('"%s" is neither a table or view this role can see nor a valid query: %s.',
								  left(source, 200), SQLERRM),
				  HINT = 'Give a table or view name (schema-qualified if needed), or a SELECT query.';
	END;
END
$$;

-- Per-column options for column_drift(): report-wide stattest / threshold,
-- then the column's own entry in options->'columns'.
CREATE FUNCTION drift_column_options(options jsonb, column_name text, kind text)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object(
			'kind', kind,
			'stattest', options->'stattest',
			'threshold', options->'threshold',
			'histogram', coalesce(options->'histograms', 'false'::jsonb)))
		|| coalesce(options->'columns'->column_name, '{}'::jsonb)
$$;

CREATE FUNCTION drift_report(reference text, current text,
							 columns text[] DEFAULT NULL,
							 prediction text DEFAULT NULL,
							 target text DEFAULT NULL,
							 options jsonb DEFAULT '{}')
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	known_options CONSTANT text[] := ARRAY['drift_share', 'stattest', 'threshold', 'columns', 'histograms'];
	bad_option text;
	drift_share double precision;
	cols text[];
	kinds text[];
	col text;
	kind text;
	type_oid oid;
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
BEGIN
	options := coalesce(options, '{}');
	IF jsonb_typeof(options) <> 'object' THEN
		RAISE EXCEPTION 'report options must be a jsonb object'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example ''{"drift_share": 0.5, "columns": {"trip_distance": {"stattest": "psi"}}}''.';
	END IF;
	SELECT k INTO bad_option FROM jsonb_object_keys(options) AS k WHERE k <> ALL (known_options) LIMIT 1;
	IF bad_option IS NOT NULL THEN
		RAISE EXCEPTION 'unknown report option "%"', bad_option
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Options are drift_share, stattest, threshold, histograms and columns (per-column stattest, threshold and type).';
	END IF;
	drift_share := coalesce((options->>'drift_share')::double precision, 0.5);
	IF options ? 'columns' AND jsonb_typeof(options->'columns') <> 'object' THEN
		RAISE EXCEPTION 'report option "columns" must be an object'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Map column names to options, e.g. {"trip_distance": {"stattest": "psi", "threshold": 0.2}}.';
	END IF;

	PERFORM @extschema@.drift_set_view('td_drift_reference', reference, 'reference');
	PERFORM @extschema@.drift_set_view('td_drift_current', current, 'current');

	-- The columns: given, or every column both sets share with a type drift
	-- tests apply to (prediction and target included, as in Evidently).
	IF columns IS NULL THEN
		SELECT array_agg(r.attname ORDER BY r.attnum) INTO cols
		FROM pg_attribute r
		JOIN pg_attribute c ON c.attrelid = 'pg_temp.td_drift_current'::regclass
						   AND c.attname = r.attname AND c.attnum > 0
		WHERE r.attrelid = 'pg_temp.td_drift_reference'::regclass
		  AND r.attnum > 0 AND NOT r.attisdropped
		  AND @extschema@.drift_column_kind(r.atttypid) IS NOT NULL;
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

	FOREACH col IN ARRAY cols LOOP
		FOR i IN 1..2 LOOP
			SELECT atttypid INTO type_oid FROM pg_attribute
			WHERE attrelid = (CASE i WHEN 1 THEN 'pg_temp.td_drift_reference'
									 ELSE 'pg_temp.td_drift_current' END)::regclass
			  AND attname = col AND attnum > 0 AND NOT attisdropped;
			IF NOT FOUND THEN
				RAISE EXCEPTION 'column "%" is not in the % set', col,
					CASE i WHEN 1 THEN 'reference' ELSE 'current' END
					USING ERRCODE = 'undefined_column';
			END IF;
		END LOOP;
		kind := @extschema@.drift_column_kind(type_oid);
		IF kind IS NULL THEN
			RAISE EXCEPTION 'column "%" has type %, which drift tests do not apply to', col, format_type(type_oid, NULL)
				USING ERRCODE = 'datatype_mismatch',
					  HINT = 'Compare numeric, boolean or text columns; cast others in a query.';
		END IF;
		kinds := kinds || kind;
		value_expr := CASE kind
			WHEN 'text' THEN format('%I::text', col)
			WHEN 'boolean' THEN format('%I::integer::double precision', col)
			ELSE format('%I::double precision', col) END;
		-- Both sets select the value already cast, so that the UNION ALL
		-- branches have one type per column even when the tables differ
		-- (integer here, bigint there): a parallel plan needs that.
		selects := selects || format('%s AS %I', value_expr, col);
		aggs := aggs || format('%L, @extschema@.column_drift(%I, is_reference, %L::jsonb)',
							   col, col,
							   @extschema@.drift_column_options(options, col, kind));
	END LOOP;

	query := format($q$
		WITH both_sets AS (
			SELECT %1$s, true AS is_reference FROM pg_temp.td_drift_reference
			UNION ALL
			SELECT %1$s, false AS is_reference FROM pg_temp.td_drift_current)
		SELECT %2$s,
			   jsonb_build_object(
				 'current', %3$s,
				 'reference', %4$s),
			   jsonb_build_object(
				 'reference_rows', count(*) FILTER (WHERE is_reference),
				 'current_rows', count(*) FILTER (WHERE NOT is_reference))
		FROM both_sets$q$,
		array_to_string(selects, ', '),
		-- jsonb_build_object takes at most 100 arguments: 50 columns per call
		(SELECT string_agg('jsonb_build_object(' || array_to_string(aggs[g:g + 49], ', ') || ')', ' || ')
		 FROM generate_series(1, cardinality(aggs), 50) AS g),
		CASE WHEN prediction IS NOT NULL AND target IS NOT NULL THEN
			format('@extschema@.regression_quality(%I::double precision, %I::double precision, ''replace'') FILTER (WHERE NOT is_reference)', prediction, target)
		ELSE 'NULL::jsonb' END,
		CASE WHEN prediction IS NOT NULL AND target IS NOT NULL THEN
			format('@extschema@.regression_quality(%I::double precision, %I::double precision, ''drop'') FILTER (WHERE is_reference)', prediction, target)
		ELSE 'NULL::jsonb' END);
	EXECUTE query INTO per_column, regression, counts;

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
				  DETAIL = format('Every column is empty in a window or free text: %s.', per_column::text),
				  HINT = 'Check the sets'' filters, or force type cat on text columns.';
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
	DROP VIEW pg_temp.td_drift_current;
	DROP VIEW pg_temp.td_drift_reference;
	RETURN result;
END
$$;

COMMENT ON FUNCTION drift_report(text, text, text[], text, text, jsonb) IS
	'Evidently''s data-drift report (per-column test, score, threshold, drifted; share of drifted columns; dataset drift) and regression quality of a current set against a reference set';
