/*
 * decoder.c — taxi_duration as a logical-decoding output plugin.
 *
 *   SELECT 'init' FROM pg_create_logical_replication_slot('s', 'taxi_duration');
 *   SELECT data FROM pg_logical_slot_get_changes('s', NULL, NULL,
 *                                                'tables', 'public.trips');
 *
 * For each committed transaction, one line per INSERT into a configured
 * table, as a trip event:
 *
 *   {"ride": {"PULocationID": 130, ..., "lpep_pickup_datetime": "..."},
 *    "ride_id": 256, "partition_key": "256",
 *    "commit_lsn": "0/16B3748", "xid": 745}
 *
 * "partition_key" is the ride id's exact text as a JSON string (an
 * integer's digits, or the string itself: what the AWS library's
 * tda_partition_key_from_ride_id makes of a ride id), null when the ride
 * id is null; the forwarder sends it as the Kinesis partition key without
 * reading numbers through a double, and its sender refuses an empty or
 * overlong one (dead letter).
 *
 * then one marker line {"commit_lsn": "0/16B3748", "xid": 745, "events": 2}
 * written by the commit callback, so a consumer can confirm the slot past
 * it.  commit_lsn is the end LSN of the transaction's commit record.
 * UPDATE, DELETE, TRUNCATE, messages and other tables are ignored.
 *
 * Values: integers and finite floats as JSON numbers, numeric as its
 * text, NaN and ±Infinity (float or numeric) as the JSON strings "NaN",
 * "Infinity" and "-Infinity" (JSON has no such numbers, and null would read
 * as a missing value where SQL refuses an infinite one), timestamps as
 * "YYYY-MM-DD HH:MM:SS[.ffffff]" (timestamptz in UTC; ±infinity as the
 * strings "infinity" and "-infinity", which SQL refuses and so does the core),
 * booleans as true/false, text as a JSON string, any other type as its
 * output function's text in a JSON string, NULL as null
 * (docs/streaming.md, "What the plugin writes").
 *
 * Tables are matched by name, so a renamed or dropped table stops being
 * forwarded: a name in 'tables' that matches no logged ordinary table at
 * startup is a WARNING, and so is a table this decoding session forwarded
 * that is renamed or dropped later in the WAL (its OID is watched: a
 * relcache invalidation marks it, the next change looks it up again under
 * the historic snapshot).  The same warning is repeated at most once a
 * minute per backend (a forwarder peeks every few hundred milliseconds).
 *
 * Options (name/value pairs, kebab-case like wal2json):
 *   tables            comma-separated, optionally schema-qualified (required)
 *   columns           source column[:output key], comma-separated
 *   ride-id-column    default ride_id
 *   include-commit    write the commit marker (default true)
 *   skip-empty-xacts  no marker for transactions without events (default
 *                     true)
 *
 * Per-relation lookups (is the table wanted, where are its columns, how is
 * each written) are cached by relation OID and dropped on relcache
 * invalidation, so a row costs a hash lookup, a deform and the formatting.
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlogrecovery.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/scansup.h"
#include "replication/logical.h"
#include "replication/output_plugin.h"
#include "replication/reorderbuffer.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "decoding/decoder.h"
#include "glue/glue.h"

/* How a column's value is written. */
typedef enum TdDecKind
{
	TD_DEC_INT2,
	TD_DEC_INT4,
	TD_DEC_INT8,
	TD_DEC_FLOAT4,
	TD_DEC_FLOAT8,
	TD_DEC_NUMERIC,
	TD_DEC_TIMESTAMP,
	TD_DEC_BOOL,
	TD_DEC_TEXT,
	TD_DEC_OTHER /* output function, as a JSON string */
} TdDecKind;

/* A table named by the tables option; schema is NULL if unqualified. */
typedef struct TdDecTable
{
	char *schema;
	char *name;
} TdDecTable;

/* A configured output column: source name and pre-escaped `"key": `. */
typedef struct TdDecColumn
{
	char *source;
	char *key;
	char *key_json;
} TdDecColumn;

/* A configured column found in a relation. */
typedef struct TdDecAttr
{
	int		  column; /* index into TdDecData.columns */
	int		  attidx; /* 0-based attribute index */
	TdDecKind kind;
	FmgrInfo  out; /* for TD_DEC_OTHER */
} TdDecAttr;

/* Cached facts about one relation (key: relid). */
typedef struct TdDecRelEntry
{
	Oid		   relid;
	bool	   valid;
	bool	   wanted;
	int		   natts;	/* of the descriptor the entry was built for */
	int		   nattrs;	/* configured columns present */
	TdDecAttr *attrs;	/* [ncolumns], first nattrs used */
	TdDecAttr  ride_id; /* attidx -1 if absent */
	Datum	  *values;	/* [natts], for heap_deform_tuple */
	bool	  *isnull;
	bool	   watched;	 /* forwarded (or configured at startup): warn if renamed */
	bool	   seen;	 /* a change of it was decoded under a configured name */
	bool	   recheck;	 /* invalidated since: look its name up again */
	char	  *qualname; /* schema.name when it was last seen wanted */
} TdDecRelEntry;

