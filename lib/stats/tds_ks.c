/*
 * tds_ks.c — the p-value of the two-sample Kolmogorov-Smirnov test, a port
 * of scipy 1.17's ks_2samp(alternative='two-sided', method='auto') after D
 * is known:
 *
 *   max(n1, n2) <= 10000: exact.  D is rounded to h / lcm(n1, n2); n1 = n2
 *     uses _compute_prob_outside_square (stats/_stats_py.py), otherwise
 *     _compute_outer_prob_inside_method (stats/_stats_pythran.py).  A result
 *     outside [0, 1] falls back to the asymptotic path, as scipy does.
 *   otherwise: kstwo.sf(D, round(n1 n2 / (n1 + n2))), i.e. _kolmogn of
 *     stats/_ksstats.py (Simard & L'Ecuyer 2011): Ruben-Gambino at the
 *     edges, 2 * smirnov for large x, the Durbin matrix (Marsaglia-Tsang-Wang)
 *     or Pomeranz recursion for small n, Pelz-Good otherwise.
 *
 * Every array is scratch from the common library's allocation hooks.  numpy evaluates
 * the Durbin matrix products with BLAS and switches to long double after
 * the first rescaling; this port stays in double (differences ~1e-16).
 */
#include <math.h>
#include <string.h>

#include "tds_stats.h"
#include "tds_internal.h"

#define KS_MAX_AUTO_N 10000
#define KS_E128 128

#define KS_PI 3.14159265358979323846
#define KS_MIN_LOG (-708)

/* np.clip(p, 0, 1); NaN passes through. */
static double
clip_prob(double p)
{
	if (p < 0.0)
		return 0.0;
	if (p > 1.0)
		return 1.0;
	return p;
}

static tds_status
ks_nomem(tds_error *err)
{
	tds_error_set(err, TDS_ERR_NOMEM,
				  "An allocation made while computing a Kolmogorov-Smirnov p-value failed.");
	return TDS_ERR_NOMEM;
}

/* ------------------------------------------------------------------ */
/* Durbin matrix, Marsaglia-Tsang-Wang (_kolmogn_DMTW)                 */
/* ------------------------------------------------------------------ */

/* out = a b, all m x m row-major; out must not alias a or b. */
static void
matmul(const double *a, const double *b, double *out, int64_t m)
{
	int64_t i;
	int64_t j;
	int64_t l;

	memset(out, 0, (size_t) (m * m) * sizeof(double));
	for (i = 0; i < m; i++)
		for (l = 0; l < m; l++)
		{
			double ail = a[i * m + l];

			if (ail == 0.0)
				continue;
			for (j = 0; j < m; j++)
				out[i * m + j] += ail * b[l * m + j];
		}
}

/* The initial matrix H of Durbin's algorithm for d = (k - h) / n. */
static void
dmtw_init(double *H, double *v, double *w, int64_t m, double h)
{
	int64_t i;
	int64_t j;
	double	fac = 1.0;
	double	tt;

	for (j = 1; j <= m; j++)
		v[j - 1] = 1.0 - pow(h, (double) j);
	for (j = 1; j <= m; j++)
	{
		w[j - 1] = fac;
		fac /= (double) j; /* may underflow, harmlessly */
		v[j - 1] *= fac;
	}
	tt = pow(fmax(2 * h - 1.0, 0), (double) m) - 2 * pow(h, (double) m);
	v[m - 1] = (1.0 + tt) * fac;

	memset(H, 0, (size_t) (m * m) * sizeof(double));
	for (i = 1; i < m; i++)
		for (j = i - 1; j < m; j++)
			H[j * m + i] = w[j - i + 1];
	for (j = 0; j < m; j++)
		H[j * m] = v[j];
	for (j = 0; j < m; j++)
		H[(m - 1) * m + j] = v[m - 1 - j];
}

