/*
 * tds_count_tests.c — Evidently's tests over value counts (and Hellinger's
 * Sturges histogram of the distinct values):
 *
 *   hellinger     legacy/.../hellinger_distance.py: categorical over value
 *                 shares, numerical over np.histogram(density = True) with
 *                 np.histogram_bin_edges(distinct values, "sturges")
 *   g_test        power_divergence(f_obs = cur counts, f_exp = ref counts,
 *                 lambda_ = "log-likelihood"); scipy refuses totals that
 *                 differ by more than sqrt(eps) relative, so Evidently's
 *                 G-test needs windows of equal size
 *   fisher_exact  scipy fisher_exact (two-sided) of the 2x2 table
 *                 [[cur ones, cur zeros], [ref ones, ref zeros]]; Evidently
 *                 demands windows of equal size, at most two values each
 *   TVD           the permutation p-value of the total variation distance:
 *                 Evidently's utils.permutation_test, np.random.seed(0),
 *                 1000 draws of np.random.choice(ref + cur rows, n_ref,
 *                 replace = False); reproduced with numpy's MT19937 and
 *                 shuffle, the rows taken in value-map order (each window's
 *                 rows sorted by key), see docs/monitoring.md
 */
#include <math.h>
#include <string.h>

#include "tds_stats.h"
#include "tds_internal.h"

#define TVD_ITERATIONS 1000
#define TVD_MAX_ROWS 10000000 /* 1000 shuffles of the rows: 10^10 draws at most */
#define FISHER_EPSILON 1e-14
#define FISHER_MAX_SUPPORT 50000000 /* hypergeometric terms kept in memory */

/* ------------------------------------------------------------------ */
/* hellinger                                                           */
/* ------------------------------------------------------------------ */

static double
hellinger_from_sum(double h)
{
	if (h < 0)
		h = 0;
	if (h > 1)
		h = 1;
	return sqrt(1 - h);
}

static tds_status
hellinger(const tds_drift_column *c, double *score, tds_error *err)
{
	ksum   s = { 0, 0 };
	size_t i;

	if (!c->numerical)
	{
		/* Python's float loop over the keys (here in key order) */
		double h = 0.0;

		for (i = 0; i < c->m; i++)
		{
			double p1 = (double) c->ref[i] / (double) c->n_ref;
			double p2 = (double) c->cur[i] / (double) c->n_cur;

			if (tds_key_present(c, i))
				h += sqrt(p1 * p2);
		}
		*score = hellinger_from_sum(h);
		return TDS_OK;
	}
	{
		double	  *edges;
		int64_t	  *rc;
		int64_t	  *cc;
		size_t	   k;
		size_t	   keys = 0;
		double	   bin_width;
		tds_status st;

		for (i = 0; i < c->m; i++)
			keys += tds_key_present(c, i);
		st = tds_sturges_edges_n(c, (double) keys, &k, &edges, err);
		if (st != TDS_OK)
			return st;
		rc = tdc_calloc_array(k, sizeof(int64_t));
		cc = tdc_calloc_array(k, sizeof(int64_t));
		if (rc == NULL || cc == NULL)
		{
			tds_free_histogram(edges, rc, cc);
			return tds_drift_nomem(err);
		}
		tds_histogram_counts(c, edges, k, rc, cc);
		bin_width = (edges[k] - edges[0]) / (double) k;
		for (i = 0; i < k; i++)
		{
			double db = edges[i + 1] - edges[i];
			double h1 = (double) rc[i] / db / (double) c->n_ref;
			double h2 = (double) cc[i] / db / (double) c->n_cur;

			ksum_add(&s, sqrt(h1 * h2) * bin_width);
		}
		tds_free_histogram(edges, rc, cc);
		*score = hellinger_from_sum(ksum_value(&s));
		return TDS_OK;
	}
}

/* ------------------------------------------------------------------ */
/* g_test                                                              */
/* ------------------------------------------------------------------ */

static tds_status
g_test(const tds_drift_column *c, double *score, tds_error *err)
{
	double	o_sum = (double) c->n_cur;
	double	e_sum = (double) c->n_ref;
	double	rtol = sqrt(2.220446049250313e-16);
	ksum	s = { 0, 0 };
	int64_t keys = 0;
	size_t	i;

	if (fabs(o_sum - e_sum) / fmin(o_sum, e_sum) > rtol)
		return tds_drift_input_error(err, "Evidently's G-test passes the reference counts as expected frequencies, and scipy's power_divergence refuses totals that differ (%lld current against %lld reference rows): use windows of equal size.",
									 (long long) c->n_cur, (long long) c->n_ref);
	for (i = 0; i < c->m; i++)
	{
		double o = (double) c->cur[i];
		double e = (double) c->ref[i];

		if (!tds_key_present(c, i))
			continue;
		keys++;
		/* 2 xlogy(o, o / e): 0 when o = 0, +inf when e = 0 < o */
		ksum_add(&s, o == 0 ? 0.0 : 2.0 * (o * log(o / e)));
	}
	*score = tds_chi2_sf(ksum_value(&s), (double) (keys - 1));
	return TDS_OK;
}