/* The plugin's private state. */
typedef struct TdDecData
{
	MemoryContext context;	 /* per change, reset after each */
	MemoryContext cache_cxt; /* the relation cache */
	List		 *tables;	 /* of TdDecTable * */
	TdDecColumn	 *columns;
	int			  ncolumns;
	char		 *ride_id_column;
	bool		  include_commit;
	bool		  skip_empty_xacts;
	XLogRecPtr	  startup_lsn; /* the WAL's end when the tables were looked up */
	/* per transaction */
	char   suffix[96]; /* `, "commit_lsn": ..., "xid": ...}` */
	uint64 events;
	int	   skipped; /* changes since the last progress report */
} TdDecData;

/*
 * The relation cache of the decoding context in progress (one per backend
 * at a time); NULL when none.  The invalidation callbacks, registered once
 * per backend, reach it through this pointer; a reset callback on its
 * context clears it however decoding ends.
 */
static HTAB *td_dec_rel_cache = NULL;
static bool	 td_dec_callbacks_registered = false;

/* A watched relation was invalidated: td_dec_recheck() at the next change. */
static bool td_dec_recheck_pending = false;

/* Warnings given lately in this backend (td_dec_warn_due). */
#define TD_DEC_WARN_SLOTS 16
#define TD_DEC_WARN_INTERVAL_MS 60000
static struct
{
	uint32		hash;
	TimestampTz at;
} td_dec_warned[TD_DEC_WARN_SLOTS];

static void td_dec_startup(LogicalDecodingContext *ctx,
						   OutputPluginOptions *opt, bool is_init);
static void td_dec_shutdown(LogicalDecodingContext *ctx);
static void td_dec_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn);
static void td_dec_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						  Relation relation, ReorderBufferChange *change);
static void td_dec_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						  XLogRecPtr commit_lsn);

/* Register the plugin's callbacks; everything else happens at startup. */
void
_PG_output_plugin_init(OutputPluginCallbacks *cb)
{
	AssertVariableIsOfType(&_PG_output_plugin_init, LogicalOutputPluginInit);

	cb->startup_cb = td_dec_startup;
	cb->begin_cb = td_dec_begin;
	cb->change_cb = td_dec_change;
	cb->commit_cb = td_dec_commit;
	cb->shutdown_cb = td_dec_shutdown;
}

/* The option's value, or an error if it has none. */
static char *
td_dec_option_string(DefElem *elem)
{
	if (elem->arg == NULL || strVal(elem->arg) == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("option \"%s\" requires a value", elem->defname));
	return strVal(elem->arg);
}

/* The option's value as a boolean; a missing value means true. */
static bool
td_dec_option_bool(DefElem *elem)
{
	bool result;

	if (elem->arg == NULL || strVal(elem->arg) == NULL)
		return true;
	if (!parse_bool(strVal(elem->arg), &result))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("could not parse value \"%s\" for option \"%s\"",
					   strVal(elem->arg), elem->defname),
				errhint("Use true or false."));
	return result;
}

/*
 * Split `raw` at commas outside double quotes into trimmed, non-empty items;
 * an empty item is an error naming `option`.
 */
static List *
td_dec_split_list(const char *raw, const char *option)
{
	List	   *items = NIL;
	const char *start = raw;
	const char *p;
	bool		quoted = false;

	for (p = raw;; p++)
	{
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '\0' || (*p == ',' && !quoted))
		{
			const char *b = start;
			const char *e = p;

			while (b < e && scanner_isspace(*b))
				b++;
			while (e > b && scanner_isspace(e[-1]))
				e--;
			if (b == e)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid value \"%s\" for option \"%s\"", raw, option),
						errdetail("The list has an empty item."));
			items = lappend(items, pnstrdup(b, e - b));
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
	if (quoted)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid value \"%s\" for option \"%s\"", raw, option),
				errdetail("A double quote is not closed."));
	return items;
}

/* Parse the tables option: [schema.]table names, SQL identifier rules. */
static List *
td_dec_parse_tables(const char *raw)
{
	List	 *tables = NIL;
	ListCell *lc;

	foreach (lc, td_dec_split_list(raw, "tables"))
	{
		char	   *item = lfirst(lc);
		char	   *copy = pstrdup(item);
		List	   *names;
		TdDecTable *table;

		if (!SplitIdentifierString(copy, '.', &names) ||
			list_length(names) < 1 || list_length(names) > 2)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("invalid table name \"%s\" in option \"tables\"", item),
					errhint("Write table or schema.table, quoting names as in SQL."));
		table = palloc(sizeof(TdDecTable));
		table->schema = list_length(names) == 2 ? linitial(names) : NULL;
		table->name = llast(names);
		tables = lappend(tables, table);
	}
	return tables;
}

