/*
 * drift_agg.c — transition, combine, serialize and deserialize functions of
 * the drift aggregates, and the final functions that return one statistic.
 *
 * All drift aggregates share one state: an exact value map of the column
 * (distinct value → reference count, current count; NULL, NaN and
 * ±Infinity counted as missing).  They are PARALLEL SAFE: each worker
 * builds a map over its part of both windows, the maps travel as bytea and
 * are merged, and the final function sorts the merged map once.  The state
 * lives in the aggregate's memory context; the statistics library
 * allocates through palloc in CurrentMemoryContext (glue/allocator.c), so
 * every library call that may allocate state runs with the aggregate
 * context current.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "monitoring/drift_agg.h"

PG_FUNCTION_INFO_V1(drift_number_sfunc);
PG_FUNCTION_INFO_V1(drift_text_sfunc);
PG_FUNCTION_INFO_V1(drift_number_options_sfunc);
PG_FUNCTION_INFO_V1(drift_text_options_sfunc);
PG_FUNCTION_INFO_V1(drift_combine);
PG_FUNCTION_INFO_V1(drift_serialize);
PG_FUNCTION_INFO_V1(drift_deserialize);
PG_FUNCTION_INFO_V1(drift_wasserstein_final);
PG_FUNCTION_INFO_V1(drift_ks_statistic_final);
PG_FUNCTION_INFO_V1(drift_ks_pvalue_final);
PG_FUNCTION_INFO_V1(drift_jensenshannon_final);
PG_FUNCTION_INFO_V1(drift_psi_final);
PG_FUNCTION_INFO_V1(drift_kl_div_final);
PG_FUNCTION_INFO_V1(drift_chisquare_final);
PG_FUNCTION_INFO_V1(drift_ztest_final);
PG_FUNCTION_INFO_V1(drift_column_options_check);

void
TdDriftOptionsDefault(TdDriftOptions *options, bool text_keys)
{
	memset(options, 0, sizeof(*options));
	options->kind = text_keys ? TD_KIND_TEXT : TD_KIND_FLOAT;
	options->column_type = TD_TYPE_AUTO;
	options->stattest = TDS_STATTEST_NONE;
	options->nullable_integers = TD_NULLABLE_FLOAT;
	options->has_threshold = false;
	options->histogram = false;
	options->threshold = 0.0;
}

/* The aggregate context, or an ERROR when called outside an aggregate. */
MemoryContext
TdAggContext(FunctionCallInfo fcinfo, const char *function)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("%s called in non-aggregate context", function));
	return aggcontext;
}

/* A number as JSON: float8's shortest exact text; null when not finite. */
void
TdAppendJsonNumber(StringInfo buf, double d)
{
	if (!isfinite(d))
		appendStringInfoString(buf, "null");
	else
		appendStringInfoString(buf, float8out_internal(d));
}

/* Raise a statistics library error as a PostgreSQL ERROR. */
void
TdReportStatsError(const tds_error *error)
{
	int sqlerrcode;

	switch (error->status)
	{
		case TDS_ERR_NOMEM:
			sqlerrcode = ERRCODE_OUT_OF_MEMORY;
			break;
		case TDS_ERR_LIMIT:
			sqlerrcode = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			break;
		case TDS_ERR_INPUT:
			sqlerrcode = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
		case TDS_ERR_CANCELED:
			sqlerrcode = ERRCODE_QUERY_CANCELED;
			break;
		default:
			sqlerrcode = ERRCODE_INTERNAL_ERROR;
			break;
	}
	TdReportLibraryError(error, sqlerrcode, NULL);
}

static void
td_nomem(void)
{
	ereport(ERROR,
			errcode(ERRCODE_OUT_OF_MEMORY),
			errmsg("out of memory"),
			errdetail("The drift aggregate's value counts could not grow."));
}

static TdDriftState *
td_new_state(MemoryContext aggcontext, bool text_keys)
{
	MemoryContext old = MemoryContextSwitchTo(aggcontext);
	TdDriftState *state = palloc(sizeof(TdDriftState));

	TdDriftOptionsDefault(&state->options, text_keys);
	state->map = tds_value_map_create(text_keys);
	MemoryContextSwitchTo(old);
	if (state->map == NULL)
		td_nomem();
	return state;
}

