/*
 * fwd_repl.c — the replication connection: the streaming replication
 * protocol, as pg_recvlogical and pgoutput subscribers speak it.
 *
 * libpq with replication=database; `START_REPLICATION SLOT "s" LOGICAL 0/0
 * ("tables" '...', "columns" '...')` resumes from the slot's confirmed
 * position; the server then sends CopyData messages:
 *
 *   'w' XLogData   int64 dataStart, int64 walEnd, int64 sendTime, then one
 *                  row of the plugin's output (an event or a commit marker)
 *   'k' keepalive  int64 walEnd (what the server has decoded up to),
 *                  int64 sendTime, byte replyRequested
 *
 * and the forwarder answers with standby status updates ('r': int64 write,
 * flush, apply, sendTime, byte replyRequested).  The flush position is what
 * the server confirms for the slot, so it is only ever s->confirmed (see
 * fwd.h); write is everything received, keepalives included, which stops
 * the server from pinging again for the same position.
 *
 * All integers are big-endian; times are microseconds since 2000-01-01.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "fwd.h"

/* Seconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define PG_EPOCH_OFFSET_S 946684800LL

#define XLOGDATA_HEADER 25 /* 'w' + 3 int64 */
#define KEEPALIVE_LEN 18   /* 'k' + 2 int64 + 1 byte */
#define STATUS_LEN 34	   /* 'r' + 4 int64 + 1 byte */

static uint64_t
get_be64(const char *p)
{
	uint64_t v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | (unsigned char) p[i];
	return v;
}

static void
put_be64(char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--)
	{
		p[i] = (char) (v & 0xff);
		v >>= 8;
	}
}

/* Log the connection's error (escaped, first line), remember it. */
static bool
repl_failed(FwdState *s, const char *what)
{
	char line[400];
	char esc[400];

	snprintf(line, sizeof(line), "%s", s->repl ? PQerrorMessage(s->repl) : "");
	line[strcspn(line, "\n")] = '\0';
	fwd_note_error(s, "postgresql: %s failed: \"%s\"", what, tdc_escape(line, esc, sizeof(esc)));
	return false;
}

/* Append 'text' as a replication-grammar string literal ('' doubled). */
static bool
append_literal(char *buf, size_t size, const char *text)
{
	size_t n = strlen(buf);

	if (n + 1 >= size)
		return false;
	buf[n++] = '\'';
	for (; *text; text++)
	{
		if (n + 3 >= size)
			return false;
		if (*text == '\'')
			buf[n++] = '\'';
		buf[n++] = *text;
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return true;
}

/* The START_REPLICATION command for the configured slot and options. */
static bool
start_command(const FwdState *s, char *cmd, size_t size)
{
	const char *q;
	size_t		n;

	snprintf(cmd, size, "START_REPLICATION SLOT \"");
	n = strlen(cmd);
	for (q = s->cfg.slot; *q && n + 3 < size; q++)
	{
		if (*q == '"')
			cmd[n++] = '"';
		cmd[n++] = *q;
	}
	cmd[n] = '\0';
	if (*q || n + 64 >= size)
		return false;
	strcat(cmd, "\" LOGICAL 0/0 (\"tables\" ");
	if (!append_literal(cmd, size, s->cfg.tables))
		return false;
	if (s->cfg.columns != NULL)
	{
		if (strlen(cmd) + 16 >= size)
			return false;
		strcat(cmd, ", \"columns\" ");
		if (!append_literal(cmd, size, s->cfg.columns))
			return false;
	}
	if (strlen(cmd) + 2 >= size)
		return false;
	strcat(cmd, ")");
	return true;
}

/*
 * Open the replication connection to the server the setup connection found
 * (host, hostaddr, port: the multi-host DSN's choice is not made twice) and
 * start streaming from the slot's confirmed position.
 */
bool
fwd_repl_start(FwdState *s, const char *host, const char *hostaddr, const char *port)
{
	const char *keys[] = { "dbname", "host", "hostaddr", "port", "target_session_attrs",
						   "replication", NULL };
	const char *values[] = { s->cfg.dsn, host, hostaddr, port, "any", "database", NULL };
	char		cmd[8192];
	PGresult   *res;

	s->repl = PQconnectdbParams(keys, values, 1);
	fwd_notice_install(s, s->repl); /* the plugin's warnings arrive here */
	if (PQstatus(s->repl) != CONNECTION_OK)
		return repl_failed(s, "connect (replication)");
	res = PQexec(s->repl, "SELECT pg_catalog.set_config('search_path', '', false)");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		PQclear(res);
		return repl_failed(s, "search_path (replication)");
	}
	PQclear(res);
	if (!start_command(s, cmd, sizeof(cmd)))
	{
		fwd_note_error(s, "TD_SLOT, TD_TABLES and TD_COLUMNS are too long for START_REPLICATION");
		return false;
	}
	res = PQexec(s->repl, cmd);
	if (PQresultStatus(res) != PGRES_COPY_BOTH)
	{
		PQclear(res);
		return repl_failed(s, "START_REPLICATION");
	}
	PQclear(res);
	s->received = s->keepalive = s->reported = s->confirmed;
	return true;
}

