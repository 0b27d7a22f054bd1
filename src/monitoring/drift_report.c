/*
 * drift_report.c — drift_report()'s entry point: reading the caller's sets.
 *
 * A set is a table or view name, or one SELECT query, written by the caller
 * and read with the caller's search_path and privileges (drift_report() is
 * SECURITY INVOKER).  This file turns each set into SQL that means the same
 * under any search_path — a schema-qualified relation, or the query checked
 * to be one plain SELECT — with its column names and types, and hands them
 * to the report's builder, the plpgsql function drift_report_sets()
 * (sql/install/drift_report.sql), whose own search_path is pinned.  That
 * builder runs the caller's query only inside the one statement it builds,
 * with the caller's search_path (every name it adds itself is qualified).
 *
 * No temporary objects are created, so a report also runs on a hot standby
 * and inside a security-restricted operation (monitors.c).
 */
#include "postgres.h"

#include <ctype.h>

#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/varlena.h"

#include "glue/glue.h"
#include "glue/run_as.h"
#include "monitoring/drift_report.h"

PG_FUNCTION_INFO_V1(drift_report);

/* Longest piece of a set echoed back in an error. */
#define TD_SET_ECHO 200

/* Error context: which set was being read. */
static void
td_set_error_context(void *arg)
{
	errcontext("reading the %s set of the drift report", (const char *) arg);
}

/* True when the text starts like a query rather than a relation name. */
static bool
td_looks_like_query(const char *s)
{
	static const char *const keywords[] = { "select", "with", "values", "table" };
	int						 i;

	while (isspace((unsigned char) *s))
		s++;
	/* no relation name starts with a parenthesis or a comment */
	if (*s == '(' || *s == '-' || *s == '/')
		return true;
	for (i = 0; i < (int) lengthof(keywords); i++)
	{
		size_t len = strlen(keywords[i]);

		/* these are reserved words: unquoted, they cannot name a relation */
		if (pg_strncasecmp(s, keywords[i], len) == 0 &&
			!(isalnum((unsigned char) s[len]) || s[len] == '_' || s[len] == '$'))
			return true;
	}
	return false;
}

/* Fill the set's column arrays from parallel lists of names and type oids. */
static void
td_set_columns(TdDriftSet *set, List *names, List *types)
{
	int	   n = list_length(names);
	Datum *name_datums = palloc(sizeof(Datum) * Max(n, 1));
	Datum *type_datums = palloc(sizeof(Datum) * Max(n, 1));
	int	   i;

	for (i = 0; i < n; i++)
	{
		name_datums[i] = CStringGetTextDatum((char *) list_nth(names, i));
		type_datums[i] = ObjectIdGetDatum(list_nth_oid(types, i));
	}
	set->names = construct_array(name_datums, n, TEXTOID, -1, false, TYPALIGN_INT);
	set->types = construct_array(type_datums, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT);
}

/* A table, view, materialized view or foreign table, by name. */
static void
td_set_from_relation(const char *source, const char *what, TdDriftSet *set)
{
	char	 *raw = pstrdup(source);
	List	 *parts;
	List	 *qualified = NIL;
	List	 *names = NIL;
	List	 *types = NIL;
	ListCell *lc;
	Oid		  relid = InvalidOid;
	Relation  rel;
	TupleDesc desc;
	int		  i;

	if (SplitIdentifierString(raw, '.', &parts) && list_length(parts) <= 3)
	{
		foreach (lc, parts)
			qualified = lappend(qualified, makeString((char *) lfirst(lc)));
		relid = RangeVarGetRelid(makeRangeVarFromNameList(qualified),
								 AccessShareLock, true);
	}
	if (!OidIsValid(relid))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid %s set", what),
				errdetail("\"%.*s\" is neither a table or view this role can see nor a SELECT query.",
						  TD_SET_ECHO, source),
				errhint("Give a table or view name (schema-qualified if needed), or a SELECT query."));

	rel = relation_open(relid, NoLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE &&
		rel->rd_rel->relkind != RELKIND_VIEW &&
		rel->rd_rel->relkind != RELKIND_MATVIEW &&
		rel->rd_rel->relkind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				errcode(ERRCODE_WRONG_OBJECT_TYPE),
				errmsg("invalid %s set", what),
				errdetail("\"%s\" is not a table, view, materialized view or foreign table.",
						  RelationGetRelationName(rel)));
	desc = RelationGetDescr(rel);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		names = lappend(names, pstrdup(NameStr(att->attname)));
		types = lappend_oid(types, att->atttypid);
	}
	td_set_columns(set, names, types);
	set->relid = relid;
	set->sql = psprintf("SELECT * FROM %s",
						quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												   RelationGetRelationName(rel)));
	relation_close(rel, NoLock);
}

