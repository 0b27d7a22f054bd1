/*
 * test_sender.c — tests of the Kinesis sender (tda_kinesis_send), of the
 * ride id → partition key rule and of the backoff.
 *
 * Against real moto Kinesis (signature checking on; test/run.sh starts it
 * and this program creates its streams with signed CreateStream calls):
 * batching over 500 records and over 5 MiB, records refused unsent (over
 * 1 MiB with the key, bad partition keys), every accepted record read back
 * with GetRecords, cancellation after a call.
 *
 * moto never fails a record or throttles a call, so the retry rules are
 * tested against a FAULT INJECTOR: an in-process HTTP responder (a thread
 * of this program) that speaks PutRecords and answers as scripted: per
 * record throttling once or always, permanent per-record codes, whole-call
 * 400 throttling and 500s, and 400 ValidationException for any call that
 * carries a poison record.  It records every call's partition keys, so
 * that the tests see exactly which records each call carried.  Sleep and
 * randomness are injected (the delays asked for are recorded, nothing
 * sleeps) except in the test of the default, cancellable sleep.
 *
 * Without servers (no AWS_ENDPOINT_URL) only the offline and fault
 * injector tests run.
 */
#define _GNU_SOURCE /* memmem */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "tda_aws.h"
#include "tdc_test.h" /* test_cond(), test_report() */

int td_tests_passed = 0;
int td_tests_failed = 0;

#define MAX_CALLS 256
#define MAX_ACCEPTED 8192

/* ---- FAULT INJECTOR: a scripted PutRecords responder ------------------- */

typedef struct fault_injector
{
	int				fd;
	int				port;
	pthread_t		thread;
	pthread_mutex_t mu;
	/* the script */
	int			throttle_calls; /* the first N calls: HTTP 400 throttling */
	int			error500_calls; /* the first N calls: HTTP 500 */
	const char *poison;			/* a call carrying it: HTTP 400 ValidationException */
	const char *fail_once[8];	/* keys throttled the first time they come */
	bool		failed_once[8];
	const char *bad_prefix;		 /* keys refused with KMSAccessDeniedException */
	bool		always_throttle; /* every entry throttled */
	/* what it saw */
	int	  ncalls;
	char *calls[MAX_CALLS]; /* each call's keys, comma-separated */
	int	  naccepted;
	char *accepted[MAX_ACCEPTED];
} fault_injector;

static fault_injector fi;

static void
fi_reset(void)
{
	int i;

	pthread_mutex_lock(&fi.mu);
	for (i = 0; i < fi.ncalls; i++)
		free(fi.calls[i]);
	for (i = 0; i < fi.naccepted; i++)
		free(fi.accepted[i]);
	fi.ncalls = fi.naccepted = 0;
	fi.throttle_calls = fi.error500_calls = 0;
	fi.poison = fi.bad_prefix = NULL;
	memset(fi.fail_once, 0, sizeof(fi.fail_once));
	memset(fi.failed_once, 0, sizeof(fi.failed_once));
	fi.always_throttle = false;
	pthread_mutex_unlock(&fi.mu);
}

/* Times key was accepted by the fault injector. */
static int
fi_accepted(const char *key)
{
	int i;
	int n = 0;

	for (i = 0; i < fi.naccepted; i++)
		n += strcmp(fi.accepted[i], key) == 0;
	return n;
}

static bool
fi_fail_once(const char *key)
{
	int i;

	for (i = 0; i < 8 && fi.fail_once[i] != NULL; i++)
		if (strcmp(fi.fail_once[i], key) == 0 && !fi.failed_once[i])
		{
			fi.failed_once[i] = true;
			return true;
		}
	return false;
}

/* The answer to one PutRecords body; *status gets the HTTP status. */
static char *
fi_answer(const char *body, size_t len, int *status)
{
	cJSON		*req = cJSON_ParseWithLength(body, len);
	cJSON		*out = cJSON_CreateObject();
	cJSON		*arr = cJSON_AddArrayToObject(out, "Records");
	const cJSON *rec;
	char		 keys[65536] = "";
	int			 failed = 0;
	int			 call;
	char		*text;

	pthread_mutex_lock(&fi.mu);
	call = fi.ncalls;
	cJSON_ArrayForEach(rec, cJSON_GetObjectItem(req, "Records"))
	{
		const char *key = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "PartitionKey"));

		if (keys[0] != '\0')
			strncat(keys, ",", sizeof(keys) - strlen(keys) - 1);
		strncat(keys, key ? key : "?", sizeof(keys) - strlen(keys) - 1);
	}
	if (fi.ncalls < MAX_CALLS)
		fi.calls[fi.ncalls++] = strdup(keys);
	*status = 200;
	if (call < fi.throttle_calls)
	{
		*status = 400;
		text = strdup("{\"__type\":\"ProvisionedThroughputExceededException\","
					  "\"message\":\"Rate exceeded (injected)\"}");
		goto done;
	}
	if (call < fi.error500_calls)
	{
		*status = 500;
		text = strdup("{\"__type\":\"InternalFailure\"}");
		goto done;
	}
	if (fi.poison != NULL)
	{
		char needle[128];

		snprintf(needle, sizeof(needle), "\"PartitionKey\":\"%s\"", fi.poison);
		if (memmem(body, len, needle, strlen(needle)) != NULL)
		{
			*status = 400;
			text = strdup("{\"__type\":\"ValidationException\","
						  "\"message\":\"1 validation error detected (injected)\"}");
			goto done;
		}
	}
	cJSON_ArrayForEach(rec, cJSON_GetObjectItem(req, "Records"))
	{
		const char *key = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "PartitionKey"));
		cJSON	   *o = cJSON_CreateObject();

		key = key ? key : "?";
		if (fi.always_throttle || fi_fail_once(key))
		{
			cJSON_AddStringToObject(o, "ErrorCode", "ProvisionedThroughputExceededException");
			cJSON_AddStringToObject(o, "ErrorMessage", "Rate exceeded for shard (injected)");
			failed++;
		}
		else if (fi.bad_prefix != NULL && strncmp(key, fi.bad_prefix, strlen(fi.bad_prefix)) == 0)
		{
			cJSON_AddStringToObject(o, "ErrorCode", "KMSAccessDeniedException");
			cJSON_AddStringToObject(o, "ErrorMessage", "denied (injected)");
			failed++;
		}
		else
		{
			char seq[32];

			snprintf(seq, sizeof(seq), "%d", 1000 + fi.naccepted);
			cJSON_AddStringToObject(o, "SequenceNumber", seq);
			cJSON_AddStringToObject(o, "ShardId", "shardId-000000000007");
			if (fi.naccepted < MAX_ACCEPTED)
				fi.accepted[fi.naccepted++] = strdup(key);
		}
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddNumberToObject(out, "FailedRecordCount", failed);
	text = cJSON_PrintUnformatted(out);
