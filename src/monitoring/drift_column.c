/*
 * drift_column.c — column_drift()'s final function: Evidently's verdict on
 * one column as jsonb.
 *
 * From the merged value map it decides the column type the way Evidently
 * infers it from a pandas dtype, picks the test Evidently would pick (or the
 * one the options force), computes the score (for free text, the text
 * content drift classifier over the map's distinct texts), applies the
 * threshold and Evidently's decision direction, and optionally adds the
 * reference and current histograms the HTML report plots.  The keys match
 * Evidently's per-column result (docs/monitoring.md).
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "miscadmin.h"

#include "monitoring/drift_agg.h"

/* Evidently's INTEGER_CARDINALITY_LIMIT (core/datasets.py). */
#define TD_INTEGER_CARDINALITY_LIMIT 10

/* Categories listed in a histogram before the rest are pooled. */
#define TD_HISTOGRAM_MAX_CATEGORIES 50

static void
td_json_key(StringInfo buf, const char *key, bool first)
{
	if (!first)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
}

/* Distinct values seen in the current window. */
static size_t
td_current_unique(const tds_drift_column *column)
{
	size_t n = 0;
	size_t i;

	for (i = 0; i < column->m; i++)
		n += column->cur[i] > 0;
	return n;
}

/*
 * Evidently's type for the column, inferred as core/datasets.py does from
 * the CURRENT window's dtype: floats are numerical; integers categorical up
 * to 10 distinct current values; booleans categorical; strings categorical,
 * or free text (*is_text) when more than half the current values are
 * distinct, or when the option "type" says "text".  An
 * integer column with a NULL in the current window is float64 in pandas
 * (pd.read_sql, pd.read_parquet), hence numerical, unless the option
 * nullable_integers is "integer" (`current_missing` = NULLs in current).
 */
static bool
td_infer_numerical(const TdDriftOptions *options, const tds_drift_column *column,
				   int64 current_missing, bool *is_text)
{
	size_t current_unique = td_current_unique(column);

	*is_text = false;
	if (options->column_type == TD_TYPE_TEXT)
	{
		if (options->kind != TD_KIND_TEXT)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("column type \"text\" needs a text column"),
					errdetail("Free text is compared by a classifier over its words; this column holds numbers or booleans."),
					errhint("Cast the column to text in a query, or set its \"type\" to num or cat."));
		*is_text = true;
		return false;
	}
	if (options->column_type == TD_TYPE_NUM)
		return true;
	if (options->column_type == TD_TYPE_CAT)
		return false;
	switch ((TdColumnKind) options->kind)
	{
		case TD_KIND_FLOAT:
			return true;
		case TD_KIND_INTEGER:
			if (current_missing > 0 && options->nullable_integers == TD_NULLABLE_FLOAT)
				return true;
			return current_unique > TD_INTEGER_CARDINALITY_LIMIT;
		case TD_KIND_BOOLEAN:
			return false;
		case TD_KIND_TEXT:
			*is_text = (double) current_unique > 0.5 * (double) column->n_cur;
			return false;
	}
	return true;
}

/* The key of category i as JSON (a number or a string). */
static void
td_json_category(StringInfo buf, const tds_drift_column *column,
				 const char **texts, const uint32 *lens, size_t i)
{
	if (texts != NULL)
	{
		char *s = pnstrdup(texts[i], lens[i]);

		escape_json(buf, s);
		pfree(s);
	}
	else if (column->values != NULL) /* number keys always carry values */
		TdAppendJsonNumber(buf, column->values[i]);
	else
		appendStringInfoString(buf, "null");
}

static int
td_cmp_desc_total(const void *a, const void *b, void *arg)
{
	const tds_drift_column *column = arg;
	size_t					i = *(const size_t *) a;
	size_t					j = *(const size_t *) b;
	int64					ti = column->ref[i] + column->cur[i];
	int64					tj = column->ref[j] + column->cur[j];

	if (ti != tj)
		return ti > tj ? -1 : 1;
	return (i > j) - (i < j);
}

/* Value counts of the most frequent categories, the rest pooled. */
static void
td_json_category_histogram(StringInfo buf, const tds_drift_column *column,
						   const char **texts, const uint32 *lens)
{
	size_t	m = column->m;
	size_t *order = palloc(sizeof(size_t) * (m > 0 ? m : 1));
	size_t	shown = m;
	size_t	i;
	int64	other_ref = 0;
	int64	other_cur = 0;

	for (i = 0; i < m; i++)
		order[i] = i;
	if (m > TD_HISTOGRAM_MAX_CATEGORIES)
	{
		qsort_arg(order, m, sizeof(size_t), td_cmp_desc_total, (void *) column);
		shown = TD_HISTOGRAM_MAX_CATEGORIES - 1;
		for (i = shown; i < m; i++)
		{
			other_ref += column->ref[order[i]];
			other_cur += column->cur[order[i]];
		}
	}
	appendStringInfoString(buf, "{\"kind\": \"categories\", \"values\": [");
	for (i = 0; i < shown; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, ", ");
		td_json_category(buf, column, texts, lens, order[i]);
	}
	appendStringInfo(buf, "], \"other\": %s, \"reference\": [", shown < m ? "true" : "false");
	for (i = 0; i < shown; i++)
		appendStringInfo(buf, "%s" INT64_FORMAT, i ? ", " : "", column->ref[order[i]]);
	if (shown < m)
		appendStringInfo(buf, ", " INT64_FORMAT, other_ref);
	appendStringInfoString(buf, "], \"current\": [");
	for (i = 0; i < shown; i++)
		appendStringInfo(buf, "%s" INT64_FORMAT, i ? ", " : "", column->cur[order[i]]);
	if (shown < m)
		appendStringInfo(buf, ", " INT64_FORMAT, other_cur);
	appendStringInfoString(buf, "]}");
	pfree(order);
}

