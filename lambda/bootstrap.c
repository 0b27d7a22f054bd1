/*
 * bootstrap.c — the Lambda custom runtime (provided.al2023) of
 * taxi_duration.
 *
 * Cold start: load and compile the model named by TD_MODEL_URI (model.c)
 * and read the settings from the environment; a failure is posted to
 * /runtime/init/error and the process exits.  Then, for ever:
 *
 *   GET  http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next
 *   handle the Kinesis event (handler.c)
 *   POST .../runtime/invocation/<request id>/response   (or .../error)
 *
 * One curl handle is reused for the Runtime API; the "next" GET has no
 * timeout (the environment is frozen between invocations).  A failed POST
 * to the Runtime API ends the process, as the AWS runtimes do.
 *
 * Environment: TD_MODEL_URI, PREDICTIONS_STREAM (else TD_PREDICTIONS_STREAM,
 * else stg_taxi_predictions), TEST_RUN (True = predict but do not write),
 * AWS_REGION, AWS_ENDPOINT_URL_KINESIS or AWS_ENDPOINT_URL, the AWS
 * credential variables, TD_PUT_ATTEMPTS (4: PutRecords calls per record,
 * 1 to 100), TD_PUT_BACKOFF_MS (100: the first retry delay, 0 to 60000,
 * doubled per retry with jitter).  An invalid number is logged and the
 * default used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "lambda.h"

#define API_PREFIX "/2018-06-01/runtime"
#define DEFAULT_STREAM "stg_taxi_predictions"

typedef struct reply
{
	tdc_buf body;
	char	request_id[256];
	char	trace_id[512];
} reply;

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	size_t n = size * nmemb;

	return tdc_buf_append(arg, ptr, n) ? n : 0;
}

/* Copy the value of header line `line` into dst if it is `name`. */
static void
take_header(const char *line, size_t n, const char *name, char *dst, size_t dstsize)
{
	size_t nl = strlen(name);
	size_t v;
	size_t end;

	if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	for (v = nl + 1; v < n && (line[v] == ' ' || line[v] == '\t'); v++)
		;
	for (end = n; end > v && (line[end - 1] == '\r' || line[end - 1] == '\n' ||
							  line[end - 1] == ' ');
		 end--)
		;
	if (end - v >= dstsize)
		return;
	memcpy(dst, line + v, end - v);
	dst[end - v] = '\0';
}

static size_t
on_header(char *line, size_t size, size_t nitems, void *arg)
{
	reply *r = arg;
	size_t n = size * nitems;

	take_header(line, n, "Lambda-Runtime-Aws-Request-Id", r->request_id,
				sizeof(r->request_id));
	take_header(line, n, "Lambda-Runtime-Trace-Id", r->trace_id, sizeof(r->trace_id));
	return n;
}

/* One Runtime API call; returns the HTTP status or -1. */
static long
api_call(CURL *curl, const char *url, const char *body, const char *error_type,
		 reply *r)
{
	struct curl_slist *headers = NULL;
	char			   typeh[160];
	long			   status = -1;

	curl_easy_reset(curl);
	memset(r, 0, sizeof(*r));
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
	if (body != NULL)
	{
		headers = curl_slist_append(headers, "Content-Type: application/json");
		if (error_type != NULL)
		{
			snprintf(typeh, sizeof(typeh), "Lambda-Runtime-Function-Error-Type: %s",
					 error_type);
			headers = curl_slist_append(headers, typeh);
		}
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(body));
		curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
	}
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	return status;
}

