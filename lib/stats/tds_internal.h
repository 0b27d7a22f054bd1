/*
 * tds_internal.h — what the statistics library's .c files share and
 * nowhere else: setting errors with the library's standard messages.
 */
#ifndef TDS_INTERNAL_H
#define TDS_INTERNAL_H

#include <math.h>

#include "tds_stats.h"

const char *tds_status_message(tds_status status);
tds_status	tds_error_nomem(tds_error *err);

/* A Neumaier-compensated sum. */
typedef struct ksum
{
	double sum;
	double comp;
} ksum;

static inline void
ksum_add(ksum *s, double x)
{
	double t = s->sum + x;

	if (!isfinite(t))
	{
		/* inf or NaN: keep it, the compensation stays finite */
		s->sum = t;
		return;
	}
	if (fabs(s->sum) >= fabs(x))
		s->comp += (s->sum - t) + x;
	else
		s->comp += (x - t) + s->sum;
	s->sum = t;
}

static inline double
ksum_value(const ksum *s)
{
	return s->sum + s->comp;
}

/* Keys counted in neither window are treated as absent. */
static inline bool
tds_key_present(const tds_drift_column *c, size_t i)
{
	return c->ref[i] != 0 || c->cur[i] != 0;
}

/* TDS_ERR_INPUT with a formatted detail and the drift tests' message. */
tds_status tds_drift_input_error(tds_error *err, const char *fmt, ...) TDC_PRINTF(2, 3);
tds_status tds_drift_nomem(tds_error *err);

/*
 * numpy's Sturges edges (np.histogram_bin_edges(a, "sturges")) for an array
 * of N values spanning the column's present keys, and np.histogram's counts
 * of both windows over given edges (tds_stattests.c).
 */
tds_status tds_sturges_edges_n(const tds_drift_column *c, double N, size_t *k_out,
							   double **edges_out, tds_error *err);
void	   tds_histogram_counts(const tds_drift_column *c, const double *edges, size_t k,
								int64_t *ref_counts, int64_t *cur_counts);

/* The scores of the tests outside tds_stattests.c (column already checked). */
tds_status tds_rank_test_score(tds_stattest test, const tds_drift_column *c,
							   double *score, tds_error *err);
tds_status tds_count_test_score(tds_stattest test, const tds_drift_column *c,
								double *score, tds_error *err);
tds_status tds_mmd_score(const tds_drift_column *c, double *score, tds_error *err);

/* A hash of text for the library's hash tables: FNV-1a, then mixed (tds_value_map.c). */
uint64_t tds_hash_bytes(const char *s, size_t len);

/* numpy's pairwise summation: add.reduce of a contiguous float64 array (tds_count_tests.c). */
double tds_npy_pairwise_sum(const double *a, size_t n);

/*
 * The tokens scikit-learn's TfidfVectorizer (lowercase, r"(?u)\b\w\w+\b",
 * English stop words) takes from one UTF-8 document, in order, handed to
 * emit (tds_text_tokens.c); emit returns false when it cannot keep one.
 * The scratch buffers (zeroed before first use, freed with
 * tds_token_scratch_free) are reused from one document to the next.
 */
typedef bool (*tds_token_fn)(void *arg, const char *token, size_t len);
typedef struct tds_token_scratch
{
	uint32_t *cps;
	uint32_t *low;
	char	 *utf8;
	size_t	  cap;
} tds_token_scratch;
tds_status tds_text_tokens(const char *text, size_t len, tds_token_scratch *scratch,
						   tds_token_fn emit, void *arg, tds_error *err);
void	   tds_token_scratch_free(tds_token_scratch *scratch);

#define tds_error_set(err, status, ...) \
	((void) tdc_error_set((err), (status), tds_status_message(status), __VA_ARGS__))

#endif /* TDS_INTERNAL_H */
