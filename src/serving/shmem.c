/*
 * shmem.c — the shared control block and the published model.
 *
 * One fixed shared-memory block (sized at postmaster start, so the library
 * must be in shared_preload_libraries) describes the model being served.
 * The model itself is a flat, position-independent image (core/) in its own
 * dynamic shared memory segment, one segment per published version:
 *
 *   publish: build the image in private memory, copy it into a new DSM
 *            segment, pin the segment, then under the exclusive lock swap
 *            `current`, bump `generation` and remember the version in a
 *            small ring; finally unpin the segment before the previous one
 *            (the previous one stays pinned until the next publish, so that
 *            a statement that started just before a swap still finds its
 *            version: statement_model.c).  A segment lives while it is
 *            pinned or any backend maps it, so a statement still running on
 *            an old version keeps it alive and the last backend to let go
 *            frees it.
 *   read:    backends read `generation` (an atomic, no lock) once per
 *            statement; only when it moved do they take the shared lock to
 *            read the handle and attach (model_cache.c).  Attaching happens
 *            under the lock, so a segment cannot be unpinned and destroyed
 *            between reading its handle and mapping it.
 *
 * Locking protocol:
 *   lock       (shared to read, exclusive to write) guards current, recent[],
 *              next_recent, the last-failure fields, the load history ring
 *              and loader_latch; `generation` is written only while holding
 *              it exclusively.
 *   loading, loading_pid
 *              "an automatic load of the configured model is under way, by
 *              that process": set and cleared under `lock` (never held across
 *              the load itself: no LWLock is ever held across I/O).  Whoever
 *              finds it set waits on `load_cv` instead of loading too, so a
 *              burst of first calls loads the model once.  The wait is a
 *              condition-variable sleep, so waiters honour query cancel,
 *              statement_timeout and termination.  The loader clears the flag
 *              and broadcasts when it is done, on success, on ERROR and on
 *              FATAL or exit (TdLoadCleanup, run by PG_ENSURE_ERROR_CLEANUP
 *              as a before_shmem_exit callback).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "serving/serving.h"

#define TD_RECENT_MODELS 16
#define TD_FAILURE_MESSAGE_MAX 512

typedef struct TdRecentModel
{
	uint64	   generation;
	dsm_handle handle;
} TdRecentModel;

typedef struct TdSharedState
{
	LWLock			 *lock;
	bool			  loading;	   /* an automatic load is under way */
	int				  loading_pid; /* by this process */
	ConditionVariable load_cv;	   /* broadcast when `loading` is cleared */
	pg_atomic_uint64  generation;
	TdPublishedModel  current;
	TdRecentModel	  recent[TD_RECENT_MODELS];
	int				  next_recent;
	TimestampTz		  failure_at;
	char			  failure_source[TD_SOURCE_MAX];
	char			  failure_message[TD_FAILURE_MESSAGE_MAX];
	char			  failure_detail[TD_FAILURE_MESSAGE_MAX];
	uint64			  history_next_seq;			 /* seq of the next event */
	TdLoadEvent		  history[TD_HISTORY_SLOTS]; /* ring, by seq */
	Latch			 *loader_latch;				 /* the loader worker's, to wake it */
	dsm_handle		  retained;					 /* the previous model's segment, still pinned */
	bool			  has_retained;
} TdSharedState;

bool td_shmem_ready = false;

static TdSharedState *td_state = NULL;

#ifdef TD_HAVE_SHMEM_REQUEST_HOOK
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Size of the shared block. */
static Size
td_shmem_size(void)
{
	return sizeof(TdSharedState);
}

/* Ask for our shared memory and locks (PG15+: from the request hook). */
static void
td_shmem_request(void)
{
#ifdef TD_HAVE_SHMEM_REQUEST_HOOK
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(td_shmem_size());
	RequestNamedLWLockTranche("taxi_duration", 1);
}

