/*
 * loader_worker.c — the "taxi_duration model loader" background worker.
 *
 * Started by the postmaster when the library is preloaded.  It loads the
 * configured model (taxi_duration.model_uri, or the default bundle) as soon
 * as the server is up, so the first query finds it in shared memory, and
 * loads it again whenever a configuration reload changes model_uri.  A
 * failed load is logged and retried every taxi_duration.load_retry_interval
 * while nothing is served.  It needs shared memory but no database.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "taxi_duration.h"

/* Register the worker; called from _PG_init while preloading. */
void
TdLoaderWorkerRegister(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "taxi_duration");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "TdLoaderWorkerMain");
	snprintf(worker.bgw_name, BGW_MAXLEN, "taxi_duration model loader");
	snprintf(worker.bgw_type, BGW_MAXLEN, "taxi_duration model loader");
	RegisterBackgroundWorker(&worker);
}

/*
 * Load `uri`, logging instead of raising on failure.  Returns true when the
 * model was published.
 */
static bool
td_worker_try_load(const char *uri, MemoryContext work_context)
{
	volatile bool loaded = false;

	PG_TRY();
	{
		MemoryContextSwitchTo(work_context);
		TdLoadModel(uri);
		loaded = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(work_context);
		edata = CopyErrorData();
		FlushErrorState();
		LWLockReleaseAll();
		TdRecordLoadFailure(uri, edata->message);
		ereport(LOG,
				errmsg("taxi_duration: could not load model from \"%s\": %s",
					   uri, edata->message),
				edata->detail ? errdetail("%s", edata->detail) : 0);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(TopMemoryContext);
	MemoryContextReset(work_context);
	return loaded;
}

void
TdLoaderWorkerMain(Datum main_arg)
{
	MemoryContext work_context;
	char	   *loaded_uri = NULL;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* sha256 (OpenSSL) and DSM mappings register with a resource owner */
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "taxi_duration loader");

	work_context = AllocSetContextCreate(TopMemoryContext,
										 "taxi_duration loader",
										 ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		const char *uri = TdConfiguredUri();
		bool		changed = loaded_uri == NULL || strcmp(uri, loaded_uri) != 0;
		long		timeout = -1;
		int			flags = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH;

		/* load at start, after model_uri changed, or to retry a failure */
		if (changed || TdCurrentGeneration() == 0)
		{
			char	   *attempted = MemoryContextStrdup(TopMemoryContext, uri);

			if (!changed)
			{
				/* nothing served yet: another backend may be loading it */
				TdAcquireLoadLock();
				if (TdCurrentGeneration() == 0)
					td_worker_try_load(attempted, work_context);
				TdReleaseLoadLock();
			}
			else
				td_worker_try_load(attempted, work_context);
			if (loaded_uri)
				pfree(loaded_uri);
			loaded_uri = attempted;
		}
		if (TdCurrentGeneration() == 0)
		{
			flags |= WL_TIMEOUT;
			timeout = Max(td_load_retry_seconds, 1) * 1000L;
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
