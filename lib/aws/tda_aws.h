/*
 * tda_aws.h — the AWS library: talking to S3, the MLflow registry and
 * Kinesis over HTTP, in plain C.
 *
 * Allowed dependencies: the common library (tdc.h), libcurl, cJSON and
 * OpenSSL's libcrypto.  Never the model or statistics libraries, never
 * PostgreSQL.  Used by the extension (fetching bundles), the Lambda
 * (fetching its bundle, writing predictions) and the forwarder (writing
 * trip events).
 *
 * Files: tda_fetch.c (entry points), tda_uri.c, tda_http.c (one bounded
 * GET), tda_sigv4.c, tda_sha256.c, tda_s3.c, tda_mlflow.c, tda_kinesis.c
 * (one PutRecords call), tda_kinesis_sender.c (batching, retries),
 * tda_error.c; tda_internal.h is private.
 *
 * Fetching resolves and downloads a model URI:
 *
 *   s3://bucket/key           GetObject, SigV4-signed by libcurl
 *                             (CURLOPT_AWS_SIGV4), path-style against an
 *                             endpoint override (moto, LocalStack) or
 *                             virtual-host style against AWS
 *   models:/name@alias        MLflow REST: registered-models/alias, then the
 *   models:/name/version      version's tags "bundle_uri" (an s3:// URI) and
 *                             "bundle_sha256"; then the s3:// fetch above
 *
 * Every download is bounded (size, connect and total timeouts), can be
 * cancelled by a callback polled during the transfer, and is checked
 * against the expected sha256 when one is known (the MLflow tag, or the S3
 * object's x-amz-meta-sha256 metadata).  Errors are reported through
 * tda_error in PostgreSQL's style (short lower-case message, detail as a
 * sentence) and never contain a secret: neither the secret key, nor the
 * session token, nor an Authorization header.
 */
#ifndef TDA_AWS_H
#define TDA_AWS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "tdc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tda_status
{
	TDA_OK = 0,
	TDA_ERR_NOMEM,		 /* an allocation hook returned NULL */
	TDA_ERR_URI,		 /* not a URI this library fetches, or malformed */
	TDA_ERR_CONFIG,		 /* missing region, credentials, tracking URI */
	TDA_ERR_UNREACHABLE, /* DNS, connection refused, TLS failure */
	TDA_ERR_TIMEOUT,	 /* connect or total timeout */
	TDA_ERR_CANCELLED,	 /* the cancel callback asked to stop */
	TDA_ERR_DENIED,		 /* HTTP 401/403 (bad credentials, signature) */
	TDA_ERR_NOT_FOUND,	 /* HTTP 404: no such bucket, key, model, alias */
	TDA_ERR_HTTP,		 /* any other unexpected HTTP status */
	TDA_ERR_TOO_LARGE,	 /* the object exceeds max_bytes */
	TDA_ERR_CHECKSUM,	 /* the body's sha256 differs from the expected */
	TDA_ERR_PROTOCOL	 /* a response that does not parse as expected */
} tda_status;

/* Errors are the common library's; status holds a tda_status. */
typedef tdc_error tda_error;

const char *tda_status_name(tda_status status);


/* Where to fetch from and how; strings are borrowed, NULL or "" = unset. */
typedef struct tda_config
{
	const char *aws_region;		  /* e.g. "eu-north-1" (required for s3://) */
	const char *aws_endpoint_url; /* e.g. "http://127.0.0.1:5000"; unset = AWS */
	const char *aws_access_key_id;
	const char *aws_secret_access_key;
	const char *aws_session_token;	   /* sent as X-Amz-Security-Token */
	const char *mlflow_tracking_uri;   /* e.g. "http://127.0.0.1:5001" */
	const char *mlflow_tracking_token; /* optional bearer token */
	long		connect_timeout_ms;	   /* default 5000 when 0 */
	long		timeout_ms;			   /* whole transfer; default 60000 when 0 */
	size_t		max_bytes;			   /* required, > 0 */
	/* polled during transfers; nonzero aborts with TDA_ERR_CANCELLED */
	int (*cancel)(void *arg);
	void *cancel_arg;
} tda_config;

/*
 * Fill `config` from the standard environment variables (AWS_REGION or
 * AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN); leaves other fields alone.
 * The strings point into the environment.
 */
void tda_config_from_env(tda_config *config);

/*
 * The library's process-wide state (libcurl's global initialisation, the
 * cJSON hooks), set up at once.  Optional for a single-threaded program
 * (done lazily); a program that calls the library from several threads
 * (each call on its own thread, nothing shared but the tda_config) runs it
 * first, before starting them.  false: libcurl could not be initialised.
 */
bool tda_global_init(void);
void tda_global_cleanup(void);

/* What a successful fetch returns. */
typedef struct tda_result
{
	char  *data;			   /* the body, NUL-terminated; free with tda_result_free */
	size_t len;				   /* excluding the NUL */
	char   sha256[65];		   /* lower-case hex of the body */
	char   resolved_uri[1024]; /* the s3:// URI actually downloaded */
	char   model_version[128]; /* models:/ only: the registry version, else "" */
	char   run_id[128];		   /* models:/ only: the version's run id, else "" */
} tda_result;

