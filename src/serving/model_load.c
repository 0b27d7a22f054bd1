/*
 * model_load.c — fetch, compile and publish a model.
 *
 * TdLoadModel() is the one path every load takes (load_model(), the loader
 * worker, the automatic first load): fetch the bundle's bytes, hash them,
 * compile them with the model library into a flat image, and publish the image in
 * shared memory.  Any failure raises an ERROR before the publish step, so
 * the model being served keeps serving.  All memory lives in a private
 * context that is gone when the load ends, successfully or not.
 *
 * Cancelling (docs/serving.md): a load is cancellable up to the moment it
 * starts publishing and never after.  Interrupts are held from just before
 * the publish step until the caller has recorded the load and built its
 * result (TdLoadModelHeld / TdEndPublishHold), so the caller's result, the
 * served model and model_loads agree.
 *
 * A failure's message never names a server path; its detail may, and is
 * shown to privileged callers only (access.c): others get it in the server
 * log.  The automatic first load (TdEnsureModelLoaded) is claimed with the
 * shared "loading" flag (shmem.c), never with a lock held across the fetch.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "serving/serving.h"
#include "tda_aws.h"

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

/* What a load has read and compiled, in its private memory context. */
typedef struct TdCompiledBundle
{
	TdFetchedBundle fetched;
	char			sha256[TD_SHA256_HEX_LEN + 1];
	td_image	   *image;
	size_t			image_bytes;
} TdCompiledBundle;

/*
 * Fetch, hash and compile the bundle.  Cancellable throughout: the fetch
 * checks between chunks, the model library polls TdInterruptPending in its loops
 * and between its phases, and the pending interrupt is raised here between
 * ours.  Nothing shared changes.
 */
static void
td_fetch_and_compile(const char *uri, TdCompiledBundle *out)
{
	td_limits limits;
	td_error  error;

	TdFetchBundle(uri, (Size) td_max_bundle_size_kb * 1024, &out->fetched);
	CHECK_FOR_INTERRUPTS();
	tda_sha256_hex(out->fetched.data, out->fetched.len, out->sha256);

	td_default_limits(&limits);
	limits.max_bundle_bytes = (size_t) td_max_bundle_size_kb * 1024;
	limits.cancel_requested = TdInterruptPending;
	if (td_compile_bundle(out->fetched.data, out->fetched.len, &limits,
						  &out->image, &out->image_bytes, &error) != TD_OK)
		TdReportModelError(&error);
	CHECK_FOR_INTERRUPTS();
	/* never publish an image that fails its own full check */
	if (td_image_check(out->image, out->image_bytes, &error) != TD_OK)
		TdReportModelError(&error);
}

/* For tests: wait `ms` milliseconds, honouring cancel and termination. */
static void
td_debug_wait_cancellable(int ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
	long		left;

	while ((left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end)) > 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* For tests: wait `ms` milliseconds with interrupts held (signals only wake). */
static void
td_debug_wait_held(int ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
	long		left;

	while ((left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end)) > 0)
		pg_usleep(Min(left, 100L) * 1000L);
}

/*
 * The last cancel point, then the point of no return (docs/serving.md,
 * "Cancelling a load"): interrupts are held from here until the caller's
 * TdEndPublishHold(), so a cancel, statement_timeout or termination that
 * arrives now cannot fail a load whose model is (being) served.  An ERROR
 * in TdPublishModel (no DSM slot) still fails the load, with nothing
 * published; errfinish() ends the hold then.
 */
static uint64
td_publish(const TdCompiledBundle *compiled, const char *source)
{
	if (td_debug_delay_before_publish_ms > 0)
		td_debug_wait_cancellable(td_debug_delay_before_publish_ms);
	CHECK_FOR_INTERRUPTS();
	HOLD_INTERRUPTS();
	if (td_debug_delay_while_publishing_ms > 0)
		td_debug_wait_held(td_debug_delay_while_publishing_ms);
	return TdPublishModel(compiled->image, compiled->image_bytes, source,
						  compiled->sha256, (int64) compiled->fetched.len);
}

/*
 * The load itself: fetch, compile, publish; fills `event` as it learns.
 * Returns with interrupts held once the model is published; nothing after
 * the publish step can fail.
 */
