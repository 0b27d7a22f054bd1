/*
 * fwd_pg.c — the forwarder's SQL connections.
 *
 * "dec" creates the slot if missing (plugin taxi_duration) and reads its
 * confirmed position; it is closed once the replication connection
 * (fwd_repl.c, to the same server) streams.  "st" writes
 * taxi_duration.forwarder_status and forwarder_dead_letters in its own
 * autocommit transactions, outside the decoding session.  Any failure
 * returns false; the caller drops every connection and the events not
 * confirmed, then reconnects with backoff.
 *
 * Servers and failover (docs/operations.md, "Read replicas and failover"):
 * both DSNs may list several hosts.  "st" always connects to the primary
 * (target_session_attrs=primary, whatever TD_STATUS_DSN says); "dec" does
 * too unless TD_FORWARDER_DSN sets target_session_attrs itself, e.g. to
 * "standby" to decode on a hot standby (PostgreSQL 16+), with
 * TD_STATUS_DSN naming the primary.  So after a promotion the reconnect
 * finds the new primary.  On PostgreSQL 17+ a slot created on a primary is
 * a failover slot (TD_SLOT_FAILOVER=0 turns that off), which standbys with
 * sync_replication_slots keep in step: the promoted standby has it.
 *
 * The forwarder may run as a privileged role, so each session's
 * search_path is emptied right after connecting (as pg_dump does) and every
 * statement names its functions and tables with their schema: nothing a
 * user creates in "public" can stand in for what it calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

/* Log a failed query (the server's message escaped), remember it. */
static bool
failed(FwdState *s, PGconn *conn, PGresult *res, const char *what)
{
	const char *msg = conn ? PQerrorMessage(conn) : "";
	char		line[400];
	char		esc[400];

	snprintf(line, sizeof(line), "%s", msg);
	line[strcspn(line, "\n")] = '\0';
	fwd_note_error(s, "postgresql: %s failed: \"%s\"", what,
				   tdc_escape(line, esc, sizeof(esc)));
	PQclear(res);
	return false;
}

static PGresult *
exec(PGconn *conn, const char *sql, int n, const char *const *params)
{
	return PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
}

static bool
ok(PGresult *res)
{
	return res != NULL && (PQresultStatus(res) == PGRES_TUPLES_OK ||
						   PQresultStatus(res) == PGRES_COMMAND_OK);
}

/* Empty the session's search_path (pg_dump's ALWAYS_SECURE_SEARCH_PATH_SQL). */
static bool
pin_search_path(FwdState *s, PGconn *conn)
{
	PGresult *res = exec(conn, "SELECT pg_catalog.set_config('search_path', '', false)",
						 0, NULL);

	if (!ok(res))
		return failed(s, conn, res, "search_path");
	PQclear(res);
	return true;
}

/*
 * May the missing slot be created?  Not when this database's status table
 * says the forwarder already sent events through a slot of that name: the
 * slot was lost (a failover to a standby that did not have it, or a drop),
 * and a new one would start at the current LSN, skipping every event
 * committed since the last one sent.  The gap is recorded in
 * forwarder_status (forwarder_lag.last_error) and the forwarder waits for
 * an operator (docs/operations.md, "Failover"), who sets TD_SLOT_RESYNC=1
 * once the missing events are dealt with.
 */
static bool
slot_may_be_created(FwdState *s, const char *slot)
{
	const char *p[1] = { s->cfg.slot };
	PGresult   *res;
	char		lsn[64];

	res = exec(s->st,
			   "SELECT last_sent_lsn::pg_catalog.text FROM taxi_duration.forwarder_status"
			   " WHERE slot = $1 AND last_sent_lsn IS NOT NULL",
			   1, p);
	if (!ok(res))
		return failed(s, s->st, res, "status lookup");
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		return true; /* never used here: a first start */
	}
	snprintf(lsn, sizeof(lsn), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (s->cfg.slot_resync)
	{
		fwd_log("WARNING: TD_SLOT_RESYNC=1: creating slot \"%s\" again; events committed after %s "
				"and before now are not sent by this forwarder",
				slot, lsn);
		return true;
	}
	fwd_note_error(s, "slot \"%s\" is missing, but events were sent through it up to LSN %s: "
					  "a new slot would skip every event committed since (a failover to a standby "
					  "without the slot?); nothing is sent until an operator resynchronises "
					  "(docs/operations.md) and sets TD_SLOT_RESYNC=1",
				   slot, lsn);
	fwd_pg_status(s, 0);
	return false;
}

