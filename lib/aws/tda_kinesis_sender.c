/*
 * tda_kinesis_sender.c — the one Kinesis sender of taxi_duration, used by
 * the Lambda (prediction events) and the forwarder (trip events): a
 * caller's records → PutRecords calls within Kinesis' limits, exact
 * retries of the failed entries with exponential backoff and jitter, error
 * classification, isolation of a record Kinesis refuses, cancellation, a
 * progress callback after every call and an outcome per record.  Also the
 * one rule that turns a ride id into a partition key.
 *
 * Classification:
 *   per-record codes   throttling and internal failures are transient
 *                      (resent); any other code is permanent (REJECTED)
 *   whole-call errors  a 400 that blames the content (ValidationException,
 *                      InvalidArgumentException, SerializationException)
 *                      and TDA_ERR_TOO_LARGE are halved down to the record
 *                      at fault; cancellation stops; everything else
 *                      (transport, timeout, 5xx, throttling 400s, unknown
 *                      stream, denied) is transient
 *
 * Scheduling: records go in order; after a call with transient failures
 * the next call carries exactly those entries (then, once they are
 * settled, the next fresh ones), after tda_backoff_ms over the number of
 * failed calls in a row.  A call refused for its content is resent in
 * halves at once, without counting as an attempt.
 *
 * Pure C: libcurl through tda_kinesis_put_records, no PostgreSQL.  Sleep
 * and randomness can be replaced (tda_sender_config's hooks); the default
 * sleep polls the cancel callback every 50 ms.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "tda_internal.h"
#include "tda_aws.h"

/* Longest ride id text tda_partition_key_from_ride_id reads. */
#define RIDE_ID_JSON_MAX 512

/* Digits of the largest 64-bit magnitudes. */
#define INT64_MAX_DIGITS "9223372036854775807"
#define INT64_MIN_DIGITS "9223372036854775808"

/* Step of the default sleep between two polls of the cancel callback. */
#define SLEEP_STEP_MS 50

/* ------------------------------------------------------------------ */
/* Partition keys                                                      */
/* ------------------------------------------------------------------ */

static tda_status
bad_ride_id(tda_error *err, const char *json, const char *why)
{
	return tda_error_echo(err, TDA_ERR_CONFIG, "ride id", json, why);
}

/* A JSON number as exact integer text within 64 bits, never via a double. */
static tda_status
integer_key(const char *json, char *key, tda_error *err)
{
	char		digits[RIDE_ID_JSON_MAX + 1];
	size_t		nd = 0;
	long		exp10 = 0;
	long		fraclen = 0;
	bool		neg = false;
	const char *p = json;
	size_t		start;
	const char *limit;

	if (*p == '-')
	{
		neg = true;
		p++;
	}
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return bad_ride_id(err, json, "is neither a JSON string nor a JSON number");
	while (*p >= '0' && *p <= '9')
		digits[nd++] = *p++;
	if (*p == '.')
	{
		p++;
		if (*p < '0' || *p > '9')
			return bad_ride_id(err, json, "is not a JSON number");
		while (*p >= '0' && *p <= '9')
		{
			digits[nd++] = *p++;
			fraclen++;
		}
	}
	if (*p == 'e' || *p == 'E')
	{
		bool eneg = false;

		p++;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		if (*p < '0' || *p > '9')
			return bad_ride_id(err, json, "is not a JSON number");
		while (*p >= '0' && *p <= '9')
		{
			if (exp10 < 100000)
				exp10 = exp10 * 10 + (*p - '0');
			p++;
		}
		if (eneg)
			exp10 = -exp10;
	}
	if (*p != '\0')
		return bad_ride_id(err, json, "is not a JSON number");
	digits[nd] = '\0';

	/* value = digits * 10^(exp10 - fraclen) */
	exp10 -= fraclen;
	for (start = 0; start < nd && digits[start] == '0'; start++)
		;
	if (start == nd)
	{
		strcpy(key, "0");
		return TDA_OK;
	}
	while (exp10 < 0 && nd > start && digits[nd - 1] == '0')
	{
		nd--;
		exp10++;
	}
	if (exp10 < 0)
		return bad_ride_id(err, json, "is not an integer");
	if ((long) (nd - start) + exp10 > (long) strlen(INT64_MAX_DIGITS))
		return bad_ride_id(err, json, "does not fit 64 bits");
	while (exp10-- > 0)
		digits[nd++] = '0';
	digits[nd] = '\0';
	limit = neg ? INT64_MIN_DIGITS : INT64_MAX_DIGITS;
	if (nd - start == strlen(limit) && strcmp(digits + start, limit) > 0)
		return bad_ride_id(err, json, "does not fit 64 bits");
	snprintf(key, TDA_KINESIS_MAX_KEY_LEN + 1, "%s%s", neg ? "-" : "", digits + start);
	return TDA_OK;
}

