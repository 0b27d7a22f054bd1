/*
 * tds_roc_auc.c — the numpy and scikit-learn pieces text content drift
 * scores with: numpy's legacy draws beyond tds_mt19937_* (randint,
 * random_sample), sklearn.metrics.roc_auc_score (roc_curve with
 * drop_intermediate, then the trapezoids summed as numpy sums them), a
 * radix sort for the random classifiers' scores, and np.percentile's
 * "linear" method, each evaluated in the library's own order so the
 * results are the same doubles.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tds_text_internal.h"

/* ------------------------------------------------------------------ */
/* numpy's legacy draws beyond tds_mt19937_*                           */
/* ------------------------------------------------------------------ */

/* RandomState.randint(low, high) for high - low - 1 < 2^32. */
int64_t
tds_np_randint(tds_mt19937 *mt, int64_t low, int64_t high)
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
uint64_t
tds_np_random_sample_key(tds_mt19937 *mt, double *score)
{
	uint32_t a = tds_mt19937_next32(mt) >> 5;
	uint32_t b = tds_mt19937_next32(mt) >> 6;

	*score = ((int32_t) a * 67108864.0 + (int32_t) b) / 9007199254740992.0;
	return ((uint64_t) a << 26) | b;
}

/* ------------------------------------------------------------------ */
/* ROC AUC (sklearn.metrics.roc_auc_score) and np.percentile           */
/* ------------------------------------------------------------------ */

static int
cmp_scored_desc(const void *a, const void *b)
{
	double x = ((const tds_scored *) a)->score;
	double y = ((const tds_scored *) b)->score;

	return (x < y) - (x > y);
}

/*
 * roc_curve(drop_intermediate = True) then auc() over rows sorted by
 * descending score: the ROC points at each distinct score, collinear ones
 * dropped, the trapezoids summed as np.trapezoid does (numpy's pairwise
 * add.reduce).  Ties form one group whatever their order, so any sort by
 * score works.  `pts` holds 3 * (n + 1) doubles.
 */
double
tds_roc_auc_sorted(const tds_scored *rows, size_t n, double *pts)
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
double
tds_roc_auc(tds_scored *rows, size_t n, double *pts)
{
	qsort(rows, n, sizeof(tds_scored), cmp_scored_desc);
	return tds_roc_auc_sorted(rows, n, pts);
}

#define RADIX_BITS 11
#define RADIX_PASSES 5 /* 55 bits: a random_sample() draw is k / 2^53 */

/*
 * The rows of a random classifier (score = key / 2^53, keys < 2^53) sorted
 * by descending score: a stable LSD radix sort of the integer keys, far
 * cheaper than comparisons for the 1000 classifiers of perc_.  `tmp` and
 * `tmp_keys` are scratch of n each.
 */
void
tds_sort_random_scores(tds_scored *rows, uint64_t *keys, size_t n, tds_scored *tmp, uint64_t *tmp_keys)
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
		memcpy(rows, tmp, n * sizeof(tds_scored));
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
double
tds_np_percentile(double *values, size_t n, double q)
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