/* Parse the columns option: source[:key] items, keys unique. */
static void
td_dec_parse_columns(TdDecData *data, const char *raw)
{
	List	 *items = td_dec_split_list(raw, "columns");
	ListCell *lc;
	int		  n = 0;

	data->columns = palloc(sizeof(TdDecColumn) * list_length(items));
	foreach (lc, items)
	{
		char		  *item = lfirst(lc);
		char		  *colon = strchr(item, ':');
		char		  *key = item;
		StringInfoData buf;
		int			   i;

		if (colon != NULL)
		{
			*colon = '\0';
			key = colon + 1;
		}
		if (*item == '\0' || *key == '\0' || strchr(key, ':') != NULL)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("invalid column \"%s%s%s\" in option \"columns\"",
						   item, colon ? ":" : "", colon ? key : ""),
					errhint("Write source_column or source_column:output_key."));
		for (i = 0; i < n; i++)
		{
			if (strcmp(data->columns[i].key, key) == 0 ||
				pg_strcasecmp(data->columns[i].source, item) == 0)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("duplicate column or output key \"%s\" in option \"columns\"",
							   strcmp(data->columns[i].key, key) == 0 ? key : item),
						errdetail("Each source column and output key may appear once."));
		}
		initStringInfo(&buf);
		escape_json(&buf, key);
		appendStringInfoString(&buf, ": ");
		data->columns[n].source = item;
		data->columns[n].key = key;
		data->columns[n].key_json = buf.data;
		n++;
	}
	data->ncolumns = n;
}

/* Mark every cached relation stale. */
static void
td_dec_invalidate_all(void)
{
	HASH_SEQ_STATUS status;
	TdDecRelEntry  *entry;

	hash_seq_init(&status, td_dec_rel_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		entry->valid = false;
		if (entry->watched)
		{
			entry->recheck = true;
			td_dec_recheck_pending = true;
		}
	}
}

/* Relcache invalidation: forget what we know about `relid` (or all). */
static void
td_dec_relcache_callback(Datum arg, Oid relid)
{
	TdDecRelEntry *entry;

	if (td_dec_rel_cache == NULL)
		return;
	if (!OidIsValid(relid))
	{
		td_dec_invalidate_all();
		return;
	}
	entry = hash_search(td_dec_rel_cache, &relid, HASH_FIND, NULL);
	if (entry != NULL)
	{
		entry->valid = false;
		if (entry->watched)
		{
			entry->recheck = true;
			td_dec_recheck_pending = true;
		}
	}
}

/* A schema changed (e.g. renamed): table matches may change. */
static void
td_dec_namespace_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	if (td_dec_rel_cache != NULL)
		td_dec_invalidate_all();
}

/* The relation cache's context is going away. */
static void
td_dec_cache_reset(void *arg)
{
	td_dec_rel_cache = NULL;
	td_dec_recheck_pending = false;
}

/*
 * Should the warning `what` about `name` be given now?  Not when this
 * backend gave it in the last TD_DEC_WARN_INTERVAL_MS: a forwarder peeks
 * the slot every few hundred milliseconds, each peek starting decoding
 * anew, and the server log should not get a line each time.
 */
static bool
td_dec_warn_due(const char *what, const char *name)
{
	TimestampTz now = GetCurrentTimestamp();
	uint32		hash;
	int			oldest = 0;
	int			i;

	hash = hash_bytes((const unsigned char *) what, strlen(what)) ^
		   hash_bytes((const unsigned char *) name, strlen(name));
	for (i = 0; i < TD_DEC_WARN_SLOTS; i++)
	{
		if (td_dec_warned[i].at != 0 && td_dec_warned[i].hash == hash)
		{
			if (!TimestampDifferenceExceeds(td_dec_warned[i].at, now, TD_DEC_WARN_INTERVAL_MS))
				return false;
			td_dec_warned[i].at = now;
			return true;
		}
		if (td_dec_warned[i].at < td_dec_warned[oldest].at)
			oldest = i;
	}
	td_dec_warned[oldest].hash = hash;
	td_dec_warned[oldest].at = now;
	return true;
}

/* A cache entry's fields before its first build. */
static void
td_dec_entry_init(TdDecData *data, TdDecRelEntry *entry)
{
	entry->attrs = MemoryContextAlloc(data->cache_cxt, sizeof(TdDecAttr) * Max(data->ncolumns, 1));
	entry->values = NULL;
	entry->isnull = NULL;
	entry->natts = 0;
	entry->nattrs = 0;
	entry->valid = false;
	entry->wanted = false;
	entry->watched = false;
	entry->seen = false;
	entry->recheck = false;
	entry->qualname = NULL;
}

/* Watch `relid` under the name `qualname` (startup, or a wanted relation). */
static void
td_dec_watch(TdDecData *data, Oid relid, const char *qualname)
{
	bool		   found;
	TdDecRelEntry *entry = hash_search(td_dec_rel_cache, &relid, HASH_ENTER, &found);

	if (!found)
		td_dec_entry_init(data, entry);
	entry->watched = true;
	if (entry->qualname == NULL || strcmp(entry->qualname, qualname) != 0)
	{
		if (entry->qualname != NULL)
			pfree(entry->qualname);
		entry->qualname = MemoryContextStrdup(data->cache_cxt, qualname);
	}
}

