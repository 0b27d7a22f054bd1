/*
 * fwd_batch.c — peeked rows → transactions of trip events.
 *
 * The taxi_duration plugin writes one JSON line per INSERT, carrying
 * "ride_id" and "partition_key" (the ride id's exact text, a JSON string;
 * null when the ride id is), then a commit marker {"commit_lsn", "xid",
 * "events"}.  Events are kept with the transaction they belong to; events
 * after the last marker (none, since peek returns whole transactions, but
 * cheap to guard) are dropped by fwd_batch_close and will be peeked again.
 *
 * An event whose partition key is null (no ride id) is marked dead here
 * with its reason; every other rule (key length, record size) is the
 * Kinesis sender's, which refuses such records unsent.  An event without
 * the field at all comes from an older decoder: the batch is flagged
 * (FwdBatch.old_decoder) and not sent, rather than dead-lettered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fwd.h"

static void *
grow(void *p, int *cap, int need, size_t size)
{
	int	  ncap = *cap ? *cap : 256;
	void *np;

	if (need <= *cap)
		return p;
	while (ncap < need)
		ncap *= 2;
	np = realloc(p, (size_t) ncap * size);
	if (np == NULL)
	{
		fwd_log("out of memory");
		exit(1);
	}
	*cap = ncap;
	return np;
}

static void
free_event(FwdEvent *e)
{
	free(e->data);
	free(e->key);
	e->data = e->key = NULL;
}

/* Forget all rows (keeps the arrays). */
void
fwd_batch_reset(FwdBatch *b)
{
	int i;

	for (i = 0; i < b->nevents; i++)
		free_event(&b->events[i]);
	b->nevents = 0;
	b->ntxns = 0;
	b->done_txns = 0;
	b->old_decoder = false;
}

void
fwd_batch_free(FwdBatch *b)
{
	fwd_batch_reset(b);
	free(b->events);
	free(b->txns);
	memset(b, 0, sizeof(*b));
}

/* The open transaction (one after the last closed one), created on demand. */
static FwdTxn *
open_txn(FwdBatch *b)
{
	FwdTxn *t;

	if (b->ntxns > 0 && b->txns[b->ntxns - 1].commit_lsn[0] == '\0')
		return &b->txns[b->ntxns - 1];
	b->txns = grow(b->txns, &b->txns_cap, b->ntxns + 1, sizeof(FwdTxn));
	t = &b->txns[b->ntxns++];
	memset(t, 0, sizeof(*t));
	t->first = b->nevents;
	return t;
}

/* Take the event's partition key from the decoder's field, or mark it dead. */
static void
set_key(FwdBatch *b, FwdEvent *e, const cJSON *key)
{
	if (cJSON_IsString(key) && key->valuestring != NULL)
	{
		e->key = strdup(key->valuestring);
		if (e->key == NULL)
		{
			fwd_log("out of memory");
			exit(1);
		}
	}
	else if (key == NULL)
		b->old_decoder = true;
	else
	{
		snprintf(e->reason, sizeof(e->reason),
				 "invalid partition key: the event has no ride_id");
		e->state = FWD_DEAD;
	}
}

/* Add one peeked row; false if it is neither an event nor a marker. */
bool
fwd_batch_add_row(FwdBatch *b, const char *data, size_t len)
{
	cJSON  *root = cJSON_ParseWithLength(data, len);
	FwdTxn *t;
	bool	ok = true;

	if (root == NULL)
		return false;
	t = open_txn(b);
	if (cJSON_HasObjectItem(root, "ride"))
	{
		FwdEvent *e;

		b->events = grow(b->events, &b->events_cap, b->nevents + 1, sizeof(FwdEvent));
		e = &b->events[b->nevents];
		memset(e, 0, sizeof(*e));
		e->data = malloc(len + 1);
		if (e->data == NULL)
		{
			fwd_log("out of memory");
			exit(1);
		}
		memcpy(e->data, data, len);
		e->data[len] = '\0';
		e->len = len;
		e->txn = (int) (t - b->txns);
		e->state = FWD_PENDING;
		set_key(b, e, cJSON_GetObjectItemCaseSensitive(root, "partition_key"));
		b->nevents++;
		t->nevents++;
	}
	else if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "commit_lsn")))
		snprintf(t->commit_lsn, sizeof(t->commit_lsn), "%s",
				 cJSON_GetObjectItemCaseSensitive(root, "commit_lsn")->valuestring);
	else
		ok = false;
	cJSON_Delete(root);
	return ok;
}

/* Drop a trailing transaction that has no commit marker. */
void
fwd_batch_close(FwdBatch *b)
{
	if (b->ntxns > 0 && b->txns[b->ntxns - 1].commit_lsn[0] == '\0')
	{
		FwdTxn *t = &b->txns[b->ntxns - 1];

		while (b->nevents > t->first)
			free_event(&b->events[--b->nevents]);
		b->ntxns--;
	}
}

/* Events neither sent nor dead-lettered. */
int
fwd_batch_pending(const FwdBatch *b)
{
	int i,
		n = 0;

	for (i = 0; i < b->nevents; i++)
		if (b->events[i].state == FWD_PENDING ||
			(b->events[i].state == FWD_DEAD && !b->events[i].dead_written))
			n++;
	return n;
}

/* Number of leading transactions whose events are all done. */
int
fwd_batch_done_prefix(const FwdBatch *b)
{
	int t;

	for (t = b->done_txns; t < b->ntxns; t++)
	{
		int i;

		for (i = 0; i < b->txns[t].nevents; i++)
		{
			const FwdEvent *e = &b->events[b->txns[t].first + i];

			if (e->state == FWD_PENDING ||
				(e->state == FWD_DEAD && !e->dead_written))
				return t;
		}
	}
	return b->ntxns;
}
