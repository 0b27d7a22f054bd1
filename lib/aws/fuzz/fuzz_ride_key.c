/*
 * fuzz_ride_key.c — libFuzzer target for tda_partition_key_from_ride_id,
 * which reads ride ids out of untrusted trip events (the Lambda's input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tda_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 *s = malloc(size + 1);
	char	  key[TDA_KINESIS_MAX_KEY_LEN + 1];
	tda_error err;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (tda_partition_key_from_ride_id(s, key, &err) == TDA_OK)
	{
		size_t len = strlen(key);

		/* a key Kinesis takes; a number's key is canonical integer text */
		if (len == 0 || len > TDA_KINESIS_MAX_KEY_LEN)
			abort();
		if (s[0] != '"' &&
			(strspn(key + (key[0] == '-'), "0123456789") != len - (key[0] == '-') ||
			 len > 20 || (key[key[0] == '-'] == '0' && len > 1) || strcmp(key, "-0") == 0))
			abort();
	}
	else if (key[0] != '\0' || err.detail[0] == '\0')
		abort();
	free(s);
	return 0;
}