/* The window flag: true = reference, false = current; NULL is an error. */
static bool
td_window_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("is_reference must not be null"),
				errdetail("Each row must say whether it belongs to the reference window (true) or the current window (false)."));
	return PG_GETARG_BOOL(argno);
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

static void
td_bad_option(const char *key, const char *detail)
{
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("invalid drift option \"%s\"", key),
			errdetail("%s", detail),
			errhint("Options are \"kind\" (float, integer, boolean, text), \"type\" (num, cat, text), \"stattest\" (ks, chisquare, z, wasserstein, jensenshannon, psi, kl_div, anderson, cramer_von_mises, ed, es, fisher_exact, g_test, hellinger, mannw, empirical_mmd, t_test, TVD, perc_text_content_drift, abs_text_content_drift), \"threshold\" (a number), \"histogram\" (a boolean) and \"nullable_integers\" (float, integer)."));
}

static char *
td_jsonb_string(const JsonbValue *v, const char *key)
{
	if (v->type != jbvString)
		td_bad_option(key, "The value must be a string.");
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static void
td_apply_option(TdDriftOptions *options, const char *key, const JsonbValue *v)
{
	if (strcmp(key, "kind") == 0)
	{
		char *s = td_jsonb_string(v, key);

		if (strcmp(s, "float") == 0)
			options->kind = TD_KIND_FLOAT;
		else if (strcmp(s, "integer") == 0)
			options->kind = TD_KIND_INTEGER;
		else if (strcmp(s, "boolean") == 0)
			options->kind = TD_KIND_BOOLEAN;
		else if (strcmp(s, "text") == 0)
			options->kind = TD_KIND_TEXT;
		else
			td_bad_option(key, "The kind must be float, integer, boolean or text.");
	}
	else if (strcmp(key, "type") == 0)
	{
		char *s;

		if (v->type == jbvNull)
		{
			options->column_type = TD_TYPE_AUTO;
			return;
		}
		s = td_jsonb_string(v, key);
		if (strcmp(s, "num") == 0 || strcmp(s, "numerical") == 0)
			options->column_type = TD_TYPE_NUM;
		else if (strcmp(s, "cat") == 0 || strcmp(s, "categorical") == 0)
			options->column_type = TD_TYPE_CAT;
		else if (strcmp(s, "text") == 0)
			options->column_type = TD_TYPE_TEXT;
		else if (strcmp(s, "auto") == 0)
			options->column_type = TD_TYPE_AUTO;
		else
			td_bad_option(key, "The type must be num, cat, text or auto.");
	}
	else if (strcmp(key, "stattest") == 0)
	{
		char		*s;
		tds_stattest test;

		if (v->type == jbvNull)
		{
			options->stattest = TDS_STATTEST_NONE;
			return;
		}
		s = td_jsonb_string(v, key);
		if (strcmp(s, "auto") == 0)
		{
			options->stattest = TDS_STATTEST_NONE;
			return;
		}
		test = tds_stattest_from_name(s);
		if (test == TDS_STATTEST_NONE)
			td_bad_option(key, psprintf("There is no statistical test named \"%s\".", s));
		options->stattest = test;
	}
	else if (strcmp(key, "threshold") == 0)
	{
		double t;

		if (v->type == jbvNull)
		{
			options->has_threshold = false;
			return;
		}
		if (v->type != jbvNumeric)
			td_bad_option(key, "The threshold must be a number.");
		t = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
											   NumericGetDatum(v->val.numeric)));
		if (!isfinite(t) || t < 0)
			td_bad_option(key, "The threshold must be a finite number, zero or more.");
		options->has_threshold = true;
		options->threshold = t;
	}
	else if (strcmp(key, "histogram") == 0)
	{
		if (v->type != jbvBool)
			td_bad_option(key, "The value must be true or false.");
		options->histogram = v->val.boolean;
	}
	else if (strcmp(key, "nullable_integers") == 0)
	{
		char *s = td_jsonb_string(v, key);

		if (strcmp(s, "float") == 0)
			options->nullable_integers = TD_NULLABLE_FLOAT;
		else if (strcmp(s, "integer") == 0)
			options->nullable_integers = TD_NULLABLE_INTEGER;
		else
			td_bad_option(key, "An integer column with NULLs is typed as pandas types it (\"float\") or by its distinct values (\"integer\").");
	}
	else
		td_bad_option(key, "There is no such option.");
}

