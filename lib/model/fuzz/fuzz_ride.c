/*
 * fuzz_ride.c — libFuzzer target: arbitrary bytes as a trip event, decoded
 * against a fixed small bundle and scored.
 */
#include <stdint.h>

#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static td_image		*image;
static td_predictor *predictor;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	td_value  vals[4];
	char	  rid[TD_RIDE_ID_MAX];
	td_error  err;
	double	  y;
	td_status st;

	if (image == NULL)
	{
		size_t n;

		if (td_compile_bundle(fuzz_tiny_bundle, sizeof(fuzz_tiny_bundle) - 1, NULL,
							  &image, &n, &err) != TD_OK ||
			td_predictor_create(image, &predictor, &err) != TD_OK)
			abort();
	}
	st = td_decode_ride(image, (const char *) data, size, vals, rid, &err);
	if (st != TD_OK)
	{
		if (rid[0] != '\0' || err.message[0] == '\0')
			abort();
		return 0;
	}
	if (strlen(rid) >= TD_RIDE_ID_MAX)
		abort();
	(void) td_predict(predictor, vals, &y, &err);
	return 0;
}
