/*
 * tds_rank_tests.c — Evidently's numerical-only tests that read the sorted
 * values with their per-window counts: ranks with ties, ECDFs, moments and
 * characteristic-function sums are all functions of (value, count) pairs,
 * so each test is one or two walks over the distinct values, never over the
 * rows (except the O(N) constants of anderson_ksamp, which depend on the
 * row count only):
 *
 *   t_test            scipy ttest_ind(ref, cur), equal_var = True
 *   mannw             scipy mannwhitneyu(ref, cur, alternative = "less"),
 *                     method "auto" (exact iff min(n) <= 8 and no ties)
 *   ed                scipy energy_distance(ref, cur)
 *   cramer_von_mises  Evidently's own _cvm_2samp (a copy of scipy's
 *                     cramervonmises_2samp): exact iff max(n) <= 20
 *   anderson          scipy anderson_ksamp([ref, cur]) midrank variant, its
 *                     capped p-value interpolation
 *   es                scipy epps_singleton_2samp(ref, cur), t = (0.4, 0.8)
 *
 * Sources: legacy/calculations/stattests of Evidently 0.7.23 and
 * scipy 1.17.1 (_stats_py.py, _mannwhitneyu.py, _morestats.py,
 * _hypotests.py); docs/monitoring.md has the table.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tds_stats.h"
#include "tds_internal.h"

#define CVM_EXACT_MAX_N 20 /* _cvm_2samp "auto": exact iff max(nx, ny) <= 20 */
#define MWU_EXACT_MAX_MIN_N 8
#define MWU_EXACT_MAX_PRODUCT 2e7 /* n1 n2 of the exact path: 10^7 terms, 80 MB */
#define AD_MAX_ROWS 1e11		  /* anderson's constants loop over the rows */

/* ------------------------------------------------------------------ */
/* Moments per window                                                  */
/* ------------------------------------------------------------------ */

/* Mean of one window (counts[] = c->ref or c->cur), x * count added exactly. */
static double
window_mean(const tds_drift_column *c, const int64_t *counts, int64_t n)
{
	ksum   s = { 0, 0 };
	size_t i;

	for (i = 0; i < c->m; i++)
	{
		double cnt = (double) counts[i];
		double p;

		if (counts[i] == 0)
			continue;
		p = c->values[i] * cnt;
		ksum_add(&s, p);
		ksum_add(&s, fma(c->values[i], cnt, -p));
	}
	return ksum_value(&s) / (double) n;
}

/* Sum of count * (x - mean)^2 over one window. */
static double
window_ss(const tds_drift_column *c, const int64_t *counts, double mean)
{
	ksum   s = { 0, 0 };
	size_t i;

	for (i = 0; i < c->m; i++)
	{
		double d;

		if (counts[i] == 0)
			continue;
		d = c->values[i] - mean;
		ksum_add(&s, d * d * (double) counts[i]);
	}
	return ksum_value(&s);
}

/* ------------------------------------------------------------------ */
/* t_test                                                              */
/* ------------------------------------------------------------------ */

/*
 * ttest_ind: v = var(ddof = 1) (0 for a single value), pooled variance
 * with df = n1 + n2 - 2, t = (m1 - m2) / sqrt(svar (1/n1 + 1/n2)),
 * p = 2 stdtr(df, -|t|).  0/0 gives NaN as in scipy.
 */
static double
t_test_pvalue(const tds_drift_column *c)
{
	double n1 = (double) c->n_ref;
	double n2 = (double) c->n_cur;
	double m1 = window_mean(c, c->ref, c->n_ref);
	double m2 = window_mean(c, c->cur, c->n_cur);
	double v1 = c->n_ref == 1 ? 0.0 : window_ss(c, c->ref, m1) / n1 * (n1 / (n1 - 1));
	double v2 = c->n_cur == 1 ? 0.0 : window_ss(c, c->cur, m2) / n2 * (n2 / (n2 - 1));
	double df = n1 + n2 - 2.0;
	double svar = ((n1 - 1) * v1 + (n2 - 1) * v2) / df;
	double denom = sqrt(svar * (1.0 / n1 + 1.0 / n2));
	double t = (m1 - m2) / denom;

	if (isnan(t) || !(df > 0))
		return NAN;
	return 2 * tds_student_t_sf(fabs(t), df);
}

