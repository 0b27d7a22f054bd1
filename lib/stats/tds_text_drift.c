/*
 * tds_text_drift.c — Evidently's text content drift
 * (legacy/utils/data_drift_utils.py::calculate_text_drift_score), the test
 * of free-text columns: a domain classifier told to separate reference
 * rows from current rows; the column drifts when it can.
 *
 *   rows   the reference rows, then the current rows (each window's rows
 *          sorted by text: the order a value map lays them out in)
 *   split  train_test_split(test_size = 0.5, shuffle = True,
 *          random_state = 42): RandomState(42).permutation(n), the first
 *          ceil(n / 2) for testing, the rest for training
 *   fit    TfidfVectorizer(sublinear_tf, max_df = 0.5, stop_words =
 *          "english") on the training rows, then SGDClassifier(alpha =
 *          1e-4, max_iter = 50, penalty = "l1", loss = "modified_huber",
 *          random_state = 42): plain SGD with the "optimal" learning rate,
 *          Tsuruoka's cumulative L1 penalty, a sparse intercept decay of
 *          0.01, the rows reshuffled every epoch by scikit-learn's own
 *          xorshift, and its stopping rule (5 epochs without the mean
 *          objective improving by tol = 1e-3)
 *   score  ROC AUC of predict_proba on the test rows
 *   drift  abs_text_content_drift: AUC > threshold (0.55);
 *          perc_text_content_drift: AUC > the (100 * threshold)th
 *          percentile of 1000 random classifiers' AUCs on the same test
 *          labels (np.random.seed(42), then each its own seed)
 *
 * Every floating-point step is evaluated in scikit-learn's, scipy's and
 * numpy's order (the sums of a sparse row in the order its CSR entries
 * are stored, numpy's pairwise sums, its percentile interpolation), so the
 * AUC equals Evidently's for the same rows.  The classifier sees each row,
 * so this test expands the value map into rows (TDS_TEXT_MAX_ROWS), but
 * every distinct text is tokenized and vectorized once.
 *
 * This file is the test: the rows, the split, the vocabulary and its idf,
 * the verdict.  tds_text_model.c holds the TF-IDF rows and the SGD
 * classifier, tds_roc_auc.c numpy's draws, the ROC AUC and the percentile,
 * tds_text_tokens.c the tokenizer; tds_text_internal.h what they share.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tds_text_internal.h"

#define NP_INT32_MAX 2147483647u
#define RANDOM_CLASSIFIERS 1000

bool
tds_text_canceled(const tds_text_column *col)
{
	return col->cancel_requested != NULL && col->cancel_requested(col->cancel_arg);
}

tds_status
tds_text_cancel_error(tds_error *err)
{
	tds_error_set(err, TDS_ERR_CANCELED, "The text content drift test was canceled.");
	return TDS_ERR_CANCELED;
}

/* ------------------------------------------------------------------ */
/* The test                                                            */
/* ------------------------------------------------------------------ */

static const tds_text_column *sort_column;

static int
cmp_text(const void *a, const void *b)
{
	size_t	 i = *(const size_t *) a;
	size_t	 j = *(const size_t *) b;
	uint32_t li = sort_column->lens[i];
	uint32_t lj = sort_column->lens[j];
	int		 r = memcmp(sort_column->texts[i], sort_column->texts[j], li < lj ? li : lj);

	if (r != 0)
		return r;
	return (li > lj) - (li < lj);
}

typedef struct text_work
{
	size_t		   *order;	 /* docs in text order */
	uint32_t	   *row_doc; /* per row */
	uint8_t		   *row_label;
	int64_t		   *perm;
	uint32_t	   *train_doc;
	uint8_t		   *train_label;
	uint32_t	   *first_seen;
	uint32_t	   *feature;
	int64_t		   *df;
	double		   *idf;
	tds_scored	   *test;
	double		   *pts;
	double		   *random_aucs;
	tds_text_corpus corpus;
	tds_sparse_rows train_x;
	tds_sparse_rows test_x;
	tds_sgd_model	model;
} text_work;

