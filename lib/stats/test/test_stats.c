/*
 * test_stats.c — unit tests of the statistics library (tds_stats.h):
 * drift and regression-quality maths against golden values computed by
 * scipy 1.17, numpy and pandas through Evidently 0.7.23's own code paths
 * (drift_goldens.h, written by gen_drift_goldens.py).
 *
 * Sample data is regenerated here with the generator's splitmix64 and the
 * same exact arithmetic, then reduced to the value map (sorted distinct
 * values with reference/current counts) the aggregates hand to the library.
 * The largest deviation from scipy seen for each statistic is printed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tds_stats.h"
#include "tdc_test.h"

int td_tests_passed = 0;
int td_tests_failed = 0;

/* ------------------------------------------------------------------ */
/* Golden data layout (filled by fixtures/drift_goldens.h)             */
/* ------------------------------------------------------------------ */

typedef struct gen_spec
{
	int		 kind;
	double	 a;
	double	 b;
	int64_t	 n;
	uint64_t seed;
} gen_spec;

typedef struct golden_column
{
	const char	  *name;
	int			   numerical;
	int			   integer_dtype;
	gen_spec	   ref;
	gen_spec	   cur;
	size_t		   vm_m; /* > 0: an explicit value map instead */
	const double  *vm_values;
	const int64_t *vm_ref;
	const int64_t *vm_cur;
	int64_t		   n_ref;
	int64_t		   n_cur;
	int64_t		   n_unique;
	const char	  *auto_test;
	double		   ks_d;
	double		   ks_p;
	double		   w1;
	double		   ref_std;
	double		   wasserstein;
	double		   chi2_p;
	double		   z_p;
	double		   js;
	double		   psi;
	double		   kl;
	int			   binned_sturges;
	size_t		   sturges_k;
	const double  *sturges_edges;
	const int64_t *sturges_ref;
	const int64_t *sturges_cur;
} golden_column;

typedef struct golden_ks
{
	double	d;
	int64_t n1;
	int64_t n2;
	double	p;
	int		exact;
} golden_ks;

typedef struct golden_f2
{
	double a;
	double b;
	double expected;
} golden_f2;

typedef struct golden_reg_expected
{
	int64_t n;
	double	mean_error;
	double	error_std;
	double	mae;
	double	abs_error_std;
	double	abs_error_max;
	double	mape;
	double	abs_perc_error_std;
	double	rmse;
	double	r2;
} golden_reg_expected;

typedef struct golden_regression
{
	const char		   *name;
	int64_t				n;
	uint64_t			seed;
	double				ta;
	double				tb;
	double				pb;
	double				pbias;
	int					zero_mod;
	int					tiny_mod;
	int					neg_mod;
	int					nan_mod;
	int					inf_mod;
	int					const_target;
	golden_reg_expected expected[3]; /* replace, drop, none */
} golden_regression;

#include "drift_goldens.h"

/* The rest of the catalogue (stattest_goldens.h, gen_stattest_goldens.py) */
typedef struct stattest_case
{
	const char	  *name;
	int			   numerical;
	int			   integer_dtype;
	gen_spec	   ref;
	gen_spec	   cur;
	size_t		   vm_m;
	const double  *vm_values;
	const int64_t *vm_ref;
	const int64_t *vm_cur;
} stattest_case;

typedef struct stattest_golden
{
	const char *column;
	const char *test;
	double		score;
	int			error; /* Evidently raised */
	const char *evidently_error;
} stattest_golden;

#include "stattest_goldens.h"


#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Tolerances: p-values absolute, scores relative (absolute below 1). */
#define TOL_P 1e-9
#define TOL_SCORE 1e-9

/* ------------------------------------------------------------------ */
/* Deviation tracking                                                  */
/* ------------------------------------------------------------------ */

typedef struct deviation
{
	const char *what;
	double		max;
	int			count;
} deviation;

static deviation deviations[] = {
	{ "ks D", 0, 0 },
	{ "ks p-value (columns)", 0, 0 },
	{ "ks p-value (grid)", 0, 0 },
	{ "kstwo.sf", 0, 0 },
	{ "smirnov", 0, 0 },
	{ "gammaincc", 0, 0 },
	{ "chdtrc", 0, 0 },
	{ "ndtr / norm.sf", 0, 0 },
	{ "W1", 0, 0 },
	{ "reference std", 0, 0 },
	{ "wasserstein (normed)", 0, 0 },
	{ "chi-square p", 0, 0 },
	{ "z p", 0, 0 },
	{ "jensenshannon", 0, 0 },
	{ "psi", 0, 0 },
	{ "kl_div", 0, 0 },
	{ "regression metrics (rel)", 0, 0 },
	{ "merged vs one pass (rel)", 0, 0 },
};

enum
{
	DEV_KS_D,
	DEV_KS_P,
	DEV_KS_GRID,
	DEV_KSTWO,
	DEV_SMIRNOV,
	DEV_IGAMC,
	DEV_CHDTRC,
	DEV_NDTR,
	DEV_W1,
	DEV_STD,
	DEV_WASS,
	DEV_CHI2,
	DEV_Z,
	DEV_JS,
	DEV_PSI,
	DEV_KL,
	DEV_REG,
	DEV_MERGE
};

/* |got - want| (relative when |want| > 1 and rel), NaN/inf must match. */
static double
deviation_of(double got, double want, bool rel)
{
	if (isnan(want) || isnan(got))
		return isnan(want) && isnan(got) ? 0.0 : INFINITY;
	if (isinf(want) || isinf(got))
		return got == want ? 0.0 : INFINITY;
	if (rel && fabs(want) > 1.0)
		return fabs(got - want) / fabs(want);
	return fabs(got - want);
}

static bool
close_to(int which, double got, double want, bool rel, double tol)
{
	double d = deviation_of(got, want, rel);

	if (d > deviations[which].max)
		deviations[which].max = d;
	deviations[which].count++;
	if (!(d <= tol))
		printf("  %s: got %.17g, want %.17g (deviation %.3g)\n",
			   deviations[which].what, got, want, d);
	return d <= tol;
}

static void
print_deviations(void)
{
	size_t i;

	printf("max deviation vs scipy/numpy/pandas (p-values absolute, scores relative above 1):\n");
	for (i = 0; i < N_ELEMS(deviations); i++)
		printf("  %-26s %.3g over %d values\n", deviations[i].what,
			   deviations[i].max, deviations[i].count);
}

/* ------------------------------------------------------------------ */
/* Data generation, mirroring gen_drift_goldens.py                     */
/* ------------------------------------------------------------------ */

enum
{
	KIND_UNIFORM,
	KIND_NORMAL,
	KIND_INT,
	KIND_SKEW_INT,
	KIND_INT_NORMAL,
	KIND_CONST
};

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

