/*
 * tds_stats.h — the statistics library: drift and regression-quality
 * maths with Evidently's semantics.
 *
 * Allowed dependencies: the common library (tdc.h) and the C library
 * (libm).  Never the model or AWS libraries, never PostgreSQL.  Used by the
 * extension's monitoring aggregates only.
 *
 * Files: tds_value_map.c (exact value counts), tds_stattests.c (the column
 * drift tests and Evidently's decision rules), tds_ks.c (the KS p-value),
 * tds_rank_tests.c, tds_count_tests.c, tds_epps_singleton.c, tds_mmd.c (the
 * rest of the catalogue), tds_special.c and tds_special_more.c (special
 * functions), tds_xsum.c (exact sums), tds_regression.c (regression
 * metrics), the text content drift test (tds_text_drift.c, with
 * tds_text_model.c, tds_roc_auc.c, tds_text_tokens.c and the generated
 * tds_text_tables.h), tds_error.c; tds_internal.h and tds_text_internal.h
 * are private.  The extension's aggregates collect, per
 * column, an exact map of distinct values to (reference count, current
 * count) (tds_value_map.c) and hand its sorted contents to the functions
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
#ifndef TDS_STATS_H
#define TDS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdc.h"

/* ------------------------------------------------------------------ */
/* Status codes and errors                                             */
/* ------------------------------------------------------------------ */

typedef enum tds_status
{
	TDS_OK = 0,
	TDS_ERR_NOMEM,	 /* an allocation hook returned NULL */
	TDS_ERR_INPUT,	 /* a statistic cannot be computed from these inputs */
	TDS_ERR_LIMIT,	 /* a value exceeds a bound (a text key too long) */
	TDS_ERR_CANCELED /* a cancel_requested poll said stop */
} tds_status;

/* Errors are the common library's tdc_error; status holds a tds_status. */
typedef tdc_error tds_error;

/* ------------------------------------------------------------------ */
/* Statistical tests                                                   */
/* ------------------------------------------------------------------ */

typedef enum tds_stattest
{
	TDS_STATTEST_NONE = 0,
	TDS_STATTEST_KS,			/* "ks": scipy ks_2samp p-value */
	TDS_STATTEST_CHISQUARE,		/* "chisquare": chi-square p-value */
	TDS_STATTEST_Z,				/* "z": two-proportion z-test p-value */
	TDS_STATTEST_WASSERSTEIN,	/* "wasserstein": W1 / max(std_ref, 0.001) */
	TDS_STATTEST_JENSENSHANNON, /* "jensenshannon": JS distance, natural log */
	TDS_STATTEST_PSI,			/* "psi" */
	TDS_STATTEST_KL_DIV,		/* "kl_div": KL(ref || cur) */
	/* The rest of Evidently's catalogue (tds_rank_tests.c, tds_count_tests.c, tds_mmd.c) */
	TDS_STATTEST_ANDERSON,		   /* "anderson": anderson_ksamp p (capped) */
	TDS_STATTEST_CRAMER_VON_MISES, /* "cramer_von_mises": p-value */
	TDS_STATTEST_ED,			   /* "ed": scipy energy_distance */
	TDS_STATTEST_ES,			   /* "es": epps_singleton_2samp p-value */
	TDS_STATTEST_FISHER_EXACT,	   /* "fisher_exact": two-sided p, binary */
	TDS_STATTEST_G_TEST,		   /* "g_test": power_divergence G p-value */
	TDS_STATTEST_HELLINGER,		   /* "hellinger": Hellinger distance */
	TDS_STATTEST_MANNW,			   /* "mannw": mannwhitneyu "less" p-value */
	TDS_STATTEST_EMPIRICAL_MMD,	   /* "empirical_mmd": permutation p-value */
	TDS_STATTEST_T_TEST,		   /* "t_test": ttest_ind p-value */
	TDS_STATTEST_TVD,			   /* "TVD": permutation p-value of the TVD */
	TDS_STATTEST_PERC_TEXT,		   /* "perc_text_content_drift": ROC AUC (tds_text_drift.c) */
	TDS_STATTEST_ABS_TEXT		   /* "abs_text_content_drift": ROC AUC (tds_text_drift.c) */
} tds_stattest;

