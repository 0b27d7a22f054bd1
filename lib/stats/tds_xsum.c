/*
 * tds_xsum.c — exact, order-independent sums of doubles (a
 * superaccumulator), and the moments the regression metrics need computed
 * from them, so that any split of the rows between parallel workers and any
 * scan order give the same bits.
 *
 * A tds_xsum is a fixed-point number whose bit 0 is 2^-1074 (the smallest
 * subnormal) and whose 70 limbs of 32 bits cover every double with 64 bits
 * of headroom for carries: each double is added exactly (its 53-bit
 * significand lands in at most three limbs), so the sum is the exact sum of
 * the values, whatever their order.  Limbs are int64 (carry-save): an
 * addition changes a limb by less than 2^33, and carries are propagated
 * every 2^29 additions and before a merge, a conversion or a
 * serialisation.  After propagation every limb but the top one is in
 * [0, 2^32) and the top one is signed: one representation per value, which
 * tds_xsum_valid() checks of a state read from bytes.
 *
 * Squares are added exactly as two doubles (x^2 = hi + lo with lo =
 * fma(x, x, -hi)).  The moments are exact up to their final rounding: the
 * variance's numerator n * S2 - S1^2 is computed in integer arithmetic
 * (so a constant column has exactly 0), then converted to a double-double
 * with a binary exponent, and the divisions and the square root are done
 * in double-double.  Values that are not finite are counted aside (the
 * sum is then NaN or ±Infinity, as IEEE addition would give).
 */
#include <math.h>
#include <string.h>

#include "tds_stats.h"

#define XSUM_BIAS 1074 /* limb 0, bit 0 is 2^-1074 */
#define XSUM_MASK ((int64_t) 0xffffffff)
#define XSUM_PENDING_MAX (INT64_C(1) << 29)
/* the product of two sums: twice the limbs, plus the shift by XSUM_BIAS */
#define BIG_LIMBS (2 * TDS_XSUM_LIMBS + 4)

/* ------------------------------------------------------------------ */
/* Double-double arithmetic (Dekker, Knuth; fma for exact products)    */
/* ------------------------------------------------------------------ */

typedef struct dd
{
	double hi;
	double lo;
} dd;

static dd
two_sum(double a, double b)
{
	dd	   r;
	double bb;

	r.hi = a + b;
	bb = r.hi - a;
	r.lo = (a - (r.hi - bb)) + (b - bb);
	return r;
}

static dd
fast_two_sum(double a, double b)
{
	dd r;

	r.hi = a + b;
	r.lo = b - (r.hi - a);
	return r;
}

static dd
dd_add(dd a, dd b)
{
	dd s = two_sum(a.hi, b.hi);
	dd t = two_sum(a.lo, b.lo);

	s.lo += t.hi;
	s = fast_two_sum(s.hi, s.lo);
	s.lo += t.lo;
	return fast_two_sum(s.hi, s.lo);
}

static dd
dd_mul(dd a, dd b)
{
	dd p;

	p.hi = a.hi * b.hi;
	p.lo = fma(a.hi, b.hi, -p.hi);
	p.lo += a.hi * b.lo + a.lo * b.hi;
	return fast_two_sum(p.hi, p.lo);
}

static dd
dd_div(dd a, dd b)
{
	double q1 = a.hi / b.hi;
	dd	   r = dd_add(a, dd_mul((dd){ -q1, 0.0 }, b));
	double q2 = r.hi / b.hi;
	dd	   q;

	r = dd_add(r, dd_mul((dd){ -q2, 0.0 }, b));
	q = fast_two_sum(q1, q2);
	return dd_add(q, (dd){ r.hi / b.hi, 0.0 });
}

static dd
dd_sqrt(dd a)
{
	double s;
	double residual;

	if (a.hi <= 0.0)
		return (dd){ 0.0, 0.0 };
	s = sqrt(a.hi);
	residual = fma(-s, s, a.hi) + a.lo;
	return fast_two_sum(s, residual / (2.0 * s));
}

/* n as a double-double (exact for |n| < 2^106) */
static dd
dd_from_int64(int64_t n)
{
	double hi = (double) n;

	return (dd){ hi, (double) (n - (int64_t) hi) };
}

/* ------------------------------------------------------------------ */
/* The accumulator                                                     */
/* ------------------------------------------------------------------ */

void
tds_xsum_init(tds_xsum *x)
{
	memset(x, 0, sizeof(*x));
}

/* Propagate the carries: limbs 0 .. L-2 into [0, 2^32), the top one signed. */
static void
xsum_carry(tds_xsum *x)
{
	int i;

	for (i = 0; i < TDS_XSUM_LIMBS - 1; i++)
	{
		/* floor division by 2^32, without shifting a negative number */
		int64_t l = x->limb[i];
		int64_t c = l >= 0 ? l / (INT64_C(1) << 32) : -((-(l + 1)) / (INT64_C(1) << 32)) - 1;

		x->limb[i] = l - c * (INT64_C(1) << 32);
		x->limb[i + 1] += c;
	}
	x->pending = 0;
}

