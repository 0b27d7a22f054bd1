/*
 * statement_model.c — one model version per statement.
 *
 * The rule (docs/serving.md): every statement predicts with the model
 * version that was current when it started, from its first row to its last,
 * in the leader and in every parallel worker.  A cursor keeps the version of
 * the statement that opened it, whatever is loaded between its FETCHes;
 * each statement of a multi-statement query string, and each statement
 * inside a function, starts afresh (a statement run from a function or a
 * trigger keeps the version of the statement that called it).
 *
 * How: executor hooks.  ExecutorStart pins the statement to a generation —
 * the current one, the calling statement's when nested, or, in a parallel
 * worker, the leader's — and ExecutorEnd lets it go.  While a statement's
 * ExecutorRun or ExecutorFinish is on the stack, predictions use its pin
 * (model_cache.c maps that generation).  A leader hands its generation to
 * its parallel workers through the internal setting
 * taxi_duration.statement_generation, which PostgreSQL copies into every
 * worker's state when the parallel query starts: set before a parallel
 * plan's ExecutorStart (nothing else runs between that and the workers'
 * launch: cursors and row-limited executions never run in parallel).
 * Pins of statements that ended in an error are dropped when their
 * (sub)transaction aborts.
 */
#include "postgres.h"

#include <stdlib.h>

#include "access/parallel.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "serving/serving.h"

struct TdStatementPin
{
	QueryDesc		*query;
	uint64			 generation; /* 0: nothing was loaded when it started */
	TdModelRef		*ref;		 /* mapped at its first prediction */
	SubTransactionId subid;
};

static ExecutorStart_hook_type	prev_executor_start = NULL;
static ExecutorRun_hook_type	prev_executor_run = NULL;
static ExecutorFinish_hook_type prev_executor_finish = NULL;
static ExecutorEnd_hook_type	prev_executor_end = NULL;

static List *td_pins = NIL;	  /* statements started and not ended */
static List *td_active = NIL; /* the pins of the statements running, innermost last */

/* taxi_duration.statement_generation: the leader's generation, for its workers. */
static char *td_statement_generation = NULL;
static bool	 td_setting_it = false;

static bool
check_statement_generation(char **newval, void **extra, GucSource source)
{
	if (td_setting_it || IsParallelWorker() || source == PGC_S_DEFAULT ||
		strcmp(*newval, "0") == 0)
		return true;
	GUC_check_errcode(ERRCODE_CANT_CHANGE_RUNTIME_PARAM);
	GUC_check_errmsg("taxi_duration.statement_generation is set by the extension only");
	GUC_check_errdetail("It hands a statement's model version to its parallel workers.");
	return false;
}

static uint64
td_leader_generation(void)
{
	return td_statement_generation ? strtoull(td_statement_generation, NULL, 10) : 0;
}

/* Hand `generation` to the parallel workers of the statement starting now. */
static void
td_hand_to_workers(uint64 generation)
{
	char value[32];

	if (generation == td_leader_generation() || IsInParallelMode())
		return;
	snprintf(value, sizeof(value), UINT64_FORMAT, generation);
	td_setting_it = true;
	PG_TRY();
	{
		SetConfigOption("taxi_duration.statement_generation", value, PGC_USERSET,
						PGC_S_SESSION);
	}
	PG_FINALLY();
	{
		td_setting_it = false;
	}
	PG_END_TRY();
}

static TdStatementPin *
td_find_pin(QueryDesc *query)
{
	ListCell *lc;

	foreach (lc, td_pins)
	{
		TdStatementPin *pin = lfirst(lc);

		if (pin->query == query)
			return pin;
	}
	return NULL;
}

static void
td_drop_pin(TdStatementPin *pin)
{
	td_pins = list_delete_ptr(td_pins, pin);
	if (pin->ref != NULL)
		TdModelRefUnpin(pin->ref);
	pfree(pin);
}

/* The pin of the innermost running statement, or NULL outside any. */
TdStatementPin *
TdActiveStatement(void)
{
	return td_active != NIL ? (TdStatementPin *) llast(td_active) : NULL;
}

uint64
TdStatementGeneration(TdStatementPin *pin)
{
	return pin->generation;
}

TdModelRef *
TdStatementModel(TdStatementPin *pin)
{
	return pin->ref;
}

/* The statement's model, mapped at its first prediction, and its version. */
void
TdSetStatementModel(TdStatementPin *pin, TdModelRef *ref, uint64 generation)
{
	pin->generation = generation;
	pin->ref = ref;
}