/* One plain SELECT: no SELECT INTO, no FOR UPDATE, no data-modifying WITH. */
static void
td_set_from_query(const char *source, const char *what, TdDriftSet *set)
{
	List	 *parsed = raw_parser(source, RAW_PARSE_DEFAULT);
	RawStmt	 *stmt;
	Query	 *query;
	List	 *names = NIL;
	List	 *types = NIL;
	ListCell *lc;
	int		  start;
	int		  len;

	if (list_length(parsed) != 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("the %s set must be one query", what),
				errdetail("It holds %d statements.", list_length(parsed)),
				errhint("Give a single SELECT query, or a table or view name."));
	stmt = linitial_node(RawStmt, parsed);
	if (!IsA(stmt->stmt, SelectStmt))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("the %s set must be a SELECT query", what),
				errhint("Give a single SELECT query, or a table or view name."));
	query = parse_analyze_fixedparams(stmt, source, NULL, 0, NULL);
	if (query->commandType != CMD_SELECT || query->utilityStmt != NULL ||
		query->hasModifyingCTE || query->rowMarks != NIL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("the %s set must be a plain SELECT query", what),
				errdetail("SELECT INTO, FOR UPDATE or FOR SHARE and data-modifying WITH clauses are not allowed."));

	foreach (lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (tle->resjunk)
			continue;
		names = lappend(names, pstrdup(tle->resname ? tle->resname : "?column?"));
		types = lappend_oid(types, exprType((Node *) tle->expr));
	}
	td_set_columns(set, names, types);
	set->relid = InvalidOid;

	/* the statement alone, without a trailing semicolon */
	start = Max(stmt->stmt_location, 0);
	len = stmt->stmt_len > 0 ? stmt->stmt_len : (int) strlen(source + start);
	set->sql = pnstrdup(source + start, len);
}

/*
 * Describe a set given as a relation name or a query, with the current
 * search_path and user.  ERROR when it is neither.
 */
void
TdDescribeSet(const char *source, const char *what, TdDriftSet *set)
{
	ErrorContextCallback callback;

	memset(set, 0, sizeof(*set));
	if (source == NULL || source[strspn(source, " \t\r\n\f\v")] == '\0')
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("the %s set is missing", what),
				errhint("Give a table or view name, or a query."));

	callback.callback = td_set_error_context;
	callback.arg = (void *) what;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	if (td_looks_like_query(source))
		td_set_from_query(source, what, set);
	else
		td_set_from_relation(source, what, set);
	error_context_stack = callback.previous;
}

/*
 * 'profile:NAME' names a stored reference profile (profiles.sql).  No
 * relation name can be written so without quotes, and no query starts so.
 */
const char *
TdProfileName(const char *source)
{
	static const char prefix[] = "profile:";

	while (isspace((unsigned char) *source))
		source++;
	if (pg_strncasecmp(source, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	return source + sizeof(prefix) - 1;
}

/*
 * drift_report(reference text, current text, columns text[], prediction
 * text, target text, options jsonb) → jsonb.  A reference 'profile:NAME' is
 * read by drift_report_sets() from the stored profile, as the caller.
 */
Datum
drift_report(PG_FUNCTION_ARGS)
{
	TdDriftSet	reference;
	TdDriftSet	current;
	Oid			argtypes[12] = { TEXTOID, TEXTARRAYOID, OIDARRAYOID,
								 TEXTOID, TEXTARRAYOID, OIDARRAYOID, TEXTOID,
								 TEXTARRAYOID, TEXTOID, TEXTOID, JSONBOID, TEXTOID };
	Datum		values[12];
	bool		nulls[12] = { false };
	bool		isnull;
	Datum		result;
	char	   *sql;
	char	   *reference_source = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *profile = reference_source ? TdProfileName(reference_source) : NULL;

	if (profile == NULL)
		TdDescribeSet(reference_source, "reference", &reference);
	else
	{
		/* drift_report_sets() reads the profile's columns as the caller */
		memset(&reference, 0, sizeof(reference));
		reference.sql = "";
		reference.names = construct_empty_array(TEXTOID);
		reference.types = construct_empty_array(OIDOID);
	}
	TdDescribeSet(PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
				  "current", &current);

	values[0] = CStringGetTextDatum(reference.sql);
	values[1] = PointerGetDatum(reference.names);
	values[2] = PointerGetDatum(reference.types);
	values[3] = CStringGetTextDatum(current.sql);
	values[4] = PointerGetDatum(current.names);
	values[5] = PointerGetDatum(current.types);
	values[6] = CStringGetTextDatum(TdCurrentSearchPath());
	values[7] = PG_GETARG_DATUM(2);
	nulls[7] = PG_ARGISNULL(2);
	values[8] = PG_GETARG_DATUM(3);
	nulls[8] = PG_ARGISNULL(3);
	values[9] = PG_GETARG_DATUM(4);
	nulls[9] = PG_ARGISNULL(4);
	values[10] = PG_GETARG_DATUM(5);
	nulls[10] = PG_ARGISNULL(5);
	values[11] = profile ? CStringGetTextDatum(profile) : (Datum) 0;
	nulls[11] = profile == NULL;

	sql = psprintf("SELECT %s.drift_report_sets($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
				   TdFunctionSchema(fcinfo));
	result = TdSpiScalar(sql, 12, argtypes, values, nulls, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}
