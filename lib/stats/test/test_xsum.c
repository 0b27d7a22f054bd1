/*
 * test_xsum.c — unit tests of the exact sums (tds_xsum.c) and of the
 * regression accumulator built on them: any order and any split of the
 * rows gives the same bits; sums and moments are exact up to their last
 * rounding at huge and tiny magnitudes, under cancellation, with one row,
 * and with NaN and ±Infinity; the serialised state is canonical and
 * anything else is refused when read back.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tds_stats.h"
#include "tdc_test.h"

int td_tests_passed = 0;
int td_tests_failed = 0;

static uint64_t
splitmix64(uint64_t *state)
{
	uint64_t z;

	*state += UINT64_C(0x9E3779B97F4A7C15);
	z = *state;
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static double
uniform01(uint64_t *state)
{
	return (double) (splitmix64(state) >> 11) * 0x1p-53;
}

/* Rows with wildly different magnitudes: trip-like, huge, tiny, cancelling. */
#define N_ROWS 3000

static void
make_rows(uint64_t seed, double *pred, double *target, int n)
{
	uint64_t s = seed;
	int		 i;

	for (i = 0; i < n; i++)
	{
		double u = uniform01(&s);
		double y = 1.0 + 60.0 * uniform01(&s);
		double p = y + 10.0 * (uniform01(&s) - 0.5);

		if (u < 0.02)
		{
			y = ldexp(1.0 + uniform01(&s), 300 + (int) (200 * uniform01(&s)));
			p = -y * uniform01(&s);
		}
		else if (u < 0.04)
		{
			y = ldexp(uniform01(&s), -1000 - (int) (70 * uniform01(&s)));
			p = 0.0;
		}
		else if (u < 0.06)
		{
			y = 1e16;
			p = 1e16 + 2.0 * (double) (i % 7);
		}
		else if (u < 0.07)
			p = NAN;
		else if (u < 0.08)
			y = (i % 2) ? INFINITY : -INFINITY;
		else if (u < 0.10)
			y = 0.0;
		pred[i] = p;
		target[i] = y;
	}
}

static void
shuffle(uint64_t *s, int *order, int n)
{
	int i;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--)
	{
		int j = (int) (splitmix64(s) % (uint64_t) (i + 1));
		int t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
}

/* The rows in a random order, split at random among k states, merged in a random order. */
static void
split_merge(uint64_t seed, const double *pred, const double *target, int n, int k,
			tds_zero_handling zh, tds_regression_metrics *out)
{
	static tds_regression_acc parts[8];
	static tds_regression_acc all;
	static tds_regression_acc wire;
	int						  order[N_ROWS];
	int						  merge_order[8];
	uint64_t				  s = seed;
	int						  i;

	for (i = 0; i < k; i++)
		tds_regression_init(&parts[i], zh);
	shuffle(&s, order, n);
	for (i = 0; i < n; i++)
		tds_regression_add(&parts[splitmix64(&s) % (uint64_t) k], pred[order[i]],
						   target[order[i]]);
	shuffle(&s, merge_order, k);
	tds_regression_init(&all, zh);
	for (i = 0; i < k; i++)
	{
		tds_error err;

		/* every part goes through the bytes a worker would send */
		tds_regression_serialize(&parts[merge_order[i]], &wire);
		if (tds_regression_deserialize(&wire, sizeof(wire), &parts[merge_order[i]], &err) !=
			TDS_OK)
			abort();
		tds_regression_merge(&all, &parts[merge_order[i]]);
	}
	tds_regression_result(&all, out);
}

static void
test_order_independent(void)
{
	static double		   pred[N_ROWS];
	static double		   target[N_ROWS];
	tds_regression_metrics first;
	tds_regression_metrics m;
	bool				   same = true;
	int					   trial;
	int					   z;

	make_rows(17, pred, target, N_ROWS);
	for (z = 0; z < 3; z++)
	{
		split_merge(1, pred, target, N_ROWS, 1, (tds_zero_handling) z, &first);
		for (trial = 0; trial < 40; trial++)
		{
			split_merge(1000 + (uint64_t) trial, pred, target, N_ROWS, 1 + trial % 8,
						(tds_zero_handling) z, &m);
			same = same && memcmp(&first, &m, sizeof(m)) == 0;
		}
	}
	test_cond("40 shuffles and random splits (1-8 workers) x 3 zero handlings: identical bits",
			  same);
	test_cond("the mixed rows give finite metrics",
			  first.n > 0 && isfinite(first.mean_error) && isfinite(first.error_std) &&
				  isfinite(first.r2) && isfinite(first.rmse));

	/* the trip-like rows alone: same bits whatever the order, too */
	make_rows(99, pred, target, 500);
	split_merge(5, pred, target, 500, 1, TDS_ZERO_REPLACE, &first);
	split_merge(6, pred, target, 500, 7, TDS_ZERO_REPLACE, &m);
	test_cond("500 rows, 1 vs 7 workers: identical bits", memcmp(&first, &m, sizeof(m)) == 0);
}

