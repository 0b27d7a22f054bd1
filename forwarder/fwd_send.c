/*
 * fwd_send.c — a batch of events → Kinesis, then the slot is confirmed.
 *
 * Calls carry the pending events in order, at most 500 records and 5 MiB
 * (data + partition key, Kinesis' own accounting).  Kinesis answers 200
 * with a per-record outcome: accepted records are done; records that
 * failed with a throttling or internal error are resent, exactly those and
 * indexed in the *current* call, after an exponential backoff with jitter
 * (capped, and retried for as long as it takes); a record failing with any
 * other code can never be accepted and is dead-lettered.
 *
 * A whole-call failure (transport, timeout, HTTP 5xx, throttling 400s,
 * unknown stream, denied) is retried with the same backoff without end:
 * nothing is confirmed meanwhile.  A 400 that blames the request's
 * content (ValidationException, InvalidArgumentException,
 * SerializationException) halves the call until the one record at fault
 * is isolated and dead-lettered.
 *
 * After every call, dead letters are committed and the slot is advanced
 * to the commit LSN of the last transaction whose events are all done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

/* Per-record error codes worth retrying. */
static bool
transient_code(const char *code)
{
	return strstr(code, "ProvisionedThroughputExceeded") != NULL ||
		   strstr(code, "Throttl") != NULL ||
		   strstr(code, "InternalFailure") != NULL ||
		   strstr(code, "ServiceUnavailable") != NULL ||
		   strstr(code, "LimitExceeded") != NULL;
}

/* A whole-call failure caused by the records themselves. */
static bool
content_error(const tda_error *err)
{
	if (err->status == TDA_ERR_TOO_LARGE)
		return true; /* validated before sending; split */
	if (err->status != TDA_ERR_HTTP || err->http_status != 400)
		return false;
	return strstr(err->detail, "(ValidationException)") != NULL ||
		   strstr(err->detail, "(InvalidArgumentException)") != NULL ||
		   strstr(err->detail, "(SerializationException)") != NULL;
}

/* Indexes of up to `limit` pending events, from `from` on, within the limits. */
static int
pick(const FwdBatch *b, const int *from, int nfrom, int limit, int *out)
{
	size_t bytes = 0;
	int	   n = 0;
	int	   i;

	for (i = 0; i < nfrom && n < limit; i++)
	{
		const FwdEvent *e = &b->events[from[i]];
		size_t			sz = e->len + strlen(e->key);

		if (e->state != FWD_PENDING)
			continue;
		if (n > 0 && bytes + sz > TDA_KINESIS_MAX_REQUEST_BYTES)
			break;
		bytes += sz;
		out[n++] = from[i];
	}
	return n;
}

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

