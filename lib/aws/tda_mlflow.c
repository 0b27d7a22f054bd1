/*
 * tda_mlflow.c — resolving models:/name@alias and models:/name/version
 * through the MLflow REST API (not SigV4-signed; a bearer token when one
 * is configured):
 *
 *   GET {tracking}/api/2.0/mlflow/registered-models/alias?name=..&alias=..
 *   GET {tracking}/api/2.0/mlflow/model-versions/get?name=..&version=..
 *
 * Both answer {"model_version": {"version", "run_id", "tags": [{"key",
 * "value"}], ...}}.  The pipeline tags every version it publishes with
 * bundle_uri (an s3:// URI) and bundle_sha256; a version without them is
 * refused as not published by the pipeline.  The response parser is
 * separate (tda_mlflow_parse_version) so that it can be fuzzed.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tda_internal.h"

/* MLflow answers are a few kilobytes; anything much larger is refused. */
#define TDA_MLFLOW_MAX_BYTES (1024 * 1024)

static const char *
json_string(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

static tda_status
not_published(const char *what, const char *version, const char *tag,
			  tda_error *err)
{
	char echo[TDA_ECHO_MAX + 4];
	char vecho[TDA_ECHO_MAX + 4];

	tda_error_set(err, TDA_ERR_PROTOCOL,
				  "Version %s of %s has no %s tag: it was not published by the model pipeline.",
				  tda_echo(version, vecho, sizeof(vecho)),
				  tda_echo(what, echo, sizeof(echo)), tag);
	tdc_error_set_message(err, "model version was not published by the pipeline");
	return TDA_ERR_PROTOCOL;
}

static tda_status
parse_tree(const cJSON *root, const char *what, tda_model_version *out,
		   tda_error *err)
{
	char		 echo[TDA_ECHO_MAX + 4];
	char		 vecho[TDA_ECHO_MAX + 4];
	const cJSON *mv = cJSON_GetObjectItemCaseSensitive(root, "model_version");
	const cJSON *version;
	const cJSON *tags;
	const cJSON *tag;
	const char	*run_id;
	const char	*bundle_uri = NULL;
	const char	*bundle_sha256 = NULL;
	tda_uri		 parsed;
	tda_error	 uri_err;
	char		 uecho[TDA_ECHO_MAX + 4];
	size_t		 i;

	if (!cJSON_IsObject(mv))
		return tda_error_set(err, TDA_ERR_PROTOCOL,
							 "The registry's answer for %s has no \"model_version\" object.",
							 tda_echo(what, echo, sizeof(echo)));
	version = cJSON_GetObjectItemCaseSensitive(mv, "version");
	if (cJSON_IsString(version) && tda_is_set(version->valuestring) &&
		strlen(version->valuestring) < sizeof(out->version))
		strcpy(out->version, version->valuestring);
	else if (cJSON_IsNumber(version) && version->valuedouble >= 0 &&
			 version->valuedouble < 1e15 &&
			 version->valuedouble == (double) (long long) version->valuedouble)
		snprintf(out->version, sizeof(out->version), "%lld",
				 (long long) version->valuedouble);
	else
		return tda_error_set(err, TDA_ERR_PROTOCOL,
							 "The registry's answer for %s has no usable \"version\".",
							 tda_echo(what, echo, sizeof(echo)));
	run_id = json_string(mv, "run_id");
	if (run_id == NULL)
		run_id = "";
	if (strlen(run_id) >= sizeof(out->run_id))
		return tda_error_set(err, TDA_ERR_PROTOCOL,
							 "The registry's answer for %s has a \"run_id\" longer than %zu bytes.",
							 tda_echo(what, echo, sizeof(echo)), sizeof(out->run_id) - 1);
	strcpy(out->run_id, run_id);

	tags = cJSON_GetObjectItemCaseSensitive(mv, "tags");
	if (tags != NULL && !cJSON_IsArray(tags))
		return tda_error_set(err, TDA_ERR_PROTOCOL,
							 "The registry's answer for %s has \"tags\" that are not an array.",
							 tda_echo(what, echo, sizeof(echo)));
	cJSON_ArrayForEach(tag, tags)
	{
		const char *key = json_string(tag, "key");
		const char *value = json_string(tag, "value");

		if (key == NULL || value == NULL)
			continue;
		if (strcmp(key, "bundle_uri") == 0)
			bundle_uri = value;
		else if (strcmp(key, "bundle_sha256") == 0)
			bundle_sha256 = value;
	}
	if (bundle_uri == NULL)
		return not_published(what, out->version, "bundle_uri", err);
	if (bundle_sha256 == NULL)
		return not_published(what, out->version, "bundle_sha256", err);
	if (tda_uri_parse(bundle_uri, &parsed, &uri_err) != TDA_OK ||
		parsed.kind != TDA_URI_S3)
		return tda_error_set(err, TDA_ERR_PROTOCOL,
							 "The bundle_uri tag of version %s of %s is not a usable s3:// URI: \"%s\".",
							 tda_echo(out->version, vecho, sizeof(vecho)),
							 tda_echo(what, echo, sizeof(echo)),
							 tda_echo(bundle_uri, uecho, sizeof(uecho)));
	if (!tda_is_sha256_hex(bundle_sha256))
		return tda_error_set(err, TDA_ERR_PROTOCOL,
							 "The bundle_sha256 tag of version %s of %s is not 64 hex digits.",
							 tda_echo(out->version, vecho, sizeof(vecho)),
							 tda_echo(what, echo, sizeof(echo)));
	strcpy(out->bundle_uri, bundle_uri);
	for (i = 0; i < 64; i++)
		out->bundle_sha256[i] = (bundle_sha256[i] >= 'A' && bundle_sha256[i] <= 'F') ?
									(char) (bundle_sha256[i] - 'A' + 'a') :
									bundle_sha256[i];
	out->bundle_sha256[64] = '\0';
	return TDA_OK;
}

/* Parse a model-versions/get or registered-models/alias answer. */
tda_status
tda_mlflow_parse_version(const char *json, size_t len, const char *what,
						 tda_model_version *out, tda_error *err)
{
	cJSON		 *root;
	tda_status	  status;
	char		  echo[TDA_ECHO_MAX + 4];
	unsigned long failures = tdc_alloc_failures();

	memset(out, 0, sizeof(*out));
	root = cJSON_ParseWithLength(json, len);
	if (root == NULL && tdc_alloc_failures() != failures)
		return tda_error_nomem(err); /* cJSON says only "parse failed" */
	if (root == NULL)
		return tda_error_set(err, TDA_ERR_PROTOCOL,
							 "The registry's answer for %s is not valid JSON.",
							 tda_echo(what, echo, sizeof(echo)));
	status = parse_tree(root, what, out, err);
	cJSON_Delete(root);
	if (status != TDA_OK)
		memset(out, 0, sizeof(*out));
	return status;
}

/* An MLflow error answer: {"error_code": "...", "message": "..."}. */
static tda_status
http_error(const tda_uri *uri, const char *what, const char *display,
		   const tda_http_response *resp, tda_error *err)
{
	cJSON	   *root = NULL;
	const char *code = NULL;
	const char *msg = NULL;
	char		cecho[TDA_ECHO_MAX + 4];
	char		mecho[TDA_ECHO_MAX + 4];
	char		wecho[TDA_ECHO_MAX + 4];
	tda_status	status;

	if (resp->body.data != NULL)
		root = cJSON_ParseWithLength(resp->body.data, resp->body.len);
	if (root != NULL)
	{
		code = json_string(root, "error_code");
		msg = json_string(root, "message");
	}
	if (resp->status == 404 ||
		(code != NULL && strcmp(code, "RESOURCE_DOES_NOT_EXIST") == 0))
		status = TDA_ERR_NOT_FOUND;
	else if (resp->status == 400 && uri->kind == TDA_URI_MODEL_ALIAS &&
			 code != NULL && strcmp(code, "INVALID_PARAMETER_VALUE") == 0 &&
			 msg != NULL && strstr(msg, "alias") != NULL &&
			 strstr(msg, "not found") != NULL)
		status = TDA_ERR_NOT_FOUND; /* MLflow's answer for a missing alias */
	else if (resp->status == 401 || resp->status == 403)
		status = TDA_ERR_DENIED;
	else
		status = TDA_ERR_HTTP;
	tda_error_set(err, status, "GET %s returned HTTP %ld%s%s%s%s%s.",
				  display, resp->status,
				  code != NULL ? " (" : "",
				  code != NULL ? tda_echo(code, cecho, sizeof(cecho)) : "",
				  code != NULL && msg != NULL ? ": " : "",
				  code != NULL && msg != NULL ? tda_echo(msg, mecho, sizeof(mecho)) : "",
				  code != NULL ? ")" : "");
	cJSON_Delete(root);
	tda_echo(what, wecho, sizeof(wecho));
	if (status == TDA_ERR_NOT_FOUND)
		tdc_error_set_message(err, "%s \"%s\" not found in the model registry",
							  uri->kind == TDA_URI_MODEL_ALIAS ? "model alias" : "model version",
							  wecho);
	else if (status == TDA_ERR_DENIED)
		tdc_error_set_message(err, "access to the model registry was denied");
	if (err != NULL)
		err->http_status = resp->status;
	return status;
}

tda_status
tda_mlflow_resolve(const tda_config *config, const tda_uri *uri,
				   tda_model_version *out, tda_error *err)
{
	const char		 *base = config->mlflow_tracking_uri;
	const char		 *path;
	size_t			  blen;
	tdc_buf			  url = { 0 };
	tdc_buf			  what = { 0 };
	tdc_buf			  auth = { 0 };
	const char		 *headers[3];
	char			  redacted[TDA_ECHO_MAX + 4];
	char			  display[TDA_ECHO_MAX * 3 + 64];
	char			  wecho[TDA_ECHO_MAX + 4];
	tda_http_request  req;
	tda_http_response resp;
	tda_status		  status;

	memset(out, 0, sizeof(*out));
	memset(&resp, 0, sizeof(resp));
	if (!tda_is_set(base))
		return tda_error_set(err, TDA_ERR_CONFIG,
							 "No MLflow tracking URI is set (MLFLOW_TRACKING_URI); it is needed to resolve models:/ URIs.");
	if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
		return tda_error_set(err, TDA_ERR_CONFIG,
							 "The MLflow tracking URI \"%s\" is not an http:// or https:// URL.",
							 tda_redact_url(base, redacted, sizeof(redacted)));
	if (tda_is_set(config->mlflow_tracking_token) &&
		strpbrk(config->mlflow_tracking_token, "\r\n") != NULL)
		return tda_error_set(err, TDA_ERR_CONFIG,
							 "The MLflow tracking token contains a line break.");
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	path = uri->kind == TDA_URI_MODEL_ALIAS ?
			   "/api/2.0/mlflow/registered-models/alias" :
			   "/api/2.0/mlflow/model-versions/get";
	if (!tdc_buf_append(&url, base, blen) ||
		!tdc_buf_append_str(&url, path) ||
		!tdc_buf_append_str(&url, "?name=") ||
		!tdc_buf_append_urlenc(&url, uri->name) ||
		!tdc_buf_append_str(&url, uri->kind == TDA_URI_MODEL_ALIAS ? "&alias=" : "&version=") ||
		!tdc_buf_append_urlenc(&url, uri->ref) ||
		!tdc_buf_append_str(&what, "models:/") ||
		!tdc_buf_append_str(&what, uri->name) ||
		!tdc_buf_append_str(&what, uri->kind == TDA_URI_MODEL_ALIAS ? "@" : "/") ||
		!tdc_buf_append_str(&what, uri->ref))
	{
		status = tda_error_nomem(err);
		goto done;
	}
	headers[0] = "Accept: application/json";
	headers[1] = NULL;
	headers[2] = NULL;
	if (tda_is_set(config->mlflow_tracking_token))
	{
		if (!tdc_buf_append_str(&auth, "Authorization: Bearer ") ||
			!tdc_buf_append_str(&auth, config->mlflow_tracking_token))
		{
			status = tda_error_nomem(err);
			goto done;
		}
		headers[1] = auth.data;
	}
	snprintf(display, sizeof(display), "%s for %s",
			 tda_redact_url(url.data, redacted, sizeof(redacted)),
			 tda_echo(what.data, wecho, sizeof(wecho)));

	memset(&req, 0, sizeof(req));
	req.url = url.data;
	req.display = display;
	req.headers = headers;
	req.max_bytes = TDA_MLFLOW_MAX_BYTES;

	status = tda_http_get(config, &req, &resp, err);
	if (status == TDA_ERR_TOO_LARGE)
		status = tda_error_set(err, TDA_ERR_PROTOCOL,
							   "GET %s returned more than %d bytes.", display,
							   TDA_MLFLOW_MAX_BYTES);
	if (status != TDA_OK)
		goto done;
	if (resp.status != 200)
	{
		status = http_error(uri, what.data, display, &resp, err);
		goto done;
	}
	status = tda_mlflow_parse_version(resp.body.data, resp.body.len, what.data,
									  out, err);
	if (status != TDA_OK && err != NULL)
		err->http_status = resp.status;

done:
	tda_http_response_free(&resp);
	if (auth.data != NULL)
		memset(auth.data, 0, auth.len);
	tdc_buf_free(&auth);
	tdc_buf_free(&what);
	tdc_buf_free(&url);
	return status;
}
