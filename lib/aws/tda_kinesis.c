/*
 * tda_kinesis.c — Kinesis PutRecords, SigV4-signed by libcurl.
 *
 * Request: POST / with Content-Type application/x-amz-json-1.1 and
 * X-Amz-Target Kinesis_20131202.PutRecords; body {"StreamName",
 * "Records": [{"Data": <base64>, "PartitionKey"}]}.  libcurl 7.88 hashes
 * only a CURLOPT_POSTFIELDS body into the signature and signs every
 * header it is given, so the body is POSTFIELDS and no header is blank
 * (a blank "Expect:" would be signed but not sent).  curl's own unsigned
 * "Expect: 100-continue" above 1 MiB is harmless; its wait is set to 0.
 *
 * Response: HTTP 200 with FailedRecordCount and Records[] in request
 * order, each {SequenceNumber, ShardId} or {ErrorCode, ErrorMessage};
 * any other status is an error whose detail carries Kinesis' "__type".
 *
 * config->cancel is polled before the call and from libcurl's progress
 * callback during it (at least once a second, also while a response is
 * awaited), so a caller's stop request ends a hung call within about a
 * second instead of after config->timeout_ms.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "tda_internal.h"
#include "tda_aws.h"

#define DEFAULT_RESPONSE_MAX ((size_t) 4 * 1024 * 1024)

typedef struct sink
{
	tdc_buf			  body;
	size_t			  max;
	bool			  overflow;
	bool			  cancelled;
	const tda_config *config;
} sink;

/* Stream names: [a-zA-Z0-9_.-]{1,128}. */
static bool
is_stream_name(const char *s)
{
	size_t len = strlen(s);
	size_t i;

	if (len == 0 || len > TDA_KINESIS_MAX_STREAM_LEN)
		return false;
	for (i = 0; i < len; i++)
	{
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

tda_status
tda_kinesis_check_config(const tda_config *config, const char *stream, tda_error *err)
{
	tda_status status = tda_check_signing_config(config, "Kinesis", err);

	if (status != TDA_OK)
		return status;
	if (stream == NULL || !is_stream_name(stream))
		return tda_error_set(err, TDA_ERR_CONFIG,
							 "The Kinesis stream name must be 1 to 128 letters, digits, '_', '.' or '-'.");
	return TDA_OK;
}

/*
 * Kinesis' limits, checked here and nowhere else: a record counts its data
 * and its partition key; a call takes 1 to 500 records of at most 5 MiB.
 */
size_t
tda_kinesis_record_bytes(const tda_record *record)
{
	return record->len + (record->partition_key ? strlen(record->partition_key) : 0);
}

bool
tda_kinesis_call_fits(size_t nrecords, size_t bytes)
{
	return nrecords >= 1 && nrecords <= TDA_KINESIS_MAX_RECORDS &&
		   bytes <= TDA_KINESIS_MAX_REQUEST_BYTES;
}

tda_status
tda_kinesis_check_record(const tda_record *record, tda_error *err)
{
	size_t klen = record->partition_key ? strlen(record->partition_key) : 0;

	if (klen == 0 || klen > TDA_KINESIS_MAX_KEY_LEN)
		return tda_error_set(err, TDA_ERR_CONFIG,
							 "The record's partition key is %zu characters; Kinesis takes 1 to %d.",
							 klen, TDA_KINESIS_MAX_KEY_LEN);
	if (record->data == NULL && record->len > 0)
		return tda_error_set(err, TDA_ERR_CONFIG, "The record has no data.");
	if (tda_kinesis_record_bytes(record) > TDA_KINESIS_MAX_RECORD_BYTES)
		return tda_error_set(err, TDA_ERR_TOO_LARGE,
							 "The record is too large: %zu bytes with its partition key; Kinesis takes at most %d.",
							 tda_kinesis_record_bytes(record), TDA_KINESIS_MAX_RECORD_BYTES);
	return TDA_OK;
}

static tda_status
check_request(const tda_config *config, const char *stream,
			  const tda_record *records, size_t n, tda_error *err)
{
	size_t	   total = 0;
	size_t	   i;
	tda_status status = tda_kinesis_check_config(config, stream, err);

	if (status != TDA_OK)
		return status;
	for (i = 0; i < n; i++)
	{
		tda_error rec_err;

		status = tda_kinesis_check_record(&records[i], &rec_err);
		if (status != TDA_OK)
			return tda_error_set(err, status, "Record %zu: %s", i, rec_err.detail);
		total += tda_kinesis_record_bytes(&records[i]);
	}
	if (!tda_kinesis_call_fits(n, total))
		return tda_error_set(err, TDA_ERR_TOO_LARGE,
							 "A PutRecords call takes 1 to %d records of at most %d bytes in all, not %zu of %zu.",
							 TDA_KINESIS_MAX_RECORDS, TDA_KINESIS_MAX_REQUEST_BYTES, n, total);
	return TDA_OK;
}

/* The JSON request body, or NULL when out of memory. */
static char *
build_body(const char *stream, const tda_record *records, size_t n)
{
	cJSON *root;
	cJSON *arr;
	char  *b64 = NULL;
	size_t b64cap = 0;
	char  *text = NULL;
	size_t i;

	root = cJSON_CreateObject();
	if (root == NULL)
		return NULL;
	if (cJSON_AddStringToObject(root, "StreamName", stream) == NULL ||
		(arr = cJSON_AddArrayToObject(root, "Records")) == NULL)
		goto done;
	for (i = 0; i < n; i++)
	{
		size_t need = 4 * ((records[i].len + 2) / 3) + 1;
		cJSON *rec;

		if (need > b64cap)
		{
			tdc_free(b64);
			b64 = tdc_malloc(need);
			if (b64 == NULL)
				goto done;
			b64cap = need;
		}
		EVP_EncodeBlock((unsigned char *) b64,
						(const unsigned char *) records[i].data,
						(int) records[i].len);
		rec = cJSON_CreateObject();
		if (rec == NULL)
			goto done;
		cJSON_AddItemToArray(arr, rec);
		if (cJSON_AddStringToObject(rec, "Data", b64) == NULL ||
			cJSON_AddStringToObject(rec, "PartitionKey", records[i].partition_key) == NULL)
			goto done;
	}
	text = cJSON_PrintUnformatted(root);
done:
	tdc_free(b64);
	cJSON_Delete(root);
	return text;
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	sink  *s = arg;
	size_t n = size * nmemb;

	if (s->body.len + n > s->max)
	{
		s->overflow = true;
		return 0;
	}
	if (!tdc_buf_append(&s->body, ptr, n))
		return 0;
	return n;
}

/* libcurl's progress callback: a nonzero return aborts the transfer. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
			curl_off_t ultotal, curl_off_t ulnow)
{
	sink *s = arg;

	(void) dltotal;
	(void) dlnow;
	(void) ultotal;
	(void) ulnow;
	if (s->config->cancel != NULL && s->config->cancel(s->config->cancel_arg) != 0)
	{
		s->cancelled = true;
		return 1;
	}
	return 0;
}

static tda_status
cancelled(const char *stream, tda_error *err)
{
	tda_status status = tda_error_set(err, TDA_ERR_CANCELLED,
									  "PutRecords to stream \"%s\" was cancelled; Kinesis may or may not have stored the records.",
									  stream);

	tdc_error_set_message(err, "write to Kinesis stream \"%s\" was cancelled", stream);
	return status;
}

/* Copy a JSON string member into dst (truncated), "" when absent. */
static void
copy_member(const cJSON *obj, const char *name, char *dst, size_t dstsize)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	dst[0] = '\0';
	if (cJSON_IsString(item) && item->valuestring != NULL)
		snprintf(dst, dstsize, "%s", item->valuestring);
}

static tda_status
parse_response(const char *body, size_t len, size_t n,
			   tda_put_result *out, tda_error *err)
{
	cJSON		*root;
	const cJSON *records;
	const cJSON *rec;
	size_t		 i = 0;
	tda_status	 status = TDA_OK;

	root = cJSON_ParseWithLength(body, len);
	if (root == NULL)
		return tda_error_set(err, TDA_ERR_PROTOCOL,
							 "The PutRecords response is not JSON.");
	records = cJSON_GetObjectItemCaseSensitive(root, "Records");
	if (!cJSON_IsArray(records) || (size_t) cJSON_GetArraySize(records) != n)
	{
		status = tda_error_set(err, TDA_ERR_PROTOCOL,
							   "The PutRecords response does not have one entry per record.");
		goto done;
	}
	cJSON_ArrayForEach(rec, records)
	{
		memset(&out[i], 0, sizeof(out[i]));
		copy_member(rec, "ErrorCode", out[i].error_code, sizeof(out[i].error_code));
		copy_member(rec, "SequenceNumber", out[i].sequence_number,
					sizeof(out[i].sequence_number));
		copy_member(rec, "ShardId", out[i].shard_id, sizeof(out[i].shard_id));
		out[i].ok = out[i].error_code[0] == '\0' && out[i].sequence_number[0] != '\0';
		if (!out[i].ok && out[i].error_code[0] == '\0')
			snprintf(out[i].error_code, sizeof(out[i].error_code), "MissingSequenceNumber");
		i++;
	}
done:
	cJSON_Delete(root);
	return status;
}

/* HTTP error: name the status and Kinesis' __type, nothing else. */
static tda_status
http_error(const char *stream, long http, const tdc_buf *body, tda_error *err)
{
	char	   type[96] = "";
	char	   echo[TDA_ECHO_MAX + 4];
	cJSON	  *root = NULL;
	tda_status status;

	if (body->data != NULL)
		root = cJSON_ParseWithLength(body->data, body->len);
	if (root != NULL)
	{
		char raw[96];

		copy_member(root, "__type", raw, sizeof(raw));
		if (raw[0] != '\0')
			snprintf(type, sizeof(type), " (%s)", tda_echo(raw, echo, sizeof(echo)));
		cJSON_Delete(root);
	}
	if (http == 404 || strstr(type, "ResourceNotFound") != NULL)
		status = TDA_ERR_NOT_FOUND;
	else if (http == 401 || http == 403 ||
			 strstr(type, "Signature") != NULL ||
			 strstr(type, "AccessDenied") != NULL ||
			 strstr(type, "UnrecognizedClient") != NULL)
		status = TDA_ERR_DENIED;
	else
		status = TDA_ERR_HTTP;
	tda_error_set(err, status, "PutRecords to stream \"%s\" returned HTTP %ld%s.",
				  stream, http, type);
	tdc_error_set_message(err, "could not write to Kinesis stream \"%s\"", stream);
	if (err != NULL)
		err->http_status = http;
	return status;
}

tda_status
tda_kinesis_put_records(const tda_config *config, const char *stream,
						const tda_record *records, size_t n,
						tda_put_result *per_record_status, tda_error *err)
{
	tdc_buf			   url = { 0 };
	tdc_buf			   sigv4 = { 0 };
	tdc_buf			   token = { 0 };
	struct curl_slist *headers = NULL;
	struct curl_slist *tmp;
	char			  *body = NULL;
	char			   errbuf[CURL_ERROR_SIZE];
	sink			   s;
	CURL			  *curl = NULL;
	CURLcode		   rc;
	long			   http = 0;
	long			   connect_ms;
	long			   timeout_ms;
	tda_status		   status;

	tdc_error_clear(err);
	memset(&s, 0, sizeof(s));
	s.max = config->max_bytes > 0 ? config->max_bytes : DEFAULT_RESPONSE_MAX;
	s.config = config;
	status = check_request(config, stream, records, n, err);
	if (status != TDA_OK)
		return status;
	if (config->cancel != NULL && config->cancel(config->cancel_arg) != 0)
		return cancelled(stream, err);

	if (tda_is_set(config->aws_endpoint_url))
	{
		const char *ep = config->aws_endpoint_url;
		size_t		len = strlen(ep);

		while (len > 0 && ep[len - 1] == '/')
			len--;
		if (!tdc_buf_append(&url, ep, len) || !tdc_buf_append_str(&url, "/"))
			goto nomem;
	}
	else if (!tdc_buf_append_str(&url, "https://kinesis.") ||
			 !tdc_buf_append_str(&url, config->aws_region) ||
			 !tdc_buf_append_str(&url, ".amazonaws.com/"))
		goto nomem;
	if (!tdc_buf_append_str(&sigv4, "aws:amz:") ||
		!tdc_buf_append_str(&sigv4, config->aws_region) ||
		!tdc_buf_append_str(&sigv4, ":kinesis"))
		goto nomem;
	body = build_body(stream, records, n);
	if (body == NULL)
		goto nomem;

	tmp = curl_slist_append(headers, "Content-Type: application/x-amz-json-1.1");
	if (tmp == NULL)
		goto nomem;
	headers = tmp;
	tmp = curl_slist_append(headers, "X-Amz-Target: Kinesis_20131202.PutRecords");
	if (tmp == NULL)
		goto nomem;
	headers = tmp;
	if (tda_is_set(config->aws_session_token))
	{
		if (!tdc_buf_append_str(&token, "X-Amz-Security-Token: ") ||
			!tdc_buf_append_str(&token, config->aws_session_token))
			goto nomem;
		tmp = curl_slist_append(headers, token.data);
		if (tmp == NULL)
			goto nomem;
		headers = tmp;
	}

	curl = curl_easy_init();
	if (curl == NULL)
		goto nomem;
	connect_ms = config->connect_timeout_ms > 0 ? config->connect_timeout_ms :
												  TDA_DEFAULT_CONNECT_TIMEOUT_MS;
	timeout_ms = config->timeout_ms > 0 ? config->timeout_ms : TDA_DEFAULT_TIMEOUT_MS;
	errbuf[0] = '\0';
	if (curl_easy_setopt(curl, CURLOPT_URL, url.data) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(body)) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.data) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_USERNAME, config->aws_access_key_id) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_PASSWORD, config->aws_secret_access_key) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &s) != CURLE_OK)
	{
		status = tda_error_set(err, TDA_ERR_CONFIG,
							   "libcurl rejected an option of the PutRecords request.");
		goto done;
	}
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
	if (rc != CURLE_OK)
	{
		if (s.cancelled)
			status = cancelled(stream, err);
		else if (s.overflow)
			status = tda_error_set(err, TDA_ERR_TOO_LARGE,
								   "The PutRecords response exceeds %zu bytes.", s.max);
		else if (rc == CURLE_OPERATION_TIMEDOUT)
			status = tda_error_set(err, TDA_ERR_TIMEOUT,
								   "PutRecords to stream \"%s\" timed out.", stream);
		else
			status = tda_error_set(err, TDA_ERR_UNREACHABLE,
								   "PutRecords to stream \"%s\" failed: %s.", stream,
								   curl_easy_strerror(rc));
		goto done;
	}
	if (http != 200)
	{
		status = http_error(stream, http, &s.body, err);
		goto done;
	}
	status = parse_response(s.body.data ? s.body.data : "", s.body.len, n,
							per_record_status, err);
	if (status != TDA_OK && err != NULL)
		err->http_status = http;
	goto done;

nomem:
	status = tda_error_nomem(err);
done:
	if (curl != NULL)
		curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	if (token.data != NULL)
		memset(token.data, 0, token.len);
	tdc_buf_free(&token);
	tdc_buf_free(&sigv4);
	tdc_buf_free(&url);
	tdc_buf_free(&s.body);
	if (body != NULL)
		cJSON_free(body);
	return status;
}