/*
 * One value of a window, with Python's operation order; the volatile
 * product keeps a + b x from becoming an fma (Python rounds twice).
 */
static double
gen_value(uint64_t *state, int kind, double a, double b)
{
	double			s;
	double			u;
	volatile double bx;

	switch (kind)
	{
		case KIND_UNIFORM:
			bx = b * uniform01(state);
			return a + bx;
		case KIND_NORMAL:
		case KIND_INT_NORMAL:
			s = uniform01(state);
			s = s + uniform01(state);
			s = s + uniform01(state);
			s = s + uniform01(state);
			s = s - 2.0;
			bx = b * s;
			return kind == KIND_NORMAL ? a + bx : a + floor(bx);
		case KIND_INT:
			return a + floor(b * uniform01(state));
		case KIND_SKEW_INT:
			u = uniform01(state);
			return a + floor(b * u * u);
		default:
			return a;
	}
}

/* A column's value map, owning its arrays. */
typedef struct test_column
{
	tds_drift_column col;
	double			*values;
	int64_t			*ref;
	int64_t			*cur;
} test_column;

typedef struct tagged
{
	double x;
	int	   window; /* 0 reference, 1 current */
} tagged;

static int
cmp_tagged(const void *a, const void *b)
{
	double x = ((const tagged *) a)->x;
	double y = ((const tagged *) b)->x;

	return (x > y) - (x < y);
}

static void
column_alloc(test_column *tc, size_t m)
{
	tc->values = calloc(m ? m : 1, sizeof(double));
	tc->ref = calloc(m ? m : 1, sizeof(int64_t));
	tc->cur = calloc(m ? m : 1, sizeof(int64_t));
	if (tc->values == NULL || tc->ref == NULL || tc->cur == NULL)
	{
		printf("test bug: out of memory\n");
		exit(2);
	}
}

static void
column_finish(test_column *tc, size_t m, bool numerical, bool integer_dtype)
{
	size_t i;

	tc->col.numerical = numerical;
	tc->col.integer_dtype = integer_dtype;
	tc->col.m = m;
	tc->col.values = numerical ? tc->values : NULL;
	tc->col.ref = tc->ref;
	tc->col.cur = tc->cur;
	tc->col.n_ref = 0;
	tc->col.n_cur = 0;
	for (i = 0; i < m; i++)
	{
		tc->col.n_ref += tc->ref[i];
		tc->col.n_cur += tc->cur[i];
	}
}

/* Draw both windows and reduce them to sorted distinct values. */
static void
column_from_specs(test_column *tc, const gen_spec *r, const gen_spec *c,
				  bool numerical, bool integer_dtype)
{
	size_t	 n = (size_t) (r->n + c->n);
	tagged	*all = calloc(n ? n : 1, sizeof(tagged));
	uint64_t state;
	size_t	 i;
	size_t	 m = 0;

	if (all == NULL)
		exit(2);
	state = r->seed;
	for (i = 0; i < (size_t) r->n; i++)
	{
		all[i].x = gen_value(&state, r->kind, r->a, r->b);
		all[i].window = 0;
	}
	state = c->seed;
	for (i = 0; i < (size_t) c->n; i++)
	{
		all[r->n + i].x = gen_value(&state, c->kind, c->a, c->b);
		all[r->n + i].window = 1;
	}
	qsort(all, n, sizeof(tagged), cmp_tagged);
	column_alloc(tc, n);
	for (i = 0; i < n; i++)
	{
		if (i == 0 || all[i].x != all[i - 1].x)
			tc->values[m++] = all[i].x;
		if (all[i].window == 0)
			tc->ref[m - 1]++;
		else
			tc->cur[m - 1]++;
	}
	free(all);
	column_finish(tc, m, numerical, integer_dtype);
}

static void
column_from_golden(test_column *tc, const golden_column *g)
{
	if (g->vm_m > 0)
	{
		column_alloc(tc, g->vm_m);
		memcpy(tc->values, g->vm_values, g->vm_m * sizeof(double));
		memcpy(tc->ref, g->vm_ref, g->vm_m * sizeof(int64_t));
		memcpy(tc->cur, g->vm_cur, g->vm_m * sizeof(int64_t));
		column_finish(tc, g->vm_m, g->numerical, g->integer_dtype);
	}
	else
		column_from_specs(tc, &g->ref, &g->cur, g->numerical, g->integer_dtype);
}

static void
column_free(test_column *tc)
{
	free(tc->values);
	free(tc->ref);
	free(tc->cur);
}

static size_t
present_keys(const tds_drift_column *c)
{
	size_t i;
	size_t n = 0;

	for (i = 0; i < c->m; i++)
		n += (c->ref[i] > 0 || c->cur[i] > 0);
	return n;
}

static double
score_of(tds_stattest test, const tds_drift_column *c)
{
	tds_error  err;
	double	   s = -1;
	tds_status st = tds_drift_score(test, c, &s, &err);

	if (st != TDS_OK)
	{
		printf("  %s failed: %s (%s)\n", tds_stattest_name(test), err.message,
			   err.detail);
		return -12345;
	}
	return s;
}

/* ------------------------------------------------------------------ */
/* Names, thresholds, decisions, choice                                */
/* ------------------------------------------------------------------ */

