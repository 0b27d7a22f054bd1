/*
 * drift_report.h — reading a drift report's sets (drift_report.c), shared
 * with the monitors (monitors.c).
 */
#ifndef TD_DRIFT_REPORT_H
#define TD_DRIFT_REPORT_H

#include "postgres.h"

#include "utils/array.h"

/* A set as SQL that means the same under any search_path, and its columns. */
typedef struct TdDriftSet
{
	char	  *sql;	  /* SELECT * FROM schema.rel, or the checked query */
	Oid		   relid; /* the relation, or InvalidOid for a query */
	ArrayType *names; /* text[] */
	ArrayType *types; /* oid[] */
} TdDriftSet;

extern void TdDescribeSet(const char *source, const char *what, TdDriftSet *set);

/*
 * The profile named by a reference written 'profile:NAME' (the name as
 * written after the colon), or NULL for any other set.
 */
extern const char *TdProfileName(const char *source);

#endif /* TD_DRIFT_REPORT_H */
