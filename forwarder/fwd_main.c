/*
 * fwd_main.c — td-forwarder: new trips → Kinesis, at least once.
 *
 * Why a standalone daemon and not a background worker: a crash here does
 * not make the postmaster restart the whole cluster; network I/O (and its
 * timeouts) stays out of the database server; it can run on another host
 * and be restarted or upgraded independently of PostgreSQL.
 *
 * Loop: connect (the slot is created if missing, fwd_pg.c), stream from the
 * slot over the replication protocol (fwd_repl.c), send the trip events
 * with up to TD_INFLIGHT PutRecords calls at once (fwd_send.c), and report
 * as flushed only the commit LSN of the last transaction whose every event
 * was accepted (or dead-lettered) — the server confirms the slot there
 * (fwd_stream.c).  A crash before that resends: consumers see duplicates
 * (same ride_id, commit_lsn and xid), never a gap.
 *
 * Environment: TD_FORWARDER_DSN (else libpq's PG* variables; may list
 * several hosts: the primary among them is used, unless it sets
 * target_session_attrs), TD_STATUS_DSN (TD_FORWARDER_DSN; always its
 * primary), TD_SLOT (taxi_trips_kinesis), TD_TABLES (public.trips),
 * TD_COLUMNS (the plugin's default), TD_TRIPS_STREAM (required),
 * TD_INFLIGHT (4), TD_MAX_EVENTS (20000), TD_MAX_BYTES (67108864),
 * TD_POLL_MS (200: forwarder_status at most this often),
 * TD_FEEDBACK_MS (10000), TD_BACKOFF_BASE_MS (100), TD_BACKOFF_MAX_MS
 * (5000), TD_KINESIS_TIMEOUT_MS (10000), TD_SLOT_RESYNC (0; 1: create a
 * slot that was lost, despite the gap), TD_SLOT_FAILOVER (1; 0: plain
 * slots on 17+), AWS_* via tda_config_from_env (AWS_ENDPOINT_URL_KINESIS
 * overrides the endpoint).  TD_BATCH_CHANGES, from the polling forwarder,
 * is read as TD_MAX_EVENTS when that is not set.
 *
 * SIGTERM/SIGINT: the calls in flight are cancelled, nothing more is
 * confirmed, exit 0.  PostgreSQL errors: drop what is not confirmed,
 * reconnect with backoff.  Kinesis errors: retry with backoff forever,
 * never exit (the AWS library's sender).  A configuration Kinesis can never
 * accept (stream name, region, credentials) exits 2 at start.  Events from
 * a decoder too old to write "partition_key" are not sent: the session is
 * dropped and started again after a backoff, until the extension is
 * upgraded.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fwd.h"

volatile sig_atomic_t fwd_stop = 0;

static void
on_signal(int sig)
{
	(void) sig;
	fwd_stop = 1;
}

static int
cancel_cb(void *arg)
{
	(void) arg;
	return fwd_stop != 0;
}

/* One line to stderr with a UTC timestamp, in one write (threads log too). */
void
fwd_log(const char *fmt, ...)
{
	char			line[2048];
	char			ts[32];
	struct timespec now;
	struct tm		tm;
	va_list			ap;
	int				n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ld td-forwarder[%d]: ", ts,
				 now.tv_nsec / 1000000, (int) getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t) n - 1, fmt, ap);
	va_end(ap);
	n = (int) strlen(line);
	line[n++] = '\n';
	fwrite(line, 1, (size_t) n, stderr);
}

/* Milliseconds of a monotonic clock. */
int64_t
fwd_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Log an error and keep it for the next status upsert. */
void
fwd_note_error(FwdState *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->last_error, sizeof(s->last_error), fmt, ap);
	va_end(ap);
	s->error_dirty = true;
	fwd_log("%s", s->last_error);
}

