/*
 * fuzz_bundle.c — libFuzzer target: arbitrary bytes as a model bundle.
 * A bundle that compiles must pass td_image_check, survive relocation and
 * score rows without crashing; every failure must fill the error.
 */
#include <stdint.h>
#include <stdio.h>

#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	td_limits lim;
	td_image *img = NULL;
	size_t	  img_size = 0;
	td_error  err;
	td_status st;

	fuzz_limits(&lim);
	st = td_compile_bundle((const char *) data, size, &lim, &img, &img_size, &err);
	if (st != TD_OK)
	{
		if (img != NULL || err.status != st || err.message[0] == '\0' || err.detail[0] == '\0')
			abort();
		return 0;
	}
	if (td_image_check(img, img_size, &err) != TD_OK)
	{
		fprintf(stderr, "compiled image fails its check: %s\n", err.detail);
		abort();
	}
	{
		void *copy = malloc(img_size);

		memcpy(copy, img, img_size);
		free(img);
		fuzz_score((const td_image *) copy, data, size);
		(void) td_image_meta((const td_image *) copy, TD_META_MODEL_NAME);
		free(copy);
	}
	return 0;
}
