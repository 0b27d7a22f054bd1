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
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tds_stats.h"
#include "tds_internal.h"

#define SGD_ALPHA 0.0001
#define SGD_MAX_ITER 50
#define SGD_TOL 1e-3
#define SGD_N_ITER_NO_CHANGE 5
#define SGD_SPARSE_INTERCEPT_DECAY 0.01
#define SGD_MAX_DLOSS 1e12
#define NP_INT32_MAX 2147483647u
#define RAND_R_MAX 2147483647u
#define RANDOM_CLASSIFIERS 1000
#define NO_RANK UINT32_MAX
#define CANCEL_POLL_ROWS 65536

static bool
canceled(const tds_text_column *col)
{
	return col->cancel_requested != NULL && col->cancel_requested(col->cancel_arg);
}

static tds_status
cancel_error(tds_error *err)
{
	tds_error_set(err, TDS_ERR_CANCELED, "The text content drift test was canceled.");
	return TDS_ERR_CANCELED;
}

/* ------------------------------------------------------------------ */
/* numpy's legacy draws beyond tds_mt19937_*                           */
/* ------------------------------------------------------------------ */

/* RandomState.randint(low, high) for high - low - 1 < 2^32. */
static int64_t
np_randint(tds_mt19937 *mt, int64_t low, int64_t high)
{
	uint32_t rng = (uint32_t) (high - low - 1);
	uint32_t mask = rng;
	uint32_t value;

	if (rng == 0)
		return low;
	mask |= mask >> 1;
	mask |= mask >> 2;
	mask |= mask >> 4;
	mask |= mask >> 8;
	mask |= mask >> 16;
	while ((value = (tds_mt19937_next32(mt) & mask)) > rng)
		;
	return low + (int64_t) value;
}

/*
 * RandomState.random_sample() is (a * 67108864.0 + b) / 9007199254740992.0
 * for a = next32 >> 5, b = next32 >> 6: exactly k / 2^53 for the 53-bit
 * integer k returned here (and *score set to it).
 */
static uint64_t
np_random_sample_key(tds_mt19937 *mt, double *score)
{
	uint32_t a = tds_mt19937_next32(mt) >> 5;
	uint32_t b = tds_mt19937_next32(mt) >> 6;

	*score = ((int32_t) a * 67108864.0 + (int32_t) b) / 9007199254740992.0;
	return ((uint64_t) a << 26) | b;
}

/* scikit-learn's our_rand_r (utils/_random.pxd). */
static uint32_t
our_rand_r(uint32_t *seed)
{
	if (*seed == 0)
		*seed = 1;
	*seed ^= (uint32_t) (*seed << 13);
	*seed ^= (uint32_t) (*seed >> 17);
	*seed ^= (uint32_t) (*seed << 5);
	return *seed % (RAND_R_MAX + 1u);
}

/* ------------------------------------------------------------------ */
/* ROC AUC (sklearn.metrics.roc_auc_score) and np.percentile           */
/* ------------------------------------------------------------------ */

typedef struct scored
{
	double	score;
	uint8_t label;
} scored;

static int
cmp_scored_desc(const void *a, const void *b)
{
	double x = ((const scored *) a)->score;
	double y = ((const scored *) b)->score;

	return (x < y) - (x > y);
}

/*
 * roc_curve(drop_intermediate = True) then auc() over rows sorted by
 * descending score: the ROC points at each distinct score, collinear ones
 * dropped, the trapezoids summed as np.trapezoid does (numpy's pairwise
 * add.reduce).  Ties form one group whatever their order, so any sort by
 * score works.  `pts` holds 3 * (n + 1) doubles.
 */