static void
td_load_model(const char *uri, TdLoadErrorContext *context, TdLoadEvent *event)
{
	MemoryContext		 load_context;
	MemoryContext		 old_context;
	ErrorContextCallback callback;
	TdCompiledBundle	 compiled;
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

	memset(&compiled, 0, sizeof(compiled));
	td_fetch_and_compile(uri, &compiled);
	strlcpy(event->resolved_uri, compiled.fetched.resolved_uri, sizeof(event->resolved_uri));
	strlcpy(event->sha256, compiled.sha256, sizeof(event->sha256));
	strlcpy(event->model_version, td_image_meta(compiled.image, TD_META_MODEL_VERSION),
			sizeof(event->model_version));

	event->generation = td_publish(&compiled, context->shown_uri);
	error_context_stack = callback.previous;

	/* interrupts are held: this LOG cannot raise a pending cancel */
	TimestampDifference(started, GetCurrentTimestamp(), &secs, &usecs);
	ereport(LOG,
			errmsg("taxi_duration: serving model \"%s\" version \"%s\" from \"%s\"",
				   td_image_meta(compiled.image, TD_META_MODEL_NAME),
				   td_image_meta(compiled.image, TD_META_MODEL_VERSION), context->shown_uri),
			errdetail("Bundle of %zu bytes, sha256 %s%s%s, compiled to an image of %zu bytes in %ld ms.",
					  compiled.fetched.len, compiled.sha256,
					  compiled.fetched.resolved_uri[0] ? ", downloaded from " : "",
					  compiled.fetched.resolved_uri, compiled.image_bytes,
					  secs * 1000 + usecs / 1000));

	MemoryContextSwitchTo(old_context);
	MemoryContextDelete(load_context);
}

/*
 * Re-raise a copied error for a caller who may not see details: the detail
 * goes to the server log only.
 */
pg_noreturn static void td_rethrow_without_detail(ErrorData *edata);

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
 *
 * On success this returns with interrupts still held (the publish hold,
 * docs/serving.md): the caller builds its result and then calls
 * TdEndPublishHold().  On failure the hold is already over.
 */
void
TdLoadModelHeld(const char *uri, const char *trigger, bool automatic)
{
	MemoryContext	   caller_context = CurrentMemoryContext;
	TdLoadEvent		   event;
	TdLoadErrorContext context;

	context.shown_uri = TdRedactUri(uri);
	context.show_uri = TdCallerSeesDetails();

	memset(&event, 0, sizeof(event));
	event.pid = MyProcPid;
	event.roleid = AmBackgroundWorkerProcess() ? InvalidOid : GetUserId();
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

	Assert(InterruptHoldoffCount > 0);
	event.ok = true;
	event.at = GetCurrentTimestamp();
	TdRecordLoadEvent(&event);
}

/*
 * End the publish hold begun by a successful TdLoadModelHeld().  With
 * `drop_late_cancel` (load_model(), whose result is the load's outcome) a
 * query cancel or statement_timeout that became pending while interrupts
 * were held arrived too late to stop the load and is dropped, with a
 * NOTICE: the call then returns success, as the model is served and
 * recorded as loaded.  Anything pending before the hold was raised at the
 * CHECK_FOR_INTERRUPTS() just before it, so what is pending now arrived
 * during the hold.  Termination is never dropped, nor other interrupts
 * (InterruptPending stays set for them).  The statement's timeout is also
 * disarmed for what is left of the statement (PostgreSQL arms it again for
 * the next one): it must not fire after the function returned, while the
 * result is sent, and fail a call whose model is served.  Without the flag
 * a late cancel stays pending and cancels the rest of the statement as
 * usual.
 */
void
TdEndPublishHold(bool drop_late_cancel)
{
	if (drop_late_cancel && QueryCancelPending)
	{
		QueryCancelPending = false;
		/* whichever timeout caused the cancel: forget it, as ProcessInterrupts would */
		(void) get_timeout_indicator(LOCK_TIMEOUT, true);
		(void) get_timeout_indicator(STATEMENT_TIMEOUT, true);
		ereport(NOTICE,
				errmsg("cancel request ignored: the model was already being published"),
				errdetail("A load cannot be cancelled once publishing has started; the new model is served."));
	}
	if (drop_late_cancel && get_timeout_active(STATEMENT_TIMEOUT))
		disable_timeout(STATEMENT_TIMEOUT, false);
	RESUME_INTERRUPTS();
}

/* TdLoadModelHeld() for callers with no result to build. */
void
TdLoadModel(const char *uri, const char *trigger, bool automatic)
{
	TdLoadModelHeld(uri, trigger, automatic);
	TdEndPublishHold(false);
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
pg_noreturn static void td_report_no_model(const TdLoadFailure *failure);

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