/* Pr(D_n <= d) by H^n, rescaling by 2^128 as needed. */
static tds_status
kolmogn_dmtw_cdf(int64_t n, double d, double *cdf, tds_error *err)
{
	double	nd;
	double	h;
	double	p;
	int64_t k;
	int64_t m;
	int64_t nn;
	int64_t i;
	int64_t expnt = 0;
	int64_t Hexpnt = 0;
	double *buf;
	double *H;
	double *Hpwr;
	double *tmp;
	double *v;
	double *w;

	if (d >= 1.0)
	{
		*cdf = 1.0;
		return TDS_OK;
	}
	nd = (double) n * d;
	if (nd <= 0.5)
	{
		*cdf = 0.0;
		return TDS_OK;
	}
	k = (int64_t) ceil(nd);
	h = (double) k - nd;
	m = 2 * k - 1;

	buf = tdc_calloc_array((size_t) (3 * m * m + 2 * m), sizeof(double));
	if (buf == NULL)
		return ks_nomem(err);
	H = buf;
	Hpwr = H + m * m;
	tmp = Hpwr + m * m;
	v = tmp + m * m;
	w = v + m;

	dmtw_init(H, v, w, m, h);
	for (i = 0; i < m; i++)
		Hpwr[i * m + i] = 1.0;

	nn = n;
	while (nn > 0)
	{
		if (nn % 2)
		{
			matmul(Hpwr, H, tmp, m);
			memcpy(Hpwr, tmp, (size_t) (m * m) * sizeof(double));
			expnt += Hexpnt;
		}
		matmul(H, H, tmp, m);
		memcpy(H, tmp, (size_t) (m * m) * sizeof(double));
		Hexpnt *= 2;
		if (fabs(H[(k - 1) * m + (k - 1)]) > ldexp(1.0, KS_E128))
		{
			for (i = 0; i < m * m; i++)
				H[i] = ldexp(H[i], -KS_E128);
			Hexpnt += KS_E128;
		}
		nn = nn / 2;
	}

	p = Hpwr[(k - 1) * m + (k - 1)];
	tdc_free(buf);

	/* Multiply by n! / n^n */
	for (i = 1; i <= n; i++)
	{
		p = (double) i * p / (double) n;
		if (fabs(p) < ldexp(1.0, -KS_E128))
		{
			p = ldexp(p, KS_E128);
			expnt -= KS_E128;
		}
	}
	if (expnt != 0)
		p = ldexp(p, (int) expnt);
	*cdf = clip_prob(p);
	return TDS_OK;
}

/* ------------------------------------------------------------------ */
/* Pomeranz recursion (_kolmogn_Pomeranz)                              */
/* ------------------------------------------------------------------ */

typedef struct pomeranz_shape
{
	int64_t n;
	int64_t ll;
	int64_t ceilf;
	int64_t roundf;
} pomeranz_shape;

/* The interval [j1, j2] of possibly non-zero entries of row i. */
static void
pomeranz_j1j2(int64_t i, const pomeranz_shape *s, int64_t *j1_out,
			  int64_t *j2_out)
{
	int64_t j1;
	int64_t j2;
	int64_t n = s->n;
	int64_t ll = s->ll;

	if (i == 0)
	{
		j1 = -ll - s->ceilf - 1;
		j2 = ll + s->ceilf - 1;
	}
	else
	{
		int64_t ip1div2 = (i + 1) / 2;
		int64_t ip1mod2 = (i + 1) % 2;

		if (ip1mod2 == 0) /* i is odd */
		{
			if (ip1div2 == n + 1)
			{
				j1 = n - ll - s->ceilf - 1;
				j2 = n + ll + s->ceilf - 1;
			}
			else
			{
				j1 = ip1div2 - 1 - ll - s->roundf - 1;
				j2 = ip1div2 + ll - 1 + s->ceilf - 1;
			}
		}
		else
		{
			j1 = ip1div2 - 1 - ll - 1;
			j2 = ip1div2 + ll + s->roundf - 1;
		}
	}
	*j1_out = j1 + 2 > 0 ? j1 + 2 : 0;
	*j2_out = j2 < n ? j2 : n;
}

/* (full) convolution entry c of a (length la) and b (length lb) */
static double
convolve_at(const double *a, int64_t la, const double *b, int64_t lb, int64_t c)
{
	int64_t i;
	int64_t lo = c - (lb - 1) > 0 ? c - (lb - 1) : 0;
	int64_t hi = c < la - 1 ? c : la - 1;
	double	sum = 0.0;

	for (i = lo; i <= hi; i++)
		sum += a[i] * b[c - i];
	return sum;
}