/* Parse column_drift()'s options object into `options`. */
static void
td_parse_options(Jsonb *jb, TdDriftOptions *options)
{
	JsonbIterator	  *it;
	JsonbValue		   v;
	JsonbIteratorToken tok;
	char			  *key = NULL;

	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("drift options must be a jsonb object"),
				errhint("Pass '{}' for Evidently's defaults, or e.g. '{\"stattest\": \"psi\", \"threshold\": 0.2}'."));
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE && key != NULL) /* a value always follows its key */
			td_apply_option(options, key, &v);
	}
}

void
TdDriftParseOptions(Jsonb *jb, TdDriftOptions *options)
{
	td_parse_options(jb, options);
}

/* ------------------------------------------------------------------ */
/* Transition functions                                                */
/* ------------------------------------------------------------------ */

static TdDriftState *
td_state_arg(FunctionCallInfo fcinfo, MemoryContext aggcontext, bool text_keys,
			 const char *function)
{
	TdDriftState *state;

	if (!PG_ARGISNULL(0))
	{
		state = (TdDriftState *) PG_GETARG_POINTER(0);
		if (tds_value_map_has_text_keys(state->map) != text_keys)
			elog(ERROR, "%s: state of the wrong kind", function);
		return state;
	}
	return td_new_state(aggcontext, text_keys);
}

static void
td_add_number(FunctionCallInfo fcinfo, MemoryContext aggcontext,
			  TdDriftState *state)
{
	bool reference = td_window_arg(fcinfo, 2);

	if (PG_ARGISNULL(1))
		tds_value_map_add_missing(state->map, reference);
	else
	{
		MemoryContext old = MemoryContextSwitchTo(aggcontext);
		tds_status	  status = tds_value_map_add_number(state->map,
														PG_GETARG_FLOAT8(1),
														reference);

		MemoryContextSwitchTo(old);
		if (status != TDS_OK)
			td_nomem();
	}
}

static void
td_add_text(FunctionCallInfo fcinfo, MemoryContext aggcontext,
			TdDriftState *state)
{
	bool		  reference = td_window_arg(fcinfo, 2);
	text		 *value;
	MemoryContext old;
	tds_status	  status;

	if (PG_ARGISNULL(1))
	{
		tds_value_map_add_missing(state->map, reference);
		return;
	}
	value = PG_GETARG_TEXT_PP(1);
	old = MemoryContextSwitchTo(aggcontext);
	status = tds_value_map_add_text(state->map, VARDATA_ANY(value),
									VARSIZE_ANY_EXHDR(value), reference);
	MemoryContextSwitchTo(old);
	if (status == TDS_ERR_LIMIT)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("value too long for a drift aggregate"),
				errdetail("A text value of %zu bytes was given; categories are limited to %d bytes.",
						  (size_t) VARSIZE_ANY_EXHDR(value), TDS_VALUE_MAP_MAX_TEXT_KEY),
				errhint("Drift tests compare categories; long free text needs a text drift test, which is not supported."));
	if (status != TDS_OK)
		td_nomem();
}

/* Read the options argument the first time the state is seen. */
static void
td_options_arg(FunctionCallInfo fcinfo, TdDriftState *state, bool first)
{
	if (!first)
		return;
	if (!PG_ARGISNULL(3))
		td_parse_options(PG_GETARG_JSONB_P(3), &state->options);
	if (tds_value_map_has_text_keys(state->map))
		state->options.kind = TD_KIND_TEXT;
	else if (state->options.kind == TD_KIND_TEXT)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid drift option \"kind\""),
				errdetail("A number column cannot be of kind text."));
}

/*
 * One row of a drift aggregate: the state (made on the first row, which
 * also reads the options when the aggregate takes them), then the value.
 */