static void
test_names(void)
{
	int i;

	test_cond("ks short name", strcmp(tds_stattest_name(TDS_STATTEST_KS), "ks") == 0);
	test_cond("ks display name",
			  strcmp(tds_stattest_display_name(TDS_STATTEST_KS), "K-S p_value") == 0);
	test_cond("chisquare display name",
			  strcmp(tds_stattest_display_name(TDS_STATTEST_CHISQUARE), "chi-square p_value") == 0);
	test_cond("z display name",
			  strcmp(tds_stattest_display_name(TDS_STATTEST_Z), "Z-test p_value") == 0);
	test_cond("wasserstein display name",
			  strcmp(tds_stattest_display_name(TDS_STATTEST_WASSERSTEIN),
					 "Wasserstein distance (normed)") == 0);
	test_cond("jensenshannon display name",
			  strcmp(tds_stattest_display_name(TDS_STATTEST_JENSENSHANNON),
					 "Jensen-Shannon distance") == 0);
	test_cond("psi display name", strcmp(tds_stattest_display_name(TDS_STATTEST_PSI), "PSI") == 0);
	test_cond("kl_div display name",
			  strcmp(tds_stattest_display_name(TDS_STATTEST_KL_DIV),
					 "Kullback-Leibler divergence") == 0);
	test_cond("none has an empty name", strcmp(tds_stattest_name(TDS_STATTEST_NONE), "") == 0);
	test_cond("out-of-range test has an empty name",
			  strcmp(tds_stattest_name((tds_stattest) 99), "") == 0);
	for (i = 1; i < TDS_STATTEST_COUNT; i++)
		test_cond("name round trip",
				  tds_stattest_from_name(tds_stattest_name((tds_stattest) i)) == (tds_stattest) i);
	test_cond("unknown name", tds_stattest_from_name("hellinger2") == TDS_STATTEST_NONE);
	test_cond("names are case-sensitive", tds_stattest_from_name("KS") == TDS_STATTEST_NONE);
	test_cond("NULL name", tds_stattest_from_name(NULL) == TDS_STATTEST_NONE);
	test_cond("empty name", tds_stattest_from_name("") == TDS_STATTEST_NONE);

	test_cond("ks threshold", tds_stattest_default_threshold(TDS_STATTEST_KS) == 0.05);
	test_cond("chisquare threshold", tds_stattest_default_threshold(TDS_STATTEST_CHISQUARE) == 0.05);
	test_cond("z threshold", tds_stattest_default_threshold(TDS_STATTEST_Z) == 0.05);
	test_cond("wasserstein threshold", tds_stattest_default_threshold(TDS_STATTEST_WASSERSTEIN) == 0.1);
	test_cond("jensenshannon threshold",
			  tds_stattest_default_threshold(TDS_STATTEST_JENSENSHANNON) == 0.1);
	test_cond("psi threshold", tds_stattest_default_threshold(TDS_STATTEST_PSI) == 0.1);
	test_cond("kl_div threshold", tds_stattest_default_threshold(TDS_STATTEST_KL_DIV) == 0.1);
	test_cond("p-value tests",
			  tds_stattest_is_pvalue(TDS_STATTEST_KS) && tds_stattest_is_pvalue(TDS_STATTEST_CHISQUARE) &&
				  tds_stattest_is_pvalue(TDS_STATTEST_Z));
	test_cond("distance tests are not p-values",
			  !tds_stattest_is_pvalue(TDS_STATTEST_WASSERSTEIN) &&
				  !tds_stattest_is_pvalue(TDS_STATTEST_JENSENSHANNON) &&
				  !tds_stattest_is_pvalue(TDS_STATTEST_PSI) && !tds_stattest_is_pvalue(TDS_STATTEST_KL_DIV) &&
				  !tds_stattest_is_pvalue(TDS_STATTEST_NONE));
}

static void
test_decisions(void)
{
	test_cond("ks drifts at p == threshold", tds_stattest_drifted(TDS_STATTEST_KS, 0.05, 0.05));
	test_cond("ks below", tds_stattest_drifted(TDS_STATTEST_KS, 0.01, 0.05));
	test_cond("ks above", !tds_stattest_drifted(TDS_STATTEST_KS, 0.06, 0.05));
	test_cond("chisquare does not drift at p == threshold",
			  !tds_stattest_drifted(TDS_STATTEST_CHISQUARE, 0.05, 0.05));
	test_cond("chisquare below", tds_stattest_drifted(TDS_STATTEST_CHISQUARE, 0.049, 0.05));
	test_cond("z does not drift at p == threshold", !tds_stattest_drifted(TDS_STATTEST_Z, 0.05, 0.05));
	test_cond("z below", tds_stattest_drifted(TDS_STATTEST_Z, 0.0, 0.05));
	test_cond("wasserstein drifts at score == threshold",
			  tds_stattest_drifted(TDS_STATTEST_WASSERSTEIN, 0.1, 0.1));
	test_cond("jensenshannon at threshold", tds_stattest_drifted(TDS_STATTEST_JENSENSHANNON, 0.1, 0.1));
	test_cond("psi at threshold", tds_stattest_drifted(TDS_STATTEST_PSI, 0.1, 0.1));
	test_cond("kl_div at threshold", tds_stattest_drifted(TDS_STATTEST_KL_DIV, 0.1, 0.1));
	test_cond("distance below", !tds_stattest_drifted(TDS_STATTEST_PSI, 0.0999, 0.1));
	test_cond("NaN p-value never drifts", !tds_stattest_drifted(TDS_STATTEST_CHISQUARE, NAN, 0.05) &&
											  !tds_stattest_drifted(TDS_STATTEST_KS, NAN, 0.05));
	test_cond("NaN distance never drifts", !tds_stattest_drifted(TDS_STATTEST_WASSERSTEIN, NAN, 0.1));
	test_cond("none never drifts", !tds_stattest_drifted(TDS_STATTEST_NONE, 0, 1));
	test_cond("the rule text says the decision",
			  strcmp(tds_stattest_rule(TDS_STATTEST_KS), "score <= threshold") == 0 &&
				  strcmp(tds_stattest_rule(TDS_STATTEST_CHISQUARE), "score < threshold") == 0 &&
				  strcmp(tds_stattest_rule(TDS_STATTEST_Z), "score < threshold") == 0 &&
				  strcmp(tds_stattest_rule(TDS_STATTEST_WASSERSTEIN), "score >= threshold") == 0 &&
				  strcmp(tds_stattest_rule(TDS_STATTEST_KL_DIV), "score >= threshold") == 0 &&
				  strcmp(tds_stattest_rule(TDS_STATTEST_NONE), "") == 0);
}

static void
test_choose(void)
{
	test_cond("n_r = 1000, U = 6 numerical: ks", tds_stattest_choose(true, 1000, 6) == TDS_STATTEST_KS);
	test_cond("n_r = 1001, U = 6 numerical: wasserstein",
			  tds_stattest_choose(true, 1001, 6) == TDS_STATTEST_WASSERSTEIN);
	test_cond("n_r = 1000, U = 5 numerical: chisquare",
			  tds_stattest_choose(true, 1000, 5) == TDS_STATTEST_CHISQUARE);
	test_cond("n_r = 1001, U = 5 numerical: jensenshannon",
			  tds_stattest_choose(true, 1001, 5) == TDS_STATTEST_JENSENSHANNON);
	test_cond("U = 3 numerical small: chisquare", tds_stattest_choose(true, 10, 3) == TDS_STATTEST_CHISQUARE);
	test_cond("U = 2 numerical small: z", tds_stattest_choose(true, 10, 2) == TDS_STATTEST_Z);
	test_cond("U = 1 small: z", tds_stattest_choose(false, 10, 1) == TDS_STATTEST_Z);
	test_cond("categorical U = 3 small: chisquare",
			  tds_stattest_choose(false, 1000, 3) == TDS_STATTEST_CHISQUARE);
	test_cond("categorical U = 2 small: z", tds_stattest_choose(false, 1000, 2) == TDS_STATTEST_Z);
	test_cond("categorical U = 200 small: chisquare",
			  tds_stattest_choose(false, 1000, 200) == TDS_STATTEST_CHISQUARE);
	test_cond("categorical large: jensenshannon",
			  tds_stattest_choose(false, 1001, 2) == TDS_STATTEST_JENSENSHANNON &&
				  tds_stattest_choose(false, 5000, 300) == TDS_STATTEST_JENSENSHANNON);
	/* Evidently's tests/stattests/test_registry.py */
	test_cond("[1..11] x 1000: wasserstein",
			  tds_stattest_choose(true, 11000, 11) == TDS_STATTEST_WASSERSTEIN);
	test_cond("[1..5] x 1000: jensenshannon",
			  tds_stattest_choose(true, 5000, 5) == TDS_STATTEST_JENSENSHANNON);
	test_cond("[a, b] x 10: z", tds_stattest_choose(false, 20, 2) == TDS_STATTEST_Z);
}

