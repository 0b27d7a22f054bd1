/*
 * tda_http.c — one bounded HTTP GET with libcurl.
 *
 * The body grows in a tdc_buf through the allocation hooks and the
 * transfer is aborted as soon as a 2xx response announces (Content-Length)
 * or delivers more than max_bytes.  A progress callback polls the cancel
 * callback; connect and total timeouts bound the time; signals are never
 * used (CURLOPT_NOSIGNAL), redirects never followed, and only http and
 * https allowed.  The header callback keeps the status of the final
 * response and the S3 x-amz-meta-sha256 header.
 *
 * Transport failures come back as a tda_status; any HTTP response comes
 * back as TDA_OK with resp->status set, for the caller to interpret.
 * Details name req->display, never req->url or the credentials, and
 * curl's error text is echoed without any URL user info.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "tda_internal.h"

typedef struct transfer
{
	const tda_config	   *config;
	const tda_http_request *req;
	tda_http_response	   *resp;
	bool					too_large;
	bool					nomem;
	bool					cancelled;
	curl_off_t				announced; /* Content-Length of a 2xx, or -1 */
} transfer;

static bool curl_ready = false;

/*
 * curl_global_init, once, lazily — or up front by tda_global_init, which a
 * program that makes calls from several threads runs before starting them.
 */
static bool
ensure_curl(void)
{
	if (curl_ready)
		return true;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return false;
	curl_ready = true;
	return true;
}

bool
tda_global_init(void)
{
	tdc_install_cjson_hooks();
	return ensure_curl();
}

void
tda_global_cleanup(void)
{
	if (curl_ready)
		curl_global_cleanup();
	curl_ready = false;
}

static bool
is_success(long status)
{
	return status >= 200 && status < 300;
}

static size_t
on_header(char *line, size_t size, size_t nitems, void *arg)
{
	transfer		 *t = arg;
	size_t			  n = size * nitems;
	static const char meta[] = "x-amz-meta-sha256:";
	static const char clen[] = "content-length:";

	if (n >= 12 && strncmp(line, "HTTP/", 5) == 0)
	{
		/* A new response (after a 1xx, say): forget the previous one. */
		const char *sp = memchr(line, ' ', n);

		t->resp->status = 0;
		t->resp->has_meta_sha256 = false;
		t->announced = -1;
		if (sp != NULL && (size_t) (sp - line) + 4 <= n &&
			isdigit((unsigned char) sp[1]) && isdigit((unsigned char) sp[2]) &&
			isdigit((unsigned char) sp[3]))
			t->resp->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
	}
	else if (n > sizeof(meta) - 1 && strncasecmp(line, meta, sizeof(meta) - 1) == 0)
	{
		const char *v = line + sizeof(meta) - 1;
		size_t		vlen = n - (sizeof(meta) - 1);
		size_t		i;

		while (vlen > 0 && (*v == ' ' || *v == '\t'))
		{
			v++;
			vlen--;
		}
		while (vlen > 0 && isspace((unsigned char) v[vlen - 1]))
			vlen--;
		/* Kept as "" when malformed: the caller then refuses the body. */
		t->resp->meta_sha256[0] = '\0';
		if (vlen == 64)
		{
			for (i = 0; i < 64; i++)
				t->resp->meta_sha256[i] = (char) tolower((unsigned char) v[i]);
			t->resp->meta_sha256[64] = '\0';
		}
		t->resp->has_meta_sha256 = true;
	}
	else if (n > sizeof(clen) - 1 && strncasecmp(line, clen, sizeof(clen) - 1) == 0 &&
			 is_success(t->resp->status))
	{
		char			   value[32];
		size_t			   vlen = n - (sizeof(clen) - 1);
		char			  *end;
		unsigned long long v;

		if (vlen < sizeof(value))
		{
			memcpy(value, line + sizeof(clen) - 1, vlen);
			value[vlen] = '\0';
			v = strtoull(value, &end, 10);
			if (end != value)
			{
				t->announced = (curl_off_t) v;
				if (v > (unsigned long long) t->req->max_bytes)
				{
					t->too_large = true;
					return 0; /* abort before a single body byte */
				}
			}
		}
	}
	return n;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	transfer *t = arg;
	size_t	  n = size * nmemb;
	tdc_buf	 *body = &t->resp->body;

	if (is_success(t->resp->status))
	{
		if (n > t->req->max_bytes || body->len > t->req->max_bytes - n)
		{
			t->too_large = true;
			return 0;
		}
	}
	else
	{
		/* An error body: keep a prefix for the detail, drop the rest. */
		if (body->len >= TDA_ERROR_BODY_MAX)
			return n;
		if (n > TDA_ERROR_BODY_MAX - body->len)
		{
			if (!tdc_buf_append(body, data, TDA_ERROR_BODY_MAX - body->len))
			{
				t->nomem = true;
				return 0;
			}
			return n;
		}
	}
	if (!tdc_buf_append(body, data, n))
	{
		t->nomem = true;
		return 0;
	}
	return n;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
			curl_off_t ultotal, curl_off_t ulnow)
{
	transfer *t = arg;

	(void) dltotal;
	(void) dlnow;
	(void) ultotal;
	(void) ulnow;
	if (t->config->cancel != NULL && t->config->cancel(t->config->cancel_arg) != 0)
	{
		t->cancelled = true;
		return 1;
	}
	return 0;
}

