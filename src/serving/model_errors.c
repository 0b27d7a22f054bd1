/*
 * model_errors.c — model library errors as PostgreSQL errors.
 *
 * A td_error becomes ereport(ERROR) with a SQLSTATE chosen by status, the
 * library's message and detail, and a hint where one helps.  A compile
 * stopped by TdInterruptPending (TD_ERR_CANCELED) raises the pending
 * interrupt itself: the cancel, statement_timeout or termination.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "serving/serving.h"

/* SQLSTATE for a model status. */
static int
td_errcode_for(td_status status)
{
	switch (status)
	{
		case TD_ERR_NOMEM:
			return ERRCODE_OUT_OF_MEMORY;
		case TD_ERR_VERSION:
		case TD_ERR_UNSUPPORTED:
			return ERRCODE_FEATURE_NOT_SUPPORTED;
		case TD_ERR_LIMIT:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case TD_ERR_IMAGE:
			return ERRCODE_DATA_CORRUPTED;
		case TD_ERR_INPUT:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case TD_ERR_MISSING_INPUT:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case TD_ERR_RIDE_JSON:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case TD_ERR_CANCELED:
			return ERRCODE_QUERY_CANCELED;
		case TD_ERR_JSON:
		case TD_ERR_FORMAT:
		case TD_ERR_INVALID:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case TD_OK:
			break;
	}
	return ERRCODE_INTERNAL_ERROR;
}

/* A hint for a model status, or NULL. */
static const char *
td_hint_for(td_status status)
{
	switch (status)
	{
		case TD_ERR_JSON:
		case TD_ERR_FORMAT:
		case TD_ERR_INVALID:
		case TD_ERR_VERSION:
		case TD_ERR_UNSUPPORTED:
			return "Export bundles with \"python -m model train\"; the format is described in docs/bundle-format.md. The model that was being served is still served.";
		case TD_ERR_LIMIT:
			return "The limits are listed in docs/bundle-format.md; taxi_duration.max_bundle_size sets the largest bundle accepted. The model that was being served is still served.";
		case TD_ERR_MISSING_INPUT:
			return "Call a form of taxi_duration.predict_duration() that passes this input, such as the one taking the pickup time or the jsonb ride.";
		default:
			return NULL;
	}
}

/* Raise a model error as a PostgreSQL ERROR. */
void
TdReportModelError(const td_error *error)
{
	/* the compile stopped for a pending interrupt: raise that one */
	if (error->status == TD_ERR_CANCELED)
		CHECK_FOR_INTERRUPTS();
	TdReportLibraryError(error, td_errcode_for(error->status), td_hint_for(error->status));
}

/* Predict one trip, raising any model error. */
double
TdPredictOrError(td_predictor *predictor, const td_value *values)
{
	td_error error;
	double	 minutes;

	if (td_predict(predictor, values, &minutes, &error) != TD_OK)
		TdReportModelError(&error);
	return minutes;
}
