/*
 * fwd_send.c — the pipeline: events → up to TD_INFLIGHT PutRecords calls at
 * once, per-key order kept.
 *
 * Each call runs on its own thread through the AWS library's sender
 * (tda_kinesis_send), which owns Kinesis' rules: at most 500 records and
 * 5 MiB, exact retries of entries failing with a throttling or internal
 * code (ProvisionedThroughputExceeded: the per-shard 1,000 records/s and
 * 1 MiB/s), backoff with jitter, whole-call failures retried for as long
 * as it takes, content 400s halved down to the record at fault, records
 * that can never be accepted REJECTED.  The main thread alone touches the
 * batch and PostgreSQL: a call's thread reads its records (borrowed, the
 * events' data does not move while they are in flight) and writes only its
 * results, its counters and a pending error message (under the mutex),
 * then wakes the main thread through a pipe.
 *
 * Ordering: a call never carries an event whose partition key has an
 * earlier event not yet settled (in flight, or waiting) — so two records
 * of one key are never in flight at once, and a record's retries finish
 * before the next record of its key is sent.  Ride ids are unique for
 * INSERTs, so in practice nothing waits; a re-sent ride (delete and insert
 * again) stays after its first copy.
 *
 * Threads, not curl's multi interface: the sender is synchronous and shared
 * with the Lambda; a thread per call keeps it as it is, and the libraries'
 * process-wide state (curl, cJSON hooks) is set up by the main thread
 * before any call starts (tda_global_init).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwd.h"

typedef struct FwdCall
{
	FwdPipeline		*pipe;
	pthread_t		 thread;
	int64_t			*seq; /* the events' sequence numbers (FwdBatch.base + index) */
	tda_record		*records;
	tda_send_result *results;
	size_t			 n;
	tda_config		 aws; /* the configuration, cancel pointed at this call */
	tda_status		 status;
	tda_error		 err;
	volatile int	 abandon; /* set by fwd_send_close */
	bool			 finished;
} FwdCall;

struct FwdPipeline
{
	FwdState	   *s;
	FwdCall		  **calls; /* cfg.inflight slots, NULL when free */
	int				ncalls;
	int				wake[2];
	int64_t			scan_from; /* no event before this sequence number is pending */
	FwdKeyset		keys;
	pthread_mutex_t mu;
	/* written by the calls' threads, under mu */
	FwdCounters delta;
	char		error[512];
	bool		error_dirty;
};

/* ------------------------------------------------------------------ */
/* The calls' threads                                                  */
/* ------------------------------------------------------------------ */

static int
call_cancelled(void *arg)
{
	FwdCall *c = arg;

	return fwd_stop || c->abandon;
}

/* An error for the next status upsert (the main thread logs it then). */
static void
pipe_error(FwdPipeline *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
pipe_error(FwdPipeline *p, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&p->mu);
	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	p->error_dirty = true;
	pthread_mutex_unlock(&p->mu);
}

/* The sender's progress callback, on the call's thread. */
static bool
on_progress(void *arg, const tda_send_call *step, const tda_send_result *results)
{
	FwdCall		*c = arg;
	FwdPipeline *p = c->pipe;

	(void) results;
	pthread_mutex_lock(&p->mu);
	p->delta.sent += (int64_t) step->accepted;
	p->delta.retried += (int64_t) step->retrying; /* entries failed one by one, resent */
	pthread_mutex_unlock(&p->mu);
	if (step->status != TDA_OK)
	{
		char detail[TDC_ERROR_DETAIL_LEN + 64];

		pipe_error(p, "kinesis: \"%s\" (%s; %zu records, attempt %u)",
				   tdc_escape(step->error->detail, detail, sizeof(detail)),
				   tda_status_name(step->status), step->nrecords, step->attempt);
	}
	else if (step->retrying > 0)
		pipe_error(p, "kinesis: %zu of %zu records throttled or failed internally, resending them",
				   step->retrying, step->nrecords);
	return !call_cancelled(c);
}