#define TDS_STATTEST_COUNT 21

/* Evidently's short name ("ks", ...), or "" for NONE. */
const char *tds_stattest_name(tds_stattest test);

/* Evidently's display name ("K-S p_value", "Wasserstein distance (normed)"...). */
const char *tds_stattest_display_name(tds_stattest test);

/* Parse a short name; TDS_STATTEST_NONE when unknown. */
tds_stattest tds_stattest_from_name(const char *name);

/* Evidently's default threshold for the test (0.05 p-values, 0.1 distances). */
double tds_stattest_default_threshold(tds_stattest test);

/* True for tests whose score is a p-value (drift when small). */
bool tds_stattest_is_pvalue(tds_stattest test);

/*
 * Evidently's decision: ks and cramer_von_mises drift when p <= threshold,
 * the other p-values when p < threshold, ed and abs_text_content_drift when
 * score > threshold, the other distances when score >= threshold.
 * perc_text_content_drift compares with a bound the test itself computes
 * (tds_text_content_drift()): false here.
 */
bool tds_stattest_drifted(tds_stattest test, double score, double threshold);

/*
 * That decision as text ("score <= threshold", "score < threshold",
 * "score >= threshold"; "" for NONE), for reports that show it: the rule is
 * written here only, and every reader takes it from the report.
 */
const char *tds_stattest_rule(tds_stattest test);

/*
 * Whether Evidently registers the test for a numerical (numerical = true) or
 * a categorical column (StatTest.allowed_feature_types); forcing a test on
 * a column type it does not allow is an error in Evidently.  The two text
 * tests allow neither.
 */
bool tds_stattest_allows(tds_stattest test, bool numerical);

/*
 * Evidently's automatic choice (registry.py::_get_default_stattest) from the
 * column type, the cleaned reference row count and the number of distinct
 * values over both windows.
 */
tds_stattest tds_stattest_choose(bool numerical, int64_t n_ref, int64_t n_unique);

/*
 * A column as the tests see it (see the conventions above).  Categorical
 * keys: value-count shares follow the key order given, and the z-test maps
 * the first key counted in either window to 0 — Evidently sorts the keys,
 * so pass them in Python's sort order when a forced z-test may see more
 * than two keys (with two, the p-value does not depend on the order).
 */
typedef struct tds_drift_column
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
} tds_drift_column;

/*
 * The test's score for the column.  TDS_ERR_INPUT when the test cannot be
 * computed (an empty window; a numerical test on a categorical column),
 * with err filled.  ks scores its p-value, wasserstein the normed distance.
 */
tds_status tds_drift_score(tds_stattest test, const tds_drift_column *column,
						   double *score, tds_error *err);

/*
 * Bounds of the tests that are not linear in the distinct values: the
 * empirical MMD sums over pairs of distinct values (O(m^2) per permutation)
 * and refuses more than this many distinct values; the Cramer-von Mises
 * exact p-value (max(n_ref, n_cur) <= 20) is always computed.
 */
#define TDS_MMD_MAX_DISTINCT 2000

/*
 * A free-text column for the text content drift tests: m distinct texts
 * (UTF-8, any order) with their counts in each window.
 */
typedef struct tds_text_column
{
	size_t			   m;
	const char *const *texts;
	const uint32_t	  *lens;
	const int64_t	  *ref;
	const int64_t	  *cur;
	int64_t			   n_ref;
	int64_t			   n_cur;

	/*
	 * Polled in the long loops (tokenizing, every training epoch, every
	 * random classifier); returning true abandons the test with
	 * TDS_ERR_CANCELED.  It must not longjmp.  NULL: never canceled.
	 */
	bool (*cancel_requested)(void *arg);
	void *cancel_arg;
} tds_text_column;

/* The classifier trains on rows, not distinct values: at most this many. */
#define TDS_TEXT_MAX_ROWS 20000000

/*
 * Evidently's text content drift (abs_ or perc_text_content_drift): the
 * ROC AUC of a TF-IDF + SGD domain classifier trained on a seeded half of
 * the rows (each window's rows in text order) and scored on the other,
 * and the drift verdict (AUC > threshold, or for perc_ AUC > the
 * (100 * threshold)th percentile of 1000 random classifiers' AUCs, set
 * in *random_auc_percentile; NaN for abs_).  TDS_ERR_INPUT where scikit-learn raises (no word left after stop words
 * and max_df; a half holding one window only), with err filled.
 */