/* ------------------------------------------------------------------ */
/* Golden columns                                                      */
/* ------------------------------------------------------------------ */

static void
check_sturges(const golden_column *g, const tds_drift_column *c)
{
	size_t	  k = 0;
	size_t	  i;
	double	 *edges;
	int64_t	 *rc;
	int64_t	 *cc;
	tds_error err;
	bool	  same = true;

	if (tds_sturges_histogram(c, &k, &edges, &rc, &cc, &err) != TDS_OK)
	{
		test_cond("sturges histogram computed", false);
		return;
	}
	test_cond("sturges bin count = numpy's", k == g->sturges_k);
	if (k == g->sturges_k)
	{
		for (i = 0; i <= k; i++)
			same = same && edges[i] == g->sturges_edges[i];
		test_cond("sturges edges = numpy's (bitwise)", same);
		same = true;
		for (i = 0; i < k; i++)
			same = same && rc[i] == g->sturges_ref[i] && cc[i] == g->sturges_cur[i];
		test_cond("histogram counts = numpy's", same);
	}
	else
		printf("  %s: %zu bins, numpy %zu\n", g->name, k, g->sturges_k);
	tds_free_histogram(edges, rc, cc);
}

static void
check_binned(const golden_column *g, const tds_drift_column *c)
{
	size_t	   k = 0;
	double	  *p;
	double	  *q;
	double	  *edges;
	tds_error  err;
	tds_status st = tds_binned_shares(c, &k, &p, &q, &edges, &err);

	test_cond("binned shares computed", st == TDS_OK);
	if (st != TDS_OK)
		return;
	test_cond("sturges iff numerical with > 20 reference values",
			  (edges != NULL) == (g->binned_sturges != 0));
	if (g->binned_sturges)
		test_cond("binned: sturges bin count", k == g->sturges_k);
	else
		test_cond("binned: one share per key", k == present_keys(c));
	tds_free_binned(p, q, edges);
}

static void
check_numerical(const golden_column *g, const tds_drift_column *c)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: ks D", g->name);
	test_cond(msg, close_to(DEV_KS_D, tds_ks_statistic(c), g->ks_d, true, 1e-15));
	snprintf(msg, sizeof(msg), "%s: ks p-value", g->name);
	test_cond(msg, close_to(DEV_KS_P, score_of(TDS_STATTEST_KS, c), g->ks_p, false, TOL_P));
	snprintf(msg, sizeof(msg), "%s: W1", g->name);
	test_cond(msg, close_to(DEV_W1, tds_wasserstein_distance(c), g->w1, true, TOL_SCORE));
	snprintf(msg, sizeof(msg), "%s: reference std", g->name);
	test_cond(msg, close_to(DEV_STD, tds_reference_std(c), g->ref_std, true, TOL_SCORE));
	snprintf(msg, sizeof(msg), "%s: wasserstein score", g->name);
	test_cond(msg, close_to(DEV_WASS, score_of(TDS_STATTEST_WASSERSTEIN, c), g->wasserstein,
							true, TOL_SCORE));
	check_sturges(g, c);
}

static void
check_categorical_only(const golden_column *g, const tds_drift_column *c)
{
	tds_error err;
	double	  s;

	(void) g;
	test_cond("ks refuses a categorical column",
			  tds_drift_score(TDS_STATTEST_KS, c, &s, &err) == TDS_ERR_INPUT && isnan(s));
	test_cond("wasserstein refuses a categorical column",
			  tds_drift_score(TDS_STATTEST_WASSERSTEIN, c, &s, &err) == TDS_ERR_INPUT);
}

static void
check_golden_column(const golden_column *g)
{
	test_column		  tc;
	tds_drift_column *c = &tc.col;
	char			  msg[160];

	column_from_golden(&tc, g);
	snprintf(msg, sizeof(msg), "%s: window sizes", g->name);
	test_cond(msg, c->n_ref == g->n_ref && c->n_cur == g->n_cur);
	snprintf(msg, sizeof(msg), "%s: distinct values", g->name);
	test_cond(msg, (int64_t) present_keys(c) == g->n_unique);
	snprintf(msg, sizeof(msg), "%s: automatic test", g->name);
	test_cond(msg, strcmp(tds_stattest_name(tds_stattest_choose(g->numerical, g->n_ref, g->n_unique)),
						  g->auto_test) == 0);
	test_cond("column check passes", tds_drift_column_check(c, g->numerical, NULL) == TDS_OK);

	if (g->numerical)
		check_numerical(g, c);
	else
		check_categorical_only(g, c);

	snprintf(msg, sizeof(msg), "%s: chi-square p", g->name);
	test_cond(msg, close_to(DEV_CHI2, score_of(TDS_STATTEST_CHISQUARE, c), g->chi2_p, false, TOL_P));
	snprintf(msg, sizeof(msg), "%s: z p", g->name);
	test_cond(msg, close_to(DEV_Z, score_of(TDS_STATTEST_Z, c), g->z_p, false, TOL_P));
	snprintf(msg, sizeof(msg), "%s: jensenshannon", g->name);
	test_cond(msg, close_to(DEV_JS, score_of(TDS_STATTEST_JENSENSHANNON, c), g->js, true, TOL_SCORE));
	snprintf(msg, sizeof(msg), "%s: psi", g->name);
	test_cond(msg, close_to(DEV_PSI, score_of(TDS_STATTEST_PSI, c), g->psi, true, TOL_SCORE));
	snprintf(msg, sizeof(msg), "%s: kl_div", g->name);
	test_cond(msg, close_to(DEV_KL, score_of(TDS_STATTEST_KL_DIV, c), g->kl, true, TOL_SCORE));
	check_binned(g, c);
	column_free(&tc);
}

static const golden_column *
golden(const char *name)
{
	size_t i;

	for (i = 0; i < N_ELEMS(golden_columns); i++)
		if (strcmp(golden_columns[i].name, name) == 0)
			return &golden_columns[i];
	printf("test bug: no golden column %s\n", name);
	exit(2);
}

static void
test_golden_columns(void)
{
	size_t i;

	for (i = 0; i < N_ELEMS(golden_columns); i++)
		check_golden_column(&golden_columns[i]);
}