/* A configured name as written in warnings: schema.name or name. */
static char *
td_dec_table_display(const TdDecTable *table)
{
	return table->schema != NULL ? psprintf("%s.%s", table->schema, table->name) :
								   pstrdup(table->name);
}

/*
 * Look the configured tables up in the catalog as it is now; warn about a
 * name that matches no logged ordinary table (nothing under it is decoded:
 * typically a table renamed or dropped), watch the OIDs of those found.
 * Runs in the caller's transaction (SQL functions) or in one of its own (a
 * walsender's START_REPLICATION has none).
 */
static void
td_dec_check_tables(TdDecData *data)
{
	MemoryContext caller_cxt = CurrentMemoryContext;
	bool		  started = false;
	ListCell	 *lc;

	data->startup_lsn = RecoveryInProgress() ? GetXLogReplayRecPtr(NULL) : GetXLogInsertRecPtr();
	if (!IsTransactionState())
	{
		StartTransactionCommand();
		started = true;
	}
	foreach (lc, data->tables)
	{
		TdDecTable *table = lfirst(lc);
		char	   *display = td_dec_table_display(table);
		Oid			nspid = InvalidOid;
		bool		found_table = false;
		bool		partitioned = false;
		bool		unlogged = false;
		bool		other = false;

		if (table->schema != NULL)
			nspid = get_namespace_oid(table->schema, true);
		if (table->schema == NULL || OidIsValid(nspid))
		{
			Relation	rel = table_open(RelationRelationId, AccessShareLock);
			ScanKeyData key[2];
			NameData	relname;
			SysScanDesc scan;
			HeapTuple	tuple;

			namestrcpy(&relname, table->name);
			ScanKeyInit(&key[0], Anum_pg_class_relname, BTEqualStrategyNumber, F_NAMEEQ,
						NameGetDatum(&relname));
			ScanKeyInit(&key[1], Anum_pg_class_relnamespace, BTEqualStrategyNumber, F_OIDEQ,
						ObjectIdGetDatum(nspid));
			scan = systable_beginscan(rel, ClassNameNspIndexId, true, NULL,
									  OidIsValid(nspid) ? 2 : 1, key);
			while (HeapTupleIsValid(tuple = systable_getnext(scan)))
			{
				Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);

				if (form->relkind == RELKIND_RELATION &&
					form->relpersistence == RELPERSISTENCE_PERMANENT)
				{
					char *nspname = get_namespace_name(form->relnamespace);

					found_table = true;
					td_dec_watch(data, form->oid,
								 psprintf("%s.%s", nspname ? nspname : "?", NameStr(form->relname)));
				}
				else if (form->relkind == RELKIND_PARTITIONED_TABLE)
					partitioned = true;
				else if (form->relkind == RELKIND_RELATION)
					unlogged = true;
				else
					other = true;
			}
			systable_endscan(scan);
			table_close(rel, AccessShareLock);
		}
		if (found_table)
			continue;
		if (partitioned && td_dec_warn_due("partitioned", display))
			ereport(WARNING,
					errcode(ERRCODE_WRONG_OBJECT_TYPE),
					errmsg("table \"%s\" in option \"tables\" is partitioned", display),
					errdetail("Rows inserted into a partitioned table are decoded as rows of its partitions, which are matched by their own names."),
					errhint("Name its partitions in option \"tables\"."));
		else if (!partitioned && (unlogged || other) && td_dec_warn_due("not a table", display))
			ereport(WARNING,
					errcode(ERRCODE_WRONG_OBJECT_TYPE),
					errmsg("\"%s\" in option \"tables\" is not a logged table", display),
					errdetail("Only rows inserted into ordinary tables that are not temporary or unlogged are written to the WAL and decoded."),
					errhint("Name a logged table in option \"tables\"."));
		else if (!partitioned && !unlogged && !other && td_dec_warn_due("does not exist", display))
			ereport(WARNING,
					errcode(ERRCODE_UNDEFINED_TABLE),
					errmsg("table \"%s\" in option \"tables\" does not exist", display),
					errdetail("Rows are decoded only from a table of that name; rows of a table that was renamed or dropped are no longer forwarded."),
					errhint("Create the table or rename it back, or name the table in option \"tables\" (TD_TABLES for td-forwarder)."));
	}
	if (started)
		CommitTransactionCommand();
	MemoryContextSwitchTo(caller_cxt);
}

