/*
 * profiles.c — the reference profiles' entry points and their privilege
 * boundary (sql/install/profiles.sql; docs/monitoring.md, "Reference
 * profiles"; docs/security.md).
 *
 * The same rules as monitors (monitors.c):
 *
 *   1. each entry point notes the calling role and checks what it may do
 *      with its own privileges;
 *   2. the reference set is scanned (reference_profile_scan(), SECURITY
 *      INVOKER) as the profile's owner — the caller when creating it — in a
 *      security-restricted operation, with the search_path the owner had
 *      when creating it: whoever refreshes a profile (its owner, a member, a
 *      superuser, a pg_cron job), its reference query runs with the owner's
 *      privileges and no more;
 *   3. the result is stored by internal functions (reference_profile_store,
 *      reference_profile_drop; EXECUTE revoked from PUBLIC) called as the
 *      extension's owner, which check the caller against the profile's
 *      owner again.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"

#include "glue/glue.h"
#include "glue/run_as.h"
#include "monitoring/drift_report.h"
#include "monitoring/monitors.h"

PG_FUNCTION_INFO_V1(create_reference_profile);
PG_FUNCTION_INFO_V1(refresh_reference_profile);
PG_FUNCTION_INFO_V1(drop_reference_profile);

/* reference_profile_scan()'s six results, copied out of SPI. */
#define TD_SCAN_FIELDS 6

typedef struct TdProfileScan
{
	Datum values[TD_SCAN_FIELDS]; /* column_names, column_types, kinds,
								   * value_maps, reference_rows, regression */
	bool nulls[TD_SCAN_FIELDS];
} TdProfileScan;

/*
 * Describe and scan the reference `source` (a relation name or a query) as
 * `owner`, in a security-restricted operation with `search_path`.  The
 * described set is returned in *set (its SQL, or its relation).
 */
static void
td_profile_scan(FunctionCallInfo fcinfo, Oid owner, const char *search_path,
				const char *source, Datum columns, bool columns_null,
				Datum prediction, bool prediction_null, Datum target,
				bool target_null, TdDriftSet *set, TdProfileScan *scan)
{
	MemoryContext caller_context = CurrentMemoryContext;
	TdRunAs		  saved;
	Oid			  types[7] = { TEXTOID, TEXTARRAYOID, OIDARRAYOID, TEXTOID,
							   TEXTARRAYOID, TEXTOID, TEXTOID };
	Datum		  values[7];
	char		  nulls[7] = { ' ', ' ', ' ', ' ', ' ', ' ', ' ' };
	char		 *sql;
	int			  i;

	TdRunAsBegin(&saved, owner, true, search_path);
	TdDescribeSet(source, "reference", set);
	if (OidIsValid(set->relid))
		TdRequireSelect(set->relid, owner);
	values[0] = CStringGetTextDatum(set->sql);
	values[1] = PointerGetDatum(set->names);
	values[2] = PointerGetDatum(set->types);
	values[3] = CStringGetTextDatum(search_path);
	values[4] = columns;
	nulls[4] = columns_null ? 'n' : ' ';
	values[5] = prediction;
	nulls[5] = prediction_null ? 'n' : ' ';
	values[6] = target;
	nulls[6] = target_null ? 'n' : ' ';
	sql = psprintf("SELECT * FROM %s.reference_profile_scan($1, $2, $3, $4, $5, $6, $7)",
				   TdFunctionSchema(fcinfo));

	SPI_connect();
	if (SPI_execute_with_args(sql, 7, types, values, nulls, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "taxi_duration: SPI failed for: %s", sql);
	for (i = 0; i < TD_SCAN_FIELDS; i++)
	{
		Datum			  d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											i + 1, &scan->nulls[i]);
		Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, i);
		MemoryContext	  old = MemoryContextSwitchTo(caller_context);

		scan->values[i] = scan->nulls[i] ? (Datum) 0 : datumCopy(d, att->attbyval, att->attlen);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	TdRunAsEnd(&saved);
}