done:
	pthread_mutex_unlock(&fi.mu);
	cJSON_Delete(req);
	cJSON_Delete(out);
	return text;
}

/* Content-Length of a header block (case-insensitive), 0 if none. */
static size_t
content_length(const char *head, size_t len)
{
	size_t i;

	for (i = 0; i + 15 < len; i++)
		if (strncasecmp(head + i, "\r\nContent-Length:", 17) == 0)
			return (size_t) strtoul(head + i + 17, NULL, 10);
	return 0;
}

static void
fi_serve(int c)
{
	size_t cap = 1 << 16;
	size_t len = 0;
	char  *buf = malloc(cap);
	char  *end = NULL;
	size_t need = 0;
	int	   status;
	char  *answer;
	char   head[256];

	for (;;)
	{
		ssize_t got;

		if (len + 4096 > cap)
		{
			char *bigger = realloc(buf, cap * 2);

			if (bigger == NULL)
				goto out;
			buf = bigger;
			cap *= 2;
		}
		got = recv(c, buf + len, cap - len - 1, 0);
		if (got <= 0)
			goto out;
		len += (size_t) got;
		buf[len] = '\0';
		if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL)
			need = (size_t) (end - buf) + 4 + content_length(buf, (size_t) (end - buf) + 2);
		if (end != NULL && len >= need)
			break;
	}
	answer = fi_answer(end + 4, need - (size_t) (end - buf) - 4, &status);
	snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Type: application/x-amz-json-1.1\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, strlen(answer));
	if (send(c, head, strlen(head), MSG_NOSIGNAL) > 0)
		(void) send(c, answer, strlen(answer), MSG_NOSIGNAL);
	free(answer);
out:
	free(buf);
	close(c);
}

static void *
fi_main(void *arg)
{
	(void) arg;
	for (;;)
	{
		int c = accept(fi.fd, NULL, NULL);

		if (c < 0)
			return NULL; /* shut down */
		fi_serve(c);
	}
}

static bool
fi_start(void)
{
	struct sockaddr_in a;
	socklen_t		   len = sizeof(a);

	pthread_mutex_init(&fi.mu, NULL);
	fi.fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fi.fd < 0 || bind(fi.fd, (struct sockaddr *) &a, sizeof(a)) != 0 ||
		listen(fi.fd, 16) != 0 || getsockname(fi.fd, (struct sockaddr *) &a, &len) != 0)
		return false;
	fi.port = ntohs(a.sin_port);
	return pthread_create(&fi.thread, NULL, fi_main, NULL) == 0;
}

static void
fi_stop(void)
{
	shutdown(fi.fd, SHUT_RDWR);
	close(fi.fd);
	pthread_join(fi.thread, NULL);
	fi_reset();
	pthread_mutex_destroy(&fi.mu);
}

/* ---- injected sleep and randomness ---------------------------------- */

typedef struct hooks
{
	long	 slept[64];
	int		 nslept;
	uint64_t random[8]; /* returned in turn */
	int		 nrandom;
	int		 next_random;
} hooks;

static void
hook_sleep(void *arg, long ms)
{
	hooks *h = arg;

	if (h->nslept < 64)
		h->slept[h->nslept++] = ms;
}

static uint64_t
hook_random(void *arg)
{
	hooks *h = arg;

	if (h->nrandom == 0)
		return 0;
	return h->random[h->next_random++ % h->nrandom];
}

/* ---- progress ------------------------------------------------------- */

typedef struct progress
{
	int		 steps;
	int		 calls;
	size_t	 sizes[MAX_CALLS]; /* records per call */
	size_t	 refused_unsent;
	size_t	 retrying;
	unsigned attempts[MAX_CALLS];
	int		 stop_after; /* return false after this many calls (0: never) */
} progress;

