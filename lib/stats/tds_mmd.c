/*
 * tds_mmd.c — Evidently's "empirical_mmd" (legacy/.../mmd_stattest.py):
 * an RBF-kernel maximum mean discrepancy with a permutation p-value.
 *
 * Evidently builds the (n_ref + n_cur)^2 kernel matrix of the rows; here
 * every sum over rows is a sum over distinct values weighted by counts:
 *
 *   dist(a, b)  = (b^2 - 2 a b) + a^2   (numpy's evaluation order)
 *   sigma       = sqrt(0.5 * median_nearest(dist over reference pairs)),
 *                 sqrt(0.5) when that is 0; gamma = 1 / (2 sigma^2)
 *   K           = exp(-gamma dist), diagonal (a row with itself) zeroed
 *   mmd(X, Y)   = sum K_XX / (nx (nx - 1)) + sum K_YY / (ny (ny - 1))
 *                 - 2 mean K_XY
 *   p           = share of 100 row permutations whose mmd >= the observed
 *
 * The median is found by bisection over doubles, counting pairs (O(m^2)
 * per step, no pair list), and each permutation is two matrix-vector
 * products with the m x m kernel of the distinct values, so the test is
 * limited to TDS_MMD_MAX_DISTINCT distinct values.  Evidently never seeds
 * numpy's generator for these permutations (its p-value changes from run
 * to run); this one draws them like np.random.permutation after
 * np.random.seed(0), the rows taken in value-map order.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "tds_stats.h"
#include "tds_internal.h"

#define MMD_PERMUTATIONS 100
#define MMD_MAX_ROWS 10000000 /* the permutations shuffle every row */

static double
mmd_dist(double a, double b)
{
	volatile double ab2 = 2 * (a * b);
	volatile double t = b * b - ab2;

	return t + a * a;
}

/* Doubles as integers in the same order. */
static int64_t
double_order(double v)
{
	int64_t b;

	memcpy(&b, &v, sizeof b);
	return b < 0 ? INT64_MIN - b : b;
}

static double
order_double(int64_t o)
{
	int64_t b = o < 0 ? INT64_MIN - o : o;
	double	v;

	memcpy(&v, &b, sizeof v);
	return v;
}

/* Pairs of reference rows (ordered, self-pairs included) with dist <= v. */
static __int128
pairs_at_most(const tds_drift_column *c, double v)
{
	__int128 n = 0;
	size_t	 i;
	size_t	 j;

	for (i = 0; i < c->m; i++)
	{
		if (c->ref[i] == 0)
			continue;
		for (j = 0; j < c->m; j++)
			if (c->ref[j] != 0 && mmd_dist(c->values[i], c->values[j]) <= v)
				n += (__int128) c->ref[i] * c->ref[j];
	}
	return n;
}

/* sigma_median: np.percentile(dist_xx.flatten(), 50, method = "nearest"). */
static double
sigma_median(const tds_drift_column *c)
{
	__int128 total = (__int128) c->n_ref * c->n_ref;
	double	 virt = (double) (total - 1) * 0.5;
	double	 idx = nearbyint(virt); /* np.around: half to even */
	__int128 k = (__int128) idx;
	double	 lo_v = INFINITY;
	double	 hi_v = -INFINITY;
	int64_t	 lo;
	int64_t	 hi;
	double	 sigma;
	size_t	 i;
	size_t	 j;

	for (i = 0; i < c->m; i++)
		for (j = 0; j < c->m; j++)
			if (c->ref[i] != 0 && c->ref[j] != 0)
			{
				double d = mmd_dist(c->values[i], c->values[j]);

				lo_v = fmin(lo_v, d);
				hi_v = fmax(hi_v, d);
			}
	/* the smallest pair value v with more than k pairs <= v */
	lo = double_order(lo_v) - 1;
	hi = double_order(hi_v);
	while (hi - lo > 1)
	{
		int64_t mid = lo + (hi - lo) / 2;

		if (pairs_at_most(c, order_double(mid)) > k)
			hi = mid;
		else
			lo = mid;
	}
	sigma = pow(0.5 * order_double(hi), 0.5);
	if (sigma == 0)
		return pow(0.5 * 1, 0.5);
	return sigma;
}

/* a' K b over distinct values, with the diagonal (row with itself) removed when same. */
static double
quad_form(const double *K, const double *Kb, const int64_t *a, size_t m)
{
	ksum   s = { 0, 0 };
	size_t i;

	(void) K;
	for (i = 0; i < m; i++)
		if (a[i] != 0)
			ksum_add(&s, (double) a[i] * Kb[i]);
	return ksum_value(&s);
}

static void
mat_vec(const double *K, const int64_t *b, size_t m, double *out)
{
	size_t i;
	size_t j;

	for (i = 0; i < m; i++)
	{
		ksum s = { 0, 0 };

		for (j = 0; j < m; j++)
			if (b[j] != 0)
				ksum_add(&s, K[i * m + j] * (double) b[j]);
		out[i] = ksum_value(&s);
	}
}

