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

/*
 * Scan monitor `monitor`'s reference `source` as its `owner` and store it as
 * the monitor's own profile 'monitor:<monitor>' (profiles.c), replacing the
 * one it had; the calling role (GetUserId()) must have the owner's
 * privileges.  Returns the reference_profiles row.
 */
extern Datum TdMonitorProfileMake(FunctionCallInfo fcinfo, const char *monitor, Oid owner,
								  const char *search_path, const char *source, Datum columns,
								  bool columns_null, Datum prediction, bool prediction_null,
								  Datum target, bool target_null);

#endif /* TD_MONITORS_H */