/*
 * Store a scan with reference_profile_store(caller, name, reference,
 * reference_query, search_path, columns, prediction, target, <scan>,
 * replace) as the extension's owner.
 */
static Datum
td_profile_store(FunctionCallInfo fcinfo, Datum name, const TdDriftSet *set,
				 const char *search_path, Datum columns, bool columns_null,
				 Datum prediction, bool prediction_null, Datum target,
				 bool target_null, const TdProfileScan *scan, bool replace)
{
	Oid	  types[14] = { TEXTOID, REGCLASSOID, TEXTOID, TEXTOID, TEXTARRAYOID,
						TEXTOID, TEXTOID, TEXTARRAYOID, OIDARRAYOID, TEXTARRAYOID,
						BYTEAARRAYOID, INT8OID, BYTEAOID, BOOLOID };
	Datum values[14];
	bool  nulls[14] = { false };
	bool  isnull;
	Datum result;
	int	  i;

	values[0] = name;
	values[1] = ObjectIdGetDatum(set->relid);
	nulls[1] = !OidIsValid(set->relid);
	values[2] = OidIsValid(set->relid) ? (Datum) 0 : CStringGetTextDatum(set->sql);
	nulls[2] = OidIsValid(set->relid);
	values[3] = CStringGetTextDatum(search_path);
	values[4] = columns;
	nulls[4] = columns_null;
	values[5] = prediction;
	nulls[5] = prediction_null;
	values[6] = target;
	nulls[6] = target_null;
	for (i = 0; i < TD_SCAN_FIELDS; i++)
	{
		values[7 + i] = scan->values[i];
		nulls[7 + i] = scan->nulls[i];
	}
	values[13] = BoolGetDatum(replace);
	result = TdCallInternal(fcinfo, "reference_profile_store", 14, types, values, nulls,
							&isnull);
	if (isnull)
		elog(ERROR, "taxi_duration: reference_profile_store returned no profile");
	return result;
}

/* A text argument that must be given. */
static Datum
td_required_text(FunctionCallInfo fcinfo, int argno, const char *message)
{
	if (PG_ARGISNULL(argno) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(argno)) == 0)
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("%s", message));
	return PG_GETARG_DATUM(argno);
}

/*
 * create_reference_profile(name, reference text, columns text[], prediction
 * text, target text) → reference_profiles.  The caller owns the profile.
 */
Datum
create_reference_profile(PG_FUNCTION_ARGS)
{
	Datum		  name;
	char		 *source;
	char		 *search_path = TdCurrentSearchPath();
	TdDriftSet	  set;
	TdProfileScan scan;

	TdRequirePrimary("create_reference_profile");
	name = td_required_text(fcinfo, 0, "a reference profile needs a name");
	source = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (source != NULL && TdProfileName(source) != NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("a reference profile cannot be made from another profile"),
				errhint("Give the table, view or SELECT query the other profile was made from."));
	td_profile_scan(fcinfo, GetUserId(), search_path, source,
					PG_GETARG_DATUM(2), PG_ARGISNULL(2), PG_GETARG_DATUM(3), PG_ARGISNULL(3),
					PG_GETARG_DATUM(4), PG_ARGISNULL(4), &set, &scan);
	PG_RETURN_DATUM(td_profile_store(fcinfo, name, &set, search_path,
									 PG_GETARG_DATUM(2), PG_ARGISNULL(2),
									 PG_GETARG_DATUM(3), PG_ARGISNULL(3),
									 PG_GETARG_DATUM(4), PG_ARGISNULL(4), &scan, false));
}

/*
 * refresh_reference_profile(name) → reference_profiles: scan the reference
 * again as the profile's owner and replace the stored data.
 */