tds_status tds_text_content_drift(tds_stattest test, const tds_text_column *column,
								  double threshold, double *score, bool *drifted,
								  double *random_auc_percentile, tds_error *err);

/* The individual statistics (score = these; exposed for the aggregates). */
double tds_wasserstein_distance(const tds_drift_column *column); /* W1 */
double tds_reference_std(const tds_drift_column *column);		 /* ddof = 0 */
double tds_ks_statistic(const tds_drift_column *column);		 /* D */
double tds_ks_2samp_pvalue(double d, int64_t n1, int64_t n2);	 /* auto */
double tds_chi2_sf(double x, double df);						 /* chi2.sf */
double tds_normal_sf(double x);									 /* norm.sf */
double tds_energy_distance(const tds_drift_column *column);		 /* scipy */
double tds_student_t_sf(double t, double df);					 /* t.sf */
double tds_bessel_k(double nu, double x);						 /* scipy.special.kv, |nu| <= 0.5, x > 0 */

/*
 * numpy's legacy generator (np.random.seed(seed) then RandomState methods):
 * MT19937 seeded by init_genrand, and the Fisher-Yates shuffle of
 * RandomState.permutation / choice(replace = False).  Exposed for tests.
 */
typedef struct tds_mt19937
{
	uint32_t key[624];
	int		 pos;
} tds_mt19937;

void	 tds_mt19937_seed(tds_mt19937 *state, uint32_t seed);
uint32_t tds_mt19937_next32(tds_mt19937 *state);
/* RandomState.permutation(n) into perm[0..n-1] (n >= 1). */
void tds_mt19937_permutation(tds_mt19937 *state, int64_t *perm, int64_t n);

/*
 * Binned data as Evidently's get_binned_data(feel_zeroes = false): Sturges
 * histogram of the combined data when the column is numerical with more
 * than 20 distinct reference values, otherwise value counts over the union
 * of keys.  *k_out bins; ref_share/cur_share are k fractions each (allocated
 * with the common library's allocation hooks; free with tds_free_binned).  edges (k + 1, NULL for
 * value counts) is returned when edges_out is non-NULL.
 */
tds_status tds_binned_shares(const tds_drift_column *column, size_t *k_out,
							 double **ref_share, double **cur_share,
							 double **edges_out, tds_error *err);
void	   tds_free_binned(double *ref_share, double *cur_share, double *edges);

/* Sturges histogram counts over fixed combined edges (for plots too). */
tds_status tds_sturges_histogram(const tds_drift_column *column, size_t *k_out,
								 double **edges, int64_t **ref_counts,
								 int64_t **cur_counts, tds_error *err);

/* Frees what tds_sturges_histogram returned (NULL pointers are ignored). */
void tds_free_histogram(double *edges, int64_t *ref_counts,
						int64_t *cur_counts);

/*
 * Checks a column against the conventions above: ref/cur present, counts
 * >= 0 summing to n_ref/n_cur, both windows non-empty, and for a numerical
 * column finite values sorted strictly ascending.  tds_drift_score calls it;
 * the individual statistics above assume it passed.  Keys counted in
 * neither window are allowed and ignored by every statistic (value-count
 * shares skip them).
 */
tds_status tds_drift_column_check(const tds_drift_column *column, bool need_values,
								  tds_error *err);

/*
 * tds_ks_2samp_pvalue with error reporting: the exact and Durbin-matrix
 * paths allocate scratch (at most ~0.3 MB) through the common library's allocation hooks, and
 * tds_ks_2samp_pvalue returns NaN when that fails.  TDS_ERR_INPUT for n1 or
 * n2 < 1 or a NaN d.
 */
tds_status tds_ks_2samp_pvalue_checked(double d, int64_t n1, int64_t n2,
									   double *pvalue, tds_error *err);

/* ------------------------------------------------------------------ */
/* Special functions behind the tests (scipy 1.17 / xsf cephes ports)  */
/* ------------------------------------------------------------------ */

