/*
 * compat.h — every PostgreSQL version difference the extension cares about,
 * in one place, named after the newest API.  Supported: 14 and later.
 */
#ifndef TD_COMPAT_H
#define TD_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 140000
#error "taxi_duration requires PostgreSQL 14 or later"
#endif

#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/* PG17 moved the local transaction id. */
#if PG_VERSION_NUM >= 170000
#define TD_MY_LXID() (MyProc->vxid.lxid)
#else
#define TD_MY_LXID() (MyProc->lxid)
#endif

#endif /* TD_COMPAT_H */