/*
 * One Pomeranz row: V1[0 .. j2 - j1] from V0 and the Poisson-like powers.
 * Mirrors numpy's slicing, which truncates silently at the array's end.
 * Returns false if the indices leave the arrays (not expected to happen).
 */
static bool
pomeranz_row(const double *V0, int64_t V0s, double *V1, int64_t npwrs,
			 const double *pwrs, int64_t k1, int64_t j1, int64_t j2)
{
	int64_t ln2 = j2 - k1 + 1;
	int64_t start = k1 - V0s;
	int64_t la;
	int64_t lb;
	int64_t conv_start = j1 - k1;
	int64_t conv_len = j2 - j1 + 1;
	int64_t c;

	if (start < 0 || start > npwrs || conv_start < 0 || conv_len > npwrs)
		return false;
	la = ln2 < npwrs - start ? ln2 : npwrs - start;
	lb = ln2 < npwrs ? ln2 : npwrs;
	if (la <= 0 || conv_start + conv_len > la + lb - 1)
		return false;
	for (c = 0; c < conv_len; c++)
		V1[c] = convolve_at(V0 + start, la, pwrs, lb, conv_start + c);
	return true;
}

/* Pr(D_n <= x) by the Pomeranz recursion. */
static tds_status
kolmogn_pomeranz_cdf(int64_t n, double x, double *cdf, tds_error *err)
{
	double		   t = (double) n * x;
	double		   f;
	double		   g;
	double		   ans;
	double		   g_over_n;
	double		   two_g_over_n;
	double		   one_minus_two_g_over_n;
	int64_t		   npwrs;
	int64_t		   i;
	int64_t		   m;
	int64_t		   j1;
	int64_t		   j2;
	int64_t		   V0s = 0;
	int64_t		   V1s = 0;
	int64_t		   expnt = 0;
	pomeranz_shape s;
	double		  *buf;
	double		  *gpower;
	double		  *twogpower;
	double		  *onem2gpower;
	double		  *V0;
	double		  *V1;

	s.n = n;
	s.ll = (int64_t) floor(t);
	f = 1.0 * (t - (double) s.ll); /* fractional part of t */
	g = f < 1.0 - f ? f : 1.0 - f;
	s.ceilf = f > 0 ? 1 : 0;
	s.roundf = f > 0.5 ? 1 : 0;
	npwrs = 2 * (s.ll + 1);

	buf = tdc_calloc_array((size_t) (5 * npwrs), sizeof(double));
	if (buf == NULL)
		return ks_nomem(err);
	gpower = buf;
	twogpower = gpower + npwrs;
	onem2gpower = twogpower + npwrs;
	V0 = onem2gpower + npwrs;
	V1 = V0 + npwrs;

	gpower[0] = 1.0;
	twogpower[0] = 1.0;
	onem2gpower[0] = 1.0;
	g_over_n = g / (double) n;
	two_g_over_n = 2 * g / (double) n;
	one_minus_two_g_over_n = (1 - 2 * g) / (double) n;
	for (m = 1; m < npwrs; m++)
	{
		gpower[m] = gpower[m - 1] * g_over_n / (double) m;
		twogpower[m] = twogpower[m - 1] * two_g_over_n / (double) m;
		onem2gpower[m] = onem2gpower[m - 1] * one_minus_two_g_over_n / (double) m;
	}

	V1[0] = 1;
	pomeranz_j1j2(0, &s, &j1, &j2);
	for (i = 1; i < 2 * n + 2; i++)
	{
		int64_t		  k1 = j1;
		int64_t		  si;
		double		 *swap = V0;
		const double *pwrs;

		V0 = V1;
		V1 = swap;
		si = V0s;
		V0s = V1s;
		V1s = si;
		memset(V1, 0, (size_t) npwrs * sizeof(double));
		pomeranz_j1j2(i, &s, &j1, &j2);
		if (i == 1 || i == 2 * n + 1)
			pwrs = gpower;
		else
			pwrs = (i % 2) ? twogpower : onem2gpower;
		if (j2 - k1 + 1 > 0)
		{
			double vmax = 0.0;

			if (!pomeranz_row(V0, V0s, V1, npwrs, pwrs, k1, j1, j2))
			{
				tdc_free(buf);
				*cdf = NAN;
				return TDS_OK;
			}
			for (m = 0; m < npwrs; m++)
				vmax = V1[m] > vmax ? V1[m] : vmax;
			/* Scale to avoid underflow. */
			if (0 < vmax && vmax < ldexp(1.0, -KS_E128))
			{
				for (m = 0; m < npwrs; m++)
					V1[m] = ldexp(V1[m], KS_E128);
				expnt -= KS_E128;
			}
			V1s = V0s + j1 - k1;
		}
	}

	ans = (n - V1s >= 0 && n - V1s < npwrs) ? V1[n - V1s] : NAN;
	tdc_free(buf);
	/* multiply by n! */
	for (m = 1; m <= n; m++)
	{
		if (fabs(ans) > ldexp(1.0, KS_E128))
		{
			ans = ldexp(ans, -KS_E128);
			expnt += KS_E128;
		}
		ans *= (double) m;
	}
	if (expnt != 0)
		ans = ldexp(ans, (int) expnt);
	*cdf = clip_prob(ans);
	return TDS_OK;
}

