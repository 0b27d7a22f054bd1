/*
 * test_members.c — unit tests of td_members.c (only the bundle members
 * serving reads are parsed; big read values are built piecewise) and of
 * the compile's cancel callback (td_limits.cancel_requested).
 *
 * TD_FIXTURE_DIR names lib/model/test/fixtures (set by lib/model/Makefile).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_internal.h"
#include "tdc_test.h"

#ifndef TD_FIXTURE_DIR
#define TD_FIXTURE_DIR "lib/model/test/fixtures"
#endif

int td_tests_passed = 0;
int td_tests_failed = 0;

/* text with `insert` put right after the first occurrence of `after`. */
static char *
insert_after(const char *text, const char *after, const char *insert)
{
	const char *at = strstr(text, after);
	size_t		head = (size_t) (at - text) + strlen(after);
	char	   *out = malloc(strlen(text) + strlen(insert) + 1);

	memcpy(out, text, head);
	strcpy(out + head, insert);
	strcat(out, text + head);
	return out;
}

/* "\"name\":[0.5,-1,...],": an array of `count` numbers (and one `odd` item). */
static char *
number_member(const char *name, size_t count, const char *odd)
{
	size_t i;
	size_t at;
	char  *out = malloc(count * 8 + strlen(name) + strlen(odd) + 16);

	at = (size_t) sprintf(out, "\"%s\":[%s", name, odd);
	for (i = 0; i < count; i++)
		at += (size_t) sprintf(out + at, ",%s", i % 2 ? "0.5" : "-1e3");
	strcpy(out + at, "],");
	return out;
}

/* Compile and compare the image with `expect` (NULL: only the status). */
static void
expect_compile(const char *name, const char *text, const td_limits *lim,
			   td_status want, const td_image *expect, size_t expect_size,
			   const char *detail_word)
{
	td_image *img = NULL;
	size_t	  size = 0;
	td_error  err;
	td_status st = td_compile_bundle(text, strlen(text), lim, &img, &size, &err);
	char	  descr[1024];

	snprintf(descr, sizeof(descr), "%s -> %s (got %s: %s)", name, td_status_name(want),
			 td_status_name(st), err.detail);
	test_cond(descr, st == want && (st == TD_OK) == (img != NULL) &&
						 (detail_word == NULL || strstr(err.detail, detail_word) != NULL) &&
						 (expect == NULL ||
						  (size == expect_size && memcmp(img, expect, size) == 0)));
	free(img);
}

static int polls_left;

static bool
cancel_after(void *arg)
{
	(void) arg;
	return polls_left-- <= 0;
}

static void
test_skipped_members(const char *base, const td_image *want, size_t want_size)
{
	char *big = number_member("training_extra", 1u << 20, "1");
	char *text = insert_after(base, "{", big);
	char *bad = number_member("reference_profile_extra", 10, "01");
	char *bad_text = insert_after(base, "{", bad);
	char *ctl = insert_after(base, "{", "\"training_extra\":\"tab\there\",");

	expect_compile("an 8 MB unread member is skipped", text, NULL, TD_OK, want, want_size, NULL);
	expect_compile("a lenient number in an unread member", bad_text, NULL, TD_ERR_JSON, NULL, 0,
				   "RFC 8259");
	expect_compile("a control character in an unread string", ctl, NULL, TD_ERR_JSON, NULL, 0,
				   "control character");
	free(big);
	free(text);
	free(bad);
	free(bad_text);
	free(ctl);
}

static void
test_big_read_member(const char *base, const td_image *want, size_t want_size)
{
	/* an unknown member inside the (read) estimator: built piecewise, then ignored */
	char	 *pad = number_member("padding", 200000, "[{\"a\":[1,2]},{}]");
	char	 *text = insert_after(base, "\"estimator\":{", pad);
	td_limits lim;
	int		  n;
	int		  canceled = 0;
	int		  compiled = 0;

	expect_compile("a 1.6 MB read member built piecewise", text, NULL, TD_OK, want, want_size, NULL);
	td_default_limits(&lim);
	lim.cancel_requested = cancel_after;
	for (n = 0; n < 400; n += 7)
	{
		td_image *img = NULL;
		size_t	  size = 0;
		td_error  err;
		td_status st;

		polls_left = n;
		st = td_compile_bundle(text, strlen(text), &lim, &img, &size, &err);
		canceled += st == TD_ERR_CANCELED && img == NULL && err.status == TD_ERR_CANCELED &&
					err.detail[0] != '\0';
		compiled += st == TD_OK && size == want_size && memcmp(img, want, size) == 0;
		free(img);
	}
	test_cond("cancel at every poll point unwinds (and a late one is not seen)",
			  canceled > 10 && canceled + compiled == (400 + 6) / 7);
	free(pad);
	free(text);
}

static void
test_parse_members(void)
{
	const char *doc = " {\"form\\u0061t\":\"x\", \"training\":[1,{\"model\":2}], \"model\":{\"a\":1},"
					  "\"model\":[2], \"x\":null}\n";
	td_error	err;
	cJSON	   *kept = td_parse_bundle_members(doc, strlen(doc), NULL, &err);
	char	   *text = kept ? cJSON_PrintUnformatted(kept) : NULL;

	test_cond("read members, in order, duplicates kept, escaped key decoded",
			  text != NULL && strcmp(text, "{\"format\":\"x\",\"model\":{\"a\":1},\"model\":[2]}") == 0);
	cJSON_free(text);
	cJSON_Delete(kept);

	doc = "{\"model\":{\"a\":1}";
	kept = td_parse_bundle_members(doc, strlen(doc), NULL, &err);
	test_cond("truncated: cJSON's message as before",
			  kept == NULL && err.status == TD_ERR_JSON && strstr(err.detail, "parsing failed at byte") != NULL);
	doc = "{\"training\":[1] } x";
	kept = td_parse_bundle_members(doc, strlen(doc), NULL, &err);
	test_cond("trailing data refused", kept == NULL && err.status == TD_ERR_JSON);
	doc = "\x01{\"model\":1}";
	kept = td_parse_bundle_members(doc, strlen(doc), NULL, &err);
	test_cond("an object after a control byte refused", kept == NULL && err.status == TD_ERR_JSON);
	doc = "{\"training\":\"\\ud800\"}";
	kept = td_parse_bundle_members(doc, strlen(doc), NULL, &err);
	test_cond("a lone surrogate refused", kept == NULL && err.status == TD_ERR_JSON);
	doc = "[1,2]";
	kept = td_parse_bundle_members(doc, strlen(doc), NULL, &err);
	test_cond("a top-level array is parsed whole", kept != NULL && cJSON_IsArray(kept));
	cJSON_Delete(kept);
}

int
main(void)
{
	size_t	  len;
	char	 *base = tdc_test_read_file(TD_FIXTURE_DIR, "xgb_hist.bundle.json", &len);
	td_image *want = NULL;
	size_t	  want_size = 0;
	td_error  err;

	if (base == NULL)
	{
		printf("cannot read %s/xgb_hist.bundle.json\n", TD_FIXTURE_DIR);
		return 1;
	}
	if (td_compile_bundle(base, len, NULL, &want, &want_size, &err) != TD_OK)
	{
		printf("fixture does not compile: %s\n", err.detail);
		return 1;
	}
	test_parse_members();
	test_skipped_members(base, want, want_size);
	test_big_read_member(base, want, want_size);
	free(want);
	free(base);
	test_report();
	return td_tests_failed == 0 ? 0 : 1;
}