static void
text_work_free(text_work *k)
{
	tdc_free(k->order);
	tdc_free(k->row_doc);
	tdc_free(k->row_label);
	tdc_free(k->perm);
	tdc_free(k->train_doc);
	tdc_free(k->train_label);
	tdc_free(k->first_seen);
	tdc_free(k->feature);
	tdc_free(k->df);
	tdc_free(k->idf);
	tdc_free(k->test);
	tdc_free(k->pts);
	tdc_free(k->random_aucs);
	tds_text_corpus_free(&k->corpus);
	tds_sparse_rows_free(&k->train_x);
	tds_sparse_rows_free(&k->test_x);
	tdc_free(k->model.w);
}

/* The vocabulary of the training rows, its max_df pruning and idf. */
static tds_status
fit_vocabulary(text_work *k, size_t n_train, uint32_t *nfeatures, tds_error *err)
{
	tds_text_corpus *c = &k->corpus;
	uint32_t		 seen = 0;
	uint32_t		 kept = 0;
	double			 max_doc_count = 0.5 * (double) n_train;
	size_t			 i;
	uint32_t		 term;

	k->first_seen = tdc_calloc_array(c->nterms ? c->nterms : 1, sizeof(uint32_t));
	k->feature = tdc_calloc_array(c->nterms ? c->nterms : 1, sizeof(uint32_t));
	k->df = tdc_calloc_array(c->nterms ? c->nterms : 1, sizeof(int64_t));
	k->idf = tdc_calloc_array(c->nterms ? c->nterms : 1, sizeof(double));
	if (k->first_seen == NULL || k->feature == NULL || k->df == NULL || k->idf == NULL)
		return tds_drift_nomem(err);
	for (term = 0; term < c->nterms; term++)
		k->first_seen[term] = TDS_NO_RANK;
	/* per distinct text, how many training rows hold it */
	{
		int64_t	 *doc_rows = tdc_calloc_array(c->docs ? c->docs : 1, sizeof(int64_t));
		uint32_t *last_doc = tdc_calloc_array(c->nterms ? c->nterms : 1, sizeof(uint32_t));
		uint32_t  d;

		if (doc_rows == NULL || last_doc == NULL)
		{
			tdc_free(doc_rows);
			tdc_free(last_doc);
			return tds_drift_nomem(err);
		}
		for (i = 0; i < n_train; i++)
		{
			size_t j;

			d = k->train_doc[i];
			if (doc_rows[d]++ > 0)
				continue;
			for (j = c->doc_first[d]; j < c->doc_first[d + 1]; j++)
				if (k->first_seen[c->term[j]] == TDS_NO_RANK)
					k->first_seen[c->term[j]] = seen++;
		}
		for (term = 0; term < c->nterms; term++)
			last_doc[term] = UINT32_MAX;
		for (d = 0; d < c->docs; d++)
		{
			size_t j;

			for (j = c->doc_first[d]; j < c->doc_first[d + 1]; j++)
				if (last_doc[c->term[j]] != d)
				{
					last_doc[c->term[j]] = d;
					k->df[c->term[j]] += doc_rows[d];
				}
		}
		tdc_free(doc_rows);
		tdc_free(last_doc);
	}
	if (seen == 0)
		return tds_drift_input_error(err, "The text classifier found no word in the training rows: scikit-learn raises \"empty vocabulary; perhaps the documents only contain stop words\".");
	if (max_doc_count < 1)
		return tds_drift_input_error(err, "The training half holds one row: scikit-learn raises \"max_df corresponds to < documents than min_df\".");
	for (term = 0; term < c->nterms; term++)
	{
		if (k->first_seen[term] != TDS_NO_RANK && (double) k->df[term] <= max_doc_count)
		{
			k->feature[term] = kept;
			k->idf[kept] = log((double) (n_train + 1) / ((double) k->df[term] + 1.0)) + 1.0;
			kept++;
		}
		else
			k->feature[term] = TDS_NO_RANK;
	}
	if (kept == 0)
		return tds_drift_input_error(err, "Every word of the training rows is in more than half of them: scikit-learn raises \"After pruning, no terms remain. Try a lower min_df or a higher max_df.\".");
	*nfeatures = kept;
	return TDS_OK;
}

