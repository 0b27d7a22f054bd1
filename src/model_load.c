/*
 * model_load.c — fetch, compile and publish a model.
 *
 * TdLoadModel() is the one path every load takes (load_model(), the loader
 * worker, the automatic first load): fetch the bundle's bytes, hash them,
 * compile them with the core into a flat image, and publish the image in
 * shared memory.  Any failure raises an ERROR before the publish step, so
 * the model being served keeps serving.  All memory lives in a private
 * context that is gone when the load ends, successfully or not.
 *
 * A failure's message never names a server path; its detail may, and is
 * shown to privileged callers only (access.c): others get it in the server
 * log.  The automatic first load (TdEnsureModelLoaded) is claimed with the
 * shared "loading" flag (shmem.c), never with a lock held across the fetch.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "taxi_duration.h"
#include "tdf_fetch.h"

/* What the error context callback shows. */
typedef struct TdLoadErrorContext
{
	const char *shown_uri; /* without user info */
	bool		show_uri;  /* the caller may see it */
} TdLoadErrorContext;

/* Error context: which URI was being loaded. */
static void
td_load_error_context(void *arg)
{
	const TdLoadErrorContext *context = arg;

	if (context->show_uri)
		errcontext("loading model bundle from \"%s\"", context->shown_uri);
	else
		errcontext("loading the configured model bundle");
}

/* The load itself: fetch, compile, publish; fills `event` as it learns. */
static void
td_load_model(const char *uri, TdLoadErrorContext *context, TdLoadEvent *event)
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
	callback.arg = (void *) context;
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

	event->generation = TdPublishModel(image, image_bytes, context->shown_uri,
									   sha256, (int64) bundle_bytes);
	error_context_stack = callback.previous;

	TimestampDifference(started, GetCurrentTimestamp(), &secs, &usecs);
	ereport(LOG,
			errmsg("taxi_duration: serving model \"%s\" version \"%s\" from \"%s\"",
				   td_image_meta(image, TD_META_MODEL_NAME),
				   td_image_meta(image, TD_META_MODEL_VERSION), context->shown_uri),
			errdetail("Bundle of %zu bytes, sha256 %s%s%s, compiled to an image of %zu bytes in %ld ms.",
					  bundle_bytes, sha256,
					  fetched.resolved_uri[0] ? ", downloaded from " : "",
					  fetched.resolved_uri, image_bytes,
					  secs * 1000 + usecs / 1000));

	MemoryContextSwitchTo(old_context);
	MemoryContextDelete(load_context);
}

/*
 * Re-raise a copied error for a caller who may not see details: the detail
 * goes to the server log only.
 */
static void
td_rethrow_without_detail(ErrorData *edata) pg_attribute_noreturn();

static void
td_rethrow_without_detail(ErrorData *edata)
{
	FlushErrorState();
	if (edata->detail_log == NULL)
		edata->detail_log = edata->detail;
	edata->detail = NULL;
	ReThrowError(edata);
}

/*
 * Load the bundle at `uri` and serve it from the next statement on, in
 * every backend.  `trigger` says who asked ("load_model", "worker", ...).
 * Every attempt, successful or not, is recorded in the load history (and so
 * in taxi_duration.model_loads); a failure is then raised again, and with
 * `automatic` also remembered for model_info() and the "no model" error
 * (unless the load was cancelled).
 */