double tds_normal_cdf(double x);		 /* scipy.special.ndtr = norm.cdf */
double tds_igamc(double a, double x);	 /* scipy.special.gammaincc */
double tds_smirnov(int64_t n, double x); /* scipy.special.smirnov */
double tds_kstwo_sf(double d, double n); /* scipy.stats.kstwo.sf; NaN
										  * on allocation failure */

/* ------------------------------------------------------------------ */
/* Regression quality                                                  */
/* ------------------------------------------------------------------ */

/* How MAPE treats targets with |y| <= DBL_EPSILON (Evidently >= 0.7.21). */
typedef enum tds_zero_handling
{
	TDS_ZERO_REPLACE = 0, /* the row's APE is 1.0 (current window) */
	TDS_ZERO_DROP,		  /* the row is left out of MAPE (reference) */
	TDS_ZERO_NONE		  /* no special case: |e| / max(y, eps) */
} tds_zero_handling;

/*
 * An exact sum of doubles (tds_xsum.c): fixed-point limbs covering the
 * whole double range, so the sum does not depend on the order of the
 * additions or on how they are split and merged.  Plain data.
 */
#define TDS_XSUM_LIMBS 70

typedef struct tds_xsum
{
	int64_t limb[TDS_XSUM_LIMBS]; /* 32 bits each, bit 0 of limb 0 = 2^-1074 */
	int64_t pending;			  /* additions since carries were propagated */
	int64_t n_nan;				  /* values not added: NaN, +inf, -inf */
	int64_t n_pos_inf;
	int64_t n_neg_inf;
} tds_xsum;

void tds_xsum_init(tds_xsum *x);
void tds_xsum_add(tds_xsum *x, double v);
/* Adds v^2 exactly, as the two doubles hi = v*v and fma(v, v, -hi). */
void tds_xsum_add_square(tds_xsum *x, double v);
void tds_xsum_merge(tds_xsum *into, const tds_xsum *from);
/* a + b for counts (never negative), saturating at INT64_MAX */
int64_t tds_count_add(int64_t a, int64_t b);
/* Propagates the carries: the one representation of the value. */
void tds_xsum_canonical(tds_xsum *x);
/* Whether x is canonical (what tds_xsum_canonical leaves): for bytes read. */
bool tds_xsum_valid(const tds_xsum *x);
/* The sum, rounded once. */
double tds_xsum_value(const tds_xsum *x);
/* S / n; NaN for n <= 0. */
double tds_xsum_mean(const tds_xsum *x, int64_t n);
/* sqrt((n S2 - S1^2) / (n (n - 1))), S2 the sum of the squares; NaN for n < 2. */
double tds_xsum_std(const tds_xsum *s1, const tds_xsum *s2, int64_t n);
/* sqrt(S2 / n). */
double tds_xsum_root_mean(const tds_xsum *s2, int64_t n);
/*
 * 1 - SS_res / SS_tot with SS_tot = S2 - S1^2 / n of the target; sklearn's
 * force_finite for SS_tot = 0 (1 when SS_res = 0, else 0).
 */
double tds_xsum_r2(const tds_xsum *sq_res, const tds_xsum *s1, const tds_xsum *s2, int64_t n);

/*
 * Mergeable accumulator of the regression metrics: exact sums, so that any
 * order and split of the rows gives the same bits.  Plain data; between
 * processes it travels through tds_regression_serialize / _deserialize.
 */
typedef struct tds_regression_acc
{
	int32_t	 zero_handling; /* tds_zero_handling */
	int32_t	 reserved;		/* 0 */
	int64_t	 n;				/* rows with a finite target and prediction */
	int64_t	 n_ape;			/* rows in MAPE */
	double	 abs_error_max;
	tds_xsum error;				/* e = prediction - target */
	tds_xsum abs_error;			/* |e| */
	tds_xsum abs_perc_error;	/* |e| / max(y, eps) */
	tds_xsum target;			/* y */
	tds_xsum sq_error;			/* e^2 (= |e|^2) */
	tds_xsum sq_abs_perc_error; /* ape^2 */
	tds_xsum sq_target;			/* y^2 */
} tds_regression_acc;

typedef struct tds_regression_metrics
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
} tds_regression_metrics;

void tds_regression_init(tds_regression_acc *acc, tds_zero_handling zero_handling);