static double
roc_auc_sorted(const scored *rows, size_t n, double *pts)
{
	double *tps = pts;
	double *fps = pts + (n + 1);
	double *terms = pts + 2 * (n + 1);
	double	cum = 0;
	size_t	k = 0;
	size_t	kept = 0;
	size_t	i;

	for (i = 0; i < n; i++)
	{
		cum += rows[i].label;
		if (i + 1 == n || rows[i + 1].score != rows[i].score)
		{
			tps[k] = cum;
			fps[k] = (double) (1 + i) - cum;
			k++;
		}
	}
	/* drop_intermediate: keep the ends and every point where the slope changes */
	if (k > 2)
	{
		for (i = 0; i < k; i++)
		{
			bool keep = i == 0 || i == k - 1 ||
						((fps[i + 1] - fps[i]) - (fps[i] - fps[i - 1])) != 0 ||
						((tps[i + 1] - tps[i]) - (tps[i] - tps[i - 1])) != 0;

			if (keep)
			{
				tps[kept] = tps[i];
				fps[kept] = fps[i];
				kept++;
			}
		}
		k = kept;
	}
	/* prepend (0, 0), normalise by the totals, trapezoids */
	{
		double total_t = tps[k - 1];
		double total_f = fps[k - 1];
		double prev_x = 0;
		double prev_y = 0;

		for (i = 0; i < k; i++)
		{
			double x = fps[i] / total_f;
			double y = tps[i] / total_t;

			terms[i] = (x - prev_x) * (y + prev_y) / 2.0;
			prev_x = x;
			prev_y = y;
		}
	}
	return tds_npy_pairwise_sum(terms, k);
}

/* roc_auc_score(labels, scores): `rows` is sorted in place. */
static double
roc_auc(scored *rows, size_t n, double *pts)
{
	qsort(rows, n, sizeof(scored), cmp_scored_desc);
	return roc_auc_sorted(rows, n, pts);
}

#define RADIX_BITS 11
#define RADIX_PASSES 5 /* 55 bits: a random_sample() draw is k / 2^53 */

/*
 * The rows of a random classifier (score = key / 2^53, keys < 2^53) sorted
 * by descending score: a stable LSD radix sort of the integer keys, far
 * cheaper than comparisons for the 1000 classifiers of perc_.  `tmp` and
 * `tmp_keys` are scratch of n each.
 */