FwdSendResult
fwd_send_batch(FwdState *s, FwdBatch *b)
{
	int			   *all = calloc(b->nevents + 1, sizeof(int));
	int			   *retry = calloc(b->nevents + 1, sizeof(int));
	int			   *call = malloc(sizeof(int) * (TDA_KINESIS_MAX_RECORDS + 1));
	tda_record	   *recs = malloc(sizeof(tda_record) * TDA_KINESIS_MAX_RECORDS);
	tda_put_result *res = malloc(sizeof(tda_put_result) * TDA_KINESIS_MAX_RECORDS);
	FwdSendResult	result = FWD_SEND_DONE;
	int				nretry = 0;
	int				next = 0; /* scan position in `all` */
	int				limit = TDA_KINESIS_MAX_RECORDS;
	int				attempt = 0;
	int				i;

	if (!all || !retry || !call || !recs || !res)
	{
		fwd_log("out of memory");
		exit(1);
	}
	for (i = 0; i < b->nevents; i++)
		all[i] = i;

	if (!confirm(s, b)) /* dead-on-arrival events, empty txns */
		result = FWD_SEND_PG_ERROR;

	while (result == FWD_SEND_DONE)
	{
		tda_error  err;
		tda_status st;
		int		   n;
		int		   nfail = 0;

		if (fwd_stop)
		{
			result = FWD_SEND_STOPPED;
			break;
		}
		if (nretry > 0)
		{
			int m = 0;

			for (i = 0; i < nretry; i++) /* keep the still-pending ones */
				if (b->events[retry[i]].state == FWD_PENDING)
					retry[m++] = retry[i];
			nretry = m;
		}
		else
			limit = TDA_KINESIS_MAX_RECORDS;
		if (nretry > 0)
			n = pick(b, retry, nretry, limit, call);
		else
		{
			while (next < b->nevents && b->events[next].state != FWD_PENDING)
				next++;
			if (next >= b->nevents)
				break;
			n = pick(b, all + next, b->nevents - next, limit, call);
		}
		if (n == 0)
		{
			nretry = 0;
			continue;
		}
		for (i = 0; i < n; i++)
		{
			recs[i].data = b->events[call[i]].data;
			recs[i].len = b->events[call[i]].len;
			recs[i].partition_key = b->events[call[i]].key;
		}
		memset(&err, 0, sizeof(err));
		st = tda_kinesis_put_records(&s->cfg.aws, s->cfg.stream, recs, n, res, &err);
		if (st == TDA_ERR_CANCELLED || fwd_stop)
		{
			result = FWD_SEND_STOPPED;
			break;
		}
		if (st != TDA_OK)
		{
			if (content_error(&err) && n == 1)
			{
				FwdEvent *e = &b->events[call[0]];

				e->state = FWD_DEAD;
				snprintf(e->reason, sizeof(e->reason), "rejected by Kinesis: %s", err.detail);
				limit = TDA_KINESIS_MAX_RECORDS;
			}
			else
			{
				char detail[TDC_ERROR_DETAIL_LEN + 64];

				if (content_error(&err))
					limit = (n + 1) / 2;
				fwd_note_error(s, "kinesis: \"%s\" (%s; %d records, attempt %d)",
							   tdc_escape(err.detail, detail, sizeof(detail)),
							   tda_status_name(st), n, attempt + 1);
				if (!fwd_pg_status(s, fwd_batch_pending(b)))
				{
					result = FWD_SEND_PG_ERROR;
					break;
				}
				if (!content_error(&err))
					fwd_sleep_ms(fwd_backoff_ms(&s->cfg, attempt++));
				/* retry the same records: they are first in order */
				if (nretry == 0)
				{
					memcpy(retry, call, sizeof(int) * n);
					nretry = n;
				}
				continue;
			}
		}
		else
		{
			int nsent = 0;

			for (i = 0; i < n; i++)
			{
				FwdEvent *e = &b->events[call[i]];

				if (res[i].ok)
				{
					e->state = FWD_SENT;
					nsent++;
				}
				else if (transient_code(res[i].error_code))
					retry[nfail++] = call[i];
				else
				{
					e->state = FWD_DEAD;
					snprintf(e->reason, sizeof(e->reason),
							 "rejected by Kinesis: %s", res[i].error_code);
				}
			}
			s->delta.sent += nsent;
			s->delta.retried += nfail;
			if (nretry > 0 && n < nretry)
			{
				/* a halved retry call: keep the rest of the retry set */
				int m = nfail;

				for (i = n; i < nretry; i++)
					retry[m++] = retry[i];
				nfail = m;
			}
			nretry = nfail;
			if (nfail > 0)
				fwd_note_error(s, "kinesis: %d of %d records throttled or failed internally, resending them",
							   nfail, n);
		}
		if (!confirm(s, b))
		{
			result = FWD_SEND_PG_ERROR;
			break;
		}
		if (nretry > 0)
			fwd_sleep_ms(fwd_backoff_ms(&s->cfg, attempt++));
		else
			attempt = 0;
	}
	if (result == FWD_SEND_DONE && !confirm(s, b))
		result = FWD_SEND_PG_ERROR;
	free(all);
	free(retry);
	free(call);
	free(recs);
	free(res);
	return result;
}
