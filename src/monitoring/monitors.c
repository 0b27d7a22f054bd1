/*
 * monitors.c — the monitor functions' privilege boundary.
 *
 * A monitor runs with the privileges of the role that defined it (its
 * owner), never more, whoever asks for the run: the caller of run_monitor(),
 * a pg_cron job, a superuser.  The tables holding monitors, reports and
 * alerts belong to the extension's owner and nobody else may write them.
 * So every entry point here
 *
 *   1. notes the calling role (GetUserId()), which a SECURITY DEFINER
 *      function could not see, and checks what it may do with the caller's
 *      own privileges (reading the sets it names, with its search_path);
 *   2. calls an internal plpgsql function (monitor_save, monitor_alter,
 *      monitor_drop, monitor_run in sql/install/monitors.sql; EXECUTE
 *      revoked from PUBLIC) as the extension's owner, passing the caller,
 *      which those functions check against the monitor's owner;
 *   3. for the windows themselves, monitor_run calls back into
 *      monitor_window_report() / monitor_first_row(), which read the sets as
 *      the monitor's owner inside a security-restricted operation (run_as.c).
 *
 * The monitor's reference query, if it has one, runs with the search_path
 * its owner had when defining it; everything of ours is schema-qualified.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "glue/glue.h"
#include "glue/run_as.h"
#include "monitoring/drift_report.h"
#include "monitoring/monitors.h"

PG_FUNCTION_INFO_V1(create_monitor);
PG_FUNCTION_INFO_V1(alter_monitor);
PG_FUNCTION_INFO_V1(drop_monitor);
PG_FUNCTION_INFO_V1(run_monitor);
PG_FUNCTION_INFO_V1(check_forwarder_slots);
PG_FUNCTION_INFO_V1(monitor_window_report);
PG_FUNCTION_INFO_V1(monitor_first_row);
PG_FUNCTION_INFO_V1(refresh_monitor_reference);

#define TD_MAX_CALL_ARGS 16

/*
 * ERROR on a standby: a monitor writes its definition, reports and alerts,
 * so it is defined, changed and run on the primary (drift_report() reads
 * only, and works anywhere).
 */
void
TdRequirePrimary(const char *function)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				errmsg("%s() must run on the primary", function),
				errdetail("This server is a standby: a monitor's definition, reports and alerts are written to tables."),
				errhint("Call it on the primary; the standby receives the results through replication. taxi_duration.drift_report() works on a standby."));
}

