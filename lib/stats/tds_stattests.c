/*
 * tds_stattests.c — Evidently 0.7.x's column drift tests over a value map
 * (tds_drift.h): test names, default thresholds, the automatic choice and
 * the drift decision (legacy/calculations/stattests/registry.py and the
 * *_stattest.py files), and the statistics themselves:
 *
 *   ks            ks_2samp p-value (D here, the p-value in tds_ks.c)
 *   chisquare     _chi_stat_test: scipy chisquare over value counts
 *   z             _z_stat_test: two-proportion z-test, first sorted key = 0
 *   wasserstein   scipy wasserstein_distance / max(np.std(ref), 0.001)
 *   jensenshannon scipy jensenshannon over get_binned_data(feel_zeroes=False)
 *   psi, kl_div   over get_binned_data(feel_zeroes=True)
 *
 * and get_binned_data itself: numpy's Sturges histogram of the combined
 * data (numpy >= 2.1 rules, _histograms_impl.py) when the column is
 * numerical with more than 20 distinct reference values, value counts
 * otherwise.
 *
 * Sums that numpy evaluates pairwise are compensated (Neumaier) here, in key
 * order, so results agree with scipy to a few ulps whatever the key order.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tds_stats.h"
#include "tds_internal.h"

#define STURGES_REF_UNIQUE_MIN 20 /* Sturges when nunique(ref) > 20 */
#define STURGES_MAX_BINS (1 << 20)
#define FEEL_ZEROES_SMALL 0.0001

/* ------------------------------------------------------------------ */
/* Names, thresholds, choice, decision                                 */
/* ------------------------------------------------------------------ */

/* Evidently's comparison of a test's score with its threshold. */
typedef enum drift_comparison
{
	DRIFT_NEVER = 0,
	DRIFT_SCORE_LE,		  /* ks, cramer_von_mises: p <= threshold */
	DRIFT_SCORE_LT,		  /* the other p-values: p < threshold */
	DRIFT_SCORE_GE,		  /* distances: score >= threshold */
	DRIFT_SCORE_GT,		  /* ed, abs_text_content_drift: score > threshold */
	DRIFT_SCORE_GT_RANDOM /* perc_text_content_drift: AUC > random classifiers' percentile */
} drift_comparison;

/*
 * One row per test: registry name, display name, default threshold, whether
 * the score is a p-value, the decision and the allowed column types, each
 * as in the test's legacy/calculations/stattests module (docs/monitoring.md).
 */
typedef struct stattest_info
{
	const char		*name;
	const char		*display_name;
	double			 threshold;
	drift_comparison comparison;
	bool			 pvalue;
	bool			 numerical;	  /* allowed for numerical columns */
	bool			 categorical; /* allowed for categorical columns */
} stattest_info;

#define P_LE DRIFT_SCORE_LE
#define P_LT DRIFT_SCORE_LT
#define D_GE DRIFT_SCORE_GE
#define D_GT DRIFT_SCORE_GT