int
fwd_repl_socket(FwdState *s)
{
	return s->repl ? PQsocket(s->repl) : -1;
}

/* After the copy stream ended: the server's reason. */
static FwdReplRead
stream_ended(FwdState *s)
{
	PGresult *res;
	char	  esc[400];
	char	  line[400];

	while ((res = PQgetResult(s->repl)) != NULL)
	{
		if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_COPY_OUT)
		{
			snprintf(line, sizeof(line), "%s", PQresultErrorMessage(res));
			line[strcspn(line, "\n")] = '\0';
			fwd_note_error(s, "postgresql: the replication stream ended: \"%s\"",
						   tdc_escape(line, esc, sizeof(esc)));
			PQclear(res);
			return FWD_REPL_ERROR;
		}
		PQclear(res);
		if (PQstatus(s->repl) != CONNECTION_OK)
			break;
	}
	fwd_note_error(s, "postgresql: the server ended the replication stream");
	return FWD_REPL_ERROR;
}

/*
 * Read one message if one is buffered (reading the socket once when none
 * is).  A row's data stays valid until the next call.
 */
FwdReplRead
fwd_repl_read(FwdState *s, const char **data, int *len)
{
	int r;

	if (s->copybuf != NULL)
	{
		PQfreemem(s->copybuf);
		s->copybuf = NULL;
	}
	r = PQgetCopyData(s->repl, &s->copybuf, 1);
	if (r == 0)
	{
		if (!PQconsumeInput(s->repl))
		{
			repl_failed(s, "replication read");
			return FWD_REPL_ERROR;
		}
		r = PQgetCopyData(s->repl, &s->copybuf, 1);
		if (r == 0)
			return FWD_REPL_NONE;
	}
	if (r == -1)
		return stream_ended(s);
	if (r < 0)
	{
		repl_failed(s, "replication read");
		return FWD_REPL_ERROR;
	}
	if (s->copybuf[0] == 'w' && r >= XLOGDATA_HEADER)
	{
		FwdLsn start = get_be64(s->copybuf + 1);

		if (start > s->received)
			s->received = start;
		*data = s->copybuf + XLOGDATA_HEADER;
		*len = r - XLOGDATA_HEADER;
		return FWD_REPL_ROW;
	}
	if (s->copybuf[0] == 'k' && r >= KEEPALIVE_LEN)
	{
		FwdLsn end = get_be64(s->copybuf + 1);

		if (end > s->keepalive)
			s->keepalive = end;
		if (s->copybuf[KEEPALIVE_LEN - 1] && !fwd_repl_feedback(s, false))
			return FWD_REPL_ERROR;
		return FWD_REPL_KEEPALIVE;
	}
	fwd_note_error(s, "postgresql: unexpected replication message (type %d, %d bytes)",
				   (unsigned char) s->copybuf[0], r);
	return FWD_REPL_ERROR;
}

/* Send a standby status update: flush = apply = s->confirmed. */
bool
fwd_repl_feedback(FwdState *s, bool reply_requested)
{
	char		   msg[STATUS_LEN];
	struct timeval tv;
	FwdLsn		   write = s->received;
	int64_t		   now_us;

	if (s->keepalive > write)
		write = s->keepalive;
	if (s->confirmed > write)
		write = s->confirmed;
	gettimeofday(&tv, NULL);
	now_us = ((int64_t) tv.tv_sec - PG_EPOCH_OFFSET_S) * 1000000 + tv.tv_usec;
	msg[0] = 'r';
	put_be64(msg + 1, write);
	put_be64(msg + 9, s->confirmed);
	put_be64(msg + 17, s->confirmed);
	put_be64(msg + 25, (uint64_t) now_us);
	msg[33] = reply_requested ? 1 : 0;
	if (PQputCopyData(s->repl, msg, STATUS_LEN) <= 0 || PQflush(s->repl) != 0)
		return repl_failed(s, "standby status update");
	s->reported = s->confirmed;
	return true;
}
