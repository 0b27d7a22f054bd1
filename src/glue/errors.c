/*
 * errors.c — a library error raised as a PostgreSQL ERROR: the library's
 * message and detail, the SQLSTATE and hint its caller chose; and the
 * interrupt poll the libraries' long loops call.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "glue/glue.h"

void
TdReportLibraryError(const tdc_error *error, int sqlerrcode, const char *hint)
{
	ereport(ERROR,
			errcode(sqlerrcode),
			errmsg("%s", error->message[0] ? error->message : "internal error"),
			error->detail[0] ? errdetail("%s", error->detail) : 0,
			hint ? errhint("%s", hint) : 0);
	pg_unreachable();
}

bool
TdInterruptPending(void *arg)
{
	(void) arg;
	if (InterruptHoldoffCount != 0 || CritSectionCount != 0)
		return false;
	return ProcDiePending || (QueryCancelPending && QueryCancelHoldoffCount == 0);
}
