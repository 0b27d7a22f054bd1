/*
 * fwd_notice.c — what the server says besides results: libpq notices.
 *
 * The taxi_duration plugin warns (ereport WARNING) when a name in the
 * tables option matches no table, and when a table it forwarded is renamed
 * or dropped: from then on that table's rows are not decoded, so nothing
 * fails, the stream just goes quiet.  Such a warning reaches the client as
 * a notice, which libpq would print to stderr and forget.  Here every
 * notice is logged (escaped: the text is the server's), and a WARNING (or
 * anything more severe) becomes the forwarder's last error, so
 * taxi_duration.forwarder_lag.last_error shows it.  The plugin repeats a
 * warning at most once a minute per session.
 */
#include <stdio.h>
#include <string.h>

#include "fwd.h"

/* A diagnostic field of the notice, "" when absent. */
static const char *
field(const PGresult *res, int code)
{
	const char *v = PQresultErrorField(res, code);

	return v != NULL ? v : "";
}

/* libpq's notice receiver: log the notice, keep a warning as the last error. */
static void
on_notice(void *arg, const PGresult *res)
{
	FwdState   *s = arg;
	const char *severity = field(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	char		sev[32];
	char		code[16];
	char		msg[TDC_ESCAPE_SHORT];
	char		detail[200];
	char		hint[200];

	if (severity[0] == '\0')
		severity = field(res, PG_DIAG_SEVERITY);
	tdc_escape(severity, sev, sizeof(sev));
	tdc_escape(field(res, PG_DIAG_SQLSTATE), code, sizeof(code));
	tdc_escape(field(res, PG_DIAG_MESSAGE_PRIMARY), msg, sizeof(msg));
	tdc_escape(field(res, PG_DIAG_MESSAGE_DETAIL), detail, sizeof(detail));
	tdc_escape(field(res, PG_DIAG_MESSAGE_HINT), hint, sizeof(hint));
	if (strcmp(severity, "WARNING") == 0)
		fwd_note_error(s, "postgresql WARNING %s: \"%s\" (detail: \"%s\"; hint: \"%s\")", code,
					   msg, detail, hint);
	else
		fwd_log("postgresql %s: \"%s\" (detail: \"%s\"; hint: \"%s\")", sev, msg, detail, hint);
}

void
fwd_notice_install(FwdState *s, PGconn *conn)
{
	if (conn != NULL)
		PQsetNoticeReceiver(conn, on_notice, s);
}
