/*
 * model_load.c — fetch, compile and publish a model.
 *
 * TdLoadModel() is the one path every load takes (load_model(), the loader
 * worker, the automatic first load): fetch the bundle's bytes, hash them,
 * compile them with the core into a flat image, and publish the image in
 * shared memory.  Any failure raises an ERROR before the publish step, so
 * the model being served keeps serving.  All memory lives in a private
 * context that is gone when the load ends, successfully or not.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "taxi_duration.h"
#include "tdf_fetch.h"

/* Error context: which URI was being loaded. */
static void
td_load_error_context(void *arg)
{
	errcontext("loading model bundle from \"%s\"", (const char *) arg);
}

/* The load itself: fetch, compile, publish; fills `event` as it learns. */
static void
td_load_model(const char *uri, TdLoadEvent *event)
{
	MemoryContext		 load_context;
	MemoryContext		 old_context;
	ErrorContextCallback callback;
	td_limits			 limits;
	td_error			 error;
	td_image			*image = NULL;
	size_t				 image_bytes = 0;
	TdFetchedBundle		 fetched;
	char				*bundle;
	Size				 bundle_bytes;
	char				 sha256[TD_SHA256_HEX_LEN + 1];
	TimestampTz			 started = GetCurrentTimestamp();
	long				 secs;
	int					 usecs;

	TdRequireSharedState();

	callback.callback = td_load_error_context;
	callback.arg = (void *) uri;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	load_context = AllocSetContextCreate(CurrentMemoryContext,
										 "taxi_duration load",
										 ALLOCSET_DEFAULT_SIZES);
	old_context = MemoryContextSwitchTo(load_context);

	TdFetchBundle(uri, (Size) td_max_bundle_size_kb * 1024, &fetched);
	bundle = fetched.data;
	bundle_bytes = fetched.len;
	tdf_sha256_hex(bundle, bundle_bytes, sha256);

	td_default_limits(&limits);
	limits.max_bundle_bytes = (size_t) td_max_bundle_size_kb * 1024;
	if (td_compile_bundle(bundle, bundle_bytes, &limits, &image, &image_bytes,
						  &error) != TD_OK)
		TdReportCoreError(&error);
	/* never publish an image that fails its own full check */
	if (td_image_check(image, image_bytes, &error) != TD_OK)
		TdReportCoreError(&error);

	strlcpy(event->resolved_uri, fetched.resolved_uri, sizeof(event->resolved_uri));
	strlcpy(event->sha256, sha256, sizeof(event->sha256));
	strlcpy(event->model_version, td_image_meta(image, TD_META_MODEL_VERSION),
			sizeof(event->model_version));

	event->generation = TdPublishModel(image, image_bytes, uri, sha256,
									   (int64) bundle_bytes);
	error_context_stack = callback.previous;

	TimestampDifference(started, GetCurrentTimestamp(), &secs, &usecs);
	ereport(LOG,
			errmsg("taxi_duration: serving model \"%s\" version \"%s\" from \"%s\"",
				   td_image_meta(image, TD_META_MODEL_NAME),
				   td_image_meta(image, TD_META_MODEL_VERSION), uri),
			errdetail("Bundle of %zu bytes, sha256 %s%s%s, compiled to an image of %zu bytes in %ld ms.",
					  bundle_bytes, sha256,
					  fetched.resolved_uri[0] ? ", downloaded from " : "",
					  fetched.resolved_uri, image_bytes,
					  secs * 1000 + usecs / 1000));

	MemoryContextSwitchTo(old_context);
	MemoryContextDelete(load_context);
}

/*
 * Load the bundle at `uri` and serve it from the next statement on, in
 * every backend.  `trigger` says who asked ("load_model", "worker", ...).
 * Every attempt, successful or not, is recorded in the load history (and so
 * in taxi_duration.model_loads); a failure is then raised again.
 */
void
TdLoadModel(const char *uri, const char *trigger)
{
	MemoryContext caller_context = CurrentMemoryContext;
	TdLoadEvent	  event;

	memset(&event, 0, sizeof(event));
	event.pid = MyProcPid;
	event.roleid = IsBackgroundWorker ? InvalidOid : GetUserId();
	strlcpy(event.trigger, trigger, sizeof(event.trigger));
	strlcpy(event.source, uri, sizeof(event.source));

	PG_TRY();
	{
		td_load_model(uri, &event);
	}
	PG_CATCH();
	{
		ErrorData *edata;

		MemoryContextSwitchTo(caller_context);
		edata = CopyErrorData();
		event.ok = false;
		event.at = GetCurrentTimestamp();
		snprintf(event.message, sizeof(event.message), "%s%s%s", edata->message,
				 edata->detail ? ": " : "", edata->detail ? edata->detail : "");
		TdRecordLoadEvent(&event);
		FreeErrorData(edata);
		PG_RE_THROW();
	}
	PG_END_TRY();

	event.ok = true;
	event.at = GetCurrentTimestamp();
	TdRecordLoadEvent(&event);
}

/* The URI served when nothing was loaded explicitly. */
const char *
TdConfiguredUri(void)
{
	if (td_model_uri != NULL && td_model_uri[0] != '\0')
		return td_model_uri;
	return TdDefaultBundleUri();
}

/*
 * Make sure some model is published, loading the configured one if needed.
 * Many backends may get here at once; the load lock makes one of them load
 * while the others wait and then find the model there.  A failed load is
 * remembered and not retried for taxi_duration.load_retry_interval, so a
 * broken configuration costs one failed load, not one per call.
 */
void
TdEnsureModelLoaded(void)
{
	MemoryContext caller_context = CurrentMemoryContext;
	char		  failed_source[TD_SOURCE_MAX];
	char		  failed_message[512];
	TimestampTz	  failed_at;
	const char	 *uri;

	if (TdCurrentGeneration() != 0)
		return;

	TdAcquireLoadLock();
	if (TdCurrentGeneration() != 0)
	{
		TdReleaseLoadLock();
		return;
	}

	if (TdLastLoadFailure(failed_source, sizeof(failed_source),
						  failed_message, sizeof(failed_message), &failed_at) &&
		!TimestampDifferenceExceeds(failed_at, GetCurrentTimestamp(),
									td_load_retry_seconds * 1000))
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("no taxi_duration model is loaded"),
				errdetail("Loading \"%s\" failed at %s: %s",
						  failed_source, timestamptz_to_str(failed_at),
						  failed_message),
				errhint("Fix the bundle or taxi_duration.model_uri, then call taxi_duration.load_model()."));

	uri = TdConfiguredUri();
	PG_TRY();
	{
		TdLoadModel(uri, "first use");
	}
	PG_CATCH();
	{
		ErrorData *edata;

		MemoryContextSwitchTo(caller_context);
		edata = CopyErrorData();
		TdRecordLoadFailure(uri, edata->message);
		FreeErrorData(edata);
		PG_RE_THROW();
	}
	PG_END_TRY();
	TdReleaseLoadLock();
}
