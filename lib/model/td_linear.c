/*
 * td_linear.c — the "linear" estimator: an intercept and one coefficient
 * per feature, validated and written into the image as doubles.
 */
#include <math.h>

#include "td_internal.h"

td_status
td_linear_plan(td_plan *plan, const cJSON *estimator)
{
	const cJSON *intercept = cJSON_GetObjectItemCaseSensitive(estimator, "intercept");
	const cJSON *coef = cJSON_GetObjectItemCaseSensitive(estimator, "coefficients");
	const cJSON *c;
	uint32_t	 n;
	uint32_t	 i = 0;

	plan->meta[TD_META_OBJECTIVE] = "";
	if (!cJSON_IsNumber(intercept) || !isfinite(intercept->valuedouble))
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "The linear estimator has no finite numeric \"intercept\".");
		return TD_ERR_INVALID;
	}
	if (!cJSON_IsArray(coef))
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "The linear estimator has no \"coefficients\" array.");
		return TD_ERR_INVALID;
	}
	n = td_json_count_children(coef, plan->num_features);
	if (n != plan->num_features)
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "The linear estimator has %s%u coefficients, but \"features.count\" is %u.",
					 n > plan->num_features ? "more than " : "",
					 n > plan->num_features ? plan->num_features : n, plan->num_features);
		return TD_ERR_INVALID;
	}
	cJSON_ArrayForEach(c, coef)
	{
		if (!cJSON_IsNumber(c) || !isfinite(c->valuedouble))
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Linear coefficient %u is not a finite number.", i);
			return TD_ERR_INVALID;
		}
		i++;
	}
	plan->intercept = intercept->valuedouble;
	plan->coefficients = coef;
	return TD_OK;
}

td_status
td_linear_emit(const td_plan *plan, double *coefficients)
{
	const cJSON *c;
	uint32_t	 i = 0;

	cJSON_ArrayForEach(c, plan->coefficients)
		coefficients[i++] = c->valuedouble;
	return TD_OK;
}