/* mmd_2samp for the split a (X rows per value) / b (Y rows per value). */
static double
mmd_of(const double *K, const int64_t *a, const int64_t *b, size_t m, double nx,
	   double ny, double *Ka, double *Kb)
{
	double sxx;
	double syy;
	double sxy;
	size_t i;

	mat_vec(K, a, m, Ka);
	mat_vec(K, b, m, Kb);
	sxx = quad_form(K, Ka, a, m);
	syy = quad_form(K, Kb, b, m);
	sxy = quad_form(K, Ka, b, m);
	/* the zeroed diagonal: each row's kernel with itself, exp(0) = 1 */
	for (i = 0; i < m; i++)
	{
		sxx -= (double) a[i];
		syy -= (double) b[i];
	}
	return 1 / (nx * (nx - 1)) * sxx + 1 / (ny * (ny - 1)) * syy - 2.0 * (sxy / (nx * ny));
}

tds_status
tds_mmd_score(const tds_drift_column *c, double *score, tds_error *err)
{
	size_t		m = 0;
	size_t		i;
	size_t		j;
	int64_t		N = c->n_ref + c->n_cur;
	double		nx = (double) c->n_ref;
	double		ny = (double) c->n_cur;
	double		gamma;
	double		observed;
	double	   *K = NULL;
	double	   *Ka = NULL;
	double	   *Kb = NULL;
	double	   *v = NULL;
	int64_t	   *a = NULL;
	int64_t	   *b = NULL;
	int64_t	   *perm = NULL;
	uint32_t   *key_of_row = NULL;
	int64_t		row = 0;
	int64_t		r;
	int			it;
	int			hits = 0;
	tds_mt19937 mt;
	tds_status	st = TDS_OK;

	for (i = 0; i < c->m; i++)
		m += tds_key_present(c, i);
	if (m > TDS_MMD_MAX_DISTINCT)
		return tds_drift_input_error(err, "The empirical MMD sums over pairs of distinct values and accepts at most %d of them; the column has %zu.",
									 TDS_MMD_MAX_DISTINCT, m);
	if (N > MMD_MAX_ROWS)
		return tds_drift_input_error(err, "The empirical MMD shuffles all rows 100 times and accepts at most %d rows; the windows hold %lld.",
									 MMD_MAX_ROWS, (long long) N);
	if (c->n_ref < 2 || c->n_cur < 2)
		return tds_drift_input_error(err, "The empirical MMD needs at least two values in each window.");
	gamma = sigma_median(c);
	gamma = 1.0 / (2.0 * gamma * gamma);
	K = tdc_calloc_array(m * m, sizeof(double));
	Ka = tdc_calloc_array(m, sizeof(double));
	Kb = tdc_calloc_array(m, sizeof(double));
	v = tdc_calloc_array(m, sizeof(double));
	a = tdc_calloc_array(m, sizeof(int64_t));
	b = tdc_calloc_array(m, sizeof(int64_t));
	perm = tdc_calloc_array((size_t) N, sizeof(int64_t));
	key_of_row = tdc_calloc_array((size_t) N, sizeof(uint32_t));
	if (K == NULL || Ka == NULL || Kb == NULL || v == NULL || a == NULL ||
		b == NULL || perm == NULL || key_of_row == NULL)
	{
		st = tds_drift_nomem(err);
		goto done;
	}
	j = 0;
	for (i = 0; i < c->m; i++)
		if (tds_key_present(c, i))
		{
			v[j] = c->values[i];
			a[j] = c->ref[i];
			b[j] = c->cur[i];
			j++;
		}
	for (i = 0; i < m; i++)
		for (j = 0; j < m; j++)
			K[i * m + j] = exp(-gamma * mmd_dist(v[i], v[j]));
	observed = mmd_of(K, a, b, m, nx, ny, Ka, Kb);
	/* rows: the reference's by value, then the current's */
	for (i = 0; i < m; i++)
		for (r = 0; r < a[i]; r++)
			key_of_row[row++] = (uint32_t) i;
	for (i = 0; i < m; i++)
		for (r = 0; r < b[i]; r++)
			key_of_row[row++] = (uint32_t) i;
	tds_mt19937_seed(&mt, 0);
	for (it = 0; it < MMD_PERMUTATIONS; it++)
	{
		tds_mt19937_permutation(&mt, perm, N);
		memset(a, 0, m * sizeof(int64_t));
		memset(b, 0, m * sizeof(int64_t));
		/* the last ny positions of the permuted matrix are Y */
		for (r = 0; r < N; r++)
		{
			if (r < N - c->n_cur)
				a[key_of_row[perm[r]]]++;
			else
				b[key_of_row[perm[r]]]++;
		}
		hits += observed <= mmd_of(K, a, b, m, nx, ny, Ka, Kb);
	}
	*score = (double) hits / MMD_PERMUTATIONS;
done:
	tdc_free(K);
	tdc_free(Ka);
	tdc_free(Kb);
	tdc_free(v);
	tdc_free(a);
	tdc_free(b);
	tdc_free(perm);
	tdc_free(key_of_row);
	return st;
}