/* ERROR unless the caller may read relation `relid`. */
void
TdRequireSelect(Oid relid, Oid role)
{
	if (pg_class_aclcheck(relid, role, ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("permission denied for relation %s", get_rel_name(relid)),
				errdetail("A monitor reads its sets with the privileges of the role that defines it."));
}

/*
 * Call internal function `internal`(caller, args...) as the extension's
 * owner and return its single result.
 */
Datum
TdCallInternal(FunctionCallInfo fcinfo, const char *internal, int nargs,
			   const Oid *types, const Datum *values, const bool *nulls,
			   bool *isnull)
{
	Oid			   call_types[TD_MAX_CALL_ARGS];
	Datum		   call_values[TD_MAX_CALL_ARGS];
	bool		   call_nulls[TD_MAX_CALL_ARGS];
	StringInfoData sql;
	TdRunAs		   saved;
	Datum		   result;
	int			   i;

	Assert(nargs + 1 <= TD_MAX_CALL_ARGS);
	call_types[0] = REGROLEOID;
	call_values[0] = ObjectIdGetDatum(GetUserId());
	call_nulls[0] = false;
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s.%s($1", TdFunctionSchema(fcinfo), internal);
	for (i = 0; i < nargs; i++)
	{
		call_types[i + 1] = types[i];
		call_values[i + 1] = values[i];
		call_nulls[i + 1] = nulls[i];
		appendStringInfo(&sql, ", $%d", i + 2);
	}
	appendStringInfoChar(&sql, ')');

	TdRunAsBegin(&saved, TdFunctionOwner(fcinfo), false, NULL);
	result = TdSpiScalar(sql.data, nargs + 1, call_types, call_values, call_nulls, isnull);
	TdRunAsEnd(&saved);
	return result;
}

/* The declared type of argument `i` of the function called. */
static Oid
td_arg_type(FunctionCallInfo fcinfo, int i)
{
	Oid *types;
	int	 n;

	(void) get_func_signature(fcinfo->flinfo->fn_oid, &types, &n);
	Assert(i < n);
	return types[i];
}

/* The function's arguments as given (types from its declaration). */
static void
td_own_args(FunctionCallInfo fcinfo, Oid *types, Datum *values, bool *nulls)
{
	int i;

	for (i = 0; i < PG_NARGS(); i++)
	{
		types[i] = td_arg_type(fcinfo, i);
		values[i] = PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i);
	}
}

/*
 * A monitor's reference 'profile:NAME': the profile must be one the caller
 * sees (row-level security: its owner's privileges).  The monitor stores
 * 'profile:NAME' as its reference query; each window's drift_report(), run
 * as the monitor's owner, reads the profile with the owner's privileges.
 */
static void
td_require_profile(FunctionCallInfo fcinfo, const char *profile, TdDriftSet *reference)
{
	Oid	  types[1] = { TEXTOID };
	Datum values[1] = { CStringGetTextDatum(profile) };
	bool  nulls[1] = { false };
	bool  isnull;
	Datum found;

	found = TdSpiScalar(psprintf("SELECT EXISTS (SELECT 1 FROM %s.reference_profiles"
								 " WHERE name OPERATOR(pg_catalog.=) $1)",
								 TdFunctionSchema(fcinfo)),
						1, types, values, nulls, &isnull);
	if (!DatumGetBool(found))
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("reference profile \"%s\" does not exist", profile),
				errdetail("Or it belongs to a role whose privileges this role does not have."),
				errhint("Create it with taxi_duration.create_reference_profile()."));
	memset(reference, 0, sizeof(*reference));
	reference->relid = InvalidOid;
	reference->sql = psprintf("profile:%s", profile);
}

/*
 * create_monitor(name, reference text, current regclass, time_column, ...)
 * → monitors.  The caller becomes the monitor's owner.
 */