Datum
refresh_reference_profile(PG_FUNCTION_ARGS)
{
	Datum			name = PG_GETARG_DATUM(0);
	Oid				types[1] = { TEXTOID };
	Datum			values[1] = { name };
	bool			nulls[1] = { false };
	bool			isnull;
	HeapTupleHeader row;
	Oid				owner;
	char		   *search_path;
	char		   *source;
	Datum			d;
	Datum			columns, prediction, target;
	bool			columns_null, prediction_null, target_null;
	TdDriftSet		set;
	TdProfileScan	scan;

	TdRequirePrimary("refresh_reference_profile");
	/* the definition, if the caller has its owner's privileges (locked) */
	row = DatumGetHeapTupleHeader(TdCallInternal(fcinfo, "reference_profile_for_caller", 1,
												 types, values, nulls, &isnull));
	owner = DatumGetObjectId(GetAttributeByName(row, "owner", &isnull));
	TdRequireRole(owner, psprintf("reference profile \"%s\"", TextDatumGetCString(name)));
	search_path = TextDatumGetCString(GetAttributeByName(row, "search_path", &isnull));
	d = GetAttributeByName(row, "reference", &isnull);
	if (!isnull)
	{
		char *rel = get_rel_name(DatumGetObjectId(d));

		if (rel == NULL)
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_TABLE),
					errmsg("the reference relation of reference profile \"%s\" no longer exists",
						   TextDatumGetCString(name)),
					errhint("Drop the profile and create it again."));
		source = quote_qualified_identifier(get_namespace_name(get_rel_namespace(DatumGetObjectId(d))),
											rel);
	}
	else
		source = TextDatumGetCString(GetAttributeByName(row, "reference_query", &isnull));
	columns = GetAttributeByName(row, "columns", &columns_null);
	prediction = GetAttributeByName(row, "prediction", &prediction_null);
	target = GetAttributeByName(row, "target", &target_null);

	td_profile_scan(fcinfo, owner, search_path, source, columns, columns_null,
					prediction, prediction_null, target, target_null, &set, &scan);
	PG_RETURN_DATUM(td_profile_store(fcinfo, name, &set, search_path, columns, columns_null,
									 prediction, prediction_null, target, target_null,
									 &scan, true));
}

/*
 * A monitor's own profile 'monitor:<monitor>': scan the monitor's reference
 * `source` as its owner (security-restricted, the owner's search_path) and
 * store it with monitor_profile_store() as the extension's owner, which
 * checks the calling role (GetUserId()) against the monitor's owner.
 */
Datum
TdMonitorProfileMake(FunctionCallInfo fcinfo, const char *monitor, Oid owner,
					 const char *search_path, const char *source, Datum columns,
					 bool columns_null, Datum prediction, bool prediction_null,
					 Datum target, bool target_null)
{
	Oid			  types[7] = { TEXTOID, TEXTARRAYOID, OIDARRAYOID, TEXTARRAYOID,
							   BYTEAARRAYOID, INT8OID, BYTEAOID };
	Datum		  values[7];
	bool		  nulls[7] = { false };
	bool		  isnull;
	TdDriftSet	  set;
	TdProfileScan scan;
	Datum		  result;
	int			  i;

	TdRequireRole(owner, psprintf("monitor \"%s\"", monitor));
	td_profile_scan(fcinfo, owner, search_path, source, columns, columns_null, prediction,
					prediction_null, target, target_null, &set, &scan);
	values[0] = CStringGetTextDatum(monitor);
	for (i = 0; i < TD_SCAN_FIELDS; i++)
	{
		values[1 + i] = scan.values[i];
		nulls[1 + i] = scan.nulls[i];
	}
	result = TdCallInternal(fcinfo, "monitor_profile_store", 7, types, values, nulls, &isnull);
	if (isnull)
		elog(ERROR, "taxi_duration: monitor_profile_store returned no profile");
	return result;
}

/* drop_reference_profile(name) → boolean */
Datum
drop_reference_profile(PG_FUNCTION_ARGS)
{
	Oid	  types[1] = { TEXTOID };
	Datum values[1] = { PG_GETARG_DATUM(0) };
	bool  nulls[1] = { false };
	bool  isnull;
	Datum result;

	TdRequirePrimary("drop_reference_profile");
	result = TdCallInternal(fcinfo, "reference_profile_drop", 1, types, values, nulls, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}