/* Sturges bins over both windows (numpy's edges). */
static void
td_json_bin_histogram(StringInfo buf, const tds_drift_column *column)
{
	size_t	  k;
	double	 *edges;
	int64_t	 *ref;
	int64_t	 *cur;
	tds_error error;
	size_t	  i;

	if (tds_sturges_histogram(column, &k, &edges, &ref, &cur, &error) != TDS_OK)
		TdReportStatsError(&error);
	appendStringInfoString(buf, "{\"kind\": \"bins\", \"edges\": [");
	for (i = 0; i <= k; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, ", ");
		TdAppendJsonNumber(buf, edges[i]);
	}
	appendStringInfoString(buf, "], \"reference\": [");
	for (i = 0; i < k; i++)
		appendStringInfo(buf, "%s" INT64_FORMAT, i ? ", " : "", (int64) ref[i]);
	appendStringInfoString(buf, "], \"current\": [");
	for (i = 0; i < k; i++)
		appendStringInfo(buf, "%s" INT64_FORMAT, i ? ", " : "", (int64) cur[i]);
	appendStringInfoString(buf, "]}");
	pfree(edges);
	pfree(ref);
	pfree(cur);
}

/* Evidently's default for free text: abs_ above 1000 reference rows, else perc_. */
static tds_stattest
td_text_stattest_choose(int64 n_ref)
{
	return n_ref > 1000 ? TDS_STATTEST_ABS_TEXT : TDS_STATTEST_PERC_TEXT;
}

static bool
td_stattest_is_text(tds_stattest test)
{
	return test == TDS_STATTEST_ABS_TEXT || test == TDS_STATTEST_PERC_TEXT;
}

/* The column types Evidently registers a test for, for an error's detail. */
static const char *
td_allowed_types(tds_stattest test)
{
	bool num = tds_stattest_allows(test, true);
	bool cat = tds_stattest_allows(test, false);

	if (num && cat)
		return "numerical and categorical";
	if (num)
		return "numerical";
	if (cat)
		return "categorical";
	return "text";
}

/*
 * Text content drift over the column's distinct texts (a domain classifier
 * trained on the rows: lib/stats/tds_text_drift.c).  Where scikit-learn
 * raises on the data, *problem is set and false returned, as for any test;
 * running out of memory or an interrupt is an ERROR.
 */
static bool
td_text_drift(tds_stattest test, const tds_drift_column *column, const char **texts,
			  const uint32 *lens, double threshold, double *score, bool *drifted,
			  double *random_auc_percentile, const char **problem)
{
	tds_text_column text;
	tds_error		error;
	tds_status		status;

	text.m = column->m;
	text.texts = texts;
	text.lens = lens;
	text.ref = column->ref;
	text.cur = column->cur;
	text.n_ref = column->n_ref;
	text.n_cur = column->n_cur;
	text.cancel_requested = TdInterruptPending;
	text.cancel_arg = NULL;
	status = tds_text_content_drift(test, &text, threshold, score, drifted,
									random_auc_percentile, &error);
	if (status == TDS_OK)
		return true;
	if (status == TDS_ERR_CANCELED)
		CHECK_FOR_INTERRUPTS();
	if (status != TDS_ERR_INPUT)
		TdReportStatsError(&error);
	*problem = pstrdup(error.detail[0] ? error.detail : error.message);
	return false;
}

