/*
 * fuzz_members.c — libFuzzer target for td_members.c, the scanner that
 * hands cJSON only the bundle members serving reads.  Differential: when
 * it accepts a text, cJSON accepts the whole text too, and the members it
 * kept are, in order, exactly the read members of cJSON's own parse (built
 * piecewise: the Makefile compiles this target with a tiny TD_PARSE_CHUNK).
 * Some inputs are cancelled after a few polls, which must unwind cleanly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const read_members[] = {
	"format", "format_version", "model", "inputs", "features", "estimator"
};

static int polls_left;

static bool
cancel_after_polls(void *arg)
{
	(void) arg;
	return polls_left >= 0 && polls_left-- == 0;
}

static bool
is_read(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(read_members) / sizeof(read_members[0]); i++)
		if (strcmp(key, read_members[i]) == 0)
			return true;
	return false;
}

/* Same JSON (cJSON_Compare calls 1e999 unequal to itself: compare the text). */
static bool
same_json(const cJSON *a, const cJSON *b)
{
	char *x = cJSON_PrintUnformatted(a);
	char *y = cJSON_PrintUnformatted(b);
	bool  same = x != NULL && y != NULL && strcmp(x, y) == 0;

	cJSON_free(x);
	cJSON_free(y);
	return same;
}

/* kept == the read members of whole, in order. */
static void
check_same(const cJSON *kept, const cJSON *whole)
{
	const cJSON *k = kept->child;
	const cJSON *w;

	cJSON_ArrayForEach(w, whole)
	{
		if (w->string == NULL || !is_read(w->string))
			continue;
		if (k == NULL || strcmp(k->string, w->string) != 0 || !same_json(k, w))
		{
			fprintf(stderr, "kept member differs from cJSON's: %s\n", w->string);
			abort();
		}
		k = k->next;
	}
	if (k != NULL)
	{
		fprintf(stderr, "extra kept member: %s\n", k->string);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *json = (const char *) data;
	td_limits	lim;
	td_error	err;
	cJSON	   *kept;
	cJSON	   *whole;

	td_default_limits(&lim);
	lim.cancel_requested = cancel_after_polls;
	polls_left = size % 5 == 0 ? (int) (size % 7) : -1;
	memset(&err, 0, sizeof(err));
	kept = td_parse_bundle_members(json, size, &lim, &err);
	if (kept == NULL)
	{
		if (err.status == TD_OK || err.message[0] == '\0' || err.detail[0] == '\0')
			abort();
		return 0;
	}
	whole = td_json_parse(json, size, TD_ERR_JSON, "model bundle", &err);
	if (whole == NULL)
	{
		fprintf(stderr, "the scanner accepted what cJSON refuses: %s\n", err.detail);
		abort();
	}
	if (cJSON_IsObject(whole))
		check_same(kept, whole);
	else if (!same_json(kept, whole))
		abort();
	cJSON_Delete(kept);
	cJSON_Delete(whole);
	return 0;
}