/* ------------------------------------------------------------------ */
/* fisher_exact                                                        */
/* ------------------------------------------------------------------ */

/*
 * Two-sided Fisher p-value of [[a, b], [c, d]] as scipy's fisher_exact
 * computes it: hypergeometric pmf(x; M = a+b+c+d, n = a+b, N = a+c), the
 * tail through x = a plus the other tail's terms below pexact (1 + 1e-14).
 * The pmf comes from the term ratios around the mode (no factorials).
 */
static tds_status
fisher_two_sided(int64_t a, int64_t b, int64_t c, int64_t d, double *p,
				 tds_error *err)
{
	int64_t n1 = a + b;
	int64_t n2 = c + d;
	int64_t n = a + c;
	int64_t lo = n - n2 > 0 ? n - n2 : 0;
	int64_t hi = n < n1 ? n : n1;
	int64_t mode;
	double *w;
	double	total = 0;
	double	pexact;
	double	pmode;
	double	gamma = 1 + FISHER_EPSILON;
	double	sum = 0;
	int64_t x;

	if (n1 == 0 || n2 == 0 || n == 0 || b + d == 0)
	{
		*p = 1.0;
		return TDS_OK;
	}
	if (hi - lo >= FISHER_MAX_SUPPORT)
		return tds_drift_input_error(err, "Fisher's exact test over more than %d possible tables is not supported.",
									 FISHER_MAX_SUPPORT);
	mode = (int64_t) ((double) (n + 1) * (double) (n1 + 1) / (double) (n1 + n2 + 2));
	w = tdc_calloc_array((size_t) (hi - lo + 1), sizeof(double));
	if (w == NULL)
		return tds_drift_nomem(err);
	/* w[x - lo] relative to w(mode) = 1 */
	w[mode - lo] = 1.0;
	for (x = mode; x < hi; x++)
		w[x + 1 - lo] = w[x - lo] * ((double) (n1 - x) * (double) (n - x)) /
						((double) (x + 1) * (double) (n2 - n + x + 1));
	for (x = mode; x > lo; x--)
		w[x - 1 - lo] = w[x - lo] * ((double) x * (double) (n2 - n + x)) /
						((double) (n1 - x + 1) * (double) (n - x + 1));
	for (x = lo; x <= hi; x++)
		total += w[x - lo];
	pexact = w[a - lo] / total;
	pmode = 1.0 / total;
	if (fabs(pexact - pmode) / fmax(pexact, pmode) <= FISHER_EPSILON)
		sum = 1.0;
	else if (a < mode)
	{
		for (x = lo; x <= a; x++)
			sum += w[x - lo] / total;
		if (!((n <= hi ? w[n - lo] / total : 0.0) > pexact * gamma))
			for (x = hi; x > mode && w[x - lo] / total < pexact * gamma; x--)
				sum += w[x - lo] / total;
	}
	else
	{
		for (x = hi; x >= a; x--)
			sum += w[x - lo] / total;
		if (!((lo == 0 ? w[0] / total : 0.0) > pexact * gamma))
			for (x = lo; x < mode && w[x - lo] / total <= pexact * gamma; x++)
				sum += w[x - lo] / total;
	}
	tdc_free(w);
	*p = sum < 1.0 ? sum : 1.0;
	return TDS_OK;
}

static tds_status
fisher_exact(const tds_drift_column *c, double *score, tds_error *err)
{
	size_t	keys[2];
	size_t	nkeys = 0;
	size_t	ref_keys = 0;
	size_t	cur_keys = 0;
	int64_t one_ref;
	int64_t one_cur;
	size_t	i;

	for (i = 0; i < c->m; i++)
	{
		ref_keys += c->ref[i] > 0;
		cur_keys += c->cur[i] > 0;
	}
	if (ref_keys > 2 || cur_keys > 2)
		return tds_drift_input_error(err, "Fisher's exact test expects binary data: the reference has %zu and the current window %zu distinct values.",
									 ref_keys, cur_keys);
	if (c->n_ref != c->n_cur)
		return tds_drift_input_error(err, "Evidently's Fisher's exact test needs windows of equal length, got %lld reference and %lld current rows.",
									 (long long) c->n_ref, (long long) c->n_cur);
	for (i = 0; i < c->m; i++)
		if (tds_key_present(c, i))
		{
			if (nkeys == 2)
				return tds_drift_input_error(err, "The two windows hold more than two values together; Evidently then maps them to 0 and 1 in Python's set order, which is not reproducible.");
			keys[nkeys++] = i;
		}
	/* one value: a zero column sum, p = 1; two: the second key is "one" */
	if (nkeys < 2)
	{
		*score = 1.0;
		return TDS_OK;
	}
	one_ref = c->ref[keys[1]];
	one_cur = c->cur[keys[1]];
	return fisher_two_sided(one_cur, c->n_cur - one_cur, one_ref,
							c->n_ref - one_ref, score, err);
}

