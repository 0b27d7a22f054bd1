/*
 * td_cancel.c — cancelling a compile.
 *
 * A long compile (a 64 MiB bundle, 10 000 trees) must stop when its caller
 * asks: the PostgreSQL extension maps query cancel, statement_timeout and
 * termination to td_limits.cancel_requested.  The compile polls it between
 * its phases and every tree / every TD_CANCEL_POLL_EVERY loop iterations,
 * and unwinds normally (freeing what it built) with TD_ERR_CANCELED.
 */
#include "td_internal.h"

/* TD_ERR_CANCELED (err filled) if the caller asked to stop, else TD_OK. */
td_status
td_poll_cancel(const td_limits *limits, td_error *err)
{
	if (limits == NULL || limits->cancel_requested == NULL ||
		!limits->cancel_requested(limits->cancel_arg))
		return TD_OK;
	td_error_set(err, TD_ERR_CANCELED,
				 "The caller cancelled the compile before it finished.");
	return TD_ERR_CANCELED;
}