static bool
on_progress(void *arg, const tda_send_call *call, const tda_send_result *results)
{
	progress *p = arg;

	(void) results;
	p->steps++;
	if (call->call == 0)
		p->refused_unsent += call->rejected;
	else if (p->calls < MAX_CALLS)
	{
		p->attempts[p->calls] = call->attempt;
		p->sizes[p->calls++] = call->nrecords;
	}
	p->retrying += call->retrying;
	return p->stop_after == 0 || p->calls < p->stop_after;
}

/* ---- records -------------------------------------------------------- */

typedef struct recs
{
	tda_record		*r;
	tda_send_result *res;
	char		   **keys;
	char		   **data;
	size_t			 n;
} recs;

/* n records "<prefix><i>" of `size` bytes each (JSON-ish text). */
static recs
make_recs(size_t n, const char *prefix, size_t size)
{
	recs   x;
	size_t i;

	x.n = n;
	x.r = calloc(n, sizeof(tda_record));
	x.res = calloc(n, sizeof(tda_send_result));
	x.keys = calloc(n, sizeof(char *));
	x.data = calloc(n, sizeof(char *));
	for (i = 0; i < n; i++)
	{
		char key[64];

		snprintf(key, sizeof(key), "%s%zu", prefix, i);
		x.keys[i] = strdup(key);
		x.data[i] = malloc(size + 1);
		memset(x.data[i], 'a' + (int) (i % 26), size);
		if (size > 16)
			snprintf(x.data[i], 16, "{\"i\":%zu}", i);
		x.data[i][size] = '\0';
		x.r[i].data = x.data[i];
		x.r[i].len = size;
		x.r[i].partition_key = x.keys[i];
	}
	return x;
}

static void
free_recs(recs *x)
{
	size_t i;

	for (i = 0; i < x->n; i++)
	{
		free(x->keys[i]);
		free(x->data[i]);
	}
	free(x->keys);
	free(x->data);
	free(x->r);
	free(x->res);
}

static size_t
count_outcome(const recs *x, tda_send_outcome o)
{
	size_t i;
	size_t n = 0;

	for (i = 0; i < x->n; i++)
		n += x->res[i].outcome == o;
	return n;
}

/* ---- offline: partition keys and backoff ----------------------------- */

static void
test_partition_keys(void)
{
	static const struct
	{
		const char *json;
		const char *key; /* NULL: refused */
	} cases[] = {
		{ "256", "256" },
		{ "256.0", "256" },
		{ "2.56e2", "256" },
		{ "25600e-2", "256" },
		{ "1e+17", "100000000000000000" },
		{ "9007199254740993", "9007199254740993" },
		{ "9223372036854775807", "9223372036854775807" },
		{ "-9223372036854775808", "-9223372036854775808" },
		{ "9223372036854775808", NULL },
		{ "-9223372036854775809", NULL },
		{ "1e19", NULL },
		{ "1e999999999", NULL },
		{ "0", "0" },
		{ "-0", "0" },
		{ "0e5", "0" },
		{ "-12", "-12" },
		{ "1.5", NULL },
		{ "1e-1", NULL },
		{ "01", NULL },
		{ "1.", NULL },
		{ ".5", NULL },
		{ "1e", NULL },
		{ "+1", NULL },
		{ "12abc", NULL },
		{ "null", NULL },
		{ "true", NULL },
		{ "", NULL },
		{ "\"ride-20002\"", "ride-20002" },
		{ "\"a\\\"b\\n\"", "a\"b\n" },
		{ "\"\"", NULL },
		{ "\"unterminated", NULL },
		{ "[1]", NULL },
	};
	char	  key[TDA_KINESIS_MAX_KEY_LEN + 1];
	char	  json[600];
	char	  d[256];
	tda_error err;
	size_t	  i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		tda_status st = tda_partition_key_from_ride_id(cases[i].json, key, &err);

		snprintf(d, sizeof(d), "partition key of ride id %s -> %s", cases[i].json,
				 cases[i].key ? cases[i].key : "refused");
		if (cases[i].key != NULL)
			test_cond(d, st == TDA_OK && strcmp(key, cases[i].key) == 0);
		else
			test_cond(d, st == TDA_ERR_CONFIG && key[0] == '\0' && err.detail[0] != '\0');
	}
	test_cond("partition key of NULL refused",
			  tda_partition_key_from_ride_id(NULL, key, &err) == TDA_ERR_CONFIG);
	json[0] = '"';
	memset(json + 1, 'k', 256);
	strcpy(json + 257, "\"");
	test_cond("a 256-character string ride id is its key",
			  tda_partition_key_from_ride_id(json, key, &err) == TDA_OK && strlen(key) == 256);
	memset(json + 1, 'k', 257);
	strcpy(json + 258, "\"");
	test_cond("a 257-character string ride id is refused",
			  tda_partition_key_from_ride_id(json, key, &err) == TDA_ERR_CONFIG &&
				  tdc_test_contains(err.detail, "257"));
}