/* Add one row; rows with a NaN or ±Infinity target or prediction are skipped. */
void tds_regression_add(tds_regression_acc *acc, double prediction, double target);

/* into += from (exact). */
void tds_regression_merge(tds_regression_acc *into, const tds_regression_acc *from);

/* The state as bytes (canonical: the same bytes for the same rows). */
void tds_regression_serialize(const tds_regression_acc *acc, tds_regression_acc *out);

/* Bytes back into a state: TDS_ERR_INPUT unless they are one serialize wrote. */
tds_status tds_regression_deserialize(const void *bytes, size_t len, tds_regression_acc *out,
									  tds_error *error);

/* Metrics; NaN where undefined (n = 0, or a std with n < 2). */
void tds_regression_result(const tds_regression_acc *acc,
						   tds_regression_metrics	*out);

/* ------------------------------------------------------------------ */
/* Value maps: exact per-column value counts                           */
/* ------------------------------------------------------------------ */

/*
 * A value map counts, for every distinct value of a column, how often it
 * occurs in the reference window and in the current window, plus how many
 * values of each window were missing (NULL, NaN, ±Infinity: Evidently drops
 * them all).  It is the whole state of a drift aggregate: maps built by
 * parallel workers are serialized, merged and finally sorted into the
 * tds_drift_column the tests read.  Keys are either numbers (finite doubles,
 * -0 folded into 0) or byte strings; memory is O(distinct values).
 */
typedef struct tds_value_map tds_value_map;

/* Bytes of the longest text key accepted (longer keys: TDS_ERR_LIMIT). */
#define TDS_VALUE_MAP_MAX_TEXT_KEY 65535

/* A new, empty map of number keys or text keys; NULL when out of memory. */
tds_value_map *tds_value_map_create(bool text_keys);
void		   tds_value_map_free(tds_value_map *map);

bool tds_value_map_has_text_keys(const tds_value_map *map);

/*
 * Count a number (NaN and ±Infinity count as missing) or a text value in
 * the reference (reference = true) or current window.  TDS_ERR_NOMEM when
 * the map cannot grow (the map is unchanged), TDS_ERR_INPUT when the key
 * kind does not match the map.
 */
tds_status tds_value_map_add_number(tds_value_map *map, double value, bool reference);
tds_status tds_value_map_add_text(tds_value_map *map, const char *value, size_t len,
								  bool reference);
void	   tds_value_map_add_missing(tds_value_map *map, bool reference);

/* Totals: counted values and missing values per window, distinct keys. */
int64_t tds_value_map_count(const tds_value_map *map, bool reference);
int64_t tds_value_map_missing(const tds_value_map *map, bool reference);
size_t	tds_value_map_distinct(const tds_value_map *map);

/* A copy (NULL when out of memory); a sorted run is copied as it is. */
tds_value_map *tds_value_map_clone(const tds_value_map *map);

/*
 * into += from.  Both maps must have the same key kind.  Two sorted runs
 * (decoded from parallel workers) merge in one linear pass.
 */
tds_status tds_value_map_merge(tds_value_map *into, const tds_value_map *from,
							   tds_error *err);

/*
 * A self-describing byte string (one tdc_malloc block) and back.  Decoding
 * checks every length and count, so any byte string is safe to decode.
 */
tds_status tds_value_map_serialize(const tds_value_map *map, char **out,
								   size_t *len, tds_error *err);
tds_status tds_value_map_deserialize(const char *data, size_t len,
									 tds_value_map **out, tds_error *err);

/*
 * The map as the tests read it.  Number maps give values sorted ascending;
 * text maps give keys in byte order (text_keys_out, when non-NULL, receives
 * pointers into the map and text_lens_out their lengths).  The arrays are
 * one tdc_malloc block each; free them with tds_value_map_free_column.  The
 * column stays valid while the map is neither changed nor freed.
 */
tds_status tds_value_map_column(const tds_value_map *map, bool numerical,
								tds_drift_column *column,
								const char	   ***text_keys_out,
								uint32_t **text_lens_out, tds_error *err);
void	   tds_value_map_free_column(tds_drift_column *column,
									 const char **text_keys, uint32_t *text_lens);

#endif /* TDS_STATS_H */