/* ------------------------------------------------------------------ */
/* Pelz-Good approximation (_kolmogn_PelzGood)                         */
/* ------------------------------------------------------------------ */

/* The four Li-Chien/Korolyuk terms K0..K3 by Horner over odd integers. */
static void
pelzgood_horner(double z, double q, int64_t maxk, double K[4])
{
	double	zsquared = pow(z, 2);
	double	zfour = pow(z, 4);
	double	zsix = pow(z, 6);
	double	pi2 = pow(KS_PI, 2);
	double	pi4 = pow(KS_PI, 4);
	double	pi6 = pow(KS_PI, 6);
	double	k1a = -zsquared;
	double	k1b = pi2 / 4;
	double	k2a = 6 * zsix + 2 * zfour;
	double	k2b = (2 * zfour - 5 * zsquared) * pi2 / 4;
	double	k2c = pi4 * (1 - 2 * zsquared) / 16;
	double	k3d = pi6 * (5 - 30 * zsquared) / 64;
	double	k3c = pi4 * (-60 * zsquared + 212 * zfour) / 16;
	double	k3b = pi2 * (135 * zfour - 96 * zsix) / 4;
	double	k3a = -30 * zsix - 90 * pow(z, 8);
	int64_t k;
	int		i;

	for (i = 0; i < 4; i++)
		K[i] = 0.0;
	for (k = maxk; k > 0; k--)
	{
		double m = (double) (2 * k - 1);
		double msquared = m * m;
		double mfour = msquared * msquared;
		double msix = mfour * msquared;
		double qpower = pow(q, (double) (8 * k));
		double coeffs[4];

		coeffs[0] = 1.0;
		coeffs[1] = k1a + k1b * msquared;
		coeffs[2] = k2a + k2b * msquared + k2c * mfour;
		coeffs[3] = k3a + k3b * msquared + k3c * mfour + k3d * msix;
		for (i = 0; i < 4; i++)
		{
			K[i] *= qpower;
			K[i] += coeffs[i];
		}
	}
}

