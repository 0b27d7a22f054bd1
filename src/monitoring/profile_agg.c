/*
 * profile_agg.c — the aggregate states a reference profile stores, and the
 * verdicts computed from them (sql/install/profiles.sql, docs/monitoring.md
 * "Reference profiles").
 *
 * A profile keeps, per column, the exact value map of the reference window
 * (lib/stats tds_value_map bytes) and the reference's regression
 * accumulator (tds_regression_acc bytes).  A report against the profile
 * scans only the current window, with the same parallel aggregate as a
 * rescan, and merges the stored map into the final state: the merged map
 * holds the same counts as the map a rescan builds, and every statistic is
 * computed from the sorted keys and counts, so the verdict is the same to
 * the bit.
 *
 *   drift_value_map(value, is_reference) → bytea   the map (aggregate)
 *   column_drift_from_maps(reference, current, options) → jsonb
 *   regression_state(prediction, target, zero_handling) → bytea (aggregate)
 *   regression_quality_from_state(state) → jsonb
 *
 * The transition, combine, serialize and deserialize functions are the
 * drift and regression aggregates' own (drift_agg.c, regression_agg.c).
 * Any byte string is safe to decode: the map decoder checks every length
 * (fuzz_value_map), the regression state is plain numbers of a fixed size.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "monitoring/drift_agg.h"

PG_FUNCTION_INFO_V1(drift_value_map_final);
PG_FUNCTION_INFO_V1(column_drift_from_maps);
PG_FUNCTION_INFO_V1(regression_state_final);
PG_FUNCTION_INFO_V1(regression_quality_from_state);

/* The final functions these reuse (drift_column.c, regression_agg.c). */
extern Datum drift_column_final(PG_FUNCTION_ARGS);
extern Datum regression_final(PG_FUNCTION_ARGS);

/* A value map as bytea (the library's self-describing format). */
static bytea *
td_map_bytes(const tds_value_map *map)
{
	char	 *bytes;
	size_t	  len;
	tds_error error;
	bytea	 *out;

	if (tds_value_map_serialize(map, &bytes, &len, &error) != TDS_OK)
		TdReportStatsError(&error);
	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("too many distinct values for a stored value map"),
				errdetail("The value counts take %zu bytes; a bytea holds at most 1 GB.", len),
				errhint("Round the column's values, or leave the column out of the profile."));
	out = palloc(VARHDRSZ + len);
	SET_VARSIZE(out, VARHDRSZ + len);
	memcpy(VARDATA(out), bytes, len);
	pfree(bytes);
	return out;
}

/* drift_value_map's final function: the state's map as bytea. */
Datum
drift_value_map_final(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(td_map_bytes(((TdDriftState *) PG_GETARG_POINTER(0))->map));
}

static tds_value_map *
td_map_from_bytes(bytea *in, const char *what)
{
	tds_value_map *map;
	tds_error	   error;

	if (tds_value_map_deserialize(VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in), &map,
								  &error) != TDS_OK)
		ereport(ERROR,
				errcode(ERRCODE_DATA_CORRUPTED),
				errmsg("invalid %s value map", what),
				errdetail("%s", error.detail[0] ? error.detail : error.message),
				errhint("Build value maps with taxi_duration.drift_value_map(); refresh a stored profile with taxi_duration.refresh_reference_profile()."));
	return map;
}

/*
 * column_drift_from_maps(reference bytea, current bytea, options jsonb) →
 * jsonb: column_drift()'s verdict on the two maps merged.  A NULL map is an
 * empty one (the aggregate over no row).
 */