static void
sort_random_scores(scored *rows, uint64_t *keys, size_t n, scored *tmp, uint64_t *tmp_keys)
{
	size_t count[1 << RADIX_BITS];
	int	   pass;
	size_t i;

	for (pass = 0; pass < RADIX_PASSES; pass++)
	{
		int	   shift = pass * RADIX_BITS;
		size_t sum = 0;
		size_t d;

		memset(count, 0, sizeof count);
		for (i = 0; i < n; i++)
			count[(keys[i] >> shift) & ((1u << RADIX_BITS) - 1)]++;
		/* descending: the highest digit first */
		for (d = (1u << RADIX_BITS); d-- > 0;)
		{
			size_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
		{
			size_t at = count[(keys[i] >> shift) & ((1u << RADIX_BITS) - 1)]++;

			tmp[at] = rows[i];
			tmp_keys[at] = keys[i];
		}
		memcpy(rows, tmp, n * sizeof(scored));
		memcpy(keys, tmp_keys, n * sizeof(uint64_t));
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a;
	double y = *(const double *) b;

	return (x > y) - (x < y);
}

/* np.percentile(values, q) with the default "linear" method (sorts values). */
static double
np_percentile(double *values, size_t n, double q)
{
	double quantile = q / 100;
	double virtual_index = (double) (n - 1) * quantile;
	double previous_index = floor(virtual_index);
	size_t prev;
	size_t next;
	double a;
	double b;
	double t;
	double diff;

	qsort(values, n, sizeof(double), cmp_double);
	if (virtual_index >= (double) (n - 1))
		return values[n - 1];
	if (virtual_index < 0)
		return values[0];
	prev = (size_t) previous_index;
	next = prev + 1;
	a = values[prev];
	b = values[next];
	t = virtual_index - previous_index;
	diff = b - a;
	if (t >= 0.5)
		return b - diff * (1 - t);
	return a + diff * t;
}

/* ------------------------------------------------------------------ */
/* The corpus: distinct texts, their tokens and terms                   */
/* ------------------------------------------------------------------ */

/*
 * Terms are interned as the tokenizer hands them over (a hash table over
 * their bytes, each distinct term's bytes kept once), then ranked in code
 * point order, the order of scikit-learn's sorted vocabulary.
 */
typedef struct term_info
{
	uint64_t hash;
	uint32_t offset;
	uint32_t len;
} term_info;

typedef struct corpus
{
	size_t	  docs;
	size_t	 *doc_first; /* per doc: its first token (docs + 1) */
	uint32_t *term;		 /* per token, documents in order: its term id */
	size_t	  ntokens;
	size_t	  tokens_cap;
	/* the distinct terms: their bytes in the arena */
	char	  *arena;
	size_t	   arena_len;
	size_t	   arena_cap;
	term_info *terms;
	size_t	   nterms;
	size_t	   terms_cap;
	uint32_t  *slots; /* term id + 1; 0: empty */
	size_t	   nslots;
} corpus;

static bool
grow(void **p, size_t *cap, size_t used, size_t need, size_t elem, size_t first)
{
	size_t n = *cap ? *cap : first;
	void  *grown;

	if (used + need <= *cap)
		return true;
	while (n < used + need)
		n *= 2;
	grown = tdc_realloc(*p, *cap * elem, n * elem);
	if (grown == NULL)
		return false;
	*p = grown;
	*cap = n;
	return true;
}

/* Double the hash table (or make the first one). */
static bool
rehash(corpus *c)
{
	size_t	  nslots = c->nslots ? 2 * c->nslots : 1024;
	uint32_t *slots = tdc_calloc_array(nslots, sizeof(uint32_t));
	uint32_t  t;

	if (slots == NULL)
		return false;
	for (t = 0; t < c->nterms; t++)
	{
		size_t i = (size_t) c->terms[t].hash & (nslots - 1);

		while (slots[i] != 0)
			i = (i + 1) & (nslots - 1);
		slots[i] = t + 1;
	}
	tdc_free(c->slots);
	c->slots = slots;
	c->nslots = nslots;
	return true;
}

static bool
corpus_add_token(void *arg, const char *token, size_t len)
{
	corpus	*c = arg;
	uint64_t h = tds_hash_bytes(token, len);
	size_t	 i;
	uint32_t t;

	if (2 * (c->nterms + 1) > c->nslots && !rehash(c))
		return false;
	for (i = (size_t) h & (c->nslots - 1); c->slots[i] != 0; i = (i + 1) & (c->nslots - 1))
	{
		const term_info *known = &c->terms[c->slots[i] - 1];

		if (known->hash == h && known->len == len &&
			memcmp(c->arena + known->offset, token, len) == 0)
			break;
	}
	if (c->slots[i] != 0)
		t = c->slots[i] - 1;
	else
	{
		if (c->nterms >= UINT32_MAX - 1 || c->arena_len + len > UINT32_MAX ||
			!grow((void **) &c->arena, &c->arena_cap, c->arena_len, len, 1, 4096) ||
			!grow((void **) &c->terms, &c->terms_cap, c->nterms, 1, sizeof(term_info), 256))
			return false;
		t = (uint32_t) c->nterms++;
		memcpy(c->arena + c->arena_len, token, len);
		c->terms[t].hash = h;
		c->terms[t].offset = (uint32_t) c->arena_len;
		c->terms[t].len = (uint32_t) len;
		c->arena_len += len;
		c->slots[i] = t + 1;
	}
	if (!grow((void **) &c->term, &c->tokens_cap, c->ntokens, 1, sizeof(uint32_t), 1024))
		return false;
	c->term[c->ntokens++] = t;
	return true;
}

static const corpus *sort_corpus;

static int
cmp_term_text(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *) a;
	uint32_t y = *(const uint32_t *) b;
	uint32_t lx = sort_corpus->terms[x].len;
	uint32_t ly = sort_corpus->terms[y].len;
	int		 r = memcmp(sort_corpus->arena + sort_corpus->terms[x].offset,
						sort_corpus->arena + sort_corpus->terms[y].offset, lx < ly ? lx : ly);

	if (r != 0)
		return r;
	return (lx > ly) - (lx < ly);
}

/* Term ids become the terms' ranks in code point order. */
static tds_status
corpus_rank_terms(corpus *c, tds_error *err)
{
	uint32_t *order = tdc_calloc_array(c->nterms ? c->nterms : 1, sizeof(uint32_t));
	uint32_t *rank = tdc_calloc_array(c->nterms ? c->nterms : 1, sizeof(uint32_t));
	uint32_t  t;
	size_t	  k;

	if (order == NULL || rank == NULL)
	{
		tdc_free(order);
		tdc_free(rank);
		return tds_drift_nomem(err);
	}
	for (t = 0; t < c->nterms; t++)
		order[t] = t;
	sort_corpus = c;
	qsort(order, c->nterms, sizeof(uint32_t), cmp_term_text);
	for (t = 0; t < c->nterms; t++)
		rank[order[t]] = t;
	for (k = 0; k < c->ntokens; k++)
		c->term[k] = rank[c->term[k]];
	tdc_free(order);
	tdc_free(rank);
	return TDS_OK;
}

static tds_status
corpus_build(corpus *c, const tds_text_column *col, const size_t *order, tds_error *err)
{
	size_t			  d;
	tds_status		  status = TDS_OK;
	tds_token_scratch scratch;

	memset(c, 0, sizeof *c);
	memset(&scratch, 0, sizeof scratch);
	c->docs = col->m;
	c->doc_first = tdc_calloc_array(col->m + 1, sizeof(size_t));
	if (c->doc_first == NULL)
		return tds_drift_nomem(err);
	for (d = 0; d < col->m; d++)
	{
		if (d % CANCEL_POLL_ROWS == 0 && canceled(col))
		{
			status = cancel_error(err);
			break;
		}
		c->doc_first[d] = c->ntokens;
		status = tds_text_tokens(col->texts[order[d]], col->lens[order[d]], &scratch,
								 corpus_add_token, c, err);
		if (status != TDS_OK)
			break;
	}
	tds_token_scratch_free(&scratch);
	if (status != TDS_OK)
		return status;
	c->doc_first[col->m] = c->ntokens;
	return corpus_rank_terms(c, err);
}

static void
corpus_free(corpus *c)
{
	tdc_free(c->doc_first);
	tdc_free(c->term);
	tdc_free(c->arena);
	tdc_free(c->terms);
	tdc_free(c->slots);
}

/* ------------------------------------------------------------------ */
/* TF-IDF rows                                                         */
/* ------------------------------------------------------------------ */

typedef struct sparse_rows
{
	size_t	 *start; /* per doc (docs + 1) */
	uint32_t *index;
	double	 *value;
} sparse_rows;

typedef struct entry
{
	uint32_t key; /* the order the entries are stored in */
	uint32_t feature;
	double	 count;
} entry;

static int
cmp_entry_key(const void *a, const void *b)
{
	uint32_t x = ((const entry *) a)->key;
	uint32_t y = ((const entry *) b)->key;

	return (x > y) - (x < y);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *) a;
	uint32_t y = *(const uint32_t *) b;

	return (x > y) - (x < y);
}