/* Pr(D_n <= x) ~ K0(z) + K1(z)/sqrt(n) + K2(z)/n + K3(z)/n^1.5 */
static double
kolmogn_pelzgood_cdf(int64_t n, double x)
{
	double	z;
	double	zsquared;
	double	zthree;
	double	zsix;
	double	qlog;
	double	q;
	double	pi2 = pow(KS_PI, 2);
	double	sqrt2pi = sqrt(2 * KS_PI);
	double	sqrt3z;
	double	k2extra = 0.0;
	double	k3extra = 0.0;
	double	K[4];
	double	div[4];
	int64_t maxk;
	int64_t k;
	int		i;

	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	z = sqrt((double) n) * x;
	zsquared = pow(z, 2);
	zthree = pow(z, 3);
	zsix = pow(z, 6);
	qlog = -pi2 / 8 / zsquared;
	if (qlog < KS_MIN_LOG) /* z ~ 0.041743441416853426 */
		return 0.0;
	q = exp(qlog);
	maxk = (int64_t) ceil(16 * z / KS_PI);

	pelzgood_horner(z, q, maxk, K);
	div[0] = z;
	div[1] = 6 * pow(z, 4);
	div[2] = 72 * pow(z, 7);
	div[3] = 6480 * pow(z, 10);
	for (i = 0; i < 4; i++)
	{
		K[i] *= q;
		K[i] *= sqrt2pi;
		K[i] /= div[i];
	}

	/* The other sum, over all integers k (terms of K2 and K3) */
	q = exp(-pi2 / 2 / zsquared);
	sqrt3z = sqrt(3.0) * z;
	for (k = maxk; k > 0; k--)
	{
		double kd = (double) k;
		double ksquared = kd * kd;
		double kspi = KS_PI * kd;
		double qpwer = pow(q, ksquared);

		k2extra += ksquared * qpwer;
		k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qpwer;
	}
	k2extra *= pi2 * sqrt2pi / (-36 * zthree);
	K[2] += k2extra;
	k3extra *= pi2 * sqrt2pi / (216 * zsix);
	K[3] += k3extra;
	for (i = 0; i < 4; i++)
		K[i] /= pow((double) n * 1.0, i / 2.0);
	return ((K[0] + K[1]) + K[2]) + K[3];
}

/* ------------------------------------------------------------------ */
/* kstwo.sf = _kolmogn(n, x, cdf=False)                                */
/* ------------------------------------------------------------------ */

/* log(n! / n^n) by Stirling, without the cancellation of n log n. */
static double
log_nfactorial_div_n_pow_n(double n)
{
	static const double stirling[8] = {
		-2.955065359477124183e-2, 6.4102564102564102564e-3,
		-1.9175269175269175269e-3, 8.4175084175084175084e-4,
		-5.952380952380952381e-4, 7.9365079365079365079e-4,
		-2.7777777777777777778e-3, 8.3333333333333333333e-2
	};
	double rn = 1.0 / n;
	double x = rn / n;
	double poly = 0.0;
	int	   i;

	for (i = 0; i < 8; i++)
		poly = poly * x + stirling[i];
	return log(n) / 2 - n + log(2 * KS_PI) / 2 + rn * poly;
}

/* Ruben-Gambino for 1/2n < x <= 1/n: the sf 1 - n!/n^n (2t - 1)^n */
static double
kolmogn_sf_small_t(int64_t n, double t)
{
	double prob;

	if (n <= 140)
	{
		int64_t i;
		double	rn = 1.0 / (double) n;

		prob = 1.0;
		for (i = 1; i <= n; i++)
			prob *= (double) i * rn * (2 * t - 1);
	}
	else
		prob = exp(log_nfactorial_div_n_pow_n((double) n) +
				   (double) n * log(2 * t - 1));
	return clip_prob(1.0 - prob);
}

/* The sf for n <= 140 and 1/n < x < min(0.5, 1 - 1/n). */
static tds_status
kolmogn_sf_small_n(int64_t n, double x, double nxsquared, double *sf,
				   tds_error *err)
{
	double	   cdf;
	tds_status st;

	if (nxsquared <= 0.754693)
		st = kolmogn_dmtw_cdf(n, x, &cdf, err);
	else if (nxsquared <= 4)
		st = kolmogn_pomeranz_cdf(n, x, &cdf, err);
	else
	{
		*sf = clip_prob(2 * tds_smirnov(n, x));
		return TDS_OK;
	}
	if (st == TDS_OK)
		*sf = clip_prob(1.0 - cdf);
	return st;
}