void
tds_xsum_add(tds_xsum *x, double v)
{
	int		 e;
	double	 f;
	uint64_t m;
	int		 pos;
	int		 i;
	int		 s;
	uint64_t t0;
	uint64_t t1;
	int64_t	 d0;
	int64_t	 d1;
	int64_t	 d2;

	if (isnan(v))
	{
		x->n_nan = tds_count_add(x->n_nan, 1);
		return;
	}
	if (isinf(v))
	{
		if (v > 0)
			x->n_pos_inf = tds_count_add(x->n_pos_inf, 1);
		else
			x->n_neg_inf = tds_count_add(x->n_neg_inf, 1);
		return;
	}
	if (v == 0.0)
		return;
	f = frexp(fabs(v), &e); /* |v| = f 2^e, f in [0.5, 1) */
	m = (uint64_t) ldexp(f, 53);
	/* |v| = m 2^(e - 53); below 2^-1074 the low bits of m are zeros */
	pos = e - 53 + XSUM_BIAS;
	if (pos < 0)
	{
		m >>= -pos;
		pos = 0;
	}
	i = pos / 32;
	s = pos % 32;
	t0 = (m & 0xffffffffu) << s; /* < 2^64 */
	t1 = (m >> 32) << s;		 /* < 2^53 */
	d0 = (int64_t) (t0 & 0xffffffffu);
	d1 = (int64_t) ((t0 >> 32) + (t1 & 0xffffffffu));
	d2 = (int64_t) (t1 >> 32);
	if (v < 0)
	{
		d0 = -d0;
		d1 = -d1;
		d2 = -d2;
	}
	x->limb[i] += d0;
	x->limb[i + 1] += d1;
	x->limb[i + 2] += d2;
	if (++x->pending >= XSUM_PENDING_MAX)
		xsum_carry(x);
}

void
tds_xsum_add_square(tds_xsum *x, double v)
{
	double hi = v * v;

	tds_xsum_add(x, hi);
	if (isfinite(hi))
		tds_xsum_add(x, fma(v, v, -hi));
}