/*
 * Fetch `uri` (s3:// or models:/).  On TDA_OK, `result` owns a body of at
 * most config->max_bytes that matched its expected sha256 (if one was
 * known).  On failure, nothing is allocated and err says what went wrong.
 */
tda_status tda_fetch(const tda_config *config, const char *uri,
					 tda_result *result, tda_error *err);

void tda_result_free(tda_result *result);

/*
 * Resolve a models:/ URI to the s3:// URI, sha256, version and run id its
 * registry entry points to, without downloading the bundle (the loader
 * worker polls this to see whether an alias moved).
 */
tda_status tda_resolve_model(const tda_config *config, const char *uri,
							 tda_result *result, tda_error *err);


/* Lower-case hex sha256 of `len` bytes into hex[65]. */
void tda_sha256_hex(const void *data, size_t len, char hex[65]);


/* ------------------------------------------------------------------ */
/* Kinesis                                                             */
/* ------------------------------------------------------------------ */

/* Kinesis' PutRecords bounds. */
#define TDA_KINESIS_MAX_RECORDS 500
#define TDA_KINESIS_MAX_RECORD_BYTES (1024 * 1024) /* data + partition key */
#define TDA_KINESIS_MAX_REQUEST_BYTES (5 * 1024 * 1024)
#define TDA_KINESIS_MAX_KEY_LEN 256
#define TDA_KINESIS_MAX_STREAM_LEN 128

/* One record to write; strings are borrowed. */
typedef struct tda_record
{
	const char *data; /* raw bytes (base64-encoded on the wire) */
	size_t		len;
	const char *partition_key; /* 1..256 characters, NUL-terminated */
} tda_record;

/* The outcome of one record of a PutRecords call. */
typedef struct tda_put_result
{
	bool ok;
	char sequence_number[136]; /* when ok */
	char shard_id[64];		   /* when ok */
	char error_code[64];	   /* when !ok, e.g.
								* "ProvisionedThroughputExceededException" */
} tda_put_result;

/*
 * Write records[0..n-1] to `stream` with one PutRecords call.  Validates
 * the bounds above first (TDA_ERR_TOO_LARGE / TDA_ERR_CONFIG, nothing
 * sent).  On TDA_OK, per_record_status[i] says whether record i was
 * written (count the failures from it); on any other
 * status the call as a whole failed (transport, HTTP status, malformed
 * response) and no per-record outcome is known.  config->max_bytes bounds
 * the response body (a default of 4 MiB is used when 0).
 *
 * config->cancel (when set) is polled before the call and at least once a
 * second during it, waiting for the response included; a nonzero return
 * aborts the call with TDA_ERR_CANCELLED.  A cancelled call's records may
 * or may not have been stored: treat them as not confirmed.
 */
tda_status tda_kinesis_put_records(const tda_config *config, const char *stream,
								   const tda_record *records, size_t n,
								   tda_put_result *per_record_status,
								   tda_error	  *err);

/*
 * Check what every PutRecords call needs besides its records: the signing
 * configuration (region, credentials) and the stream name
 * ([a-zA-Z0-9_.-]{1,128}).  TDA_ERR_CONFIG when either is wrong.
 */
tda_status tda_kinesis_check_config(const tda_config *config, const char *stream,
									tda_error *err);


/* ------------------------------------------------------------------ */
/* The Kinesis sender (tda_kinesis_sender.c)                           */
/* ------------------------------------------------------------------ */

/*
 * The partition key of a ride id given as compact JSON (as td_decode_ride
 * and the decoder write it), into key (NUL-terminated):
 *
 *   a JSON string    its text, which must be 1 to 256 characters
 *   a JSON number    its value as exact integer text, which must fit 64
 *                    bits signed: 256, 256.0, 2.56e2 -> "256"; never
 *                    through a double, so 9007199254740993 stays exact
 *
 * Anything else (empty, null, true, a fraction, out of range, not JSON)
 * is TDA_ERR_CONFIG with a detail saying why (TDA_ERR_NOMEM when memory
 * ran out).  The one rule: the Lambda,
 * the decoder's "partition_key" and the tests agree on it.
 */
tda_status tda_partition_key_from_ride_id(const char *ride_id_json,
										  char		  key[TDA_KINESIS_MAX_KEY_LEN + 1],
										  tda_error	 *err);

/*
 * Exponential backoff with jitter: d = min(base_ms * 2^attempt, max_ms),
 * then a delay in [d/2, d] chosen by `random`.  attempt 0 is the first
 * retry.  base_ms <= 0 means no delay.
 */
long tda_backoff_ms(long base_ms, long max_ms, unsigned attempt, uint64_t random);

/* What became of one record given to tda_kinesis_send. */
typedef enum tda_send_outcome
{
	TDA_SEND_NOT_SENT = 0, /* not accepted (yet): not tried, cancelled, gave up */
	TDA_SEND_ACCEPTED,	   /* stored by Kinesis */
	TDA_SEND_REJECTED	   /* can never be accepted: never retried */
} tda_send_outcome;

