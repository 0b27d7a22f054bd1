/*
 * fwd_batch.c — received rows → a queue of transactions of trip events.
 *
 * The taxi_duration plugin writes one JSON line per INSERT, carrying
 * "ride_id" and "partition_key" (the ride id's exact text, a JSON string;
 * null when the ride id is), then a commit marker {"commit_lsn", "xid",
 * "events"}.  Rows arrive in order; the events after the last marker form
 * the open transaction, which is closed by the next marker (or dropped on
 * a reconnect: the server sends it again).
 *
 * An event whose partition key is null (no ride id) is marked dead here
 * with its reason; every other rule (key length, record size) is the
 * Kinesis sender's, which refuses such records unsent.  An event without
 * the field at all comes from an older decoder: the batch is flagged
 * (FwdBatch.old_decoder) and not sent, rather than dead-lettered.
 *
 * An event's data is freed as soon as it is settled (only its state and
 * key remain until its transaction is confirmed and dropped from the
 * front), so a transaction larger than the buffer still streams through.
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

static char *
copy(const char *s, size_t len)
{
	char *c = malloc(len + 1);

	if (c == NULL)
	{
		fwd_log("out of memory");
		exit(1);
	}
	memcpy(c, s, len);
	c[len] = '\0';
	return c;
}

static void
free_event(FwdEvent *e)
{
	free(e->data);
	free(e->key);
	free(e->reason);
	e->data = e->key = e->reason = NULL;
}

/* Forget all rows (keeps the arrays); sequence numbers go on. */
void
fwd_batch_reset(FwdBatch *b)
{
	int i;

	for (i = 0; i < b->nevents; i++)
		free_event(&b->events[i]);
	b->base += b->nevents;
	b->nevents = 0;
	b->ntxns = 0;
	b->done_txns = 0;
	b->unsettled = 0;
	b->held_bytes = 0;
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

/* Is the last transaction still waiting for its commit marker? */
bool
fwd_batch_txn_open(const FwdBatch *b)
{
	return b->ntxns > 0 && b->txns[b->ntxns - 1].commit_lsn == 0;
}

/* The open transaction (one after the last closed one), created on demand. */
static FwdTxn *
open_txn(FwdBatch *b)
{
	FwdTxn *t;

	if (fwd_batch_txn_open(b))
		return &b->txns[b->ntxns - 1];
	b->txns = grow(b->txns, &b->txns_cap, b->ntxns + 1, sizeof(FwdTxn));
	t = &b->txns[b->ntxns++];
	memset(t, 0, sizeof(*t));
	t->first = b->nevents;
	return t;
}

/* Event i is settled: accepted (FWD_SENT) or refused for good (FWD_DEAD). */
void
fwd_batch_settle(FwdBatch *b, int i, FwdEventState state, const char *reason)
{
	FwdEvent *e = &b->events[i];

	if (state == FWD_DEAD)
	{
		e->state = FWD_DEAD;
		free(e->reason);
		e->reason = copy(reason, strlen(reason));
		return; /* settled once its dead letter is committed */
	}
	e->state = state;
	if (state == FWD_SENT)
	{
		b->unsettled--;
		b->held_bytes -= e->len;
		free(e->data);
		e->data = NULL;
	}
}

/* Take the event's partition key from the decoder's field, or mark it dead. */
static void
set_key(FwdBatch *b, int i, const cJSON *key)
{
	FwdEvent *e = &b->events[i];

	if (cJSON_IsString(key) && key->valuestring != NULL)
		e->key = copy(key->valuestring, strlen(key->valuestring));
	else if (key == NULL)
		b->old_decoder = true;
	else
		fwd_batch_settle(b, i, FWD_DEAD, "invalid partition key: the event has no ride_id");
}

/* Add one received row; false if it is neither an event nor a marker. */
bool
fwd_batch_add_row(FwdBatch *b, const char *data, size_t len)
{
	cJSON		*root = cJSON_ParseWithLength(data, len);
	const cJSON *lsn;
	FwdTxn		*t;
	bool		 ok = true;

	if (root == NULL)
		return false;
	lsn = cJSON_GetObjectItemCaseSensitive(root, "commit_lsn");
	if (cJSON_HasObjectItem(root, "ride"))
	{
		FwdEvent *e;

		t = open_txn(b);
		b->events = grow(b->events, &b->events_cap, b->nevents + 1, sizeof(FwdEvent));
		e = &b->events[b->nevents];
		memset(e, 0, sizeof(*e));
		e->data = copy(data, len);
		e->len = len;
		e->txn = (int) (t - b->txns);
		e->state = FWD_PENDING;
		b->unsettled++;
		b->held_bytes += len;
		b->nevents++;
		t->nevents++;
		set_key(b, b->nevents - 1, cJSON_GetObjectItemCaseSensitive(root, "partition_key"));
	}
	else if (cJSON_IsString(lsn) && fwd_batch_txn_open(b))
		ok = fwd_lsn_parse(lsn->valuestring, &b->txns[b->ntxns - 1].commit_lsn) &&
			 b->txns[b->ntxns - 1].commit_lsn != 0;
	else if (!cJSON_IsString(lsn))
		ok = false;
	cJSON_Delete(root);
	return ok;
}

/* A dead event counts as settled once its letter is committed. */
static bool
settled(const FwdEvent *e)
{
	return e->state == FWD_SENT || (e->state == FWD_DEAD && e->dead_written);
}

/* Number of leading closed transactions whose events are all settled. */
int
fwd_batch_done_prefix(const FwdBatch *b)
{
	int t;

	for (t = b->done_txns; t < b->ntxns; t++)
	{
		int i;

		if (b->txns[t].commit_lsn == 0)
			return t;
		for (i = 0; i < b->txns[t].nevents; i++)
			if (!settled(&b->events[b->txns[t].first + i]))
				return t;
	}
	return b->ntxns;
}

/*
 * Drop the confirmed transactions from the front once they are a good part
 * of the queue (moving the rest is then cheap per event).
 */
void
fwd_batch_drop_done(FwdBatch *b)
{
	int drop_events,
		i;

	if (b->done_txns == 0)
		return;
	drop_events = b->done_txns == b->ntxns ? b->nevents :
											 b->txns[b->done_txns].first;
	if (drop_events < 4096 && drop_events * 2 < b->nevents && b->done_txns < b->ntxns)
		return;
	for (i = 0; i < drop_events; i++)
		free_event(&b->events[i]);
	memmove(b->events, b->events + drop_events,
			(size_t) (b->nevents - drop_events) * sizeof(FwdEvent));
	b->nevents -= drop_events;
	b->base += drop_events;
	memmove(b->txns, b->txns + b->done_txns, (size_t) (b->ntxns - b->done_txns) * sizeof(FwdTxn));
	b->ntxns -= b->done_txns;
	for (i = 0; i < b->ntxns; i++)
		b->txns[i].first -= drop_events;
	for (i = 0; i < b->nevents; i++)
		b->events[i].txn -= b->done_txns;
	b->done_txns = 0;
}

/* Dead event i's letter is committed: it is settled, its data freed. */
void
fwd_batch_dead_written(FwdBatch *b, int i)
{
	FwdEvent *e = &b->events[i];

	e->dead_written = true;
	b->unsettled--;
	b->held_bytes -= e->len;
	free(e->data);
	e->data = NULL;
}