static void
td_executor_start(QueryDesc *query, int eflags)
{
	TdStatementPin *outer = TdActiveStatement();
	uint64			generation;
	TdStatementPin *pin;
	MemoryContext	old;

	if (outer != NULL)
		generation = outer->generation;
	else if (IsParallelWorker())
		generation = td_leader_generation();
	else
		generation = TdCurrentGeneration();
	if (!IsParallelWorker() && query->plannedstmt->parallelModeNeeded)
		td_hand_to_workers(generation);

	if (prev_executor_start)
		prev_executor_start(query, eflags);
	else
		standard_ExecutorStart(query, eflags);

	old = MemoryContextSwitchTo(TopMemoryContext);
	pin = palloc0(sizeof(TdStatementPin));
	pin->query = query;
	pin->generation = generation;
	pin->subid = GetCurrentSubTransactionId();
	td_pins = lappend(td_pins, pin);
	MemoryContextSwitchTo(old);
}

/* Make `pin` (NULL: a statement started before the hooks) the innermost running one. */
static void
td_activate(TdStatementPin *pin)
{
	MemoryContext old;

	if (pin == NULL)
		return;
	old = MemoryContextSwitchTo(TopMemoryContext);
	td_active = lappend(td_active, pin);
	MemoryContextSwitchTo(old);
}

static void
td_deactivate(TdStatementPin *pin)
{
	if (pin != NULL)
		td_active = list_delete_last(td_active);
}

static void
td_executor_run(TD_EXECUTOR_RUN_PARAMS)
{
	TdStatementPin *volatile pin = td_find_pin(query);

	td_activate(pin);
	PG_TRY();
	{
		if (prev_executor_run)
			prev_executor_run(TD_EXECUTOR_RUN_ARGS);
		else
			standard_ExecutorRun(TD_EXECUTOR_RUN_ARGS);
	}
	PG_FINALLY();
	{
		td_deactivate(pin);
	}
	PG_END_TRY();
}

static void
td_executor_finish(QueryDesc *query)
{
	TdStatementPin *volatile pin = td_find_pin(query);

	td_activate(pin);
	PG_TRY();
	{
		if (prev_executor_finish)
			prev_executor_finish(query);
		else
			standard_ExecutorFinish(query);
	}
	PG_FINALLY();
	{
		td_deactivate(pin);
	}
	PG_END_TRY();
}

static void
td_executor_end(QueryDesc *query)
{
	TdStatementPin *pin = td_find_pin(query);

	if (pin != NULL)
		td_drop_pin(pin);
	if (prev_executor_end)
		prev_executor_end(query);
	else
		standard_ExecutorEnd(query);
}

/* A transaction ended: no statement of it runs any more. */
static void
td_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			while (td_pins != NIL)
				td_drop_pin(linitial(td_pins));
			list_free(td_active);
			td_active = NIL;
			break;
		default:
			break;
	}
}

/* A subtransaction aborted: the statements it started ended with it. */
static void
td_subxact_callback(SubXactEvent event, SubTransactionId subid,
					SubTransactionId parent_subid, void *arg)
{
	ListCell *lc;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	foreach (lc, td_pins)
	{
		TdStatementPin *pin = lfirst(lc);

		if (pin->subid >= subid)
		{
			td_pins = foreach_delete_current(td_pins, lc);
			if (pin->ref != NULL)
				TdModelRefUnpin(pin->ref);
			pfree(pin);
		}
	}
}

/* The internal setting; called from _PG_init in every process. */
void
TdStatementModelGucInit(void)
{
	DefineCustomStringVariable("taxi_duration.statement_generation",
							   gettext_noop("Internal: the model version of the running statement, for its parallel workers."),
							   NULL,
							   &td_statement_generation,
							   "0",
							   PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE |
								   GUC_NO_RESET_ALL,
							   check_statement_generation, NULL, NULL);
}

/* Install the hooks; called from _PG_init while preloading. */
void
TdStatementModelInit(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = td_executor_start;
	prev_executor_run = ExecutorRun_hook;
	ExecutorRun_hook = td_executor_run;
	prev_executor_finish = ExecutorFinish_hook;
	ExecutorFinish_hook = td_executor_finish;
	prev_executor_end = ExecutorEnd_hook;
	ExecutorEnd_hook = td_executor_end;
	RegisterXactCallback(td_xact_callback, NULL);
	RegisterSubXactCallback(td_subxact_callback, NULL);
}