static void
test_backoff(void)
{
	int	 a;
	bool in_bounds = true;
	bool ends_at_max = true;

	test_cond("backoff: base 0 is no delay", tda_backoff_ms(0, 5000, 3, 12345) == 0);
	test_cond("backoff: attempt 0, random 0 -> base/2", tda_backoff_ms(100, 5000, 0, 0) == 50);
	test_cond("backoff: attempt 0, random at the top -> base",
			  tda_backoff_ms(100, 5000, 0, 50) == 100);
	test_cond("backoff: doubles per attempt", tda_backoff_ms(100, 5000, 3, 400) == 800);
	test_cond("backoff: capped at max", tda_backoff_ms(100, 5000, 40, 2500) == 5000 &&
											tda_backoff_ms(100, 5000, 40, 0) == 2500);
	test_cond("backoff: max below base is base", tda_backoff_ms(300, 10, 5, 150) == 300);
	for (a = 0; a < 64; a++)
	{
		uint64_t r = (uint64_t) a * UINT64_C(0x9E3779B97F4A7C15);
		long	 d = 100L << (a < 6 ? a : 6);
		long	 v;

		if (d > 5000)
			d = 5000;
		v = tda_backoff_ms(100, 5000, (unsigned) a, r);
		if (v < d / 2 || v > d)
			in_bounds = false;
		if (a >= 6 && (v < 2500 || v > 5000))
			ends_at_max = false;
	}
	test_cond("backoff: jitter within [d/2, d] for any random", in_bounds);
	test_cond("backoff: stays within [max/2, max] once capped", ends_at_max);
}

/* ---- against the fault injector -------------------------------------- */

static tda_config fault_aws;
static char		  fault_endpoint[64];

static tda_sender_config
fault_config(hooks *h, progress *p)
{
	tda_sender_config sc;

	memset(&fault_aws, 0, sizeof(fault_aws));
	fault_aws.aws_region = "eu-north-1";
	fault_aws.aws_endpoint_url = fault_endpoint;
	fault_aws.aws_access_key_id = "AKIDFAULTINJECTOR";
	fault_aws.aws_secret_access_key = "fault-injector-secret";
	fault_aws.timeout_ms = 10000;
	memset(&sc, 0, sizeof(sc));
	sc.aws = &fault_aws;
	sc.stream = "td_fault_stream";
	sc.backoff_base_ms = 100;
	sc.backoff_max_ms = 1000;
	sc.progress = on_progress;
	sc.progress_arg = p;
	sc.sleep_fn = hook_sleep;
	sc.random_fn = hook_random;
	sc.hook_arg = h;
	memset(h, 0, sizeof(*h));
	memset(p, 0, sizeof(*p));
	fi_reset();
	return sc;
}

/* One scenario: the sender's settings, its hooks and progress, the records. */
typedef struct scenario
{
	hooks			  h;
	progress		  p;
	tda_sender_config sc;
	recs			  x;
	tda_error		  err;
} scenario;

static void
fault_start(scenario *t, size_t n, const char *prefix, size_t size)
{
	t->sc = fault_config(&t->h, &t->p);
	t->x = make_recs(n, prefix, size);
}

/* A new script: the injector, hooks and progress reset; t->sc kept. */
static void
fault_reset(scenario *t)
{
	(void) fault_config(&t->h, &t->p);
}

static tda_status
send_all(scenario *t)
{
	return tda_kinesis_send(&t->sc, t->x.r, t->x.n, t->x.res, &t->err);
}

static void
test_exact_retry(void)
{
	scenario   t;
	tda_status st;

	fault_start(&t, 10, "k", 40);
	fi.fail_once[0] = "k2";
	fi.fail_once[1] = "k7";
	t.h.random[0] = 0;
	t.h.nrandom = 1;
	st = send_all(&t);
	test_cond("partial failure: all accepted in the end",
			  st == TDA_OK && count_outcome(&t.x, TDA_SEND_ACCEPTED) == 10);
	test_cond("partial failure: 2 calls", fi.ncalls == 2 && t.p.calls == 2);
	test_cond("partial failure: the first call carried all 10",
			  fi.ncalls >= 1 && strcmp(fi.calls[0], "k0,k1,k2,k3,k4,k5,k6,k7,k8,k9") == 0);
	test_cond("partial failure: the retry carried exactly the failed entries",
			  fi.ncalls >= 2 && strcmp(fi.calls[1], "k2,k7") == 0);
	test_cond("partial failure: each record accepted once",
			  fi_accepted("k0") == 1 && fi_accepted("k2") == 1 && fi_accepted("k7") == 1);
	test_cond("partial failure: attempts counted per record",
			  t.x.res[2].attempts == 2 && t.x.res[7].attempts == 2 && t.x.res[0].attempts == 1);
	test_cond("partial failure: sequence number and shard id reported",
			  t.x.res[2].sequence_number[0] != '\0' &&
				  strcmp(t.x.res[2].shard_id, "shardId-000000000007") == 0);
	test_cond("partial failure: one backoff of base/2 (random 0)",
			  t.h.nslept == 1 && t.h.slept[0] == 50);
	test_cond("partial failure: progress counted 2 retries", t.p.retrying == 2);
	free_recs(&t.x);
}

