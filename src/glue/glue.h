/*
 * glue.h — the small PostgreSQL layer every subsystem of the extension
 * (serving, monitoring, decoding) shares, and nothing else:
 *
 *   compat.h     version differences
 *   allocator.c  the libraries allocate with palloc in the current memory
 *                context, asking for NULL rather than an ERROR on failure
 *   errors.c     a library error (tdc_error) raised as a PostgreSQL ERROR;
 *                the interrupt poll the libraries' long loops call
 *   srf.c        a set-returning function's materialized result
 *   run_as.c/.h  running SQL as another role in a security-restricted
 *                operation (monitors read their sets as their owner)
 *
 * Allowed dependencies: PostgreSQL and the common library (tdc.h).  The
 * subsystems depend on the glue; the glue depends on none of them.
 */
#ifndef TD_GLUE_H
#define TD_GLUE_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/tuplestore.h"

#include "glue/compat.h"
#include "tdc.h"

/* allocator.c */
extern void TdLibrariesInit(void);

/* srf.c: a set-returning function's tuplestore (rows go there, then return 0) */
extern Tuplestorestate *TdBeginMaterializedSet(FunctionCallInfo fcinfo, const char *function);

/* errors.c */
pg_noreturn extern void TdReportLibraryError(const tdc_error *error, int sqlerrcode,
											 const char *hint);
/*
 * A library's cancel_requested poll: would CHECK_FOR_INTERRUPTS() raise a
 * query cancel (statement_timeout included) or a termination now?  Only
 * reads flags, so a library may call it (it must not longjmp); the caller
 * then runs CHECK_FOR_INTERRUPTS() to raise the interrupt.
 */
extern bool TdInterruptPending(void *arg);

#endif /* TD_GLUE_H */
