/*
 * test_text.c — unit tests of the text content drift test
 * (tds_text_drift.c, tds_text_tokens.c) against Evidently 0.7.23 and
 * scikit-learn 1.9 (text_goldens.h, written by gen_text_goldens.py):
 * scikit-learn's tokens of awkward strings (stop words, Final_Sigma, U+0130,
 * ligatures, digits of other scripts), then the ROC AUC and verdict of both
 * tests on synthetic windows, which must equal Evidently's to the bit, and
 * its errors.  Also: the row limit, bad arguments, and that the distinct
 * texts' order does not matter.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tds_stats.h"
#include "tds_internal.h"
#include "tdc_test.h"

#include "text_goldens.h"

int td_tests_passed = 0;
int td_tests_failed = 0;

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

typedef struct token_list
{
	char   buf[4096];
	size_t len;
} token_list;

static bool
collect_token(void *arg, const char *token, size_t len)
{
	token_list *l = arg;

	if (l->len + len + 2 > sizeof l->buf)
		return false;
	if (l->len > 0)
		l->buf[l->len++] = ' ';
	memcpy(l->buf + l->len, token, len);
	l->len += len;
	l->buf[l->len] = '\0';
	return true;
}

static void
test_tokens(void)
{
	size_t i;

	for (i = 0; i < N_ELEMS(text_token_goldens); i++)
	{
		const text_token_golden *g = &text_token_goldens[i];
		token_list				 l;
		tds_error				 err;
		char					 what[200];
		bool					 ok;

		tds_token_scratch scratch;

		memset(&scratch, 0, sizeof scratch);
		l.len = 0;
		l.buf[0] = '\0';
		ok = tds_text_tokens(g->text, strlen(g->text), &scratch, collect_token, &l, &err) == TDS_OK;
		tds_token_scratch_free(&scratch);
		snprintf(what, sizeof what, "tokens of \"%s\"", g->text);
		if (ok && strcmp(l.buf, g->tokens) != 0)
			printf("  %s: got \"%s\", scikit-learn \"%s\"\n", what, l.buf, g->tokens);
		test_cond(what, ok && strcmp(l.buf, g->tokens) == 0);
	}
	/* invalid UTF-8 is not a word character, and never read past the end */
	{
		token_list l;
		tds_error  err;
		const char bad[] = "ab\xff"
						   "cd\xe2\x82"
						   "ef\xc0\xaf"
						   "gh\xed\xa0\x80"
						   "ij\xf4\x90\x80\x80"
						   "kl\xe2";

		tds_token_scratch scratch;

		memset(&scratch, 0, sizeof scratch);
		l.len = 0;
		l.buf[0] = '\0';
		test_cond("invalid UTF-8 splits words",
				  tds_text_tokens(bad, sizeof bad - 1, &scratch, collect_token, &l, &err) == TDS_OK &&
					  strcmp(l.buf, "ab cd ef gh ij kl") == 0);
		tds_token_scratch_free(&scratch);
	}
}

static tds_text_column
golden_column(const text_golden *g, uint32_t *lens)
{
	tds_text_column c;
	size_t			i;

	memset(&c, 0, sizeof c);
	c.m = g->m;
	c.texts = g->texts;
	c.lens = lens;
	c.ref = g->ref;
	c.cur = g->cur;
	c.n_ref = 0;
	c.n_cur = 0;
	for (i = 0; i < g->m; i++)
	{
		lens[i] = (uint32_t) strlen(g->texts[i]);
		c.n_ref += g->ref[i];
		c.n_cur += g->cur[i];
	}
	return c;
}

static void
test_goldens(void)
{
	size_t i;

	for (i = 0; i < N_ELEMS(text_goldens); i++)
	{
		const text_golden *g = &text_goldens[i];
		uint32_t		  *lens = malloc(sizeof(uint32_t) * (g->m ? g->m : 1));
		tds_text_column	   c = golden_column(g, lens);
		tds_stattest	   test = tds_stattest_from_name(g->test);
		tds_error		   err;
		double			   auc = NAN;
		double			   bound;
		bool			   drifted = false;
		tds_status		   st;
		char			   what[160];

		st = tds_text_content_drift(test, &c, g->threshold, &auc, &drifted, &bound, &err);
		snprintf(what, sizeof what, "%s: %s", g->name, g->test);
		if (g->error)
		{
			if (st == TDS_OK)
				printf("  %s: Evidently raised, we scored %.17g\n", what, auc);
			test_cond(what, st == TDS_ERR_INPUT);
		}
		else
		{
			bool perc = test == TDS_STATTEST_PERC_TEXT;
			bool same_bound = perc ? bound == g->random_auc_percentile : isnan(bound);

			if (st != TDS_OK)
				printf("  %s: %s (%s)\n", what, err.message, err.detail);
			else if (auc != g->auc || drifted != (bool) g->drifted || !same_bound)
				printf("  %s: AUC %.17g drifted %d bound %.17g, Evidently %.17g %d %.17g\n", what,
					   auc, drifted, bound, g->auc, g->drifted, g->random_auc_percentile);
			test_cond(what, st == TDS_OK && auc == g->auc && drifted == (bool) g->drifted && same_bound);
		}
		free(lens);
	}
}

