/*
 * monitors.h — the privilege-boundary helpers of monitors.c, shared with the
 * reference profiles' entry points (profiles.c).
 */
#ifndef TD_MONITORS_H
#define TD_MONITORS_H

#include "postgres.h"

#include "fmgr.h"

/* ERROR on a standby: `function` writes the extension's tables. */
extern void TdRequirePrimary(const char *function);

/* ERROR unless `role` may read relation `relid`. */
extern void TdRequireSelect(Oid relid, Oid role);

/*
 * Call internal function `internal`(caller, args...) as the extension's
 * owner and return its single result (the caller is GetUserId()).
 */
extern Datum TdCallInternal(FunctionCallInfo fcinfo, const char *internal, int nargs,
							const Oid *types, const Datum *values, const bool *nulls,
							bool *isnull);

#endif /* TD_MONITORS_H */
