/*
 * tds_text_internal.h — what the text content drift files share, and
 * nowhere else: tds_text_drift.c (the test), tds_text_model.c (the TF-IDF
 * rows and the SGD classifier), tds_roc_auc.c (numpy's draws, ROC AUC,
 * np.percentile).
 */
#ifndef TDS_TEXT_INTERNAL_H
#define TDS_TEXT_INTERNAL_H

#include <stdint.h>

#include "tds_stats.h"
#include "tds_internal.h"

/* A term outside the vocabulary (no feature, never seen in training). */
#define TDS_NO_RANK UINT32_MAX

typedef struct tds_scored
{
	double	score;
	uint8_t label;
} tds_scored;

typedef struct tds_term_info
{
	uint64_t hash;
	uint32_t offset;
	uint32_t len;
} tds_term_info;

/*
 * Terms are interned as the tokenizer hands them over (a hash table over
 * their bytes, each distinct term's bytes kept once), then ranked in code
 * point order, the order of scikit-learn's sorted vocabulary.
 */
typedef struct tds_text_corpus
{
	size_t	  docs;
	size_t	 *doc_first; /* per doc: its first token (docs + 1) */
	uint32_t *term;		 /* per token, documents in order: its term id */
	size_t	  ntokens;
	size_t	  tokens_cap;
	/* the distinct terms: their bytes in the arena */
	char		  *arena;
	size_t		   arena_len;
	size_t		   arena_cap;
	tds_term_info *terms;
	size_t		   nterms;
	size_t		   terms_cap;
	uint32_t	  *slots; /* term id + 1; 0: empty */
	size_t		   nslots;
} tds_text_corpus;

typedef struct tds_sparse_rows
{
	size_t	 *start; /* per doc (docs + 1) */
	uint32_t *index;
	double	 *value;
} tds_sparse_rows;

typedef struct tds_sgd_model
{
	double *w;
	double	intercept;
} tds_sgd_model;

/* tds_text_drift.c: the column's cancel poll, and its error */
bool	   tds_text_canceled(const tds_text_column *col);
tds_status tds_text_cancel_error(tds_error *err);

/* tds_text_model.c */

/* Tokenize the column's m distinct texts, in `order`, into c (terms ranked in code point order). */
tds_status tds_text_corpus_build(tds_text_corpus *c, const tds_text_column *col,
								 const size_t *order, tds_error *err);
void	   tds_text_corpus_free(tds_text_corpus *c);

/*
 * Each document's TF-IDF row over the kept features (feature[term], or
 * TDS_NO_RANK), its entries stored in `key` order: first-seen order for
 * the training matrix, feature order for a transformed one.
 */
tds_status tds_text_tfidf_rows(const tds_text_corpus *c, const uint32_t *feature,
							   const uint32_t *key, const double *idf, tds_sparse_rows *out,
							   tds_error *err);
void	   tds_sparse_rows_free(tds_sparse_rows *r);

/* SGDClassifier(modified_huber, l1) on the training rows (doc[i], label[i]); model->w is allocated. */
tds_status tds_text_sgd_fit(const tds_sparse_rows *x, const uint32_t *doc, const uint8_t *label,
							size_t n, uint32_t nfeatures, uint32_t seed,
							const tds_text_column *col, tds_sgd_model *model, tds_error *err);
/* predict_proba[:, 1] of document d. */
double tds_text_sgd_proba(const tds_sgd_model *model, const tds_sparse_rows *x, uint32_t d);

/* tds_roc_auc.c */

/* RandomState.randint(low, high) for high - low - 1 < 2^32. */
int64_t tds_np_randint(tds_mt19937 *mt, int64_t low, int64_t high);
/* RandomState.random_sample() into *score; returns the 53-bit integer k with score = k / 2^53. */
uint64_t tds_np_random_sample_key(tds_mt19937 *mt, double *score);
/* roc_auc_score(labels, scores); rows sorted in place.  pts: 3 * (n + 1) doubles of scratch. */
double tds_roc_auc(tds_scored *rows, size_t n, double *pts);
/* The same over rows already sorted by descending score. */
double tds_roc_auc_sorted(const tds_scored *rows, size_t n, double *pts);
/* Random classifiers' rows (keys from tds_np_random_sample_key) by descending score. */
void tds_sort_random_scores(tds_scored *rows, uint64_t *keys, size_t n, tds_scored *tmp,
							uint64_t *tmp_keys);
/* np.percentile(values, q), method "linear" (sorts values). */
double tds_np_percentile(double *values, size_t n, double q);

#endif /* TDS_TEXT_INTERNAL_H */