/* ------------------------------------------------------------------ */
/* mannw                                                               */
/* ------------------------------------------------------------------ */

/*
 * The exact null distribution of U for sample sizes n1 <= n2 as counts of
 * configurations: the coefficients of the Gaussian binomial [n1 + n2, n1]_q
 * up to q^maxu (the numbers scipy's _MWU.build_u_freqs_array builds by
 * another recurrence; exact while below 2^53).
 */
static double *
mwu_configurations(int64_t n1, int64_t n2, int64_t maxu)
{
	double *f = tdc_calloc_array((size_t) maxu + 1, sizeof(double));
	int64_t i;
	int64_t u;

	if (f == NULL)
		return NULL;
	f[0] = 1;
	for (i = 1; i <= n1; i++)
	{
		int64_t up = n2 + i;

		/* multiply by (1 - q^(n2 + i)), then divide by (1 - q^i) */
		for (u = maxu; u >= up; u--)
			f[u] -= f[u - up];
		for (u = i; u <= maxu; u++)
			f[u] += f[u - i];
	}
	return f;
}

/* _MWU.sf(U) for integer U: P(U' >= U). */
static tds_status
mwu_exact_sf(int64_t n1, int64_t n2, int64_t U, double *p, tds_error *err)
{
	int64_t lo = n1 < n2 ? n1 : n2;
	int64_t hi = n1 < n2 ? n2 : n1;
	int64_t kc = lo * hi - U;
	int64_t k = U < kc ? U : kc;
	double	num = 1;
	double	den = 1;
	double	total;
	double *f;
	double	cdf = 0;
	int64_t i;

	if (k < 0)
	{
		*p = U <= 0 ? 1.0 : 0.0;
		return TDS_OK;
	}
	/* special.binom(n1 + n2, n1) as xsf computes it for k < 20 */
	for (i = 1; i <= lo; i++)
	{
		num *= (double) i + (double) (lo + hi) - (double) lo;
		den *= (double) i;
		if (fabs(num) > 1e50)
		{
			num /= den;
			den = 1.0;
		}
	}
	total = num / den;
	f = mwu_configurations(lo, hi, k);
	if (f == NULL)
		return tds_drift_nomem(err);
	/* np.cumsum(configurations / total)[k], left to right */
	for (i = 0; i <= k; i++)
		cdf += f[i] / total;
	if (U < kc)
		*p = 1.0 - cdf + f[k] / total;
	else
		*p = cdf;
	tdc_free(f);
	return TDS_OK;
}

static tds_status
mannw_pvalue(const tds_drift_column *c, double *p, tds_error *err)
{
	double	n1 = (double) c->n_ref;
	double	n2 = (double) c->n_cur;
	double	n = n1 + n2;
	ksum	r1 = { 0, 0 };
	ksum	tie = { 0, 0 };
	int64_t before = 0;
	bool	ties = false;
	double	U1;
	double	U;
	size_t	i;

	for (i = 0; i < c->m; i++)
	{
		int64_t t = c->ref[i] + c->cur[i];
		double	td = (double) t;

		if (t == 0)
			continue;
		/* midrank of the tied group: before + (t + 1) / 2 */
		ksum_add(&r1, (double) c->ref[i] * ((double) before + (td + 1) / 2));
		ksum_add(&tie, td * td * td - td);
		ties = ties || t > 1;
		before += t;
	}
	U1 = ksum_value(&r1) - n1 * (n1 + 1) / 2;
	U = n1 * n2 - U1; /* alternative "less": the SF of U2 */
	if (!(c->n_ref > MWU_EXACT_MAX_MIN_N && c->n_cur > MWU_EXACT_MAX_MIN_N) && !ties)
	{
		tds_status st;

		if (n1 * n2 > MWU_EXACT_MAX_PRODUCT)
			return tds_drift_input_error(err, "The exact Mann-Whitney distribution for %lld and %lld values (no ties, one window of at most 8) would need more than %g terms.",
										 (long long) c->n_ref, (long long) c->n_cur,
										 MWU_EXACT_MAX_PRODUCT / 2);
		st = mwu_exact_sf(c->n_ref, c->n_cur, (int64_t) U, p, err);
		if (st != TDS_OK)
			return st;
	}
	else
	{
		double s = sqrt(n1 * n2 / 12 * ((n + 1) - ksum_value(&tie) / (n * (n - 1))));
		double z = (U - n1 * n2 / 2 - 0.5) / s;

		*p = tds_normal_cdf(-z);
	}
	if (*p < 0)
		*p = 0;
	if (*p > 1)
		*p = 1;
	return TDS_OK;
}

