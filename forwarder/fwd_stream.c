/*
 * fwd_stream.c — the loop of one replication session:
 *
 *   receive   rows from the replication connection into the queue, while
 *             fewer than TD_MAX_EVENTS events (TD_MAX_BYTES of data) are
 *             unsettled — past that the socket is left unread and the
 *             server waits (back-pressure; feedback still goes out)
 *   collect   the results of finished PutRecords calls
 *   dispatch  new calls, up to TD_INFLIGHT at once (fwd_send.c)
 *   confirm   commit dead letters, move the flush position over the done
 *             prefix (or to the last keepalive when nothing is unsettled),
 *             tell the server at once
 *   report    forwarder_status, at most every TD_POLL_MS, and on errors
 *   wait      poll(2) on the socket and the calls' wake-up pipe
 *
 * Any PostgreSQL failure ends the session: the calls in flight are
 * cancelled, the queue is dropped, and the caller reconnects; streaming
 * resumes from the slot's confirmed position, so what was not confirmed is
 * sent again (duplicates, never gaps).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

/* Rows read in one go before the other steps get a turn. */
#define READ_BURST 2000

/* A progress line in the log at most this often. */
#define PROGRESS_LOG_MS 10000

typedef struct session
{
	FwdState *s;
	FwdBatch *b;
	int64_t	  last_status;
	int64_t	  last_feedback;
	int64_t	  last_progress_log;
	int64_t	  events_confirmed; /* since the last progress line */
	int64_t	  txns_confirmed;
	bool	  more; /* receive stopped with rows possibly buffered in libpq */
} session;

static bool
buffer_full(const FwdState *s, const FwdBatch *b)
{
	return b->unsettled >= s->cfg.max_events || b->held_bytes >= s->cfg.max_bytes;
}

/* Read what the socket has; false when the stream failed. */
static bool
receive(session *x)
{
	int n;

	x->more = true;
	for (n = 0; n < READ_BURST && !buffer_full(x->s, x->b); n++)
	{
		const char *data;
		int			len;

		switch (fwd_repl_read(x->s, &data, &len))
		{
			case FWD_REPL_ROW:
				if (!fwd_batch_add_row(x->b, data, (size_t) len))
					fwd_log("ignored an unexpected decoded row (%d bytes)", len);
				break;
			case FWD_REPL_KEEPALIVE:
				break;
			case FWD_REPL_NONE:
				x->more = false;
				return true;
			case FWD_REPL_ERROR:
				return false;
		}
	}
	return true;
}

/* Dead letters, the done prefix, the quiet rule; feedback when it moved. */
static bool
confirm(session *x)
{
	FwdState *s = x->s;
	FwdBatch *b = x->b;
	int		  done;

	if (!fwd_pg_write_dead(s, b))
		return false;
	done = fwd_batch_done_prefix(b);
	if (done > b->done_txns)
	{
		FwdLsn lsn = b->txns[done - 1].commit_lsn;
		int	   t;

		for (t = b->done_txns; t < done; t++)
			x->events_confirmed += b->txns[t].nevents;
		x->txns_confirmed += done - b->done_txns;
		b->done_txns = done;
		if (lsn > s->confirmed)
			s->confirmed = lsn;
		fwd_lsn_format(lsn, s->last_sent_lsn, sizeof(s->last_sent_lsn));
	}
	fwd_batch_drop_done(b);
	/* nothing unsettled, nothing half received: the server's position is ours */
	if (b->unsettled == 0 && !fwd_batch_txn_open(b) && s->keepalive > s->confirmed)
		s->confirmed = s->keepalive;
	if (s->confirmed > s->reported)
	{
		if (!fwd_repl_feedback(s, false))
			return false;
		x->last_feedback = fwd_now_ms();
	}
	return true;
}