/* Named edge cases, on top of the generic comparison above. */
static void
test_golden_edges(void)
{
	test_cond("chi-square golden vector p ~ 0.67309",
			  fabs(golden("chi2_golden")->chi2_p - 0.67309) < 1e-5);
	test_cond("doubling the reference keeps p",
			  fabs(golden("chi2_golden_doubled")->chi2_p - golden("chi2_golden")->chi2_p) < 1e-12);
	test_cond("key only in current: chi-square p = 0", golden("cat_new_key")->chi2_p == 0.0);
	test_cond("identical windows: D = 0, p = 1",
			  golden("identical")->ks_d == 0.0 && golden("identical")->ks_p == 1.0);
	test_cond("disjoint windows: D = 1", golden("disjoint_exact")->ks_d == 1.0 &&
											 golden("disjoint_asymptotic")->ks_d == 1.0);
	test_cond("constant reference: std 0, normed by 0.001",
			  golden("num_const_ref")->ref_std == 0.0 &&
				  fabs(golden("num_const_ref")->wasserstein - golden("num_const_ref")->w1 / 0.001) <
					  1e-9 * golden("num_const_ref")->wasserstein);
	test_cond("integer clamp: 21 bins", golden("sturges_int_clamp")->sturges_k == 21);
	test_cond("same data as floats: 22 bins", golden("sturges_float_noclamp")->sturges_k == 22);
	test_cond("power-of-two N: log2 N + 2 bins", golden("sturges_pow2_bump")->sturges_k == 8);
	test_cond("same single value: z p = 1", golden("z_single_same")->z_p == 1.0);
}

/* Keys counted in neither window change nothing. */
static void
test_empty_keys_ignored(void)
{
	const golden_column *g = golden("ints_ties");
	test_column			 tc;
	test_column			 wide;
	size_t				 i;
	int					 t;
	bool				 same = true;

	column_from_golden(&tc, g);
	column_alloc(&wide, 2 * tc.col.m + 1);
	for (i = 0; i < tc.col.m; i++)
	{
		wide.values[2 * i] = tc.values[i] - 0.5; /* an empty key */
		wide.values[2 * i + 1] = tc.values[i];
		wide.ref[2 * i + 1] = tc.ref[i];
		wide.cur[2 * i + 1] = tc.cur[i];
	}
	wide.values[2 * tc.col.m] = tc.values[tc.col.m - 1] + 0.5;
	column_finish(&wide, 2 * tc.col.m + 1, true, true);
	for (t = 1; t < TDS_STATTEST_COUNT; t++)
		same = same && score_of((tds_stattest) t, &tc.col) == score_of((tds_stattest) t, &wide.col);
	test_cond("empty keys leave every score unchanged", same);
	column_free(&tc);
	column_free(&wide);
}

/* Categorical scores do not depend on the key order (compensated sums). */
static void
test_key_order(void)
{
	const golden_column *g = golden("cat12_large");
	test_column			 tc;
	test_column			 rev;
	size_t				 i;
	size_t				 m;
	int					 t;
	bool				 ok = true;

	column_from_golden(&tc, g);
	m = tc.col.m;
	column_alloc(&rev, m);
	for (i = 0; i < m; i++)
	{
		rev.ref[i] = tc.ref[(i * 5) % m];
		rev.cur[i] = tc.cur[(i * 5) % m];
	}
	column_finish(&rev, m, false, false);
	for (t = TDS_STATTEST_CHISQUARE; t <= TDS_STATTEST_KL_DIV; t++)
	{
		double a;
		double b;

		if (t == TDS_STATTEST_Z || t == TDS_STATTEST_WASSERSTEIN)
			continue;
		a = score_of((tds_stattest) t, &tc.col);
		b = score_of((tds_stattest) t, &rev.col);
		ok = ok && fabs(a - b) <= 1e-15 * fmax(1.0, fabs(a));
	}
	test_cond("categorical scores independent of key order", ok);
	column_free(&tc);
	column_free(&rev);
}

/* ------------------------------------------------------------------ */
/* Function grids                                                      */
/* ------------------------------------------------------------------ */

static void
test_ks_grid(void)
{
	size_t i;
	int	   exact = 0;
	int	   asymp = 0;
	bool   ok = true;

	for (i = 0; i < N_ELEMS(golden_ks_pvalues); i++)
	{
		const golden_ks *g = &golden_ks_pvalues[i];
		double			 p = tds_ks_2samp_pvalue(g->d, g->n1, g->n2);

		if (!close_to(DEV_KS_GRID, p, g->p, false, TOL_P))
		{
			printf("  ks_2samp p(d = %.17g, n1 = %lld, n2 = %lld)\n", g->d,
				   (long long) g->n1, (long long) g->n2);
			ok = false;
		}
		exact += g->exact;
		asymp += !g->exact;
	}
	test_cond("ks_2samp p-values match scipy on the grid", ok);
	test_cond("grid covers the exact and asymptotic branches", exact > 100 && asymp > 50);
	test_cond("D = 0: p = 1", tds_ks_2samp_pvalue(0.0, 100, 70) == 1.0);
	test_cond("D = 1, n2 > 10000: p = 0", tds_ks_2samp_pvalue(1.0, 500, 20000) == 0.0);
	test_cond("empty sample: NaN", isnan(tds_ks_2samp_pvalue(0.5, 0, 10)));
	test_cond("NaN D: NaN", isnan(tds_ks_2samp_pvalue(NAN, 10, 10)));
}

static void
grid(const char *what, int which, const golden_f2 *rows, size_t n,
	 double (*f)(double, double), double tol)
{
	size_t i;
	bool   ok = true;

	for (i = 0; i < n; i++)
	{
		double got = f(rows[i].a, rows[i].b);

		if (!close_to(which, got, rows[i].expected, false, tol))
		{
			printf("  %s(%.17g, %.17g)\n", what, rows[i].a, rows[i].b);
			ok = false;
		}
	}
	test_cond(what, ok);
}

static double
smirnov_ab(double n, double x)
{
	return tds_smirnov((int64_t) n, x);
}

