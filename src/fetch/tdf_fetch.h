/*
 * tdf_fetch.h — fetching model bundles over the network, in plain C.
 *
 * Shared by the PostgreSQL extension and the Lambda (no PostgreSQL
 * headers; libcurl, cJSON and OpenSSL's libcrypto only).  Resolves and
 * downloads a model URI:
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
 * tdf_error in PostgreSQL's style (short lower-case message, detail as a
 * sentence) and never contain a secret: neither the secret key, nor the
 * session token, nor an Authorization header.
 */
#ifndef TDF_FETCH_H
#define TDF_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tdf_status
{
	TDF_OK = 0,
	TDF_ERR_NOMEM,		 /* an allocation hook returned NULL */
	TDF_ERR_URI,		 /* not a URI this library fetches, or malformed */
	TDF_ERR_CONFIG,		 /* missing region, credentials, tracking URI */
	TDF_ERR_UNREACHABLE, /* DNS, connection refused, TLS failure */
	TDF_ERR_TIMEOUT,	 /* connect or total timeout */
	TDF_ERR_CANCELLED,	 /* the cancel callback asked to stop */
	TDF_ERR_DENIED,		 /* HTTP 401/403 (bad credentials, signature) */
	TDF_ERR_NOT_FOUND,	 /* HTTP 404: no such bucket, key, model, alias */
	TDF_ERR_HTTP,		 /* any other unexpected HTTP status */
	TDF_ERR_TOO_LARGE,	 /* the object exceeds max_bytes */
	TDF_ERR_CHECKSUM,	 /* the body's sha256 differs from the expected */
	TDF_ERR_PROTOCOL	 /* a response that does not parse as expected */
} tdf_status;

#define TDF_ERROR_MESSAGE_LEN 256
#define TDF_ERROR_DETAIL_LEN 768

typedef struct tdf_error
{
	tdf_status status;
	long	   http_status; /* 0 when no HTTP response was received */
	char	   message[TDF_ERROR_MESSAGE_LEN];
	char	   detail[TDF_ERROR_DETAIL_LEN];
} tdf_error;

const char *tdf_status_name(tdf_status status);

/* Allocation hooks (NULL fields: malloc/free); must return NULL on failure. */
typedef struct tdf_allocator
{
	void *(*malloc_fn)(size_t size);
	void *(*realloc_fn)(void *ptr, size_t size);
	void (*free_fn)(void *ptr);
} tdf_allocator;

void tdf_set_allocator(const tdf_allocator *allocator);

/* Where to fetch from and how; strings are borrowed, NULL or "" = unset. */
typedef struct tdf_config
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
	/* polled during transfers; nonzero aborts with TDF_ERR_CANCELLED */
	int (*cancel)(void *arg);
	void *cancel_arg;
} tdf_config;

/*
 * Fill `config` from the standard environment variables (AWS_REGION or
 * AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN); leaves other fields alone.
 * The strings point into the environment.
 */
void tdf_config_from_env(tdf_config *config);

/* What a successful fetch returns. */
typedef struct tdf_result
{
	char  *data;			   /* the body, NUL-terminated; free with tdf_result_free */
	size_t len;				   /* excluding the NUL */
	char   sha256[65];		   /* lower-case hex of the body */
	char   resolved_uri[1024]; /* the s3:// URI actually downloaded */
	char   model_version[128]; /* models:/ only: the registry version, else "" */
	char   run_id[128];		   /* models:/ only: the version's run id, else "" */
} tdf_result;

/*
 * Fetch `uri` (s3:// or models:/).  On TDF_OK, `result` owns a body of at
 * most config->max_bytes that matched its expected sha256 (if one was
 * known).  On failure, nothing is allocated and err says what went wrong.
 */
tdf_status tdf_fetch(const tdf_config *config, const char *uri,
					 tdf_result *result, tdf_error *err);

void tdf_result_free(tdf_result *result);

/*
 * Resolve a models:/ URI to the s3:// URI, sha256, version and run id its
 * registry entry points to, without downloading the bundle (the loader
 * worker polls this to see whether an alias moved).
 */
tdf_status tdf_resolve_model(const tdf_config *config, const char *uri,
							 tdf_result *result, tdf_error *err);

/*
 * Copy `s` into buf (at most bufsize - 1 bytes, NUL-terminated) without the
 * user info ("user:password@") of any URL authority in it, so that text that
 * may hold a URL can be shown or logged.  Returns buf.
 */
const char *tdf_redact_userinfo(const char *s, char *buf, size_t bufsize);

/* Lower-case hex sha256 of `len` bytes into hex[65]. */
void tdf_sha256_hex(const void *data, size_t len, char hex[65]);

/*
 * Make untrusted text (a record's sequence number or partition key, a ride
 * id, an error message or body from a server) safe to put in a log line:
 * escaped as the inside of a JSON string, so that it can never end the
 * line, forge another one, or move the terminal's cursor.  Backslash and
 * '"' are backslashed; newline, carriage return and tab become \n, \r,
 * \t; other control characters and DEL, and every well-formed non-ASCII
 * UTF-8 character, become \uXXXX (a surrogate pair above U+FFFF); a byte
 * that is not part of well-formed UTF-8 becomes \xHH (not JSON, but
 * unambiguous).  The output is pure printable ASCII.
 *
 * At most bufsize - 1 bytes are written, cut at a character boundary and
 * ended with "..." when the text does not fit: bufsize is the length cap.
 * NULL reads as "".  Returns buf ("" when bufsize is 0).
 */
const char *tdf_escape(const char *s, char *buf, size_t bufsize);

/* A tdf_escape buffer size that keeps one logged value short. */
#define TDF_ESCAPE_SHORT 160

#ifdef __cplusplus
}
#endif

#endif /* TDF_FETCH_H */
