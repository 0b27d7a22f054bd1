/*
 * tds_special_more.c — the special functions behind the rest of
 * Evidently's catalogue: Student's t survival function (t_test, through
 * the regularized incomplete beta function, a port of cephes incbet as
 * scipy ships it) and the modified Bessel function K_nu for |nu| <= 1/2
 * (cramer_von_mises' limiting distribution needs kv(0.25, q); Temme's
 * series below x = 2, Steed's continued fraction above).
 */
#include <float.h>
#include <math.h>

#include "tds_stats.h"
#include "tds_internal.h"

#define MACHEP 1.11022302462515654042e-16
#define MAXLOG 7.09782712893383996843e2
#define MINLOG (-7.08396418532264106224e2)
#define MAXGAM 171.624376956302725
#define INCBET_BIG 4.503599627370496e15
#define INCBET_BIGINV 2.22044604925031308085e-16

/*
 * log B(a, b); when one argument is large (t_test's df / 2) the difference
 * lgamma(a) - lgamma(a + b) loses digits, so cephes' lbeta_asymp series
 * is used there instead.
 */
static double
lbeta(double a, double b)
{
	if (a < b)
	{
		double t = a;

		a = b;
		b = t;
	}
	if (a > 1e4 && a > 1e4 * b)
	{
		double r = lgamma(b);

		r -= b * log(a);
		r += b * (1 - b) / (2 * a);
		r += b * (1 - b) * (1 - 2 * b) / (12 * a * a);
		r += -b * b * (1 - b) * (1 - b) / (12 * a * a * a);
		return r;
	}
	return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/* Continued fraction expansion #1 for the incomplete beta integral. */
static double
incbcf(double a, double b, double x)
{
	double k1 = a, k2 = a + b, k3 = a, k4 = a + 1.0, k5 = 1.0, k6 = b - 1.0;
	double k7 = a + 1.0, k8 = a + 2.0;
	double pkm2 = 0.0, qkm2 = 1.0, pkm1 = 1.0, qkm1 = 1.0;
	double ans = 1.0, r = 1.0, thresh = 3.0 * MACHEP;
	int	   n = 0;

	do
	{
		double xk = -(x * k1 * k2) / (k3 * k4);
		double pk = pkm1 + pkm2 * xk;
		double qk = qkm1 + qkm2 * xk;
		double t;

		pkm2 = pkm1;
		pkm1 = pk;
		qkm2 = qkm1;
		qkm1 = qk;
		xk = (x * k5 * k6) / (k7 * k8);
		pk = pkm1 + pkm2 * xk;
		qk = qkm1 + qkm2 * xk;
		pkm2 = pkm1;
		pkm1 = pk;
		qkm2 = qkm1;
		qkm1 = qk;
		if (qk != 0)
			r = pk / qk;
		if (r != 0)
		{
			t = fabs((ans - r) / r);
			ans = r;
		}
		else
			t = 1.0;
		if (t < thresh)
			break;
		k1 += 1.0;
		k2 += 1.0;
		k3 += 2.0;
		k4 += 2.0;
		k5 += 1.0;
		k6 -= 1.0;
		k7 += 2.0;
		k8 += 2.0;
		if ((fabs(qk) + fabs(pk)) > INCBET_BIG)
		{
			pkm2 *= INCBET_BIGINV;
			pkm1 *= INCBET_BIGINV;
			qkm2 *= INCBET_BIGINV;
			qkm1 *= INCBET_BIGINV;
		}
		if ((fabs(qk) < INCBET_BIGINV) || (fabs(pk) < INCBET_BIGINV))
		{
			pkm2 *= INCBET_BIG;
			pkm1 *= INCBET_BIG;
			qkm2 *= INCBET_BIG;
			qkm1 *= INCBET_BIG;
		}
	} while (++n < 300);
	return ans;
}

/* Continued fraction expansion #2 for the incomplete beta integral. */
static double
incbd(double a, double b, double x)
{
	double k1 = a, k2 = b - 1.0, k3 = a, k4 = a + 1.0, k5 = 1.0, k6 = a + b;
	double k7 = a + 1.0, k8 = a + 2.0;
	double pkm2 = 0.0, qkm2 = 1.0, pkm1 = 1.0, qkm1 = 1.0;
	double z = x / (1.0 - x);
	double ans = 1.0, r = 1.0, thresh = 3.0 * MACHEP;
	int	   n = 0;

	do
	{
		double xk = -(z * k1 * k2) / (k3 * k4);
		double pk = pkm1 + pkm2 * xk;
		double qk = qkm1 + qkm2 * xk;
		double t;

		pkm2 = pkm1;
		pkm1 = pk;
		qkm2 = qkm1;
		qkm1 = qk;
		xk = (z * k5 * k6) / (k7 * k8);
		pk = pkm1 + pkm2 * xk;
		qk = qkm1 + qkm2 * xk;
		pkm2 = pkm1;
		pkm1 = pk;
		qkm2 = qkm1;
		qkm1 = qk;
		if (qk != 0)
			r = pk / qk;
		if (r != 0)
		{
			t = fabs((ans - r) / r);
			ans = r;
		}
		else
			t = 1.0;
		if (t < thresh)
			break;
		k1 += 1.0;
		k2 -= 1.0;
		k3 += 2.0;
		k4 += 2.0;
		k5 += 1.0;
		k6 += 1.0;
		k7 += 2.0;
		k8 += 2.0;
		if ((fabs(qk) + fabs(pk)) > INCBET_BIG)
		{
			pkm2 *= INCBET_BIGINV;
			pkm1 *= INCBET_BIGINV;
			qkm2 *= INCBET_BIGINV;
			qkm1 *= INCBET_BIGINV;
		}
		if ((fabs(qk) < INCBET_BIGINV) || (fabs(pk) < INCBET_BIGINV))
		{
			pkm2 *= INCBET_BIG;
			pkm1 *= INCBET_BIG;
			qkm2 *= INCBET_BIG;
			qkm1 *= INCBET_BIG;
		}
	} while (++n < 300);
	return ans;
}

/* Power series for the incomplete beta integral (b x small, x <= 0.95). */
static double
pseries(double a, double b, double x)
{
	double ai = 1.0 / a;
	double u = (1.0 - b) * x;
	double v = u / (a + 1.0);
	double t1 = v;
	double t = u;
	double n = 2.0;
	double s = 0.0;
	double z = MACHEP * ai;

	while (fabs(v) > z)
	{
		u = (n - b) * x / n;
		t *= u;
		v = t / (a + n);
		s += v;
		n += 1.0;
	}
	s += t1;
	s += ai;
	u = a * log(x);
	if ((a + b) < MAXGAM && fabs(u) < MAXLOG)
	{
		t = tgamma(a + b) / (tgamma(a) * tgamma(b));
		s = s * t * pow(x, a);
	}
	else
	{
		t = -lbeta(a, b) + u + log(s);
		s = t < MINLOG ? 0.0 : exp(t);
	}
	return s;
}

/* The regularized incomplete beta function I_x(a, b) (cephes incbet). */
static double
incbet(double aa, double bb, double xx)
{
	double a, b, t, x, xc, w, y;
	bool   flag = false;

	if (aa <= 0.0 || bb <= 0.0 || isnan(xx))
		return NAN;
	if (xx <= 0.0 || xx >= 1.0)
	{
		if (xx == 0.0)
			return 0.0;
		if (xx == 1.0)
			return 1.0;
		return NAN;
	}
	if ((bb * xx) <= 1.0 && xx <= 0.95)
		return pseries(aa, bb, xx);
	w = 1.0 - xx;
	if (xx > (aa / (aa + bb)))
	{
		flag = true;
		a = bb;
		b = aa;
		xc = xx;
		x = w;
	}
	else
	{
		a = aa;
		b = bb;
		xc = w;
		x = xx;
	}
	if (flag && (b * x) <= 1.0 && x <= 0.95)
		t = pseries(a, b, x);
	else
	{
		y = x * (a + b - 2.0) - (a - 1.0);
		if (y < 0.0)
			w = incbcf(a, b, x);
		else
			w = incbd(a, b, x) / xc;
		y = a * log(x);
		t = b * log(xc);
		if ((a + b) < MAXGAM && fabs(y) < MAXLOG && fabs(t) < MAXLOG)
		{
			t = pow(xc, b);
			t *= pow(x, a);
			t /= a;
			t *= w;
			t *= tgamma(a + b) / (tgamma(a) * tgamma(b));
		}
		else
		{
			y += t - lbeta(a, b);
			y += log(w / a);
			t = y < MINLOG ? 0.0 : exp(y);
		}
	}
	if (flag)
		t = t <= MACHEP ? 1.0 - MACHEP : 1.0 - t;
	return t;
}

/*
 * P(T > t) for Student's t with df degrees of freedom (scipy's
 * stdtr(df, -t)): 0.5 I_{df / (df + t^2)}(df / 2, 1 / 2) for t > 0, or
 * 0.5 (1 - I_{t^2 / (df + t^2)}(1 / 2, df / 2)) when that argument is small.
 */
double
tds_student_t_sf(double t, double df)
{
	double p;

	if (isnan(t) || !(df > 0))
		return NAN;
	if (isinf(t))
		return t > 0 ? 0.0 : 1.0;
	if (t == 0)
		return 0.5;
	{
		/* the complement argument t^2 / (df + t^2) directly: 1 - df / (df + t^2) cancels */
		double t2 = t * t;
		double z = t2 / (df + t2);

		if (z < 0.5)
			p = 0.5 * (1.0 - incbet(0.5, 0.5 * df, z));
		else
			p = 0.5 * incbet(0.5 * df, 0.5, df / (df + t2));
	}
	return t > 0 ? p : 1.0 - p;
}

/*
 * K_nu(x) for |nu| <= 1/2 and x > 0 (Temme 1975 for x < 2, Steed's CF2
 * above, as in Numerical Recipes' bessik), to a relative 1e-16.
 */
double
tds_bessel_k(double nu, double x)
{
	const double eps = 1e-16;
	int			 i;

	if (!(x > 0) || !(fabs(nu) <= 0.5))
		return x == 0 ? INFINITY : NAN;
	if (isinf(x))
		return 0.0;
	if (x < 2.0)
	{
		double x2 = 0.5 * x;
		double pimu = M_PI * nu;
		double fact = fabs(pimu) < eps ? 1.0 : pimu / sin(pimu);
		double d = -log(x2);
		double e = nu * d;
		double fact2 = fabs(e) < eps ? 1.0 : sinh(e) / e;
		double gampl = 1.0 / tgamma(1.0 + nu);
		double gammi = 1.0 / tgamma(1.0 - nu);
		double gam1 = fabs(nu) < eps ? 0.5772156649015329 : (gammi - gampl) / (2.0 * nu);
		double gam2 = (gammi + gampl) / 2.0;
		double ff = fact * (gam1 * cosh(e) + gam2 * fact2 * d);
		double sum = ff;
		double p;
		double q;
		double c = 1.0;

		e = exp(e);
		p = 0.5 * e / gampl;
		q = 0.5 / (e * gammi);
		d = x2 * x2;
		for (i = 1; i <= 10000; i++)
		{
			double del;

			ff = (i * ff + p + q) / ((double) i * i - nu * nu);
			c *= d / i;
			p /= i - nu;
			q /= i + nu;
			del = c * ff;
			sum += del;
			if (fabs(del) < fabs(sum) * eps)
				break;
		}
		return sum;
	}
	else
	{
		double b = 2.0 * (1.0 + x);
		double d = 1.0 / b;
		double delh = d;
		double q1 = 0.0;
		double q2 = 1.0;
		double a1 = 0.25 - nu * nu;
		double q = a1;
		double c = a1;
		double a = -a1;
		double s = 1.0 + q * delh;

		for (i = 2; i <= 10000; i++)
		{
			double qnew;
			double dels;

			a -= 2 * (i - 1);
			c = -a * c / i;
			qnew = (q1 - b * q2) / a;
			q1 = q2;
			q2 = qnew;
			q += c * qnew;
			b += 2.0;
			d = 1.0 / (b + a * d);
			delh = (b * d - 1.0) * delh;
			dels = q * delh;
			s += dels;
			if (fabs(dels / s) < eps)
				break;
		}
		return sqrt(M_PI / (2.0 * x)) * exp(-x) / s;
	}
}
