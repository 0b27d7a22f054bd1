/*
 * td_drift.h — drift and regression-quality maths with Evidently's semantics.
 *
 * Pure C, no PostgreSQL headers.  The extension's aggregates collect, per
 * column, an exact map of distinct values to (reference count, current
 * count) (td_value_map.c) and hand its sorted contents to the functions
 * below in their final step.  Every statistic reproduces Evidently 0.7.x
 * (legacy/calculations/stattests over scipy) — see
 * docs/monitoring.md for the formulas and the sources followed.
 *
 * Conventions: a "column" is m distinct keys with per-key counts in the
 * reference (ref[i]) and current (cur[i]) windows, NaN and ±Infinity
 * already removed.  For a numerical column values[i] holds the keys sorted
 * strictly ascending; for a categorical column values is NULL (the key
 * order is irrelevant to every categorical statistic).
 */
#ifndef TD_DRIFT_H
#define TD_DRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_core.h"

/* ------------------------------------------------------------------ */
/* Statistical tests                                                   */
/* ------------------------------------------------------------------ */

typedef enum td_stattest
{
	TD_STATTEST_NONE = 0,
	TD_STATTEST_KS,			   /* "ks": scipy ks_2samp p-value */
	TD_STATTEST_CHISQUARE,	   /* "chisquare": chi-square p-value */
	TD_STATTEST_Z,			   /* "z": two-proportion z-test p-value */
	TD_STATTEST_WASSERSTEIN,   /* "wasserstein": W1 / max(std_ref, 0.001) */
	TD_STATTEST_JENSENSHANNON, /* "jensenshannon": JS distance, natural log */
	TD_STATTEST_PSI,		   /* "psi" */
	TD_STATTEST_KL_DIV		   /* "kl_div": KL(ref || cur) */
} td_stattest;

#define TD_STATTEST_COUNT 8

/* Evidently's short name ("ks", ...), or "" for NONE. */
const char *td_stattest_name(td_stattest test);

/* Evidently's display name ("K-S p_value", "Wasserstein distance (normed)"...). */
const char *td_stattest_display_name(td_stattest test);

/* Parse a short name; TD_STATTEST_NONE when unknown. */
td_stattest td_stattest_from_name(const char *name);

/* Evidently's default threshold for the test (0.05 p-values, 0.1 distances). */
double td_stattest_default_threshold(td_stattest test);

/* True for tests whose score is a p-value (drift when small). */
bool td_stattest_is_pvalue(td_stattest test);

/*
 * Evidently's decision: ks drifts when p <= threshold, chisquare and z when
 * p < threshold, distances when score >= threshold.
 */
bool td_stattest_drifted(td_stattest test, double score, double threshold);

/*
 * Evidently's automatic choice (registry.py::_get_default_stattest) from the
 * column type, the cleaned reference row count and the number of distinct
 * values over both windows.
 */
td_stattest td_stattest_choose(bool numerical, int64_t n_ref, int64_t n_unique);

/*
 * A column as the tests see it (see the conventions above).  Categorical
 * keys: value-count shares follow the key order given, and the z-test maps
 * the first key counted in either window to 0 — Evidently sorts the keys,
 * so pass them in Python's sort order when a forced z-test may see more
 * than two keys (with two, the p-value does not depend on the order).
 */
typedef struct td_drift_column
{
	bool numerical;		   /* numerical (values sorted) or categorical */
	bool integer_dtype;	   /* numerical with an integer dtype and no
							* missing value (numpy's Sturges clamp) */
	size_t		   m;	   /* distinct keys over both windows */
	const double  *values; /* m sorted keys, or NULL when categorical */
	const int64_t *ref;	   /* m reference counts */
	const int64_t *cur;	   /* m current counts */
	int64_t		   n_ref;  /* sum of ref[] */
	int64_t		   n_cur;  /* sum of cur[] */
} td_drift_column;

/*
 * The test's score for the column.  TD_ERR_INPUT when the test cannot be
 * computed (an empty window; a numerical test on a categorical column),
 * with err filled.  ks scores its p-value, wasserstein the normed distance.
 */
td_status td_drift_score(td_stattest test, const td_drift_column *column,
						 double *score, td_error *err);

/* The individual statistics (score = these; exposed for the aggregates). */
double td_wasserstein_distance(const td_drift_column *column); /* W1 */
double td_reference_std(const td_drift_column *column);		   /* ddof = 0 */
double td_ks_statistic(const td_drift_column *column);		   /* D */
double td_ks_2samp_pvalue(double d, int64_t n1, int64_t n2);   /* auto */
double td_chi2_sf(double x, double df);						   /* chi2.sf */
double td_normal_sf(double x);								   /* norm.sf */