/*
 * Each document's TF-IDF row over the kept features: (log(count) + 1) *
 * idf, then divided by the row's L2 norm summed in stored order.  The
 * training matrix stores a row's entries in the order the terms first
 * appeared in the training rows (key = first_seen); a transformed matrix in
 * feature order (key = feature).
 */
static tds_status
tfidf_rows(const corpus *c, const uint32_t *feature, const uint32_t *key,
		   const double *idf, sparse_rows *out, tds_error *err)
{
	size_t	  total = 0;
	size_t	  max_doc = 0;
	uint32_t *terms;
	entry	 *entries;
	size_t	  d;

	for (d = 0; d < c->docs; d++)
	{
		size_t n = c->doc_first[d + 1] - c->doc_first[d];

		total += n;
		if (n > max_doc)
			max_doc = n;
	}
	out->start = tdc_calloc_array(c->docs + 1, sizeof(size_t));
	out->index = tdc_calloc_array(total ? total : 1, sizeof(uint32_t));
	out->value = tdc_calloc_array(total ? total : 1, sizeof(double));
	terms = tdc_calloc_array(max_doc ? max_doc : 1, sizeof(uint32_t));
	entries = tdc_calloc_array(max_doc ? max_doc : 1, sizeof(entry));
	if (out->start == NULL || out->index == NULL || out->value == NULL ||
		terms == NULL || entries == NULL)
	{
		tdc_free(terms);
		tdc_free(entries);
		return tds_drift_nomem(err);
	}
	total = 0;
	for (d = 0; d < c->docs; d++)
	{
		size_t first = c->doc_first[d];
		size_t n = c->doc_first[d + 1] - first;
		size_t ne = 0;
		size_t i;
		double sum = 0.0;

		out->start[d] = total;
		memcpy(terms, c->term + first, n * sizeof(uint32_t));
		qsort(terms, n, sizeof(uint32_t), cmp_u32);
		for (i = 0; i < n;)
		{
			size_t	 same = i;
			uint32_t term = terms[i];

			while (same < n && terms[same] == term)
				same++;
			if (feature[term] != NO_RANK)
			{
				entries[ne].key = key[term];
				entries[ne].feature = feature[term];
				entries[ne].count = (double) (same - i);
				ne++;
			}
			i = same;
		}
		qsort(entries, ne, sizeof(entry), cmp_entry_key);
		for (i = 0; i < ne; i++)
		{
			double v = (log(entries[i].count) + 1.0) * idf[entries[i].feature];

			out->index[total + i] = entries[i].feature;
			out->value[total + i] = v;
			sum += v * v;
		}
		if (sum != 0.0)
		{
			sum = sqrt(sum);
			for (i = 0; i < ne; i++)
				out->value[total + i] /= sum;
		}
		total += ne;
	}
	out->start[c->docs] = total;
	tdc_free(terms);
	tdc_free(entries);
	return TDS_OK;
}