static Datum
td_column_drift_jsonb(TdDriftState *state)
{
	const TdDriftOptions *options = &state->options;
	tds_drift_column	  column;
	tds_drift_column	  view;
	const char			**texts = NULL;
	uint32				 *lens = NULL;
	bool				  numerical;
	bool				  is_text;
	tds_stattest		  test;
	double				  threshold;
	double				  score = NAN;
	bool				  have_score = false;
	bool				  drifted = false;
	double				  random_auc_percentile = NAN;
	const char			 *problem = NULL;
	StringInfoData		  buf;
	tds_error			  error;

	TdDriftStateColumn(state, true, &column, &texts, &lens);
	numerical = td_infer_numerical(options, &column, tds_value_map_missing(state->map, false),
								   &is_text) &&
				column.values != NULL;
	view = column;
	view.numerical = numerical;
	/*
	 * numpy clamps Sturges bins to integer widths only for an integer array:
	 * the two windows concatenated, which is float64 as soon as either holds
	 * a NULL (pandas made that window float64).
	 */
	view.integer_dtype = numerical && options->kind == TD_KIND_INTEGER &&
						 tds_value_map_missing(state->map, true) == 0 &&
						 tds_value_map_missing(state->map, false) == 0;
	if (!numerical)
		view.values = NULL;

	test = (tds_stattest) options->stattest;
	if (test == TDS_STATTEST_NONE)
		test = is_text ? td_text_stattest_choose(column.n_ref) : tds_stattest_choose(numerical, column.n_ref, (int64_t) column.m);
	threshold = options->has_threshold ? options->threshold : tds_stattest_default_threshold(test);
	/* Evidently's registry refuses a forced test the column type does not allow */
	if (options->stattest != TDS_STATTEST_NONE &&
		(is_text ? !td_stattest_is_text(test) : !tds_stattest_allows(test, numerical)))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("stattest \"%s\" is not applicable to a %s column",
					   tds_stattest_name(test), is_text ? "text" : (numerical ? "numerical" : "categorical")),
				errdetail("Evidently registers \"%s\" for %s columns only and raises StatTestInvalidFeatureTypeError otherwise.",
						  tds_stattest_name(test), td_allowed_types(test)),
				is_text ? errhint("Free text takes perc_text_content_drift or abs_text_content_drift; set the column's \"type\" to cat to compare its values as categories.") : errhint("Force the column's \"type\", or choose a test that allows it (docs/monitoring.md lists them)."));

	if (column.n_ref == 0)
		problem = "The reference window has no value in this column.";
	else if (column.n_cur == 0)
		problem = "The current window has no value in this column.";
	else if (is_text)
		have_score = td_text_drift(test, &column, texts, lens, threshold, &score, &drifted,
								   &random_auc_percentile, &problem);
	else if (tds_drift_score(test, &view, &score, &error) != TDS_OK)
		problem = pstrdup(error.detail[0] ? error.detail : error.message);
	else
	{
		have_score = true;
		drifted = tds_stattest_drifted(test, score, threshold);
	}

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	td_json_key(&buf, "column_type", true);
	appendStringInfoString(&buf, numerical ? "\"num\"" : (is_text ? "\"text\"" : "\"cat\""));
	td_json_key(&buf, "stattest", false);
	escape_json(&buf, tds_stattest_name(test));
	td_json_key(&buf, "stattest_name", false);
	escape_json(&buf, tds_stattest_display_name(test));
	td_json_key(&buf, "drift_rule", false);
	escape_json(&buf, tds_stattest_rule(test));
	td_json_key(&buf, "score_is_p_value", false);
	appendStringInfoString(&buf, tds_stattest_is_pvalue(test) ? "true" : "false");
	td_json_key(&buf, "score", false);
	if (have_score)
		TdAppendJsonNumber(&buf, score);
	else
		appendStringInfoString(&buf, "null");
	td_json_key(&buf, "threshold", false);
	TdAppendJsonNumber(&buf, threshold);
	if (isfinite(random_auc_percentile))
	{
		td_json_key(&buf, "random_auc_percentile", false);
		TdAppendJsonNumber(&buf, random_auc_percentile);
	}
	td_json_key(&buf, "drifted", false);
	appendStringInfoString(&buf, drifted ? "true" : "false");
	td_json_key(&buf, "reference_rows", false);
	appendStringInfo(&buf, INT64_FORMAT, (int64) column.n_ref);
	td_json_key(&buf, "current_rows", false);
	appendStringInfo(&buf, INT64_FORMAT, (int64) column.n_cur);
	td_json_key(&buf, "reference_missing", false);
	appendStringInfo(&buf, INT64_FORMAT, tds_value_map_missing(state->map, true));
	td_json_key(&buf, "current_missing", false);
	appendStringInfo(&buf, INT64_FORMAT, tds_value_map_missing(state->map, false));
	td_json_key(&buf, "unique_values", false);
	appendStringInfo(&buf, "%zu", column.m);
	if (problem != NULL)
	{
		td_json_key(&buf, "error", false);
		escape_json(&buf, problem);
	}
	if (options->histogram && column.m > 0)
	{
		td_json_key(&buf, "histogram", false);
		if (numerical)
			td_json_bin_histogram(&buf, &view);
		else
			td_json_category_histogram(&buf, &column, texts, lens);
	}
	appendStringInfoChar(&buf, '}');
	tds_value_map_free_column(&column, texts, lens);

	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

PG_FUNCTION_INFO_V1(drift_column_final);

Datum
drift_column_final(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	return td_column_drift_jsonb((TdDriftState *) PG_GETARG_POINTER(0));
}