/* ------------------------------------------------------------------ */
/* numpy's legacy MT19937                                              */
/* ------------------------------------------------------------------ */

#define MT_N 624
#define MT_M 397

void
tds_mt19937_seed(tds_mt19937 *state, uint32_t seed)
{
	int pos;

	for (pos = 0; pos < MT_N; pos++)
	{
		state->key[pos] = seed;
		seed = 1812433253U * (seed ^ (seed >> 30)) + (uint32_t) pos + 1;
	}
	state->pos = MT_N;
}

static void
mt19937_gen(tds_mt19937 *state)
{
	uint32_t y;
	int		 i;

	for (i = 0; i < MT_N - MT_M; i++)
	{
		y = (state->key[i] & 0x80000000U) | (state->key[i + 1] & 0x7fffffffU);
		state->key[i] = state->key[i + MT_M] ^ (y >> 1) ^ (-(y & 1) & 0x9908b0dfU);
	}
	for (; i < MT_N - 1; i++)
	{
		y = (state->key[i] & 0x80000000U) | (state->key[i + 1] & 0x7fffffffU);
		state->key[i] = state->key[i + (MT_M - MT_N)] ^ (y >> 1) ^ (-(y & 1) & 0x9908b0dfU);
	}
	y = (state->key[MT_N - 1] & 0x80000000U) | (state->key[0] & 0x7fffffffU);
	state->key[MT_N - 1] = state->key[MT_M - 1] ^ (y >> 1) ^ (-(y & 1) & 0x9908b0dfU);
	state->pos = 0;
}

uint32_t
tds_mt19937_next32(tds_mt19937 *state)
{
	uint32_t y;

	if (state->pos == MT_N)
		mt19937_gen(state);
	y = state->key[state->pos++];
	y ^= (y >> 11);
	y ^= (y << 7) & 0x9d2c5680U;
	y ^= (y << 15) & 0xefc60000U;
	y ^= (y >> 18);
	return y;
}

/* numpy random_interval: a uniform integer in [0, max] by masked rejection. */
static uint64_t
mt19937_interval(tds_mt19937 *state, uint64_t max)
{
	uint64_t mask = max;
	uint64_t value;

	if (max == 0)
		return 0;
	mask |= mask >> 1;
	mask |= mask >> 2;
	mask |= mask >> 4;
	mask |= mask >> 8;
	mask |= mask >> 16;
	mask |= mask >> 32;
	if (max <= 0xffffffffU)
	{
		while ((value = (tds_mt19937_next32(state) & mask)) > max)
			;
	}
	else
	{
		/* legacy next_uint64: two 32-bit draws, high word first */
		do
		{
			uint64_t high = tds_mt19937_next32(state);
			uint64_t low = tds_mt19937_next32(state);

			value = ((high << 32) | low) & mask;
		} while (value > max);
	}
	return value;
}

void
tds_mt19937_permutation(tds_mt19937 *state, int64_t *perm, int64_t n)
{
	int64_t i;

	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n - 1; i >= 1; i--)
	{
		int64_t j = (int64_t) mt19937_interval(state, (uint64_t) i);
		int64_t t = perm[j];

		perm[j] = perm[i];
		perm[i] = t;
	}
}

/* ------------------------------------------------------------------ */
/* TVD                                                                 */
/* ------------------------------------------------------------------ */

/* numpy's pairwise summation (add.reduce over a contiguous float64 array). */
double
tds_npy_pairwise_sum(const double *a, size_t n)
{
	if (n < 8)
	{
		double res = -0.0;
		size_t i;

		for (i = 0; i < n; i++)
			res += a[i];
		return res;
	}
	if (n <= 128)
	{
		double r[8];
		double res;
		size_t i;
		int	   j;

		for (j = 0; j < 8; j++)
			r[j] = a[j];
		for (i = 8; i < n - (n % 8); i += 8)
			for (j = 0; j < 8; j++)
				r[j] += a[i + (size_t) j];
		res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += a[i];
		return res;
	}
	{
		size_t n2 = n / 2;

		n2 -= n2 % 8;
		return tds_npy_pairwise_sum(a, n2) + tds_npy_pairwise_sum(a + n2, n - n2);
	}
}

