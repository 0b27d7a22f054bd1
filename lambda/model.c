/*
 * model.c — the Lambda's model: read the bundle named by TD_MODEL_URI
 * (a file:// URI or a plain path, or s3:// / models:/ through the fetch
 * library), compile it into an image and create one predictor, once per
 * execution environment (cold start); every invocation reuses them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lambda.h"

#define MAX_BUNDLE_BYTES ((size_t) 64 * 1024 * 1024)

/* Read a whole file into a malloc'd buffer. */
static bool
read_file(const char *path, char **data, size_t *len, char *errbuf)
{
	FILE  *f;
	char  *buf = NULL;
	size_t cap = 0;
	size_t n = 0;

	f = fopen(path, "rb");
	if (f == NULL)
	{
		snprintf(errbuf, LAMBDA_ERR_LEN, "could not open model bundle \"%s\"", path);
		return false;
	}
	for (;;)
	{
		size_t got;

		if (n == cap)
		{
			char *nb;

			cap = cap ? cap * 2 : 1 << 20;
			if (cap > MAX_BUNDLE_BYTES + 1 || (nb = realloc(buf, cap + 1)) == NULL)
			{
				snprintf(errbuf, LAMBDA_ERR_LEN,
						 "model bundle \"%s\" is too large or memory ran out", path);
				free(buf);
				fclose(f);
				return false;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
	{
		snprintf(errbuf, LAMBDA_ERR_LEN, "could not read model bundle \"%s\"", path);
		free(buf);
		fclose(f);
		return false;
	}
	fclose(f);
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return true;
}

bool
lambda_model_load(const char *uri, lambda_model *model, char errbuf[LAMBDA_ERR_LEN])
{
	char	  *data = NULL;
	size_t	   len = 0;
	bool	   from_fetch = false;
	tda_result result;
	td_limits  limits;
	td_error   err;

	memset(model, 0, sizeof(*model));
	memset(&result, 0, sizeof(result));
	if (uri == NULL || *uri == '\0')
	{
		snprintf(errbuf, LAMBDA_ERR_LEN, "TD_MODEL_URI is not set");
		return false;
	}
	snprintf(model->source, sizeof(model->source), "%s", uri);
	if (strncmp(uri, "s3://", 5) == 0 || strncmp(uri, "models:/", 8) == 0)
	{
		tda_config config;
		tda_error  ferr;

		memset(&config, 0, sizeof(config));
		tda_config_from_env(&config);
		config.max_bytes = MAX_BUNDLE_BYTES;
		if (tda_fetch(&config, uri, &result, &ferr) != TDA_OK)
		{
			snprintf(errbuf, LAMBDA_ERR_LEN, "%s: %s (%s)", ferr.message,
					 ferr.detail, tda_status_name(ferr.status));
			return false;
		}
		data = result.data;
		len = result.len;
		from_fetch = true;
	}
	else
	{
		const char *path = uri;

		if (strncmp(uri, "file://", 7) == 0)
			path = uri + 7;
		if (!read_file(path, &data, &len, errbuf))
			return false;
	}

	td_default_limits(&limits);
	if (td_compile_bundle(data, len, &limits, &model->image, &model->image_size,
						  &err) != TD_OK)
		snprintf(errbuf, LAMBDA_ERR_LEN, "%s: %s (%s)", err.message, err.detail,
				 td_status_name(err.status));
	else if (td_predictor_create(model->image, &model->predictor, &err) != TD_OK)
		snprintf(errbuf, LAMBDA_ERR_LEN, "%s: %s (%s)", err.message, err.detail,
				 td_status_name(err.status));

	if (from_fetch)
		tda_result_free(&result);
	else
		free(data);
	if (model->predictor == NULL)
	{
		lambda_model_free(model);
		return false;
	}
	return true;
}

void
lambda_model_free(lambda_model *model)
{
	if (model->predictor != NULL)
		td_predictor_free(model->predictor);
	if (model->image != NULL)
		free(model->image); /* default allocation hooks: malloc/free */
	model->predictor = NULL;
	model->image = NULL;
}
