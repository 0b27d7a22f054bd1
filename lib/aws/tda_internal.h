/*
 * tda_internal.h — declarations shared by the AWS library's .c files and
 * nowhere else: error helpers, URI parsing, one bounded HTTP GET, the
 * S3 and MLflow steps, and Kinesis' limits.
 *
 * Not included by the extension or the programs (they include tda_aws.h
 * only; the library's fuzz targets and tests include this too).
 */
#ifndef TDA_INTERNAL_H
#define TDA_INTERNAL_H

#include <stdarg.h>

#include "tda_aws.h"


/* Longest piece of untrusted text (URI, server message) echoed in a detail. */
#define TDA_ECHO_MAX 160

/* Longest URI accepted (the resolved one must fit tda_result.resolved_uri). */
#define TDA_URI_MAX 1023

/* Bytes of a non-2xx response body kept for the error detail. */
#define TDA_ERROR_BODY_MAX 16384

/* Defaults of tda_config's timeouts. */
#define TDA_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define TDA_DEFAULT_TIMEOUT_MS 60000L

/* tda_error.c; tda_echo is tdc_escape (tdc.h) cut after TDA_ECHO_MAX bytes */
const char *tda_status_message(tda_status status);
tda_status	tda_error_nomem(tda_error *err);
#define tda_error_set(err, status, ...) \
	((tda_status) tdc_error_set((err), (status), tda_status_message(status), __VA_ARGS__))
const char *tda_echo(const char *s, char *buf, size_t bufsize);
/* detail "The <what> \"<text>\" <why>.", text echoed by tda_echo */
tda_status	tda_error_echo(tda_error *err, tda_status status, const char *what,
						   const char *text, const char *why);
const char *tda_redact_url(const char *url, char *buf, size_t bufsize);

/* tda_uri.c */
typedef enum tda_uri_kind
{
	TDA_URI_S3,
	TDA_URI_MODEL_ALIAS,
	TDA_URI_MODEL_VERSION
} tda_uri_kind;

/* A parsed URI; the strings are NUL-terminated copies inside the struct. */
typedef struct tda_uri
{
	tda_uri_kind kind;
	char		 bucket[64];			/* s3:// */
	char		 key[TDA_URI_MAX + 1];	/* s3:// */
	char		 name[TDA_URI_MAX + 1]; /* models:/ */
	char		 ref[128];				/* models:/ alias or version */
} tda_uri;

tda_status tda_uri_parse(const char *uri, tda_uri *out, tda_error *err);
bool	   tda_is_sha256_hex(const char *s);

/* tda_http.c */
typedef struct tda_http_request
{
	const char		  *url;		  /* what is requested (may hold credentials) */
	const char		  *display;	  /* what errors name instead */
	const char *const *headers;	  /* NULL-terminated, none blank */
	const char		  *sigv4;	  /* "aws:amz:<region>:s3" or NULL */
	const char		  *username;  /* SigV4 access key id */
	const char		  *password;  /* SigV4 secret (never echoed) */
	size_t			   max_bytes; /* of a 2xx body */
} tda_http_request;

typedef struct tda_http_response
{
	long	status; /* HTTP status of the final response */
	tdc_buf body;	/* the 2xx body, or a prefix of an error body */
	bool	has_meta_sha256;
	char	meta_sha256[65]; /* x-amz-meta-sha256, lower-cased */
} tda_http_response;

/* tda_sigv4.c */
tda_status tda_check_signing_config(const tda_config *config, const char *service,
									tda_error *err);

tda_status tda_http_get(const tda_config *config, const tda_http_request *req,
						tda_http_response *resp, tda_error *err);
void	   tda_http_response_free(tda_http_response *resp);

/* tda_s3.c */
tda_status tda_s3_get(const tda_config *config, const tda_uri *uri,
					  const char *expected_sha256, tda_result *result,
					  tda_error *err);

/* tda_mlflow.c */
typedef struct tda_model_version
{
	char version[128];
	char run_id[128];
	char bundle_uri[TDA_URI_MAX + 1];
	char bundle_sha256[65];
} tda_model_version;

tda_status tda_mlflow_resolve(const tda_config *config, const tda_uri *uri,
							  tda_model_version *out, tda_error *err);
tda_status tda_mlflow_parse_version(const char *json, size_t len,
									const char *what, tda_model_version *out,
									tda_error *err);

/* tda_kinesis.c: Kinesis' record and call limits, checked only there */
size_t	   tda_kinesis_record_bytes(const tda_record *record); /* data + key */
bool	   tda_kinesis_call_fits(size_t nrecords, size_t bytes);
tda_status tda_kinesis_check_record(const tda_record *record, tda_error *err);

/* A configuration string that is given: neither NULL nor empty. */
static inline bool
tda_is_set(const char *s)
{
	return s != NULL && *s != '\0';
}

/* Printable ASCII without spaces: safe inside a signed header. */
static inline bool
tda_is_token_text(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char) *s <= 0x20 || (unsigned char) *s >= 0x7f)
			return false;
	return true;
}

#endif /* TDA_INTERNAL_H */
