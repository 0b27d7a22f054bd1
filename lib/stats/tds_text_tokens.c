/*
 * tds_text_tokens.c — the tokens scikit-learn's TfidfVectorizer takes from
 * one document, as Evidently configures it for text content drift
 * (lowercase = True, token_pattern = r"(?u)\b\w\w+\b",
 * stop_words = "english", unigrams).
 *
 * Python lowercases the whole str first (str.lower(), with the Final_Sigma
 * rule for U+03A3 and the two-code-point lowercase of U+0130), then `re`
 * finds every maximal run of word characters at least two code points
 * long, and the analyzer drops the English stop words.  The Unicode tables
 * (tds_text_tables.h) are generated from the Python that runs Evidently,
 * so tokens agree code point for code point.  Input is UTF-8; a byte that
 * does not start a valid sequence stands for U+FFFD (not a word
 * character) — Python could not have decoded such text at all.
 */
#include <stdlib.h>
#include <string.h>

#include "tds_stats.h"
#include "tds_internal.h"
#include "tds_text_tables.h"

#define CP_CAPITAL_SIGMA 0x3A3u
#define CP_SMALL_SIGMA 0x3C3u
#define CP_FINAL_SIGMA 0x3C2u
#define CP_CAPITAL_I_DOT 0x130u
#define CP_REPLACEMENT 0xFFFDu
#define TDS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static bool
in_ranges(const tds_cp_range *ranges, size_t n, uint32_t cp)
{
	size_t lo = 0;
	size_t hi = n;

	while (lo < hi)
	{
		size_t mid = lo + (hi - lo) / 2;

		if (cp < ranges[mid].first)
			hi = mid;
		else if (cp > ranges[mid].last)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static bool
is_word(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
			   (cp >= '0' && cp <= '9') || cp == '_';
	return in_ranges(tds_word_ranges, TDS_ARRAY_LEN(tds_word_ranges), cp);
}

static uint32_t
lower_one(uint32_t cp)
{
	size_t lo = 0;
	size_t hi = TDS_ARRAY_LEN(tds_lower_map);

	if (cp < 0x80)
		return (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
	while (lo < hi)
	{
		size_t mid = lo + (hi - lo) / 2;

		if (cp < tds_lower_map[mid].from)
			hi = mid;
		else if (cp > tds_lower_map[mid].from)
			lo = mid + 1;
		else
			return tds_lower_map[mid].to;
	}
	return cp;
}

static bool
sigma_ignorable(uint32_t cp)
{
	return in_ranges(tds_sigma_ignorable_ranges, TDS_ARRAY_LEN(tds_sigma_ignorable_ranges), cp);
}

static bool
sigma_cased(uint32_t cp)
{
	return in_ranges(tds_sigma_cased_ranges, TDS_ARRAY_LEN(tds_sigma_cased_ranges), cp);
}

/* CPython's handle_capital_sigma: the lowercase of cps[i] == U+03A3. */
static uint32_t
lower_sigma(const uint32_t *cps, size_t n, size_t i)
{
	size_t j = i;
	bool   final;

	while (j > 0 && sigma_ignorable(cps[j - 1]))
		j--;
	final = j > 0 && sigma_cased(cps[j - 1]);
	if (final && i + 1 < n)
	{
		for (j = i + 1; j < n && sigma_ignorable(cps[j]); j++)
			;
		final = j == n || !sigma_cased(cps[j]);
	}
	return final ? CP_FINAL_SIGMA : CP_SMALL_SIGMA;
}

static int
cmp_stop_word(const void *key, const void *elem)
{
	return strcmp((const char *) key, *(const char *const *) elem);
}

/* Whether a token (UTF-8, not NUL-terminated) is an English stop word. */
static bool
is_stop_word(const char *token, size_t len)
{
	char   key[16];
	size_t i;

	if (len >= sizeof key)
		return false; /* the longest stop word has 11 letters */
	for (i = 0; i < len; i++)
		if ((unsigned char) token[i] >= 0x80)
			return false;
	memcpy(key, token, len);
	key[len] = '\0';
	return bsearch(key, tds_stop_words, TDS_ARRAY_LEN(tds_stop_words),
				   sizeof(tds_stop_words[0]), cmp_stop_word) != NULL;
}

/* Grow the scratch buffers to hold a text of len bytes. */
static bool
scratch_reserve(tds_token_scratch *scratch, size_t len)
{
	if (scratch->cap > len && scratch->cps != NULL)
		return true;
	tdc_free(scratch->cps);
	tdc_free(scratch->low);
	tdc_free(scratch->utf8);
	scratch->cap = 0;
	/* code points <= bytes; lowercase adds at most one per U+0130 */
	scratch->cps = tdc_calloc_array(len + 1, sizeof(uint32_t));
	scratch->low = tdc_calloc_array(2 * len + 1, sizeof(uint32_t));
	scratch->utf8 = tdc_malloc(8 * len + 4);
	if (scratch->cps == NULL || scratch->low == NULL || scratch->utf8 == NULL)
		return false;
	scratch->cap = len + 1;
	return true;
}

void
tds_token_scratch_free(tds_token_scratch *scratch)
{
	tdc_free(scratch->cps);
	tdc_free(scratch->low);
	tdc_free(scratch->utf8);
	memset(scratch, 0, sizeof *scratch);
}

tds_status
tds_text_tokens(const char *text, size_t len, tds_token_scratch *scratch, tds_token_fn emit,
				void *arg, tds_error *err)
{
	const unsigned char *s = (const unsigned char *) text;
	uint32_t			*cps;
	uint32_t			*low;
	char				*utf8;
	size_t				 n = 0;
	size_t				 nl = 0;
	size_t				 pos = 0;
	size_t				 i;

	if (!scratch_reserve(scratch, len))
		return tds_drift_nomem(err);
	cps = scratch->cps;
	low = scratch->low;
	utf8 = scratch->utf8;
	while (pos < len)
	{
		uint32_t cp;
		size_t	 used = tdc_utf8_decode(s + pos, len - pos, &cp);

		if (used == 0)
		{
			cp = CP_REPLACEMENT;
			used = 1;
		}
		cps[n++] = cp;
		pos += used;
	}
	for (i = 0; i < n; i++)
	{
		if (cps[i] == CP_CAPITAL_SIGMA)
			low[nl++] = lower_sigma(cps, n, i);
		else if (cps[i] == CP_CAPITAL_I_DOT)
		{
			low[nl++] = 'i';
			low[nl++] = 0x307;
		}
		else
			low[nl++] = lower_one(cps[i]);
	}
	i = 0;
	while (i < nl)
	{
		size_t start;
		size_t bytes = 0;
		size_t k;

		if (!is_word(low[i]))
		{
			i++;
			continue;
		}
		start = i;
		while (i < nl && is_word(low[i]))
			i++;
		if (i - start < 2)
			continue;
		for (k = start; k < i; k++)
			bytes += tdc_utf8_encode(low[k], utf8 + bytes);
		if (is_stop_word(utf8, bytes))
			continue;
		if (!emit(arg, utf8, bytes))
			return tds_drift_nomem(err);
	}
	return TDS_OK;
}