void
TdLoadModel(const char *uri, const char *trigger, bool automatic)
{
	MemoryContext	   caller_context = CurrentMemoryContext;
	TdLoadEvent		   event;
	TdLoadErrorContext context;

	context.shown_uri = TdRedactUri(uri);
	context.show_uri = TdCallerSeesDetails();

	memset(&event, 0, sizeof(event));
	event.pid = MyProcPid;
	event.roleid = IsBackgroundWorker ? InvalidOid : GetUserId();
	strlcpy(event.trigger, trigger, sizeof(event.trigger));
	strlcpy(event.source, context.shown_uri, sizeof(event.source));

	PG_TRY();
	{
		td_load_model(uri, &context, &event);
	}
	PG_CATCH();
	{
		ErrorData *edata;

		MemoryContextSwitchTo(caller_context);
		edata = CopyErrorData();
		event.ok = false;
		event.at = GetCurrentTimestamp();
		strlcpy(event.message, edata->message ? edata->message : "", sizeof(event.message));
		strlcpy(event.detail, edata->detail ? edata->detail : "", sizeof(event.detail));
		TdRecordLoadEvent(&event);
		/* a cancelled load says nothing about the model: others may retry */
		if (automatic && edata->sqlerrcode != ERRCODE_QUERY_CANCELED)
			TdRecordLoadFailure(context.shown_uri, edata->message, edata->detail);
		if (!context.show_uri && edata->detail != NULL)
			td_rethrow_without_detail(edata);
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
 * The last failure, as one line: "source: message. detail" for privileged
 * callers, the message alone (which never names a server path) for others.
 */
char *
TdDescribeLoadFailure(const TdLoadFailure *failure, bool full)
{
	if (!full)
		return pstrdup(failure->message);
	if (failure->detail[0] == '\0')
		return psprintf("%s: %s", failure->source, failure->message);
	return psprintf("%s: %s. %s", failure->source, failure->message,
					failure->detail);
}

/* ERROR: nothing is served and the last automatic load failed recently. */
static void
td_report_no_model(const TdLoadFailure *failure) pg_attribute_noreturn();

static void
td_report_no_model(const TdLoadFailure *failure)
{
	const char *at = timestamptz_to_str(failure->at);
	const char *sep = failure->detail[0] != '\0' ? ". " : "";

	if (TdCallerSeesDetails())
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("no taxi_duration model is loaded"),
				errdetail("Loading \"%s\" failed at %s: %s%s%s", failure->source, at,
						  failure->message, sep, failure->detail),
				errhint("Fix the bundle or taxi_duration.model_uri, then call taxi_duration.load_model()."));
	ereport(ERROR,
			errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			errmsg("no taxi_duration model is loaded"),
			errdetail("Loading the configured model failed at %s: %s.", at,
					  failure->message),
			errdetail_log("Loading \"%s\" failed at %s: %s%s%s", failure->source, at,
						  failure->message, sep, failure->detail),
			errhint("Ask an administrator to fix the model bundle or taxi_duration.model_uri."));
}

/*
 * The claimed automatic load: unless the last one failed less than
 * taxi_duration.load_retry_interval ago, load the configured model.
 */
static void
td_load_configured(void)
{
	TdLoadFailure failure;

	if (TdLastLoadFailure(&failure) &&
		!TimestampDifferenceExceeds(failure.at, GetCurrentTimestamp(),
									td_load_retry_seconds * 1000))
		td_report_no_model(&failure);
	TdLoadModel(TdConfiguredUri(), "first use", true);
}

/*
 * Make sure some model is published, loading the configured one if needed.
 * Many backends may get here at once: one claims the load (TdBeginLoad) and
 * the others wait, interruptibly, and then find the model there (or claim
 * the next attempt).  A failed load is remembered and not retried for
 * taxi_duration.load_retry_interval, so a broken configuration costs one
 * failed load, not one per call.  The claim is given up however the load
 * ends: success, ERROR, or FATAL and exit (query cancel, termination).
 */
void
TdEnsureModelLoaded(void)
{
	if (TdCurrentGeneration() != 0 || !TdBeginLoad(true))
		return;
	PG_ENSURE_ERROR_CLEANUP(TdLoadCleanup, (Datum) 0);
	{
		td_load_configured();
	}
	PG_END_ENSURE_ERROR_CLEANUP(TdLoadCleanup, (Datum) 0);
	TdEndLoad();
}