/* Create or attach to the shared block. */
static void
td_shmem_startup(void)
{
	bool found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	td_state = ShmemInitStruct("taxi_duration", td_shmem_size(), &found);
	if (!found)
	{
		LWLockPadded *locks = GetNamedLWLockTranche("taxi_duration");

		memset(td_state, 0, sizeof(TdSharedState));
		td_state->history_next_seq = 1;
		td_state->lock = &locks[0].lock;
		ConditionVariableInit(&td_state->load_cv);
		pg_atomic_init_u64(&td_state->generation, 0);
	}
	LWLockRelease(AddinShmemInitLock);
	td_shmem_ready = true;
}

/* Install the hooks; called from _PG_init while preloading. */
void
TdShmemInit(void)
{
#ifdef TD_HAVE_SHMEM_REQUEST_HOOK
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = td_shmem_request;
#else
	td_shmem_request();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = td_shmem_startup;
}

/* ERROR unless the library was preloaded and the shared block exists. */
void
TdRequireSharedState(void)
{
	if (td_state == NULL)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("taxi_duration must be loaded via \"shared_preload_libraries\""),
				errdetail("The model is kept in shared memory, which is set up only when the server starts with the library preloaded."),
				errhint("Add taxi_duration to shared_preload_libraries in postgresql.conf and restart the server."));
}

/* The generation being served (0: none), read without a lock. */
uint64
TdCurrentGeneration(void)
{
	TdRequireSharedState();
	return pg_atomic_read_u64(&td_state->generation);
}

/* Copy the current model's description; false if nothing is published. */
bool
TdGetPublished(TdPublishedModel *published)
{
	bool have;

	TdRequireSharedState();
	LWLockAcquire(td_state->lock, LW_SHARED);
	have = td_state->current.generation != 0;
	if (have)
		*published = td_state->current;
	LWLockRelease(td_state->lock);
	return have;
}

/*
 * Put an image into a new DSM segment and make it the current model;
 * returns its generation.
 * Nothing that can fail runs between pinning the new segment and swapping
 * it in, so an error leaves the previous model serving and leaks nothing.
 */