static void
test_throttled_calls(void)
{
	scenario   t;
	tda_status st;
	int		   i;
	bool	   same = true;

	fault_start(&t, 7, "t", 40);
	fi.throttle_calls = 5;
	t.h.random[0] = UINT64_MAX; /* anywhere in the range */
	t.h.random[1] = 0;
	t.h.nrandom = 2;
	st = send_all(&t);
	test_cond("throttled calls: retried until accepted",
			  st == TDA_OK && count_outcome(&t.x, TDA_SEND_ACCEPTED) == 7);
	test_cond("throttled calls: 6 calls", fi.ncalls == 6);
	for (i = 1; i < fi.ncalls; i++)
		same = same && strcmp(fi.calls[i], fi.calls[0]) == 0;
	test_cond("throttled calls: every retry carried the same records", same);
	test_cond("throttled calls: 5 backoffs", t.h.nslept == 5);
	/* d = 100, 200, 400, 800, 1000 (max); random alternates top / bottom */
	test_cond("throttled calls: backoff with jitter within [d/2, d], doubling to the cap",
			  t.h.slept[0] >= 50 && t.h.slept[0] <= 100 && t.h.slept[1] == 100 &&
				  t.h.slept[2] >= 200 && t.h.slept[2] <= 400 && t.h.slept[3] == 400 &&
				  t.h.slept[4] >= 500 && t.h.slept[4] <= 1000);
	test_cond("throttled calls: progress says which attempt",
			  t.p.attempts[0] == 1 && t.p.attempts[4] == 5 && t.p.attempts[5] == 6);

	/* the top of the range exactly: random = d - d/2 */
	fault_reset(&t);
	fi.throttle_calls = 1;
	t.h.random[0] = 50;
	t.h.nrandom = 1;
	st = send_all(&t);
	test_cond("throttled calls: jitter reaches d", st == TDA_OK && t.h.nslept == 1 &&
													   t.h.slept[0] == 100);

	fault_reset(&t);
	fi.error500_calls = 2;
	st = send_all(&t);
	test_cond("HTTP 500: retried", st == TDA_OK && fi.ncalls == 3 && t.h.nslept == 2);
	free_recs(&t.x);
}

static void
test_content_isolation(void)
{
	scenario   t;
	tda_status st;
	size_t	   i;
	bool	   once = true;

	fault_start(&t, 16, "c", 40);
	fi.poison = "c11";
	st = send_all(&t);
	test_cond("content 400: the call returns OK (every record settled)", st == TDA_OK);
	test_cond("content 400: the record at fault is rejected",
			  t.x.res[11].outcome == TDA_SEND_REJECTED &&
				  strcmp(t.x.res[11].error_code, "ValidationException") == 0 &&
				  tdc_test_contains(t.x.res[11].reason, "rejected by Kinesis") &&
				  tdc_test_contains(t.x.res[11].reason, "ValidationException"));
	test_cond("content 400: the other 15 are accepted",
			  count_outcome(&t.x, TDA_SEND_ACCEPTED) == 15);
	for (i = 0; i < t.x.n; i++)
		if (i != 11 && fi_accepted(t.x.keys[i]) != 1)
			once = false;
	test_cond("content 400: each other record accepted exactly once", once);
	test_cond("content 400: isolated by halving (at most 1 + 2 log2 16 + 2 calls)",
			  fi.ncalls <= 11 && fi.ncalls >= 5);
	test_cond("content 400: no backoff while halving", t.h.nslept == 0);
	if (getenv("TDT_VERBOSE") != NULL)
		for (i = 0; i < (size_t) fi.ncalls; i++)
			printf("  call %zu: %s\n", i + 1, fi.calls[i]);

	fault_reset(&t);
	fi.bad_prefix = "c3";
	st = send_all(&t);
	test_cond("permanent per-record code: rejected, not retried",
			  st == TDA_OK && t.x.res[3].outcome == TDA_SEND_REJECTED &&
				  strcmp(t.x.res[3].error_code, "KMSAccessDeniedException") == 0 &&
				  tdc_test_contains(t.x.res[3].reason, "KMSAccessDeniedException") && fi.ncalls == 1 &&
				  t.h.nslept == 0 && count_outcome(&t.x, TDA_SEND_ACCEPTED) == 15);
	free_recs(&t.x);
}

static void
test_give_up(void)
{
	scenario   t;
	tda_status st;

	fault_start(&t, 4, "g", 40);
	fi.always_throttle = true;
	t.sc.max_attempts = 3;
	st = send_all(&t);
	test_cond("max attempts: stops after 3 calls", fi.ncalls == 3 && t.h.nslept == 2);
	test_cond("max attempts: records not sent, with the reason",
			  st == TDA_ERR_HTTP && count_outcome(&t.x, TDA_SEND_NOT_SENT) == 4 &&
				  t.x.res[0].attempts == 3 && tdc_test_contains(t.x.res[0].reason, "after 3 attempts") &&
				  strcmp(t.x.res[0].error_code, "ProvisionedThroughputExceededException") == 0);
	test_cond("max attempts: the error says how many", tdc_test_contains(t.err.detail, "4 records"));

	fault_reset(&t);
	fi.throttle_calls = 1000;
	t.sc.max_attempts = 2;
	st = send_all(&t);
	test_cond("max attempts: whole-call failures too",
			  st == TDA_ERR_HTTP && fi.ncalls == 2 && count_outcome(&t.x, TDA_SEND_NOT_SENT) == 4 &&
				  tdc_test_contains(t.x.res[1].reason, "HTTP 400"));

	fault_reset(&t);
	fi.fail_once[0] = "g1";
	t.sc.max_attempts = 1;
	st = send_all(&t);
	test_cond("max attempts 1: a throttled record is given up, the others accepted",
			  st == TDA_ERR_HTTP && fi.ncalls == 1 && t.x.res[1].outcome == TDA_SEND_NOT_SENT &&
				  count_outcome(&t.x, TDA_SEND_ACCEPTED) == 3);
	free_recs(&t.x);
}

