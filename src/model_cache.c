/*
 * model_cache.c — each backend's view of the served model.
 *
 * A backend maps the current model's DSM segment once and keeps it mapped
 * for as long as that version is current: no copy, no per-call lookup.  The
 * version is chosen once per top-level statement (keyed by the local
 * transaction id and the statement start time): the first prediction of a
 * statement reads the shared generation counter and, if it moved, maps the
 * new segment and lets the old one go; every later call in that statement,
 * from any call site, nested functions included, reuses the same mapping.
 * A statement therefore never mixes versions, and the statement after a
 * load_model() uses the new one.  Parallel workers take the version their
 * leader's statement runs on (shmem.c publishes it per backend).
 *
 * Between statements nothing here is in use, so switching versions can drop
 * the old mapping at once; the segment itself lives on while other backends
 * still map it.
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "storage/proc.h"
#include "utils/memutils.h"

#include "taxi_duration.h"

struct TdModelRef
{
	uint64			 generation;
	dsm_segment		*segment;
	const td_image	*image;
	td_predictor	*predictor;
	TdStandardInputs inputs;
};

static MemoryContext	  td_model_context = NULL;
static TdModelRef		 *td_current = NULL;
static LocalTransactionId td_statement_lxid = InvalidLocalTransactionId;
static TimestampTz		  td_statement_start = 0;

/* Drop a mapping and everything built on it. */
static void
td_release(TdModelRef *ref)
{
	if (ref->predictor != NULL)
		td_predictor_free(ref->predictor);
	dsm_detach(ref->segment);
	pfree(ref);
}

/* Map `wanted_generation` (0: the current one) and make it this backend's. */
static void
td_switch_model(uint64 wanted_generation)
{
	TdPublishedModel published;
	dsm_segment		*segment;
	TdModelRef		*ref;
	MemoryContext	 old_context;
	td_error		 error;
	bool			 already_mapped;

	if (td_model_context == NULL)
		td_model_context = AllocSetContextCreate(TopMemoryContext,
												 "taxi_duration models",
												 ALLOCSET_SMALL_SIZES);

	segment = TdAttachPublished(wanted_generation, &published, &already_mapped);
	if (segment == NULL)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("no taxi_duration model is loaded"),
				errhint("Call taxi_duration.load_model(uri) or set taxi_duration.model_uri."));

	if (already_mapped)
	{
		/* the only segment this backend maps is td_current's */
		Assert(td_current != NULL && td_current->segment == segment);
		return;
	}

	/* fully checked before it was published (model_load.c): header only */
	if (td_image_check_header(dsm_segment_address(segment),
							  published.image_bytes, &error) != TD_OK)
	{
		dsm_detach(segment);
		TdReportCoreError(&error);
	}

	old_context = MemoryContextSwitchTo(td_model_context);
	ref = palloc0(sizeof(TdModelRef));
	ref->generation = published.generation;
	ref->segment = segment;
	ref->image = (const td_image *) dsm_segment_address(segment);
	if (td_predictor_create(ref->image, &ref->predictor, &error) != TD_OK)
	{
		MemoryContextSwitchTo(old_context);
		dsm_detach(segment);
		pfree(ref);
		TdReportCoreError(&error);
	}
	MemoryContextSwitchTo(old_context);

	ref->inputs.pu_location_id = td_image_find_input(ref->image, "PULocationID");
	ref->inputs.do_location_id = td_image_find_input(ref->image, "DOLocationID");
	ref->inputs.trip_distance = td_image_find_input(ref->image, "trip_distance");
	ref->inputs.pickup_datetime = td_image_find_input(ref->image, "pickup_datetime");

	if (td_current != NULL)
		td_release(td_current);
	td_current = ref;
}

/* Slow path of TdModelForCall: first prediction of a statement. */
static TdModelRef *
td_model_for_new_statement(LocalTransactionId lxid, TimestampTz start)
{
	uint64 wanted = 0;
	uint64 generation;

	if (IsParallelWorker())
		wanted = TdLeaderStatementGeneration();
	generation = wanted != 0 ? wanted : TdCurrentGeneration();
	if (generation == 0)
	{
		TdEnsureModelLoaded();
		generation = TdCurrentGeneration();
	}
	if (td_current == NULL || td_current->generation != generation)
		td_switch_model(wanted);

	td_statement_lxid = lxid;
	td_statement_start = start;
	if (!IsParallelWorker())
		TdSetStatementGeneration(td_current->generation);
	return td_current;
}

/*
 * The model this statement predicts with, mapping a newer version first if
 * one was published since this backend's previous statement.
 */
TdModelRef *
TdModelForCall(void)
{
	LocalTransactionId lxid = TD_MY_LXID();
	TimestampTz		   start = GetCurrentStatementStartTimestamp();

	if (likely(td_current != NULL && lxid == td_statement_lxid &&
			   start == td_statement_start))
		return td_current;
	return td_model_for_new_statement(lxid, start);
}

td_predictor *
TdModelPredictor(TdModelRef *ref)
{
	return ref->predictor;
}

const td_image *
TdModelImage(TdModelRef *ref)
{
	return ref->image;
}

const TdStandardInputs *
TdModelStandardInputs(TdModelRef *ref)
{
	return &ref->inputs;
}

uint64
TdModelGeneration(TdModelRef *ref)
{
	return ref->generation;
}
