/*
 * drift_agg.h — the state shared by the drift aggregates (drift_agg.c) and
 * column_drift()'s final function (drift_column.c), and the helpers every
 * monitoring aggregate shares (regression_agg.c too).  drift_agg.c depends
 * on no other monitoring file; the others depend on it.
 *
 * Every drift aggregate keeps one value map (lib/stats/tds_value_map.c): the
 * exact counts of each distinct value in the reference and current windows.
 * column_drift() also carries its options, because a final function sees
 * only the state, and in a parallel plan the state is rebuilt from bytes.
 */
#ifndef DRIFT_AGG_H
#define DRIFT_AGG_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "glue/glue.h"
#include "tds_stats.h"

/* What the column's SQL type was, for Evidently's type inference. */
typedef enum TdColumnKind
{
	TD_KIND_FLOAT = 0, /* real, double precision, numeric */
	TD_KIND_INTEGER,   /* smallint, integer, bigint */
	TD_KIND_BOOLEAN,
	TD_KIND_TEXT
} TdColumnKind;

/* The column type a test is chosen for. */
typedef enum TdColumnType
{
	TD_TYPE_AUTO = 0,
	TD_TYPE_NUM,
	TD_TYPE_CAT,
	TD_TYPE_TEXT /* free text (Evidently's text_columns): text content drift */
} TdColumnType;

/*
 * How an integer column with a missing value in the current window is
 * typed: as pandas does (its dtype becomes float64, so Evidently types it
 * numerical), or by its number of distinct values as if the NULLs were not
 * there.
 */
typedef enum TdNullableIntegers
{
	TD_NULLABLE_FLOAT = 0,
	TD_NULLABLE_INTEGER
} TdNullableIntegers;

/* column_drift() options (all plain data: serialized byte for byte). */
typedef struct TdDriftOptions
{
	int32  kind;			  /* TdColumnKind */
	int32  column_type;		  /* TdColumnType */
	int32  stattest;		  /* tds_stattest; NONE = Evidently's choice */
	int32  nullable_integers; /* TdNullableIntegers */
	bool   has_threshold;
	bool   histogram; /* add reference/current histograms */
	double threshold;
} TdDriftOptions;

typedef struct TdDriftState
{
	TdDriftOptions options;
	tds_value_map *map;
} TdDriftState;

/* drift_agg.c */
extern MemoryContext	TdAggContext(FunctionCallInfo fcinfo, const char *function);
extern void				TdAppendJsonNumber(StringInfo buf, double d);
pg_noreturn extern void TdReportStatsError(const tds_error *error);
extern void				TdDriftOptionsDefault(TdDriftOptions *options, bool text_keys);
/* column_drift()'s options object (also for profile_agg.c); ERROR when invalid. */
extern void TdDriftParseOptions(Jsonb *jb, TdDriftOptions *options);

/* The state's column (a copy without values when categorical is wanted). */
extern void TdDriftStateColumn(TdDriftState *state, bool numerical,
							   tds_drift_column *column,
							   const char ***text_keys, uint32 **text_lens);

#endif /* DRIFT_AGG_H */
