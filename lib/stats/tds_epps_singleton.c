/*
 * tds_epps_singleton.c — Evidently's "es" test: scipy
 * epps_singleton_2samp(ref, cur) with t = (0.4, 0.8), after Evidently's own
 * refusal of a zero interquartile range.  Everything is a weighted sum over
 * the distinct values: sigma = iqr(ref + cur) / 2 (numpy's linear
 * percentile, read from the cumulative counts), g(v) = (cos(t1 v / sigma),
 * cos(t2 v / sigma), sin(t1 v / sigma), sin(t2 v / sigma)), each window's
 * mean and biased covariance of g weighted by the counts; then
 * W = n g_diff' pinv(est_cov) g_diff (numpy pinv, rcond 1e-15, here by a
 * Jacobi eigendecomposition of the symmetric 4 x 4 matrix), the small-sample
 * correction when max(n) < 25, and p = chi2.sf(W, rank).
 */
#include <float.h>
#include <math.h>

#include "tds_stats.h"
#include "tds_internal.h"

#define ES_J 4 /* 2 t values x (cos, sin) */

/* The k-th (0-based) value of both windows sorted. */
static double
order_statistic(const tds_drift_column *c, int64_t k)
{
	int64_t seen = 0;
	size_t	i;
	double	last = NAN;

	for (i = 0; i < c->m; i++)
	{
		int64_t t = c->ref[i] + c->cur[i];

		if (t == 0)
			continue;
		last = c->values[i];
		if (k < seen + t)
			return last;
		seen += t;
	}
	return last;
}

/* np.percentile(combined, q, method = "linear") with numpy's _lerp. */
static double
percentile_linear(const tds_drift_column *c, double q)
{
	int64_t n = c->n_ref + c->n_cur;
	double	virt = (double) (n - 1) * q;
	double	prev = floor(virt);
	double	gamma = virt - prev;
	int64_t lo = (int64_t) prev;
	int64_t hi = lo + 1 < n ? lo + 1 : n - 1;
	double	a = order_statistic(c, lo);
	double	b = order_statistic(c, hi);
	double	diff = b - a;

	if (gamma >= 0.5)
		return b - diff * (1 - gamma);
	return a + diff * gamma;
}

static void
g_of(double v, const double ts[2], double g[ES_J])
{
	g[0] = cos(ts[0] * v);
	g[1] = cos(ts[1] * v);
	g[2] = sin(ts[0] * v);
	g[3] = sin(ts[1] * v);
}

/* Count-weighted mean and biased covariance of g over one window. */
static void
window_moments(const tds_drift_column *c, const int64_t *counts, int64_t n,
			   const double ts[2], double mean[ES_J], double cov[ES_J][ES_J])
{
	ksum   s[ES_J] = { { 0, 0 } };
	ksum   ss[ES_J][ES_J] = { { { 0, 0 } } };
	double g[ES_J];
	size_t i;
	int	   a;
	int	   b;

	for (i = 0; i < c->m; i++)
	{
		if (counts[i] == 0)
			continue;
		g_of(c->values[i], ts, g);
		for (a = 0; a < ES_J; a++)
			ksum_add(&s[a], g[a] * (double) counts[i]);
	}
	for (a = 0; a < ES_J; a++)
		mean[a] = ksum_value(&s[a]) / (double) n;
	for (i = 0; i < c->m; i++)
	{
		if (counts[i] == 0)
			continue;
		g_of(c->values[i], ts, g);
		for (a = 0; a < ES_J; a++)
			for (b = a; b < ES_J; b++)
				ksum_add(&ss[a][b], (g[a] - mean[a]) * (g[b] - mean[b]) * (double) counts[i]);
	}
	for (a = 0; a < ES_J; a++)
		for (b = a; b < ES_J; b++)
		{
			/* xpx.cov (ddof 1) * (n - 1) / n */
			double v = ksum_value(&ss[a][b]) / (double) (n - 1) * (double) (n - 1) / (double) n;

			cov[a][b] = v;
			cov[b][a] = v;
		}
}