int64_t
tds_count_add(int64_t a, int64_t b)
{
	/* counts are never negative; saturate rather than overflow */
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

void
tds_xsum_merge(tds_xsum *into, const tds_xsum *from)
{
	tds_xsum b = *from;
	int		 i;

	xsum_carry(into);
	xsum_carry(&b);
	for (i = 0; i < TDS_XSUM_LIMBS; i++)
		into->limb[i] += b.limb[i];
	into->n_nan = tds_count_add(into->n_nan, b.n_nan);
	into->n_pos_inf = tds_count_add(into->n_pos_inf, b.n_pos_inf);
	into->n_neg_inf = tds_count_add(into->n_neg_inf, b.n_neg_inf);
	xsum_carry(into);
}

void
tds_xsum_canonical(tds_xsum *x)
{
	xsum_carry(x);
}

bool
tds_xsum_valid(const tds_xsum *x)
{
	int i;

	if (x->pending != 0 || x->n_nan < 0 || x->n_pos_inf < 0 || x->n_neg_inf < 0)
		return false;
	for (i = 0; i < TDS_XSUM_LIMBS - 1; i++)
		if (x->limb[i] < 0 || x->limb[i] > XSUM_MASK)
			return false;
	return x->limb[TDS_XSUM_LIMBS - 1] >= -(INT64_C(1) << 31) &&
		   x->limb[TDS_XSUM_LIMBS - 1] <= (INT64_C(1) << 31);
}

/*
 * The sum as a sign and a magnitude (unsigned 32-bit limbs), true; or false
 * with *special = NaN or ±Infinity when a value added was not finite, or
 * the sum is beyond any double (only a state read from bytes can be).
 */
static bool
xsum_finite(const tds_xsum *in, double *special, uint32_t *mag, int *sign)
{
	tds_xsum x;
	int		 negative;
	int		 i;
	int64_t	 top;

	if (in->n_nan > 0 || (in->n_pos_inf > 0 && in->n_neg_inf > 0))
	{
		*special = NAN;
		return false;
	}
	if (in->n_pos_inf > 0 || in->n_neg_inf > 0)
	{
		*special = in->n_pos_inf > 0 ? INFINITY : -INFINITY;
		return false;
	}
	x = *in;
	xsum_carry(&x);
	top = x.limb[TDS_XSUM_LIMBS - 1];
	if (top > (INT64_C(1) << 31) || top < -(INT64_C(1) << 31))
	{
		*special = top > 0 ? INFINITY : -INFINITY;
		return false;
	}
	negative = top < 0;
	if (negative)
	{
		for (i = 0; i < TDS_XSUM_LIMBS; i++)
			x.limb[i] = -x.limb[i];
		xsum_carry(&x);
	}
	*sign = 0;
	for (i = 0; i < TDS_XSUM_LIMBS; i++)
	{
		mag[i] = (uint32_t) x.limb[i]; /* the top one is at most 2^31 + 1 */
		if (mag[i] != 0)
			*sign = negative ? -1 : 1;
	}
	return true;
}

/*
 * A big number (little-endian 32-bit limbs) as (hi + lo) 2^exp2 with
 * hi + lo in [1, 2^32): its leading limbs summed in double-double, from
 * the top (every term is exact; the result is the number rounded to about
 * 106 bits, the same bits for the same number).  Zero gives 0 and exp2 0.
 */
static dd
big_to_dd(const uint32_t *a, int n, int *exp2)
{
	int top = n - 1;
	dd	r = { 0.0, 0.0 };
	int i;

	while (top >= 0 && a[top] == 0)
		top--;
	*exp2 = 0;
	if (top < 0)
		return r;
	for (i = top; i >= 0 && i >= top - 5; i--)
		r = dd_add(r, (dd){ ldexp((double) a[i], 32 * (i - top)), 0.0 });
	*exp2 = 32 * top;
	return r;
}

/* ldexp of a double-double, rounded to a double */
static double
dd_ldexp(dd a, int exp2)
{
	return ldexp(a.hi + a.lo, exp2);
}

double
tds_xsum_value(const tds_xsum *x)
{
	uint32_t mag[TDS_XSUM_LIMBS];
	double	 special;
	int		 sign;
	int		 exp2;
	dd		 d;

	if (!xsum_finite(x, &special, mag, &sign))
		return special;
	d = big_to_dd(mag, TDS_XSUM_LIMBS, &exp2);
	return sign * dd_ldexp(d, exp2 - XSUM_BIAS);
}

double
tds_xsum_mean(const tds_xsum *x, int64_t n)
{
	uint32_t mag[TDS_XSUM_LIMBS];
	double	 special;
	int		 sign;
	int		 exp2;
	dd		 d;

	if (n <= 0)
		return NAN;
	if (!xsum_finite(x, &special, mag, &sign))
		return special;
	d = dd_div(big_to_dd(mag, TDS_XSUM_LIMBS, &exp2), dd_from_int64(n));
	return sign * dd_ldexp(d, exp2 - XSUM_BIAS);
}

/* r[0 .. BIG_LIMBS) = a * b, a and b TDS_XSUM_LIMBS limbs */
static void
big_mul(const uint32_t *a, const uint32_t *b, uint32_t *r)
{
	int i;
	int j;

	memset(r, 0, sizeof(uint32_t) * BIG_LIMBS);
	for (i = 0; i < TDS_XSUM_LIMBS; i++)
	{
		uint64_t carry = 0;

		if (a[i] == 0)
			continue;
		for (j = 0; j < TDS_XSUM_LIMBS; j++)
		{
			uint64_t t = (uint64_t) a[i] * b[j] + r[i + j] + carry;

			r[i + j] = (uint32_t) t;
			carry = t >> 32;
		}
		for (j = i + TDS_XSUM_LIMBS; carry != 0 && j < BIG_LIMBS; j++)
		{
			uint64_t t = (uint64_t) r[j] + carry;

			r[j] = (uint32_t) t;
			carry = t >> 32;
		}
	}
}

/*
 * r = a * n * 2^XSUM_BIAS (a of TDS_XSUM_LIMBS limbs, 0 <= n < 2^63):
 * in the units of a product of two sums.
 */
static void
big_scale(const uint32_t *a, uint64_t n, uint32_t *r)
{
	uint32_t tmp[BIG_LIMBS];
	uint32_t nn[TDS_XSUM_LIMBS];
	int		 limbs = XSUM_BIAS / 32;
	int		 bits = XSUM_BIAS % 32;
	int		 i;

	memset(nn, 0, sizeof(nn));
	nn[0] = (uint32_t) n;
	nn[1] = (uint32_t) (n >> 32);
	big_mul(a, nn, tmp);
	memset(r, 0, sizeof(uint32_t) * BIG_LIMBS);
	for (i = BIG_LIMBS - 1; i >= 0; i--)
	{
		uint64_t v = (uint64_t) tmp[i] << bits;

		if (i + limbs < BIG_LIMBS)
			r[i + limbs] |= (uint32_t) v;
		if (i + limbs + 1 < BIG_LIMBS)
			r[i + limbs + 1] |= (uint32_t) (v >> 32);
	}
}

/* r = a - b when a >= b (true), else r = 0 (false); BIG_LIMBS limbs */
static bool
big_sub(const uint32_t *a, const uint32_t *b, uint32_t *r)
{
	int64_t borrow = 0;
	int		i;

	for (i = 0; i < BIG_LIMBS; i++)
	{
		int64_t t = (int64_t) a[i] - b[i] - borrow;

		borrow = t < 0;
		r[i] = (uint32_t) (t + (borrow ? (INT64_C(1) << 32) : 0));
	}
	if (borrow)
	{
		memset(r, 0, sizeof(uint32_t) * BIG_LIMBS);
		return false;
	}
	return true;
}

/*
 * n * S2 - S1^2 as a big number in units of 2^-2148 (clamped at 0: it is
 * n^2 times a variance), true; false with *special when a sum is not
 * finite.
 */
static bool
xsum_spread(const tds_xsum *s1, const tds_xsum *s2, int64_t n, uint32_t *r, double *special)
{
	uint32_t a[TDS_XSUM_LIMBS];
	uint32_t b[TDS_XSUM_LIMBS];
	uint32_t sq[BIG_LIMBS];
	uint32_t q[BIG_LIMBS];
	int		 sign;

	if (!xsum_finite(s1, special, a, &sign))
	{
		*special = NAN; /* inf - inf, or nan */
		return false;
	}
	if (!xsum_finite(s2, special, b, &sign))
	{
		*special = isnan(*special) ? NAN : INFINITY;
		return false;
	}
	big_mul(a, a, sq);
	big_scale(b, (uint64_t) n, q);
	(void) big_sub(q, sq, r);
	return true;
}

double
tds_xsum_std(const tds_xsum *s1, const tds_xsum *s2, int64_t n)
{
	uint32_t r[BIG_LIMBS];
	double	 special;
	int		 exp2;
	dd		 v;
	dd		 nn1;

	if (n < 2)
		return NAN;
	if (!xsum_spread(s1, s2, n, r, &special))
		return special;
	/* var = (n S2 - S1^2) / (n (n - 1)) */
	v = big_to_dd(r, BIG_LIMBS, &exp2);
	nn1 = dd_mul(dd_from_int64(n), dd_from_int64(n - 1));
	v = dd_div(v, nn1);
	exp2 -= 2 * XSUM_BIAS;
	if (exp2 % 2 != 0)
	{
		v = dd_add(v, v);
		exp2--;
	}
	return dd_ldexp(dd_sqrt(v), exp2 / 2);
}

double
tds_xsum_r2(const tds_xsum *sq_res, const tds_xsum *s1, const tds_xsum *s2, int64_t n)
{
	uint32_t tot[BIG_LIMBS];
	uint32_t res_mag[TDS_XSUM_LIMBS];
	uint32_t res[BIG_LIMBS];
	double	 special;
	int		 sign;
	int		 exp_tot;
	int		 exp_res;
	dd		 t;
	dd		 q;

	if (n < 2)
		return NAN;
	if (!xsum_spread(s1, s2, n, tot, &special))
		return NAN;
	if (!xsum_finite(sq_res, &special, res_mag, &sign))
		return isnan(special) ? NAN : -INFINITY;
	t = big_to_dd(tot, BIG_LIMBS, &exp_tot);
	/* sklearn's force_finite: a constant target gives 1 or 0 */
	if (t.hi == 0.0)
		return sign == 0 ? 1.0 : 0.0;
	/* R2 = 1 - SS_res / SS_tot = 1 - n SS_res / (n S2 - S1^2) */
	big_scale(res_mag, (uint64_t) n, res);
	q = dd_div(big_to_dd(res, BIG_LIMBS, &exp_res), t);
	q.hi = ldexp(q.hi, exp_res - exp_tot);
	q.lo = ldexp(q.lo, exp_res - exp_tot);
	q = dd_add((dd){ 1.0, 0.0 }, (dd){ -q.hi, -q.lo });
	return q.hi + q.lo;
}

double
tds_xsum_root_mean(const tds_xsum *s2, int64_t n)
{
	uint32_t mag[TDS_XSUM_LIMBS];
	double	 special;
	int		 sign;
	int		 exp2;
	dd		 v;

	if (n <= 0)
		return NAN;
	if (!xsum_finite(s2, &special, mag, &sign))
		return isnan(special) ? NAN : INFINITY;
	v = dd_div(big_to_dd(mag, TDS_XSUM_LIMBS, &exp2), dd_from_int64(n));
	exp2 -= XSUM_BIAS;
	if (exp2 % 2 != 0)
	{
		v = dd_add(v, v);
		exp2--;
	}
	return dd_ldexp(dd_sqrt(v), exp2 / 2);
}