/*
 * _total_variation_distance as numpy evaluates it over the keys in key
 * order: 0.5 * np.sum(np.abs(ref / n_r - cur / n_c)).  Evidently compares
 * these doubles (ties included), so they are reproduced, not improved on.
 */
static double
tvd_numpy(const int64_t *r, const int64_t *cc, size_t k, int64_t nr, int64_t nc,
		  double *buf)
{
	size_t i;

	for (i = 0; i < k; i++)
		buf[i] = fabs((double) r[i] / (double) nr - (double) cc[i] / (double) nc);
	return 0.5 * tds_npy_pairwise_sum(buf, k);
}

static tds_status
tvd_pvalue(const tds_drift_column *c, double *score, tds_error *err)
{
	int64_t		N = c->n_ref + c->n_cur;
	int64_t	   *perm;
	uint32_t   *key_of_row;
	int64_t	   *r;
	int64_t	   *total;
	int64_t	   *cc;
	size_t		k = 0;
	size_t		i;
	int64_t		row = 0;
	int64_t		j;
	int			it;
	int			hits = 0;
	double		observed;
	double	   *buf;
	tds_mt19937 mt;

	if (c->m > UINT32_MAX || N > TVD_MAX_ROWS)
		return tds_drift_input_error(err, "The TVD permutation test shuffles all rows 1000 times and accepts at most %d rows; the windows hold %lld.",
									 TVD_MAX_ROWS, (long long) N);
	perm = tdc_calloc_array((size_t) N, sizeof(int64_t));
	key_of_row = tdc_calloc_array((size_t) N, sizeof(uint32_t));
	r = tdc_calloc_array(c->m + 1, sizeof(int64_t));
	total = tdc_calloc_array(c->m + 1, sizeof(int64_t));
	cc = tdc_calloc_array(c->m + 1, sizeof(int64_t));
	buf = tdc_calloc_array(c->m + 1, sizeof(double));
	if (perm == NULL || key_of_row == NULL || r == NULL || total == NULL || cc == NULL ||
		buf == NULL)
	{
		tdc_free(buf);
		tdc_free(perm);
		tdc_free(key_of_row);
		tdc_free(r);
		tdc_free(total);
		tdc_free(cc);
		return tds_drift_nomem(err);
	}
	/* present keys renumbered 0..k-1; rows: the reference's, then the current's, by key */
	for (i = 0; i < c->m; i++)
		if (tds_key_present(c, i))
		{
			r[k] = c->ref[i];
			cc[k] = c->cur[i];
			total[k] = c->ref[i] + c->cur[i];
			k++;
		}
	observed = tvd_numpy(r, cc, k, c->n_ref, c->n_cur, buf);
	for (i = 0; i < k; i++)
		for (j = 0; j < r[i]; j++)
			key_of_row[row++] = (uint32_t) i;
	for (i = 0; i < k; i++)
		for (j = 0; j < cc[i]; j++)
			key_of_row[row++] = (uint32_t) i;
	tds_mt19937_seed(&mt, 0);
	for (it = 0; it < TVD_ITERATIONS; it++)
	{
		tds_mt19937_permutation(&mt, perm, N);
		memset(r, 0, k * sizeof(int64_t));
		for (j = 0; j < c->n_ref; j++)
			r[key_of_row[perm[j]]]++;
		for (i = 0; i < k; i++)
			cc[i] = total[i] - r[i];
		hits += observed <= tvd_numpy(r, cc, k, c->n_ref, c->n_cur, buf);
	}
	*score = (double) hits / (double) TVD_ITERATIONS;
	tdc_free(perm);
	tdc_free(key_of_row);
	tdc_free(r);
	tdc_free(total);
	tdc_free(cc);
	tdc_free(buf);
	return TDS_OK;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

tds_status
tds_count_test_score(tds_stattest test, const tds_drift_column *c, double *score,
					 tds_error *err)
{
	switch (test)
	{
		case TDS_STATTEST_HELLINGER:
			return hellinger(c, score, err);
		case TDS_STATTEST_G_TEST:
			return g_test(c, score, err);
		case TDS_STATTEST_FISHER_EXACT:
			return fisher_exact(c, score, err);
		case TDS_STATTEST_TVD:
			return tvd_pvalue(c, score, err);
		default:
			break;
	}
	return tds_drift_input_error(err, "Test %d is not a count test.", (int) test);
}
