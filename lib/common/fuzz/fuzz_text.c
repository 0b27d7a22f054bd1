/*
 * fuzz_text.c — libFuzzer target for the common library's text helpers:
 * tdc_escape, tdc_echo and tdc_redact_userinfo on arbitrary bytes and
 * buffer sizes must stay within the buffer, end with a NUL and (escape,
 * echo) give printable ASCII only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tdc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char  *text;
	char   out[700];
	size_t cap;

	if (size < 1)
		return 0;
	cap = data[0] % sizeof(out); /* 0 .. 699: the cap under test */
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';

	memset(out, 'Z', sizeof(out));
	tdc_escape(text, out, cap);
	if (cap > 0)
	{
		if (strlen(out) >= cap)
			abort();
		check_printable(out);
	}
	if (cap < sizeof(out) && out[cap] != 'Z')
		abort();

	memset(out, 'Z', sizeof(out));
	tdc_echo(text, out, cap);
	if (cap > 0 && (strlen(out) >= cap || strlen(out) > TDC_ECHO_MAX + 3))
		abort();
	if (cap > 0)
		check_printable(out);

	memset(out, 'Z', sizeof(out));
	tdc_redact_userinfo(text, out, cap);
	if (cap > 0 && strlen(out) >= cap)
		abort();
	if (cap > 0 && strlen(out) > strlen(text))
		abort();
	free(text);
	return 0;
}