/* Start decoding: parse the options into a private context. */
static void
td_dec_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt,
			   bool is_init)
{
	TdDecData			  *data;
	MemoryContext		   old;
	ListCell			  *lc;
	const char			  *columns = TD_DEC_DEFAULT_COLUMNS;
	HASHCTL				   hctl;
	MemoryContextCallback *reset_cb;

	old = MemoryContextSwitchTo(ctx->context);
	data = palloc0(sizeof(TdDecData));
	data->context = AllocSetContextCreate(ctx->context,
										  "taxi_duration decoder per change",
										  ALLOCSET_DEFAULT_SIZES);
	data->cache_cxt = AllocSetContextCreate(ctx->context,
											"taxi_duration decoder relation cache",
											ALLOCSET_SMALL_SIZES);
	data->ride_id_column = TD_DEC_DEFAULT_RIDE_ID_COLUMN;
	data->include_commit = true;
	data->skip_empty_xacts = true;

	foreach (lc, ctx->output_plugin_options)
	{
		DefElem *elem = lfirst(lc);

		Assert(elem->arg == NULL || IsA(elem->arg, String));
		if (strcmp(elem->defname, "tables") == 0)
			data->tables = td_dec_parse_tables(td_dec_option_string(elem));
		else if (strcmp(elem->defname, "columns") == 0)
			columns = td_dec_option_string(elem);
		else if (strcmp(elem->defname, "ride-id-column") == 0)
		{
			data->ride_id_column = td_dec_option_string(elem);
			if (data->ride_id_column[0] == '\0')
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("option \"ride-id-column\" must not be empty"));
		}
		else if (strcmp(elem->defname, "include-commit") == 0)
			data->include_commit = td_dec_option_bool(elem);
		else if (strcmp(elem->defname, "skip-empty-xacts") == 0)
			data->skip_empty_xacts = td_dec_option_bool(elem);
		else
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("unrecognized taxi_duration option \"%s\"", elem->defname),
					errhint("Valid options are tables, columns, ride-id-column, include-commit and skip-empty-xacts."));
	}
	if (data->tables == NIL && !is_init)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("taxi_duration decoding requires the option \"tables\""),
				errhint("Pass 'tables', 'public.trips' to pg_logical_slot_get_changes(), or (\"tables\" 'public.trips') to START_REPLICATION."));
	td_dec_parse_columns(data, columns);

	memset(&hctl, 0, sizeof(hctl));
	hctl.keysize = sizeof(Oid);
	hctl.entrysize = sizeof(TdDecRelEntry);
	hctl.hcxt = data->cache_cxt;
	td_dec_rel_cache = hash_create("taxi_duration decoder relations", 64, &hctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	reset_cb = MemoryContextAlloc(data->cache_cxt, sizeof(MemoryContextCallback));
	reset_cb->func = td_dec_cache_reset;
	reset_cb->arg = NULL;
	MemoryContextRegisterResetCallback(data->cache_cxt, reset_cb);
	if (!td_dec_callbacks_registered)
	{
		CacheRegisterRelcacheCallback(td_dec_relcache_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACEOID, td_dec_namespace_callback, (Datum) 0);
		td_dec_callbacks_registered = true;
	}

	ctx->output_plugin_private = data;
	opt->output_type = OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
	opt->receive_rewrites = false;
	if (!is_init)
		td_dec_check_tables(data);
	MemoryContextSwitchTo(old);
}

/* Stop decoding: free the private contexts. */
static void
td_dec_shutdown(LogicalDecodingContext *ctx)
{
	TdDecData *data = ctx->output_plugin_private;

	MemoryContextDelete(data->context);
	MemoryContextDelete(data->cache_cxt);
}

/* How values of type `typid` are written (`ride_id`: non-integers as text). */
static void
td_dec_init_attr(TdDecData *data, TdDecAttr *attr, Oid typid, bool ride_id)
{
	Oid	 base = getBaseType(typid);
	Oid	 outfunc;
	bool varlena;

	switch (base)
	{
		case INT2OID:
			attr->kind = TD_DEC_INT2;
			break;
		case INT4OID:
			attr->kind = TD_DEC_INT4;
			break;
		case INT8OID:
			attr->kind = TD_DEC_INT8;
			break;
		case FLOAT4OID:
			attr->kind = TD_DEC_FLOAT4;
			break;
		case FLOAT8OID:
			attr->kind = TD_DEC_FLOAT8;
			break;
		case NUMERICOID:
			attr->kind = TD_DEC_NUMERIC;
			break;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			attr->kind = TD_DEC_TIMESTAMP;
			break;
		case BOOLOID:
			attr->kind = TD_DEC_BOOL;
			break;
		case TEXTOID:
		case VARCHAROID:
			attr->kind = TD_DEC_TEXT;
			break;
		default:
			attr->kind = TD_DEC_OTHER;
			break;
	}
	if (ride_id && attr->kind != TD_DEC_INT2 && attr->kind != TD_DEC_INT4 &&
		attr->kind != TD_DEC_INT8 && attr->kind != TD_DEC_TEXT)
		attr->kind = TD_DEC_OTHER;
	if (attr->kind == TD_DEC_OTHER)
	{
		getTypeOutputInfo(typid, &outfunc, &varlena);
		fmgr_info_cxt(outfunc, &attr->out, data->cache_cxt);
	}
}