tda_status
tda_partition_key_from_ride_id(const char *ride_id_json,
							   char key[TDA_KINESIS_MAX_KEY_LEN + 1], tda_error *err)
{
	cJSON		 *id;
	tda_status	  status;
	size_t		  len;
	unsigned long failures;

	tdc_error_clear(err);
	key[0] = '\0';
	if (ride_id_json == NULL || ride_id_json[0] == '\0')
		return tda_error_set(err, TDA_ERR_CONFIG, "The trip has no ride id.");
	if (strlen(ride_id_json) > RIDE_ID_JSON_MAX)
		return tda_error_set(err, TDA_ERR_CONFIG,
							 "The ride id is longer than %d bytes as JSON.", RIDE_ID_JSON_MAX);
	if (ride_id_json[0] != '"')
		return integer_key(ride_id_json, key, err);
	failures = tdc_alloc_failures();
	id = cJSON_Parse(ride_id_json);
	if (id == NULL && tdc_alloc_failures() != failures)
		status = tda_error_nomem(err);
	else if (id == NULL || !cJSON_IsString(id) || id->valuestring == NULL)
		status = bad_ride_id(err, ride_id_json, "is not a JSON string");
	else if ((len = strlen(id->valuestring)) == 0 || len > TDA_KINESIS_MAX_KEY_LEN)
		status = tda_error_set(err, TDA_ERR_CONFIG,
							   "The ride id is %zu characters; a partition key takes 1 to %d.",
							   len, TDA_KINESIS_MAX_KEY_LEN);
	else
	{
		memcpy(key, id->valuestring, len + 1);
		status = TDA_OK;
	}
	cJSON_Delete(id);
	return status;
}

/* ------------------------------------------------------------------ */
/* Backoff                                                             */
/* ------------------------------------------------------------------ */

long
tda_backoff_ms(long base_ms, long max_ms, unsigned attempt, uint64_t random)
{
	long d = base_ms;
	long lo;

	if (base_ms <= 0)
		return 0;
	if (max_ms < base_ms)
		max_ms = base_ms;
	while (attempt-- > 0 && d < max_ms)
		d = d > max_ms / 2 ? max_ms : d * 2;
	lo = d / 2;
	return lo + (long) (random % (uint64_t) (d - lo + 1));
}

/* xorshift64*: the default jitter source, seeded per tda_kinesis_send. */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(2685821657736338717);
}

static uint64_t
seed_random(const void *salt)
{
	struct timespec ts;
	uint64_t		seed;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed = (uint64_t) ts.tv_nsec ^ ((uint64_t) ts.tv_sec << 32) ^
		   ((uint64_t) getpid() << 16) ^ (uint64_t) (uintptr_t) salt;
	return seed != 0 ? seed : UINT64_C(0x9E3779B97F4A7C15);
}

/* ------------------------------------------------------------------ */
/* Classification                                                      */
/* ------------------------------------------------------------------ */

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

