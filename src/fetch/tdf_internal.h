/*
 * tdf_internal.h — declarations shared by the fetch library's .c files and
 * nowhere else: allocation wrappers, a growable byte buffer, error helpers,
 * URI parsing, one bounded HTTP GET, and the S3 and MLflow steps.
 *
 * Not installed, not included by the extension or the Lambda (they include
 * tdf_fetch.h only; the fuzz targets and the tests include this too).
 */
#ifndef TDF_INTERNAL_H
#define TDF_INTERNAL_H

#include <stdarg.h>

#include "tdf_fetch.h"

#if defined(__GNUC__) || defined(__clang__)
#define TDF_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TDF_PRINTF(a, b)
#endif

/* Longest piece of untrusted text (URI, server message) echoed in a detail. */
#define TDF_ECHO_MAX 160

/* Longest URI accepted (the resolved one must fit tdf_result.resolved_uri). */
#define TDF_URI_MAX 1023

/* Bytes of a non-2xx response body kept for the error detail. */
#define TDF_ERROR_BODY_MAX 16384

/* Defaults of tdf_config's timeouts. */
#define TDF_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define TDF_DEFAULT_TIMEOUT_MS 60000L

/* tdf_alloc.c */
void *tdf_malloc(size_t size);
void  tdf_free(void *ptr);
char *tdf_strdup(const char *s);

/* A growable byte buffer, always NUL-terminated when data != NULL. */
typedef struct tdf_buf
{
	char  *data;
	size_t len;
	size_t cap;
} tdf_buf;

bool tdf_buf_append(tdf_buf *buf, const void *bytes, size_t len);
bool tdf_buf_append_str(tdf_buf *buf, const char *s);
bool tdf_buf_append_urlenc(tdf_buf *buf, const char *s);
void tdf_buf_free(tdf_buf *buf);

/* tdf_error.c; tdf_echo is tdf_escape (tdf_fetch.h) cut after TDF_ECHO_MAX bytes */
void		tdf_error_clear(tdf_error *err);
tdf_status	tdf_error_set(tdf_error *err, tdf_status status, const char *fmt, ...) TDF_PRINTF(3, 4);
void		tdf_error_set_message(tdf_error *err, const char *fmt, ...) TDF_PRINTF(2, 3);
tdf_status	tdf_error_nomem(tdf_error *err);
const char *tdf_echo(const char *s, char *buf, size_t bufsize);
const char *tdf_redact_url(const char *url, char *buf, size_t bufsize);

/* tdf_uri.c */
typedef enum tdf_uri_kind
{
	TDF_URI_S3,
	TDF_URI_MODEL_ALIAS,
	TDF_URI_MODEL_VERSION
} tdf_uri_kind;

/* A parsed URI; the strings are NUL-terminated copies inside the struct. */
typedef struct tdf_uri
{
	tdf_uri_kind kind;
	char		 bucket[64];			/* s3:// */
	char		 key[TDF_URI_MAX + 1];	/* s3:// */
	char		 name[TDF_URI_MAX + 1]; /* models:/ */
	char		 ref[128];				/* models:/ alias or version */
} tdf_uri;

tdf_status tdf_uri_parse(const char *uri, tdf_uri *out, tdf_error *err);
bool	   tdf_is_sha256_hex(const char *s);

/* tdf_http.c */
typedef struct tdf_http_request
{
	const char		  *url;		  /* what is requested (may hold credentials) */
	const char		  *display;	  /* what errors name instead */
	const char *const *headers;	  /* NULL-terminated, none blank */
	const char		  *sigv4;	  /* "aws:amz:<region>:s3" or NULL */
	const char		  *username;  /* SigV4 access key id */
	const char		  *password;  /* SigV4 secret (never echoed) */
	size_t			   max_bytes; /* of a 2xx body */
} tdf_http_request;

typedef struct tdf_http_response
{
	long	status; /* HTTP status of the final response */
	tdf_buf body;	/* the 2xx body, or a prefix of an error body */
	bool	has_meta_sha256;
	char	meta_sha256[65]; /* x-amz-meta-sha256, lower-cased */
} tdf_http_response;

/* tdf_sigv4.c */
tdf_status tdf_check_signing_config(const tdf_config *config, const char *service,
									tdf_error *err);

tdf_status tdf_http_get(const tdf_config *config, const tdf_http_request *req,
						tdf_http_response *resp, tdf_error *err);
void	   tdf_http_response_free(tdf_http_response *resp);

/* tdf_s3.c */
tdf_status tdf_s3_get(const tdf_config *config, const tdf_uri *uri,
					  const char *expected_sha256, tdf_result *result,
					  tdf_error *err);

/* tdf_mlflow.c */
typedef struct tdf_model_version
{
	char version[128];
	char run_id[128];
	char bundle_uri[TDF_URI_MAX + 1];
	char bundle_sha256[65];
} tdf_model_version;

tdf_status tdf_mlflow_resolve(const tdf_config *config, const tdf_uri *uri,
							  tdf_model_version *out, tdf_error *err);
tdf_status tdf_mlflow_parse_version(const char *json, size_t len,
									const char *what, tdf_model_version *out,
									tdf_error *err);

/* A configuration string that is given: neither NULL nor empty. */
static inline bool
tdf_is_set(const char *s)
{
	return s != NULL && *s != '\0';
}

/* Printable ASCII without spaces: safe inside a signed header. */
static inline bool
tdf_is_token_text(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char) *s <= 0x20 || (unsigned char) *s >= 0x7f)
			return false;
	return true;
}

#endif /* TDF_INTERNAL_H */
