/*
 * fuzz_text_drift.c — libFuzzer target: arbitrary bytes as a free-text
 * column.  The input is split at '\n' into texts; the first byte of each
 * line says how many reference and current rows hold it.  Every text goes
 * through the tokenizer on its own (tokens must be non-empty, valid UTF-8
 * of at least two code points, and never a stop word), then the whole
 * column through both text content drift tests: any status but a crash,
 * and an AUC in [0, 1] when one is returned.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tds_stats.h"
#include "tds_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TEXTS 64

static size_t
utf8_code_points(const char *s, size_t len)
{
	size_t n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		n += ((unsigned char) s[i] & 0xC0) != 0x80;
	return n;
}

static bool
check_token(void *arg, const char *token, size_t len)
{
	(void) arg;
	if (len == 0 || utf8_code_points(token, len) < 2)
		abort();
	if ((len == 3 && memcmp(token, "the", 3) == 0) || (len == 3 && memcmp(token, "and", 3) == 0))
		abort();
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		 *texts[MAX_TEXTS];
	uint32_t		  lens[MAX_TEXTS];
	int64_t			  ref[MAX_TEXTS];
	int64_t			  cur[MAX_TEXTS];
	tds_text_column	  c;
	tds_token_scratch scratch;
	tds_error		  err;
	size_t			  m = 0;
	size_t			  pos = 0;
	int				  t;

	memset(&c, 0, sizeof c);
	memset(&scratch, 0, sizeof scratch);
	while (pos < size && m < MAX_TEXTS)
	{
		uint8_t		counts = data[pos++];
		const char *start = (const char *) data + pos;
		size_t		len = 0;

		while (pos < size && data[pos] != '\n')
			pos++, len++;
		pos++; /* the '\n' */
		texts[m] = start;
		lens[m] = (uint32_t) len;
		ref[m] = counts & 0x0F;
		cur[m] = counts >> 4;
		c.n_ref += ref[m];
		c.n_cur += cur[m];
		if (tds_text_tokens(start, len, &scratch, check_token, NULL, &err) != TDS_OK)
			abort();
		m++;
	}
	tds_token_scratch_free(&scratch);
	c.m = m;
	c.texts = texts;
	c.lens = lens;
	c.ref = ref;
	c.cur = cur;
	for (t = 0; t < 2; t++)
	{
		double auc = NAN;
		double bound;
		bool   drifted;

		if (tds_text_content_drift(t ? TDS_STATTEST_PERC_TEXT : TDS_STATTEST_ABS_TEXT, &c,
								   t ? 0.95 : 0.55, &auc, &drifted, &bound, &err) == TDS_OK &&
			!(auc >= 0 && auc <= 1))
			abort();
	}
	return 0;
}
