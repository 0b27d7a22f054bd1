/*
 * tds_text_model.c — the pipeline Evidently's text content drift fits:
 * scikit-learn's TfidfVectorizer(sublinear_tf, max_df = 0.5, stop_words =
 * "english") rows and SGDClassifier(alpha = 1e-4, max_iter = 50,
 * penalty = "l1", loss = "modified_huber", random_state = 42), as
 * scikit-learn 1.9 computes them: the distinct texts' terms interned and
 * ranked in code point order, each row's TF-IDF values normalised in the
 * order its CSR entries are stored, plain SGD with the "optimal" learning
 * rate, Tsuruoka's cumulative L1 penalty, the sparse intercept decay, the
 * rows reshuffled every epoch by scikit-learn's xorshift, and its stopping
 * rule.  The vocabulary itself (which terms, their idf) is the test's
 * (tds_text_drift.c).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tds_text_internal.h"

#define SGD_ALPHA 0.0001
#define SGD_MAX_ITER 50
#define SGD_TOL 1e-3
#define SGD_N_ITER_NO_CHANGE 5
#define SGD_SPARSE_INTERCEPT_DECAY 0.01
#define SGD_MAX_DLOSS 1e12
#define RAND_R_MAX 2147483647u
#define CANCEL_POLL_ROWS 65536

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
/* The corpus: distinct texts, their tokens and terms                   */
/* ------------------------------------------------------------------ */

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
rehash(tds_text_corpus *c)
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
	tds_text_corpus *c = arg;
	uint64_t		 h = tds_hash_bytes(token, len);
	size_t			 i;
	uint32_t		 t;

	if (2 * (c->nterms + 1) > c->nslots && !rehash(c))
		return false;
	for (i = (size_t) h & (c->nslots - 1); c->slots[i] != 0; i = (i + 1) & (c->nslots - 1))
	{
		const tds_term_info *known = &c->terms[c->slots[i] - 1];

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
			!grow((void **) &c->terms, &c->terms_cap, c->nterms, 1, sizeof(tds_term_info), 256))
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

static const tds_text_corpus *sort_corpus;

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
corpus_rank_terms(tds_text_corpus *c, tds_error *err)
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

tds_status
tds_text_corpus_build(tds_text_corpus *c, const tds_text_column *col, const size_t *order, tds_error *err)
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
		if (d % CANCEL_POLL_ROWS == 0 && tds_text_canceled(col))
		{
			status = tds_text_cancel_error(err);
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

void
tds_text_corpus_free(tds_text_corpus *c)
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
tds_status
tds_text_tfidf_rows(const tds_text_corpus *c, const uint32_t *feature, const uint32_t *key,
					const double *idf, tds_sparse_rows *out, tds_error *err)
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
			if (feature[term] != TDS_NO_RANK)
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

void
tds_sparse_rows_free(tds_sparse_rows *r)
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

/*
 * _plain_sgd over the training rows (doc[i], label[i]): weights start at 0,
 * wscale stays 1 (no L2 term), `seed` reshuffles the row order at every
 * epoch from the previous epoch's order.
 */
tds_status
tds_text_sgd_fit(const tds_sparse_rows *x, const uint32_t *doc, const uint8_t *label, size_t n,
				 uint32_t nfeatures, uint32_t seed, const tds_text_column *col, tds_sgd_model *model,
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

		if (tds_text_canceled(col))
		{
			tdc_free(w);
			tdc_free(q);
			tdc_free(ind);
			return tds_text_cancel_error(err);
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
double
tds_text_sgd_proba(const tds_sgd_model *model, const tds_sparse_rows *x, uint32_t d)
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
