/*
 * tds_regression.c — Evidently's regression-quality metrics as a mergeable
 * accumulator (legacy/calculations/regression_performance.py
 * _calculate_quality_metrics, and the r2_score / RMSE of
 * RegressionQualityMetric):
 *
 *   e = prediction - target over rows with a finite target and prediction
 *   mean_error, error_std (ddof 1); MAE, abs_error_std (ddof 1), max |e|
 *   MAPE = 100 mean(|e| / max(y, eps)), abs_perc_error_std (ddof 1), with
 *     Evidently >= 0.7.21's handling of |y| <= eps (replace: APE 1, drop)
 *   RMSE = sqrt(mean(e^2)); R2 = 1 - SS_res / SS_tot with force_finite
 *
 * Means come from Neumaier-compensated sums (pandas sums pairwise), the
 * squared deviations from Welford's update and Chan's merge driven by
 * those means (pandas runs two passes; they agree to ~1e-13 relative).  The state is
 * plain data, so partial aggregates can be copied byte for byte.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "tds_stats.h"

/* np.finfo(np.float64).eps, Evidently's default MAPE epsilon */
#define REG_EPSILON DBL_EPSILON

static void
neumaier_add(double *sum, double *comp, double x)
{
	double t = *sum + x;

	if (!isfinite(t))
	{
		/* inf or NaN: keep it, the compensation stays finite */
		*sum = t;
		return;
	}
	if (fabs(*sum) >= fabs(x))
		*comp += (*sum - t) + x;
	else
		*comp += (x - t) + *sum;
	*sum = t;
}

/* The mean from the compensated sum (closer to pandas than Welford's). */
static double
sum_mean(const tds_moments *m)
{
	return (m->sum + m->sum_comp) / (double) m->n;
}

/*
 * Welford's update of M2, with the running means taken from the
 * compensated sum: M2 += (x - mean_before) (x - mean_after).
 */
static void
moments_add(tds_moments *m, double x)
{
	double before = m->n > 0 ? sum_mean(m) : x;

	m->n++;
	neumaier_add(&m->sum, &m->sum_comp, x);
	m->mean = sum_mean(m);
	m->m2 += (x - before) * (x - m->mean);
}

/* Chan, Golub and LeVeque's pairwise merge; sums are added compensated. */
static void
moments_merge(tds_moments *a, const tds_moments *b)
{
	double n;
	double delta;

	if (b->n == 0)
		return;
	if (a->n == 0)
	{
		*a = *b;
		return;
	}
	n = (double) a->n + (double) b->n;
	delta = sum_mean(b) - sum_mean(a);
	a->m2 += b->m2 + delta * delta * ((double) a->n * (double) b->n / n);
	a->n += b->n;
	neumaier_add(&a->sum, &a->sum_comp, b->sum);
	a->sum_comp += b->sum_comp;
	a->mean = sum_mean(a);
}

static double
moments_mean(const tds_moments *m)
{
	if (m->n <= 0)
		return NAN;
	return sum_mean(m);
}

static double
moments_std1(const tds_moments *m)
{
	if (m->n < 2)
		return NAN;
	return sqrt(fmax(m->m2, 0.0) / (double) (m->n - 1));
}

void
tds_regression_init(tds_regression_acc *acc, tds_zero_handling zero_handling)
{
	memset(acc, 0, sizeof(*acc));
	acc->zero_handling = zero_handling;
	acc->abs_error_max = 0.0;
}

/* The row's absolute percentage error; false when the row is left out. */
static bool
abs_perc_error(tds_zero_handling zh, double abs_error, double target,
			   double *ape)
{
	bool near_zero = !(fabs(target) > REG_EPSILON);

	if (near_zero && zh == TDS_ZERO_DROP)
		return false;
	if (near_zero && zh == TDS_ZERO_REPLACE)
		*ape = 1.0;
	else
		*ape = abs_error / fmax(target, REG_EPSILON);
	return true;
}

void
tds_regression_add(tds_regression_acc *acc, double prediction, double target)
{
	double e;
	double ae;
	double ape;

	if (!isfinite(prediction) || !isfinite(target))
		return;
	e = prediction - target;
	ae = fabs(e);
	moments_add(&acc->error, e);
	moments_add(&acc->abs_error, ae);
	moments_add(&acc->target, target);
	neumaier_add(&acc->sq_error_sum, &acc->sq_error_comp, e * e);
	if (ae > acc->abs_error_max)
		acc->abs_error_max = ae;
	if (abs_perc_error(acc->zero_handling, ae, target, &ape))
		moments_add(&acc->abs_perc_error, ape);
}

void
tds_regression_merge(tds_regression_acc *into, const tds_regression_acc *from)
{
	moments_merge(&into->error, &from->error);
	moments_merge(&into->abs_error, &from->abs_error);
	moments_merge(&into->abs_perc_error, &from->abs_perc_error);
	moments_merge(&into->target, &from->target);
	neumaier_add(&into->sq_error_sum, &into->sq_error_comp, from->sq_error_sum);
	into->sq_error_comp += from->sq_error_comp;
	if (from->abs_error_max > into->abs_error_max)
		into->abs_error_max = from->abs_error_max;
}

/*
 * sklearn r2_score(force_finite=True): NaN below two rows; SS_tot = 0 gives
 * 1 for a perfect prediction, else 0.
 */
static double
r2_force_finite(const tds_regression_acc *acc)
{
	double ss_res = acc->sq_error_sum + acc->sq_error_comp;
	double ss_tot = acc->target.m2;

	if (acc->error.n < 2)
		return NAN;
	if (ss_tot == 0)
		return ss_res == 0 ? 1.0 : 0.0;
	return 1.0 - ss_res / ss_tot;
}

void
tds_regression_result(const tds_regression_acc *acc, tds_regression_metrics *out)
{
	int64_t n = acc->error.n;

	out->n = n;
	out->mean_error = moments_mean(&acc->error);
	out->error_std = moments_std1(&acc->error);
	out->mae = moments_mean(&acc->abs_error);
	out->abs_error_std = moments_std1(&acc->abs_error);
	out->abs_error_max = n > 0 ? acc->abs_error_max : NAN;
	out->mape = 100.0 * moments_mean(&acc->abs_perc_error);
	out->abs_perc_error_std = moments_std1(&acc->abs_perc_error);
	out->rmse = n > 0 ? sqrt((acc->sq_error_sum + acc->sq_error_comp) / (double) n) : NAN;
	out->r2 = r2_force_finite(acc);
}