/* Is relation `relname` in namespace `nspid` a configured table? */
static bool
td_dec_name_wanted(TdDecData *data, const char *relname, Oid nspid)
{
	char	 *nspname = NULL;
	ListCell *lc;

	foreach (lc, data->tables)
	{
		TdDecTable *table = lfirst(lc);

		if (strcmp(table->name, relname) != 0)
			continue;
		if (table->schema == NULL)
			return true;
		if (nspname == NULL)
			nspname = get_namespace_name(nspid);
		if (nspname != NULL && strcmp(table->schema, nspname) == 0)
			return true;
	}
	return false;
}

/* Is `relation` one of the configured tables? (Catalog lookup: cache it.) */
static bool
td_dec_table_wanted(TdDecData *data, Relation relation)
{
	return td_dec_name_wanted(data, RelationGetRelationName(relation),
							  RelationGetNamespace(relation));
}

/*
 * Watched relations were invalidated: look each up again (under the
 * historic snapshot of the change being decoded, at `lsn`) and warn when
 * one was renamed out of the configured names or dropped.  A relation
 * known only from the startup lookup (the catalog as it was at
 * startup_lsn) is judged only from that point of the WAL on: before it,
 * it may not have been created or named so yet.  Only a lookup by OID;
 * the entries themselves are rebuilt when their next change comes.
 */
static void
td_dec_recheck(TdDecData *data, XLogRecPtr lsn)
{
	HASH_SEQ_STATUS status;
	TdDecRelEntry  *entry;

	td_dec_recheck_pending = false;
	hash_seq_init(&status, td_dec_rel_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		HeapTuple	  tuple;
		Form_pg_class form;
		const char	 *old = entry->qualname ? entry->qualname : "?";

		if (!entry->recheck)
			continue;
		entry->recheck = false;
		if (!entry->seen && lsn < data->startup_lsn)
			continue;
		tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(entry->relid));
		if (!HeapTupleIsValid(tuple))
		{
			entry->watched = false;
			if (td_dec_warn_due("dropped", old))
				ereport(WARNING,
						errcode(ERRCODE_UNDEFINED_TABLE),
						errmsg("table \"%s\" named in option \"tables\" was dropped", old),
						errdetail("Its rows are no longer forwarded; those of a table created later under the same name are."));
			continue;
		}
		form = (Form_pg_class) GETSTRUCT(tuple);
		if (!td_dec_name_wanted(data, NameStr(form->relname), form->relnamespace))
		{
			char *nspname = get_namespace_name(form->relnamespace);
			char *now = psprintf("%s.%s", nspname ? nspname : "?", NameStr(form->relname));

			entry->watched = false;
			if (td_dec_warn_due("renamed", old))
				ereport(WARNING,
						errcode(ERRCODE_UNDEFINED_TABLE),
						errmsg("table \"%s\" was renamed to \"%s\" and is no longer forwarded", old, now),
						errdetail("Rows are decoded only from tables named in option \"tables\"; rows inserted into \"%s\" are not forwarded.", now),
						errhint("Rename the table back, or add its new name to option \"tables\" (TD_TABLES for td-forwarder)."));
		}
		ReleaseSysCache(tuple);
	}
}

/* The cache entry of `relation`, (re)built if stale. */
static TdDecRelEntry *
td_dec_rel_entry(TdDecData *data, Relation relation)
{
	Oid			   relid = RelationGetRelid(relation);
	TupleDesc	   desc = RelationGetDescr(relation);
	TdDecRelEntry *entry;
	bool		   found;
	MemoryContext  old;
	int			   c;
	int			   i;

	entry = hash_search(td_dec_rel_cache, &relid, HASH_ENTER, &found);
	if (found && entry->valid && entry->natts == desc->natts)
		return entry;

	if (!found)
		td_dec_entry_init(data, entry);
	old = MemoryContextSwitchTo(data->cache_cxt);
	if (entry->values == NULL || entry->natts < desc->natts)
	{
		if (entry->values != NULL)
		{
			pfree(entry->values);
			pfree(entry->isnull);
		}
		entry->values = palloc(sizeof(Datum) * Max(desc->natts, 1));
		entry->isnull = palloc(sizeof(bool) * Max(desc->natts, 1));
	}
	entry->natts = desc->natts;
	entry->nattrs = 0;
	entry->ride_id.attidx = -1;
	entry->wanted = td_dec_table_wanted(data, relation);
	if (entry->wanted)
	{
		char *nspname;

		/* the names are scratch (the per-change context); the watch copies */
		MemoryContextSwitchTo(data->context);
		nspname = get_namespace_name(RelationGetNamespace(relation));
		td_dec_watch(data, relid,
					 psprintf("%s.%s", nspname ? nspname : "?", RelationGetRelationName(relation)));
		entry->seen = true;
		MemoryContextSwitchTo(data->cache_cxt);
		for (c = 0; c < data->ncolumns; c++)
		{
			for (i = 0; i < desc->natts; i++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, i);

				if (!att->attisdropped &&
					pg_strcasecmp(NameStr(att->attname), data->columns[c].source) == 0)
				{
					TdDecAttr *attr = &entry->attrs[entry->nattrs++];

					attr->column = c;
					attr->attidx = i;
					td_dec_init_attr(data, attr, att->atttypid, false);
					break;
				}
			}
		}
		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped &&
				pg_strcasecmp(NameStr(att->attname), data->ride_id_column) == 0)
			{
				entry->ride_id.attidx = i;
				td_dec_init_attr(data, &entry->ride_id, att->atttypid, true);
				break;
			}
		}
	}
	entry->valid = true;
	MemoryContextSwitchTo(old);
	return entry;
}