static const stattest_info stattests[TDS_STATTEST_COUNT] = {
	[TDS_STATTEST_NONE] = { "", "", NAN, DRIFT_NEVER, false, false, false },
	[TDS_STATTEST_KS] = { "ks", "K-S p_value", 0.05, P_LE, true, true, false },
	[TDS_STATTEST_CHISQUARE] = { "chisquare", "chi-square p_value", 0.05, P_LT, true, false, true },
	[TDS_STATTEST_Z] = { "z", "Z-test p_value", 0.05, P_LT, true, false, true },
	[TDS_STATTEST_WASSERSTEIN] = { "wasserstein", "Wasserstein distance (normed)", 0.1, D_GE, false, true, false },
	[TDS_STATTEST_JENSENSHANNON] = { "jensenshannon", "Jensen-Shannon distance", 0.1, D_GE, false, true, true },
	[TDS_STATTEST_PSI] = { "psi", "PSI", 0.1, D_GE, false, true, true },
	[TDS_STATTEST_KL_DIV] = { "kl_div", "Kullback-Leibler divergence", 0.1, D_GE, false, true, true },
	[TDS_STATTEST_ANDERSON] = { "anderson", "Anderson-Darling", 0.1, P_LT, true, true, false },
	[TDS_STATTEST_CRAMER_VON_MISES] = { "cramer_von_mises", "Cramer-von Mises", 0.1, P_LE, true, true, false },
	[TDS_STATTEST_ED] = { "ed", "Energy-distance", 0.1, D_GT, false, true, false },
	[TDS_STATTEST_ES] = { "es", "Epps-Singleton", 0.05, P_LT, true, true, false },
	[TDS_STATTEST_FISHER_EXACT] = { "fisher_exact", "Fisher's Exact test", 0.1, P_LT, true, false, true },
	[TDS_STATTEST_G_TEST] = { "g_test", "g_test", 0.1, P_LT, true, false, true },
	[TDS_STATTEST_HELLINGER] = { "hellinger", "Hellinger distance", 0.1, D_GE, false, true, true },
	[TDS_STATTEST_MANNW] = { "mannw", "Mann-Whitney U-rank test", 0.05, P_LT, true, true, false },
	[TDS_STATTEST_EMPIRICAL_MMD] = { "empirical_mmd", "empirical_mmd", 0.1, P_LT, true, true, false },
	[TDS_STATTEST_T_TEST] = { "t_test", "t_test", 0.05, P_LT, true, true, false },
	[TDS_STATTEST_TVD] = { "TVD", "Total-Variation-Distance", 0.1, P_LT, true, false, true },
	/* text only (tds_text_drift.c): the score is the domain classifier's ROC AUC */
	[TDS_STATTEST_PERC_TEXT] = { "perc_text_content_drift", "Percentile text content drift", 0.95, DRIFT_SCORE_GT_RANDOM, false, false, false },
	[TDS_STATTEST_ABS_TEXT] = { "abs_text_content_drift", "Absolute text content drift", 0.55, D_GT, false, false, false }
};

#undef P_LE
#undef P_LT
#undef D_GE
#undef D_GT

static const stattest_info *
stattest_lookup(tds_stattest test)
{
	if ((int) test < 0 || (int) test >= TDS_STATTEST_COUNT)
		return &stattests[TDS_STATTEST_NONE];
	return &stattests[test];
}

const char *
tds_stattest_name(tds_stattest test)
{
	return stattest_lookup(test)->name;
}

const char *
tds_stattest_display_name(tds_stattest test)
{
	return stattest_lookup(test)->display_name;
}

tds_stattest
tds_stattest_from_name(const char *name)
{
	int i;

	if (name == NULL || name[0] == '\0')
		return TDS_STATTEST_NONE;
	for (i = 1; i < TDS_STATTEST_COUNT; i++)
		if (strcmp(name, stattests[i].name) == 0)
			return (tds_stattest) i;
	return TDS_STATTEST_NONE;
}

double
tds_stattest_default_threshold(tds_stattest test)
{
	return stattest_lookup(test)->threshold;
}

bool
tds_stattest_is_pvalue(tds_stattest test)
{
	return stattest_lookup(test)->pvalue;
}

bool
tds_stattest_allows(tds_stattest test, bool numerical)
{
	const stattest_info *info = stattest_lookup(test);

	return numerical ? info->numerical : info->categorical;
}

static drift_comparison
drift_comparison_of(tds_stattest test)
{
	return stattest_lookup(test)->comparison;
}

bool
tds_stattest_drifted(tds_stattest test, double score, double threshold)
{
	switch (drift_comparison_of(test))
	{
		case DRIFT_SCORE_LE:
			return score <= threshold;
		case DRIFT_SCORE_LT:
			return score < threshold;
		case DRIFT_SCORE_GE:
			return score >= threshold;
		case DRIFT_SCORE_GT:
			return score > threshold;
		case DRIFT_SCORE_GT_RANDOM: /* decided by tds_text_content_drift() */
		case DRIFT_NEVER:
			break;
	}
	return false;
}

const char *
tds_stattest_rule(tds_stattest test)
{
	switch (drift_comparison_of(test))
	{
		case DRIFT_SCORE_LE:
			return "score <= threshold";
		case DRIFT_SCORE_LT:
			return "score < threshold";
		case DRIFT_SCORE_GE:
			return "score >= threshold";
		case DRIFT_SCORE_GT:
			return "score > threshold";
		case DRIFT_SCORE_GT_RANDOM:
			return "score > random classifiers' AUC at the threshold percentile";
		case DRIFT_NEVER:
			break;
	}
	return "";
}