static void
test_special_grids(void)
{
	size_t i;
	bool   ok = true;

	grid("kstwo.sf matches scipy", DEV_KSTWO, golden_kstwo, N_ELEMS(golden_kstwo),
		 tds_kstwo_sf, TOL_P);
	grid("smirnov matches scipy", DEV_SMIRNOV, golden_smirnov, N_ELEMS(golden_smirnov),
		 smirnov_ab, TOL_P);
	grid("gammaincc matches scipy", DEV_IGAMC, golden_igamc, N_ELEMS(golden_igamc),
		 tds_igamc, TOL_P);
	grid("chdtrc matches scipy", DEV_CHDTRC, golden_chdtrc, N_ELEMS(golden_chdtrc),
		 tds_chi2_sf, TOL_P);
	/* golden_ndtr rows: x, ndtr(x), norm.sf(x) */
	for (i = 0; i < N_ELEMS(golden_ndtr); i++)
	{
		ok = close_to(DEV_NDTR, tds_normal_cdf(golden_ndtr[i].a), golden_ndtr[i].b, false,
					  TOL_P) &&
			 ok;
		ok = close_to(DEV_NDTR, tds_normal_sf(golden_ndtr[i].a), golden_ndtr[i].expected,
					  false, TOL_P) &&
			 ok;
	}
	test_cond("ndtr and norm.sf match scipy", ok);
	test_cond("chi2 sf of a negative statistic is 1 (chi2.sf)", tds_chi2_sf(-1.0, 3) == 1.0);
	test_cond("kstwo.sf below the support is 1", tds_kstwo_sf(0.001, 10) == 1.0);
	test_cond("kstwo.sf with n < 1 is NaN", isnan(tds_kstwo_sf(0.3, 0.0)));
}

/* ------------------------------------------------------------------ */
/* Regression                                                          */
/* ------------------------------------------------------------------ */

static void
regression_row(const golden_regression *g, uint64_t *state, int64_t i, double *t,
			   double *p)
{
	*t = gen_value(state, KIND_NORMAL, g->ta, g->tb);
	*p = *t + gen_value(state, KIND_NORMAL, g->pbias, g->pb);
	if (g->const_target)
	{
		*t = g->ta;
		if (g->pb == 0)
			*p = g->ta;
	}
	if (g->zero_mod && i % g->zero_mod == 0)
		*t = 0.0;
	if (g->tiny_mod && i % g->tiny_mod == 1)
		*t = 1e-17;
	if (g->neg_mod && i % g->neg_mod == 2)
		*t = -*t;
	if (g->nan_mod && i % g->nan_mod == 3)
		*p = NAN;
	if (g->inf_mod && i % g->inf_mod == 4)
		*t = INFINITY;
}

/* One accumulator over all rows and a merge of three row ranges. */
static void
regression_accumulate(const golden_regression *g, tds_zero_handling zh,
					  tds_regression_acc *whole, tds_regression_acc *merged)
{
	tds_regression_acc part[3];
	uint64_t		   state = g->seed;
	int64_t			   i;
	int				   j;

	tds_regression_init(whole, zh);
	for (j = 0; j < 3; j++)
		tds_regression_init(&part[j], zh);
	for (i = 0; i < g->n; i++)
	{
		double t;
		double p;

		regression_row(g, &state, i, &t, &p);
		tds_regression_add(whole, p, t);
		tds_regression_add(&part[i < g->n / 3 ? 0 : (i < g->n / 2 ? 1 : 2)], p, t);
	}
	/* ((2 + 0) + empty) + 1: any order of partial states */
	tds_regression_init(merged, zh);
	tds_regression_merge(merged, &part[2]);
	tds_regression_merge(merged, &part[0]);
	tds_regression_init(&part[0], zh);
	tds_regression_merge(merged, &part[0]);
	tds_regression_merge(merged, &part[1]);
}

static bool
metrics_close(int which, const tds_regression_metrics *m, const golden_reg_expected *e,
			  double tol)
{
	bool ok = m->n == e->n;

	ok = close_to(which, m->mean_error, e->mean_error, true, tol) && ok;
	ok = close_to(which, m->error_std, e->error_std, true, tol) && ok;
	ok = close_to(which, m->mae, e->mae, true, tol) && ok;
	ok = close_to(which, m->abs_error_std, e->abs_error_std, true, tol) && ok;
	ok = close_to(which, m->abs_error_max, e->abs_error_max, true, tol) && ok;
	ok = close_to(which, m->mape, e->mape, true, tol) && ok;
	ok = close_to(which, m->abs_perc_error_std, e->abs_perc_error_std, true, tol) && ok;
	ok = close_to(which, m->rmse, e->rmse, true, tol) && ok;
	ok = close_to(which, m->r2, e->r2, true, tol) && ok;
	return ok;
}

static void
metrics_as_expected(const tds_regression_metrics *m, golden_reg_expected *e)
{
	e->n = m->n;
	e->mean_error = m->mean_error;
	e->error_std = m->error_std;
	e->mae = m->mae;
	e->abs_error_std = m->abs_error_std;
	e->abs_error_max = m->abs_error_max;
	e->mape = m->mape;
	e->abs_perc_error_std = m->abs_perc_error_std;
	e->rmse = m->rmse;
	e->r2 = m->r2;
}

static void
test_regression_goldens(void)
{
	static const tds_zero_handling zhs[3] = { TDS_ZERO_REPLACE, TDS_ZERO_DROP, TDS_ZERO_NONE };
	static const char *const	   zh_names[3] = { "replace", "drop", "none" };
	size_t						   i;
	int							   z;
	char						   msg[160];

	for (i = 0; i < N_ELEMS(golden_regressions); i++)
	{
		const golden_regression *g = &golden_regressions[i];

		for (z = 0; z < 3; z++)
		{
			tds_regression_acc	   whole;
			tds_regression_acc	   merged;
			tds_regression_metrics mw;
			tds_regression_metrics mm;
			golden_reg_expected	   ew;

			regression_accumulate(g, zhs[z], &whole, &merged);
			tds_regression_result(&whole, &mw);
			tds_regression_result(&merged, &mm);
			snprintf(msg, sizeof(msg), "%s (%s): metrics match pandas/sklearn", g->name,
					 zh_names[z]);
			test_cond(msg, metrics_close(DEV_REG, &mw, &g->expected[z], TOL_SCORE));
			metrics_as_expected(&mw, &ew);
			snprintf(msg, sizeof(msg), "%s (%s): merged partial states = one pass", g->name,
					 zh_names[z]);
			test_cond(msg, metrics_close(DEV_MERGE, &mm, &ew, 1e-12));
		}
	}
}