/* Append two decimal digits. */
static inline char *
td_dec_2d(char *p, int v)
{
	p[0] = '0' + v / 10;
	p[1] = '0' + v % 10;
	return p + 2;
}

/*
 * Append a timestamp as "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC for
 * timestamptz), ±infinity as "infinity"/"-infinity".
 */
static void
td_dec_append_timestamp(StringInfo out, Timestamp ts)
{
	struct pg_tm tm;
	fsec_t		 fsec;
	char		 buf[MAXDATELEN + 3];
	char		*p = buf;

	if (TIMESTAMP_NOT_FINITE(ts))
	{
		/* SQL refuses these (22023): carry them, not a missing null */
		appendStringInfoString(out, TIMESTAMP_IS_NOBEGIN(ts) ? "\"-infinity\"" : "\"infinity\"");
		return;
	}
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
	{
		appendStringInfoString(out, "null");
		return;
	}
	if (tm.tm_year < 1 || tm.tm_year > 9999)
	{
		/* BC or five-digit years: PostgreSQL's ISO text */
		EncodeDateTime(&tm, fsec, false, 0, NULL, USE_ISO_DATES, buf);
		escape_json(out, buf);
		return;
	}
	*p++ = '"';
	p = td_dec_2d(p, tm.tm_year / 100);
	p = td_dec_2d(p, tm.tm_year % 100);
	*p++ = '-';
	p = td_dec_2d(p, tm.tm_mon);
	*p++ = '-';
	p = td_dec_2d(p, tm.tm_mday);
	*p++ = ' ';
	p = td_dec_2d(p, tm.tm_hour);
	*p++ = ':';
	p = td_dec_2d(p, tm.tm_min);
	*p++ = ':';
	p = td_dec_2d(p, tm.tm_sec);
	if (fsec != 0)
	{
		int f = fsec;
		int d;

		*p++ = '.';
		for (d = 5; d >= 0; d--)
		{
			p[d] = '0' + f % 10;
			f /= 10;
		}
		p += 6;
	}
	*p++ = '"';
	appendBinaryStringInfo(out, buf, p - buf);
}

/*
 * A NaN or infinite float or numeric, as the JSON string of PostgreSQL's own
 * text: the trip event carries the value (JSON has no such number; null
 * would read as missing where SQL refuses ±Infinity), and the model core
 * reads these three strings as the doubles they name.
 */
static void
td_dec_append_non_finite(StringInfo out, bool nan, bool negative)
{
	appendStringInfoString(out, nan ? "\"NaN\"" : negative ? "\"-Infinity\"" :
															 "\"Infinity\"");
}

/* Append one non-null value as JSON. */
static void
td_dec_append_value(StringInfo out, const TdDecAttr *attr, Datum value)
{
	char buf[DOUBLE_SHORTEST_DECIMAL_LEN + 1];
	int	 len;

	switch (attr->kind)
	{
		case TD_DEC_INT2:
			len = pg_ltoa(DatumGetInt16(value), buf);
			appendBinaryStringInfo(out, buf, len);
			break;
		case TD_DEC_INT4:
			len = pg_ltoa(DatumGetInt32(value), buf);
			appendBinaryStringInfo(out, buf, len);
			break;
		case TD_DEC_INT8:
			len = pg_lltoa(DatumGetInt64(value), buf);
			appendBinaryStringInfo(out, buf, len);
			break;
		case TD_DEC_FLOAT4:
		{
			float4 f = DatumGetFloat4(value);

			if (isnan(f) || isinf(f))
				td_dec_append_non_finite(out, isnan(f), f < 0);
			else
			{
				len = float_to_shortest_decimal_buf(f, buf);
				appendBinaryStringInfo(out, buf, len);
			}
		}
		break;
		case TD_DEC_FLOAT8:
		{
			float8 f = DatumGetFloat8(value);

			if (isnan(f) || isinf(f))
				td_dec_append_non_finite(out, isnan(f), f < 0);
			else
			{
				len = double_to_shortest_decimal_buf(f, buf);
				appendBinaryStringInfo(out, buf, len);
			}
		}
		break;
		case TD_DEC_NUMERIC:
		{
			Numeric num = DatumGetNumeric(value);

			if (numeric_is_nan(num))
				td_dec_append_non_finite(out, true, false);
			else if (numeric_is_inf(num))
				td_dec_append_non_finite(out, false,
										 DatumGetFloat8(DirectFunctionCall1(numeric_float8,
																			NumericGetDatum(num))) < 0);
			else
				appendStringInfoString(out,
									   DatumGetCString(DirectFunctionCall1(numeric_out,
																		   NumericGetDatum(num))));
		}
		break;
		case TD_DEC_TIMESTAMP:
			td_dec_append_timestamp(out, DatumGetTimestamp(value));
			break;
		case TD_DEC_BOOL:
			appendStringInfoString(out, DatumGetBool(value) ? "true" : "false");
			break;
		case TD_DEC_TEXT:
			escape_json(out, TextDatumGetCString(value));
			break;
		case TD_DEC_OTHER:
			escape_json(out, OutputFunctionCall((FmgrInfo *) &attr->out, value));
			break;
	}
}