static void *
call_main(void *arg)
{
	FwdCall			 *c = arg;
	FwdPipeline		 *p = c->pipe;
	tda_sender_config sc;
	ssize_t			  w;

	memset(&sc, 0, sizeof(sc));
	sc.aws = &c->aws;
	sc.stream = p->s->cfg.stream;
	sc.backoff_base_ms = p->s->cfg.backoff_base_ms;
	sc.backoff_max_ms = p->s->cfg.backoff_max_ms;
	sc.max_attempts = 0; /* at least once: retry for as long as it takes */
	sc.progress = on_progress;
	sc.progress_arg = c;
	c->status = tda_kinesis_send(&sc, c->records, c->n, c->results, &c->err);
	pthread_mutex_lock(&p->mu);
	c->finished = true;
	pthread_mutex_unlock(&p->mu);
	do
		w = write(p->wake[1], "x", 1);
	while (w < 0 && errno == EINTR);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The main thread                                                     */
/* ------------------------------------------------------------------ */

static void *
must(void *ptr)
{
	if (ptr == NULL)
	{
		fwd_log("out of memory");
		exit(1);
	}
	return ptr;
}

FwdPipeline *
fwd_send_open(FwdState *s)
{
	FwdPipeline *p = must(calloc(1, sizeof(FwdPipeline)));

	p->s = s;
	p->ncalls = s->cfg.inflight;
	p->calls = must(calloc((size_t) p->ncalls, sizeof(FwdCall *)));
	if (pipe(p->wake) != 0)
	{
		fwd_log("cannot create a pipe: %s", strerror(errno));
		exit(1);
	}
	fcntl(p->wake[0], F_SETFL, O_NONBLOCK);
	fcntl(p->wake[1], F_SETFL, O_NONBLOCK);
	pthread_mutex_init(&p->mu, NULL);
	return p;
}

static void
free_call(FwdCall *c)
{
	free(c->seq);
	free(c->records);
	free(c->results);
	free(c);
}

/* Cancel every call, wait for their threads, free the pipeline. */
void
fwd_send_close(FwdPipeline *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < p->ncalls; i++)
		if (p->calls[i])
			p->calls[i]->abandon = 1;
	for (i = 0; i < p->ncalls; i++)
		if (p->calls[i])
		{
			pthread_join(p->calls[i]->thread, NULL);
			free_call(p->calls[i]);
		}
	close(p->wake[0]);
	close(p->wake[1]);
	pthread_mutex_destroy(&p->mu);
	fwd_keyset_free(&p->keys);
	free(p->calls);
	free(p);
}

int
fwd_send_inflight(const FwdPipeline *p)
{
	int i,
		n = 0;

	for (i = 0; i < p->ncalls; i++)
		n += p->calls[i] != NULL;
	return n;
}

int
fwd_send_wake_fd(const FwdPipeline *p)
{
	return p->wake[0];
}

/* Move the calls' counters and pending error into the state (main thread). */
void
fwd_send_take_counters(FwdPipeline *p, FwdState *s)
{
	char error[512];
	bool dirty;

	pthread_mutex_lock(&p->mu);
	s->delta.sent += p->delta.sent;
	s->delta.retried += p->delta.retried;
	memset(&p->delta, 0, sizeof(p->delta));
	dirty = p->error_dirty;
	memcpy(error, p->error, sizeof(error));
	p->error_dirty = false;
	pthread_mutex_unlock(&p->mu);
	if (dirty)
		fwd_note_error(s, "%s", error);
}

/* Events of the next call: pending, keys not blocked, within the limits. */
static FwdCall *
fill_call(FwdPipeline *p, FwdBatch *b, int *from)
{
	FwdCall *c = must(calloc(1, sizeof(FwdCall)));
	size_t	 bytes = 0;
	int		 i;
	/* is everything before *from settled or in flight? */
	bool prefix = b->base + *from <= p->scan_from;

	c->seq = must(calloc(TDA_KINESIS_MAX_RECORDS, sizeof(int64_t)));
	c->records = must(calloc(TDA_KINESIS_MAX_RECORDS, sizeof(tda_record)));
	c->results = must(calloc(TDA_KINESIS_MAX_RECORDS, sizeof(tda_send_result)));
	for (i = *from; i < b->nevents && c->n < TDA_KINESIS_MAX_RECORDS; i++)
	{
		FwdEvent *e = &b->events[i];
		size_t	  sz;

		if (e->state != FWD_PENDING)
		{
			if (prefix)
				p->scan_from = b->base + i + 1;
			continue;
		}
		prefix = false;
		if (fwd_keyset_has(&p->keys, e->key))
			continue; /* an earlier event of this key is not settled */
		sz = e->len + strlen(e->key);
		if (c->n > 0 && bytes + sz > TDA_KINESIS_MAX_REQUEST_BYTES)
			break;
		fwd_keyset_add(&p->keys, e->key);
		bytes += sz;
		c->seq[c->n] = b->base + i;
		c->records[c->n].data = e->data;
		c->records[c->n].len = e->len;
		c->records[c->n].partition_key = e->key;
		c->n++;
		e->state = FWD_INFLIGHT;
	}
	*from = i;
	return c;
}

