/*
 * run_as.c — running SQL with exactly the privileges it should have.
 *
 * The monitoring functions (monitors.c) act for two different roles:
 *
 *   - the extension's owner, who alone may write taxi_duration.monitors,
 *     monitor_reports and monitor_alerts.  Callers never get DML on those
 *     tables; the C entry points check what the caller may do and then call
 *     internal functions (REVOKEd from PUBLIC) as the owner.
 *   - a monitor's owner, whose reference and current sets are read with the
 *     owner's privileges and nobody else's, inside a security-restricted
 *     operation: the code that runs (the owner's query, functions it calls)
 *     cannot SET ROLE back, create temporary objects or otherwise outlive
 *     the call.  This is what PostgreSQL itself does to run a table owner's
 *     code in VACUUM or REFRESH MATERIALIZED VIEW.
 *
 * Either way the switch is the same: save the user id and security context,
 * switch, open a GUC nesting level with a pinned search_path, and undo all
 * of it afterwards (an ERROR undoes it too: transaction and subtransaction
 * abort restore the user id and pop the GUC level).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_proc.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "glue/run_as.h"

/* What no code of ours depends on: only the system catalog, temp last. */
#define TD_SAFE_SEARCH_PATH "pg_catalog, pg_temp"

/*
 * Become `role`.  `restricted` makes it a security-restricted operation;
 * `search_path` (NULL: pg_catalog, pg_temp) is in force until TdRunAsEnd.
 */
void
TdRunAsBegin(TdRunAs *saved, Oid role, bool restricted, const char *search_path)
{
	int context;

	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	context = saved->sec_context | SECURITY_LOCAL_USERID_CHANGE;
	if (restricted)
		context |= SECURITY_RESTRICTED_OPERATION;
	SetUserIdAndSecContext(role, context);
	saved->nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path",
							 search_path ? search_path : TD_SAFE_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
}

/* Undo TdRunAsBegin. */
void
TdRunAsEnd(TdRunAs *saved)
{
	AtEOXact_GUC(false, saved->nestlevel);
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
}

/* The search_path in force now, as text (for running a caller's query later). */
char *
TdCurrentSearchPath(void)
{
	return pstrdup(namespace_search_path ? namespace_search_path : "");
}

/* The schema a C function of the extension lives in, quoted for SQL. */
const char *
TdFunctionSchema(FunctionCallInfo fcinfo)
{
	Oid	  nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	char *name = get_namespace_name(nsp);

	if (name == NULL)
		elog(ERROR, "taxi_duration: schema of function %u not found",
			 fcinfo->flinfo->fn_oid);
	return quote_identifier(name);
}

/* The owner of the extension's objects: the owner of the function called. */
Oid
TdFunctionOwner(FunctionCallInfo fcinfo)
{
	HeapTuple tuple;
	Oid		  owner;

	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
	owner = ((Form_pg_proc) GETSTRUCT(tuple))->proowner;
	ReleaseSysCache(tuple);
	return owner;
}

/* ERROR unless `role` still exists. */
void
TdRequireRole(Oid role, const char *what)
{
	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role)))
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("the owner of %s no longer exists", what),
				errdetail("Role %u, which defined it, was dropped.", role),
				errhint("Drop it with taxi_duration.drop_monitor() and create it again as another role."));
}

/*
 * Run `sql` (one statement, parameters $1..$nargs) through SPI and return the
 * first column of its first row, copied into the caller's memory context
 * (NULL sets *isnull).  The caller has already switched identity if needed.
 */
Datum
TdSpiScalar(const char *sql, int nargs, Oid *argtypes, Datum *values,
			const bool *nulls, bool *isnull)
{
	MemoryContext caller_context = CurrentMemoryContext;
	char		  spi_nulls[FUNC_MAX_ARGS];
	Datum		  result = (Datum) 0;
	int			  i;

	Assert(nargs <= FUNC_MAX_ARGS);
	for (i = 0; i < nargs; i++)
		spi_nulls[i] = nulls[i] ? 'n' : ' ';
	*isnull = true;
	SPI_connect();
	if (SPI_execute_with_args(sql, nargs, argtypes, values, spi_nulls, false, 2) < 0)
		elog(ERROR, "taxi_duration: SPI failed for: %s", sql);
	if (SPI_processed >= 1)
	{
		TupleDesc desc = SPI_tuptable->tupdesc;
		Datum	  d = SPI_getbinval(SPI_tuptable->vals[0], desc, 1, isnull);

		if (!*isnull)
		{
			Form_pg_attribute att = TupleDescAttr(desc, 0);
			MemoryContext	  old = MemoryContextSwitchTo(caller_context);

			result = datumCopy(d, att->attbyval, att->attlen);
			MemoryContextSwitchTo(old);
		}
	}
	SPI_finish();
	return result;
}