static void
test_arguments(void)
{
	const char *const texts[] = { "taxi fare", "snow storm" };
	const uint32_t	  lens[] = { 9, 10 };
	const int64_t	  ref[] = { 1, 0 };
	const int64_t	  cur[] = { 0, 1 };
	const int64_t	  huge[] = { TDS_TEXT_MAX_ROWS, 1 };
	tds_text_column	  c = { 2, texts, lens, ref, cur, 1, 1, NULL, NULL };
	tds_error		  err;
	double			  auc;
	double			  bound;
	bool			  drifted;

	test_cond("a non-text test is refused",
			  tds_text_content_drift(TDS_STATTEST_KS, &c, 0.5, &auc, &drifted, &bound, &err) == TDS_ERR_INPUT);
	c.n_cur = 0;
	c.cur = ref;
	c.ref = ref;
	test_cond("an empty window is refused",
			  tds_text_content_drift(TDS_STATTEST_ABS_TEXT, &c, 0.55, &auc, &drifted, &bound, &err) == TDS_ERR_INPUT);
	c.ref = huge;
	c.cur = cur;
	c.n_ref = TDS_TEXT_MAX_ROWS;
	c.n_cur = 1;
	test_cond("more rows than the limit are refused before any allocation",
			  tds_text_content_drift(TDS_STATTEST_ABS_TEXT, &c, 0.55, &auc, &drifted, &bound, &err) == TDS_ERR_INPUT &&
				  strstr(err.detail, "limit") != NULL);
	c.ref = ref;
	c.n_ref = 5; /* counts that do not add up */
	test_cond("counts that disagree with the totals are refused",
			  tds_text_content_drift(TDS_STATTEST_ABS_TEXT, &c, 0.55, &auc, &drifted, &bound, &err) == TDS_ERR_INPUT);
}

static const text_golden *
golden_named(const char *name)
{
	size_t i;

	for (i = 0; i < N_ELEMS(text_goldens); i++)
		if (strcmp(text_goldens[i].name, name) == 0)
			return &text_goldens[i];
	return NULL;
}

/* Every allocation failing in turn: TDS_ERR_NOMEM, nothing leaked, then the golden AUC. */
static void
test_nomem_sweep(const char *name, int with_realloc)
{
	const text_golden	 *g = golden_named(name);
	uint32_t			 *lens = malloc(sizeof(uint32_t) * (g ? g->m : 1));
	tds_text_column		  c;
	tdc_allocator		  hooks = tdc_test_hooks(with_realloc);
	tdc_test_alloc_state *alloc = tdc_test_alloc();
	bool				  all_nomem = true;
	bool				  no_leak = true;
	bool				  finished = false;
	double				  auc = NAN;
	long				  k;
	char				  what[160];

	if (g == NULL)
	{
		test_cond(name, false);
		free(lens);
		return;
	}
	c = golden_column(g, lens);
	tdc_set_allocator(&hooks);
	for (k = 0; k < 400 && !finished; k++)
	{
		tds_error  err;
		double	   bound;
		bool	   drifted;
		tds_status st;

		alloc->calls = 0;
		alloc->fail_at = k;
		alloc->live = 0;
		st = tds_text_content_drift(tds_stattest_from_name(g->test), &c, g->threshold, &auc,
									&drifted, &bound, &err);
		if (st == TDS_OK)
			finished = true;
		else if (st != TDS_ERR_NOMEM)
		{
			all_nomem = false;
			printf("  fail_at %ld: %s\n", k, err.detail);
		}
		if (alloc->live != 0)
			no_leak = false;
	}
	alloc->fail_at = -1;
	tdc_set_allocator(NULL);
	snprintf(what, sizeof what, "%s (realloc %d): every failed allocation is TDS_ERR_NOMEM", name, with_realloc);
	test_cond(what, all_nomem);
	snprintf(what, sizeof what, "%s (realloc %d): nothing leaks after a failure", name, with_realloc);
	test_cond(what, no_leak);
	snprintf(what, sizeof what, "%s (realloc %d): then the golden AUC (%ld allocations tried)", name, with_realloc, k);
	test_cond(what, finished && k > 5 && auc == g->auc);
	free(lens);
}

static int cancel_polls;

static bool
cancel_after(void *arg)
{
	return ++cancel_polls > *(const int *) arg;
}

/* A cancel poll saying stop at any point ends the test with TDS_ERR_CANCELED. */
static void
test_cancel(void)
{
	const text_golden *g = golden_named("perc_drift");
	uint32_t		  *lens = malloc(sizeof(uint32_t) * (g ? g->m : 1));
	tds_text_column	   c;
	int				   after;
	int				   polls_to_finish;
	bool			   all_canceled = true;
	tds_error		   err;
	double			   auc;
	double			   bound;
	bool			   drifted;

	if (g == NULL)
	{
		test_cond("perc_drift golden", false);
		free(lens);
		return;
	}
	c = golden_column(g, lens);
	c.cancel_requested = cancel_after;
	c.cancel_arg = &after;
	after = 1 << 30;
	cancel_polls = 0;
	test_cond("with a cancel poll that never stops: the golden AUC and a finite percentile",
			  tds_text_content_drift(TDS_STATTEST_PERC_TEXT, &c, g->threshold, &auc, &drifted, &bound, &err) == TDS_OK &&
				  auc == g->auc && isfinite(bound) && drifted == (auc > bound));
	polls_to_finish = cancel_polls;
	for (after = 0; after < polls_to_finish; after += 1 + polls_to_finish / 17)
	{
		cancel_polls = 0;
		if (tds_text_content_drift(TDS_STATTEST_PERC_TEXT, &c, g->threshold, &auc, &drifted, &bound, &err) != TDS_ERR_CANCELED)
			all_canceled = false;
	}
	test_cond("polled in every phase (tokens, epochs, random classifiers)", polls_to_finish > 1000);
	test_cond("a cancel at any poll ends with TDS_ERR_CANCELED", all_canceled);
	free(lens);
}

int
main(void)
{
	test_tokens();
	test_goldens();
	test_arguments();
	test_nomem_sweep("tiny", 0);
	test_nomem_sweep("tiny", 1);
	test_nomem_sweep("unicode_perc", 1);
	test_cancel();
	test_report();
	return td_tests_failed ? 1 : 0;
}