static double
xsum_of(const double *v, int n)
{
	tds_xsum x;
	int		 i;

	tds_xsum_init(&x);
	for (i = 0; i < n; i++)
		tds_xsum_add(&x, v[i]);
	return tds_xsum_value(&x);
}

static void
test_exact_sums(void)
{
	static const double cancel[] = { 1e100, 1.0, -1e100, 0x1p-1074, -0x1p-1074, 2.0 };
	static const double tenth[] = { 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1 };
	static const double huge[] = { DBL_MAX, DBL_MAX, -DBL_MAX };
	static const double over[] = { DBL_MAX, DBL_MAX };
	static const double tiny[] = { 0x1p-1074, 0x1p-1074, 0x1p-1074, -0x1p-1073 };
	static const double specials[] = { 1.0, INFINITY, 2.0 };
	static const double both_inf[] = { INFINITY, -INFINITY };
	tds_xsum			x;
	tds_xsum			y;
	int					i;

	test_cond("1e100 + 1 - 1e100 + 2 = 3 exactly", xsum_of(cancel, 6) == 3.0);
	test_cond("ten times 0.1: the exact sum rounded once (1.0)", xsum_of(tenth, 10) == 1.0);
	test_cond("DBL_MAX + DBL_MAX - DBL_MAX = DBL_MAX (no intermediate overflow)",
			  xsum_of(huge, 3) == DBL_MAX);
	test_cond("DBL_MAX + DBL_MAX overflows to +Infinity", xsum_of(over, 2) == INFINITY);
	test_cond("subnormals: 3 x 2^-1074 - 2^-1073 = 2^-1074", xsum_of(tiny, 4) == 0x1p-1074);
	test_cond("a value +Infinity makes the sum +Infinity", xsum_of(specials, 3) == INFINITY);
	test_cond("+Infinity and -Infinity make it NaN", isnan(xsum_of(both_inf, 2)));

	/* 2^31 additions of 1 would overflow an int64 limb without carries */
	tds_xsum_init(&x);
	for (i = 0; i < 3000000; i++)
		tds_xsum_add(&x, 0.75);
	test_cond("3e6 additions: exact", tds_xsum_value(&x) == 2250000.0);
	y = x;
	tds_xsum_merge(&y, &x);
	test_cond("merge of two sums: exact", tds_xsum_value(&y) == 4500000.0);
	tds_xsum_canonical(&y);
	test_cond("a carried sum is valid", tds_xsum_valid(&y));
	y.limb[3] = -1;
	test_cond("a negative inner limb is not valid", !tds_xsum_valid(&y));
}

