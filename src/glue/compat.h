/*
 * compat.h — every PostgreSQL version difference the extension cares about,
 * in one place, named after the newest API.  Supported: 14 and later; tested
 * on 15..18 (CI's matrix, tests/matrix.sh here).  The rest of the extension
 * tests no PG_VERSION_NUM: it uses the names below.
 */
#ifndef TD_COMPAT_H
#define TD_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 140000
#error "taxi_duration requires PostgreSQL 14 or later"
#endif

/* PG15: reserving a GUC prefix, and shmem_request_hook (before it, _PG_init
 * asked for shared memory itself). */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#else
#define TD_HAVE_SHMEM_REQUEST_HOOK 1
#endif

/* PG15 split parse_analyze() by kind of parameters (include parser/analyze.h). */
#if PG_VERSION_NUM < 150000
#define parse_analyze_fixedparams(stmt, source, types, ntypes, env) \
	parse_analyze((stmt), (source), (types), (ntypes), (env))
#endif

/* PG17: AmBackgroundWorkerProcess() replaces IsBackgroundWorker (miscadmin.h). */
#if PG_VERSION_NUM < 170000
#define AmBackgroundWorkerProcess() IsBackgroundWorker
#endif

/* PG17: a decoded change's new tuple is a HeapTuple, no longer a
 * ReorderBufferTupleBuf around one. */
#if PG_VERSION_NUM >= 170000
#define TD_CHANGE_HEAP_TUPLE(newtuple) (newtuple)
#else
#define TD_CHANGE_HEAP_TUPLE(newtuple) (&(newtuple)->tuple)
#endif

/* PG17 moved the local transaction id. */
#if PG_VERSION_NUM >= 170000
#define TD_MY_LXID() (MyProc->vxid.lxid)
#else
#define TD_MY_LXID() (MyProc->lxid)
#endif

/* PG18 dropped ExecutorRun's execute_once: an ExecutorRun hook's parameters
 * and the arguments it passes on. */
#if PG_VERSION_NUM >= 180000
#define TD_EXECUTOR_RUN_PARAMS QueryDesc *query, ScanDirection direction, uint64 count
#define TD_EXECUTOR_RUN_ARGS query, direction, count
#else
#define TD_EXECUTOR_RUN_PARAMS \
	QueryDesc *query, ScanDirection direction, uint64 count, bool execute_once
#define TD_EXECUTOR_RUN_ARGS query, direction, count, execute_once
#endif

/* PG18: pg_noreturn, before the declaration, replaces pg_attribute_noreturn()
 * after it. */
#if PG_VERSION_NUM < 180000 && !defined(pg_noreturn)
#define pg_noreturn pg_attribute_noreturn()
#endif

#endif /* TD_COMPAT_H */