static int
cancel_at_time(void *arg)
{
	return tdc_test_now_s() >= *(double *) arg;
}

static void
test_cancel_and_stop(void)
{
	scenario   t;
	tda_status st;
	double	   at;
	double	   t0;

	fault_start(&t, 1200, "s", 20);
	t.p.stop_after = 1;
	st = send_all(&t);
	test_cond("progress returning false stops after that call",
			  st == TDA_ERR_CANCELLED && fi.ncalls == 1 &&
				  count_outcome(&t.x, TDA_SEND_ACCEPTED) == 500 &&
				  count_outcome(&t.x, TDA_SEND_NOT_SENT) == 700);

	/* the default sleep polls the cancel callback: a 30 s backoff ends at once */
	fault_reset(&t);
	fi.always_throttle = true;
	t.sc.sleep_fn = NULL;
	t.sc.backoff_base_ms = 60000;
	t.sc.backoff_max_ms = 60000;
	at = tdc_test_now_s() + 0.5;
	fault_aws.cancel = cancel_at_time;
	fault_aws.cancel_arg = &at;
	t0 = tdc_test_now_s();
	st = tda_kinesis_send(&t.sc, t.x.r, 3, t.x.res, &t.err);
	t0 = tdc_test_now_s() - t0;
	test_cond("cancel during backoff: cancelled", st == TDA_ERR_CANCELLED && fi.ncalls == 1 &&
													  count_outcome(&t.x, TDA_SEND_NOT_SENT) >= 3);
	/* a functional bound far below the 30 s minimum backoff */
	test_cond("cancel during backoff: prompt", t0 < 3.0);
	test_cond("cancel: the error names the stream",
			  tdc_test_contains(t.err.detail, "td_fault_stream") && tdc_test_contains(t.err.message, "cancelled"));

	fault_reset(&t);
	t.sc.stream = "no such stream!";
	st = send_all(&t);
	test_cond("bad stream name: config error, nothing sent", st == TDA_ERR_CONFIG && fi.ncalls == 0);
	t.sc.stream = "td_fault_stream";
	fault_aws.aws_secret_access_key = NULL;
	st = send_all(&t);
	test_cond("no credentials: config error, nothing sent", st == TDA_ERR_CONFIG && fi.ncalls == 0);
	st = tda_kinesis_send(&t.sc, t.x.r, 0, t.x.res, &t.err);
	test_cond("no records: OK", st == TDA_OK);
	free_recs(&t.x);
}

/* ---- against moto ----------------------------------------------------- */

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	size_t n = size * nmemb;

	return tdc_buf_append(arg, ptr, n) ? n : 0;
}

/* One signed Kinesis API call (a test helper); the parsed answer or NULL. */
static cJSON *
kinesis_api(const tda_config *c, const char *target, cJSON *request)
{
	CURL			  *curl = curl_easy_init();
	struct curl_slist *h = NULL;
	char			   sigv4[128];
	char			   header[128];
	char			  *text = cJSON_PrintUnformatted(request);
	tdc_buf			   b = { NULL, 0, 0 };
	long			   code = 0;
	cJSON			  *answer = NULL;

	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:kinesis", c->aws_region);
	snprintf(header, sizeof(header), "X-Amz-Target: Kinesis_20131202.%s", target);
	h = curl_slist_append(h, "Content-Type: application/x-amz-json-1.1");
	h = curl_slist_append(h, header);
	curl_easy_setopt(curl, CURLOPT_URL, c->aws_endpoint_url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text);
	curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(curl, CURLOPT_USERNAME, c->aws_access_key_id);
	curl_easy_setopt(curl, CURLOPT_PASSWORD, c->aws_secret_access_key);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	if (code == 200)
		answer = cJSON_Parse(b.data ? b.data : "{}");
	else
		printf("  %s -> HTTP %ld %s\n", target, code, b.data ? b.data : "");
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	cJSON_free(text);
	cJSON_Delete(request);
	tdc_buf_free(&b);
	return answer;
}

static bool
create_stream(const tda_config *c, const char *stream)
{
	cJSON *req = cJSON_CreateObject();
	cJSON *ans;

	cJSON_AddStringToObject(req, "StreamName", stream);
	cJSON_AddNumberToObject(req, "ShardCount", 2);
	ans = kinesis_api(c, "CreateStream", req);
	cJSON_Delete(ans);
	return ans != NULL;
}

/* Every record of the stream: how many per key, and the bytes of each. */
typedef struct stream_copy
{
	size_t	n;
	char  **keys;
	size_t *sizes;
} stream_copy;

static size_t
stream_count(const stream_copy *s, const char *key)
{
	size_t i;
	size_t n = 0;

	for (i = 0; i < s->n; i++)
		n += strcmp(s->keys[i], key) == 0;
	return n;
}

static void
stream_free(stream_copy *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->keys[i]);
	free(s->keys);
	free(s->sizes);
	memset(s, 0, sizeof(*s));
}