/*
 * Connect to dsn (a connection string, URI or several hosts).  The primary
 * is the default target (a list of hosts then finds the one promoted after
 * a failover); unless `always_primary`, the dsn's own target_session_attrs
 * wins (libpq: a later keyword overrides the expanded dbname's).
 */
static PGconn *
connect_to(FwdState *s, const char *dsn, bool always_primary, const char *what)
{
	const char *keys[3];
	const char *values[3];
	int			n = 0;
	PGconn	   *conn;

	if (!always_primary)
	{
		keys[n] = "target_session_attrs";
		values[n++] = "primary";
	}
	keys[n] = "dbname";
	values[n++] = dsn;
	if (always_primary)
	{
		keys[n] = "target_session_attrs";
		values[n++] = "primary";
	}
	keys[n] = NULL;
	values[n] = NULL;
	conn = PQconnectdbParams(keys, values, 1);
	fwd_notice_install(s, conn);
	if (PQstatus(conn) != CONNECTION_OK)
	{
		failed(s, conn, NULL, what);
		PQfinish(conn);
		return NULL;
	}
	if (!pin_search_path(s, conn))
	{
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* Is the decoding server a hot standby? (-1: the query failed) */
static int
in_recovery(FwdState *s)
{
	PGresult *res = exec(s->dec, "SELECT pg_catalog.pg_is_in_recovery()", 0, NULL);
	int		  standby;

	if (!ok(res))
	{
		failed(s, s->dec, res, "recovery check");
		return -1;
	}
	standby = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return standby;
}

/*
 * Create the slot on a hot standby (PostgreSQL 16+).  The creation waits
 * for the primary to log the running transactions (every 15 s when busy):
 * ask the primary for one now (pg_log_standby_snapshot, best effort: it
 * needs a superuser by default) while the standby waits.
 */
static bool
create_slot_on_standby(FwdState *s)
{
	const char *p[1] = { s->cfg.slot };
	PGresult   *res;
	bool		created = true;
	int			waited_ms;

	if (!PQsendQueryParams(s->dec,
						   "SELECT pg_catalog.pg_create_logical_replication_slot($1, 'taxi_duration')",
						   1, NULL, p, NULL, NULL, 0))
		return failed(s, s->dec, NULL, "slot creation on the standby");
	for (waited_ms = 0; !fwd_stop; waited_ms += 200)
	{
		if (!PQconsumeInput(s->dec))
			return failed(s, s->dec, NULL, "slot creation on the standby");
		if (!PQisBusy(s->dec))
			break;
		if (waited_ms % 2000 == 0)
			PQclear(exec(s->st, "SELECT pg_catalog.pg_log_standby_snapshot()", 0, NULL));
		fwd_sleep_ms(200);
	}
	while ((res = PQgetResult(s->dec)) != NULL)
	{
		if (!ok(res))
			created = failed(s, s->dec, res, "slot creation on the standby");
		else
			PQclear(res);
	}
	return created && !fwd_stop;
}

/* Create the missing slot: a failover slot on a primary of PostgreSQL 17+. */
static bool
create_slot(FwdState *s, bool standby, const char *slot_esc)
{
	const char *p[1] = { s->cfg.slot };
	bool		failover = !standby && s->cfg.slot_failover && PQserverVersion(s->dec) >= 170000;
	PGresult   *res;

	if (standby)
	{
		if (!create_slot_on_standby(s))
			return false;
	}
	else
	{
		res = exec(s->dec,
				   failover ? "SELECT pg_catalog.pg_create_logical_replication_slot("
							  "$1, 'taxi_duration', false, false, true)" :
							  "SELECT pg_catalog.pg_create_logical_replication_slot($1, 'taxi_duration')",
				   1, p);
		if (!ok(res))
			return failed(s, s->dec, res, "slot creation");
		PQclear(res);
	}
	fwd_log("created logical replication slot \"%s\" (plugin taxi_duration%s)", slot_esc,
			failover ? ", failover" : standby ? ", on a standby" :
												"");
	return true;
}

/*
 * Where the slot is confirmed up to: streaming resumes there, and the
 * forwarder never reports a flush position before it.
 */
static bool
slot_position(FwdState *s)
{
	const char *p[1] = { s->cfg.slot };
	PGresult   *res;

	res = exec(s->dec,
			   "SELECT confirmed_flush_lsn::pg_catalog.text FROM pg_catalog.pg_replication_slots"
			   " WHERE slot_name = $1",
			   1, p);
	if (!ok(res))
		return failed(s, s->dec, res, "slot position");
	s->confirmed = 0;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		fwd_lsn_parse(PQgetvalue(res, 0, 0), &s->confirmed);
	PQclear(res);
	return true;
}

/*
 * Open the connections: the setup connection makes sure the slot exists,
 * then the replication connection starts streaming from it (fwd_repl.c).
 */
bool
fwd_pg_connect(FwdState *s)
{
	const char *p[1] = { s->cfg.slot };
	PGresult   *res;
	char		slot[TDC_ESCAPE_SHORT];
	char		tables[TDC_ESCAPE_SHORT];
	char		host[TDC_ESCAPE_SHORT];
	int			standby;
	bool		failover_slot;

	s->dec = connect_to(s, s->cfg.dsn, false, "connect");
	if (s->dec == NULL)
		return false;
	s->st = connect_to(s, s->cfg.status_dsn, true, "connect (status)");
	if (s->st == NULL)
		return false;
	standby = in_recovery(s);
	if (standby < 0)
		return false;
	tdc_escape(s->cfg.slot, slot, sizeof(slot));
	tdc_escape(s->cfg.tables, tables, sizeof(tables));
	res = exec(s->dec,
			   PQserverVersion(s->dec) >= 170000 ? "SELECT failover FROM pg_catalog.pg_replication_slots WHERE slot_name = $1" : "SELECT false FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
			   1, p);
	if (!ok(res))
		return failed(s, s->dec, res, "slot lookup");
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		if (!slot_may_be_created(s, slot) || !create_slot(s, standby, slot))
			return false;
	}
	else
	{
		failover_slot = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		if (!failover_slot && !standby && s->cfg.slot_failover && PQserverVersion(s->dec) >= 170000)
			fwd_log("WARNING: slot \"%s\" is not a failover slot: a promoted standby will not "
					"have it (docs/operations.md, \"Read replicas and failover\")",
					slot);
	}
	if (!slot_position(s))
		return false;
	fwd_log("connected to PostgreSQL %d at \"%s\" port %s (%s; slot \"%s\", tables \"%s\")",
			PQserverVersion(s->dec) / 10000,
			tdc_escape(PQhost(s->dec), host, sizeof(host)), PQport(s->dec),
			standby ? "decoding on a standby" : "primary", slot, tables);
	/* the replication connection goes to the server this one found */
	if (!fwd_repl_start(s, PQhost(s->dec), PQhostaddr(s->dec), PQport(s->dec)))
	{
		/* an invalidated slot: say so in forwarder_status (fwd_slot_health.c) */
		fwd_slot_health_report(s);
		return false;
	}
	PQfinish(s->dec);
	s->dec = NULL;
	return true;
}

void
fwd_pg_disconnect(FwdState *s)
{
	if (s->copybuf)
		PQfreemem(s->copybuf);
	if (s->dec)
		PQfinish(s->dec);
	if (s->repl)
		PQfinish(s->repl);
	if (s->st)
		PQfinish(s->st);
	s->copybuf = NULL;
	s->dec = s->repl = s->st = NULL;
}

/* Commit the dead letters not yet written. */
bool
fwd_pg_write_dead(FwdState *s, FwdBatch *b)
{
	int i;

	for (i = 0; i < b->nevents; i++)
	{
		FwdEvent   *e = &b->events[i];
		char		commit[32];
		const char *p[5];
		PGresult   *res;
		char		key[TDC_ESCAPE_SHORT];
		char		lsn[TDC_ESCAPE_SHORT];
		char		reason[1024];

		if (e->state != FWD_DEAD || e->dead_written || b->txns[e->txn].commit_lsn == 0)
			continue; /* written once its transaction's commit LSN is known */
		fwd_lsn_format(b->txns[e->txn].commit_lsn, commit, sizeof(commit));
		p[0] = s->cfg.slot;
		p[1] = commit;
		p[2] = e->key; /* NULL: the event had no ride id */
		p[3] = e->reason;
		p[4] = e->data;
		res = exec(s->st,
				   "INSERT INTO taxi_duration.forwarder_dead_letters"
				   " (slot, commit_lsn, ride_id, reason, data)"
				   " VALUES ($1, $2::pg_catalog.pg_lsn, $3, $4, $5)",
				   5, p);
		if (!ok(res))
			return failed(s, s->st, res, "dead-letter insert");
		PQclear(res);
		s->delta.dead++;
		fwd_log("dead-lettered ride_id \"%s\" at commit \"%s\": \"%s\"",
				tdc_escape(e->key, key, sizeof(key)), tdc_escape(commit, lsn, sizeof(lsn)),
				tdc_escape(e->reason, reason, sizeof(reason)));
		fwd_batch_dead_written(b, i);
	}
	return true;
}

/* Upsert the status row: totals += counters since the last call. */
bool
fwd_pg_status(FwdState *s, int pending)
{
	char sent[24],
		retried[24],
		dead[24],
		pend[16];
	const char *p[7];
	PGresult   *res;

	if (s->st == NULL)
		return false;
	snprintf(sent, sizeof(sent), "%lld", (long long) s->delta.sent);
	snprintf(retried, sizeof(retried), "%lld", (long long) s->delta.retried);
	snprintf(dead, sizeof(dead), "%lld", (long long) s->delta.dead);
	snprintf(pend, sizeof(pend), "%d", pending);
	p[0] = s->cfg.slot;
	p[1] = s->last_sent_lsn[0] ? s->last_sent_lsn : NULL;
	p[2] = sent;
	p[3] = retried;
	p[4] = dead;
	p[5] = pend;
	p[6] = s->error_dirty ? s->last_error : NULL;
	res = exec(s->st,
			   "INSERT INTO taxi_duration.forwarder_status AS f (slot, updated_at,"
			   " last_sent_lsn, records_sent, records_retried, records_dead,"
			   " records_pending, last_error, last_error_at)"
			   " VALUES ($1, pg_catalog.now(), $2::pg_catalog.pg_lsn, $3::pg_catalog.int8,"
			   " $4::pg_catalog.int8, $5::pg_catalog.int8, $6::pg_catalog.int4,"
			   " $7::pg_catalog.text,"
			   " CASE WHEN $7::pg_catalog.text IS NOT NULL THEN pg_catalog.now() END)"
			   " ON CONFLICT (slot) DO UPDATE SET updated_at = pg_catalog.now(),"
			   " last_sent_lsn = coalesce(excluded.last_sent_lsn, f.last_sent_lsn),"
			   " records_sent = coalesce(f.records_sent, 0) + excluded.records_sent,"
			   " records_retried = coalesce(f.records_retried, 0) + excluded.records_retried,"
			   " records_dead = coalesce(f.records_dead, 0) + excluded.records_dead,"
			   " records_pending = excluded.records_pending,"
			   " last_error = coalesce(excluded.last_error, f.last_error),"
			   " last_error_at = coalesce(excluded.last_error_at, f.last_error_at)",
			   7, p);
	if (!ok(res))
		return failed(s, s->st, res, "status upsert");
	PQclear(res);
	memset(&s->delta, 0, sizeof(s->delta));
	s->error_dirty = false;
	return true;
}
