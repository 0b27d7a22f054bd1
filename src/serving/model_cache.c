/*
 * model_cache.c — each backend's mappings of the served models.
 *
 * A backend maps a model's DSM segment once and predicts from it with no
 * copy and no per-call lookup.  Which version a call uses is decided per
 * statement (statement_model.c): the first prediction of a statement maps
 * the generation the statement was pinned to when it started, and every
 * later call of that statement, from any call site, reuses that mapping.
 * So a statement never mixes versions, a cursor keeps its version across
 * FETCHes, and parallel workers use their leader's version.
 *
 * Several versions can be mapped at once (an open cursor on the old one, a
 * new statement on the new one); a mapping is let go when no statement
 * holds it and it is not the one this backend used last (kept, so that the
 * next statement on the same version costs nothing).  The segment itself
 * lives on while any backend maps it, and the previous generation stays
 * pinned in shared memory until the next load (shmem.c), so a statement
 * that started just before a swap still finds its version.
 *
 * Calls outside any executor statement (a DO block, the planner estimating
 * an expression) use the current model, chosen once per top-level command.
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "storage/proc.h"
#include "utils/memutils.h"

#include "serving/serving.h"

struct TdModelRef
{
	uint64			 generation;
	dsm_segment		*segment;
	const td_image	*image;
	td_predictor	*predictor;
	TdStandardInputs inputs;
	int				 pins; /* statements holding it */
};

static MemoryContext td_model_context = NULL;
static List			*td_refs = NIL;	 /* every mapping, in td_model_context */
static TdModelRef	*td_last = NULL; /* the one used last */

/* Outside any executor statement: the command the last choice was made for. */
static LocalTransactionId td_command_lxid = InvalidLocalTransactionId;
static TimestampTz		  td_command_start = 0;

/* Drop a mapping and everything built on it. */
static void
td_release(TdModelRef *ref)
{
	td_refs = list_delete_ptr(td_refs, ref);
	if (ref->predictor != NULL)
		td_predictor_free(ref->predictor);
	dsm_detach(ref->segment);
	pfree(ref);
}

/* Make `ref` the last used, letting go of the previous one if unheld. */
static void
td_use(TdModelRef *ref)
{
	TdModelRef *previous = td_last;

	td_last = ref;
	if (previous != NULL && previous != ref && previous->pins == 0)
		td_release(previous);
}

/* ERROR: the version a statement started with was unloaded meanwhile. */
pg_noreturn static void td_report_version_gone(uint64 wanted);

static void
td_report_version_gone(uint64 wanted)
{
	ereport(ERROR,
			errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			errmsg("the model version this statement started with is no longer available"),
			errdetail("The statement started on model generation " UINT64_FORMAT
					  ", and at least two other models were loaded before its first prediction.",
					  wanted),
			errhint("Run the statement again."));
}

/* Map generation `wanted` (0: the current one); exactly it when `exact`. */
static TdModelRef *
td_map(uint64 wanted, bool exact)
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

	segment = TdAttachPublished(wanted, &published, &already_mapped);
	if (segment == NULL)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("no taxi_duration model is loaded"),
				errhint("Call taxi_duration.load_model(uri) or set taxi_duration.model_uri."));
	if (already_mapped)
	{
		ListCell *lc;

		/* every segment this backend maps is one of td_refs */
		foreach (lc, td_refs)
		{
			ref = lfirst(lc);
			if (ref->segment == segment)
			{
				if (exact && ref->generation != wanted)
					td_report_version_gone(wanted);
				return ref;
			}
		}
		elog(ERROR, "taxi_duration: model segment mapped outside the model cache");
	}
	if (exact && published.generation != wanted)
	{
		dsm_detach(segment);
		td_report_version_gone(wanted);
	}

	/* fully checked before it was published (model_load.c): header only */
	if (td_image_check_header(dsm_segment_address(segment),
							  published.image_bytes, &error) != TD_OK)
	{
		dsm_detach(segment);
		TdReportModelError(&error);
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
		TdReportModelError(&error);
	}
	ref->inputs.pu_location_id = td_image_find_input(ref->image, "PULocationID");
	ref->inputs.do_location_id = td_image_find_input(ref->image, "DOLocationID");
	ref->inputs.trip_distance = td_image_find_input(ref->image, "trip_distance");
	ref->inputs.pickup_datetime = td_image_find_input(ref->image, "pickup_datetime");
	td_refs = lappend(td_refs, ref);
	MemoryContextSwitchTo(old_context);
	return ref;
}

/* The mapping of `generation`, mapping it if needed. */
static TdModelRef *
td_ref_for(uint64 generation, bool exact)
{
	ListCell *lc;

	foreach (lc, td_refs)
	{
		TdModelRef *ref = lfirst(lc);

		if (ref->generation == generation)
			return ref;
	}
	return td_map(generation, exact);
}

/* First prediction of a pinned statement: map its version and hold it. */
static TdModelRef *
td_model_for_statement(TdStatementPin *pin)
{
	uint64		generation = TdStatementGeneration(pin);
	TdModelRef *ref;

	if (generation == 0)
	{
		/* nothing was served when it started: load, then keep that */
		TdEnsureModelLoaded();
		generation = TdCurrentGeneration();
	}
	ref = td_ref_for(generation, true);
	ref->pins++;
	TdSetStatementModel(pin, ref, generation);
	td_use(ref);
	return ref;
}

/* Outside the executor: the current model, once per top-level command. */
static TdModelRef *
td_model_for_command(void)
{
	LocalTransactionId lxid = TD_MY_LXID();
	TimestampTz		   start = GetCurrentStatementStartTimestamp();
	uint64			   generation;

	if (td_last != NULL && lxid == td_command_lxid && start == td_command_start)
		return td_last;
	generation = TdCurrentGeneration();
	if (generation == 0)
	{
		TdEnsureModelLoaded();
		generation = TdCurrentGeneration();
	}
	td_use(td_ref_for(generation, false));
	td_command_lxid = lxid;
	td_command_start = start;
	return td_last;
}

/* The model this call predicts with. */
TdModelRef *
TdModelForCall(void)
{
	TdStatementPin *pin = TdActiveStatement();
	TdModelRef	   *ref;

	if (pin == NULL)
		return td_model_for_command();
	ref = TdStatementModel(pin);
	if (likely(ref != NULL))
		return ref;
	return td_model_for_statement(pin);
}

/* A statement holding `ref` ended. */
void
TdModelRefUnpin(TdModelRef *ref)
{
	Assert(ref->pins > 0);
	ref->pins--;
	if (ref->pins == 0 && ref != td_last)
		td_release(ref);
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