/* Room for `need` records in s; false when memory ran out. */
static bool
grow_copy(stream_copy *s, size_t need)
{
	char  **keys = realloc(s->keys, need * sizeof(char *));
	size_t *sizes;

	if (keys == NULL)
		return false;
	s->keys = keys;
	sizes = realloc(s->sizes, need * sizeof(size_t));
	if (sizes == NULL)
		return false;
	s->sizes = sizes;
	return true;
}

static stream_copy
read_stream(const tda_config *c, const char *stream)
{
	stream_copy	 out = { 0, NULL, NULL };
	cJSON		*req = cJSON_CreateObject();
	cJSON		*shards;
	const cJSON *shard;

	cJSON_AddStringToObject(req, "StreamName", stream);
	shards = kinesis_api(c, "ListShards", req);
	cJSON_ArrayForEach(shard, cJSON_GetObjectItem(shards, "Shards"))
	{
		cJSON *it;
		char  *iter;

		req = cJSON_CreateObject();
		cJSON_AddStringToObject(req, "StreamName", stream);
		cJSON_AddStringToObject(req, "ShardId",
								cJSON_GetStringValue(cJSON_GetObjectItem(shard, "ShardId")));
		cJSON_AddStringToObject(req, "ShardIteratorType", "TRIM_HORIZON");
		it = kinesis_api(c, "GetShardIterator", req);
		iter = it ? strdup(cJSON_GetStringValue(cJSON_GetObjectItem(it, "ShardIterator"))) : NULL;
		cJSON_Delete(it);
		while (iter != NULL)
		{
			cJSON		*got;
			const cJSON *rec;
			int			 nrec;
			const char	*next;

			req = cJSON_CreateObject();
			cJSON_AddStringToObject(req, "ShardIterator", iter);
			cJSON_AddNumberToObject(req, "Limit", 10000);
			got = kinesis_api(c, "GetRecords", req);
			free(iter);
			iter = NULL;
			if (got == NULL)
				break;
			nrec = cJSON_GetArraySize(cJSON_GetObjectItem(got, "Records"));
			if (!grow_copy(&out, out.n + (size_t) nrec + 1))
			{
				cJSON_Delete(got);
				break;
			}
			cJSON_ArrayForEach(rec, cJSON_GetObjectItem(got, "Records"))
			{
				const char *data = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "Data"));
				size_t		b64 = data ? strlen(data) : 0;
				size_t		pad = (b64 > 0 && data[b64 - 1] == '=') +
							 (b64 > 1 && data[b64 - 2] == '=');

				out.keys[out.n] = strdup(cJSON_GetStringValue(cJSON_GetObjectItem(rec, "PartitionKey")));
				out.sizes[out.n++] = b64 / 4 * 3 - pad;
			}
			next = cJSON_GetStringValue(cJSON_GetObjectItem(got, "NextShardIterator"));
			if (nrec > 0 && next != NULL)
				iter = strdup(next);
			cJSON_Delete(got);
		}
	}
	cJSON_Delete(shards);
	return out;
}

static tda_config moto;

static tda_sender_config
moto_config(const char *stream, progress *p)
{
	tda_sender_config sc;

	memset(&moto, 0, sizeof(moto));
	tda_config_from_env(&moto);
	moto.aws_endpoint_url = getenv("AWS_ENDPOINT_URL");
	moto.connect_timeout_ms = 2000;
	moto.timeout_ms = 60000;
	memset(&sc, 0, sizeof(sc));
	sc.aws = &moto;
	sc.stream = stream;
	sc.backoff_base_ms = 50;
	sc.backoff_max_ms = 500;
	sc.progress = on_progress;
	sc.progress_arg = p;
	memset(p, 0, sizeof(*p));
	return sc;
}

static void
moto_start(scenario *t, const char *stream, size_t n, const char *prefix, size_t size)
{
	t->sc = moto_config(stream, &t->p);
	t->x = make_recs(n, prefix, size);
}

static void
test_moto_batching(void)
{
	scenario	t;
	stream_copy s;
	tda_status	st;
	size_t		i;
	bool		once = true;
	bool		seq = true;

	moto_start(&t, "td_sender_batch", 1203, "b", 100);
	test_cond("moto: create stream td_sender_batch", create_stream(&moto, "td_sender_batch"));
	st = send_all(&t);
	if (st != TDA_OK)
		printf("  %s: %s\n", t.err.message, t.err.detail);
	test_cond("moto: 1203 records accepted", st == TDA_OK &&
												 count_outcome(&t.x, TDA_SEND_ACCEPTED) == 1203);
	test_cond("moto: in calls of 500, 500 and 203",
			  t.p.calls == 3 && t.p.sizes[0] == 500 && t.p.sizes[1] == 500 && t.p.sizes[2] == 203);
	for (i = 0; i < t.x.n; i++)
		if (t.x.res[i].sequence_number[0] == '\0' ||
			strncmp(t.x.res[i].shard_id, "shardId-", 8) != 0)
			seq = false;
	test_cond("moto: every record has a sequence number and a shard", seq);
	s = read_stream(&moto, "td_sender_batch");
	for (i = 0; i < t.x.n; i++)
		if (stream_count(&s, t.x.keys[i]) != 1)
			once = false;
	test_cond("moto: GetRecords returns each of the 1203 once", s.n == 1203 && once);
	stream_free(&s);
	free_recs(&t.x);
}

