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

#include "access/htup_details.h"
#include "catalog/pg_type.h"
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
		entry->valid = false;
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
		entry->valid = false;
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

/* Is `relation` one of the configured tables? (Catalog lookup: cache it.) */
static bool
td_dec_table_wanted(TdDecData *data, Relation relation)
{
	const char *relname = RelationGetRelationName(relation);
	char	   *nspname = NULL;
	ListCell   *lc;

	foreach (lc, data->tables)
	{
		TdDecTable *table = lfirst(lc);

		if (strcmp(table->name, relname) != 0)
			continue;
		if (table->schema == NULL)
			return true;
		if (nspname == NULL)
			nspname = get_namespace_name(RelationGetNamespace(relation));
		if (nspname != NULL && strcmp(table->schema, nspname) == 0)
			return true;
	}
	return false;
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

	old = MemoryContextSwitchTo(data->cache_cxt);
	if (!found)
	{
		entry->attrs = palloc(sizeof(TdDecAttr) * data->ncolumns);
		entry->values = NULL;
		entry->isnull = NULL;
		entry->natts = 0;
	}
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

/* Append a timestamp as "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC for timestamptz). */
static void
td_dec_append_timestamp(StringInfo out, Timestamp ts)
{
	struct pg_tm tm;
	fsec_t		 fsec;
	char		 buf[MAXDATELEN + 3];
	char		*p = buf;

	if (TIMESTAMP_NOT_FINITE(ts) ||
		timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
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
				appendStringInfoString(out, "null");
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
				appendStringInfoString(out, "null");
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

			if (numeric_is_nan(num) || numeric_is_inf(num))
				appendStringInfoString(out, "null");
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