tds_stattest
tds_stattest_choose(bool numerical, int64_t n_ref, int64_t n_unique)
{
	if (n_ref <= 1000)
	{
		if (numerical && n_unique > 5)
			return TDS_STATTEST_KS;
		return n_unique > 2 ? TDS_STATTEST_CHISQUARE : TDS_STATTEST_Z;
	}
	if (numerical && n_unique > 5)
		return TDS_STATTEST_WASSERSTEIN;
	return TDS_STATTEST_JENSENSHANNON;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

#define key_present tds_key_present

/* scipy.special.rel_entr */
static double
rel_entr(double x, double y)
{
	if (isnan(x) || isnan(y))
		return NAN;
	if (x > 0 && y > 0)
		return x * log(x / y);
	if (x == 0 && y >= 0)
		return 0;
	return INFINITY;
}

static double
sum_array(const double *a, size_t k)
{
	ksum   s = { 0, 0 };
	size_t i;

	for (i = 0; i < k; i++)
		ksum_add(&s, a[i]);
	return ksum_value(&s);
}

tds_status
tds_drift_input_error(tds_error *err, const char *fmt, ...)
{
	char	detail[TDC_ERROR_DETAIL_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	tds_error_set(err, TDS_ERR_INPUT, "%s", detail);
	tdc_error_set_message(err, "invalid input to a drift test");
	return TDS_ERR_INPUT;
}

tds_status
tds_drift_nomem(tds_error *err)
{
	tds_error_set(err, TDS_ERR_NOMEM,
				  "An allocation made while computing a drift statistic failed.");
	return TDS_ERR_NOMEM;
}

/* ------------------------------------------------------------------ */
/* Column check                                                        */
/* ------------------------------------------------------------------ */

static tds_status
check_counts(const tds_drift_column *c, tds_error *err)
{
	int64_t r = 0;
	int64_t k = 0;
	size_t	i;

	for (i = 0; i < c->m; i++)
	{
		if (c->ref[i] < 0 || c->cur[i] < 0)
		{
			tds_drift_input_error(err, "Key %zu of the column has a negative count.", i);
			return TDS_ERR_INPUT;
		}
		if (c->ref[i] > INT64_MAX - r || c->cur[i] > INT64_MAX - k)
		{
			tds_drift_input_error(err, "The column's counts overflow.");
			return TDS_ERR_INPUT;
		}
		r += c->ref[i];
		k += c->cur[i];
	}
	if (r != c->n_ref || k != c->n_cur)
	{
		tds_drift_input_error(err, "The column's counts add up to %lld reference and %lld current rows, not the %lld and %lld declared.",
							  (long long) r, (long long) k, (long long) c->n_ref,
							  (long long) c->n_cur);
		return TDS_ERR_INPUT;
	}
	return TDS_OK;
}

static tds_status
check_values(const tds_drift_column *c, tds_error *err)
{
	size_t i;

	if (c->values == NULL)
	{
		tds_drift_input_error(err, "This statistic needs a numerical column with sorted values.");
		return TDS_ERR_INPUT;
	}
	for (i = 0; i < c->m; i++)
	{
		if (!isfinite(c->values[i]))
		{
			tds_drift_input_error(err, "Value %zu of the column is not finite.", i);
			return TDS_ERR_INPUT;
		}
		if (i > 0 && !(c->values[i - 1] < c->values[i]))
		{
			tds_drift_input_error(err, "The column's values are not sorted strictly ascending at key %zu.", i);
			return TDS_ERR_INPUT;
		}
	}
	return TDS_OK;
}

tds_status
tds_drift_column_check(const tds_drift_column *c, bool need_values,
					   tds_error *err)
{
	tds_status st;

	if (c == NULL || (c->m > 0 && (c->ref == NULL || c->cur == NULL)))
	{
		tds_drift_input_error(err, "The column has no counts.");
		return TDS_ERR_INPUT;
	}
	if ((st = check_counts(c, err)) != TDS_OK)
		return st;
	if (c->n_ref <= 0 || c->n_cur <= 0)
	{
		tds_drift_input_error(err, "A drift test needs rows in both windows, got %lld reference and %lld current rows.",
							  (long long) c->n_ref, (long long) c->n_cur);
		tdc_error_set_message(err, "cannot compute drift of an empty window");
		return TDS_ERR_INPUT;
	}
	if (need_values && !c->numerical)
	{
		tds_drift_input_error(err, "This statistic is defined for numerical columns only.");
		return TDS_ERR_INPUT;
	}
	if (c->numerical && (need_values || c->values != NULL))
		return check_values(c, err);
	return TDS_OK;
}

/* ------------------------------------------------------------------ */
/* Numerical statistics: W1, std, KS D                                 */
/* ------------------------------------------------------------------ */

/*
 * scipy _cdf_distance(p = 1): the sum over consecutive distinct values of
 * |R_j / n_r - C_j / n_c| (x_{j+1} - x_j), u = reference, v = current.
 */
double
tds_wasserstein_distance(const tds_drift_column *c)
{
	ksum	s = { 0, 0 };
	int64_t R = 0;
	int64_t C = 0;
	double	nr = (double) c->n_ref;
	double	nc = (double) c->n_cur;
	double	prev = 0;
	bool	have_prev = false;
	size_t	i;

	if (c->n_ref <= 0 || c->n_cur <= 0 || c->values == NULL)
		return NAN;
	for (i = 0; i < c->m; i++)
	{
		if (!key_present(c, i))
			continue;
		if (have_prev)
			ksum_add(&s, fabs((double) R / nr - (double) C / nc) *
							 (c->values[i] - prev));
		R += c->ref[i];
		C += c->cur[i];
		prev = c->values[i];
		have_prev = true;
	}
	return ksum_value(&s);
}

/*
 * Population std of the reference window, two passes as pandas does; each
 * x * count is added exactly (fma error term) to the compensated sum.
 */
double
tds_reference_std(const tds_drift_column *c)
{
	ksum   s = { 0, 0 };
	ksum   ss = { 0, 0 };
	double n = (double) c->n_ref;
	double mean;
	size_t i;

	if (c->n_ref <= 0 || c->values == NULL)
		return NAN;
	for (i = 0; i < c->m; i++)
	{
		double cnt = (double) c->ref[i];
		double p;

		if (c->ref[i] == 0)
			continue;
		p = c->values[i] * cnt;
		ksum_add(&s, p);
		ksum_add(&s, fma(c->values[i], cnt, -p));
	}
	mean = ksum_value(&s) / n;
	for (i = 0; i < c->m; i++)
	{
		double d;

		if (c->ref[i] == 0)
			continue;
		d = c->values[i] - mean;
		ksum_add(&ss, d * d * (double) c->ref[i]);
	}
	return sqrt(ksum_value(&ss) / n);
}

/* D = max_j |R_j / n_r - C_j / n_c| over the sorted keys (ks_2samp). */
double
tds_ks_statistic(const tds_drift_column *c)
{
	int64_t R = 0;
	int64_t C = 0;
	double	d = 0;
	size_t	i;

	if (c->n_ref <= 0 || c->n_cur <= 0)
		return NAN;
	for (i = 0; i < c->m; i++)
	{
		double diff;

		if (!key_present(c, i))
			continue;
		R += c->ref[i];
		C += c->cur[i];
		diff = fabs((double) R / (double) c->n_ref -
					(double) C / (double) c->n_cur);
		if (diff > d)
			d = diff;
	}
	return d;
}

static double
wasserstein_normed(const tds_drift_column *c)
{
	double norm = tds_reference_std(c);

	if (!(norm >= 0.001))
		norm = 0.001;
	return tds_wasserstein_distance(c) / norm;
}

/* ------------------------------------------------------------------ */
/* Categorical statistics: chi-square, z                               */
/* ------------------------------------------------------------------ */

/*
 * scipy.stats.chisquare(f_obs = cur, f_exp = ref * n_c / n_r): Pearson's
 * statistic, p = chdtrc(K - 1, stat).  A key absent from the reference has
 * f_exp = 0, stat = inf, p = 0.  A single key gives df = 0: NaN when the
 * statistic is exactly 0, else 0 (scipy's chdtrc(0, x)).
 */
static double
chisquare_pvalue(const tds_drift_column *c)
{
	ksum	s = { 0, 0 };
	double	k_norm = (double) c->n_cur / (double) c->n_ref;
	int64_t keys = 0;
	size_t	i;

	for (i = 0; i < c->m; i++)
	{
		double e;
		double o;

		if (!key_present(c, i))
			continue;
		keys++;
		e = (double) c->ref[i] * k_norm;
		o = (double) c->cur[i];
		/* e = 0 < o: a key only in current, an infinite term */
		ksum_add(&s, e == 0 ? INFINITY : (o - e) * (o - e) / e);
	}
	return tds_chi2_sf(ksum_value(&s), (double) (keys - 1));
}

/* The one key a window holds, or -1 when it holds none or several. */
static int64_t
single_key(const int64_t *counts, const tds_drift_column *c)
{
	int64_t found = -1;
	size_t	i;

	for (i = 0; i < c->m; i++)
	{
		if (counts[i] == 0)
			continue;
		if (found >= 0)
			return -1;
		found = (int64_t) i;
	}
	return found;
}

/*
 * _z_stat_test: p = 1 if both windows hold the same single value;
 * otherwise the first key (sorted keys; as given for a categorical column)
 * maps to 0, every other key to 1, and p = 2 (1 - Phi(|z|)) for the pooled
 * two-proportion z statistic.
 */
static double
z_pvalue(const tds_drift_column *c)
{
	int64_t r1 = single_key(c->ref, c);
	int64_t c1 = single_key(c->cur, c);
	size_t	first = 0;
	double	n1 = (double) c->n_ref;
	double	n2 = (double) c->n_cur;
	double	p1;
	double	p2;
	double	P;
	double	z;

	if (r1 >= 0 && r1 == c1)
		return 1.0;
	while (first < c->m && !key_present(c, first))
		first++;
	p1 = (double) (c->n_ref - c->ref[first]) / n1;
	p2 = (double) (c->n_cur - c->cur[first]) / n2;
	P = (p1 * n1 + p2 * n2) / (double) (c->n_ref + c->n_cur);
	z = (p1 - p2) / sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2));
	return 2 * (1 - tds_normal_cdf(fabs(z)));
}