/* ------------------------------------------------------------------ */
/* ed                                                                  */
/* ------------------------------------------------------------------ */

/* sqrt(2) * sqrt(sum over gaps of (R/n_r - C/n_c)^2 (x_{j+1} - x_j)). */
double
tds_energy_distance(const tds_drift_column *c)
{
	ksum	s = { 0, 0 };
	int64_t R = 0;
	int64_t C = 0;
	double	prev = 0;
	bool	have_prev = false;
	size_t	i;

	if (c->n_ref <= 0 || c->n_cur <= 0 || c->values == NULL)
		return NAN;
	for (i = 0; i < c->m; i++)
	{
		double d;

		if (!tds_key_present(c, i))
			continue;
		if (have_prev)
		{
			d = (double) R / (double) c->n_ref - (double) C / (double) c->n_cur;
			ksum_add(&s, d * d * (c->values[i] - prev));
		}
		R += c->ref[i];
		C += c->cur[i];
		prev = c->values[i];
		have_prev = true;
	}
	return sqrt(2.0) * sqrt(ksum_value(&s));
}

/* ------------------------------------------------------------------ */
/* cramer_von_mises                                                    */
/* ------------------------------------------------------------------ */

/*
 * sum_{k=1..cnt} (R - before - k)^2 for a tied group of cnt values of one
 * sample with midrank R after `before` values of the same sample, exactly:
 * with D = 2 (R - before) an integer, sum (D - 2k)^2 / 4.
 */
static double
cvm_group_sum(int64_t before, int64_t cnt, double R)
{
	__int128 D = (__int128) llround(2 * R) - 2 * (__int128) before;
	__int128 c = cnt;
	__int128 s = c * D * D - 2 * D * c * (c + 1) + 2 * c * (c + 1) * (2 * c + 1) / 3;

	return (double) s / 4.0;
}

/* numpy's floor_divide for doubles (npy_divmod). */
static double
npy_floor_divide(double a, double b)
{
	double mod;
	double div;
	double floordiv;

	if (b == 0)
		return a / b;
	mod = fmod(a, b);
	div = (a - mod) / b;
	if (mod != 0)
	{
		if ((b < 0) != (mod < 0))
			div -= 1.0;
	}
	if (div != 0)
	{
		floordiv = floor(div);
		if (div - floordiv > 0.5)
			floordiv += 1.0;
	}
	else
		floordiv = copysign(0.0, a / b);
	return floordiv;
}

