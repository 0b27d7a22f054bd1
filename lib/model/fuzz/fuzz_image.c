/*
 * fuzz_image.c — libFuzzer target: a compiled image, damaged.  The input is
 * a list of edits (2-byte offset, 1 byte XORed there) applied to a copy of
 * the tiny bundle's image, whose length is cut by the input's first byte
 * when it is odd.  td_image_check must refuse the image or the image must
 * score rows without crashing (ASan/UBSan) — in particular its node table,
 * reduced trees and one-hot tree lists (td_reduce.c).
 */
#include <stdint.h>
#include <stdio.h>

#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static td_image *image;
static size_t	 image_size;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy;
	size_t		   len;
	size_t		   i;
	td_error	   err;

	if (image == NULL)
	{
		td_limits lim;

		fuzz_limits(&lim);
		if (td_compile_bundle(fuzz_tiny_bundle, sizeof(fuzz_tiny_bundle) - 1, &lim,
							  &image, &image_size, &err) != TD_OK)
		{
			fprintf(stderr, "the tiny bundle does not compile: %s\n", err.detail);
			abort();
		}
	}
	len = image_size;
	if (size > 0 && (data[0] & 1u))
		len = image_size - (data[0] % image_size);
	copy = malloc(image_size);
	if (copy == NULL)
		return 0;
	memcpy(copy, image, image_size);
	for (i = 1; i + 3 <= size; i += 3)
	{
		size_t off = ((size_t) data[i] | ((size_t) data[i + 1] << 8)) % image_size;

		copy[off] ^= data[i + 2];
	}
	if (td_image_check(copy, len, &err) == TD_OK)
		fuzz_score((const td_image *) copy, data, size);
	else if (err.detail[0] == '\0')
		abort();
	free(copy);
	return 0;
}
