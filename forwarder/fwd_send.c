/*
 * fwd_send.c — a batch of events → Kinesis, then the slot is confirmed.
 *
 * The pending events go to the AWS library's sender (tda_kinesis_send),
 * which owns Kinesis' rules: calls of at most 500 records and 5 MiB, exact
 * retries of entries failing with a throttling or internal code, backoff
 * with jitter (TD_BACKOFF_BASE_MS, TD_BACKOFF_MAX_MS), whole-call failures
 * retried for as long as it takes, content 400s halved down to the record
 * at fault, records that can never be accepted REJECTED.  The sender polls
 * the stop flag (through tda_config's cancel callback) during calls and
 * backoff.
 *
 * After every call (the sender's progress callback) the events it settled
 * are marked sent or dead, dead letters are committed and the slot is
 * advanced to the commit LSN of the last transaction whose events are all
 * done; a PostgreSQL failure there stops the sender and the batch is
 * dropped (it will be peeked again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

typedef struct send_ctx
{
	FwdState  *s;
	FwdBatch  *b;
	const int *event; /* record index -> event index */
	bool	   pg_failed;
} send_ctx;

/* Commit dead letters, advance over the done prefix, upsert the status. */
static bool
confirm(FwdState *s, FwdBatch *b)
{
	int done;

	if (!fwd_pg_write_dead(s, b))
		return false;
	done = fwd_batch_done_prefix(b);
	if (done > b->done_txns)
	{
		if (!fwd_pg_advance(s, b->txns[done - 1].commit_lsn))
			return false;
		b->done_txns = done;
	}
	return fwd_pg_status(s, fwd_batch_pending(b));
}

/* The sender's progress callback: record outcomes, log, confirm. */
static bool
on_progress(void *arg, const tda_send_call *call, const tda_send_result *results)
{
	send_ctx *c = arg;
	FwdState *s = c->s;
	size_t	  k;

	for (k = 0; k < call->nrecords; k++)
	{
		const tda_send_result *r = &results[call->records[k]];
		FwdEvent			  *e = &c->b->events[c->event[call->records[k]]];

		if (r->outcome == TDA_SEND_ACCEPTED)
			e->state = FWD_SENT;
		else if (r->outcome == TDA_SEND_REJECTED)
		{
			e->state = FWD_DEAD;
			snprintf(e->reason, sizeof(e->reason), "%s", r->reason);
		}
	}
	s->delta.sent += (int64_t) call->accepted;
	if (call->status != TDA_OK)
	{
		char detail[TDC_ERROR_DETAIL_LEN + 64];

		fwd_note_error(s, "kinesis: \"%s\" (%s; %zu records, attempt %u)",
					   tdc_escape(call->error->detail, detail, sizeof(detail)),
					   tda_status_name(call->status), call->nrecords, call->attempt);
	}
	else if (call->retrying > 0)
	{
		/* records_retried: entries Kinesis failed one by one */
		s->delta.retried += (int64_t) call->retrying;
		fwd_note_error(s, "kinesis: %zu of %zu records throttled or failed internally, resending them",
					   call->retrying, call->nrecords);
	}
	if (!confirm(s, c->b))
	{
		c->pg_failed = true;
		return false;
	}
	return true;
}

FwdSendResult
fwd_send_batch(FwdState *s, FwdBatch *b)
{
	tda_record		 *recs = calloc(b->nevents + 1, sizeof(tda_record));
	tda_send_result	 *res = calloc(b->nevents + 1, sizeof(tda_send_result));
	int				 *event = calloc(b->nevents + 1, sizeof(int));
	tda_sender_config sc;
	send_ctx		  ctx;
	tda_error		  err;
	tda_status		  st;
	FwdSendResult	  result = FWD_SEND_DONE;
	size_t			  n = 0;
	int				  i;

	if (!recs || !res || !event)
	{
		fwd_log("out of memory");
		exit(1);
	}
	for (i = 0; i < b->nevents; i++)
	{
		FwdEvent *e = &b->events[i];

		if (e->state != FWD_PENDING)
			continue;
		recs[n].data = e->data;
		recs[n].len = e->len;
		recs[n].partition_key = e->key;
		event[n++] = i;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.s = s;
	ctx.b = b;
	ctx.event = event;
	memset(&sc, 0, sizeof(sc));
	sc.aws = &s->cfg.aws;
	sc.stream = s->cfg.stream;
	sc.backoff_base_ms = s->cfg.backoff_base_ms;
	sc.backoff_max_ms = s->cfg.backoff_max_ms;
	sc.max_attempts = 0; /* at least once: retry for as long as it takes */
	sc.progress = on_progress;
	sc.progress_arg = &ctx;

	if (!confirm(s, b)) /* events dead on arrival, empty transactions */
		result = FWD_SEND_PG_ERROR;
	else if ((st = tda_kinesis_send(&sc, recs, n, res, &err)) == TDA_OK)
	{
		if (!confirm(s, b))
			result = FWD_SEND_PG_ERROR;
	}
	else if (ctx.pg_failed)
		result = FWD_SEND_PG_ERROR;
	else if (fwd_stop)
		result = FWD_SEND_STOPPED;
	else
	{
		char detail[TDC_ERROR_DETAIL_LEN + 64];

		/* not Kinesis' answer (out of memory): drop the batch, peek it again */
		fwd_note_error(s, "kinesis: \"%s\" (%s)", tdc_escape(err.detail, detail, sizeof(detail)),
					   tda_status_name(st));
		result = FWD_SEND_PG_ERROR;
	}
	free(recs);
	free(res);
	free(event);
	return result;
}
