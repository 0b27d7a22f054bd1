/*
 * fuzz_model.h — shared by the model library's libFuzzer targets: a small
 * valid bundle and a helper that scores a few synthetic rows against an image.
 */
#ifndef TD_FUZZ_MODEL_H
#define TD_FUZZ_MODEL_H

#include <stdlib.h>
#include <string.h>

#include "td_model.h"

static const char fuzz_tiny_bundle[] =
	"{\"format\":\"taxi-duration-bundle\",\"format_version\":1,"
	"\"model\":{\"name\":\"tiny\",\"version\":\"1\"},"
	"\"inputs\":[{\"name\":\"PULocationID\",\"type\":\"integer\",\"required\":true,\"min\":1,\"max\":265},"
	"{\"name\":\"DOLocationID\",\"type\":\"integer\",\"required\":true,\"min\":1,\"max\":265},"
	"{\"name\":\"trip_distance\",\"type\":\"number\",\"required\":true,\"min\":0},"
	"{\"name\":\"pickup_datetime\",\"type\":\"timestamp\",\"required\":false,\"aliases\":[\"lpep_pickup_datetime\"]}],"
	"\"features\":{\"count\":5,\"numeric\":["
	"{\"name\":\"trip_distance\",\"input\":\"trip_distance\",\"transform\":\"identity\",\"index\":0},"
	"{\"name\":\"hour\",\"input\":\"pickup_datetime\",\"transform\":\"hour_of_day\",\"index\":1},"
	"{\"name\":\"dow\",\"input\":\"pickup_datetime\",\"transform\":\"day_of_week\",\"index\":4}],"
	"\"categorical\":[{\"name\":\"PU_DO\",\"inputs\":[\"PULocationID\",\"DOLocationID\"],\"separator\":\"_\","
	"\"vocabulary\":{\"1_2\":2,\"2_1\":3}}]},"
	"\"estimator\":{\"type\":\"xgboost\",\"booster\":{\"learner\":{\"attributes\":{},"
	"\"learner_model_param\":{\"base_score\":\"[5E-1]\",\"num_class\":\"0\",\"num_feature\":\"5\",\"num_target\":\"1\"},"
	"\"objective\":{\"name\":\"reg:squarederror\"},"
	"\"gradient_booster\":{\"name\":\"gbtree\",\"model\":{\"gbtree_model_param\":{\"num_parallel_tree\":\"1\",\"num_trees\":\"2\"},"
	"\"iteration_indptr\":[0,1,2],\"tree_info\":[0,0],\"trees\":["
	"{\"id\":0,\"tree_param\":{\"num_deleted\":\"0\",\"num_nodes\":\"5\",\"size_leaf_vector\":\"1\"},"
	"\"left_children\":[1,-1,3,-1,-1],\"right_children\":[2,-1,4,-1,-1],\"split_indices\":[0,0,2,0,0],"
	"\"split_conditions\":[2.5E0,1E0,5E-1,2.5E-1,-5E-1],\"default_left\":[1,0,1,0,0],\"split_type\":[0,0,0,0,0],\"categories\":[]},"
	"{\"id\":1,\"tree_param\":{\"num_deleted\":\"0\",\"num_nodes\":\"3\",\"size_leaf_vector\":\"1\"},"
	"\"left_children\":[1,-1,-1],\"right_children\":[2,-1,-1],\"split_indices\":[4,0,0],"
	"\"split_conditions\":[3E0,1.25E-1,3.75E-1],\"default_left\":[0,0,0]}"
	"]}}},\"version\":[3,2,0]}}}";

static void
fuzz_limits(td_limits *lim)
{
	td_default_limits(lim);
	lim->max_bundle_bytes = 1 << 16;
	lim->max_trees = 64;
	lim->max_nodes_per_tree = 4096;
	lim->max_total_nodes = 16384;
	lim->max_depth = 32;
	lim->max_features = 4096;
	lim->max_inputs = 16;
	lim->max_vocabulary = 4096;
	lim->max_string_bytes = 256;
}

/* Score a few rows built from `seed` bytes; any status is fine, no crash. */
static void
fuzz_score(const td_image *img, const unsigned char *seed, size_t seedlen)
{
	td_predictor *p = NULL;
	td_error	  err;
	td_value	  vals[16];
	uint32_t	  n = td_image_num_inputs(img);
	uint32_t	  i;
	int			  row;
	double		  y;

	if (n > 16 || td_predictor_create(img, &p, &err) != TD_OK)
		return;
	for (row = 0; row < 6; row++)
	{
		for (i = 0; i < n; i++)
		{
			unsigned	  b = seedlen ? seed[(row * 7 + i) % seedlen] : (unsigned) row;
			td_input_type t = td_image_input_type(img, i);

			memset(&vals[i], 0, sizeof(vals[i]));
			switch ((b + (unsigned) row) % 6)
			{
				case 0:
					vals[i].kind = TD_VALUE_ABSENT;
					break;
				case 1:
					vals[i].kind = TD_VALUE_NULL;
					break;
				default:
					if (t == TD_INPUT_TIMESTAMP)
					{
						vals[i].kind = TD_VALUE_TIMESTAMP;
						vals[i].i = ((int64_t) b - 128) * INT64_C(86400000000) * 37 + b * 60000000;
					}
					else if (b & 1)
					{
						vals[i].kind = TD_VALUE_INT;
						vals[i].i = (int64_t) b - 2;
					}
					else
					{
						vals[i].kind = TD_VALUE_DOUBLE;
						vals[i].d = (double) b / 8.0 - 1.0;
					}
			}
		}
		(void) td_predict(p, vals, &y, &err);
	}
	td_predictor_free(p);
}

#endif