/* _kolmogn(n, x, cdf=False) of scipy/stats/_ksstats.py */
static tds_status
kolmogn_sf(int64_t n, double x, double *sf, tds_error *err)
{
	double	   t;
	double	   nxsquared;
	double	   cdf;
	tds_status st;

	if (x >= 1.0)
	{
		*sf = 0.0;
		return TDS_OK;
	}
	if (x <= 0.0)
	{
		*sf = 1.0;
		return TDS_OK;
	}
	t = (double) n * x;
	if (t <= 1.0)
	{
		*sf = t <= 0.5 ? 1.0 : kolmogn_sf_small_t(n, t);
		return TDS_OK;
	}
	if (t >= (double) (n - 1))
	{
		*sf = clip_prob(2 * pow(1.0 - x, (double) n));
		return TDS_OK;
	}
	if (x >= 0.5)
	{
		*sf = clip_prob(2 * tds_smirnov(n, x));
		return TDS_OK;
	}

	nxsquared = t * x;
	if (n <= 140)
		return kolmogn_sf_small_n(n, x, nxsquared, sf, err);

	if (nxsquared >= 370.0)
	{
		*sf = 0.0;
		return TDS_OK;
	}
	if (nxsquared >= 2.2)
	{
		*sf = clip_prob(2 * tds_smirnov(n, x));
		return TDS_OK;
	}
	if (n <= 100000 && (double) n * pow(x, 1.5) <= 1.4)
	{
		st = kolmogn_dmtw_cdf(n, x, &cdf, err);
		if (st != TDS_OK)
			return st;
	}
	else
		cdf = kolmogn_pelzgood_cdf(n, x);
	*sf = clip_prob(1.0 - cdf);
	return TDS_OK;
}

/* scipy.stats.kstwo.sf(d, n): rv_continuous.sf's support handling first. */
static tds_status
kstwo_sf(double d, double n, double *sf, tds_error *err)
{
	if (isnan(d) || isnan(n) || !(n >= 1) || n != round(n) || isinf(n))
	{
		*sf = NAN;
		return TDS_OK;
	}
	if (d <= 0.5 / n)
	{
		*sf = 1.0;
		return TDS_OK;
	}
	if (d >= 1.0)
	{
		*sf = 0.0;
		return TDS_OK;
	}
	if (n > 9.2e18)
	{
		*sf = NAN;
		return TDS_OK;
	}
	return kolmogn_sf((int64_t) n, d, sf, err);
}

double
tds_kstwo_sf(double d, double n)
{
	double sf;

	if (kstwo_sf(d, n, &sf, NULL) != TDS_OK)
		return NAN;
	return sf;
}

/* ------------------------------------------------------------------ */
/* Exact two-sample probabilities                                      */
/* ------------------------------------------------------------------ */

/*
 * Pr(D_{n,n} >= h/n) = 2 (A0 (1 - A1 (1 - A2 (...)))) with
 * Ak = binom(2n, n - kh) / binom(2n, n - (k-1)h) (_compute_prob_outside_square).
 */
static double
prob_outside_square(int64_t n, int64_t h)
{
	double	P = 0.0;
	int64_t k = (int64_t) floor((double) n / (double) h);
	int64_t j;

	while (k >= 0)
	{
		double p1 = 1.0;

		for (j = 0; j < h; j++)
			p1 = (double) (n - k * h - j) * p1 / (double) (n + k * h + j + 1);
		P = p1 * (1.0 - P);
		k -= 1;
	}
	return 2 * P;
}

/*
 * 1 - Pr(|x/m - y/n| < h/lcm) over lattice paths, computed directly as in
 * Viehmann's recursion (_compute_outer_prob_inside_method).  A window of
 * one column of the path-count matrix slides along; returns NaN if an
 * index would leave it (scipy's arrays would raise; never seen).
 */