/* The name of a whole-call failure caused by the records, or NULL. */
static const char *
content_error(const tda_error *err)
{
	static const char *const types[] = {
		"ValidationException", "InvalidArgumentException", "SerializationException", NULL
	};
	int i;

	if (err->status == TDA_ERR_TOO_LARGE)
		return tda_status_name(TDA_ERR_TOO_LARGE);
	if (err->status != TDA_ERR_HTTP || err->http_status != 400)
		return NULL;
	for (i = 0; types[i] != NULL; i++)
	{
		char quoted[64];

		snprintf(quoted, sizeof(quoted), "(%s)", types[i]);
		if (strstr(err->detail, quoted) != NULL)
			return types[i];
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

typedef struct sender
{
	const tda_sender_config *sc;
	const tda_record		*records;
	size_t					 n;
	tda_send_result			*results;
	size_t					*work; /* indexes to send before fresh ones */
	size_t					 nwork;
	size_t					 next;	/* the first record not yet taken */
	size_t					 limit; /* most records in the next call */
	size_t					*call;	/* this call's indexes */
	size_t					 ncall;
	bool					 from_work; /* the call is work[0..ncall) */
	tda_record				*batch;
	tda_put_result			*put;
	size_t					*retry;	   /* this call's transient failures */
	unsigned				 calls;	   /* PutRecords calls made */
	unsigned				 in_a_row; /* calls failed in a row */
	uint64_t				 rng;
	tda_status				 gave_up; /* status of the last record given up */
	size_t					 ngave_up;
} sender;

static bool
cancelled(const sender *s)
{
	const tda_config *aws = s->sc->aws;

	return aws->cancel != NULL && aws->cancel(aws->cancel_arg) != 0;
}

static void
pause_ms(sender *s, long ms)
{
	if (ms <= 0)
		return;
	if (s->sc->sleep_fn != NULL)
	{
		s->sc->sleep_fn(s->sc->hook_arg, ms);
		return;
	}
	while (ms > 0 && !cancelled(s))
	{
		long			step = ms > SLEEP_STEP_MS ? SLEEP_STEP_MS : ms;
		struct timespec ts = { 0, step * 1000000L };

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

static long
backoff(sender *s)
{
	uint64_t r = s->sc->random_fn != NULL ? s->sc->random_fn(s->sc->hook_arg) :
											next_random(&s->rng);

	return tda_backoff_ms(s->sc->backoff_base_ms, s->sc->backoff_max_ms, s->in_a_row++, r);
}

/* Settle record i as REJECTED or given up; reason from a format. */
static void
settle(sender *s, size_t i, tda_send_outcome outcome, const char *code,
	   const char *fmt, ...) TDC_PRINTF(5, 6);

static void
settle(sender *s, size_t i, tda_send_outcome outcome, const char *code, const char *fmt, ...)
{
	tda_send_result *r = &s->results[i];
	va_list			 ap;

	r->outcome = outcome;
	snprintf(r->error_code, sizeof(r->error_code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

/* Records that can never be sent are REJECTED before any call. */
static void
reject_unsendable(sender *s, tda_send_call *step)
{
	size_t i;

	for (i = 0; i < s->n; i++)
	{
		tda_error  err;
		tda_status st = tda_kinesis_check_record(&s->records[i], &err);

		if (st == TDA_OK)
			continue;
		settle(s, i, TDA_SEND_REJECTED, tda_status_name(st), "%s", err.detail);
		s->work[s->nwork++] = i;
	}
	step->nrecords = step->rejected = s->nwork;
	step->records = s->work;
}

/* Pick the next call's records; false when nothing is left. */
static bool
pick(sender *s)
{
	const size_t *src;
	size_t		  nsrc;
	size_t		  bytes = 0;
	size_t		  k;

	if (s->nwork == 0)
	{
		s->limit = TDA_KINESIS_MAX_RECORDS;
		while (s->next < s->n && s->results[s->next].outcome != TDA_SEND_NOT_SENT)
			s->next++;
		if (s->next >= s->n)
			return false;
	}
	s->from_work = s->nwork > 0;
	src = s->from_work ? s->work : NULL;
	nsrc = s->from_work ? s->nwork : s->n - s->next;
	s->ncall = 0;
	for (k = 0; k < nsrc && s->ncall < s->limit; k++)
	{
		size_t i = src != NULL ? src[k] : s->next + k;
		size_t sz;

		if (src == NULL && s->results[i].outcome != TDA_SEND_NOT_SENT)
			continue; /* rejected unsent */
		sz = tda_kinesis_record_bytes(&s->records[i]);
		if (!tda_kinesis_call_fits(s->ncall + 1, bytes + sz))
			break;
		bytes += sz;
		s->batch[s->ncall] = s->records[i];
		s->call[s->ncall++] = i;
	}
	if (!s->from_work)
		s->next += k;
	return s->ncall > 0;
}

/* The work list after a call: its retries, then what was queued behind it. */
static void
requeue(sender *s, size_t nretry)
{
	if (s->from_work)
	{
		memmove(s->work + nretry, s->work + s->ncall, (s->nwork - s->ncall) * sizeof(size_t));
		s->nwork = s->nwork - s->ncall + nretry;
	}
	else
		s->nwork = nretry;
	memcpy(s->work, s->retry, nretry * sizeof(size_t));
}

/* A record of this call failed transiently: keep it, or give it up. */
static bool
retry_or_give_up(sender *s, size_t i, const char *code, const char *why, tda_status st)
{
	unsigned max = s->sc->max_attempts;

	if (max == 0 || s->results[i].attempts < max)
		return true;
	settle(s, i, TDA_SEND_NOT_SENT, code, "not accepted after %u attempts: %s",
		   s->results[i].attempts, why);
	s->gave_up = st;
	s->ngave_up++;
	return false;
}

/* A call that failed as a whole; fills the step. */
static void
call_failed(sender *s, const tda_error *err, tda_send_call *step)
{
	const char *content = content_error(err);
	size_t		nretry = 0;
	size_t		k;

	if (content != NULL)
	{
		if (s->ncall == 1)
		{
			settle(s, s->call[0], TDA_SEND_REJECTED, content, "rejected by Kinesis: %s",
				   err->detail);
			step->rejected = 1;
			if (s->from_work)
				requeue(s, 0);
			s->limit = TDA_KINESIS_MAX_RECORDS;
		}
		else
		{
			if (!s->from_work)
			{
				memcpy(s->retry, s->call, s->ncall * sizeof(size_t));
				requeue(s, s->ncall);
			}
			s->limit = (s->ncall + 1) / 2;
		}
		return;
	}
	for (k = 0; k < s->ncall; k++)
	{
		size_t i = s->call[k];

		s->results[i].attempts++;
		if (retry_or_give_up(s, i, tda_status_name((tda_status) err->status), err->detail,
							 (tda_status) err->status))
			s->retry[nretry++] = i;
		else
			step->gave_up++;
	}
	step->retrying = nretry;
	requeue(s, nretry);
	step->backoff_ms = backoff(s);
}

/* A call Kinesis answered per record; fills the step. */
static void
call_answered(sender *s, tda_send_call *step)
{
	size_t nretry = 0;
	size_t k;

	for (k = 0; k < s->ncall; k++)
	{
		size_t				  i = s->call[k];
		tda_send_result		 *r = &s->results[i];
		const tda_put_result *p = &s->put[k];

		r->attempts++;
		if (p->ok)
		{
			r->outcome = TDA_SEND_ACCEPTED;
			memcpy(r->sequence_number, p->sequence_number, sizeof(r->sequence_number));
			memcpy(r->shard_id, p->shard_id, sizeof(r->shard_id));
			r->error_code[0] = '\0';
			step->accepted++;
		}
		else if (!transient_code(p->error_code))
		{
			settle(s, i, TDA_SEND_REJECTED, p->error_code, "rejected by Kinesis: %s",
				   p->error_code);
			step->rejected++;
		}
		else
		{
			snprintf(r->error_code, sizeof(r->error_code), "%s", p->error_code);
			step->retry_code = r->error_code;
			if (retry_or_give_up(s, i, p->error_code, p->error_code, TDA_ERR_HTTP))
				s->retry[nretry++] = i;
			else
				step->gave_up++;
		}
	}
	step->retrying = nretry;
	requeue(s, nretry);
	if (nretry > 0 || step->gave_up > 0)
		step->backoff_ms = backoff(s);
	else
		s->in_a_row = 0;
}

static tda_status
stopped(const sender *s, tda_error *err, const char *why)
{
	tda_status status = tda_error_set(err, TDA_ERR_CANCELLED,
									  "Writing to stream \"%s\" %s; records not confirmed may or may not have been stored.",
									  s->sc->stream, why);

	tdc_error_set_message(err, "write to Kinesis stream \"%s\" was cancelled", s->sc->stream);
	return status;
}

static tda_status
run(sender *s, tda_error *err)
{
	tda_send_call step;

	memset(&step, 0, sizeof(step));
	step.retry_code = "";
	reject_unsendable(s, &step);
	if (step.nrecords > 0 && s->sc->progress != NULL &&
		!s->sc->progress(s->sc->progress_arg, &step, s->results))
		return stopped(s, err, "was stopped by its caller");
	s->nwork = 0;

	for (;;)
	{
		tda_error  call_err;
		tda_status st;

		if (cancelled(s))
			return stopped(s, err, "was cancelled");
		if (!pick(s))
			break;
		memset(&step, 0, sizeof(step));
		step.retry_code = "";
		step.call = ++s->calls;
		step.attempt = s->in_a_row + 1;
		tdc_error_clear(&call_err);
		st = tda_kinesis_put_records(s->sc->aws, s->sc->stream, s->batch, s->ncall, s->put,
									 &call_err);
		if (st == TDA_ERR_CANCELLED || cancelled(s))
		{
			size_t k;

			for (k = 0; k < s->ncall; k++)
				s->results[s->call[k]].attempts++;
			return stopped(s, err, "was cancelled");
		}
		step.nrecords = s->ncall;
		step.records = s->call;
		step.status = st;
		step.error = st == TDA_OK ? NULL : &call_err;
		if (st == TDA_OK)
			call_answered(s, &step);
		else
			call_failed(s, &call_err, &step);
		if (s->nwork == 0 && s->next >= s->n)
			step.backoff_ms = 0; /* nothing left to wait for */
		if (s->sc->progress != NULL && !s->sc->progress(s->sc->progress_arg, &step, s->results))
			return stopped(s, err, "was stopped by its caller");
		pause_ms(s, step.backoff_ms);
	}
	if (s->ngave_up > 0)
		return tda_error_set(err, s->gave_up,
							 "%zu records were not accepted by stream \"%s\" after %u attempts each.",
							 s->ngave_up, s->sc->stream, s->sc->max_attempts);
	return TDA_OK;
}

tda_status
tda_kinesis_send(const tda_sender_config *sc, const tda_record *records, size_t n,
				 tda_send_result *results, tda_error *err)
{
	sender	   s;
	tda_status status;

	tdc_error_clear(err);
	if (n > 0)
		memset(results, 0, n * sizeof(*results));
	if (n == 0)
		return TDA_OK;
	status = tda_kinesis_check_config(sc->aws, sc->stream, err);
	if (status != TDA_OK)
		return status;

	memset(&s, 0, sizeof(s));
	s.sc = sc;
	s.records = records;
	s.n = n;
	s.results = results;
	s.limit = TDA_KINESIS_MAX_RECORDS;
	s.rng = seed_random(&s);
	s.work = tdc_calloc_array(n, sizeof(size_t));
	s.call = tdc_calloc_array(TDA_KINESIS_MAX_RECORDS, sizeof(size_t));
	s.retry = tdc_calloc_array(TDA_KINESIS_MAX_RECORDS, sizeof(size_t));
	s.batch = tdc_calloc_array(TDA_KINESIS_MAX_RECORDS, sizeof(tda_record));
	s.put = tdc_calloc_array(TDA_KINESIS_MAX_RECORDS, sizeof(tda_put_result));
	if (s.work == NULL || s.call == NULL || s.retry == NULL || s.batch == NULL || s.put == NULL)
		status = tda_error_nomem(err);
	else
		status = run(&s, err);
	tdc_free(s.work);
	tdc_free(s.call);
	tdc_free(s.retry);
	tdc_free(s.batch);
	tdc_free(s.put);
	return status;
}
