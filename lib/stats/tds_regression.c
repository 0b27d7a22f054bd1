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
 * Every mean, std, RMSE and R2 comes from exact sums of the values and of
 * their squares (tds_xsum.c), so the result depends only on the multiset
 * of rows: any scan order and any split between parallel workers give the
 * same bits.  The moments are exact up to their last rounding; pandas'
 * two-pass float64 results agree to ~1e-15 relative.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "tds_internal.h"

/* np.finfo(np.float64).eps, Evidently's default MAPE epsilon */
#define REG_EPSILON DBL_EPSILON

void
tds_regression_init(tds_regression_acc *acc, tds_zero_handling zero_handling)
{
	memset(acc, 0, sizeof(*acc));
	acc->zero_handling = (int32_t) zero_handling;
	acc->abs_error_max = 0.0;
	tds_xsum_init(&acc->error);
	tds_xsum_init(&acc->abs_error);
	tds_xsum_init(&acc->abs_perc_error);
	tds_xsum_init(&acc->target);
	tds_xsum_init(&acc->sq_error);
	tds_xsum_init(&acc->sq_abs_perc_error);
	tds_xsum_init(&acc->sq_target);
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
	acc->n = tds_count_add(acc->n, 1);
	tds_xsum_add(&acc->error, e);
	tds_xsum_add(&acc->abs_error, ae);
	tds_xsum_add(&acc->target, target);
	tds_xsum_add_square(&acc->sq_error, e);
	tds_xsum_add_square(&acc->sq_target, target);
	if (ae > acc->abs_error_max)
		acc->abs_error_max = ae;
	if (abs_perc_error((tds_zero_handling) acc->zero_handling, ae, target, &ape))
	{
		acc->n_ape = tds_count_add(acc->n_ape, 1);
		tds_xsum_add(&acc->abs_perc_error, ape);
		tds_xsum_add_square(&acc->sq_abs_perc_error, ape);
	}
}

void
tds_regression_merge(tds_regression_acc *into, const tds_regression_acc *from)
{
	into->n = tds_count_add(into->n, from->n);
	into->n_ape = tds_count_add(into->n_ape, from->n_ape);
	tds_xsum_merge(&into->error, &from->error);
	tds_xsum_merge(&into->abs_error, &from->abs_error);
	tds_xsum_merge(&into->abs_perc_error, &from->abs_perc_error);
	tds_xsum_merge(&into->target, &from->target);
	tds_xsum_merge(&into->sq_error, &from->sq_error);
	tds_xsum_merge(&into->sq_abs_perc_error, &from->sq_abs_perc_error);
	tds_xsum_merge(&into->sq_target, &from->sq_target);
	if (from->abs_error_max > into->abs_error_max)
		into->abs_error_max = from->abs_error_max;
}

void
tds_regression_serialize(const tds_regression_acc *acc, tds_regression_acc *out)
{
	*out = *acc;
	tds_xsum_canonical(&out->error);
	tds_xsum_canonical(&out->abs_error);
	tds_xsum_canonical(&out->abs_perc_error);
	tds_xsum_canonical(&out->target);
	tds_xsum_canonical(&out->sq_error);
	tds_xsum_canonical(&out->sq_abs_perc_error);
	tds_xsum_canonical(&out->sq_target);
}

tds_status
tds_regression_deserialize(const void *bytes, size_t len, tds_regression_acc *out,
						   tds_error *error)
{
	if (len != sizeof(tds_regression_acc))
	{
		tds_error_set(error, TDS_ERR_INPUT, "The state is %zu bytes long, not %zu.", len,
					  sizeof(tds_regression_acc));
		return TDS_ERR_INPUT;
	}
	memcpy(out, bytes, len);
	if (out->zero_handling < TDS_ZERO_REPLACE || out->zero_handling > TDS_ZERO_NONE ||
		out->reserved != 0 || out->n < 0 || out->n_ape < 0 || out->n_ape > out->n ||
		!(out->abs_error_max >= 0.0) || !tds_xsum_valid(&out->error) ||
		!tds_xsum_valid(&out->abs_error) || !tds_xsum_valid(&out->abs_perc_error) ||
		!tds_xsum_valid(&out->target) || !tds_xsum_valid(&out->sq_error) ||
		!tds_xsum_valid(&out->sq_abs_perc_error) || !tds_xsum_valid(&out->sq_target))
	{
		tds_error_set(error, TDS_ERR_INPUT, "The regression state's fields are out of range.");
		return TDS_ERR_INPUT;
	}
	return TDS_OK;
}

void
tds_regression_result(const tds_regression_acc *acc, tds_regression_metrics *out)
{
	int64_t n = acc->n;

	out->n = n;
	out->mean_error = tds_xsum_mean(&acc->error, n);
	out->error_std = tds_xsum_std(&acc->error, &acc->sq_error, n);
	out->mae = tds_xsum_mean(&acc->abs_error, n);
	out->abs_error_std = tds_xsum_std(&acc->abs_error, &acc->sq_error, n);
	out->abs_error_max = n > 0 ? acc->abs_error_max : NAN;
	out->mape = 100.0 * tds_xsum_mean(&acc->abs_perc_error, acc->n_ape);
	out->abs_perc_error_std = tds_xsum_std(&acc->abs_perc_error, &acc->sq_abs_perc_error,
										   acc->n_ape);
	out->rmse = tds_xsum_root_mean(&acc->sq_error, n);
	/* sklearn r2_score(force_finite=True): NaN below two rows */
	out->r2 = tds_xsum_r2(&acc->sq_error, &acc->target, &acc->sq_target, n);
}