static void
test_regression_edges(void)
{
	tds_regression_acc	   acc;
	tds_regression_acc	   other;
	tds_regression_metrics m;

	tds_regression_init(&acc, TDS_ZERO_REPLACE);
	tds_regression_result(&acc, &m);
	test_cond("no rows: n = 0, everything NaN",
			  m.n == 0 && isnan(m.mean_error) && isnan(m.mae) && isnan(m.abs_error_max) &&
				  isnan(m.mape) && isnan(m.rmse) && isnan(m.r2) && isnan(m.error_std));

	tds_regression_add(&acc, NAN, 1.0);
	tds_regression_add(&acc, 1.0, INFINITY);
	tds_regression_add(&acc, -INFINITY, 2.0);
	tds_regression_result(&acc, &m);
	test_cond("non-finite rows are skipped", m.n == 0);

	tds_regression_add(&acc, 3.0, 2.0);
	tds_regression_result(&acc, &m);
	test_cond("one row: means defined, stds and R2 NaN",
			  m.n == 1 && m.mean_error == 1.0 && m.mae == 1.0 && m.rmse == 1.0 &&
				  m.mape == 50.0 && m.abs_error_max == 1.0 && isnan(m.error_std) &&
				  isnan(m.abs_perc_error_std) && isnan(m.r2));

	/* zero handling of |y| <= eps */
	tds_regression_init(&acc, TDS_ZERO_REPLACE);
	tds_regression_add(&acc, 3.0, 0.0);
	tds_regression_add(&acc, 3.0, 2.0);
	tds_regression_result(&acc, &m);
	test_cond("replace: a zero target's APE is 1", m.mape == 100.0 * (1.0 + 0.5) / 2);
	tds_regression_init(&acc, TDS_ZERO_DROP);
	tds_regression_add(&acc, 3.0, 0.0);
	tds_regression_add(&acc, 3.0, 2.0);
	tds_regression_result(&acc, &m);
	test_cond("drop: a zero target leaves MAPE only", m.mape == 50.0 && m.n == 2 && m.mae == 2.0);
	tds_regression_init(&acc, TDS_ZERO_NONE);
	tds_regression_add(&acc, 3.0, 0.0);
	tds_regression_result(&acc, &m);
	test_cond("none: |e| / eps", m.mape == 100.0 * 3.0 / 2.220446049250313e-16);
	tds_regression_init(&acc, TDS_ZERO_NONE);
	tds_regression_add(&acc, 1.0, -2.0);
	tds_regression_result(&acc, &m);
	test_cond("negative target: max(y, eps), not |y|", m.mape == 100.0 * 3.0 / 2.220446049250313e-16);
	tds_regression_init(&acc, TDS_ZERO_DROP);
	tds_regression_add(&acc, 1.0, 0.0);
	tds_regression_result(&acc, &m);
	test_cond("drop of every row: MAPE NaN", isnan(m.mape) && m.n == 1);

	/* force_finite R2 */
	tds_regression_init(&acc, TDS_ZERO_NONE);
	tds_regression_add(&acc, 4.0, 4.0);
	tds_regression_add(&acc, 4.0, 4.0);
	tds_regression_result(&acc, &m);
	test_cond("constant target, perfect: R2 = 1", m.r2 == 1.0);
	tds_regression_add(&acc, 5.0, 4.0);
	tds_regression_result(&acc, &m);
	test_cond("constant target, errors: R2 = 0", m.r2 == 0.0);

	/* merging into and from empty states */
	tds_regression_init(&other, TDS_ZERO_NONE);
	tds_regression_merge(&other, &acc);
	tds_regression_result(&other, &m);
	test_cond("empty += state copies it", m.n == 3 && m.r2 == 0.0 && m.abs_error_max == 1.0);
	tds_regression_init(&other, TDS_ZERO_NONE);
	tds_regression_merge(&acc, &other);
	tds_regression_result(&acc, &m);
	test_cond("state += empty changes nothing", m.n == 3 && m.abs_error_max == 1.0);
}

/* ------------------------------------------------------------------ */
/* Errors and allocation failure                                       */
/* ------------------------------------------------------------------ */

static void
test_errors(void)
{
	double			 values[3] = { 1, 2, 3 };
	int64_t			 ref[3] = { 2, 0, 1 };
	int64_t			 cur[3] = { 0, 0, 0 };
	tds_drift_column c = { true, false, 3, values, ref, cur, 3, 0 };
	tds_error		 err;
	double			 s = 0;
	size_t			 k;
	double			*p;
	double			*q;

	memset(&err, 0, sizeof(err));
	test_cond("empty current window refused",
			  tds_drift_score(TDS_STATTEST_PSI, &c, &s, &err) == TDS_ERR_INPUT && isnan(s) &&
				  err.status == TDS_ERR_INPUT && strstr(err.message, "empty window") != NULL);
	cur[1] = 4;
	c.n_cur = 3;
	test_cond("counts not adding up refused",
			  tds_drift_score(TDS_STATTEST_KS, &c, &s, &err) == TDS_ERR_INPUT &&
				  strstr(err.detail, "add up") != NULL);
	c.n_cur = 4;
	values[2] = 2;
	test_cond("unsorted values refused",
			  tds_drift_score(TDS_STATTEST_KS, &c, &s, &err) == TDS_ERR_INPUT);
	values[2] = NAN;
	test_cond("non-finite values refused",
			  tds_drift_score(TDS_STATTEST_WASSERSTEIN, &c, &s, &err) == TDS_ERR_INPUT);
	values[2] = 3;
	ref[0] = -1;
	c.n_ref = 0;
	test_cond("negative counts refused",
			  tds_drift_score(TDS_STATTEST_CHISQUARE, &c, &s, &err) == TDS_ERR_INPUT);
	ref[0] = 2;
	c.n_ref = 3;
	test_cond("valid column accepted", tds_drift_score(TDS_STATTEST_KS, &c, &s, &err) == TDS_OK);
	test_cond("unknown test refused",
			  tds_drift_score(TDS_STATTEST_NONE, &c, &s, &err) == TDS_ERR_INPUT);
	c.values = NULL;
	test_cond("numerical test without values refused",
			  tds_drift_score(TDS_STATTEST_KS, &c, &s, &err) == TDS_ERR_INPUT);
	test_cond("binning a numerical column without values refused",
			  tds_binned_shares(&c, &k, &p, &q, NULL, &err) == TDS_ERR_INPUT && p == NULL);
	test_cond("NULL column refused", tds_drift_column_check(NULL, false, &err) == TDS_ERR_INPUT);
}

static long fail_after = -1;

static void *
failing_malloc(size_t size)
{
	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	return malloc(size);
}

static void
test_alloc_failure(void)
{
	static const tdc_allocator failing = { failing_malloc, NULL, free };
	const golden_column		  *g = golden("normal_200_150");
	test_column				   tc;
	tds_error				   err;
	double					   s;
	long					   n;
	int						   t;
	bool					   ok = true;
	bool					   completed;

	column_from_golden(&tc, g);
	tdc_set_allocator(&failing);
	for (t = 1; t < TDS_STATTEST_COUNT; t++)
	{
		if (!tds_stattest_allows((tds_stattest) t, true) && t != TDS_STATTEST_CHISQUARE &&
			t != TDS_STATTEST_Z)
			continue;
		for (n = 0, completed = false; !completed && n < 20; n++)
		{
			tds_status st;

			fail_after = n;
			st = tds_drift_score((tds_stattest) t, &tc.col, &s, &err);
			completed = (st == TDS_OK);
			ok = ok && (st == TDS_OK || (st == TDS_ERR_NOMEM && err.status == TDS_ERR_NOMEM));
		}
		ok = ok && completed;
	}
	fail_after = 0;
	test_cond("kstwo.sf on allocation failure is NaN", isnan(tds_kstwo_sf(0.01, 1000)));
	test_cond("ks p-value on allocation failure is NaN",
			  isnan(tds_ks_2samp_pvalue(0.1, 300, 200)));
	fail_after = -1;
	tdc_set_allocator(NULL);
	test_cond("allocation failures give TDS_ERR_NOMEM, then success", ok);
	column_free(&tc);
}

