/*
 * loader_worker.c — the "taxi_duration model loader" background worker.
 *
 * Started by the postmaster when the library is preloaded, connected to
 * taxi_duration.database.  It
 *   - loads the configured model (taxi_duration.model_uri, or the default
 *     bundle) as soon as the server is up, so the first query finds it in
 *     shared memory, and again whenever a configuration reload changes
 *     model_uri; a failed load is logged and retried every
 *     taxi_duration.load_retry_interval while nothing is served;
 *   - when model_uri is a registry alias (models:/name@alias), asks the
 *     registry every taxi_duration.poll_interval where the alias points and
 *     loads the new version when it moved: promoting a version is all it
 *     takes to serve it, and moving the alias back is a rollback.  An
 *     explicit load_model() is left alone until the alias moves again;
 *   - writes every load attempt recorded in shared memory (by any backend)
 *     to taxi_duration.model_loads, when the extension exists in its
 *     database.
 * It also runs on a hot standby, which loads and serves its own model:
 * there it writes nothing (recent_model_loads() shows the history kept in
 * shared memory) and, after a promotion, writes what the ring still holds.
 * No transaction, snapshot or lock is held during network I/O; downloads
 * stop on SIGTERM.  The worker runs as the bootstrap superuser, so its
 * search_path is pinned to pg_catalog, pg_temp and all its SQL is
 * schema-qualified.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "serving/serving.h"
#include "tda_aws.h"

#define TD_HISTORY_BATCH 16

/* On a standby, how often the worker checks whether it was promoted. */
#define TD_PROMOTION_CHECK_MS 1000L

/* Register the worker; called from _PG_init while preloading. */
void
TdLoaderWorkerRegister(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState; /* hot standbys too */
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "taxi_duration");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "TdLoaderWorkerMain");
	snprintf(worker.bgw_name, BGW_MAXLEN, "taxi_duration model loader");
	snprintf(worker.bgw_type, BGW_MAXLEN, "taxi_duration model loader");
	RegisterBackgroundWorker(&worker);
}

/*
 * Load `uri`, logging instead of raising on failure (TdLoadModel records
 * the attempt either way).  Returns true when the model was published.
 */