/* ------------------------------------------------------------------ */
/* Sturges histogram                                                   */
/* ------------------------------------------------------------------ */

/* First and last keys counted in either window (the combined min, max). */
static bool
present_range(const tds_drift_column *c, double *lo, double *hi)
{
	size_t i;
	bool   any = false;

	for (i = 0; i < c->m; i++)
	{
		if (!key_present(c, i))
			continue;
		if (!any)
			*lo = c->values[i];
		*hi = c->values[i];
		any = true;
	}
	return any;
}

/*
 * Bin count of np.histogram_bin_edges(combined, "sturges"), numpy >= 2.1:
 * width = ptp / (log2(N) + 1), at least 1 for an integer dtype, and
 * k = ceil((last - first) / width); a zero range is widened to +-0.5.
 */
static double
sturges_bins(const tds_drift_column *c, double N, double lo, double hi,
			 double *first, double *last)
{
	double width;

	*first = lo;
	*last = hi;
	if (*first == *last)
	{
		*first = *first - 0.5;
		*last = *last + 0.5;
	}
	width = (hi - lo) / (log2(N) + 1.0);
	if (width == 0)
		return 1;
	if (c->integer_dtype && width < 1)
		width = 1;
	return ceil((*last - *first) / width);
}

/*
 * np.linspace(first, last, k + 1, endpoint=True): i * step + first.  The
 * volatile keeps a compiler from fusing that into one fma, which would move
 * edges by an ulp and values lying on them to another bin than numpy's.
 */