Datum
column_drift_from_maps(PG_FUNCTION_ARGS)
{
	TdDriftState   state;
	tds_value_map *current;
	tds_error	   error;
	bool		   text_keys;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (!PG_ARGISNULL(0))
		state.map = td_map_from_bytes(PG_GETARG_BYTEA_PP(0), "reference");
	else
		state.map = NULL;
	current = PG_ARGISNULL(1) ? NULL : td_map_from_bytes(PG_GETARG_BYTEA_PP(1), "current");
	if (state.map == NULL)
	{
		state.map = current;
		current = NULL;
	}
	if (current != NULL &&
		tds_value_map_has_text_keys(current) != tds_value_map_has_text_keys(state.map))
		ereport(ERROR,
				errcode(ERRCODE_DATATYPE_MISMATCH),
				errmsg("the reference and current value maps are of different kinds"),
				errdetail("One counts text values, the other numbers."),
				errhint("Cast the column the same way in both windows."));
	if (current != NULL && tds_value_map_merge(state.map, current, &error) != TDS_OK)
		TdReportStatsError(&error);

	text_keys = tds_value_map_has_text_keys(state.map);
	TdDriftOptionsDefault(&state.options, text_keys);
	if (!PG_ARGISNULL(2))
		TdDriftParseOptions(PG_GETARG_JSONB_P(2), &state.options);
	if (text_keys)
		state.options.kind = TD_KIND_TEXT;
	else if (state.options.kind == TD_KIND_TEXT)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid drift option \"kind\""),
				errdetail("A number column cannot be of kind text."));
	return DirectFunctionCall1(drift_column_final, PointerGetDatum(&state));
}

/* regression_state's final function: the accumulator's bytes. */
Datum
regression_state_final(PG_FUNCTION_ARGS)
{
	bytea *out;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	out = palloc(VARHDRSZ + sizeof(tds_regression_acc));
	SET_VARSIZE(out, VARHDRSZ + sizeof(tds_regression_acc));
	memcpy(VARDATA(out), PG_GETARG_POINTER(0), sizeof(tds_regression_acc));
	PG_RETURN_BYTEA_P(out);
}

/* regression_quality_from_state(state bytea) → jsonb */
Datum
regression_quality_from_state(PG_FUNCTION_ARGS)
{
	bytea			  *in = PG_GETARG_BYTEA_PP(0);
	tds_regression_acc acc;

	if (VARSIZE_ANY_EXHDR(in) != sizeof(tds_regression_acc))
		ereport(ERROR,
				errcode(ERRCODE_DATA_CORRUPTED),
				errmsg("invalid regression state"),
				errdetail("The state is %zu bytes long, not %zu: it was made by another build of the extension, or is not a regression state.",
						  (size_t) VARSIZE_ANY_EXHDR(in), sizeof(tds_regression_acc)),
				errhint("Refresh a stored profile with taxi_duration.refresh_reference_profile()."));
	memcpy(&acc, VARDATA_ANY(in), sizeof(tds_regression_acc));
	if (acc.zero_handling != TDS_ZERO_REPLACE && acc.zero_handling != TDS_ZERO_DROP &&
		acc.zero_handling != TDS_ZERO_NONE)
		ereport(ERROR,
				errcode(ERRCODE_DATA_CORRUPTED),
				errmsg("invalid regression state"),
				errdetail("Its zero handling is %d.", (int) acc.zero_handling));
	return DirectFunctionCall1(regression_final, PointerGetDatum(&acc));
}

PG_FUNCTION_INFO_V1(drift_value_map_summary);

/*
 * drift_value_map_summary(value_map bytea) → (value_rows, missing,
 * distinct_values): the reference window's counts of a stored map.
 */
Datum
drift_value_map_summary(PG_FUNCTION_ARGS)
{
	tds_value_map *map = td_map_from_bytes(PG_GETARG_BYTEA_PP(0), "stored");
	TupleDesc	   desc;
	Datum		   values[3];
	bool		   nulls[3] = { false, false, false };

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "drift_value_map_summary: return type must be a row type");
	values[0] = Int64GetDatum(tds_value_map_count(map, true));
	values[1] = Int64GetDatum(tds_value_map_missing(map, true));
	values[2] = Int64GetDatum((int64) tds_value_map_distinct(map));
	tds_value_map_free(map);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