Datum
create_monitor(PG_FUNCTION_ARGS)
{
	Oid			caller = GetUserId();
	Oid			current;
	char	   *time_column;
	AttrNumber	attnum;
	Oid			time_type;
	TdDriftSet	reference;
	Oid			types[14];
	Datum		values[14];
	bool		nulls[14];
	bool		isnull;
	Datum		result;
	int			i;
	char	   *reference_source;
	const char *profile;

	TdRequirePrimary("create_monitor");
	if (PG_ARGISNULL(0) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(0)) == 0)
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("a monitor needs a name"));
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("a monitor needs a current relation and its time column"),
				errhint("A monitor's current set is a table or view with a date or timestamp column."));
	current = PG_GETARG_OID(2);
	time_column = text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (get_rel_name(current) == NULL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_TABLE),
				errmsg("relation with OID %u does not exist", current));
	TdRequireSelect(current, caller);
	attnum = get_attnum(current, time_column);
	time_type = attnum > 0 ? get_atttype(current, attnum) : InvalidOid;
	if (time_type != TIMESTAMPOID && time_type != TIMESTAMPTZOID && time_type != DATEOID)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_COLUMN),
				errmsg("column \"%s\" of \"%s\" is not a date or timestamp column",
					   time_column, get_rel_name(current)));

	/* the reference, read as the caller reads it, or a profile it can see */
	reference_source = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	profile = reference_source ? TdProfileName(reference_source) : NULL;
	if (profile != NULL)
		td_require_profile(fcinfo, profile, &reference);
	else
		TdDescribeSet(reference_source, "reference", &reference);
	if (OidIsValid(reference.relid))
		TdRequireSelect(reference.relid, caller);

	/* monitor_save(caller, name, reference, reference_query, search_path, current, time_column, ...) */
	types[0] = TEXTOID;
	values[0] = PG_GETARG_DATUM(0);
	nulls[0] = false;
	types[1] = REGCLASSOID;
	values[1] = ObjectIdGetDatum(reference.relid);
	nulls[1] = !OidIsValid(reference.relid);
	types[2] = TEXTOID;
	values[2] = OidIsValid(reference.relid) ? (Datum) 0 : CStringGetTextDatum(reference.sql);
	nulls[2] = OidIsValid(reference.relid);
	types[3] = TEXTOID;
	values[3] = CStringGetTextDatum(TdCurrentSearchPath());
	nulls[3] = false;
	for (i = 2; i < PG_NARGS(); i++)
	{
		types[i + 2] = td_arg_type(fcinfo, i);
		values[i + 2] = PG_GETARG_DATUM(i);
		nulls[i + 2] = PG_ARGISNULL(i);
	}
	result = TdCallInternal(fcinfo, "monitor_save", PG_NARGS() + 2, types, values,
							nulls, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/* An entry point whose arguments pass unchanged to `internal`(caller, ...). */
static Datum
td_pass_to_internal(FunctionCallInfo fcinfo, const char *internal)
{
	Oid	  types[TD_MAX_CALL_ARGS];
	Datum values[TD_MAX_CALL_ARGS];
	bool  nulls[TD_MAX_CALL_ARGS];
	bool  isnull;
	Datum result;

	td_own_args(fcinfo, types, values, nulls);
	result = TdCallInternal(fcinfo, internal, PG_NARGS(), types, values, nulls, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/* alter_monitor(name, enabled, next_window_start) → monitors */
Datum
alter_monitor(PG_FUNCTION_ARGS)
{
	TdRequirePrimary("alter_monitor");
	return td_pass_to_internal(fcinfo, "monitor_alter");
}

/* drop_monitor(name) → boolean */
Datum
drop_monitor(PG_FUNCTION_ARGS)
{
	TdRequirePrimary("drop_monitor");
	return td_pass_to_internal(fcinfo, "monitor_drop");
}

/*
 * run_monitor(monitor_name, until) → SETOF monitor_reports: monitor_run()
 * as the extension's owner, its rows returned as a materialized set.
 */
Datum
run_monitor(PG_FUNCTION_ARGS)
{
	ReturnSetInfo	*rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Tuplestorestate *store;
	MemoryContext	 old;
	TdRunAs			 saved;
	Oid				 types[3] = { REGROLEOID, TEXTOID, TIMESTAMPTZOID };
	Datum			 values[3];
	char			 nulls[3] = { ' ', ' ', ' ' };
	char			*sql;
	uint64			 i;

	TdRequirePrimary("run_monitor");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("monitor name must not be null"));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("until must not be null"),
				errhint("Windows ending at or before \"until\" are computed; the default is now()."));
	store = TdBeginMaterializedSet(fcinfo, "run_monitor");

	values[0] = ObjectIdGetDatum(GetUserId());
	values[1] = PG_GETARG_DATUM(0);
	values[2] = PG_GETARG_DATUM(1);
	sql = psprintf("SELECT * FROM %s.monitor_run($1, $2, $3)", TdFunctionSchema(fcinfo));

	TdRunAsBegin(&saved, TdFunctionOwner(fcinfo), false, NULL);
	SPI_connect();
	if (SPI_execute_with_args(sql, 3, types, values, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "taxi_duration: SPI failed for: %s", sql);
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	for (i = 0; i < SPI_processed; i++)
		tuplestore_puttuple(store, SPI_tuptable->vals[i]);
	MemoryContextSwitchTo(old);
	SPI_finish();
	TdRunAsEnd(&saved);
	return (Datum) 0;
}

/*
 * check_forwarder_slots(max_retained_bytes, max_silence, min_safe_fraction,
 * repeat_after) → SETOF (slot, kind, message, details, alert_id): the
 * forwarder slots in danger, from forwarder_lag.  forwarder_slots_check()
 * runs as the extension's owner, which alone writes monitor_alerts; it takes
 * nothing from the caller but thresholds (EXECUTE: taxi_duration_admin).
 */
Datum
check_forwarder_slots(PG_FUNCTION_ARGS)
{
	ReturnSetInfo	*rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Tuplestorestate *store;
	MemoryContext	 old;
	TdRunAs			 saved;
	Oid				 types[TD_MAX_CALL_ARGS];
	Datum			 values[TD_MAX_CALL_ARGS];
	char			 nulls[TD_MAX_CALL_ARGS];
	StringInfoData	 sql;
	int				 i;
	uint64			 row;

	TdRequirePrimary("check_forwarder_slots");
	Assert(PG_NARGS() + 1 <= TD_MAX_CALL_ARGS);
	types[0] = REGROLEOID;
	values[0] = ObjectIdGetDatum(GetUserId());
	nulls[0] = ' ';
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT * FROM %s.forwarder_slots_check($1", TdFunctionSchema(fcinfo));
	for (i = 0; i < PG_NARGS(); i++)
	{
		types[i + 1] = td_arg_type(fcinfo, i);
		values[i + 1] = PG_GETARG_DATUM(i);
		nulls[i + 1] = PG_ARGISNULL(i) ? 'n' : ' ';
		appendStringInfo(&sql, ", $%d", i + 2);
	}
	appendStringInfoChar(&sql, ')');
	store = TdBeginMaterializedSet(fcinfo, "check_forwarder_slots");

	TdRunAsBegin(&saved, TdFunctionOwner(fcinfo), false, NULL);
	SPI_connect();
	if (SPI_execute_with_args(sql.data, PG_NARGS() + 1, types, values, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "taxi_duration: SPI failed for: %s", sql.data);
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	for (row = 0; row < SPI_processed; row++)
		tuplestore_puttuple(store, SPI_tuptable->vals[row]);
	MemoryContextSwitchTo(old);
	SPI_finish();
	TdRunAsEnd(&saved);
	return (Datum) 0;
}

/* What a window computation needs from a monitors row. */
typedef struct TdMonitorRow
{
	char *name;
	Oid	  owner;
	Oid	  current;
	char *reference; /* relation name (qualified) or the query */
	char *search_path;
	char *time_column;
	Datum columns, prediction, target, options;
	bool  columns_null, prediction_null, target_null, options_null;
	bool  own_profile; /* a plain reference, profiled as 'monitor:<name>' */
} TdMonitorRow;

static Datum
td_field(HeapTupleHeader row, const char *name, bool *isnull)
{
	return GetAttributeByName(row, name, isnull);
}

/* A regclass as a qualified name, or ERROR if the relation is gone. */
static char *
td_relation_name(Oid relid, const char *monitor, const char *what)
{
	char *name = get_rel_name(relid);

	if (name == NULL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_TABLE),
				errmsg("the %s relation of monitor \"%s\" no longer exists", what, monitor),
				errhint("Create the monitor again with taxi_duration.create_monitor()."));
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name);
}

static void
td_read_monitor(HeapTupleHeader row, TdMonitorRow *m)
{
	bool  isnull;
	Datum d;

	m->name = TextDatumGetCString(td_field(row, "name", &isnull));
	m->owner = DatumGetObjectId(td_field(row, "owner", &isnull));
	m->current = DatumGetObjectId(td_field(row, "current", &isnull));
	m->search_path = TextDatumGetCString(td_field(row, "search_path", &isnull));
	m->time_column = TextDatumGetCString(td_field(row, "time_column", &isnull));
	d = td_field(row, "reference", &isnull);
	if (!isnull)
		m->reference = td_relation_name(DatumGetObjectId(d), m->name, "reference");
	else
		m->reference = TextDatumGetCString(td_field(row, "reference_query", &isnull));
	m->columns = td_field(row, "columns", &m->columns_null);
	m->prediction = td_field(row, "prediction", &m->prediction_null);
	m->target = td_field(row, "target", &m->target_null);
	m->options = td_field(row, "options", &m->options_null);
	d = td_field(row, "reference_profile", &isnull);
	m->own_profile = !isnull && DatumGetBool(d) && TdProfileName(m->reference) == NULL;
	TdRequireRole(m->owner, psprintf("monitor \"%s\"", m->name));
}

/*
 * A monitor's own profile at a window: made now (the reference scanned as
 * the owner, as a window would scan it) if it has none yet, in which case
 * the profile's name is returned; NULL if it existed (the caller then checks
 * that the owner may still read the reference).  We run as the extension's
 * owner (monitor_run); the profile is stored as the monitor's owner.
 */
static const char *
td_own_profile(FunctionCallInfo fcinfo, const TdMonitorRow *m)
{
	Oid		types[1] = { TEXTOID };
	Datum	values[1] = { CStringGetTextDatum(m->name) };
	bool	nulls[1] = { false };
	bool	isnull;
	TdRunAs saved;

	if (DatumGetBool(TdSpiScalar(psprintf("SELECT EXISTS (SELECT 1 FROM %s.reference_profiles"
										  " WHERE monitor OPERATOR(pg_catalog.=) $1)",
										  TdFunctionSchema(fcinfo)),
								 1, types, values, nulls, &isnull)))
		return NULL;
	TdRunAsBegin(&saved, m->owner, false, NULL);
	(void) TdMonitorProfileMake(fcinfo, m->name, m->owner, m->search_path, m->reference,
								m->columns, m->columns_null, m->prediction, m->prediction_null,
								m->target, m->target_null);
	TdRunAsEnd(&saved);
	return psprintf("monitor:%s", m->name);
}

/*
 * monitor_window_report(m monitors, window_start, window_end) → jsonb: the
 * drift report of one window, computed as the monitor's owner in a
 * security-restricted operation; {"current_rows": 0} for an empty window.
 * Internal (EXECUTE revoked from PUBLIC): monitor_run() calls it.
 */
Datum
monitor_window_report(PG_FUNCTION_ARGS)
{
	TdMonitorRow m;
	TdRunAs		 saved;
	char		*current_sql;
	char		*start_literal;
	char		*end_literal;
	bool		 isnull;
	Datum		 exists;
	Datum		 report = (Datum) 0;
	Oid			 types[6] = { TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, TEXTOID, JSONBOID };
	Datum		 values[6];
	bool		 nulls[6] = { false };
	const char	*reference = NULL;

	td_read_monitor(PG_GETARG_HEAPTUPLEHEADER(0), &m);
	start_literal = quote_literal_cstr(timestamptz_to_str(PG_GETARG_TIMESTAMPTZ(1)));
	end_literal = quote_literal_cstr(timestamptz_to_str(PG_GETARG_TIMESTAMPTZ(2)));
	current_sql = psprintf("SELECT * FROM %s WHERE %s OPERATOR(pg_catalog.>=) %s::pg_catalog.timestamptz"
						   " AND %s OPERATOR(pg_catalog.<) %s::pg_catalog.timestamptz",
						   td_relation_name(m.current, m.name, "current"),
						   quote_identifier(m.time_column), start_literal,
						   quote_identifier(m.time_column), end_literal);

	TdRunAsBegin(&saved, m.owner, true, m.search_path);
	exists = TdSpiScalar(psprintf("SELECT EXISTS (%s)", current_sql), 0, NULL, NULL, NULL, &isnull);
	TdRunAsEnd(&saved);
	if (DatumGetBool(exists) && m.own_profile)
		reference = td_own_profile(fcinfo, &m);
	TdRunAsBegin(&saved, m.owner, true, m.search_path);
	if (DatumGetBool(exists) && m.own_profile && reference == NULL)
	{
		/* the stored profile, if the owner may still read the reference */
		TdDriftSet set;

		TdDescribeSet(m.reference, "reference", &set);
		if (OidIsValid(set.relid))
			TdRequireSelect(set.relid, m.owner);
		(void) TdSpiScalar(psprintf("SELECT EXISTS (SELECT FROM (%s\n) AS reference_set LIMIT 0)",
									set.sql),
						   0, NULL, NULL, NULL, &isnull);
	}
	if (DatumGetBool(exists))
	{
		values[0] = CStringGetTextDatum(m.own_profile ? psprintf("profile:monitor:%s", m.name) : m.reference);
		values[1] = CStringGetTextDatum(current_sql);
		values[2] = m.columns;
		nulls[2] = m.columns_null;
		values[3] = m.prediction;
		nulls[3] = m.prediction_null;
		values[4] = m.target;
		nulls[4] = m.target_null;
		values[5] = m.options;
		nulls[5] = m.options_null;
		report = TdSpiScalar(psprintf("SELECT %s.drift_report($1, $2, $3, $4, $5, $6)",
									  TdFunctionSchema(fcinfo)),
							 6, types, values, nulls, &isnull);
	}
	TdRunAsEnd(&saved);
	if (!DatumGetBool(exists))
		report = DirectFunctionCall1(jsonb_in, CStringGetDatum("{\"current_rows\": 0}"));
	else if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(report);
}

/*
 * monitor_first_row(m monitors) → timestamptz: the earliest time in the
 * monitor's current relation, read as its owner.  Internal.
 */
Datum
monitor_first_row(PG_FUNCTION_ARGS)
{
	TdMonitorRow m;
	TdRunAs		 saved;
	bool		 isnull;
	Datum		 first;

	td_read_monitor(PG_GETARG_HEAPTUPLEHEADER(0), &m);
	TdRunAsBegin(&saved, m.owner, true, m.search_path);
	first = TdSpiScalar(psprintf("SELECT pg_catalog.min(%s)::pg_catalog.timestamptz FROM %s",
								 quote_identifier(m.time_column),
								 td_relation_name(m.current, m.name, "current")),
						0, NULL, NULL, NULL, &isnull);
	TdRunAsEnd(&saved);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(first);
}

/*
 * refresh_monitor_reference(name) → reference_profiles: scan a monitor's
 * reference again, as its owner, into its own profile (made if it has none
 * yet).  The caller must have the owner's privileges (monitor_for_caller,
 * and monitor_profile_store again).
 */
Datum
refresh_monitor_reference(PG_FUNCTION_ARGS)
{
	Oid			 types[1] = { TEXTOID };
	Datum		 values[1] = { PG_GETARG_DATUM(0) };
	bool		 nulls[1] = { false };
	bool		 isnull;
	TdMonitorRow m;

	TdRequirePrimary("refresh_monitor_reference");
	td_read_monitor(DatumGetHeapTupleHeader(TdCallInternal(fcinfo, "monitor_for_caller", 1,
														   types, values, nulls, &isnull)),
					&m);
	if (!m.own_profile)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("monitor \"%s\" does not profile its reference", m.name),
				TdProfileName(m.reference) != NULL ? errdetail("Its reference is the reference profile \"%s\".",
															   TdProfileName(m.reference)) :
													 errdetail("It was created with reference_profile => false: every window scans the reference."),
				TdProfileName(m.reference) != NULL ? errhint("Refresh that profile with taxi_duration.refresh_reference_profile().") : errhint("Create it again with reference_profile => true to profile its reference."));
	PG_RETURN_DATUM(TdMonitorProfileMake(fcinfo, m.name, m.owner, m.search_path, m.reference,
										 m.columns, m.columns_null, m.prediction,
										 m.prediction_null, m.target, m.target_null));
}