static void
linspace_edges(double first, double last, size_t k, double *edges)
{
	double delta = last - first;
	double step = delta / (double) k;
	size_t i;

	for (i = 0; i <= k; i++)
	{
		volatile double y = (double) i;

		if (step == 0)
			y = y / (double) k * delta;
		else
			y = y * step;
		edges[i] = y + first;
	}
	edges[k] = last;
}

/*
 * np.histogram(window, edges): bin i holds edges[i] <= x < edges[i + 1], the
 * last bin also x = edges[k].  Keys ascend, so one merge pass suffices.
 */
void
tds_histogram_counts(const tds_drift_column *c, const double *edges, size_t k,
					 int64_t *ref_counts, int64_t *cur_counts)
{
	size_t bin = 0;
	size_t i;

	for (i = 0; i < c->m; i++)
	{
		double x = c->values[i];

		if (!key_present(c, i) || x < edges[0] || x > edges[k])
			continue;
		while (bin + 1 < k && x >= edges[bin + 1])
			bin++;
		ref_counts[bin] += c->ref[i];
		cur_counts[bin] += c->cur[i];
	}
}

void
tds_free_histogram(double *edges, int64_t *ref_counts, int64_t *cur_counts)
{
	tdc_free(edges);
	tdc_free(ref_counts);
	tdc_free(cur_counts);
}

