/*
 * fwd_batch.c — peeked rows → transactions of trip events.
 *
 * The taxi_duration plugin writes one JSON line per INSERT, carrying
 * "ride_id", then a commit marker {"commit_lsn", "xid", "events"}.  Events
 * are kept with the transaction they belong to; events after the last
 * marker (none, since peek returns whole transactions, but cheap to guard)
 * are dropped by fwd_batch_close and will be peeked again.
 *
 * An event whose partition key cannot be formed (no ride_id, or one longer
 * than Kinesis allows) or whose data exceeds Kinesis' record limit is
 * marked dead here with its reason, so it never reaches PutRecords.
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

/* Forget all rows (keeps the arrays). */
void
fwd_batch_reset(FwdBatch *b)
{
	int i;

	for (i = 0; i < b->nevents; i++)
		free(b->events[i].data);
	b->nevents = 0;
	b->ntxns = 0;
	b->done_txns = 0;
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

/*
 * A numeric ride_id exactly as written (cJSON keeps numbers as doubles,
 * which would round bigints above 2^53).  The plugin writes the top-level
 * "ride_id" after the ride object, and the pattern cannot occur inside a
 * JSON string (its quotes would be escaped), so the last match is it.
 */
static char *
raw_number(const char *data, size_t len)
{
	const char *pat = "\"ride_id\":";
	const char *p = NULL;
	const char *q = data;
	size_t		n;
	char	   *out;

	while ((q = strstr(q, pat)) != NULL && (size_t) (q - data) < len)
		p = q++;
	if (p == NULL)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	n = strspn(p, "-0123456789");
	if (n == 0 || n > TDA_KINESIS_MAX_KEY_LEN || strchr(",} ", p[n]) == NULL)
		return NULL;
	out = malloc(n + 1);
	if (out)
	{
		memcpy(out, p, n);
		out[n] = '\0';
	}
	return out;
}

/* Set the event's partition key from ride_id, or mark it dead. */
static void
set_key(FwdEvent *e, const cJSON *id)
{
	char	   *text = NULL;
	const char *key = NULL;

	if (cJSON_IsString(id))
		key = id->valuestring;
	else if (cJSON_IsNumber(id))
	{
		text = raw_number(e->data, e->len);
		if (text == NULL)
			text = cJSON_PrintUnformatted(id);
		key = text;
	}

	if (key == NULL || key[0] == '\0')
		snprintf(e->reason, sizeof(e->reason),
				 "invalid partition key: the event has no ride_id");
	else if (strlen(key) > TDA_KINESIS_MAX_KEY_LEN)
		snprintf(e->reason, sizeof(e->reason),
				 "invalid partition key: ride_id is %zu characters, Kinesis allows %d",
				 strlen(key), TDA_KINESIS_MAX_KEY_LEN);
	else
		snprintf(e->key, sizeof(e->key), "%s", key);
	if (e->reason[0] == '\0' &&
		e->len + strlen(e->key) > TDA_KINESIS_MAX_RECORD_BYTES)
		snprintf(e->reason, sizeof(e->reason),
				 "record too large: %zu bytes with its partition key, Kinesis allows %d",
				 e->len + strlen(e->key), TDA_KINESIS_MAX_RECORD_BYTES);
	if (e->reason[0] != '\0')
		e->state = FWD_DEAD;
	free(text);
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
		set_key(e, cJSON_GetObjectItemCaseSensitive(root, "ride_id"));
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
			free(b->events[--b->nevents].data);
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