/* ------------------------------------------------------------------ */
/* The rest of Evidently's catalogue against Evidently                 */
/* ------------------------------------------------------------------ */

static void
column_from_stattest_case(test_column *tc, const stattest_case *g)
{
	golden_column gc;

	memset(&gc, 0, sizeof gc);
	gc.name = g->name;
	gc.numerical = g->numerical;
	gc.integer_dtype = g->integer_dtype;
	gc.ref = g->ref;
	gc.cur = g->cur;
	gc.vm_m = g->vm_m;
	gc.vm_values = g->vm_values;
	gc.vm_ref = g->vm_ref;
	gc.vm_cur = g->vm_cur;
	column_from_golden(tc, &gc);
}

static void
test_stattest_goldens(void)
{
	size_t i;
	size_t j;
	double max_dev[TDS_STATTEST_COUNT] = { 0 };
	int	   count[TDS_STATTEST_COUNT] = { 0 };
	int	   t;

	for (i = 0; i < N_ELEMS(stattest_goldens); i++)
	{
		const stattest_golden *g = &stattest_goldens[i];
		const stattest_case	  *sc = NULL;
		tds_stattest		   test = tds_stattest_from_name(g->test);
		test_column			   tc;
		tds_drift_column	   view;
		tds_error			   err;
		double				   score = NAN;
		tds_status			   st;
		char				   what[160];
		double				   dev;

		for (j = 0; j < N_ELEMS(stattest_cases); j++)
			if (strcmp(stattest_cases[j].name, g->column) == 0)
				sc = &stattest_cases[j];
		snprintf(what, sizeof what, "%s on %s", g->test, g->column);
		if (sc == NULL || test == TDS_STATTEST_NONE)
		{
			test_cond(what, false);
			continue;
		}
		column_from_stattest_case(&tc, sc);
		view = tc.col;
		if (!view.numerical)
			view.values = NULL;
		st = tds_drift_score(test, &view, &score, &err);
		if (g->error)
		{
			if (st == TDS_OK)
				printf("  %s: Evidently raised (%s), we scored %.17g\n", what,
					   g->evidently_error, score);
			test_cond(what, st == TDS_ERR_INPUT);
		}
		else
		{
			bool   pvalue_step = test == TDS_STATTEST_TVD || test == TDS_STATTEST_EMPIRICAL_MMD;
			double tol = pvalue_step ? 0.0 : 1e-12;

			/*
			 * With tied values many permutations give the observed MMD
			 * exactly, and numpy's rounding of its n^2 sums decides each
			 * comparison: there the p-values agree only statistically.
			 */
			if (test == TDS_STATTEST_EMPIRICAL_MMD && view.m < (size_t) (view.n_ref + view.n_cur))
				tol = 0.2;

			if (st != TDS_OK)
				printf("  %s: %s (%s)\n", what, err.message, err.detail);
			dev = deviation_of(score, g->score, true);
			if (dev > max_dev[test])
				max_dev[test] = dev;
			count[test]++;
			if (!(st == TDS_OK && dev <= tol))
				printf("  %s: got %.17g, want %.17g (deviation %.3g)\n", what, score,
					   g->score, dev);
			test_cond(what, st == TDS_OK && dev <= tol);
		}
		column_free(&tc);
	}
	printf("max deviation vs Evidently (p-values absolute, scores relative above 1):\n");
	for (t = 1; t < TDS_STATTEST_COUNT; t++)
		if (count[t] > 0)
			printf("  %-26s %.3g over %d columns\n", tds_stattest_name((tds_stattest) t),
				   max_dev[t], count[t]);
}

static void
test_mt19937(void)
{
	tds_mt19937 mt;
	int64_t		perm[25];
	size_t		i;
	bool		ok = true;

	tds_mt19937_seed(&mt, 0);
	for (i = 0; i < N_ELEMS(golden_mt_randint32); i++)
		ok = ok && tds_mt19937_next32(&mt) == golden_mt_randint32[i];
	test_cond("MT19937 seed 0 draws = numpy's", ok);
	tds_mt19937_seed(&mt, 0);
	tds_mt19937_permutation(&mt, perm, 25);
	ok = true;
	for (i = 0; i < 25; i++)
		ok = ok && perm[i] == golden_mt_permutation_25[i];
	test_cond("np.random.permutation(25) after seed(0)", ok);
}

static void
test_stattest_catalogue(void)
{
	int t;

	for (t = 1; t < TDS_STATTEST_COUNT; t++)
	{
		tds_stattest test = (tds_stattest) t;

		test_cond("name round trip", tds_stattest_from_name(tds_stattest_name(test)) == test);
	}
	test_cond("anderson numerical only", tds_stattest_allows(TDS_STATTEST_ANDERSON, true) &&
											 !tds_stattest_allows(TDS_STATTEST_ANDERSON, false));
	test_cond("TVD categorical only", !tds_stattest_allows(TDS_STATTEST_TVD, true) &&
										  tds_stattest_allows(TDS_STATTEST_TVD, false));
	test_cond("hellinger both", tds_stattest_allows(TDS_STATTEST_HELLINGER, true) &&
									tds_stattest_allows(TDS_STATTEST_HELLINGER, false));
	test_cond("ed drifts above", tds_stattest_drifted(TDS_STATTEST_ED, 0.11, 0.1) &&
									 !tds_stattest_drifted(TDS_STATTEST_ED, 0.1, 0.1));
	test_cond("cramer_von_mises drifts at p = threshold",
			  tds_stattest_drifted(TDS_STATTEST_CRAMER_VON_MISES, 0.1, 0.1));
	test_cond("anderson not at p = threshold", !tds_stattest_drifted(TDS_STATTEST_ANDERSON, 0.1, 0.1));
}

int
main(void)
{
	test_names();
	test_decisions();
	test_choose();
	test_golden_columns();
	test_stattest_catalogue();
	test_mt19937();
	test_stattest_goldens();
	test_golden_edges();
	test_empty_keys_ignored();
	test_key_order();
	test_ks_grid();
	test_special_grids();
	test_regression_goldens();
	test_regression_edges();
	test_errors();
	test_alloc_failure();
	print_deviations();
	test_report();
	return td_tests_failed == 0 ? 0 : 1;
}