static Datum
td_drift_transition(FunctionCallInfo fcinfo, bool text_keys, bool with_options,
					const char *function)
{
	MemoryContext aggcontext = TdAggContext(fcinfo, function);
	bool		  first = PG_ARGISNULL(0);
	TdDriftState *state = td_state_arg(fcinfo, aggcontext, text_keys, function);

	if (with_options)
		td_options_arg(fcinfo, state, first);
	if (text_keys)
		td_add_text(fcinfo, aggcontext, state);
	else
		td_add_number(fcinfo, aggcontext, state);
	PG_RETURN_POINTER(state);
}

Datum
drift_number_sfunc(PG_FUNCTION_ARGS)
{
	return td_drift_transition(fcinfo, false, false, "drift_number_sfunc");
}

Datum
drift_text_sfunc(PG_FUNCTION_ARGS)
{
	return td_drift_transition(fcinfo, true, false, "drift_text_sfunc");
}

Datum
drift_number_options_sfunc(PG_FUNCTION_ARGS)
{
	return td_drift_transition(fcinfo, false, true, "drift_number_options_sfunc");
}

Datum
drift_text_options_sfunc(PG_FUNCTION_ARGS)
{
	return td_drift_transition(fcinfo, true, true, "drift_text_options_sfunc");
}

/* ------------------------------------------------------------------ */
/* Parallel aggregation                                                */
/* ------------------------------------------------------------------ */

Datum
drift_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = TdAggContext(fcinfo, "drift_combine");
	TdDriftState *into;
	TdDriftState *from;
	MemoryContext old;
	tds_error	  error;
	tds_status	  status;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	from = (TdDriftState *) PG_GETARG_POINTER(1);
	if (PG_ARGISNULL(0))
	{
		/*
		 * Copy into the aggregate context (`from` was decoded in a
		 * short-lived one); a worker's sorted run is copied as it is.
		 */
		old = MemoryContextSwitchTo(aggcontext);
		into = palloc(sizeof(TdDriftState));
		into->options = from->options;
		into->map = tds_value_map_clone(from->map);
		MemoryContextSwitchTo(old);
		if (into->map == NULL)
			td_nomem();
		PG_RETURN_POINTER(into);
	}
	into = (TdDriftState *) PG_GETARG_POINTER(0);

	old = MemoryContextSwitchTo(aggcontext);
	status = tds_value_map_merge(into->map, from->map, &error);
	MemoryContextSwitchTo(old);
	if (status != TDS_OK)
		TdReportStatsError(&error);
	PG_RETURN_POINTER(into);
}

Datum
drift_serialize(PG_FUNCTION_ARGS)
{
	TdDriftState *state;
	char		 *bytes;
	size_t		  len;
	tds_error	  error;
	bytea		 *out;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "drift_serialize called in non-aggregate context");
	state = (TdDriftState *) PG_GETARG_POINTER(0);
	if (tds_value_map_serialize(state->map, &bytes, &len, &error) != TDS_OK)
		TdReportStatsError(&error);
	if (len + sizeof(TdDriftOptions) > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("too many distinct values for a parallel drift aggregate"),
				errdetail("The value counts of one worker take %zu bytes; at most 1 GB can be passed between processes.", len),
				errhint("Round the column's values, or run the query without parallel workers (SET max_parallel_workers_per_gather = 0)."));
	out = palloc(VARHDRSZ + sizeof(TdDriftOptions) + len);
	SET_VARSIZE(out, VARHDRSZ + sizeof(TdDriftOptions) + len);
	memcpy(VARDATA(out), &state->options, sizeof(TdDriftOptions));
	memcpy(VARDATA(out) + sizeof(TdDriftOptions), bytes, len);
	pfree(bytes);
	PG_RETURN_BYTEA_P(out);
}