/* Edges of k bins; TDS_ERR_INPUT when numpy would refuse them. */
tds_status
tds_sturges_edges_n(const tds_drift_column *c, double N, size_t *k_out,
					double **edges_out, tds_error *err)
{
	double	lo = 0;
	double	hi = 0;
	double	first;
	double	last;
	double	kd;
	double *edges;
	size_t	k;
	size_t	i;

	if (!present_range(c, &lo, &hi))
	{
		tds_drift_input_error(err, "The column has no rows to bin.");
		return TDS_ERR_INPUT;
	}
	kd = sturges_bins(c, N, lo, hi, &first, &last);
	if (!(kd >= 1 && kd <= STURGES_MAX_BINS))
	{
		tds_drift_input_error(err, "The Sturges rule gives %g bins for the range [%g, %g].",
							  kd, lo, hi);
		return TDS_ERR_INPUT;
	}
	k = (size_t) kd;
	edges = tdc_malloc((k + 1) * sizeof(double));
	if (edges == NULL)
		return tds_drift_nomem(err);
	linspace_edges(first, last, k, edges);
	for (i = 0; i < k; i++)
		if (!(edges[i] < edges[i + 1]))
		{
			tdc_free(edges);
			tds_drift_input_error(err, "Too many bins (%zu) for the data range [%.17g, %.17g].",
								  k, lo, hi);
			return TDS_ERR_INPUT;
		}
	*k_out = k;
	*edges_out = edges;
	return TDS_OK;
}

tds_status
tds_sturges_histogram(const tds_drift_column *c, size_t *k_out, double **edges,
					  int64_t **ref_counts, int64_t **cur_counts, tds_error *err)
{
	tds_status st;
	size_t	   k;
	double	  *e;
	int64_t	  *rc;
	int64_t	  *cc;

	*edges = NULL;
	*ref_counts = NULL;
	*cur_counts = NULL;
	*k_out = 0;
	if ((st = tds_drift_column_check(c, true, err)) != TDS_OK)
		return st;
	if ((st = tds_sturges_edges_n(c, (double) c->n_ref + (double) c->n_cur, &k,
								  &e, err)) != TDS_OK)
		return st;
	rc = tdc_calloc_array(k, sizeof(int64_t));
	cc = tdc_calloc_array(k, sizeof(int64_t));
	if (rc == NULL || cc == NULL)
	{
		tds_free_histogram(e, rc, cc);
		return tds_drift_nomem(err);
	}
	tds_histogram_counts(c, e, k, rc, cc);
	*k_out = k;
	*edges = e;
	*ref_counts = rc;
	*cur_counts = cc;
	return TDS_OK;
}

/* ------------------------------------------------------------------ */
/* get_binned_data                                                     */
/* ------------------------------------------------------------------ */

void
tds_free_binned(double *ref_share, double *cur_share, double *edges)
{
	tdc_free(ref_share);
	tdc_free(cur_share);
	tdc_free(edges);
}

static size_t
count_keys(const tds_drift_column *c, bool ref_only)
{
	size_t n = 0;
	size_t i;

	for (i = 0; i < c->m; i++)
		if (ref_only ? c->ref[i] != 0 : key_present(c, i))
			n++;
	return n;
}