/* Turn a failed curl_easy_perform into a status and detail. */
static tda_status
transport_error(const transfer *t, CURLcode rc, const char *errbuf,
				long timeout_ms, tda_error *err)
{
	const char *what = t->req->display;
	char		why[TDA_ECHO_MAX + 4];

	/* curl's own words may quote the URL: echo them without its user info */
	tda_echo(errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc), why, sizeof(why));

	if (t->nomem || rc == CURLE_OUT_OF_MEMORY)
		return tda_error_nomem(err);
	if (t->cancelled || rc == CURLE_ABORTED_BY_CALLBACK)
		return tda_error_set(err, TDA_ERR_CANCELLED,
							 "The download of %s was cancelled.", what);
	if (t->too_large)
	{
		if (t->announced >= 0)
			return tda_error_set(err, TDA_ERR_TOO_LARGE,
								 "%s is %lld bytes, more than the limit of %zu bytes.",
								 what, (long long) t->announced, t->req->max_bytes);
		return tda_error_set(err, TDA_ERR_TOO_LARGE,
							 "%s is larger than the limit of %zu bytes.",
							 what, t->req->max_bytes);
	}
	switch (rc)
	{
		case CURLE_OPERATION_TIMEDOUT:
			return tda_error_set(err, TDA_ERR_TIMEOUT,
								 "GET %s did not complete within %ld ms (%s).",
								 what, timeout_ms, why);
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
			return tda_error_set(err, TDA_ERR_CONFIG,
								 "GET %s: the endpoint URL is not usable (%s).",
								 what, why);
		default:
			break;
	}
	return tda_error_set(err, TDA_ERR_UNREACHABLE, "GET %s failed: %s.", what, why);
}

tda_status
tda_http_get(const tda_config *config, const tda_http_request *req,
			 tda_http_response *resp, tda_error *err)
{
	CURL			  *curl;
	struct curl_slist *headers = NULL;
	transfer		   t;
	char			   errbuf[CURL_ERROR_SIZE];
	long			   connect_ms;
	long			   timeout_ms;
	CURLcode		   rc;
	tda_status		   status = TDA_OK;
	int				   i;

	memset(resp, 0, sizeof(*resp));
	memset(&t, 0, sizeof(t));
	t.config = config;
	t.req = req;
	t.resp = resp;
	t.announced = -1;
	errbuf[0] = '\0';
	connect_ms = config->connect_timeout_ms > 0 ? config->connect_timeout_ms :
												  TDA_DEFAULT_CONNECT_TIMEOUT_MS;
	timeout_ms = config->timeout_ms > 0 ? config->timeout_ms : TDA_DEFAULT_TIMEOUT_MS;

	if (!ensure_curl())
		return tda_error_set(err, TDA_ERR_NOMEM, "libcurl could not be initialized.");
	curl = curl_easy_init();
	if (curl == NULL)
		return tda_error_nomem(err);
	for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
	{
		struct curl_slist *more = curl_slist_append(headers, req->headers[i]);

		if (more == NULL)
		{
			status = tda_error_nomem(err);
			goto done;
		}
		headers = more;
	}

	if (curl_easy_setopt(curl, CURLOPT_URL, req->url) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK ||
		curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t) != CURLE_OK ||
		(headers != NULL &&
		 curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK))
	{
		status = tda_error_nomem(err);
		goto done;
	}
	if (req->sigv4 != NULL)
	{
		/* Separate user and password: a ':' in either cannot confuse curl. */
		if (curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, req->sigv4) != CURLE_OK ||
			curl_easy_setopt(curl, CURLOPT_USERNAME, req->username) != CURLE_OK ||
			curl_easy_setopt(curl, CURLOPT_PASSWORD, req->password) != CURLE_OK)
		{
			status = tda_error_nomem(err);
			goto done;
		}
	}

	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK)
	{
		status = transport_error(&t, rc, errbuf, timeout_ms, err);
		goto done;
	}
	if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status) != CURLE_OK ||
		resp->status == 0)
		status = tda_error_set(err, TDA_ERR_PROTOCOL,
							   "GET %s returned no HTTP status.", req->display);
	else if (resp->body.data == NULL && !tdc_buf_append(&resp->body, "", 0))
		status = tda_error_nomem(err);

done:
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	if (status != TDA_OK)
		tda_http_response_free(resp);
	if (err != NULL && status != TDA_OK)
		err->http_status = resp->status;
	return status;
}

void
tda_http_response_free(tda_http_response *resp)
{
	tdc_buf_free(&resp->body);
}