static void
test_moments(void)
{
	tds_xsum			   s1;
	tds_xsum			   s2;
	tds_regression_acc	   acc;
	tds_regression_metrics m;
	int					   i;

	/* a std of 1 around 1e9: exact where naive sums of squares cancel */
	tds_xsum_init(&s1);
	tds_xsum_init(&s2);
	for (i = 1; i <= 3; i++)
	{
		tds_xsum_add(&s1, 1e9 + i);
		tds_xsum_add_square(&s2, 1e9 + i);
	}
	test_cond("std of 1e9 + {1, 2, 3} is exactly 1", tds_xsum_std(&s1, &s2, 3) == 1.0);
	test_cond("mean of 1e9 + {1, 2, 3} is exactly 1e9 + 2", tds_xsum_mean(&s1, 3) == 1e9 + 2);

	/* 1e15 + {0, 1}: std sqrt(0.5) */
	tds_xsum_init(&s1);
	tds_xsum_init(&s2);
	tds_xsum_add(&s1, 1e15);
	tds_xsum_add_square(&s2, 1e15);
	tds_xsum_add(&s1, 1e15 + 1);
	tds_xsum_add_square(&s2, 1e15 + 1);
	test_cond("std of 1e15 + {0, 1} is sqrt(0.5)", tds_xsum_std(&s1, &s2, 2) == sqrt(0.5));

	/* tiny values: the std of {0, 2^-1000} is 2^-1000 sqrt(0.5) */
	tds_xsum_init(&s1);
	tds_xsum_init(&s2);
	tds_xsum_add(&s1, 0x1p-500);
	tds_xsum_add_square(&s2, 0x1p-500);
	tds_xsum_add(&s1, 0.0);
	tds_xsum_add_square(&s2, 0.0);
	test_cond("std of {0, 2^-500} is 2^-500 sqrt(0.5)",
			  tds_xsum_std(&s1, &s2, 2) == ldexp(sqrt(0.5), -500));
	test_cond("rmse of {0, 2^-500} is 2^-500 sqrt(0.5)",
			  tds_xsum_root_mean(&s2, 2) == ldexp(sqrt(0.5), -500));

	/* huge values whose squares overflow a double: the std is +Infinity */
	tds_xsum_init(&s1);
	tds_xsum_init(&s2);
	tds_xsum_add(&s1, 1e200);
	tds_xsum_add_square(&s2, 1e200);
	tds_xsum_add(&s1, -1e200);
	tds_xsum_add_square(&s2, -1e200);
	test_cond("std of {1e200, -1e200}: the squares overflow, +Infinity",
			  tds_xsum_std(&s1, &s2, 2) == INFINITY);
	test_cond("but their mean is exactly 0", tds_xsum_mean(&s1, 2) == 0.0);

	/* n = 1 */
	tds_regression_init(&acc, TDS_ZERO_NONE);
	tds_regression_add(&acc, 1.7e308, -1.7e308);
	tds_regression_result(&acc, &m);
	test_cond("one row with an overflowing error: mean +Infinity, std and R2 NaN",
			  m.n == 1 && m.mean_error == INFINITY && isnan(m.error_std) && isnan(m.r2));

	/* a constant target: R2 exactly 1 or 0 however large the constant */
	tds_regression_init(&acc, TDS_ZERO_NONE);
	for (i = 0; i < 1000; i++)
		tds_regression_add(&acc, 0.1 * 3, 0.1 * 3);
	tds_regression_result(&acc, &m);
	test_cond("constant target 0.3, predicted exactly: R2 = 1, stds 0",
			  m.r2 == 1.0 && m.error_std == 0.0 && m.rmse == 0.0);
	tds_regression_add(&acc, 1.0, 0.1 * 3);
	tds_regression_result(&acc, &m);
	test_cond("constant target with an error: R2 = 0", m.r2 == 0.0);
}

static void
test_serialization(void)
{
	tds_regression_acc acc;
	tds_regression_acc wire;
	tds_regression_acc back;
	tds_error		   err;
	int				   i;

	tds_regression_init(&acc, TDS_ZERO_DROP);
	for (i = 0; i < 100; i++)
		tds_regression_add(&acc, i * 0.5, i * 0.25 + 1);
	tds_regression_serialize(&acc, &wire);
	test_cond("a serialised state reads back",
			  tds_regression_deserialize(&wire, sizeof(wire), &back, &err) == TDS_OK &&
				  memcmp(&wire, &back, sizeof(back)) == 0);
	test_cond("a short state is refused",
			  tds_regression_deserialize(&wire, sizeof(wire) - 1, &back, &err) == TDS_ERR_INPUT);
	wire.sq_target.limb[5] = INT64_C(1) << 40;
	test_cond("a limb out of range is refused",
			  tds_regression_deserialize(&wire, sizeof(wire), &back, &err) == TDS_ERR_INPUT);
	tds_regression_serialize(&acc, &wire);
	wire.n_ape = wire.n + 1;
	test_cond("more MAPE rows than rows is refused",
			  tds_regression_deserialize(&wire, sizeof(wire), &back, &err) == TDS_ERR_INPUT);
	tds_regression_serialize(&acc, &wire);
	wire.zero_handling = 7;
	test_cond("an unknown zero handling is refused",
			  tds_regression_deserialize(&wire, sizeof(wire), &back, &err) == TDS_ERR_INPUT);
}

int
main(void)
{
	test_exact_sums();
	test_moments();
	test_order_independent();
	test_serialization();
	test_report();
	return td_tests_failed == 0 ? 0 : 1;
}