/* Cyclic Jacobi eigendecomposition of a symmetric matrix: A = V diag(d) V'. */
static void
jacobi_eigen(double A[ES_J][ES_J], double d[ES_J], double V[ES_J][ES_J])
{
	int sweep;
	int p;
	int q;
	int k;

	for (p = 0; p < ES_J; p++)
		for (q = 0; q < ES_J; q++)
			V[p][q] = p == q;
	for (sweep = 0; sweep < 100; sweep++)
	{
		double off = 0;

		for (p = 0; p < ES_J; p++)
			for (q = p + 1; q < ES_J; q++)
				off += A[p][q] * A[p][q];
		if (off == 0)
			break;
		for (p = 0; p < ES_J; p++)
			for (q = p + 1; q < ES_J; q++)
			{
				double theta;
				double t;
				double cs;
				double sn;

				if (A[p][q] == 0)
					continue;
				theta = (A[q][q] - A[p][p]) / (2 * A[p][q]);
				t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
				cs = 1 / sqrt(t * t + 1);
				sn = t * cs;
				for (k = 0; k < ES_J; k++)
				{
					double akp = A[k][p];
					double akq = A[k][q];

					A[k][p] = cs * akp - sn * akq;
					A[k][q] = sn * akp + cs * akq;
				}
				for (k = 0; k < ES_J; k++)
				{
					double apk = A[p][k];
					double aqk = A[q][k];

					A[p][k] = cs * apk - sn * aqk;
					A[q][k] = sn * apk + cs * aqk;
				}
				for (k = 0; k < ES_J; k++)
				{
					double vkp = V[k][p];
					double vkq = V[k][q];

					V[k][p] = cs * vkp - sn * vkq;
					V[k][q] = sn * vkp + cs * vkq;
				}
			}
	}
	for (p = 0; p < ES_J; p++)
		d[p] = A[p][p];
}

tds_status tds_epps_singleton_pvalue(const tds_drift_column *c, double *p, tds_error *err);

tds_status
tds_epps_singleton_pvalue(const tds_drift_column *c, double *p, tds_error *err)
{
	const double t[2] = { 0.4, 0.8 };
	double		 nx = (double) c->n_ref;
	double		 ny = (double) c->n_cur;
	double		 n = nx + ny;
	double		 iqr;
	double		 sigma;
	double		 ts[2];
	double		 mx[ES_J];
	double		 my[ES_J];
	double		 cx[ES_J][ES_J];
	double		 cy[ES_J][ES_J];
	double		 est[ES_J][ES_J];
	double		 V[ES_J][ES_J];
	double		 d[ES_J];
	double		 s[ES_J];
	double		 inv_s[ES_J];
	double		 gd[ES_J];
	double		 smax = 0;
	double		 inv_max = 0;
	double		 w = 0;
	int			 rank = 0;
	int			 a;
	int			 b;
	int			 k;

	iqr = percentile_linear(c, 0.75) - percentile_linear(c, 0.25);
	if (iqr == 0)
		return tds_drift_input_error(err, "The interquartile range of both windows together is zero; Evidently's Epps-Singleton test refuses such data.");
	if (c->n_ref < 5 || c->n_cur < 5)
		return tds_drift_input_error(err, "The Epps-Singleton test needs at least 5 values in each window, got %lld and %lld.",
									 (long long) c->n_ref, (long long) c->n_cur);
	sigma = iqr / 2;
	ts[0] = t[0] / sigma;
	ts[1] = t[1] / sigma;
	window_moments(c, c->ref, c->n_ref, ts, mx, cx);
	window_moments(c, c->cur, c->n_cur, ts, my, cy);
	for (a = 0; a < ES_J; a++)
		for (b = 0; b < ES_J; b++)
			est[a][b] = (n / nx) * cx[a][b] + (n / ny) * cy[a][b];
	jacobi_eigen(est, d, V);
	for (k = 0; k < ES_J; k++)
	{
		s[k] = fabs(d[k]);
		if (s[k] > smax)
			smax = s[k];
	}
	/* pinv: singular values above 1e-15 max(s) are inverted, the rest dropped */
	for (k = 0; k < ES_J; k++)
	{
		inv_s[k] = s[k] > 1e-15 * smax ? 1.0 / d[k] : 0.0;
		if (fabs(inv_s[k]) > inv_max)
			inv_max = fabs(inv_s[k]);
	}
	/* matrix_rank(pinv): singular values above max * 4 * eps */
	for (k = 0; k < ES_J; k++)
		rank += fabs(inv_s[k]) > inv_max * ES_J * DBL_EPSILON;
	for (a = 0; a < ES_J; a++)
		gd[a] = mx[a] - my[a];
	for (k = 0; k < ES_J; k++)
	{
		double proj = 0;

		for (a = 0; a < ES_J; a++)
			proj += V[a][k] * gd[a];
		w += inv_s[k] * proj * proj;
	}
	w = n * w;
	if ((nx > ny ? nx : ny) < 25)
	{
		double corr = 1.0 / (1.0 + pow(n, -0.45) + 10.1 * (pow(nx, -1.7) + pow(ny, -1.7)));

		w *= corr;
	}
	*p = tds_chi2_sf(w, (double) rank);
	return TDS_OK;
}