static void
sparse_rows_free(sparse_rows *r)
{
	tdc_free(r->start);
	tdc_free(r->index);
	tdc_free(r->value);
}

/* ------------------------------------------------------------------ */
/* SGDClassifier(loss = "modified_huber", penalty = "l1")              */
/* ------------------------------------------------------------------ */

static double
modified_huber_loss(double y, double p)
{
	double z = p * y;

	if (z >= 1.0)
		return 0.0;
	if (z >= -1.0)
		return (1.0 - z) * (1.0 - z);
	return -4.0 * z;
}

static double
modified_huber_gradient(double y, double p)
{
	double z = p * y;

	if (z >= 1.0)
		return 0.0;
	if (z >= -1.0)
		return 2.0 * (1.0 - z) * -y;
	return -4.0 * y;
}

typedef struct sgd_model
{
	double *w;
	double	intercept;
} sgd_model;

/*
 * _plain_sgd over the training rows (doc[i], label[i]): weights start at 0,
 * wscale stays 1 (no L2 term), `seed` reshuffles the row order at every
 * epoch from the previous epoch's order.
 */
static tds_status
sgd_fit(const sparse_rows *x, const uint32_t *doc, const uint8_t *label, size_t n,
		uint32_t nfeatures, uint32_t seed, const tds_text_column *col, sgd_model *model,
		tds_error *err)
{
	const double alpha = SGD_ALPHA;
	const double l1_ratio = 1.0;
	double		*w = tdc_calloc_array(nfeatures ? nfeatures : 1, sizeof(double));
	double		*q = tdc_calloc_array(nfeatures ? nfeatures : 1, sizeof(double));
	int32_t		*ind = tdc_calloc_array(n ? n : 1, sizeof(int32_t));
	double		 wscale = 1.0;
	double		 sq_norm = 0.0;
	double		 l1_norm = 0.0;
	double		 intercept = 0.0;
	double		 u = 0.0;
	double		 t = 1.0;
	double		 best_objective = INFINITY;
	int			 no_improvement_count = 0;
	double		 typw;
	double		 initial_eta0;
	double		 optimal_init;
	double		 gradient;
	unsigned	 epoch;
	size_t		 i;

	if (w == NULL || q == NULL || ind == NULL)
	{
		tdc_free(w);
		tdc_free(q);
		tdc_free(ind);
		return tds_drift_nomem(err);
	}
	for (i = 0; i < n; i++)
		ind[i] = (int32_t) i;
	typw = sqrt(1.0 / sqrt(alpha));
	gradient = modified_huber_gradient(1.0, -typw);
	initial_eta0 = typw / (gradient > 1.0 ? gradient : 1.0);
	optimal_init = 1.0 / (initial_eta0 * alpha);

	for (epoch = 0; epoch < SGD_MAX_ITER; epoch++)
	{
		double	 objective_sum = 0;
		uint32_t s = seed;
		unsigned k;

		if (canceled(col))
		{
			tdc_free(w);
			tdc_free(q);
			tdc_free(ind);
			return cancel_error(err);
		}
		/* SequentialDataset.shuffle(seed): Fisher-Yates from the front */
		for (k = 0; n > 0 && k < (unsigned) n - 1; k++)
		{
			unsigned j = k + our_rand_r(&s) % ((unsigned) n - k);
			int32_t	 tmp = ind[k];

			ind[k] = ind[j];
			ind[j] = tmp;
		}
		for (i = 0; i < n; i++)
		{
			size_t			row = (size_t) ind[i];
			size_t			first = x->start[doc[row]];
			size_t			nnz = x->start[doc[row] + 1] - first;
			const uint32_t *xi = x->index + first;
			const double   *xv = x->value + first;
			double			y = label[row] ? 1.0 : -1.0;
			double			innerprod = 0.0;
			double			p;
			double			eta;
			double			dloss;
			double			update;
			size_t			j;

			for (j = 0; j < nnz; j++)
				innerprod += w[xi[j]] * xv[j];
			innerprod *= wscale;
			p = innerprod + intercept;
			eta = 1.0 / (alpha * (optimal_init + t - 1));
			objective_sum += modified_huber_loss(y, p);
			objective_sum += alpha * ((1 - l1_ratio) * 0.5 * pow(sqrt(sq_norm), 2.0) +
									  l1_ratio * l1_norm);
			dloss = modified_huber_gradient(y, p);
			if (dloss < -SGD_MAX_DLOSS)
				dloss = -SGD_MAX_DLOSS;
			else if (dloss > SGD_MAX_DLOSS)
				dloss = SGD_MAX_DLOSS;
			update = -eta * dloss;
			update *= 1.0 * 1.0; /* class weight * sample weight */
			if (update != 0.0)
			{
				double l2acc = 0.0;
				double l1acc = 0.0;

				for (j = 0; j < nnz; j++)
				{
					w[xi[j]] += xv[j] * (update / wscale);
					l2acc += w[xi[j]] * w[xi[j]];
					l1acc += fabs(w[xi[j]]);
				}
				sq_norm = l2acc * (wscale * wscale);
				l1_norm = l1acc * wscale;
			}
			if (update != 0)
				intercept += update * SGD_SPARSE_INTERCEPT_DECAY;
			/* Tsuruoka's cumulative L1 penalty */
			u += (l1_ratio * eta * alpha);
			for (j = 0; j < nnz; j++)
			{
				uint32_t idx = xi[j];
				double	 z = w[idx];

				if (wscale * z > 0.0)
					w[idx] = fmax(0.0, w[idx] - ((u + q[idx]) / wscale));
				else if (wscale * z < 0.0)
					w[idx] = fmin(0.0, w[idx] + ((u - q[idx]) / wscale));
				q[idx] += wscale * (w[idx] - z);
			}
			t += 1;
		}
		{
			bool finite = isfinite(intercept);

			for (i = 0; finite && i < nfeatures; i++)
				finite = isfinite(w[i]);
			if (!finite)
			{
				tdc_free(w);
				tdc_free(q);
				tdc_free(ind);
				return tds_drift_input_error(err, "Floating-point under-/overflow occurred at epoch #%u of the text classifier's training (scikit-learn raises ValueError).",
											 epoch + 1);
			}
		}
		if (objective_sum / (double) n > best_objective - SGD_TOL)
			no_improvement_count++;
		else
			no_improvement_count = 0;
		if (objective_sum / (double) n < best_objective)
			best_objective = objective_sum / (double) n;
		if (no_improvement_count >= SGD_N_ITER_NO_CHANGE)
			break;
	}
	tdc_free(q);
	tdc_free(ind);
	model->w = w;
	model->intercept = intercept;
	return TDS_OK;
}