Datum
drift_deserialize(PG_FUNCTION_ARGS)
{
	bytea		 *in;
	TdDriftState *state;
	size_t		  len;
	tds_error	  error;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "drift_deserialize called in non-aggregate context");
	in = PG_GETARG_BYTEA_PP(0);
	len = VARSIZE_ANY_EXHDR(in);
	if (len < sizeof(TdDriftOptions))
		ereport(ERROR,
				errcode(ERRCODE_DATA_CORRUPTED),
				errmsg("invalid serialized drift state"),
				errdetail("The state is %zu bytes long, shorter than its header.", len));
	state = palloc(sizeof(TdDriftState));
	memcpy(&state->options, VARDATA_ANY(in), sizeof(TdDriftOptions));
	if (tds_value_map_deserialize(VARDATA_ANY(in) + sizeof(TdDriftOptions),
								  len - sizeof(TdDriftOptions), &state->map,
								  &error) != TDS_OK)
		TdReportStatsError(&error);
	PG_RETURN_POINTER(state);
}

/* ------------------------------------------------------------------ */
/* Final functions returning one statistic                             */
/* ------------------------------------------------------------------ */

void
TdDriftStateColumn(TdDriftState *state, bool numerical, tds_drift_column *column,
				   const char ***text_keys, uint32 **text_lens)
{
	tds_error error;

	if (tds_value_map_column(state->map, numerical, column, text_keys,
							 text_lens, &error) != TDS_OK)
		TdReportStatsError(&error);
}

/*
 * The statistic `test` of the state's column, or false (SQL NULL) when a
 * window has no value.  Number columns are numerical, text columns
 * categorical.
 */
static bool
td_final_score(FunctionCallInfo fcinfo, tds_stattest test, double *score)
{
	TdDriftState	*state;
	tds_drift_column column;
	tds_drift_column view;
	tds_error		 error;
	tds_status		 status;

	if (PG_ARGISNULL(0))
		return false;
	state = (TdDriftState *) PG_GETARG_POINTER(0);
	if (tds_value_map_count(state->map, true) == 0 ||
		tds_value_map_count(state->map, false) == 0)
		return false;
	TdDriftStateColumn(state, !tds_value_map_has_text_keys(state->map), &column,
					   NULL, NULL);
	view = column;
	if (!view.numerical)
		view.values = NULL;
	status = tds_drift_score(test, &view, score, &error);
	tds_value_map_free_column(&column, NULL, NULL);
	if (status != TDS_OK)
		TdReportStatsError(&error);
	return true;
}

#define TD_SCORE_FINAL(fname, test) \
	Datum \
	fname(PG_FUNCTION_ARGS) \
	{ \
		double score; \
		if (!td_final_score(fcinfo, test, &score)) \
			PG_RETURN_NULL(); \
		PG_RETURN_FLOAT8(score); \
	}

TD_SCORE_FINAL(drift_wasserstein_final, TDS_STATTEST_WASSERSTEIN)
TD_SCORE_FINAL(drift_ks_pvalue_final, TDS_STATTEST_KS)
TD_SCORE_FINAL(drift_jensenshannon_final, TDS_STATTEST_JENSENSHANNON)
TD_SCORE_FINAL(drift_psi_final, TDS_STATTEST_PSI)
TD_SCORE_FINAL(drift_kl_div_final, TDS_STATTEST_KL_DIV)
TD_SCORE_FINAL(drift_chisquare_final, TDS_STATTEST_CHISQUARE)
TD_SCORE_FINAL(drift_ztest_final, TDS_STATTEST_Z)

Datum
drift_ks_statistic_final(PG_FUNCTION_ARGS)
{
	TdDriftState	*state;
	tds_drift_column column;
	double			 d;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (TdDriftState *) PG_GETARG_POINTER(0);
	if (tds_value_map_count(state->map, true) == 0 ||
		tds_value_map_count(state->map, false) == 0)
		PG_RETURN_NULL();
	TdDriftStateColumn(state, true, &column, NULL, NULL);
	d = tds_ks_statistic(&column);
	tds_value_map_free_column(&column, NULL, NULL);
	PG_RETURN_FLOAT8(d);
}

/*
 * drift_column_options_check(options jsonb): raise the error column_drift()
 * would raise on these options, without rows; drift_report() and
 * create_monitor() check every column's options before reading a set.
 */
Datum
drift_column_options_check(PG_FUNCTION_ARGS)
{
	TdDriftOptions options;

	if (!PG_ARGISNULL(0))
	{
		TdDriftOptionsDefault(&options, false);
		td_parse_options(PG_GETARG_JSONB_P(0), &options);
	}
	PG_RETURN_VOID();
}
