/*
 * model_info.c — model management from SQL.
 *
 *   taxi_duration.load_model(uri text)  load a bundle and serve it from the
 *                                       next statement on, in every backend
 *   taxi_duration.load_model()          (re)load taxi_duration.model_uri
 *   taxi_duration.model_info()          what is served, and the last failed
 *                                       automatic load
 *
 * Loading is for superusers and members of taxi_duration_admin; reading a
 * file:// URI additionally needs superuser or pg_read_server_files, as
 * pg_read_file() does, so the admin role is not a way to read server files
 * (access.c; the default bundle is always allowed).  last_error shows the
 * failed URI and the error's detail to privileged roles only.
 * A load is not transactional: it takes effect when it returns, like
 * pg_reload_conf(), and a failure leaves the previous model serving.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "serving/serving.h"

PG_FUNCTION_INFO_V1(load_model);
PG_FUNCTION_INFO_V1(load_configured_model);
PG_FUNCTION_INFO_V1(model_info);

#define TD_INFO_COLUMNS 17

/* One row describing what is published now (and the last failure). */
static Datum
td_model_info_datum(FunctionCallInfo fcinfo)
{
	TupleDesc		 tupdesc;
	Datum			 values[TD_INFO_COLUMNS];
	bool			 nulls[TD_INFO_COLUMNS];
	TdPublishedModel published;
	TdLoadFailure	 failure;
	int				 i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (tupdesc->natts != TD_INFO_COLUMNS)
		elog(ERROR, "model_info() expects %d columns, the SQL definition has %d",
			 TD_INFO_COLUMNS, tupdesc->natts);

	for (i = 0; i < TD_INFO_COLUMNS; i++)
		nulls[i] = true;

	if (TdGetPublished(&published))
	{
		bool		 already_mapped;
		dsm_segment *segment = TdAttachPublished(published.generation,
												 &published, &already_mapped);

		if (segment != NULL)
		{
			const td_image *image = dsm_segment_address(segment);

			td_image_stats stats;
			Datum		  *names;
			uint32		   n;

			td_image_get_stats(image, &stats);
			values[0] = CStringGetTextDatum(td_image_meta(image, TD_META_MODEL_NAME));
			values[1] = CStringGetTextDatum(td_image_meta(image, TD_META_MODEL_VERSION));
			if (td_image_meta(image, TD_META_RUN_ID)[0] != '\0')
				values[2] = CStringGetTextDatum(td_image_meta(image, TD_META_RUN_ID));
			values[3] = CStringGetTextDatum(published.source);
			values[4] = CStringGetTextDatum(published.sha256);
			values[5] = Int64GetDatum(published.bundle_bytes);
			values[6] = TimestampTzGetDatum(published.loaded_at);
			values[7] = Int64GetDatum((int64) published.generation);
			values[8] = CStringGetTextDatum(td_image_meta(image, TD_META_ESTIMATOR_TYPE));
			values[9] = CStringGetTextDatum(td_image_meta(image, TD_META_OBJECTIVE));
			values[10] = Int32GetDatum((int32) stats.num_trees);
			values[11] = Int32GetDatum((int32) stats.num_features);
			names = palloc(sizeof(Datum) * Max(stats.num_inputs, 1));
			for (n = 0; n < stats.num_inputs; n++)
				names[n] = CStringGetTextDatum(td_image_input_name(image, n));
			values[12] = PointerGetDatum(construct_array(names, stats.num_inputs,
														 TEXTOID, -1, false,
														 TYPALIGN_INT));
			values[13] = Int64GetDatum((int64) published.image_bytes);
			if (td_image_meta(image, TD_META_CREATED_AT)[0] != '\0')
				values[14] = CStringGetTextDatum(td_image_meta(image, TD_META_CREATED_AT));
			for (i = 0; i <= 14; i++)
				if (i != 2 && i != 14)
					nulls[i] = false;
			nulls[2] = td_image_meta(image, TD_META_RUN_ID)[0] == '\0';
			nulls[14] = td_image_meta(image, TD_META_CREATED_AT)[0] == '\0';
			if (!already_mapped)
				dsm_detach(segment);
		}
	}
	if (TdLastLoadFailure(&failure))
	{
		values[15] = CStringGetTextDatum(TdDescribeLoadFailure(&failure,
															   TdCallerSeesDetails()));
		values[16] = TimestampTzGetDatum(failure.at);
		nulls[15] = nulls[16] = false;
	}
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* model_info(): what every backend serves from its next statement on. */
Datum
model_info(PG_FUNCTION_ARGS)
{
	TdRequireSharedState();
	return td_model_info_datum(fcinfo);
}

/*
 * Load and return what is served.  The result is built inside the publish
 * hold, and a cancel that arrives once publishing started is dropped: the
 * call succeeds exactly when the model was published (docs/serving.md).
 */
static Datum
td_load_and_describe(FunctionCallInfo fcinfo, const char *uri)
{
	Datum result;

	TdLoadModelHeld(uri, "load_model", false);
	result = td_model_info_datum(fcinfo);
	TdEndPublishHold(true);
	return result;
}

/* load_model(uri text) */
Datum
load_model(PG_FUNCTION_ARGS)
{
	char *uri = text_to_cstring(PG_GETARG_TEXT_PP(0));

	TdRequireSharedState();
	if (strlen(uri) >= TD_SOURCE_MAX)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("model URI is too long"),
				errdetail("A model URI has at most %d bytes.", TD_SOURCE_MAX - 1));
	TdCheckLoadPermission(uri);
	return td_load_and_describe(fcinfo, uri);
}

/* load_model(): reload what taxi_duration.model_uri names. */
Datum
load_configured_model(PG_FUNCTION_ARGS)
{
	const char *uri;

	TdRequireSharedState();
	uri = TdConfiguredUri();
	/* model_uri may name a file this role may not read: same rule as load_model(uri) */
	TdCheckLoadPermission(uri);
	return td_load_and_describe(fcinfo, uri);
}