static tds_status
outer_prob_inside(int64_t m, int64_t n, int64_t g, int64_t h, double *out,
				  tds_error *err)
{
	int64_t mg;
	int64_t ng;
	int64_t minj;
	int64_t maxj;
	int64_t curlen;
	int64_t lenA;
	int64_t i;
	int64_t jj;
	double *A;

	if (m < n)
	{
		int64_t t = m;

		m = n;
		n = t;
	}
	mg = m / g;
	ng = n / g;

	minj = 0;
	maxj = (int64_t) ceil((double) h / (double) mg);
	maxj = maxj < n + 1 ? maxj : n + 1;
	curlen = maxj - minj;
	lenA = 2 * maxj + 2 < n + 1 ? 2 * maxj + 2 : n + 1;
	A = tdc_malloc((size_t) lenA * sizeof(double));
	if (A == NULL)
		return ks_nomem(err);
	for (jj = 0; jj < lenA; jj++)
		A[jj] = jj >= minj && jj < maxj ? 0.0 : 1.0;

	for (i = 1; i <= m; i++)
	{
		int64_t lastminj = minj;
		int64_t lastlen = curlen;
		double	val;

		minj = (int64_t) floor((double) (ng * i - h) / (double) mg) + 1;
		minj = minj > 0 ? minj : 0;
		minj = minj < n ? minj : n;
		maxj = (int64_t) ceil((double) (ng * i + h) / (double) mg);
		maxj = maxj < n + 1 ? maxj : n + 1;
		if (maxj <= minj)
		{
			tdc_free(A);
			*out = 1.0;
			return TDS_OK;
		}
		if (maxj - minj > lenA || maxj - lastminj > lenA || minj < lastminj)
		{
			tdc_free(A);
			*out = NAN;
			return TDS_OK;
		}
		val = minj == 0 ? 0.0 : 1.0;
		for (jj = 0; jj < maxj - minj; jj++)
		{
			int64_t j = jj + minj;

			val = (A[jj + minj - lastminj] * (double) i + val * (double) j) /
				  (double) (i + j);
			A[jj] = val;
		}
		curlen = maxj - minj;
		/* Set some carried-over elements to 1 */
		for (jj = curlen; jj < curlen + (lastlen - curlen) && jj < lenA; jj++)
			A[jj] = 1;
	}
	*out = A[maxj - minj - 1];
	tdc_free(A);
	return TDS_OK;
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
 * _attempt_exact_2kssamp, two-sided: *d becomes h / lcm; false when the
 * probability is not in [0, 1] (the caller then goes asymptotic).
 */
static tds_status
attempt_exact(int64_t n1, int64_t n2, double *d, bool *success, double *prob,
			  tds_error *err)
{
	int64_t g = gcd64(n1, n2);
	int64_t lcm = (n1 / g) * n2;
	int64_t h = (int64_t) rint(*d * (double) lcm);
	double	p;

	*d = (double) h * 1.0 / (double) lcm;
	*success = true;
	if (h == 0)
	{
		*prob = 1.0;
		return TDS_OK;
	}
	if (n1 == n2)
		p = prob_outside_square(n1, h);
	else
	{
		tds_status st = outer_prob_inside(n1, n2, g, h, &p, err);

		if (st != TDS_OK)
			return st;
	}
	*success = (0 <= p && p <= 1);
	*prob = p;
	return TDS_OK;
}

tds_status
tds_ks_2samp_pvalue_checked(double d, int64_t n1, int64_t n2, double *pvalue,
							tds_error *err)
{
	double	   prob = NAN;
	bool	   exact = (n1 > n2 ? n1 : n2) <= KS_MAX_AUTO_N;
	tds_status st;

	*pvalue = NAN;
	if (n1 < 1 || n2 < 1 || isnan(d))
	{
		tds_error_set(err, TDS_ERR_INPUT,
					  "The Kolmogorov-Smirnov test needs two non-empty samples and a statistic, got n1 = %lld, n2 = %lld.",
					  (long long) n1, (long long) n2);
		tdc_error_set_message(err, "invalid input to a drift test");
		return TDS_ERR_INPUT;
	}
	if (exact)
	{
		bool success;

		st = attempt_exact(n1, n2, &d, &success, &prob, err);
		if (st != TDS_OK)
			return st;
		exact = success;
	}
	if (!exact)
	{
		double m = (double) (n1 > n2 ? n1 : n2);
		double n = (double) (n1 > n2 ? n2 : n1);
		double en = m * n / (m + n);

		st = kstwo_sf(d, rint(en), &prob, err);
		if (st != TDS_OK)
			return st;
	}
	*pvalue = clip_prob(prob);
	return TDS_OK;
}

double
tds_ks_2samp_pvalue(double d, int64_t n1, int64_t n2)
{
	double p;

	if (tds_ks_2samp_pvalue_checked(d, n1, n2, &p, NULL) != TDS_OK)
		return NAN;
	return p;
}
