/*
 * fuzz_uri.c — libFuzzer target for the URI parser and the helpers that
 * echo untrusted text and URLs into error details.
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
	tda_uri	  uri;
	tda_error err;
	char	  buf[TDA_ECHO_MAX + 4];

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (tda_uri_parse(s, &uri, &err) == TDA_OK)
	{
		/* What parses must be one of the shapes the fetchers rely on. */
		if (uri.kind == TDA_URI_S3 &&
			(strlen(uri.bucket) < 3 || uri.key[0] == '\0' ||
			 strpbrk(uri.key, "?# %\\") != NULL))
			abort();
		if (uri.kind != TDA_URI_S3 && (uri.name[0] == '\0' || uri.ref[0] == '\0'))
			abort();
	}
	else if (err.status != TDA_ERR_URI || err.detail[0] == '\0')
		abort();
	tda_redact_url(s, buf, sizeof(buf));
	if (strlen(buf) >= sizeof(buf))
		abort();
	tda_echo(s, buf, 5);
	free(s);
	return 0;
}