/*
 * Start calls while fewer than TD_INFLIGHT run and events wait; returns
 * how many were started.
 */
int
fwd_send_dispatch(FwdPipeline *p, FwdBatch *b)
{
	int	 started = 0;
	int	 from;
	int	 slot;
	int	 i;
	bool keys_ready = false;

	if (b->old_decoder)
		return 0;
	from = p->scan_from > b->base ? (int) (p->scan_from - b->base) : 0;
	for (slot = 0; slot < p->ncalls && from < b->nevents; slot++)
	{
		FwdCall *c;

		if (p->calls[slot] != NULL)
			continue;
		if (!keys_ready)
		{
			size_t k;

			/* blocked: the keys in flight (and, as the scan goes, those waiting) */
			fwd_keyset_clear(&p->keys);
			for (i = 0; i < p->ncalls; i++)
				if (p->calls[i])
					for (k = 0; k < p->calls[i]->n; k++)
						fwd_keyset_add(&p->keys, p->calls[i]->records[k].partition_key);
			keys_ready = true;
		}
		c = fill_call(p, b, &from);
		if (c->n == 0)
		{
			free_call(c);
			break;
		}
		c->pipe = p;
		c->aws = p->s->cfg.aws;
		c->aws.cancel = call_cancelled;
		c->aws.cancel_arg = c;
		if (pthread_create(&c->thread, NULL, call_main, c) != 0)
		{
			fwd_log("cannot start a thread: %s", strerror(errno));
			exit(1);
		}
		p->calls[slot] = c;
		started++;
	}
	return started;
}

/* The results of a finished call into the batch. */
static void
apply_results(FwdPipeline *p, FwdCall *c, FwdBatch *b, bool *failed)
{
	size_t k;

	for (k = 0; k < c->n; k++)
	{
		int				 i = (int) (c->seq[k] - b->base);
		tda_send_result *r = &c->results[k];

		if (r->outcome == TDA_SEND_ACCEPTED)
			fwd_batch_settle(b, i, FWD_SENT, NULL);
		else if (r->outcome == TDA_SEND_REJECTED)
			fwd_batch_settle(b, i, FWD_DEAD, r->reason);
		else
		{
			b->events[i].state = FWD_PENDING; /* cancelled: sent again */
			if (c->seq[k] < p->scan_from)
				p->scan_from = c->seq[k];
		}
	}
	if (c->status != TDA_OK && c->status != TDA_ERR_CANCELLED)
	{
		char detail[TDC_ERROR_DETAIL_LEN + 64];

		/* not Kinesis' answer (out of memory): start over from the slot */
		fwd_note_error(p->s, "kinesis: \"%s\" (%s)",
					   tdc_escape(c->err.detail, detail, sizeof(detail)),
					   tda_status_name(c->status));
		*failed = true;
	}
}

/* Take the finished calls' results; returns how many calls finished. */
int
fwd_send_collect(FwdPipeline *p, FwdBatch *b, bool *failed)
{
	char buf[64];
	int	 i,
		n = 0;

	while (read(p->wake[0], buf, sizeof(buf)) > 0)
		;
	for (i = 0; i < p->ncalls; i++)
	{
		FwdCall *c = p->calls[i];
		bool	 finished;

		if (c == NULL)
			continue;
		pthread_mutex_lock(&p->mu);
		finished = c->finished;
		pthread_mutex_unlock(&p->mu);
		if (!finished)
			continue;
		pthread_join(c->thread, NULL);
		apply_results(p, c, b, failed);
		free_call(c);
		p->calls[i] = NULL;
		n++;
	}
	fwd_send_take_counters(p, p->s);
	return n;
}