#define TDA_SEND_REASON_LEN 512

typedef struct tda_send_result
{
	tda_send_outcome outcome;
	char			 sequence_number[136]; /* ACCEPTED */
	char			 shard_id[64];		   /* ACCEPTED */
	/*
	 * REJECTED: Kinesis' per-record code, or the status name of a call
	 * refused for its content, or of the check that refused it unsent;
	 * NOT_SENT: the last transient failure's code or status name, "" when
	 * the record was never tried.
	 */
	char error_code[64];
	/* REJECTED or given up: why, one sentence (untrusted text: escape it) */
	char	 reason[TDA_SEND_REASON_LEN];
	unsigned attempts; /* calls that carried the record */
} tda_send_result;

/* What one step of tda_kinesis_send did, for the progress callback. */
typedef struct tda_send_call
{
	/*
	 * PutRecords calls made so far, this one included; 0 for the step
	 * before the first call that reports records refused unsent (too
	 * large, bad partition key).
	 */
	unsigned		 call;
	size_t			 nrecords;	 /* records of this call (or refused unsent) */
	const size_t	*records;	 /* their indexes in the caller's array */
	tda_status		 status;	 /* TDA_OK: Kinesis answered per record */
	const tda_error *error;		 /* the call's failure when status != TDA_OK */
	size_t			 accepted;	 /* ... of this call's records */
	size_t			 rejected;	 /* permanently */
	size_t			 retrying;	 /* failed transiently, will be resent */
	size_t			 gave_up;	 /* failed transiently, out of attempts */
	const char		*retry_code; /* a transient per-record code, else "" */
	unsigned		 attempt;	 /* 1 + calls in a row before this one that failed */
	long			 backoff_ms; /* the pause before the next call, 0 if none */
} tda_send_call;

/*
 * Called after every step with the records it settled; results[] is
 * current for them.  Return false to stop: tda_kinesis_send returns
 * TDA_ERR_CANCELLED with the unsettled records NOT_SENT.
 */
typedef bool (*tda_send_progress_fn)(void *arg, const tda_send_call *call,
									 const tda_send_result *results);

typedef struct tda_sender_config
{
	const tda_config *aws; /* endpoint, credentials, timeouts, cancel */
	const char		 *stream;
	long			  backoff_base_ms; /* first retry delay (<= 0: none) */
	long			  backoff_max_ms;  /* cap of the doubling (< base: base) */
	/* calls a record may take; 0 = retry for as long as it takes */
	unsigned			 max_attempts;
	tda_send_progress_fn progress; /* optional */
	void				*progress_arg;
	/*
	 * Optional hooks (tests): sleep_fn replaces the default sleep, which
	 * polls aws->cancel every 50 ms; random_fn replaces the default
	 * generator of the jitter.
	 */
	void (*sleep_fn)(void *arg, long ms);
	uint64_t (*random_fn)(void *arg);
	void *hook_arg;
} tda_sender_config;

/*
 * Write records[0..n-1] to sc->stream, and say what became of each in
 * results[0..n-1]:
 *
 *   - records that can never be sent (data + partition key over 1 MiB, a
 *     partition key not of 1 to 256 characters) are REJECTED unsent;
 *   - the others go in order in PutRecords calls of at most 500 records
 *     and 5 MiB (data + partition keys);
 *   - a call that Kinesis answers: accepted entries are done; entries
 *     failing with a throttling or internal code (transient) are resent,
 *     exactly those, in the next call, after a backoff; entries failing
 *     with any other code are REJECTED;
 *   - a call that fails as a whole: a 400 that blames the content
 *     (ValidationException, InvalidArgumentException,
 *     SerializationException) or TDA_ERR_TOO_LARGE is halved, without
 *     pause, until the one record at fault is isolated and REJECTED; any
 *     other failure (transport, timeout, 5xx, throttling, unknown stream,
 *     denied) is retried after a backoff;
 *   - backoff: tda_backoff_ms over the failed calls in a row, reset by a
 *     call without transient failures;
 *   - a record that took max_attempts calls and still failed transiently
 *     is given up (NOT_SENT, reason set).
 *
 * aws->cancel is polled before each call, during it and during backoff.
 * Returns TDA_OK when every record was ACCEPTED or REJECTED; else
 * TDA_ERR_CANCELLED (cancel callback, or progress returned false),
 * TDA_ERR_CONFIG (tda_kinesis_check_config; nothing sent), TDA_ERR_NOMEM,
 * or the status of the last failure of a record given up; err says it.
 * A cancelled call's records may or may not have been stored: they are
 * NOT_SENT (at least once, for a caller that resends them).
 */
tda_status tda_kinesis_send(const tda_sender_config *sc, const tda_record *records,
							size_t n, tda_send_result *results, tda_error *err);

#ifdef __cplusplus
}
#endif

#endif /* TDA_AWS_H */