uint64
TdPublishModel(const td_image *image, Size image_bytes, const char *source,
			   const char *sha256, int64 bundle_bytes)
{
	dsm_segment		*segment;
	TdPublishedModel previous;
	uint64			 generation;
	dsm_handle		 release = 0;
	bool			 has_release;

	TdRequireSharedState();

	segment = dsm_create(image_bytes, DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (segment == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				errmsg("could not create a shared memory segment for the model"),
				errdetail("The server has no free dynamic shared memory slot."),
				errhint("Retry once statements using older model versions have finished."));
	memcpy(dsm_segment_address(segment), image, image_bytes);
	dsm_pin_segment(segment);

	LWLockAcquire(td_state->lock, LW_EXCLUSIVE);
	previous = td_state->current;
	/* keep the previous model pinned; let go of the one before it */
	has_release = td_state->has_retained;
	if (has_release)
		release = td_state->retained;
	td_state->has_retained = previous.generation != 0;
	td_state->retained = previous.handle;
	generation = pg_atomic_read_u64(&td_state->generation) + 1;

	td_state->current.generation = generation;
	td_state->current.handle = dsm_segment_handle(segment);
	td_state->current.image_bytes = image_bytes;
	td_state->current.bundle_bytes = bundle_bytes;
	td_state->current.loaded_at = GetCurrentTimestamp();
	td_state->current.loaded_by = OidIsValid(MyDatabaseId) ? GetUserId() : InvalidOid;
	strlcpy(td_state->current.source, source, TD_SOURCE_MAX);
	strlcpy(td_state->current.sha256, sha256, sizeof(td_state->current.sha256));

	td_state->recent[td_state->next_recent].generation = generation;
	td_state->recent[td_state->next_recent].handle = td_state->current.handle;
	td_state->next_recent = (td_state->next_recent + 1) % TD_RECENT_MODELS;
	td_state->failure_at = 0;
	td_state->failure_source[0] = '\0';
	td_state->failure_message[0] = '\0';
	td_state->failure_detail[0] = '\0';

	pg_atomic_write_u64(&td_state->generation, generation);
	LWLockRelease(td_state->lock);

	if (has_release)
		dsm_unpin_segment(release);
	dsm_detach(segment);
	return generation;
}

/* dsm_attach, or this process's existing mapping of the segment. */
static dsm_segment *
td_attach_once(dsm_handle handle, bool *already_mapped)
{
	dsm_segment *segment = dsm_find_mapping(handle);

	if (segment != NULL)
	{
		*already_mapped = true;
		return segment;
	}
	return dsm_attach(handle);
}

/*
 * Map the segment of `wanted_generation` (0: the current one) and describe
 * it.  A wanted generation no longer published falls back to the current
 * one.  Returns NULL if nothing is published.  A new mapping is pinned for
 * the session and the caller detaches it when done; if this backend already
 * maps that segment (a segment maps once per process), that mapping is
 * returned with *already_mapped set, and the caller must not detach it.
 */
dsm_segment *
TdAttachPublished(uint64 wanted_generation, TdPublishedModel *published,
				  bool *already_mapped)
{
	dsm_segment *segment = NULL;
	int			 i;

	TdRequireSharedState();
	*already_mapped = false;
	LWLockAcquire(td_state->lock, LW_SHARED);
	if (wanted_generation != 0 &&
		wanted_generation != td_state->current.generation)
	{
		for (i = 0; i < TD_RECENT_MODELS && segment == NULL; i++)
		{
			if (td_state->recent[i].generation == wanted_generation)
			{
				/* still mapped by the leader, or already gone (NULL) */
				segment = td_attach_once(td_state->recent[i].handle, already_mapped);
				if (segment != NULL)
				{
					*published = td_state->current;
					published->generation = wanted_generation;
					published->handle = td_state->recent[i].handle;
				}
			}
		}
	}
	if (segment == NULL && td_state->current.generation != 0)
	{
		*published = td_state->current;
		segment = td_attach_once(td_state->current.handle, already_mapped);
		if (segment == NULL)
			elog(ERROR, "taxi_duration: current model segment %u is gone",
				 td_state->current.handle);
	}
	if (segment != NULL && !*already_mapped)
		dsm_pin_mapping(segment);
	LWLockRelease(td_state->lock);
	return segment;
}

/*
 * Remember why an automatic load failed (shown by model_info()): the
 * error's message, which never names a server path, and its detail, which
 * may and is shown to privileged roles only.
 */
void
TdRecordLoadFailure(const char *source, const char *message,
					const char *detail)
{
	if (td_state == NULL)
		return;
	LWLockAcquire(td_state->lock, LW_EXCLUSIVE);
	td_state->failure_at = GetCurrentTimestamp();
	strlcpy(td_state->failure_source, source ? source : "", TD_SOURCE_MAX);
	strlcpy(td_state->failure_message, message ? message : "", TD_FAILURE_MESSAGE_MAX);
	strlcpy(td_state->failure_detail, detail ? detail : "", TD_FAILURE_MESSAGE_MAX);
	LWLockRelease(td_state->lock);
}

/* The last automatic-load failure since the last publish, if any. */
bool
TdLastLoadFailure(TdLoadFailure *failure)
{
	bool have;

	TdRequireSharedState();
	LWLockAcquire(td_state->lock, LW_SHARED);
	have = td_state->failure_at != 0;
	if (have)
	{
		strlcpy(failure->source, td_state->failure_source, sizeof(failure->source));
		strlcpy(failure->message, td_state->failure_message, sizeof(failure->message));
		strlcpy(failure->detail, td_state->failure_detail, sizeof(failure->detail));
		failure->at = td_state->failure_at;
	}
	LWLockRelease(td_state->lock);
	return have;
}

/*
 * Append a load attempt to the history ring (its seq is assigned here) and
 * wake the loader worker, which writes it to taxi_duration.model_loads.
 */
void
TdRecordLoadEvent(TdLoadEvent *event)
{
	Latch *latch;

	if (td_state == NULL)
		return;
	LWLockAcquire(td_state->lock, LW_EXCLUSIVE);
	event->seq = td_state->history_next_seq++;
	td_state->history[event->seq % TD_HISTORY_SLOTS] = *event;
	latch = td_state->loader_latch;
	LWLockRelease(td_state->lock);
	if (latch != NULL)
		SetLatch(latch);
}

/*
 * Copy up to max_events events with seq > after_seq, oldest first.  *lost
 * counts events that were overwritten before anyone copied them.
 */
int
TdCopyLoadEvents(uint64 after_seq, TdLoadEvent *events, int max_events,
				 uint64 *lost)
{
	uint64 first;
	uint64 seq;
	int	   n = 0;

	*lost = 0;
	if (td_state == NULL)
		return 0;
	LWLockAcquire(td_state->lock, LW_SHARED);
	first = after_seq + 1;
	if (td_state->history_next_seq > TD_HISTORY_SLOTS &&
		first < td_state->history_next_seq - TD_HISTORY_SLOTS)
	{
		*lost = td_state->history_next_seq - TD_HISTORY_SLOTS - first;
		first = td_state->history_next_seq - TD_HISTORY_SLOTS;
	}
	for (seq = first; seq < td_state->history_next_seq && n < max_events; seq++)
		events[n++] = td_state->history[seq % TD_HISTORY_SLOTS];
	LWLockRelease(td_state->lock);
	return n;
}

/* Register (or with NULL, forget) the loader worker's latch. */
void
TdSetLoaderLatch(Latch *latch)
{
	if (td_state == NULL)
		return;
	LWLockAcquire(td_state->lock, LW_EXCLUSIVE);
	td_state->loader_latch = latch;
	LWLockRelease(td_state->lock);
}

/*
 * Claim the automatic load of the configured model.  Returns true when this
 * process is now the loader (it must call TdEndLoad, and cover the load
 * with PG_ENSURE_ERROR_CLEANUP(TdLoadCleanup, 0)); false when a model is
 * published by then, or, with wait = false, when another process is loading.
 * While another process loads, a waiter sleeps on the condition variable:
 * query cancel, statement_timeout and termination interrupt the sleep.
 */
bool
TdBeginLoad(bool wait)
{
	bool claimed = false;

	TdRequireSharedState();
	for (;;)
	{
		bool busy;

		LWLockAcquire(td_state->lock, LW_EXCLUSIVE);
		busy = td_state->loading;
		if (!busy && pg_atomic_read_u64(&td_state->generation) == 0)
		{
			td_state->loading = true;
			td_state->loading_pid = MyProcPid;
			claimed = true;
		}
		LWLockRelease(td_state->lock);
		if (!busy || !wait)
			break;
		ConditionVariableSleep(&td_state->load_cv, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	return claimed;
}

/* Give up the automatic load claimed by TdBeginLoad and wake the waiters. */
void
TdEndLoad(void)
{
	bool was_loader;

	if (td_state == NULL)
		return;
	LWLockAcquire(td_state->lock, LW_EXCLUSIVE);
	was_loader = td_state->loading && td_state->loading_pid == MyProcPid;
	if (was_loader)
	{
		td_state->loading = false;
		td_state->loading_pid = 0;
	}
	LWLockRelease(td_state->lock);
	if (was_loader)
		ConditionVariableBroadcast(&td_state->load_cv);
}

/* PG_ENSURE_ERROR_CLEANUP callback: the loader failed or is exiting. */
void
TdLoadCleanup(int code, Datum arg)
{
	TdEndLoad();
}
