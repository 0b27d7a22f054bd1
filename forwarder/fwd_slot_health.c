/*
 * fwd_slot_health.c — is the slot invalidated?  What the forwarder reports
 * when its slot is lost.
 *
 * A slot that retained more WAL than max_slot_wal_keep_size is invalidated
 * at the next checkpoint (wal_status 'lost'; PostgreSQL 17+ also names the
 * invalidation_reason): the WAL it needed is gone, and every read fails
 * with "can no longer get changes from replication slot".  Retrying cannot
 * help and recreating the slot would skip every trip committed since the
 * last one sent, so the forwarder does neither: it writes a last_error
 * saying what happened and how to resynchronise (forwarder_lag.last_error)
 * and keeps waiting, the slot untouched, until an operator follows
 * docs/operations.md ("Slot retention and max_slot_wal_keep_size"): drop
 * the slot, deal with the missing trips, start with TD_SLOT_RESYNC=1.
 *
 * fwd_pg_connect calls fwd_slot_health_report() when START_REPLICATION is
 * refused, with the setup connection still open (a stream that fails while
 * running ends the session; the reconnect's START_REPLICATION then fails
 * the same way, and is reported).  fwd_slot_lost() uses only
 * the simple query protocol, so it also works on a replication=database
 * connection.
 */
#include <stdio.h>
#include <string.h>

#include "fwd.h"

/*
 * Is `slot` invalidated on `conn`'s server?  1: yes, and msg says so; 0:
 * no (or no such slot: the slot lookup at connection deals with that); -1:
 * the query failed (the connection is gone: the caller reconnects anyway).
 */
int
fwd_slot_lost(PGconn *conn, const char *slot, const char *last_sent_lsn,
			  char *msg, size_t msglen)
{
	char	   *lit;
	char		sql[512];
	PGresult   *res;
	const char *wal_status;
	const char *reason;
	char		slot_esc[TDC_ESCAPE_SHORT];
	char		why[160];
	char		why_esc[200];
	char		lsn[64];
	int			lost;

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return -1;
	lit = PQescapeLiteral(conn, slot, strlen(slot));
	if (lit == NULL)
		return -1;
	/* invalidation_reason: PostgreSQL 17+ */
	snprintf(sql, sizeof(sql),
			 "SELECT wal_status, %s, confirmed_flush_lsn::pg_catalog.text"
			 " FROM pg_catalog.pg_replication_slots WHERE slot_name OPERATOR(pg_catalog.=) %s",
			 PQserverVersion(conn) >= 170000 ? "invalidation_reason" : "NULL::pg_catalog.text",
			 lit);
	PQfreemem(lit);
	res = PQexec(conn, sql);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) != 1)
	{
		PQclear(res);
		return 0;
	}
	wal_status = PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0);
	reason = PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1);
	lost = strcmp(wal_status, "lost") == 0 || reason != NULL;
	if (lost)
	{
		if (reason != NULL)
			snprintf(why, sizeof(why), "invalidation_reason %s", reason);
		else
			snprintf(why, sizeof(why), "wal_status lost");
		/* the slot's confirmed position: everything before it was sent or not for the stream */
		snprintf(lsn, sizeof(lsn), "%s",
				 !PQgetisnull(res, 0, 2)		   ? PQgetvalue(res, 0, 2) :
				 last_sent_lsn && last_sent_lsn[0] ? last_sent_lsn :
													 "(unknown)");
		snprintf(msg, msglen,
				 "slot \"%s\" was invalidated (%s): the WAL it needed was removed "
				 "(max_slot_wal_keep_size), trips committed after LSN %s can never be sent "
				 "through it; nothing is sent and the slot is not recreated until an operator "
				 "resynchronises (docs/operations.md, \"Slot retention and "
				 "max_slot_wal_keep_size\"): drop the slot, recover the missing trips, "
				 "restart with TD_SLOT_RESYNC=1",
				 tdc_escape(slot, slot_esc, sizeof(slot_esc)),
				 tdc_escape(why, why_esc, sizeof(why_esc)), lsn);
	}
	PQclear(res);
	return lost;
}

/*
 * After a failed read from the slot: if the slot is invalidated, replace
 * the error noted by the failed call with one that says so and how to
 * recover, and upsert it into forwarder_status now (the caller drops the
 * connections next).  Returns true when the slot is lost.
 */
bool
fwd_slot_health_report(FwdState *s)
{
	char msg[sizeof(s->last_error)];

	if (fwd_slot_lost(s->dec, s->cfg.slot, s->last_sent_lsn, msg, sizeof(msg)) != 1)
		return false;
	fwd_note_error(s, "%s", msg);
	fwd_pg_status(s, 0);
	return true;
}