/*
 * Append the ride id and, as "partition_key", its exact text as a JSON
 * string: an integer's digits quoted, a string (text, or another type's
 * output) as the very same JSON string.
 */
static void
td_dec_append_ride_id(StringInfo out, const TdDecAttr *attr, Datum value)
{
	int	  start = out->len;
	char *text;
	bool  quoted;

	td_dec_append_value(out, attr, value);
	text = pnstrdup(out->data + start, out->len - start);
	quoted = text[0] == '"';
	appendStringInfoString(out, ", \"partition_key\": ");
	if (!quoted)
		appendStringInfoChar(out, '"');
	appendStringInfoString(out, text);
	if (!quoted)
		appendStringInfoChar(out, '"');
	pfree(text);
}

/* A change we do not write; report progress now and then. */
static void
td_dec_skip(LogicalDecodingContext *ctx, TdDecData *data)
{
	if (++data->skipped >= TD_DEC_PROGRESS_EVERY)
	{
		data->skipped = 0;
		OutputPluginUpdateProgress(ctx, false);
	}
}

/* Begin of a transaction: nothing is written, the event suffix is prepared. */
static void
td_dec_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	TdDecData *data = ctx->output_plugin_private;

	data->events = 0;
	snprintf(data->suffix, sizeof(data->suffix),
			 ", \"commit_lsn\": \"%X/%X\", \"xid\": %u}",
			 LSN_FORMAT_ARGS(txn->end_lsn), txn->xid);
}

/* One change: an INSERT into a configured table becomes one event line. */
static void
td_dec_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			  Relation relation, ReorderBufferChange *change)
{
	TdDecData	  *data = ctx->output_plugin_private;
	TdDecRelEntry *entry;
	HeapTuple	   tuple;
	StringInfo	   out;
	MemoryContext  old;
	int			   i;

	if (td_dec_recheck_pending)
		td_dec_recheck(data, change->lsn);
	if (change->action != REORDER_BUFFER_CHANGE_INSERT ||
		change->data.tp.newtuple == NULL)
	{
		td_dec_skip(ctx, data);
		return;
	}
	entry = td_dec_rel_entry(data, relation);
	if (!entry->wanted)
	{
		td_dec_skip(ctx, data);
		return;
	}

	old = MemoryContextSwitchTo(data->context);
	tuple = TD_CHANGE_HEAP_TUPLE(change->data.tp.newtuple);
	heap_deform_tuple(tuple, RelationGetDescr(relation), entry->values, entry->isnull);

	OutputPluginPrepareWrite(ctx, true);
	out = ctx->out;
	appendStringInfoString(out, "{\"ride\": {");
	for (i = 0; i < entry->nattrs; i++)
	{
		const TdDecAttr *attr = &entry->attrs[i];

		if (i > 0)
			appendStringInfoString(out, ", ");
		appendStringInfoString(out, data->columns[attr->column].key_json);
		if (entry->isnull[attr->attidx])
			appendStringInfoString(out, "null");
		else
			td_dec_append_value(out, attr, entry->values[attr->attidx]);
	}
	appendStringInfoString(out, "}, \"ride_id\": ");
	if (entry->ride_id.attidx < 0 || entry->isnull[entry->ride_id.attidx])
		appendStringInfoString(out, "null, \"partition_key\": null");
	else
		td_dec_append_ride_id(out, &entry->ride_id, entry->values[entry->ride_id.attidx]);
	appendStringInfoString(out, data->suffix);
	OutputPluginWrite(ctx, true);

	MemoryContextSwitchTo(old);
	MemoryContextReset(data->context);
	data->events++;
}

/* End of a transaction: the commit marker line. */
static void
td_dec_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			  XLogRecPtr commit_lsn)
{
	TdDecData *data = ctx->output_plugin_private;

	if (data->events == 0 && data->skip_empty_xacts)
	{
		/* lets a walsender confirm past transactions we did not write */
		OutputPluginUpdateProgress(ctx, true);
		return;
	}
	if (!data->include_commit)
		return;
	OutputPluginPrepareWrite(ctx, true);
	appendStringInfo(ctx->out,
					 "{\"commit_lsn\": \"%X/%X\", \"xid\": %u, \"events\": " UINT64_FORMAT "}",
					 LSN_FORMAT_ARGS(txn->end_lsn), txn->xid, data->events);
	OutputPluginWrite(ctx, true);
}