/*
 * Binned data as Evidently's get_binned_data(feel_zeroes = false): Sturges
 * histogram of the combined data when the column is numerical with more
 * than 20 distinct reference values, otherwise value counts over the union
 * of keys.  *k_out bins; ref_share/cur_share are k fractions each (allocated
 * with the core's hook; free with td_free_binned).  edges (k + 1, NULL for
 * value counts) is returned when edges_out is non-NULL.
 */
td_status td_binned_shares(const td_drift_column *column, size_t *k_out,
						   double **ref_share, double **cur_share,
						   double **edges_out, td_error *err);
void	  td_free_binned(double *ref_share, double *cur_share, double *edges);

/* Sturges histogram counts over fixed combined edges (for plots too). */
td_status td_sturges_histogram(const td_drift_column *column, size_t *k_out,
							   double **edges, int64_t **ref_counts,
							   int64_t **cur_counts, td_error *err);

/* Frees what td_sturges_histogram returned (NULL pointers are ignored). */
void td_free_histogram(double *edges, int64_t *ref_counts,
					   int64_t *cur_counts);

/*
 * Checks a column against the conventions above: ref/cur present, counts
 * >= 0 summing to n_ref/n_cur, both windows non-empty, and for a numerical
 * column finite values sorted strictly ascending.  td_drift_score calls it;
 * the individual statistics above assume it passed.  Keys counted in
 * neither window are allowed and ignored by every statistic (value-count
 * shares skip them).
 */
td_status td_drift_column_check(const td_drift_column *column, bool need_values,
								td_error *err);

/*
 * td_ks_2samp_pvalue with error reporting: the exact and Durbin-matrix
 * paths allocate scratch (at most ~0.3 MB) through the core's hook, and
 * td_ks_2samp_pvalue returns NaN when that fails.  TD_ERR_INPUT for n1 or
 * n2 < 1 or a NaN d.
 */
td_status td_ks_2samp_pvalue_checked(double d, int64_t n1, int64_t n2,
									 double *pvalue, td_error *err);

/* ------------------------------------------------------------------ */
/* Special functions behind the tests (scipy 1.17 / xsf cephes ports)  */
/* ------------------------------------------------------------------ */

double td_normal_cdf(double x);			/* scipy.special.ndtr = norm.cdf */
double td_igamc(double a, double x);	/* scipy.special.gammaincc */
double td_smirnov(int64_t n, double x); /* scipy.special.smirnov */
double td_kstwo_sf(double d, double n); /* scipy.stats.kstwo.sf; NaN
										 * on allocation failure */

/* ------------------------------------------------------------------ */
/* Regression quality                                                  */
/* ------------------------------------------------------------------ */

/* How MAPE treats targets with |y| <= DBL_EPSILON (Evidently >= 0.7.21). */
typedef enum td_zero_handling
{
	TD_ZERO_REPLACE = 0, /* the row's APE is 1.0 (current window) */
	TD_ZERO_DROP,		 /* the row is left out of MAPE (reference) */
	TD_ZERO_NONE		 /* no special case: |e| / max(y, eps) */
} td_zero_handling;

/*
 * Mergeable, exact-as-pandas accumulator.  Plain data (no pointers): it can
 * be copied byte for byte between processes of the same build.
 */
typedef struct td_moments
{
	int64_t n;
	double	mean;
	double	m2;
	double	sum; /* compensated sum (Neumaier) */
	double	sum_comp;
} td_moments;

typedef struct td_regression_acc
{
	td_zero_handling zero_handling;
	td_moments		 error;			 /* e = prediction - target */
	td_moments		 abs_error;		 /* |e| */
	td_moments		 abs_perc_error; /* |e| / max(y, eps) */
	td_moments		 target;		 /* y */
	double			 sq_error_sum;	 /* sum of e^2, compensated */
	double			 sq_error_comp;
	double			 abs_error_max;
} td_regression_acc;

typedef struct td_regression_metrics
{
	int64_t n; /* rows used (finite target and prediction) */
	double	mean_error;
	double	error_std; /* ddof = 1 */
	double	mae;
	double	abs_error_std; /* ddof = 1 */
	double	abs_error_max;
	double	mape;				/* percent */
	double	abs_perc_error_std; /* ddof = 1, a fraction (not x100) */
	double	rmse;
	double	r2; /* force_finite */
} td_regression_metrics;

void td_regression_init(td_regression_acc *acc, td_zero_handling zero_handling);

/* Add one row; rows with a NaN or ±Infinity target or prediction are skipped. */
void td_regression_add(td_regression_acc *acc, double prediction, double target);

/* into += from (Chan's merge, compensated sums added). */
void td_regression_merge(td_regression_acc *into, const td_regression_acc *from);

/* Metrics; NaN where undefined (n = 0, or a std with n < 2). */
void td_regression_result(const td_regression_acc *acc,
						  td_regression_metrics	  *out);

#endif /* TD_DRIFT_H */