/* Sturges shares: count / len(window) over the combined edges. */
static tds_status
binned_sturges(const tds_drift_column *c, size_t *k_out, double *rs_out[2],
			   double **edges_out, tds_error *err)
{
	int64_t	  *rc;
	int64_t	  *cc;
	double	  *edges;
	size_t	   k;
	size_t	   i;
	tds_status st;

	st = tds_sturges_histogram(c, &k, &edges, &rc, &cc, err);
	if (st != TDS_OK)
		return st;
	rs_out[0] = tdc_calloc_array(k, sizeof(double));
	rs_out[1] = tdc_calloc_array(k, sizeof(double));
	if (rs_out[0] == NULL || rs_out[1] == NULL)
	{
		tds_free_histogram(edges, rc, cc);
		tds_free_binned(rs_out[0], rs_out[1], NULL);
		return tds_drift_nomem(err);
	}
	for (i = 0; i < k; i++)
	{
		rs_out[0][i] = (double) rc[i] / (double) c->n_ref;
		rs_out[1][i] = (double) cc[i] / (double) c->n_cur;
	}
	tds_free_histogram(NULL, rc, cc);
	*k_out = k;
	*edges_out = edges;
	return TDS_OK;
}

/* Value-count shares over the keys present in either window, in key order. */
static tds_status
binned_counts(const tds_drift_column *c, size_t *k_out, double *rs_out[2],
			  tds_error *err)
{
	size_t k = count_keys(c, false);
	size_t i;
	size_t j = 0;

	rs_out[0] = tdc_calloc_array(k, sizeof(double));
	rs_out[1] = tdc_calloc_array(k, sizeof(double));
	if (rs_out[0] == NULL || rs_out[1] == NULL)
	{
		tds_free_binned(rs_out[0], rs_out[1], NULL);
		return tds_drift_nomem(err);
	}
	for (i = 0; i < c->m; i++)
	{
		if (!key_present(c, i))
			continue;
		rs_out[0][j] = (double) c->ref[i] / (double) c->n_ref;
		rs_out[1][j] = (double) c->cur[i] / (double) c->n_cur;
		j++;
	}
	*k_out = k;
	return TDS_OK;
}

tds_status
tds_binned_shares(const tds_drift_column *c, size_t *k_out, double **ref_share,
				  double **cur_share, double **edges_out, tds_error *err)
{
	double	  *rs[2] = { NULL, NULL };
	double	  *edges = NULL;
	size_t	   k = 0;
	tds_status st;

	*k_out = 0;
	*ref_share = NULL;
	*cur_share = NULL;
	if (edges_out != NULL)
		*edges_out = NULL;
	if ((st = tds_drift_column_check(c, false, err)) != TDS_OK)
		return st;
	if (c->numerical && c->values == NULL)
		return check_values(c, err);
	if (c->numerical && count_keys(c, true) > STURGES_REF_UNIQUE_MIN)
		st = binned_sturges(c, &k, rs, &edges, err);
	else
		st = binned_counts(c, &k, rs, err);
	if (st != TDS_OK)
		return st;
	*k_out = k;
	*ref_share = rs[0];
	*cur_share = rs[1];
	if (edges_out != NULL)
		*edges_out = edges;
	else
		tdc_free(edges);
	return TDS_OK;
}

/* ------------------------------------------------------------------ */
/* JS, PSI, KL                                                         */
/* ------------------------------------------------------------------ */

/*
 * get_binned_data's feel_zeroes: zero shares become 0.0001, or the smallest
 * non-zero share / 10^6 when that is at most 0.0001.
 */
static void
feel_zeroes(double *a, size_t k)
{
	double min_nonzero = INFINITY;
	double fill;
	size_t i;

	for (i = 0; i < k; i++)
		if (a[i] != 0 && a[i] < min_nonzero)
			min_nonzero = a[i];
	if (isinf(min_nonzero))
		return;
	fill = min_nonzero <= FEEL_ZEROES_SMALL ? min_nonzero / 1e6 : FEEL_ZEROES_SMALL;
	for (i = 0; i < k; i++)
		if (a[i] == 0)
			a[i] = fill;
}