/* Sleep, waking early when asked to stop. */
void
fwd_sleep_ms(long ms)
{
	while (ms > 0 && !fwd_stop)
	{
		long			step = ms > 50 ? 50 : ms;
		struct timespec ts = { 0, step * 1000000L };

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* The sender's backoff rule (tda_backoff_ms), for reconnecting too. */
long
fwd_backoff_ms(const FwdConfig *cfg, unsigned attempt)
{
	return tda_backoff_ms(cfg->backoff_base_ms, cfg->backoff_max_ms, attempt,
						  (uint64_t) random());
}

/* An integer setting; an invalid value is logged (escaped) and the default used. */
static int
env_int(const char *name, int dflt, int min)
{
	bool invalid;
	long n = tdc_env_long(name, dflt, min, INT_MAX, &invalid);

	if (invalid)
	{
		char esc[TDC_ESCAPE_SHORT];

		fwd_log("%s=\"%s\" is invalid, using %d", name,
				tdc_escape(getenv(name), esc, sizeof(esc)), dflt);
	}
	return (int) n;
}

static bool
read_config(FwdConfig *c)
{
	tda_error err;

	memset(c, 0, sizeof(*c));
	c->dsn = tdc_env_or("TD_FORWARDER_DSN", "");
	c->status_dsn = tdc_env_or("TD_STATUS_DSN", c->dsn);
	c->slot_failover = strcmp(tdc_env_or("TD_SLOT_FAILOVER", "1"), "0") != 0;
	c->slot = tdc_env_or("TD_SLOT", "taxi_trips_kinesis");
	c->slot_resync = strcmp(tdc_env_or("TD_SLOT_RESYNC", "0"), "1") == 0;
	c->tables = tdc_env_or("TD_TABLES", "public.trips");
	c->columns = tdc_env_or("TD_COLUMNS", NULL);
	c->stream = tdc_env_or("TD_TRIPS_STREAM", NULL);
	c->max_events = env_int("TD_MAX_EVENTS",
							env_int("TD_BATCH_CHANGES", 20000, 1), 1);
	c->max_bytes = (size_t) env_int("TD_MAX_BYTES", 64 * 1024 * 1024, 1024 * 1024);
	c->inflight = env_int("TD_INFLIGHT", 4, 1);
	if (c->inflight > 64)
	{
		fwd_log("TD_INFLIGHT=%d is more than 64, using 64", c->inflight);
		c->inflight = 64;
	}
	c->status_ms = env_int("TD_POLL_MS", 200, 1);
	c->feedback_ms = env_int("TD_FEEDBACK_MS", 10000, 100);
	c->backoff_base_ms = env_int("TD_BACKOFF_BASE_MS", 100, 1);
	c->backoff_max_ms = env_int("TD_BACKOFF_MAX_MS", 5000, c->backoff_base_ms);
	tda_config_from_env(&c->aws);
	c->aws.aws_endpoint_url = tdc_env_or("AWS_ENDPOINT_URL_KINESIS", c->aws.aws_endpoint_url);
	c->aws.timeout_ms = env_int("TD_KINESIS_TIMEOUT_MS", 10000, 100);
	c->aws.connect_timeout_ms = c->aws.timeout_ms < 5000 ? c->aws.timeout_ms : 5000;
	c->aws.max_bytes = 4 * 1024 * 1024;
	c->aws.cancel = cancel_cb;
	if (c->stream == NULL)
	{
		fwd_log("TD_TRIPS_STREAM is not set");
		return false;
	}
	if (tda_kinesis_check_config(&c->aws, c->stream, &err) != TDA_OK)
	{
		char detail[TDC_ERROR_DETAIL_LEN + 64];

		fwd_log("cannot write to Kinesis: \"%s\"",
				tdc_escape(err.detail, detail, sizeof(detail)));
		return false;
	}
	return true;
}

int
main(void)
{
	FwdState s;
	FwdBatch b;
	unsigned pg_attempt = 0;
	char	 esc[4][TDC_ESCAPE_SHORT];

	memset(&s, 0, sizeof(s));
	memset(&b, 0, sizeof(b));
	if (!read_config(&s.cfg))
		return 2;
	srandom((unsigned) (time(NULL) ^ getpid()));
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (!tda_global_init())
	{
		fwd_log("cannot initialise libcurl");
		return 1;
	}
	fwd_log("starting: slot \"%s\", tables \"%s\", stream \"%s\", endpoint \"%s\", "
			"%d calls in flight",
			tdc_escape(s.cfg.slot, esc[0], sizeof(esc[0])),
			tdc_escape(s.cfg.tables, esc[1], sizeof(esc[1])),
			tdc_escape(s.cfg.stream, esc[2], sizeof(esc[2])),
			tdc_escape(s.cfg.aws.aws_endpoint_url ? s.cfg.aws.aws_endpoint_url : "(AWS)",
					   esc[3], sizeof(esc[3])),
			s.cfg.inflight);

	while (!fwd_stop)
	{
		int64_t started;

		if (!fwd_pg_connect(&s))
		{
			fwd_pg_status(&s, 0);
			fwd_pg_disconnect(&s);
			fwd_sleep_ms(fwd_backoff_ms(&s.cfg, pg_attempt++));
			continue;
		}
		started = fwd_now_ms();
		if (fwd_stream(&s, &b) == FWD_STREAM_STOPPED)
			break;
		fwd_pg_disconnect(&s);
		if (fwd_now_ms() - started > 10000)
			pg_attempt = 0; /* it streamed for a while: a new failure, not the same one */
		fwd_sleep_ms(fwd_backoff_ms(&s.cfg, pg_attempt++));
	}
	fwd_pg_disconnect(&s);
	fwd_batch_free(&b);
	tda_global_cleanup();
	return 0;
}