static bool
td_worker_try_load(const char *uri, const char *trigger,
				   MemoryContext work_context)
{
	volatile bool loaded = false;

	PG_TRY();
	{
		MemoryContextSwitchTo(work_context);
		TdLoadModel(uri, trigger, true);
		loaded = true;
	}
	PG_CATCH();
	{
		ErrorData *edata;

		MemoryContextSwitchTo(work_context);
		edata = CopyErrorData();
		FlushErrorState();
		/* no transaction to abort: let go of whatever the error left held */
		LWLockReleaseAll();
		ConditionVariableCancelSleep();
		ereport(LOG,
				errmsg("taxi_duration: could not load model from \"%s\": %s",
					   TdRedactUri(uri), edata->message),
				edata->detail ? errdetail("%s", edata->detail) : 0);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(TopMemoryContext);
	MemoryContextReset(work_context);
	return loaded;
}

/* Insert `n` events into taxi_duration.model_loads (inside a transaction). */
static void
td_insert_events(const TdLoadEvent *events, int n)
{
	static const char *insert =
		"INSERT INTO taxi_duration.model_loads"
		" (loaded_at, outcome, trigger, source, resolved_uri, model_version,"
		"  sha256, generation, message, pid, role, detail)"
		" VALUES ($1, $2, $3, $4, NULLIF($5, ''), NULLIF($6, ''), NULLIF($7, ''),"
		"  $8, NULLIF($9, ''), $10, $11, NULLIF($12, ''))";
	Oid types[12] = { TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
					  TEXTOID, TEXTOID, INT8OID, TEXTOID, INT4OID, TEXTOID,
					  TEXTOID };
	int i;

	for (i = 0; i < n; i++)
	{
		const TdLoadEvent *e = &events[i];
		const char		  *role = OidIsValid(e->roleid) ?
									  GetUserNameFromId(e->roleid, true) :
									  NULL;
		Datum			   values[12];
		char			   nulls[12];

		memset(nulls, ' ', sizeof(nulls));
		values[0] = TimestampTzGetDatum(e->at);
		values[1] = CStringGetTextDatum(e->ok ? "loaded" : "failed");
		values[2] = CStringGetTextDatum(e->trigger);
		values[3] = CStringGetTextDatum(e->source);
		values[4] = CStringGetTextDatum(e->resolved_uri);
		values[5] = CStringGetTextDatum(e->model_version);
		values[6] = CStringGetTextDatum(e->sha256);
		values[7] = Int64GetDatum((int64) e->generation);
		if (!e->ok)
			nulls[7] = 'n';
		values[8] = CStringGetTextDatum(e->message);
		values[9] = Int32GetDatum(e->pid);
		values[10] = role ? CStringGetTextDatum(role) : (Datum) 0;
		if (role == NULL)
			nulls[10] = 'n';
		values[11] = CStringGetTextDatum(e->detail);
		if (SPI_execute_with_args(insert, 12, types, values, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not record a model load in taxi_duration.model_loads");
	}
}

/*
 * Write the load events recorded since *written_seq to model_loads, if the
 * extension is installed in this database; otherwise they are only in the
 * server log.  A failure to write is logged and those events are skipped.
 */
static void
td_worker_write_history(uint64 *written_seq, MemoryContext work_context)
{
	TdLoadEvent events[TD_HISTORY_BATCH];
	uint64		lost;
	int			n;

	if (RecoveryInProgress())
		return; /* a standby cannot write: kept in the ring until promoted */
	while ((n = TdCopyLoadEvents(*written_seq, events, TD_HISTORY_BATCH, &lost)) > 0)
	{
		if (lost > 0)
			ereport(LOG,
					errmsg("taxi_duration: %llu model load records were overwritten before they could be written",
						   (unsigned long long) lost));
		PG_TRY();
		{
			MemoryContextSwitchTo(work_context);
			SetCurrentStatementStartTimestamp();
			StartTransactionCommand();
			SPI_connect();
			PushActiveSnapshot(GetTransactionSnapshot());
			pgstat_report_activity(STATE_RUNNING, "recording model loads");
			if (SPI_execute("SELECT pg_catalog.to_regclass('taxi_duration.model_loads') IS NOT NULL",
							true, 1) == SPI_OK_SELECT &&
				SPI_processed == 1)
			{
				bool isnull;
				bool exists = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
														 SPI_tuptable->tupdesc,
														 1, &isnull));

				if (exists && !isnull)
					td_insert_events(events, n);
			}
			SPI_finish();
			PopActiveSnapshot();
			CommitTransactionCommand();
			pgstat_report_activity(STATE_IDLE, NULL);
		}
		PG_CATCH();
		{
			ErrorData *edata;

			MemoryContextSwitchTo(work_context);
			edata = CopyErrorData();
			FlushErrorState();
			AbortCurrentTransaction();
			ereport(LOG,
					errmsg("taxi_duration: could not record model loads: %s", edata->message));
			pgstat_report_activity(STATE_IDLE, NULL);
		}
		PG_END_TRY();
		*written_seq = events[n - 1].seq;
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(work_context);
	}
}

/* Remember a failure to resolve the alias, once per distinct failure. */
static void
td_worker_poll_failed(const char *uri, const char *message, const char *detail,
					  char *last_error, Size last_error_len)
{
	TdLoadEvent event;
	char		both[2 * TD_EVENT_MESSAGE_MAX];
	char		shown[TD_SOURCE_MAX];

	snprintf(both, sizeof(both), "%s: %s", message, detail);
	if (strcmp(both, last_error) == 0)
		return;
	strlcpy(last_error, both, last_error_len);
	tdc_redact_userinfo(uri, shown, sizeof(shown));
	ereport(LOG,
			errmsg("taxi_duration: could not resolve \"%s\": %s", shown, message),
			detail[0] ? errdetail("%s", detail) : 0);
	memset(&event, 0, sizeof(event));
	event.at = GetCurrentTimestamp();
	event.ok = false;
	event.pid = MyProcPid;
	strlcpy(event.trigger, "worker poll", sizeof(event.trigger));
	strlcpy(event.source, shown, sizeof(event.source));
	strlcpy(event.message, message, sizeof(event.message));
	strlcpy(event.detail, detail, sizeof(event.detail));
	TdRecordLoadEvent(&event);
}

/*
 * Nothing is served: retry the configured model, unless a backend is
 * loading it right now (then its outcome is awaited by the next round).
 * The claim is given up however the load ends, FATAL included.
 */
static bool
td_worker_retry(const char *uri, MemoryContext work_context)
{
	bool loaded = false;

	if (!TdBeginLoad(false))
		return false;
	PG_ENSURE_ERROR_CLEANUP(TdLoadCleanup, (Datum) 0);
	{
		loaded = td_worker_try_load(uri, "worker start", work_context);
	}
	PG_END_ENSURE_ERROR_CLEANUP(TdLoadCleanup, (Datum) 0);
	TdEndLoad();
	return loaded;
}

/* On exit: nobody is to wake this worker's latch any more. */
static void
td_forget_latch(int code, Datum arg)
{
	TdSetLoaderLatch(NULL);
}

void
TdLoaderWorkerMain(Datum main_arg)
{
	MemoryContext work_context;
	char		 *loaded_uri = NULL;
	char		  seen_sha256[TD_SHA256_HEX_LEN + 1] = "";
	char		  poll_error[2 * TD_EVENT_MESSAGE_MAX] = "";
	uint64		  written_seq = 0;
	TimestampTz	  next_poll = 0;
	TimestampTz	  next_retry = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(td_database, NULL, 0);
	/* a superuser session running SQL: nothing but the catalog on the path */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	TdSetLoaderLatch(MyLatch);
	before_shmem_exit(td_forget_latch, (Datum) 0);

	work_context = AllocSetContextCreate(TopMemoryContext,
										 "taxi_duration loader",
										 ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		const char		*uri = TdConfiguredUri();
		bool			 changed = loaded_uri == NULL || strcmp(uri, loaded_uri) != 0;
		bool			 is_alias = strncmp(uri, "models:/", 8) == 0;
		long			 timeout = -1;
		int				 flags = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH;
		TdPublishedModel published;

		/*
		 * Load at start, after model_uri changed, or to retry a failure once
		 * load_retry_interval has passed (recording a failure sets this
		 * worker's latch: without the deadline it would retry at once).
		 */
		if (changed ||
			(TdCurrentGeneration() == 0 && GetCurrentTimestamp() >= next_retry))
		{
			char *attempted = MemoryContextStrdup(TopMemoryContext, uri);
			bool  loaded = false;

			if (!changed)
				loaded = td_worker_retry(attempted, work_context);
			else
				loaded = td_worker_try_load(attempted,
											loaded_uri ? "model_uri changed" : "worker start",
											work_context);
			if (loaded && TdGetPublished(&published))
				strlcpy(seen_sha256, published.sha256, sizeof(seen_sha256));
			if (loaded_uri)
				pfree(loaded_uri);
			loaded_uri = attempted;
			next_poll = GetCurrentTimestamp() + (TimestampTz) td_poll_interval_seconds * USECS_PER_SEC;
			next_retry = GetCurrentTimestamp() +
						 (TimestampTz) Max(td_load_retry_seconds, 1) * USECS_PER_SEC;
		}

		/* has the alias moved? */
		if (is_alias && td_poll_interval_seconds > 0 &&
			GetCurrentTimestamp() >= next_poll)
		{
			char sha256[TD_SHA256_HEX_LEN + 1];
			char version[128];
			char message[TD_EVENT_MESSAGE_MAX];
			char detail[TD_EVENT_MESSAGE_MAX];

			if (TdResolveModel(uri, sha256, sizeof(sha256), version, sizeof(version),
							   message, detail, sizeof(message)))
			{
				poll_error[0] = '\0';
				if (strcmp(sha256, seen_sha256) != 0 &&
					td_worker_try_load(uri, "worker poll", work_context) &&
					TdGetPublished(&published))
					strlcpy(seen_sha256, published.sha256, sizeof(seen_sha256));
			}
			else
				td_worker_poll_failed(uri, message, detail, poll_error, sizeof(poll_error));
			next_poll = GetCurrentTimestamp() + (TimestampTz) td_poll_interval_seconds * USECS_PER_SEC;
		}

		td_worker_write_history(&written_seq, work_context);

		if (is_alias && td_poll_interval_seconds > 0)
		{
			flags |= WL_TIMEOUT;
			timeout = Max(1L, (long) ((next_poll - GetCurrentTimestamp()) / 1000));
		}
		if (TdCurrentGeneration() == 0)
		{
			long retry = Max(1L, (long) ((next_retry - GetCurrentTimestamp()) / 1000));

			flags |= WL_TIMEOUT;
			timeout = timeout < 0 ? retry : Min(timeout, retry);
		}
		if (RecoveryInProgress())
		{
			/* a standby: look again soon, to write the history once promoted */
			flags |= WL_TIMEOUT;
			timeout = timeout < 0 ? TD_PROMOTION_CHECK_MS : Min(timeout, TD_PROMOTION_CHECK_MS);
		}

		(void) WaitLatch(MyLatch, flags, timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}
