/*
 * srf.c — the start of a set-returning function that returns its rows as
 * a materialized set (a tuplestore), for every PostgreSQL version the
 * extension supports (InitMaterializedSRF is not in all of them).
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"

#include "glue/glue.h"

Tuplestorestate *
TdBeginMaterializedSet(FunctionCallInfo fcinfo, const char *function)
{
	ReturnSetInfo	*rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc		 desc;
	Tuplestorestate *store;
	MemoryContext	 old;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("%s() must be called where a set can be returned", function));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	store = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = CreateTupleDescCopy(desc);
	MemoryContextSwitchTo(old);
	return store;
}