static int64_t
gcd64(int64_t a, int64_t b)
{
	while (b != 0)
	{
		int64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * Evidently's exact path stores its frequency table in
 * np.min_scalar_type(max(lcm^2 (m + n), C(m + n, m))).  When that is the
 * integer bound, numpy 2 refuses the in-place add of an int64 and the test
 * raises; otherwise it is float16 (C <= 65504) or float32, and every sum is
 * rounded to that type.  The emulation keeps numpy's element order (the
 * order matters once float32 sums pass 2^24).
 */
typedef enum cvm_dtype
{
	CVM_FLOAT16,
	CVM_FLOAT32
} cvm_dtype;

/* Round a double to float16 (round to nearest even; overflow to inf). */
static double
round_half(double x)
{
	double ax = fabs(x);
	int	   e;
	double ulp;

	if (ax == 0 || !isfinite(ax))
		return x;
	if (ax >= 65520.0)
		return copysign(INFINITY, x);
	frexp(ax, &e); /* ax = f 2^e, f in [0.5, 1) */
	ulp = e - 1 < -14 ? ldexp(1.0, -24) : ldexp(1.0, e - 1 - 10);
	return copysign(nearbyint(ax / ulp) * ulp, x);
}

static double
cvm_round(cvm_dtype t, double x)
{
	return t == CVM_FLOAT16 ? round_half(x) : (double) (float) x;
}

/* numpy's pairwise sum with float accumulators (FLOAT and HALF reductions). */
static float
pairwise_float(const double *a, size_t n)
{
	if (n < 8)
	{
		float  res = -0.0f;
		size_t i;

		for (i = 0; i < n; i++)
			res += (float) a[i];
		return res;
	}
	if (n <= 128)
	{
		float  r[8];
		float  res;
		size_t i;
		int	   j;

		for (j = 0; j < 8; j++)
			r[j] = (float) a[j];
		for (i = 8; i < n - (n % 8); i += 8)
			for (j = 0; j < 8; j++)
				r[j] += (float) a[i + (size_t) j];
		res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += (float) a[i];
		return res;
	}
	{
		size_t n2 = n / 2;

		n2 -= n2 % 8;
		return pairwise_float(a, n2) + pairwise_float(a + n2, n - n2);
	}
}

/* A frequency table of g values, in numpy's column order. */
typedef struct gtable
{
	double *value;
	double *freq;
	size_t	len;
	size_t	cap;
} gtable;

static bool
gtable_reserve(gtable *t, size_t cap)
{
	double *v;
	double *f;

	if (cap <= t->cap)
		return true;
	v = tdc_calloc_array(cap, sizeof(double));
	f = tdc_calloc_array(cap, sizeof(double));
	if (v == NULL || f == NULL)
	{
		tdc_free(v);
		tdc_free(f);
		return false;
	}
	tdc_free(t->value);
	tdc_free(t->freq);
	t->value = v;
	t->freq = f;
	t->cap = cap;
	return true;
}

static void
gtable_free(gtable *t)
{
	tdc_free(t->value);
	tdc_free(t->freq);
}

static const gtable *sort_table;

static int
cmp_by_value_then_index(const void *a, const void *b)
{
	size_t i = *(const size_t *) a;
	size_t j = *(const size_t *) b;
	double x = sort_table->value[i];
	double y = sort_table->value[j];

	if (x != y)
		return x < y ? -1 : 1;
	return (i > j) - (i < j);
}

/* np.unique(values, return_index = True): first-occurrence index per distinct value, ascending. */
static size_t
unique_first(const gtable *t, size_t *order)
{
	size_t i;
	size_t k = 0;

	for (i = 0; i < t->len; i++)
		order[i] = i;
	sort_table = t;
	qsort(order, t->len, sizeof(size_t), cmp_by_value_then_index);
	for (i = 0; i < t->len; i++)
		if (i == 0 || t->value[order[i]] != t->value[order[k - 1]])
			order[k++] = order[i];
	return k;
}

/*
 * One step of _pval_cvm_2samp_exact: out = concatenate([stack([vi,
 * tmp[1, i0] + g[1, i1]]), delete(tmp, i0, 1), delete(g, i1, 1)], 1), then
 * out[0] += add, where vi, i0, i1 = np.intersect1d(tmp[0], g[0],
 * return_indices = True).
 */
static bool
cvm_step(cvm_dtype dt, const gtable *tmp, const gtable *g, double add, gtable *out)
{
	size_t *ot = tdc_calloc_array(tmp->len + 1, sizeof(size_t));
	size_t *og = tdc_calloc_array(g->len + 1, sizeof(size_t));
	bool   *used_t = tdc_calloc_array(tmp->len + 1, sizeof(bool));
	bool   *used_g = tdc_calloc_array(g->len + 1, sizeof(bool));
	size_t	nt;
	size_t	ng;
	size_t	x = 0;
	size_t	y = 0;
	size_t	i;
	bool	ok = ot != NULL && og != NULL && used_t != NULL && used_g != NULL &&
			  gtable_reserve(out, tmp->len + g->len + 1);

	if (ok)
	{
		nt = unique_first(tmp, ot);
		ng = unique_first(g, og);
		out->len = 0;
		while (x < nt && y < ng && tmp->value != NULL && g->value != NULL)
		{
			double vt = tmp->value[ot[x]];
			double vg = g->value[og[y]];

			if (vt < vg)
				x++;
			else if (vg < vt)
				y++;
			else
			{
				out->value[out->len] = vt;
				out->freq[out->len] = cvm_round(dt, tmp->freq[ot[x]] + g->freq[og[y]]);
				out->len++;
				used_t[ot[x++]] = true;
				used_g[og[y++]] = true;
			}
		}
		for (i = 0; tmp->value != NULL && i < tmp->len; i++)
			if (!used_t[i])
			{
				out->value[out->len] = tmp->value[i];
				out->freq[out->len++] = tmp->freq[i];
			}
		for (i = 0; g->value != NULL && i < g->len; i++)
			if (!used_g[i])
			{
				out->value[out->len] = g->value[i];
				out->freq[out->len++] = g->freq[i];
			}
		for (i = 0; i < out->len; i++)
			out->value[i] = cvm_round(dt, out->value[i] + add);
	}
	tdc_free(ot);
	tdc_free(og);
	tdc_free(used_t);
	tdc_free(used_g);
	return ok;
}

/*
 * _pval_cvm_2samp_exact (Xiao, Gordon and Yakovlev's algorithm as
 * Evidently's copy writes it, numpy 2 dtypes included): P(U' >= s) for
 * sample sizes m and n.
 */
static tds_status
cvm_exact_pvalue(double s, int64_t m, int64_t n, double *p, tds_error *err)
{
	int64_t	   lcm = m / gcd64(m, n) * n;
	int64_t	   a = lcm / m;
	int64_t	   b = lcm / n;
	int64_t	   mn = m * n;
	double	   zeta = npy_floor_divide((double) (lcm * lcm * (m + n)) *
										   (6 * s - (double) (mn * (4 * mn - 1))),
									   (double) (6 * mn * mn));
	double	   zeta_bound = (double) (lcm * lcm * (m + n));
	double	   combinations = 1;
	cvm_dtype  dt;
	gtable	  *gs;
	gtable	  *next;
	gtable	   empty = { NULL, NULL, 0, 0 };
	double	  *picked = NULL;
	size_t	   npicked = 0;
	int64_t	   u;
	int64_t	   v;
	size_t	   i;
	tds_status st = TDS_OK;

	for (i = 1; i <= (size_t) m; i++)
		combinations = combinations * (double) (n + (int64_t) i) / (double) i;
	combinations = round(combinations);
	if (!(combinations > zeta_bound))
		return tds_drift_input_error(err, "Evidently's exact Cramer-von Mises p-value (both windows of at most 20 values) fails under numpy 2 for %lld and %lld values: its frequency table gets an unsigned integer type and numpy refuses to add an int64 to it.",
									 (long long) m, (long long) n);
	dt = combinations <= 65504.0 ? CVM_FLOAT16 : CVM_FLOAT32;
	gs = tdc_calloc_array((size_t) m + 1, sizeof(gtable));
	next = tdc_calloc_array((size_t) m + 1, sizeof(gtable));
	if (gs == NULL || next == NULL || !gtable_reserve(&gs[0], 1))
		st = TDS_ERR_NOMEM;
	if (st == TDS_OK)
	{
		gs[0].len = 1;
		gs[0].value[0] = 0;
		gs[0].freq[0] = 1;
		for (u = 0; u <= n && st == TDS_OK; u++)
		{
			const gtable *tmp = &empty;

			for (v = 0; v <= m; v++)
			{
				double d = (double) (a * v - b * u);

				if (!cvm_step(dt, tmp, &gs[v], d * d, &next[v]))
				{
					st = TDS_ERR_NOMEM;
					break;
				}
				tmp = &next[v];
			}
			for (v = 0; v <= m; v++)
			{
				gtable t = gs[v];

				gs[v] = next[v];
				next[v] = t;
			}
		}
	}
	if (st == TDS_OK)
	{
		picked = tdc_calloc_array(gs[m].len + 1, sizeof(double));
		if (picked == NULL)
			st = TDS_ERR_NOMEM;
	}
	if (st == TDS_OK)
	{
		float sum;
		float q;

		for (i = 0; i < gs[m].len; i++)
			if (gs[m].value[i] >= zeta)
				picked[npicked++] = gs[m].freq[i];
		/* np.sum in the table's type, then / combinations in that type */
		sum = pairwise_float(picked, npicked);
		if (dt == CVM_FLOAT16)
		{
			double hs = round_half((double) sum);

			q = (float) hs / (float) round_half(combinations);
			*p = round_half((double) q);
		}
		else
		{
			q = sum / (float) combinations;
			*p = (double) q;
		}
	}
	tdc_free(picked);
	for (v = 0; gs != NULL && next != NULL && v <= m; v++)
	{
		gtable_free(&gs[v]);
		gtable_free(&next[v]);
	}
	tdc_free(gs);
	tdc_free(next);
	return st == TDS_OK ? TDS_OK : tds_drift_nomem(err);
}

/* _cdf_cvm_inf: the limiting distribution of the one-sample statistic. */
static double
cdf_cvm_inf(double x)
{
	double tot = 0;
	int	   k;

	for (k = 0; k < 1000; k++)
	{
		double u = exp(lgamma(k + 0.5) - lgamma(k + 1.0)) / (pow(M_PI, 1.5) * sqrt(x));
		double y = 4.0 * k + 1;
		double q = y * y / (16 * x);
		double b = tds_bessel_k(0.25, q);
		double z = u * sqrt(y) * exp(-q) * b;

		tot = tot + z;
		if (!(fabs(z) >= 1e-7))
			break;
	}
	return tot;
}

static tds_status
cvm_pvalue(const tds_drift_column *c, double *p, tds_error *err)
{
	int64_t nx = c->n_ref;
	int64_t ny = c->n_cur;
	double	k = (double) nx * (double) ny;
	double	N = (double) nx + (double) ny;
	ksum	sx = { 0, 0 };
	ksum	sy = { 0, 0 };
	int64_t before = 0;
	int64_t bx = 0;
	int64_t by = 0;
	double	u;
	double	t;
	size_t	i;

	if (nx <= 1 || ny <= 1)
		return tds_drift_input_error(err, "The Cramer-von Mises test needs at least two values in each window, got %lld and %lld.",
									 (long long) nx, (long long) ny);
	for (i = 0; i < c->m; i++)
	{
		int64_t tcount = c->ref[i] + c->cur[i];
		double	R;

		if (tcount == 0)
			continue;
		R = (double) before + ((double) tcount + 1) / 2;
		if (c->ref[i] > 0)
			ksum_add(&sx, cvm_group_sum(bx, c->ref[i], R));
		if (c->cur[i] > 0)
			ksum_add(&sy, cvm_group_sum(by, c->cur[i], R));
		bx += c->ref[i];
		by += c->cur[i];
		before += tcount;
	}
	u = (double) nx * ksum_value(&sx);
	u += (double) ny * ksum_value(&sy);
	t = u / (k * N) - (4 * k - 1) / (6 * N);
	if (nx <= CVM_EXACT_MAX_N && ny <= CVM_EXACT_MAX_N)
		return cvm_exact_pvalue(u, nx, ny, p, err);
	{
		double et = (1 + 1 / N) / 6;
		double vt = (N + 1.0) * (4 * k * N - 3 * ((double) nx * (double) nx + (double) ny * (double) ny) - 2 * k);
		double tn;

		vt = vt / (45 * N * N * 4 * k);
		tn = 1.0 / 6 + (t - et) / sqrt(45 * vt);
		if (tn < 0.003)
			*p = 1.0;
		else
		{
			*p = 1.0 - cdf_cvm_inf(tn);
			if (*p < 0)
				*p = 0;
		}
	}
	return TDS_OK;
}

/* ------------------------------------------------------------------ */
/* anderson                                                            */
/* ------------------------------------------------------------------ */

/*
 * np.polyfit(critical, log(sig), 2) for two samples (m = 1, so critical =
 * b0 + b1 + b2 of Scholz and Stephens' Table 2 is a constant): the three
 * coefficients as numpy computes them, and the critical values' range.
 */
static const double ad_polyfit[3] = { 0x1.2a285742e695ep-6, -0x1.021b22d956316p+0,
									  -0x1.13e8c0c86e03fp+0 };
static const double ad_critical_min = 0x1.4cccccccccccep-2; /* 0.325 + 1 ulp */
static const double ad_critical_max = 0x1.a2f1a9fbe76c9p+2; /* 6.546 */

static tds_status
anderson_pvalue(const tds_drift_column *c, double *p, tds_error *err)
{
	double	N = (double) c->n_ref + (double) c->n_cur;
	double	n[2] = { (double) c->n_ref, (double) c->n_cur };
	int64_t Nint = c->n_ref + c->n_cur;
	ksum	inner[2] = { { 0, 0 }, { 0, 0 } };
	int64_t before = 0;
	int64_t below[2] = { 0, 0 };
	size_t	distinct = 0;
	double	A2akN;
	double	H;
	double	hs = 0;
	double	h;
	ksum	g = { 0, 0 };
	double	a;
	double	b;
	double	cc;
	double	d;
	double	sigmasq;
	double	A2;
	int64_t j;
	size_t	i;
	int		w;

	for (i = 0; i < c->m; i++)
		distinct += tds_key_present(c, i);
	if (N > AD_MAX_ROWS)
		return tds_drift_input_error(err, "anderson_ksamp's constants take O(rows) steps; %.0f rows exceed the %g allowed.",
									 N, AD_MAX_ROWS);
	if (distinct < 2)
		return tds_drift_input_error(err, "anderson_ksamp needs more than one distinct observation.");
	for (i = 0; i < c->m; i++)
	{
		int64_t lj_i = c->ref[i] + c->cur[i];
		double	lj;
		double	Bj;

		if (lj_i == 0)
			continue;
		lj = (Nint == (int64_t) distinct) ? 1.0 : (double) lj_i;
		Bj = (double) before + lj / 2.;
		for (w = 0; w < 2; w++)
		{
			int64_t f = w == 0 ? c->ref[i] : c->cur[i];
			double	Mij = (double) (below[w] + f) - (double) f / 2.;
			double	q = N * Mij - Bj * n[w];

			ksum_add(&inner[w], lj / N * q * q / (Bj * (N - Bj) - N * lj / 4.));
			below[w] += f;
		}
		before += lj_i;
	}
	A2akN = 0.;
	A2akN += ksum_value(&inner[0]) / n[0];
	A2akN += ksum_value(&inner[1]) / n[1];
	A2akN *= (N - 1.) / N;

	/* H, h, g: hs_cs = cumsum(1 / arange(N - 1, 1, -1)) */
	H = 1. / n[0] + 1. / n[1];
	for (j = Nint - 1; j > 1; j--)
	{
		hs += 1. / (double) j;
		/* hs_cs[i] / (i + 2), with i = N - 1 - j */
		ksum_add(&g, hs / (double) (Nint - 1 - j + 2));
	}
	h = hs + 1;
	{
		double gg = ksum_value(&g);
		double k = 2;

		a = (4 * gg - 6) * (k - 1) + (10 - 6 * gg) * H;
		b = (2 * gg - 4) * k * k + 8 * h * k + (2 * gg - 14 * h - 4) * H - 8 * h + 4 * gg - 6;
		cc = (6 * h + 2 * gg - 2) * k * k + (4 * h - 4 * gg + 6) * k + (2 * h - 6) * H + 4 * h;
		d = (2 * h + 6) * k * k - 4 * h * k;
	}
	sigmasq = (a * N * N * N + b * N * N + cc * N + d) / ((N - 1.) * (N - 2.) * (N - 3.));
	A2 = (A2akN - 1) / sqrt(sigmasq);
	if (A2 < ad_critical_min)
		*p = 0.25;
	else if (A2 > ad_critical_max)
		*p = 0.001;
	else
	{
		/* np.polyval: Horner from the highest power */
		double y = ad_polyfit[0];

		y = y * A2 + ad_polyfit[1];
		y = y * A2 + ad_polyfit[2];
		*p = exp(y);
	}
	if (isnan(A2))
		*p = NAN;
	return TDS_OK;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

tds_status tds_epps_singleton_pvalue(const tds_drift_column *c, double *p, tds_error *err);

tds_status
tds_rank_test_score(tds_stattest test, const tds_drift_column *c, double *score,
					tds_error *err)
{
	switch (test)
	{
		case TDS_STATTEST_T_TEST:
			*score = t_test_pvalue(c);
			return TDS_OK;
		case TDS_STATTEST_MANNW:
			return mannw_pvalue(c, score, err);
		case TDS_STATTEST_ED:
			*score = tds_energy_distance(c);
			return TDS_OK;
		case TDS_STATTEST_CRAMER_VON_MISES:
			return cvm_pvalue(c, score, err);
		case TDS_STATTEST_ANDERSON:
			return anderson_pvalue(c, score, err);
		case TDS_STATTEST_ES:
			return tds_epps_singleton_pvalue(c, score, err);
		default:
			break;
	}
	return tds_drift_input_error(err, "Test %d is not a rank test.", (int) test);
}