/* predict_proba[:, 1] of a row: (clip(decision, -1, 1) + 1) / 2. */
static double
sgd_proba(const sgd_model *model, const sparse_rows *x, uint32_t d)
{
	size_t j;
	double decision = 0.0;

	for (j = x->start[d]; j < x->start[d + 1]; j++)
		decision += x->value[j] * model->w[x->index[j]];
	decision += model->intercept;
	if (decision < -1)
		decision = -1;
	else if (decision > 1)
		decision = 1;
	decision += 1.0;
	return decision / 2.0;
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
	size_t	   *order;	 /* docs in text order */
	uint32_t   *row_doc; /* per row */
	uint8_t	   *row_label;
	int64_t	   *perm;
	uint32_t   *train_doc;
	uint8_t	   *train_label;
	uint32_t   *first_seen;
	uint32_t   *feature;
	int64_t	   *df;
	double	   *idf;
	scored	   *test;
	double	   *pts;
	double	   *random_aucs;
	corpus		corpus;
	sparse_rows train_x;
	sparse_rows test_x;
	sgd_model	model;
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
	corpus_free(&k->corpus);
	sparse_rows_free(&k->train_x);
	sparse_rows_free(&k->test_x);
	tdc_free(k->model.w);
}

/* The vocabulary of the training rows, its max_df pruning and idf. */
static tds_status
fit_vocabulary(text_work *k, size_t n_train, uint32_t *nfeatures, tds_error *err)
{
	corpus	*c = &k->corpus;
	uint32_t seen = 0;
	uint32_t kept = 0;
	double	 max_doc_count = 0.5 * (double) n_train;
	size_t	 i;
	uint32_t term;

	k->first_seen = tdc_calloc_array(c->nterms ? c->nterms : 1, sizeof(uint32_t));
	k->feature = tdc_calloc_array(c->nterms ? c->nterms : 1, sizeof(uint32_t));
	k->df = tdc_calloc_array(c->nterms ? c->nterms : 1, sizeof(int64_t));
	k->idf = tdc_calloc_array(c->nterms ? c->nterms : 1, sizeof(double));
	if (k->first_seen == NULL || k->feature == NULL || k->df == NULL || k->idf == NULL)
		return tds_drift_nomem(err);
	for (term = 0; term < c->nterms; term++)
		k->first_seen[term] = NO_RANK;
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
				if (k->first_seen[c->term[j]] == NO_RANK)
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
		if (k->first_seen[term] != NO_RANK && (double) k->df[term] <= max_doc_count)
		{
			k->feature[term] = kept;
			k->idf[kept] = log((double) (n_train + 1) / ((double) k->df[term] + 1.0)) + 1.0;
			kept++;
		}
		else
			k->feature[term] = NO_RANK;
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
	k.test = tdc_calloc_array(n_test, sizeof(scored));
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

	status = corpus_build(&k.corpus, col, k.order, err);
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
	status = tfidf_rows(&k.corpus, k.feature, k.first_seen, k.idf, &k.train_x, err);
	if (status == TDS_OK)
		status = tfidf_rows(&k.corpus, k.feature, k.feature, k.idf, &k.test_x, err);
	if (status != TDS_OK)
		goto done;

	/* SGDClassifier(random_state = 42): make_dataset draws first, then _plain_sgd's seed */
	tds_mt19937_seed(&mt, 42);
	(void) np_randint(&mt, 1, NP_INT32_MAX);
	seed = (uint32_t) np_randint(&mt, 0, NP_INT32_MAX);
	status = sgd_fit(&k.train_x, k.train_doc, k.train_label, n_train, nfeatures, seed, col,
					 &k.model, err);
	if (status != TDS_OK)
		goto done;

	for (i = 0; i < n_test; i++)
	{
		uint32_t doc = k.row_doc[k.perm[i]];

		k.test[i].label = k.row_label[k.perm[i]];
		k.test[i].score = sgd_proba(&k.model, &k.test_x, doc);
		test_has[k.test[i].label] = true;
	}
	if (!test_has[0] || !test_has[1])
	{
		status = tds_drift_input_error(err, "The test half holds rows of one window only: scikit-learn raises \"Only one class present in y_true. ROC AUC score is not defined in that case.\".");
		goto done;
	}
	auc = roc_auc(k.test, n_test, k.pts);
	*score = auc;
	if (test == TDS_STATTEST_ABS_TEXT)
	{
		*drifted = auc > threshold;
		goto done;
	}

	/* roc_auc_random_classifier_percentile(y_test, p_value = 1 - threshold) */
	{
		uint8_t	 *labels = tdc_calloc_array(n_test, sizeof(uint8_t));
		uint64_t *keys = tdc_calloc_array(2 * n_test, sizeof(uint64_t));
		scored	 *tmp = tdc_calloc_array(n_test, sizeof(scored));
		int64_t	  seeds[RANDOM_CLASSIFIERS];
		int		  s;

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
			seeds[s] = np_randint(&mt, 0, RANDOM_CLASSIFIERS * 10);
		for (s = 0; s < RANDOM_CLASSIFIERS; s++)
		{
			if (canceled(col))
			{
				tdc_free(labels);
				tdc_free(keys);
				tdc_free(tmp);
				status = cancel_error(err);
				goto done;
			}
			tds_mt19937_seed(&mt, (uint32_t) seeds[s]);
			for (i = 0; i < n_test; i++)
			{
				keys[i] = np_random_sample_key(&mt, &k.test[i].score);
				k.test[i].label = labels[i];
			}
			sort_random_scores(k.test, keys, n_test, tmp, keys + n_test);
			k.random_aucs[s] = roc_auc_sorted(k.test, n_test, k.pts);
		}
		tdc_free(labels);
		tdc_free(keys);
		tdc_free(tmp);
		{
			double p_value = 1 - threshold;

			*random_auc_percentile = np_percentile(k.random_aucs, RANDOM_CLASSIFIERS,
												   100 * (1 - p_value));
			*drifted = auc > *random_auc_percentile;
		}
	}
done:
	text_work_free(&k);
	return status;
}