tds_status
tds_text_content_drift(tds_stattest test, const tds_text_column *col, double threshold,
					   double *score, bool *drifted, double *random_auc_percentile,
					   tds_error *err)
{
	text_work	k;
	tds_mt19937 mt;
	int64_t		n;
	size_t		n_test;
	size_t		n_train;
	size_t		i;
	size_t		d;
	size_t		r = 0;
	uint32_t	nfeatures = 0;
	uint32_t	seed;
	bool		train_has[2] = { false, false };
	bool		test_has[2] = { false, false };
	double		auc;
	tds_status	status;

	*random_auc_percentile = NAN;
	if (test != TDS_STATTEST_ABS_TEXT && test != TDS_STATTEST_PERC_TEXT)
		return tds_drift_input_error(err, "\"%s\" is not a text content drift test.", tds_stattest_name(test));
	if (col->n_ref <= 0 || col->n_cur <= 0)
		return tds_drift_input_error(err, "Both windows need a value.");
	n = col->n_ref + col->n_cur;
	if (n > TDS_TEXT_MAX_ROWS || col->m > UINT32_MAX)
		return tds_drift_input_error(err, "Text content drift trains a classifier on every row: %lld rows exceed its limit of %d.",
									 (long long) n, TDS_TEXT_MAX_ROWS);
	memset(&k, 0, sizeof k);
	k.order = tdc_calloc_array(col->m ? col->m : 1, sizeof(size_t));
	k.row_doc = tdc_calloc_array((size_t) n, sizeof(uint32_t));
	k.row_label = tdc_calloc_array((size_t) n, sizeof(uint8_t));
	k.perm = tdc_calloc_array((size_t) n, sizeof(int64_t));
	if (k.order == NULL || k.row_doc == NULL || k.row_label == NULL || k.perm == NULL)
	{
		status = tds_drift_nomem(err);
		goto done;
	}
	for (d = 0; d < col->m; d++)
		k.order[d] = d;
	sort_column = col;
	qsort(k.order, col->m, sizeof(size_t), cmp_text);
	/* rows: the reference by text, then the current by text */
	for (i = 0; i < 2; i++)
		for (d = 0; d < col->m; d++)
		{
			int64_t count = i == 0 ? col->ref[k.order[d]] : col->cur[k.order[d]];
			int64_t c;

			for (c = 0; c < count; c++, r++)
			{
				k.row_doc[r] = (uint32_t) d;
				k.row_label[r] = (uint8_t) i;
			}
		}
	if ((int64_t) r != n)
	{
		status = tds_drift_input_error(err, "The column's counts do not add up to its rows.");
		goto done;
	}

	/* train_test_split(test_size = 0.5, shuffle = True, random_state = 42) */
	n_test = (size_t) ceil(0.5 * (double) n);
	n_train = (size_t) n - n_test;
	tds_mt19937_seed(&mt, 42);
	tds_mt19937_permutation(&mt, k.perm, n);
	k.train_doc = tdc_calloc_array(n_train ? n_train : 1, sizeof(uint32_t));
	k.train_label = tdc_calloc_array(n_train ? n_train : 1, sizeof(uint8_t));
	k.test = tdc_calloc_array(n_test, sizeof(tds_scored));
	k.pts = tdc_calloc_array(3 * (n_test + 1), sizeof(double));
	if (k.train_doc == NULL || k.train_label == NULL || k.test == NULL || k.pts == NULL)
	{
		status = tds_drift_nomem(err);
		goto done;
	}
	for (i = 0; i < n_train; i++)
	{
		k.train_doc[i] = k.row_doc[k.perm[n_test + i]];
		k.train_label[i] = k.row_label[k.perm[n_test + i]];
		train_has[k.train_label[i]] = true;
	}

	status = tds_text_corpus_build(&k.corpus, col, k.order, err);
	if (status != TDS_OK)
		goto done;
	status = fit_vocabulary(&k, n_train, &nfeatures, err);
	if (status != TDS_OK)
		goto done;
	if (!train_has[0] || !train_has[1])
	{
		status = tds_drift_input_error(err, "The training half holds rows of one window only: scikit-learn raises \"The number of classes has to be greater than one; got 1 class\".");
		goto done;
	}
	status = tds_text_tfidf_rows(&k.corpus, k.feature, k.first_seen, k.idf, &k.train_x, err);
	if (status == TDS_OK)
		status = tds_text_tfidf_rows(&k.corpus, k.feature, k.feature, k.idf, &k.test_x, err);
	if (status != TDS_OK)
		goto done;

	/* SGDClassifier(random_state = 42): make_dataset draws first, then _plain_sgd's seed */
	tds_mt19937_seed(&mt, 42);
	(void) tds_np_randint(&mt, 1, NP_INT32_MAX);
	seed = (uint32_t) tds_np_randint(&mt, 0, NP_INT32_MAX);
	status = tds_text_sgd_fit(&k.train_x, k.train_doc, k.train_label, n_train, nfeatures, seed, col,
							  &k.model, err);
	if (status != TDS_OK)
		goto done;

	for (i = 0; i < n_test; i++)
	{
		uint32_t doc = k.row_doc[k.perm[i]];

		k.test[i].label = k.row_label[k.perm[i]];
		k.test[i].score = tds_text_sgd_proba(&k.model, &k.test_x, doc);
		test_has[k.test[i].label] = true;
	}
	if (!test_has[0] || !test_has[1])
	{
		status = tds_drift_input_error(err, "The test half holds rows of one window only: scikit-learn raises \"Only one class present in y_true. ROC AUC score is not defined in that case.\".");
		goto done;
	}
	auc = tds_roc_auc(k.test, n_test, k.pts);
	*score = auc;
	if (test == TDS_STATTEST_ABS_TEXT)
	{
		*drifted = auc > threshold;
		goto done;
	}

	/* roc_auc_random_classifier_percentile(y_test, p_value = 1 - threshold) */
	{
		uint8_t	   *labels = tdc_calloc_array(n_test, sizeof(uint8_t));
		uint64_t   *keys = tdc_calloc_array(2 * n_test, sizeof(uint64_t));
		tds_scored *tmp = tdc_calloc_array(n_test, sizeof(tds_scored));
		int64_t		seeds[RANDOM_CLASSIFIERS];
		int			s;

		k.random_aucs = tdc_calloc_array(RANDOM_CLASSIFIERS, sizeof(double));
		if (labels == NULL || keys == NULL || tmp == NULL || k.random_aucs == NULL)
		{
			tdc_free(labels);
			tdc_free(keys);
			tdc_free(tmp);
			status = tds_drift_nomem(err);
			goto done;
		}
		for (i = 0; i < n_test; i++)
			labels[i] = k.row_label[k.perm[i]];
		tds_mt19937_seed(&mt, 42);
		for (s = 0; s < RANDOM_CLASSIFIERS; s++)
			seeds[s] = tds_np_randint(&mt, 0, RANDOM_CLASSIFIERS * 10);
		for (s = 0; s < RANDOM_CLASSIFIERS; s++)
		{
			if (tds_text_canceled(col))
			{
				tdc_free(labels);
				tdc_free(keys);
				tdc_free(tmp);
				status = tds_text_cancel_error(err);
				goto done;
			}
			tds_mt19937_seed(&mt, (uint32_t) seeds[s]);
			for (i = 0; i < n_test; i++)
			{
				keys[i] = tds_np_random_sample_key(&mt, &k.test[i].score);
				k.test[i].label = labels[i];
			}
			tds_sort_random_scores(k.test, keys, n_test, tmp, keys + n_test);
			k.random_aucs[s] = tds_roc_auc_sorted(k.test, n_test, k.pts);
		}
		tdc_free(labels);
		tdc_free(keys);
		tdc_free(tmp);
		{
			double p_value = 1 - threshold;

			*random_auc_percentile = tds_np_percentile(k.random_aucs, RANDOM_CLASSIFIERS,
													   100 * (1 - p_value));
			*drifted = auc > *random_auc_percentile;
		}
	}
done:
	text_work_free(&k);
	return status;
}
