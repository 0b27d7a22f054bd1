/*
 * fuzz_mlflow.c — libFuzzer target for the parser of MLflow's
 * model-versions/get and registered-models/alias answers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tda_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tda_model_version mv;
	tda_error		  err;
	tda_uri			  uri;

	if (tda_mlflow_parse_version((const char *) data, size, "models:/fuzz@x",
								 &mv, &err) == TDA_OK)
	{
		/* Success promises a usable s3:// URI and a lower-case sha256. */
		if (tda_uri_parse(mv.bundle_uri, &uri, &err) != TDA_OK ||
			uri.kind != TDA_URI_S3 || !tda_is_sha256_hex(mv.bundle_sha256) ||
			strpbrk(mv.bundle_sha256, "ABCDEF") != NULL || mv.version[0] == '\0')
			abort();
	}
	else if (err.status != TDA_ERR_PROTOCOL)
		abort();
	return 0;
}
