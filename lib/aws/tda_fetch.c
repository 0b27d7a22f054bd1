/*
 * tda_fetch.c — the library's entry points: tda_fetch (resolve a models:/
 * URI through the registry if need be, then download and verify the
 * s3:// bundle), tda_resolve_model, tda_config_from_env and
 * tda_result_free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tda_internal.h"

static void
set_from_env(const char **field, const char *name)
{
	const char *value = getenv(name);

	if (value != NULL && *value != '\0')
		*field = value;
}

void
tda_config_from_env(tda_config *config)
{
	set_from_env(&config->aws_region, "AWS_DEFAULT_REGION");
	set_from_env(&config->aws_region, "AWS_REGION");
	set_from_env(&config->aws_endpoint_url, "AWS_ENDPOINT_URL");
	set_from_env(&config->aws_endpoint_url, "AWS_ENDPOINT_URL_S3");
	set_from_env(&config->aws_access_key_id, "AWS_ACCESS_KEY_ID");
	set_from_env(&config->aws_secret_access_key, "AWS_SECRET_ACCESS_KEY");
	set_from_env(&config->aws_session_token, "AWS_SESSION_TOKEN");
	set_from_env(&config->mlflow_tracking_uri, "MLFLOW_TRACKING_URI");
	set_from_env(&config->mlflow_tracking_token, "MLFLOW_TRACKING_TOKEN");
}

void
tda_result_free(tda_result *result)
{
	if (result == NULL)
		return;
	tdc_free(result->data);
	memset(result, 0, sizeof(*result));
}

/* Common start of both entry points: reset the outputs, parse the URI. */
static tda_status
begin(const tda_config *config, const char *uri, tda_uri *parsed,
	  tda_result *result, tda_error *err)
{
	tdc_error_clear(err);
	memset(parsed, 0, sizeof(*parsed));
	if (result != NULL)
		memset(result, 0, sizeof(*result));
	if (config == NULL || result == NULL)
		return tda_error_set(err, TDA_ERR_CONFIG,
							 "tda_fetch needs a configuration and a result.");
	if (config->max_bytes == 0)
		return tda_error_set(err, TDA_ERR_CONFIG,
							 "No size limit is set for model downloads (max_bytes).");
	return tda_uri_parse(uri, parsed, err);
}

/* models:/ → the registry's s3:// URI, sha256, version and run id. */
static tda_status
resolve(const tda_config *config, const tda_uri *parsed, tda_uri *s3,
		tda_result *result, tda_model_version *mv, tda_error *err)
{
	tda_status status;

	status = tda_mlflow_resolve(config, parsed, mv, err);
	if (status != TDA_OK)
		return status;
	status = tda_uri_parse(mv->bundle_uri, s3, err);
	if (status != TDA_OK) /* cannot happen: the parser checked it */
		return tda_error_set(err, TDA_ERR_PROTOCOL,
							 "The registry's bundle_uri is not a usable s3:// URI.");
	snprintf(result->resolved_uri, sizeof(result->resolved_uri), "%s", mv->bundle_uri);
	snprintf(result->model_version, sizeof(result->model_version), "%s", mv->version);
	snprintf(result->run_id, sizeof(result->run_id), "%s", mv->run_id);
	memcpy(result->sha256, mv->bundle_sha256, sizeof(result->sha256));
	return TDA_OK;
}

tda_status
tda_fetch(const tda_config *config, const char *uri, tda_result *result,
		  tda_error *err)
{
	tda_uri			  parsed;
	tda_uri			  s3;
	tda_model_version mv;
	tda_result		  got;
	tda_status		  status;

	status = begin(config, uri, &parsed, result, err);
	if (status != TDA_OK)
		return status;
	if (parsed.kind == TDA_URI_S3)
		return tda_s3_get(config, &parsed, NULL, result, err);

	status = resolve(config, &parsed, &s3, result, &mv, err);
	if (status != TDA_OK)
	{
		memset(result, 0, sizeof(*result));
		return status;
	}
	memset(&got, 0, sizeof(got));
	status = tda_s3_get(config, &s3, mv.bundle_sha256, &got, err);
	if (status != TDA_OK)
	{
		memset(result, 0, sizeof(*result));
		return status;
	}
	result->data = got.data;
	result->len = got.len;
	memcpy(result->sha256, got.sha256, sizeof(result->sha256));
	return TDA_OK;
}

tda_status
tda_resolve_model(const tda_config *config, const char *uri,
				  tda_result *result, tda_error *err)
{
	tda_uri			  parsed;
	tda_uri			  s3;
	tda_model_version mv;
	tda_status		  status;

	status = begin(config, uri, &parsed, result, err);
	if (status != TDA_OK)
		return status;
	if (parsed.kind == TDA_URI_S3)
	{
		char echo[TDA_ECHO_MAX + 4];

		return tda_error_set(err, TDA_ERR_URI,
							 "The URI \"%s\" is not a models:/ URI; only those are resolved.",
							 tda_echo(uri, echo, sizeof(echo)));
	}
	status = resolve(config, &parsed, &s3, result, &mv, err);
	if (status != TDA_OK)
		memset(result, 0, sizeof(*result));
	return status;
}