static void
test_moto_big(void)
{
	scenario	t;
	recs		y = make_recs(5, "e", 64);
	stream_copy s;
	tda_status	st;
	char	   *huge = malloc(TDA_KINESIS_MAX_RECORD_BYTES + 1);
	char		key256[257];
	char		key257[258];
	bool		sizes = true;
	size_t		i;

	moto_start(&t, "td_sender_big", 12, "big", 1000000);
	test_cond("moto: create stream td_sender_big", create_stream(&moto, "td_sender_big"));
	st = send_all(&t);
	if (st != TDA_OK)
		printf("  %s: %s\n", t.err.message, t.err.detail);
	test_cond("moto: 12 records of 1 MB accepted",
			  st == TDA_OK && count_outcome(&t.x, TDA_SEND_ACCEPTED) == 12);
	test_cond("moto: within 5 MiB per call: calls of 5, 5 and 2",
			  t.p.calls == 3 && t.p.sizes[0] == 5 && t.p.sizes[1] == 5 && t.p.sizes[2] == 2);

	/* refused unsent: over 1 MiB with the key, keys of 0 and 257 characters */
	memset(&t.p, 0, sizeof(t.p));
	memset(huge, 'x', TDA_KINESIS_MAX_RECORD_BYTES + 1);
	y.r[1].data = huge;
	y.r[1].len = TDA_KINESIS_MAX_RECORD_BYTES - strlen(y.keys[1]) + 1;
	memset(key256, 'k', 256);
	key256[256] = '\0';
	memset(key257, 'q', 257);
	key257[257] = '\0';
	y.r[2].partition_key = key256;
	y.r[3].partition_key = key257;
	y.r[4].partition_key = "";
	st = tda_kinesis_send(&t.sc, y.r, y.n, y.res, &t.err);
	test_cond("moto: the sendable records are accepted",
			  st == TDA_OK && y.res[0].outcome == TDA_SEND_ACCEPTED &&
				  y.res[2].outcome == TDA_SEND_ACCEPTED);
	test_cond("moto: a record of 1 MiB + 1 with its key is rejected unsent",
			  y.res[1].outcome == TDA_SEND_REJECTED && y.res[1].attempts == 0 &&
				  tdc_test_contains(y.res[1].reason, "too large") &&
				  strcmp(y.res[1].error_code, "TDA_ERR_TOO_LARGE") == 0);
	test_cond("moto: a 256-character partition key is accepted",
			  y.res[2].outcome == TDA_SEND_ACCEPTED);
	test_cond("moto: partition keys of 257 and 0 characters are rejected unsent",
			  y.res[3].outcome == TDA_SEND_REJECTED && y.res[3].attempts == 0 &&
				  tdc_test_contains(y.res[3].reason, "partition key") &&
				  y.res[4].outcome == TDA_SEND_REJECTED && y.res[4].attempts == 0);
	test_cond("moto: the refused records are reported before the one call",
			  t.p.refused_unsent == 3 && t.p.calls == 1 && t.p.sizes[0] == 2);

	s = read_stream(&moto, "td_sender_big");
	for (i = 0; i < t.x.n; i++)
		if (stream_count(&s, t.x.keys[i]) != 1)
			sizes = false;
	for (i = 0; i < s.n; i++)
		if (strncmp(s.keys[i], "big", 3) == 0 && s.sizes[i] != 1000000)
			sizes = false;
	test_cond("moto: the 1 MB records are in the stream, whole", sizes);
	test_cond("moto: the refused records are not in the stream",
			  stream_count(&s, "e1") == 0 && stream_count(&s, key257) == 0 &&
				  stream_count(&s, "e0") == 1 && stream_count(&s, key256) == 1 && s.n == 14);
	stream_free(&s);
	free(huge);
	free_recs(&t.x);
	free_recs(&y);
}

static int
cancel_after_first(void *arg)
{
	return ((progress *) arg)->calls >= 1;
}

static void
test_moto_cancel(void)
{
	scenario   t;
	tda_status st;

	moto_start(&t, "td_sender_batch", 1100, "x", 30);
	moto.cancel = cancel_after_first;
	moto.cancel_arg = &t.p;
	st = send_all(&t);
	test_cond("moto: cancelled after the first call",
			  st == TDA_ERR_CANCELLED && t.p.calls == 1 &&
				  count_outcome(&t.x, TDA_SEND_ACCEPTED) == 500 &&
				  count_outcome(&t.x, TDA_SEND_NOT_SENT) == 600 && t.x.res[600].attempts == 0);
	free_recs(&t.x);
}

int
main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_partition_keys();
	test_backoff();
	test_cond("fault injector: started", fi_start());
	snprintf(fault_endpoint, sizeof(fault_endpoint), "http://127.0.0.1:%d", fi.port);
	test_exact_retry();
	test_throttled_calls();
	test_content_isolation();
	test_give_up();
	test_cancel_and_stop();
	fi_stop();
	if (getenv("AWS_ENDPOINT_URL") != NULL && *getenv("AWS_ENDPOINT_URL") != '\0')
	{
		test_moto_batching();
		test_moto_big();
		test_moto_cancel();
	}
	else
		printf("(no servers: offline and fault injector tests only)\n");
	curl_global_cleanup();
	test_report();
	return td_tests_failed == 0 ? 0 : 1;
}