/* forwarder_status, the periodic feedback and the progress line. */
static bool
report(session *x, int64_t now)
{
	FwdState *s = x->s;

	if (now - x->last_feedback >= s->cfg.feedback_ms)
	{
		if (!fwd_repl_feedback(s, false))
			return false;
		x->last_feedback = now;
	}
	if (now - x->last_status >= s->cfg.status_ms || s->error_dirty)
	{
		if (!fwd_pg_status(s, x->b->unsettled))
			return false;
		x->last_status = now;
	}
	if (x->events_confirmed > 0 && now - x->last_progress_log >= PROGRESS_LOG_MS)
	{
		fwd_log("forwarded %lld events in %lld transactions up to \"%s\"",
				(long long) x->events_confirmed, (long long) x->txns_confirmed,
				s->last_sent_lsn);
		x->events_confirmed = x->txns_confirmed = 0;
		x->last_progress_log = now;
	}
	return true;
}

/* Sleep until the socket has data, a call finished, or the next report. */
static void
wait_for_work(session *x, int64_t now)
{
	FwdState	 *s = x->s;
	struct pollfd fds[2];
	int			  nfds = 0;
	int64_t		  timeout = s->cfg.status_ms - (now - x->last_status);

	if (s->cfg.feedback_ms - (now - x->last_feedback) < timeout)
		timeout = s->cfg.feedback_ms - (now - x->last_feedback);
	if (timeout < 1)
		timeout = 1;
	if (x->more && !buffer_full(s, x->b))
		timeout = 0; /* rows are waiting in libpq's buffer */
	if (timeout > 1000)
		timeout = 1000; /* the stop flag, at least once a second */
	fds[nfds].fd = fwd_send_wake_fd(s->pipe);
	fds[nfds++].events = POLLIN;
	if (!buffer_full(s, x->b))
	{
		fds[nfds].fd = fwd_repl_socket(s);
		fds[nfds++].events = POLLIN;
	}
	poll(fds, (nfds_t) nfds, (int) timeout);
}

static void
stop_session(session *x, bool report_last)
{
	FwdState *s = x->s;

	fwd_send_close(s->pipe);
	s->pipe = NULL;
	if (report_last && s->st != NULL)
		fwd_pg_status(s, x->b->unsettled);
	if (x->events_confirmed > 0)
		fwd_log("forwarded %lld events in %lld transactions up to \"%s\"",
				(long long) x->events_confirmed, (long long) x->txns_confirmed,
				s->last_sent_lsn);
	fwd_batch_reset(x->b);
}

/*
 * Stream until a signal (FWD_STREAM_STOPPED) or a PostgreSQL failure
 * (FWD_STREAM_RECONNECT).  The connections are open (fwd_pg_connect).
 */
FwdStreamResult
fwd_stream(FwdState *s, FwdBatch *b)
{
	session x;
	int		unconfirmed;

	memset(&x, 0, sizeof(x));
	x.s = s;
	x.b = b;
	x.last_feedback = x.last_progress_log = fwd_now_ms();
	s->pipe = fwd_send_open(s);
	while (!fwd_stop)
	{
		bool	failed = false;
		int64_t now;

		if (!receive(&x))
			break;
		if (b->old_decoder)
		{
			fwd_note_error(s, "decoder: trip events carry no \"partition_key\"; the taxi_duration "
							  "extension is older than this forwarder, nothing is sent until it is upgraded");
			break;
		}
		fwd_send_collect(s->pipe, b, &failed);
		if (failed)
			break;
		fwd_send_dispatch(s->pipe, b);
		if (!confirm(&x))
			break;
		now = fwd_now_ms();
		if (!report(&x, now))
			break;
		wait_for_work(&x, now);
	}
	unconfirmed = b->unsettled;
	stop_session(&x, true);
	if (fwd_stop)
	{
		fwd_log("stopping on signal; %d events not confirmed (sent again by the next run)",
				unconfirmed);
		return FWD_STREAM_STOPPED;
	}
	return FWD_STREAM_RECONNECT;
}
