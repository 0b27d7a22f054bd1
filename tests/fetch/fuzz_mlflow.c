/*
 * fuzz_mlflow.c — libFuzzer target for the parser of MLflow's
 * model-versions/get and registered-models/alias answers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tdf_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tdf_model_version mv;
	tdf_error		  err;
	tdf_uri			  uri;

	if (tdf_mlflow_parse_version((const char *) data, size, "models:/fuzz@x",
								 &mv, &err) == TDF_OK)
	{
		/* Success promises a usable s3:// URI and a lower-case sha256. */
		if (tdf_uri_parse(mv.bundle_uri, &uri, &err) != TDF_OK ||
			uri.kind != TDF_URI_S3 || !tdf_is_sha256_hex(mv.bundle_sha256) ||
			strpbrk(mv.bundle_sha256, "ABCDEF") != NULL || mv.version[0] == '\0')
			abort();
	}
	else if (err.status != TDF_ERR_PROTOCOL)
		abort();
	return 0;
}