/* {"errorMessage": msg, "errorType": type, "stackTrace": []} */
static char *
error_body(const char *type, const char *msg)
{
	cJSON *root = cJSON_CreateObject();
	char  *text = NULL;

	if (root != NULL &&
		cJSON_AddStringToObject(root, "errorMessage", msg) != NULL &&
		cJSON_AddStringToObject(root, "errorType", type) != NULL &&
		cJSON_AddArrayToObject(root, "stackTrace") != NULL)
		text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

/* POST an error document; false when the Runtime API did not take it. */
static bool
post_error(CURL *curl, const char *url, const char *type, const char *msg)
{
	char *body = error_body(type, msg);
	char  esc[LAMBDA_ERR_LEN + 64];
	reply r;
	long  status;

	fprintf(stderr, "ERROR %s: \"%s\"\n", type, tdc_escape(msg, esc, sizeof(esc)));
	status = api_call(curl, url, body ? body : "{}", type, &r);
	tdc_buf_free(&r.body);
	cJSON_free(body);
	return status >= 200 && status < 300;
}

/* The cold-start line; the bundle's names and the settings are escaped. */
static void
log_loaded(const lambda_model *model, const lambda_settings *s, double ms)
{
	char name[TDC_ESCAPE_SHORT];
	char version[TDC_ESCAPE_SHORT];
	char source[TDC_ESCAPE_SHORT * 2];
	char stream[TDC_ESCAPE_SHORT];

	fprintf(stderr, "INFO model \"%s\" version \"%s\" loaded from \"%s\" in %.1f ms; "
					"predictions stream \"%s\"%s\n",
			tdc_escape(td_image_meta(model->image, TD_META_MODEL_NAME), name, sizeof(name)),
			tdc_escape(td_image_meta(model->image, TD_META_MODEL_VERSION), version,
					   sizeof(version)),
			tdc_escape(model->source, source, sizeof(source)), ms,
			tdc_escape(s->predictions_stream, stream, sizeof(stream)),
			s->test_run ? " (TEST_RUN: not written)" : "");
}

/* An integer setting; an invalid value is logged (escaped) and the default used. */
static int
env_int(const char *name, int fallback, int min, int max)
{
	bool invalid;
	long v = tdc_env_long(name, fallback, min, max, &invalid);

	if (invalid)
	{
		char esc[TDC_ESCAPE_SHORT];

		fprintf(stderr, "WARNING %s=\"%s\" is not a whole number from %d to %d, using %d\n",
				name, tdc_escape(getenv(name), esc, sizeof(esc)), min, max, fallback);
	}
	return (int) v;
}

static void
settings_from_env(lambda_settings *s)
{
	const char *test_run = tdc_env_or("TEST_RUN", "False");

	memset(s, 0, sizeof(*s));
	s->predictions_stream = tdc_env_or("PREDICTIONS_STREAM",
									   tdc_env_or("TD_PREDICTIONS_STREAM", DEFAULT_STREAM));
	s->test_run = strcasecmp(test_run, "true") == 0 || strcmp(test_run, "1") == 0;
	tda_config_from_env(&s->kinesis);
	s->kinesis.aws_endpoint_url = tdc_env_or("AWS_ENDPOINT_URL_KINESIS",
											 tdc_env_or("AWS_ENDPOINT_URL", NULL));
	s->kinesis.connect_timeout_ms = 2000;
	s->kinesis.timeout_ms = 10000;
	s->put_attempts = env_int("TD_PUT_ATTEMPTS", 4, 1, 100);
	s->backoff_ms = env_int("TD_PUT_BACKOFF_MS", 100, 0, 60000);
}

int
main(void)
{
	const char	   *api = getenv("AWS_LAMBDA_RUNTIME_API");
	char			base[512];
	char			url[1024];
	char			errbuf[LAMBDA_ERR_LEN];
	lambda_model	model;
	lambda_settings settings;
	CURL		   *curl;
	double			t0 = lambda_now_ms();

	setvbuf(stderr, NULL, _IOLBF, 0);
	if (api == NULL || *api == '\0')
	{
		fprintf(stderr, "ERROR AWS_LAMBDA_RUNTIME_API is not set\n");
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
		(curl = curl_easy_init()) == NULL)
	{
		fprintf(stderr, "ERROR libcurl could not be initialized\n");
		return 1;
	}
	snprintf(base, sizeof(base), "http://%s" API_PREFIX, api);

	settings_from_env(&settings);
	if (!lambda_model_load(getenv("TD_MODEL_URI"), &model, errbuf))
	{
		snprintf(url, sizeof(url), "%s/init/error", base);
		post_error(curl, url, "Runtime.InitError", errbuf);
		curl_easy_cleanup(curl);
		return 1;
	}
	log_loaded(&model, &settings, lambda_now_ms() - t0);

	for (;;)
	{
		reply		 next;
		char		*response = NULL;
		lambda_stats stats;
		long		 status;
		double		 t1;

		snprintf(url, sizeof(url), "%s/invocation/next", base);
		status = api_call(curl, url, NULL, NULL, &next);
		if (status != 200 || next.request_id[0] == '\0')
		{
			fprintf(stderr, "ERROR invocation/next failed (HTTP %ld)\n", status);
			tdc_buf_free(&next.body);
			break;
		}
		if (next.trace_id[0] != '\0')
			setenv("_X_AMZN_TRACE_ID", next.trace_id, 1);
		else
			unsetenv("_X_AMZN_TRACE_ID");

		t1 = lambda_now_ms();
		if (lambda_handle(&model, &settings, next.body.data ? next.body.data : "",
						  next.body.len, &response, &stats, errbuf))
		{
			reply r;

			fprintf(stderr, "INFO %zu records: %zu predicted, %zu bad, %zu not written, "
							"%zu PutRecords calls; predict %.2f ms, put %.2f ms, total %.2f ms\n",
					stats.records, stats.predicted, stats.bad_input, stats.write_failed,
					stats.put_calls, stats.predict_ms, stats.put_ms, lambda_now_ms() - t1);
			snprintf(url, sizeof(url), "%s/invocation/%s/response", base, next.request_id);
			status = api_call(curl, url, response, NULL, &r);
			tdc_buf_free(&r.body);
			cJSON_free(response);
			if (status < 200 || status >= 300)
			{
				fprintf(stderr, "ERROR posting the response failed (HTTP %ld)\n", status);
				tdc_buf_free(&next.body);
				break;
			}
		}
		else
		{
			snprintf(url, sizeof(url), "%s/invocation/%s/error", base, next.request_id);
			if (!post_error(curl, url, "Handler.InvalidEvent", errbuf))
			{
				tdc_buf_free(&next.body);
				break;
			}
		}
		tdc_buf_free(&next.body);
	}
	lambda_model_free(&model);
	curl_easy_cleanup(curl);
	return 1;
}
