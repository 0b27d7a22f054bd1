/*
 * regression_agg.c — regression_quality(prediction, target [, zero_handling]),
 * Evidently's regression metrics as one parallel aggregate.
 *
 * The state is the statistics library's tds_regression_acc
 * (lib/stats/tds_regression.c):
 * counts and exact sums (and sums of squares) of the error, absolute
 * error, absolute percentage error and target, which merge exactly, so the
 * result has the same bits whatever the plan.  It is plain data, written
 * canonically and checked when read back.  The result is jsonb with
 * Evidently's metric names (docs/monitoring.md).
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "monitoring/drift_agg.h"

PG_FUNCTION_INFO_V1(regression_sfunc);
PG_FUNCTION_INFO_V1(regression_zero_sfunc);
PG_FUNCTION_INFO_V1(regression_combine);
PG_FUNCTION_INFO_V1(regression_serialize);
PG_FUNCTION_INFO_V1(regression_deserialize);
PG_FUNCTION_INFO_V1(regression_final);

static tds_regression_acc *
td_regression_state(FunctionCallInfo fcinfo, MemoryContext aggcontext,
					tds_zero_handling zero_handling)
{
	tds_regression_acc *acc;

	if (!PG_ARGISNULL(0))
		return (tds_regression_acc *) PG_GETARG_POINTER(0);
	acc = MemoryContextAlloc(aggcontext, sizeof(tds_regression_acc));
	tds_regression_init(acc, zero_handling);
	return acc;
}

static void
td_regression_row(FunctionCallInfo fcinfo, tds_regression_acc *acc)
{
	/* A row without a prediction or a target is left out, as Evidently does. */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return;
	tds_regression_add(acc, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2));
}

Datum
regression_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext		aggcontext = TdAggContext(fcinfo, "regression_sfunc");
	tds_regression_acc *acc = td_regression_state(fcinfo, aggcontext, TDS_ZERO_REPLACE);

	td_regression_row(fcinfo, acc);
	PG_RETURN_POINTER(acc);
}

static tds_zero_handling
td_zero_handling_arg(FunctionCallInfo fcinfo, int argno)
{
	char *s;

	if (PG_ARGISNULL(argno))
		return TDS_ZERO_REPLACE;
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (strcmp(s, "replace") == 0)
		return TDS_ZERO_REPLACE;
	if (strcmp(s, "drop") == 0)
		return TDS_ZERO_DROP;
	if (strcmp(s, "none") == 0)
		return TDS_ZERO_NONE;
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("invalid zero handling \"%s\"", s),
			errdetail("Rows whose target is zero are handled in MAPE by \"replace\" (their error counts as 100%%), \"drop\" (they are left out) or \"none\" (divided by machine epsilon)."),
			errhint("Evidently uses \"replace\" for the current window and \"drop\" for the reference window."));
	return TDS_ZERO_REPLACE; /* not reached */
}

Datum
regression_zero_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext		aggcontext = TdAggContext(fcinfo, "regression_zero_sfunc");
	tds_regression_acc *acc;

	if (PG_ARGISNULL(0))
		acc = td_regression_state(fcinfo, aggcontext, td_zero_handling_arg(fcinfo, 3));
	else
		acc = (tds_regression_acc *) PG_GETARG_POINTER(0);
	td_regression_row(fcinfo, acc);
	PG_RETURN_POINTER(acc);
}

Datum
regression_combine(PG_FUNCTION_ARGS)
{
	MemoryContext		aggcontext = TdAggContext(fcinfo, "regression_combine");
	tds_regression_acc *into;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	if (PG_ARGISNULL(0))
	{
		into = MemoryContextAlloc(aggcontext, sizeof(tds_regression_acc));
		memcpy(into, PG_GETARG_POINTER(1), sizeof(tds_regression_acc));
		PG_RETURN_POINTER(into);
	}
	into = (tds_regression_acc *) PG_GETARG_POINTER(0);
	tds_regression_merge(into, (tds_regression_acc *) PG_GETARG_POINTER(1));
	PG_RETURN_POINTER(into);
}

Datum
regression_serialize(PG_FUNCTION_ARGS)
{
	bytea *out = palloc(VARHDRSZ + sizeof(tds_regression_acc));

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "regression_serialize called in non-aggregate context");
	SET_VARSIZE(out, VARHDRSZ + sizeof(tds_regression_acc));
	tds_regression_serialize((tds_regression_acc *) PG_GETARG_POINTER(0),
							 (tds_regression_acc *) VARDATA(out));
	PG_RETURN_BYTEA_P(out);
}

Datum
regression_deserialize(PG_FUNCTION_ARGS)
{
	bytea			   *in;
	tds_regression_acc *acc;
	tds_error			error;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "regression_deserialize called in non-aggregate context");
	in = PG_GETARG_BYTEA_PP(0);
	acc = palloc(sizeof(tds_regression_acc));
	if (tds_regression_deserialize(VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in), acc, &error) != TDS_OK)
		ereport(ERROR,
				errcode(ERRCODE_DATA_CORRUPTED),
				errmsg("invalid serialized regression state"),
				errdetail("%s", error.detail));
	PG_RETURN_POINTER(acc);
}

static void
td_json_metric(StringInfo buf, const char *key, double value)
{
	appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	TdAppendJsonNumber(buf, value);
}

Datum
regression_final(PG_FUNCTION_ARGS)
{
	tds_regression_metrics m;
	StringInfoData		   buf;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	tds_regression_result((tds_regression_acc *) PG_GETARG_POINTER(0), &m);
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"rows\": " INT64_FORMAT, (int64) m.n);
	td_json_metric(&buf, "mean_error", m.mean_error);
	td_json_metric(&buf, "error_std", m.error_std);
	td_json_metric(&buf, "mae", m.mae);
	td_json_metric(&buf, "abs_error_std", m.abs_error_std);
	td_json_metric(&buf, "abs_error_max", m.abs_error_max);
	td_json_metric(&buf, "mape", m.mape);
	td_json_metric(&buf, "abs_perc_error_std", m.abs_perc_error_std);
	td_json_metric(&buf, "rmse", m.rmse);
	td_json_metric(&buf, "r2", m.r2);
	appendStringInfoChar(&buf, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