/* scipy.spatial.distance.jensenshannon(p, q), natural log. */
static double
jensenshannon(const double *p, const double *q, size_t k)
{
	double sp = sum_array(p, k);
	double sq = sum_array(q, k);
	ksum   left = { 0, 0 };
	ksum   right = { 0, 0 };
	size_t i;

	for (i = 0; i < k; i++)
	{
		double pi = p[i] / sp;
		double qi = q[i] / sq;
		double m = (pi + qi) / 2.0;

		ksum_add(&left, rel_entr(pi, m));
		ksum_add(&right, rel_entr(qi, m));
	}
	return sqrt((ksum_value(&left) + ksum_value(&right)) / 2.0);
}

/* Evidently's psi: sum (p - q) ln(p / q), no renormalisation. */
static double
psi(const double *p, const double *q, size_t k)
{
	ksum   s = { 0, 0 };
	size_t i;

	for (i = 0; i < k; i++)
		ksum_add(&s, (p[i] - q[i]) * log(p[i] / q[i]));
	return ksum_value(&s);
}

/* scipy.stats.entropy(p, q): both renormalised, sum p ln(p / q). */
static double
kl_div(const double *p, const double *q, size_t k)
{
	double sp = sum_array(p, k);
	double sq = sum_array(q, k);
	ksum   s = { 0, 0 };
	size_t i;

	for (i = 0; i < k; i++)
		ksum_add(&s, rel_entr(p[i] / sp, q[i] / sq));
	return ksum_value(&s);
}

static tds_status
binned_score(tds_stattest test, const tds_drift_column *c, double *score,
			 tds_error *err)
{
	double	  *p;
	double	  *q;
	size_t	   k;
	tds_status st;

	st = tds_binned_shares(c, &k, &p, &q, NULL, err);
	if (st != TDS_OK)
		return st;
	if (test == TDS_STATTEST_JENSENSHANNON)
		*score = jensenshannon(p, q, k);
	else
	{
		feel_zeroes(p, k);
		feel_zeroes(q, k);
		*score = test == TDS_STATTEST_PSI ? psi(p, q, k) : kl_div(p, q, k);
	}
	tds_free_binned(p, q, NULL);
	return TDS_OK;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

tds_status
tds_drift_score(tds_stattest test, const tds_drift_column *c, double *score,
				tds_error *err)
{
	bool need_values = stattest_lookup(test)->numerical &&
					   !stattest_lookup(test)->categorical;
	tds_status st;

	*score = NAN;
	if ((st = tds_drift_column_check(c, need_values, err)) != TDS_OK)
		return st;
	switch (test)
	{
		case TDS_STATTEST_KS:
			return tds_ks_2samp_pvalue_checked(tds_ks_statistic(c), c->n_ref,
											   c->n_cur, score, err);
		case TDS_STATTEST_CHISQUARE:
			*score = chisquare_pvalue(c);
			return TDS_OK;
		case TDS_STATTEST_Z:
			*score = z_pvalue(c);
			return TDS_OK;
		case TDS_STATTEST_WASSERSTEIN:
			*score = wasserstein_normed(c);
			return TDS_OK;
		case TDS_STATTEST_JENSENSHANNON:
		case TDS_STATTEST_PSI:
		case TDS_STATTEST_KL_DIV:
			return binned_score(test, c, score, err);
		case TDS_STATTEST_ANDERSON:
		case TDS_STATTEST_CRAMER_VON_MISES:
		case TDS_STATTEST_ED:
		case TDS_STATTEST_ES:
		case TDS_STATTEST_MANNW:
		case TDS_STATTEST_T_TEST:
			return tds_rank_test_score(test, c, score, err);
		case TDS_STATTEST_FISHER_EXACT:
		case TDS_STATTEST_G_TEST:
		case TDS_STATTEST_HELLINGER:
		case TDS_STATTEST_TVD:
			return tds_count_test_score(test, c, score, err);
		case TDS_STATTEST_EMPIRICAL_MMD:
			return tds_mmd_score(c, score, err);
		case TDS_STATTEST_PERC_TEXT:
		case TDS_STATTEST_ABS_TEXT:
			return tds_drift_input_error(err, "Text content drift needs the column's texts: it is computed by tds_text_content_drift(), not from value counts.");
		case TDS_STATTEST_NONE:
			break;
	}
	tds_drift_input_error(err, "Unknown drift test %d.", (int) test);
	return TDS_ERR_INPUT;
}
