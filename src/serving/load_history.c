/*
 * load_history.c — recent_model_loads(): the model loads this server made,
 * from the ring in shared memory (the last 64), newest last.
 *
 * The loader worker copies the ring into the table taxi_duration.model_loads,
 * but a hot standby cannot write: there, this function is the load history
 * (after a promotion the worker writes what the ring still holds).  On a
 * primary it also shows loads the worker has not written yet.  The detail of
 * a failure may name server paths: only roles that may see details get it,
 * as with model_loads.detail.
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "serving/serving.h"

PG_FUNCTION_INFO_V1(recent_model_loads);

/* Text of a ring string, or NULL when empty. */
static void
td_set_text(Datum *values, bool *nulls, int i, const char *s)
{
	nulls[i] = s[0] == '\0';
	if (!nulls[i])
		values[i] = CStringGetTextDatum(s);
}

Datum
recent_model_loads(PG_FUNCTION_ARGS)
{
	Tuplestorestate *store;
	TdLoadEvent		*events;
	uint64			 lost;
	bool			 details = TdCallerSeesDetails();
	int				 n;
	int				 i;

	TdRequireSharedState();
	store = TdBeginMaterializedSet(fcinfo, "recent_model_loads");
	events = palloc(sizeof(TdLoadEvent) * TD_HISTORY_SLOTS);
	n = TdCopyLoadEvents(0, events, TD_HISTORY_SLOTS, &lost);
	for (i = 0; i < n; i++)
	{
		const TdLoadEvent *e = &events[i];
		const char		  *role = OidIsValid(e->roleid) ? GetUserNameFromId(e->roleid, true) : NULL;
		Datum			   values[13];
		bool			   nulls[13];

		memset(nulls, 0, sizeof(nulls));
		values[0] = Int64GetDatum((int64) e->seq);
		values[1] = TimestampTzGetDatum(e->at);
		values[2] = CStringGetTextDatum(e->ok ? "loaded" : "failed");
		values[3] = CStringGetTextDatum(e->trigger);
		values[4] = CStringGetTextDatum(e->source);
		td_set_text(values, nulls, 5, e->resolved_uri);
		td_set_text(values, nulls, 6, e->model_version);
		td_set_text(values, nulls, 7, e->sha256);
		values[8] = Int64GetDatum((int64) e->generation);
		nulls[8] = !e->ok;
		td_set_text(values, nulls, 9, e->message);
		values[10] = Int32GetDatum(e->pid);
		nulls[11] = role == NULL;
		if (role != NULL)
			values[11] = CStringGetTextDatum(role);
		td_set_text(values, nulls, 12, details ? e->detail : "");
		tuplestore_putvalues(store, ((ReturnSetInfo *) fcinfo->resultinfo)->setDesc, values, nulls);
	}
	return (Datum) 0;
}
