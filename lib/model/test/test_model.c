/*
 * test_model.c — unit tests of the model library (lib/model): bundle
 * validation, evaluation semantics, XGBoost parity fixtures, image
 * relocation and checking, timestamps, trip events, allocation failure.
 *
 * TD_FIXTURE_DIR names lib/model/test/fixtures (set by lib/model/Makefile).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "td_model.h"
#include "td_image_layout.h" /* to corrupt images on purpose */
#include "tdc_test.h"

int td_tests_passed = 0;
int td_tests_failed = 0;

#ifndef TD_FIXTURE_DIR
#define TD_FIXTURE_DIR "lib/model/test/fixtures"
#endif

/* A tiny valid bundle; every adversarial test edits one piece of it. */
static const char *tiny =
	"{\"format\":\"taxi-duration-bundle\",\"format_version\":1,"
	"\"model\":{\"name\":\"tiny\",\"version\":\"1\",\"run_id\":null,"
	"\"created_at\":\"2026-11-28T13:30:00Z\",\"estimator_sha256\":null},"
	"\"inputs\":[{\"name\":\"PULocationID\",\"type\":\"integer\",\"required\":true,\"min\":1,\"max\":265},"
	"{\"name\":\"DOLocationID\",\"type\":\"integer\",\"required\":true,\"min\":1,\"max\":265},"
	"{\"name\":\"trip_distance\",\"type\":\"number\",\"required\":true,\"min\":0},"
	"{\"name\":\"pickup_datetime\",\"type\":\"timestamp\",\"required\":false,\"aliases\":[\"lpep_pickup_datetime\"]}],"
	"\"features\":{\"count\":4,\"numeric\":["
	"{\"name\":\"trip_distance\",\"input\":\"trip_distance\",\"transform\":\"identity\",\"index\":0},"
	"{\"name\":\"hour\",\"input\":\"pickup_datetime\",\"transform\":\"hour_of_day\",\"index\":1}],"
	"\"categorical\":[{\"name\":\"PU_DO\",\"inputs\":[\"PULocationID\",\"DOLocationID\"],\"separator\":\"_\","
	"\"vocabulary\":{\"1_2\":2,\"2_1\":3}}]},"
	"\"estimator\":{\"type\":\"xgboost\",\"booster\":{\"learner\":{\"attributes\":{},"
	"\"learner_model_param\":{\"base_score\":\"[5E-1]\",\"num_class\":\"0\",\"num_feature\":\"4\",\"num_target\":\"1\"},"
	"\"objective\":{\"name\":\"reg:squarederror\"},"
	"\"gradient_booster\":{\"name\":\"gbtree\",\"model\":{\"gbtree_model_param\":{\"num_parallel_tree\":\"1\",\"num_trees\":\"2\"},"
	"\"iteration_indptr\":[0,1,2],\"tree_info\":[0,0],\"trees\":["
	"{\"id\":0,\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"4\",\"num_nodes\":\"5\",\"size_leaf_vector\":\"1\"},"
	"\"left_children\":[1,-1,3,-1,-1],\"right_children\":[2,-1,4,-1,-1],\"split_indices\":[0,0,2,0,0],"
	"\"split_conditions\":[2.5E0,1E0,5E-1,2.5E-1,-5E-1],\"default_left\":[1,0,1,0,0],\"split_type\":[0,0,0,0,0],\"categories\":[]},"
	"{\"id\":1,\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"4\",\"num_nodes\":\"3\",\"size_leaf_vector\":\"1\"},"
	"\"left_children\":[1,-1,-1],\"right_children\":[2,-1,-1],\"split_indices\":[1,0,0],"
	"\"split_conditions\":[1.2E1,1.25E-1,3.75E-1],\"default_left\":[0,0,0],\"split_type\":[0,0,0],\"categories\":[]}"
	"]}}},\"version\":[3,2,0]}},\"training\":{}}";

static const char *linear_tiny =
	"{\"format\":\"taxi-duration-bundle\",\"format_version\":1,"
	"\"model\":{\"name\":\"lin\",\"version\":\"dev\"},"
	"\"inputs\":[{\"name\":\"PULocationID\",\"type\":\"integer\",\"required\":true},"
	"{\"name\":\"trip_distance\",\"type\":\"number\",\"required\":false},"
	"{\"name\":\"pickup_datetime\",\"type\":\"timestamp\",\"required\":false}],"
	"\"features\":{\"count\":5,\"numeric\":["
	"{\"name\":\"trip_distance\",\"input\":\"trip_distance\",\"transform\":\"identity\",\"index\":3},"
	"{\"name\":\"dow\",\"input\":\"pickup_datetime\",\"transform\":\"day_of_week\",\"index\":0}],"
	"\"categorical\":[{\"name\":\"PU\",\"inputs\":[\"PULocationID\"],\"vocabulary\":{\"7\":1,\"-3\":2,\"12\":4}}]},"
	"\"estimator\":{\"type\":\"linear\",\"intercept\":2.5,\"coefficients\":[0.5,10,-4,3.25,100]}}";

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static char *
replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t		n;
	char	   *out;

	if (at == NULL)
	{
		printf("test bug: \"%s\" not found in the bundle\n", from);
		exit(2);
	}
	n = strlen(text) - strlen(from) + strlen(to);
	out = malloc(n + 1);
	memcpy(out, text, (size_t) (at - text));
	strcpy(out + (at - text), to);
	strcat(out, at + strlen(from));
	return out;
}

static td_status
compile_text(const char *text, size_t len, const td_limits *limits,
			 td_image **img, size_t *size, td_error *err)
{
	return td_compile_bundle(text, len, limits, img, size, err);
}

/* Compile tiny with one substitution; check the status (and detail word). */
static void
expect_variant(const char *name, const char *from, const char *to,
			   td_status expect, const char *detail_word)
{
	char	 *text = replace(tiny, from, to);
	td_image *img = NULL;
	size_t	  size = 0;
	td_error  err;
	td_status st = compile_text(text, strlen(text), NULL, &img, &size, &err);
	char	  descr[1024];

	snprintf(descr, sizeof(descr), "%s -> %s (got %s: %s)", name,
			 td_status_name(expect), td_status_name(st), err.detail);
	test_cond(descr, st == expect && img == NULL &&
						 (detail_word == NULL || strstr(err.detail, detail_word) != NULL) &&
						 err.message[0] != '\0' && err.message[strlen(err.message) - 1] != '.');
	if (img)
		free(img);
	free(text);
}

/* Leaf 1 of tree 0 and leaf 2 of tree 1 set: is their float32 sum finite? */
static void
expect_leaf_sums(const char *name, const char *leaf0, const char *leaf1, td_status expect)
{
	char	  from0[] = "[2.5E0,1E0,5E-1,2.5E-1,-5E-1]";
	char	  from1[] = "[1.2E1,1.25E-1,3.75E-1]";
	char	  to0[128];
	char	  to1[128];
	char	 *a;
	char	 *b;
	td_image *img = NULL;
	size_t	  size = 0;
	td_error  err;
	td_status st;

	snprintf(to0, sizeof(to0), "[2.5E0,%s,5E-1,2.5E-1,-5E-1]", leaf0);
	snprintf(to1, sizeof(to1), "[1.2E1,1.25E-1,%s]", leaf1);
	a = replace(tiny, from0, to0);
	b = replace(a, from1, to1);
	st = compile_text(b, strlen(b), NULL, &img, &size, &err);
	test_cond(name, st == expect && (st == TD_OK || strstr(err.detail, "not finite") != NULL));
	free(img);
	free(a);
	free(b);
}

static void
expect_raw(const char *name, const char *text, size_t len, const td_limits *limits,
		   td_status expect)
{
	td_image *img = NULL;
	size_t	  size = 0;
	td_error  err;
	td_status st = compile_text(text, len, limits, &img, &size, &err);
	char	  descr[1024];

	snprintf(descr, sizeof(descr), "%s -> %s (got %s: %s)", name,
			 td_status_name(expect), td_status_name(st), err.detail);
	test_cond(descr, st == expect);
	if (img)
		free(img);
}

static td_image *
must_compile(const char *text, size_t *size)
{
	td_image *img = NULL;
	size_t	  sz = 0;
	td_error  err;

	if (compile_text(text, strlen(text), NULL, &img, &sz, &err) != TD_OK)
	{
		printf("compile failed: %s: %s\n", err.message, err.detail);
		return NULL;
	}
	if (size)
		*size = sz;
	return img;
}

static td_value
v_int(int64_t i)
{
	td_value v = { TD_VALUE_INT, i, 0 };

	return v;
}

static td_value
v_dbl(double d)
{
	td_value v = { TD_VALUE_DOUBLE, 0, d };

	return v;
}

static td_value
v_ts(const char *s)
{
	td_value v = { TD_VALUE_TIMESTAMP, 0, 0 };

	if (!td_parse_timestamp(s, strlen(s), &v.i))
		printf("test bug: bad timestamp %s\n", s);
	return v;
}

static td_value
v_kind(td_value_kind k)
{
	td_value v = { k, 0, 0 };

	return v;
}

static td_status
predict4(td_predictor *p, td_value a, td_value b, td_value c, td_value d,
		 double *out, td_error *err)
{
	td_value vals[4];

	vals[0] = a;
	vals[1] = b;
	vals[2] = c;
	vals[3] = d;
	return td_predict(p, vals, out, err);
}

/* ------------------------------------------------------------------ */
/* validation                                                          */
/* ------------------------------------------------------------------ */

static void
test_validation(void)
{
	char	  deep[4200];
	size_t	  i;
	td_limits lim;
	size_t	  half = strlen(tiny) / 2;

	expect_raw("valid tiny bundle", tiny, strlen(tiny), NULL, TD_OK);
	expect_raw("truncated JSON", tiny, half, NULL, TD_ERR_JSON);
	expect_raw("not JSON", "hello, world", 12, NULL, TD_ERR_JSON);
	expect_raw("empty input", "", 0, NULL, TD_ERR_JSON);
	expect_raw("UBJSON bytes", "{i\x06"
							   "formatSi\x14taxi-duration-bundle}",
			   30, NULL, TD_ERR_JSON);
	expect_raw("JSON array", "[1,2]", 5, NULL, TD_ERR_FORMAT);
	{
		char *t = malloc(strlen(tiny) + 8);

		sprintf(t, "%s  x", tiny);
		expect_raw("trailing garbage", t, strlen(t), NULL, TD_ERR_JSON);
		sprintf(t, "%s \n ", tiny);
		expect_raw("trailing whitespace", t, strlen(t), NULL, TD_OK);
		free(t);
	}
	for (i = 0; i < 2000; i++)
		deep[i] = '[';
	for (; i < 4000; i++)
		deep[i] = ']';
	expect_raw("deep nesting", deep, 4000, NULL, TD_ERR_JSON);

	expect_variant("wrong format", "\"taxi-duration-bundle\"", "\"something-else\"", TD_ERR_FORMAT, NULL);
	expect_variant("format_version 2", "\"format_version\":1", "\"format_version\":2", TD_ERR_VERSION, "version 1");
	expect_variant("format_version string", "\"format_version\":1", "\"format_version\":\"1\"", TD_ERR_VERSION, NULL);
	expect_variant("count not a number", "\"count\":4", "\"count\":\"4\"", TD_ERR_INVALID, "count");
	expect_variant("inputs not an array", "\"inputs\":[", "\"inputz\":[", TD_ERR_INVALID, "inputs");
	expect_variant("model missing", "\"model\":", "\"modell\":", TD_ERR_INVALID, "model");
	expect_variant("empty model name", "\"name\":\"tiny\"", "\"name\":\"\"", TD_ERR_INVALID, NULL);
	expect_variant("bad sha256", "\"estimator_sha256\":null", "\"estimator_sha256\":\"abc\"", TD_ERR_INVALID, "hex");
	expect_variant("required not boolean", "\"required\":true,\"min\":1,\"max\":265},{\"name\":\"DO",
				   "\"required\":1,\"min\":1,\"max\":265},{\"name\":\"DO", TD_ERR_INVALID, "required");
	expect_variant("bad input name", "\"name\":\"PULocationID\"", "\"name\":\"PU Location\"", TD_ERR_INVALID, "identifier");
	expect_variant("duplicate input name", "\"name\":\"DOLocationID\"", "\"name\":\"pulocationid\"", TD_ERR_INVALID, "more than once");
	expect_variant("alias duplicates a name", "[\"lpep_pickup_datetime\"]", "[\"TRIP_DISTANCE\"]", TD_ERR_INVALID, "more than once");
	expect_variant("duplicate alias", "[\"lpep_pickup_datetime\"]", "[\"a\",\"A\"]", TD_ERR_INVALID, "more than once");
	expect_variant("unknown input type", "\"type\":\"number\"", "\"type\":\"float\"", TD_ERR_INVALID, "float");
	expect_variant("min above max", "\"min\":1,\"max\":265}", "\"min\":300,\"max\":265}", TD_ERR_INVALID, "min");
	expect_variant("min not finite", "\"min\":0}", "\"min\":1e999}", TD_ERR_JSON, "too large");
	expect_variant("min on timestamp", "\"required\":false,\"aliases\"", "\"required\":false,\"min\":0,\"aliases\"", TD_ERR_INVALID, "timestamp");
	expect_variant("unknown transform", "hour_of_day", "minute_of_hour", TD_ERR_INVALID, "minute_of_hour");
	expect_variant("identity on timestamp", "\"input\":\"pickup_datetime\",\"transform\":\"hour_of_day\"",
				   "\"input\":\"pickup_datetime\",\"transform\":\"identity\"", TD_ERR_INVALID, "type");
	expect_variant("hour_of_day on a number", "\"input\":\"trip_distance\",\"transform\":\"identity\"",
				   "\"input\":\"trip_distance\",\"transform\":\"hour_of_day\"", TD_ERR_INVALID, "type");
	expect_variant("numeric reads unknown input", "\"input\":\"trip_distance\"", "\"input\":\"fare\"", TD_ERR_INVALID, "fare");
	expect_variant("categorical on number input", "[\"PULocationID\",\"DOLocationID\"]",
				   "[\"PULocationID\",\"trip_distance\"]", TD_ERR_INVALID, "integer");
	expect_variant("categorical without separator", "\"separator\":\"_\",", "", TD_ERR_INVALID, "separator");
	expect_variant("duplicate feature index", "\"2_1\":3", "\"2_1\":2", TD_ERR_INVALID, "more than once");
	expect_variant("feature index out of range", "\"2_1\":3", "\"2_1\":7", TD_ERR_INVALID, "outside");
	expect_variant("feature index negative", "\"index\":0", "\"index\":-1", TD_ERR_INVALID, "outside");
	expect_variant("feature index unused", "\"count\":4", "\"count\":5", TD_ERR_INVALID, NULL);
	expect_variant("duplicate vocabulary key", "\"vocabulary\":{\"1_2\":2,\"2_1\":3}",
				   "\"vocabulary\":{\"1_2\":2,\"1_2\":3}", TD_ERR_JSON, "twice");
	expect_variant("unknown estimator", "\"type\":\"xgboost\"", "\"type\":\"lightgbm\"", TD_ERR_UNSUPPORTED, "lightgbm");
	expect_variant("unknown objective", "reg:squarederror", "binary:logistic", TD_ERR_UNSUPPORTED, "binary:logistic");
	expect_variant("dart", "\"name\":\"gbtree\"", "\"name\":\"dart\"", TD_ERR_UNSUPPORTED, "dart");
	expect_variant("gblinear", "\"name\":\"gbtree\"", "\"name\":\"gblinear\"", TD_ERR_UNSUPPORTED, "gblinear");
	expect_variant("multi-class", "\"num_class\":\"0\"", "\"num_class\":\"3\"", TD_ERR_UNSUPPORTED, "class");
	expect_variant("multi-target", "\"num_target\":\"1\"", "\"num_target\":\"2\"", TD_ERR_UNSUPPORTED, "target");
	expect_variant("output group 1", "\"tree_info\":[0,0]", "\"tree_info\":[0,1]", TD_ERR_UNSUPPORTED, "group");
	expect_variant("base_score two elements", "[5E-1]", "[5E-1,2E-1]", TD_ERR_UNSUPPORTED, "base_score");
	expect_variant("base_score garbage", "[5E-1]", "[abc]", TD_ERR_INVALID, "base_score");
	expect_variant("base_score missing", "\"base_score\":\"[5E-1]\",", "", TD_ERR_INVALID, "base_score");
	expect_variant("num_feature mismatch", "\"num_feature\":\"4\",\"num_target\"", "\"num_feature\":\"5\",\"num_target\"", TD_ERR_INVALID, "features");
	expect_variant("categorical split_type", "\"split_type\":[0,0,0,0,0]", "\"split_type\":[0,0,1,0,0]", TD_ERR_UNSUPPORTED, "categorical");
	expect_variant("categories non-empty", "\"categories\":[]}", "\"categories\":[1]}", TD_ERR_UNSUPPORTED, "categorical");
	expect_variant("vector leaf", "\"num_nodes\":\"5\",\"size_leaf_vector\":\"1\"", "\"num_nodes\":\"5\",\"size_leaf_vector\":\"2\"", TD_ERR_UNSUPPORTED, "vector");
	expect_variant("child index out of range", "\"left_children\":[1,-1,3,-1,-1]", "\"left_children\":[1,-1,900,-1,-1]",
				   TD_ERR_INVALID, "left child 900, but the tree has 5 nodes");
	expect_variant("right != left + 1", "\"right_children\":[2,-1,4,-1,-1]", "\"right_children\":[2,-1,3,-1,-1]", TD_ERR_INVALID, "left child + 1");
	expect_variant("leaf with a right child", "\"right_children\":[2,-1,4,-1,-1]", "\"right_children\":[2,3,4,-1,-1]", TD_ERR_INVALID, "no left child");
	{
		char	 *a = replace(tiny, "\"left_children\":[1,-1,3,-1,-1]", "\"left_children\":[1,-1,0,-1,-1]");
		char	 *b = replace(a, "\"right_children\":[2,-1,4,-1,-1]", "\"right_children\":[2,-1,1,-1,-1]");
		td_image *img = NULL;
		size_t	  sz;
		td_error  err;

		test_cond("cycle back to the root is rejected",
				  td_compile_bundle(b, strlen(b), NULL, &img, &sz, &err) == TD_ERR_INVALID &&
					  strstr(err.detail, "more than once") != NULL);
		free(a);
		free(b);
		a = replace(tiny, "\"left_children\":[1,-1,3,-1,-1]", "\"left_children\":[1,3,3,-1,-1]");
		b = replace(a, "\"right_children\":[2,-1,4,-1,-1]", "\"right_children\":[2,4,4,-1,-1]");
		test_cond("shared node is rejected",
				  td_compile_bundle(b, strlen(b), NULL, &img, &sz, &err) == TD_ERR_INVALID &&
					  strstr(err.detail, "more than once") != NULL);
		free(a);
		free(b);
		/* An unreachable node is an error unless num_deleted says so. */
		a = replace(tiny, "\"left_children\":[1,-1,3,-1,-1]", "\"left_children\":[1,-1,-1,-1,-1]");
		b = replace(a, "\"right_children\":[2,-1,4,-1,-1]", "\"right_children\":[2,-1,-1,-1,-1]");
		test_cond("unreachable nodes are rejected",
				  td_compile_bundle(b, strlen(b), NULL, &img, &sz, &err) == TD_ERR_INVALID &&
					  strstr(err.detail, "not reachable") != NULL);
		free(a);
		a = replace(b, "\"num_deleted\":\"0\",\"num_feature\":\"4\",\"num_nodes\":\"5\"",
					"\"num_deleted\":\"2\",\"num_feature\":\"4\",\"num_nodes\":\"5\"");
		free(b);
		/* num_deleted matches, but node 3 is not marked deleted as XGBoost marks it. */
		test_cond("unreachable node not marked deleted is rejected, naming tree and node",
				  td_compile_bundle(a, strlen(a), NULL, &img, &sz, &err) == TD_ERR_INVALID &&
					  strstr(err.detail, "Tree 0 node 3 is not reachable") != NULL);
		b = replace(a, "\"split_indices\":[0,0,2,0,0]", "\"split_indices\":[0,0,2,2147483647,2147483647]");
		free(a);
		a = replace(b, "\"default_left\":[1,0,1,0,0]", "\"default_left\":[1,0,1,1,1]");
		free(b);
		test_cond("deleted (pruned) nodes as XGBoost writes them are accepted",
				  td_compile_bundle(a, strlen(a), NULL, &img, &sz, &err) == TD_OK);
		free(img);
		/* XGBoost's loader follows "parents" unchecked: out of the tree crashes it. */
		b = replace(a, "\"split_type\":[0,0,0,0,0]", "\"split_type\":[0,0,0,0,0],\"parents\":[2147483647,0,0,2,2147483647]");
		test_cond("deleted node with a parent outside the tree is rejected",
				  td_compile_bundle(b, strlen(b), NULL, &img, &sz, &err) == TD_ERR_INVALID &&
					  strstr(err.detail, "Tree 0 node 4 is not reachable") != NULL);
		free(b);
		b = replace(a, "\"split_type\":[0,0,0,0,0]", "\"split_type\":[0,0,0,0,0],\"parents\":[2147483647,0,0,2,2]");
		test_cond("deleted nodes with parents in the tree are accepted",
				  td_compile_bundle(b, strlen(b), NULL, &img, &sz, &err) == TD_OK);
		free(img);
		free(b);
		free(a);
	}
	expect_variant("parents disagree with the children", "\"split_type\":[0,0,0,0,0]",
				   "\"split_type\":[0,0,0,0,0],\"parents\":[2147483647,0,0,2,1]", TD_ERR_INVALID, "Tree 0 node 4 has parent 1");
	expect_variant("parents too short", "\"split_type\":[0,0,0,0,0]",
				   "\"split_type\":[0,0,0,0,0],\"parents\":[2147483647,0,0,2]", TD_ERR_INVALID, "parents");
	expect_leaf_sums("leaves sum past float32", "3.4E38", "3.4E38", TD_ERR_INVALID);
	expect_leaf_sums("leaves sum below -float32 max", "-3.4E38", "-3.4E38", TD_ERR_INVALID);
	expect_leaf_sums("large leaves that stay finite", "1.7E38", "1.7E38", TD_OK);
	expect_variant("num_deleted larger than the unreachable nodes", "\"num_deleted\":\"0\",\"num_feature\":\"4\",\"num_nodes\":\"5\"",
				   "\"num_deleted\":\"2\",\"num_feature\":\"4\",\"num_nodes\":\"5\"", TD_ERR_INVALID, "num_deleted");
	expect_variant("empty iteration", "\"iteration_indptr\":[0,1,2]", "\"iteration_indptr\":[0,2,2]", TD_ERR_INVALID, "iteration_indptr");
	expect_variant("threshold inf (1e999)", "2.5E0", "1e999", TD_ERR_JSON, "too large");
	expect_variant("threshold beyond float32", "2.5E0", "1e39", TD_ERR_INVALID, "finite");
	expect_variant("leaf value not a number", "1.25E-1", "\"x\"", TD_ERR_INVALID, "not a number");
	expect_variant("split index >= num_feature", "\"split_indices\":[0,0,2,0,0]", "\"split_indices\":[0,0,9,0,0]", TD_ERR_INVALID, "feature 9");
	expect_variant("split index negative", "\"split_indices\":[0,0,2,0,0]", "\"split_indices\":[0,0,-2,0,0]", TD_ERR_INVALID, "split_indices");
	expect_variant("child not an integer", "\"left_children\":[1,-1,3,-1,-1]", "\"left_children\":[1,-1,3.5,-1,-1]", TD_ERR_INVALID, "integer");
	expect_variant("num_nodes mismatch", "\"num_nodes\":\"5\"", "\"num_nodes\":\"6\"", TD_ERR_INVALID, "num_nodes");
	expect_variant("array too long", "\"default_left\":[1,0,1,0,0]", "\"default_left\":[1,0,1,0,0,0]", TD_ERR_INVALID, "default_left");
	expect_variant("array missing", "\"default_left\":[0,0,0],", "", TD_ERR_INVALID, "default_left");
	expect_variant("enormous num_nodes", "\"num_nodes\":\"5\"", "\"num_nodes\":\"1000000000\"", TD_ERR_LIMIT, "1000000000");
	expect_variant("num_nodes overflow", "\"num_nodes\":\"5\"", "\"num_nodes\":\"99999999999999999999999\"", TD_ERR_INVALID, "num_nodes");
	expect_variant("num_trees mismatch", "\"num_trees\":\"2\"", "\"num_trees\":\"3\"", TD_ERR_INVALID, "trees");
	expect_variant("bad iteration_indptr", "\"iteration_indptr\":[0,1,2]", "\"iteration_indptr\":[0,2,1]", TD_ERR_INVALID, "iteration_indptr");
	expect_variant("best_iteration too large", "\"attributes\":{}", "\"attributes\":{\"best_iteration\":\"2\"}", TD_ERR_INVALID, "best_iteration");
	expect_variant("iteration_range reversed", "{\"type\":\"xgboost\",", "{\"type\":\"xgboost\",\"iteration_range\":[1,1],", TD_ERR_INVALID, "iteration_range");
	expect_variant("iteration_range too long", "{\"type\":\"xgboost\",", "{\"type\":\"xgboost\",\"iteration_range\":[0,3],", TD_ERR_INVALID, "iteration_range");
	expect_variant("no learner (not XGBoost JSON)", "{\"learner\":", "{\"lerner\":", TD_ERR_INVALID, "learner");

	td_default_limits(&lim);
	lim.max_depth = 1;
	expect_raw("depth above the limit", tiny, strlen(tiny), &lim, TD_ERR_LIMIT);
	td_default_limits(&lim);
	lim.max_trees = 1;
	expect_raw("too many trees", tiny, strlen(tiny), &lim, TD_ERR_LIMIT);
	td_default_limits(&lim);
	lim.max_total_nodes = 7;
	expect_raw("too many nodes in all", tiny, strlen(tiny), &lim, TD_ERR_LIMIT);
	td_default_limits(&lim);
	lim.max_bundle_bytes = 100;
	expect_raw("bundle above the byte limit", tiny, strlen(tiny), &lim, TD_ERR_LIMIT);
	td_default_limits(&lim);
	lim.max_string_bytes = 8;
	expect_raw("string above the limit", tiny, strlen(tiny), &lim, TD_ERR_LIMIT);
	td_default_limits(&lim);
	lim.max_vocabulary = 1;
	expect_raw("vocabulary above the limit", tiny, strlen(tiny), &lim, TD_ERR_LIMIT);
	td_default_limits(&lim);
	lim.max_features = 3;
	expect_raw("features above the limit", tiny, strlen(tiny), &lim, TD_ERR_LIMIT);
	td_default_limits(&lim);
	lim.max_inputs = 3;
	expect_raw("inputs above the limit", tiny, strlen(tiny), &lim, TD_ERR_LIMIT);

	/* A long string is echoed truncated. */
	{
		char	  longtype[1100];
		char	 *t;
		td_image *img = NULL;
		size_t	  sz;
		td_error  err;

		strcpy(longtype, "\"type\":\"");
		memset(longtype + 8, 'z', 1000);
		strcpy(longtype + 1008, "\"");
		t = replace(tiny, "\"type\":\"xgboost\"", longtype);
		test_cond("echoed strings are truncated",
				  td_compile_bundle(t, strlen(t), NULL, &img, &sz, &err) == TD_ERR_UNSUPPORTED &&
					  strlen(err.detail) < 250 && strstr(err.detail, "zzz...") != NULL);
		free(t);
	}
}

/* ------------------------------------------------------------------ */
/* evaluation semantics on the tiny bundle                             */
/* ------------------------------------------------------------------ */

static void
test_semantics(void)
{
	size_t		   size;
	td_image	  *img = must_compile(tiny, &size);
	td_predictor  *p = NULL;
	td_error	   err;
	double		   y = 0;
	td_image_stats stats;
	char		  *t;
	td_image	  *img2;

	test_cond("tiny compiles", img != NULL);
	if (img == NULL)
		return;
	test_cond("image checks", td_image_check(img, size, &err) == TD_OK);
	test_cond("predictor created", td_predictor_create(img, &p, &err) == TD_OK);
	td_image_get_stats(img, &stats);
	test_cond("stats", stats.num_trees == 2 && stats.num_nodes == 8 && stats.num_inputs == 4 &&
						   stats.num_features == 4 && stats.vocabulary_size == 2 && stats.image_bytes == size &&
						   stats.format_version == 1);
	test_cond("meta", strcmp(td_image_meta(img, TD_META_FORMAT), "taxi-duration-bundle") == 0 &&
						  strcmp(td_image_meta(img, TD_META_MODEL_NAME), "tiny") == 0 &&
						  strcmp(td_image_meta(img, TD_META_RUN_ID), "") == 0 &&
						  strcmp(td_image_meta(img, TD_META_ESTIMATOR_TYPE), "xgboost") == 0 &&
						  strcmp(td_image_meta(img, TD_META_OBJECTIVE), "reg:squarederror") == 0 &&
						  strcmp(td_image_meta(img, TD_META_COUNT), "") == 0);
	test_cond("input accessors", td_image_num_inputs(img) == 4 &&
									 strcmp(td_image_input_name(img, 2), "trip_distance") == 0 &&
									 td_image_input_type(img, 3) == TD_INPUT_TIMESTAMP &&
									 td_image_input_required(img, 0) && !td_image_input_required(img, 3) &&
									 td_image_find_input(img, "LPEP_pickup_datetime") == 3 &&
									 td_image_find_input(img, "dolocationid") == 1 &&
									 td_image_find_input(img, "nope") == -1);

	test_cond("basic row", predict4(p, v_int(1), v_int(2), v_dbl(1.0), v_ts("2021-01-01 08:30:00"), &y, &err) == TD_OK &&
							   y == 1.625);
	test_cond("seen category goes by its value", predict4(p, v_int(1), v_int(2), v_dbl(3.0), v_ts("2021-01-01 08:30"), &y, &err) == TD_OK &&
													 y == 0.125);
	test_cond("unseen category is missing", predict4(p, v_int(3), v_int(3), v_dbl(3.0), v_ts("2021-01-01 08:30"), &y, &err) == TD_OK &&
												y == 0.875);
	test_cond("threshold equality goes right", predict4(p, v_int(3), v_int(3), v_dbl(2.5), v_ts("2021-01-01 08:30"), &y, &err) == TD_OK &&
												   y == 0.875);
	test_cond("just below threshold goes left", predict4(p, v_int(3), v_int(3), v_dbl(nextafter(2.5, 0)), v_ts("2021-01-01 08:30"), &y, &err) == TD_OK &&
													y == 0.875); /* rounds to 2.5f */
	test_cond("float below threshold goes left", predict4(p, v_int(3), v_int(3), v_dbl(2.4999998), v_ts("2021-01-01 08:30"), &y, &err) == TD_OK &&
													 y == 1.625);
	test_cond("NULL follows default_left", predict4(p, v_int(3), v_int(3), v_kind(TD_VALUE_NULL), v_ts("2021-01-01 08:30"), &y, &err) == TD_OK &&
											   y == 1.625);
	test_cond("NaN is missing", predict4(p, v_int(3), v_int(3), v_dbl(NAN), v_ts("2021-01-01 08:30"), &y, &err) == TD_OK &&
									y == 1.625);
	test_cond("absent optional input is missing", predict4(p, v_int(1), v_int(2), v_dbl(1.0), v_kind(TD_VALUE_ABSENT), &y, &err) == TD_OK &&
													  y == 1.875);
	test_cond("hour 12:00 goes right", predict4(p, v_int(1), v_int(2), v_dbl(1.0), v_ts("2021-01-01 12:00"), &y, &err) == TD_OK &&
										   y == 1.875);
	test_cond("hour 11:59 goes left", predict4(p, v_int(1), v_int(2), v_dbl(1.0), v_ts("2021-01-01 11:59:59.999999"), &y, &err) == TD_OK &&
										  y == 1.625);
	test_cond("NULL category input matches nothing", predict4(p, v_kind(TD_VALUE_NULL), v_int(2), v_dbl(3.0), v_ts("2021-01-01 08:30"), &y, &err) == TD_OK &&
														 y == 0.875);
	test_cond("integral double for integer input", predict4(p, v_dbl(1.0), v_dbl(2.0), v_dbl(3.0), v_ts("2021-01-01 08:30"), &y, &err) == TD_OK &&
													   y == 0.125);
	test_cond("int for number input", predict4(p, v_int(1), v_int(2), v_int(1), v_ts("2021-01-01 08:30"), &y, &err) == TD_OK &&
										  y == 1.625);

	test_cond("absent required input", predict4(p, v_int(1), v_kind(TD_VALUE_ABSENT), v_dbl(1.0), v_ts("2021-01-01 08:30"), &y, &err) == TD_ERR_MISSING_INPUT &&
										   strcmp(err.message, "model input \"DOLocationID\" was not given") == 0);
	test_cond("+Inf input", predict4(p, v_int(1), v_int(2), v_dbl(INFINITY), v_ts("2021-01-01 08:30"), &y, &err) == TD_ERR_INPUT &&
								strstr(err.detail, "trip_distance") != NULL);
	test_cond("-Inf input", predict4(p, v_int(1), v_int(2), v_dbl(-INFINITY), v_ts("2021-01-01 08:30"), &y, &err) == TD_ERR_INPUT);
	test_cond("below min", predict4(p, v_int(1), v_int(2), v_dbl(-0.5), v_ts("2021-01-01 08:30"), &y, &err) == TD_ERR_INPUT &&
							   strstr(err.detail, "trip_distance") && strstr(err.detail, "-0.5") && strstr(err.detail, "minimum 0"));
	test_cond("above max", predict4(p, v_int(266), v_int(2), v_dbl(1), v_ts("2021-01-01 08:30"), &y, &err) == TD_ERR_INPUT &&
							   strstr(err.detail, "PULocationID") && strstr(err.detail, "266") && strstr(err.detail, "maximum 265"));
	test_cond("non-integral double for integer input", predict4(p, v_dbl(1.5), v_int(2), v_dbl(1), v_ts("2021-01-01 08:30"), &y, &err) == TD_ERR_INPUT);
	test_cond("timestamp for number input", predict4(p, v_int(1), v_int(2), v_ts("2021-01-01 08:30"), v_ts("2021-01-01 08:30"), &y, &err) == TD_ERR_INPUT);
	test_cond("double for timestamp input", predict4(p, v_int(1), v_int(2), v_dbl(1), v_dbl(3), &y, &err) == TD_ERR_INPUT);
	test_cond("buffer restored after rows", predict4(p, v_int(3), v_int(3), v_kind(TD_VALUE_NULL), v_kind(TD_VALUE_NULL), &y, &err) == TD_OK &&
												y == 0.5 + 1.0 + 0.375);
	td_predictor_free(p);
	free(img);

	/* base_score in the scalar spelling (XGBoost up to 3.0) */
	t = replace(tiny, "[5E-1]", "5E-1");
	img2 = must_compile(t, NULL);
	test_cond("base_score (5E-1) compiles", img2 != NULL);
	if (img2 && td_predictor_create(img2, &p, &err) == TD_OK)
	{
		test_cond("base_score (5E-1) predicts", predict4(p, v_int(1), v_int(2), v_dbl(1.0), v_ts("2021-01-01 08:30"), &y, &err) == TD_OK && y == 1.625);
		td_predictor_free(p);
	}
	free(img2);
	free(t);

	/* best_iteration honoured: only tree 0 */
	t = replace(tiny, "\"attributes\":{}", "\"attributes\":{\"best_iteration\":\"0\",\"best_score\":\"1.0\"}");
	img2 = must_compile(t, NULL);
	if (img2 && td_predictor_create(img2, &p, &err) == TD_OK)
	{
		td_image_get_stats(img2, &stats);
		test_cond("best_iteration honoured", stats.num_trees == 1 &&
												 predict4(p, v_int(1), v_int(2), v_dbl(1.0), v_ts("2021-01-01 08:30"), &y, &err) == TD_OK && y == 1.5);
		td_predictor_free(p);
	}
	else
		test_cond("best_iteration bundle compiles", 0);
	free(img2);
	free(t);

	/* iteration_range [1, 2): only tree 1, and it beats best_iteration */
	t = replace(tiny, "{\"type\":\"xgboost\",", "{\"type\":\"xgboost\",\"iteration_range\":[1,2],");
	{
		char *t2 = replace(t, "\"attributes\":{}", "\"attributes\":{\"best_iteration\":\"0\"}");

		img2 = must_compile(t2, NULL);
		if (img2 && td_predictor_create(img2, &p, &err) == TD_OK)
		{
			td_image_get_stats(img2, &stats);
			test_cond("iteration_range honoured", stats.num_trees == 1 && stats.num_nodes == 3 &&
													  predict4(p, v_int(1), v_int(2), v_dbl(1.0), v_ts("2021-01-01 08:30"), &y, &err) == TD_OK && y == 0.625);
			td_predictor_free(p);
		}
		else
			test_cond("iteration_range bundle compiles", 0);
		free(img2);
		free(t2);
	}
	free(t);

	/* old objective name and num_parallel_tree without iteration_indptr */
	t = replace(tiny, "\"iteration_indptr\":[0,1,2],", "");
	{
		char *t2 = replace(t, "reg:squarederror", "reg:linear");

		img2 = must_compile(t2, NULL);
		test_cond("reg:linear without iteration_indptr", img2 != NULL);
		free(img2);
		free(t2);
		t2 = replace(t, "\"num_parallel_tree\":\"1\"", "\"num_parallel_tree\":\"2\"");
		img2 = must_compile(t2, NULL);
		td_image_get_stats(img2, &stats);
		test_cond("num_parallel_tree 2", img2 != NULL && stats.num_trees == 2);
		free(img2);
		free(t2);
	}
	free(t);
}

/* ------------------------------------------------------------------ */
/* linear                                                              */
/* ------------------------------------------------------------------ */

static void
test_linear(void)
{
	size_t		   len;
	char		  *text = tdc_test_read_file(TD_FIXTURE_DIR, "linear_tiny.bundle.json", &len);
	td_image	  *img = NULL;
	size_t		   size;
	td_predictor  *p = NULL;
	td_error	   err;
	td_value	   v[3];
	double		   y;
	td_image_stats stats;

	test_cond("linear fixture read", text != NULL);
	if (text == NULL)
		return;
	test_cond("linear fixture equals the built-in copy", strlen(linear_tiny) <= len &&
															 strncmp(text, linear_tiny, strlen(linear_tiny)) == 0);
	test_cond("linear compiles", td_compile_bundle(text, len, NULL, &img, &size, &err) == TD_OK);
	free(text);
	if (img == NULL)
		return;
	td_image_get_stats(img, &stats);
	test_cond("linear stats", stats.num_trees == 0 && stats.num_features == 5 &&
								  strcmp(td_image_meta(img, TD_META_ESTIMATOR_TYPE), "linear") == 0 &&
								  strcmp(td_image_meta(img, TD_META_OBJECTIVE), "") == 0);
	test_cond("linear checks", td_image_check(img, size, &err) == TD_OK);
	td_predictor_create(img, &p, &err);
	/* 2021-01-04 was a Monday (dow 0) */
	v[0] = v_int(7);
	v[1] = v_dbl(2.0);
	v[2] = v_ts("2021-01-06 10:00"); /* Wednesday: dow 2 */
	test_cond("linear row", td_predict(p, v, &y, &err) == TD_OK &&
								y == (0.5 * 2 + 10 * 1 + 3.25 * 2) + 2.5);
	v[0] = v_int(-3);
	v[1] = v_kind(TD_VALUE_NULL);
	v[2] = v_kind(TD_VALUE_ABSENT);
	test_cond("linear missing contributes nothing", td_predict(p, v, &y, &err) == TD_OK && y == -4 + 2.5);
	v[0] = v_int(99);
	test_cond("linear unseen category", td_predict(p, v, &y, &err) == TD_OK && y == 2.5);
	v[0] = v_kind(TD_VALUE_ABSENT);
	test_cond("linear missing required", td_predict(p, v, &y, &err) == TD_ERR_MISSING_INPUT);
	v[0] = v_int(12);
	v[1] = v_dbl(0.1);
	v[2] = v_ts("1969-12-28 00:00"); /* a Sunday: dow 6 */
	test_cond("linear pre-1970 day of week", td_predict(p, v, &y, &err) == TD_OK &&
												 y == (0.5 * 6 + 3.25 * 0.1 + 100 * 1.0) + 2.5);
	td_predictor_free(p);
	free(img);
	{
		const char *shortcoef =
			"{\"format\":\"taxi-duration-bundle\",\"format_version\":1,\"model\":{\"name\":\"l\",\"version\":\"1\"},"
			"\"inputs\":[{\"name\":\"x\",\"type\":\"number\",\"required\":true}],"
			"\"features\":{\"count\":1,\"numeric\":[{\"name\":\"x\",\"input\":\"x\",\"transform\":\"identity\",\"index\":0}]},"
			"\"estimator\":{\"type\":\"linear\",\"intercept\":1,\"coefficients\":[]}}";

		expect_raw("linear with a short coefficient list", shortcoef, strlen(shortcoef), NULL, TD_ERR_INVALID);
	}
}

/* ------------------------------------------------------------------ */
/* parity with real XGBoost                                            */
/* ------------------------------------------------------------------ */

static void
test_parity_one(const char *name)
{
	char		  file[256];
	size_t		  blen;
	size_t		  rlen;
	char		 *bundle;
	char		 *rows_text;
	cJSON		 *rows;
	cJSON		 *row;
	td_image	 *img = NULL;
	size_t		  size;
	td_predictor *p = NULL;
	td_error	  err;
	int			  n = 0;
	int			  bad = 0;
	char		  descr[1024];

	snprintf(file, sizeof(file), "%s.bundle.json", name);
	bundle = tdc_test_read_file(TD_FIXTURE_DIR, file, &blen);
	snprintf(file, sizeof(file), "%s.rows.json", name);
	rows_text = tdc_test_read_file(TD_FIXTURE_DIR, file, &rlen);
	snprintf(descr, sizeof(descr), "parity %s: fixtures read", name);
	test_cond(descr, bundle != NULL && rows_text != NULL);
	if (bundle == NULL || rows_text == NULL)
		return;
	snprintf(descr, sizeof(descr), "parity %s: compiles", name);
	test_cond(descr, td_compile_bundle(bundle, blen, NULL, &img, &size, &err) == TD_OK);
	if (img == NULL)
	{
		printf("  %s: %s\n", err.message, err.detail);
		free(bundle);
		free(rows_text);
		return;
	}
	test_cond("parity image checks", td_image_check(img, size, &err) == TD_OK);
	td_predictor_create(img, &p, &err);
	rows = cJSON_Parse(rows_text);
	cJSON_ArrayForEach(row, cJSON_GetObjectItem(rows, "rows"))
	{
		char	   *ride = cJSON_PrintUnformatted(cJSON_GetObjectItem(row, "ride"));
		const char *hex = cJSON_GetObjectItem(row, "expected")->valuestring;
		td_value	vals[8];
		char		rid[TD_RIDE_ID_MAX];
		double		y = 0;
		float		f;
		uint32_t	bits;
		uint32_t	want = (uint32_t) strtoul(hex, NULL, 16);
		td_status	st;

		st = td_decode_ride(img, ride, strlen(ride), vals, rid, &err);
		if (st == TD_OK)
			st = td_predict(p, vals, &y, &err);
		f = (float) y;
		memcpy(&bits, &f, 4);
		if (st != TD_OK || bits != want || (double) f != y)
		{
			if (bad < 5)
				printf("  %s row %d: %s got %08x want %08x (%s) %s\n", name, n, ride, bits, want,
					   td_status_name(st), err.detail);
			bad++;
		}
		cJSON_free(ride);
		n++;
	}
	snprintf(descr, sizeof(descr), "parity %s: %d rows bit-exact (%d differ)", name, n, bad);
	test_cond(descr, n > 100 && bad == 0);
	cJSON_Delete(rows);
	td_predictor_free(p);
	free(img);
	free(bundle);
	free(rows_text);
}

static void
test_parity(void)
{
	test_parity_one("xgb_hist");
	test_parity_one("xgb_hist_scalar_base");
	test_parity_one("xgb_best_iteration");
	test_parity_one("xgb_iteration_range");
	test_parity_one("xgb_exact_parallel");
}

/* ------------------------------------------------------------------ */
/* images                                                              */
/* ------------------------------------------------------------------ */

static void
test_image(void)
{
	size_t		   size;
	td_image	  *img = must_compile(tiny, &size);
	void		  *copy;
	td_predictor  *p = NULL;
	td_error	   err;
	double		   y = 0;
	size_t		   i;
	int			   rejected = 0;
	int			   survived = 0;
	unsigned char *buf;

	if (img == NULL)
		return;
	/* Relocation: copy, free the original, predict from the copy. */
	copy = malloc(size);
	memcpy(copy, img, size);
	memset(img, 0xAB, size);
	free(img);
	test_cond("relocated image checks", td_image_check(copy, size, &err) == TD_OK);
	test_cond("relocated predictor", td_predictor_create((td_image *) copy, &p, &err) == TD_OK);
	test_cond("relocated prediction", predict4(p, v_int(1), v_int(2), v_dbl(1.0), v_ts("2021-01-01 08:30:00"), &y, &err) == TD_OK &&
										  y == 1.625);
	test_cond("predictor image", td_predictor_image(p) == copy);
	td_predictor_free(p);

	test_cond("truncated image", td_image_check(copy, size - 1, &err) == TD_ERR_IMAGE);
	test_cond("header-only image", td_image_check(copy, 16, &err) == TD_ERR_IMAGE);
	test_cond("NULL image", td_image_check(NULL, size, &err) == TD_ERR_IMAGE);
	buf = malloc(size + 8);
	memcpy(buf + 1, copy, size);
	test_cond("misaligned image", td_image_check(buf + 1, size, &err) == TD_ERR_IMAGE);
	memcpy(buf, copy, size);
	buf[0] ^= 1;
	test_cond("bad magic", td_image_check(buf, size, &err) == TD_ERR_IMAGE && strstr(err.detail, "magic"));
	memcpy(buf, copy, size);
	buf[4] ^= 1;
	test_cond("bad layout version", td_image_check(buf, size, &err) == TD_ERR_IMAGE);
	test_cond("header check finds a bad layout version too",
			  td_image_check_header(buf, size, &err) == TD_ERR_IMAGE);
	test_cond("header check accepts a good image", td_image_check_header(copy, size, &err) == TD_OK);
	test_cond("header check rejects a truncated image",
			  td_image_check_header(copy, size - 1, &err) == TD_ERR_IMAGE);
	{
		/* a node table corrupted past the header: only the full check sees it */
		const td_image_header *h = (const td_image_header *) copy;
		td_image_node		  *nodes;

		memcpy(buf, copy, size);
		nodes = (td_image_node *) (buf + h->nodes_off);
		nodes[0].left = (int32_t) h->num_nodes + 5;
		test_cond("header check passes a corrupted node table",
				  td_image_check_header(buf, size, &err) == TD_OK);
		test_cond("full check rejects a corrupted node table",
				  td_image_check(buf, size, &err) == TD_ERR_IMAGE);
	}
	{
		/* the reduced trees and one-hot tree lists must match the node table */
		const td_image_header *h = (const td_image_header *) copy;

		test_cond("image has reduced trees", h->rtrees_off != 0 && h->num_rnodes > 0 &&
												 h->num_rnodes <= h->num_nodes);
		memcpy(buf, copy, size);
		((td_image_node *) (buf + h->rnodes_off))[0].value += 1.0f;
		test_cond("full check rejects a changed reduced node",
				  td_image_check(buf, size, &err) == TD_ERR_IMAGE && strstr(err.detail, "reduced"));
		memcpy(buf, copy, size);
		((td_image_tree *) (buf + h->rtrees_off))[0].count += 1;
		test_cond("full check rejects a changed reduced tree",
				  td_image_check(buf, size, &err) == TD_ERR_IMAGE);
		memcpy(buf, copy, size);
		((uint32_t *) (buf + h->fptr_off))[h->num_features] += 1;
		test_cond("full check rejects a changed one-hot index",
				  td_image_check(buf, size, &err) == TD_ERR_IMAGE);
		memcpy(buf, copy, size);
		((td_image_header *) buf)->rnodes_off = h->total_size;
		test_cond("full check rejects reduced nodes outside the image",
				  td_image_check(buf, size, &err) == TD_ERR_IMAGE);
		if (h->num_ftrees > 0)
		{
			memcpy(buf, copy, size);
			((uint32_t *) (buf + h->ftrees_off))[0] ^= 1u;
			test_cond("full check rejects a changed tree list",
					  td_image_check(buf, size, &err) == TD_ERR_IMAGE);
		}
	}

	/* Flip each byte in turn: check must reject or the image must be safe to use. */
	for (i = 0; i < size; i++)
	{
		int bit;

		for (bit = 0; bit < 8; bit += 3)
		{
			memcpy(buf, copy, size);
			buf[i] ^= (unsigned char) (1u << bit);
			if (td_image_check(buf, size, &err) != TD_OK)
			{
				rejected++;
				continue;
			}
			survived++;
			if (td_predictor_create((td_image *) buf, &p, &err) == TD_OK)
			{
				td_value vals[8];
				uint32_t k;

				for (k = 0; k < td_image_num_inputs((td_image *) buf) && k < 8; k++)
					vals[k] = v_int(1);
				td_predict(p, vals, &y, &err);
				td_predictor_free(p);
			}
		}
	}
	test_cond("corrupted images are rejected or harmless", rejected > 0 && survived > 0);
	free(buf);
	free(copy);
}

/* ------------------------------------------------------------------ */
/* timestamps                                                          */
/* ------------------------------------------------------------------ */

static bool
ts_is(const char *s, int64_t want)
{
	int64_t got = 0;

	return td_parse_timestamp(s, strlen(s), &got) && got == want;
}

static bool
ts_bad(const char *s)
{
	int64_t got;

	return !td_parse_timestamp(s, strlen(s), &got);
}

static void
test_timestamps(void)
{
	test_cond("epoch", ts_is("1970-01-01 00:00", 0));
	test_cond("epoch with seconds", ts_is("1970-01-01 00:00:00", 0));
	test_cond("T separator", ts_is("1970-01-01T00:00:01", 1000000));
	test_cond("fraction", ts_is("1970-01-01 00:00:01.5", 1500000));
	test_cond("fraction 6 digits", ts_is("1970-01-01 00:00:00.000001", 1));
	test_cond("2021-01-01", ts_is("2021-01-01 00:00", INT64_C(1609459200) * 1000000));
	test_cond("leap day 2020", ts_is("2020-02-29 12:00", INT64_C(1582977600) * 1000000));
	test_cond("leap day 2000", ts_is("2000-02-29 00:00", INT64_C(951782400) * 1000000));
	test_cond("before 1970", ts_is("1969-12-31 23:59:59", -1000000));
	test_cond("1900-03-01", ts_is("1900-03-01 00:00", INT64_C(-2203891200) * 1000000));
	test_cond("end of year", ts_is("2022-12-31 23:59:59.999999", INT64_C(1672531199999999)));
	test_cond("no leap day 2021", ts_bad("2021-02-29 00:00"));
	test_cond("no leap day 1900", ts_bad("1900-02-29 00:00"));
	test_cond("month 13", ts_bad("2021-13-01 00:00"));
	test_cond("day 0", ts_bad("2021-01-00 00:00"));
	test_cond("April 31", ts_bad("2021-04-31 00:00"));
	test_cond("hour 24", ts_bad("2021-01-01 24:00"));
	test_cond("minute 60", ts_bad("2021-01-01 23:60"));
	test_cond("second 60", ts_bad("2021-01-01 23:59:60"));
	test_cond("zone Z", ts_bad("2021-01-01 10:00:00Z"));
	test_cond("zone offset", ts_bad("2021-01-01 10:00:00+01:00"));
	test_cond("date only", ts_bad("2021-01-01"));
	test_cond("empty", ts_bad(""));
	test_cond("seven fraction digits", ts_bad("2021-01-01 10:00:00.1234567"));
	test_cond("dot without digits", ts_bad("2021-01-01 10:00:00."));
	test_cond("one-digit month", ts_bad("2021-1-01 10:00:00"));
	test_cond("slash date", ts_bad("2021/01/01 10:00:00"));
	test_cond("trailing space", ts_bad("2021-01-01 10:00:00 "));
	test_cond("year 0", ts_bad("0000-01-01 10:00:00"));
	{
		int64_t us;

		test_cond("length is respected", td_parse_timestamp("2021-01-01 10:00:00xyz", 19, &us) &&
											 us == INT64_C(1609495200) * 1000000);
		test_cond("short length", !td_parse_timestamp("2021-01-01 10:00", 15, &us));
	}
}

/* ------------------------------------------------------------------ */
/* trip events                                                         */
/* ------------------------------------------------------------------ */

static td_status
decode(const td_image *img, const char *json, td_value *v, char *rid, td_error *err)
{
	return td_decode_ride(img, json, strlen(json), v, rid, err);
}

static void
test_rides(void)
{
	td_image *img = must_compile(tiny, NULL);
	td_value  v[4];
	char	  rid[TD_RIDE_ID_MAX];
	td_error  err;
	char	  big[600];
	int		  i;

	if (img == NULL)
		return;
	test_cond("trip event form",
			  decode(img, "{\"ride\":{\"PULocationID\":130,\"DOLocationID\":205.0,\"trip_distance\":3.5,"
						  "\"pickup_datetime\":\"2021-01-01 08:30:00\"},\"ride_id\":156}",
					 v, rid, &err) == TD_OK &&
				  v[0].kind == TD_VALUE_INT && v[0].i == 130 && v[1].kind == TD_VALUE_INT && v[1].i == 205 &&
				  v[2].kind == TD_VALUE_DOUBLE && v[2].d == 3.5 && v[3].kind == TD_VALUE_TIMESTAMP &&
				  strcmp(rid, "156") == 0);
	/* ride ids: a number exactly as the event wrote it, never through a double */
	test_cond("2^53 + 1 exactly",
			  decode(img, "{\"ride\":{},\"ride_id\":9007199254740993}", v, rid, &err) == TD_OK &&
				  strcmp(rid, "9007199254740993") == 0);
	test_cond("int64 extremes exactly",
			  decode(img, "{\"ride_id\": -9223372036854775808 ,\"ride\":{}}", v, rid, &err) == TD_OK &&
				  strcmp(rid, "-9223372036854775808") == 0 &&
				  decode(img, "{\"ride_id\":18446744073709551615}", v, rid, &err) == TD_OK &&
				  strcmp(rid, "18446744073709551615") == 0);
	test_cond("an exponent is kept as written",
			  decode(img, "{\"ride_id\":1e+17}", v, rid, &err) == TD_OK && strcmp(rid, "1e+17") == 0);
	test_cond("the top-level ride_id, not one inside ride or a string",
			  decode(img, "{\"note\":\"\\\"ride_id\\\":1, {[\",\"ride\":{\"ride_id\":2,\"x\":[{\"ride_id\":3}]},"
						  "\"ride_id\":4}",
					 v, rid, &err) == TD_OK &&
				  strcmp(rid, "4") == 0);
	test_cond("the first of duplicate ride_ids, as cJSON reads it",
			  decode(img, "{\"ride_id\":12345678901234567,\"ride_id\":5}", v, rid, &err) == TD_OK &&
				  strcmp(rid, "12345678901234567") == 0);
	test_cond("an escaped key falls back to cJSON's value",
			  decode(img, "{\"ride\\u005fid\":7}", v, rid, &err) == TD_OK && strcmp(rid, "7") == 0);
	test_cond("a non-finite ride id is refused",
			  decode(img, "{\"ride_id\":1e999}", v, rid, &err) == TD_ERR_RIDE_JSON && rid[0] == '\0');
	test_cond("bare ride form",
			  decode(img, "{\"PULocationID\":1,\"DOLocationID\":2,\"trip_distance\":7,\"ride_id\":\"abc-1\"}", v, rid, &err) == TD_OK &&
				  v[0].i == 1 && v[2].d == 7 && v[3].kind == TD_VALUE_ABSENT && strcmp(rid, "\"abc-1\"") == 0);
	test_cond("null values",
			  decode(img, "{\"ride\":{\"PULocationID\":null,\"DOLocationID\":2,\"trip_distance\":null,\"pickup_datetime\":null}}", v, rid, &err) == TD_OK &&
				  v[0].kind == TD_VALUE_NULL && v[2].kind == TD_VALUE_NULL && v[3].kind == TD_VALUE_NULL && rid[0] == '\0');
	test_cond("alias key",
			  decode(img, "{\"ride\":{\"lpep_pickup_datetime\":\"2021-01-01T08:30\"}}", v, rid, &err) == TD_OK &&
				  v[3].kind == TD_VALUE_TIMESTAMP && v[0].kind == TD_VALUE_ABSENT);
	test_cond("keys are exact",
			  decode(img, "{\"ride\":{\"pulocationid\":3}}", v, rid, &err) == TD_OK && v[0].kind == TD_VALUE_ABSENT);
	test_cond("string for integer",
			  decode(img, "{\"ride\":{\"PULocationID\":\"130\"}}", v, rid, &err) == TD_ERR_RIDE_JSON &&
				  strstr(err.detail, "PULocationID") != NULL);
	test_cond("fraction for integer",
			  decode(img, "{\"ride\":{\"PULocationID\":130.5}}", v, rid, &err) == TD_ERR_INPUT);
	test_cond("1e999 for number",
			  decode(img, "{\"ride\":{\"trip_distance\":1e999}}", v, rid, &err) == TD_OK &&
				  v[2].kind == TD_VALUE_DOUBLE && isinf(v[2].d));
	test_cond("number for timestamp",
			  decode(img, "{\"ride\":{\"pickup_datetime\":1609459200}}", v, rid, &err) == TD_ERR_RIDE_JSON);
	test_cond("bad timestamp string",
			  decode(img, "{\"ride\":{\"pickup_datetime\":\"yesterday\"}}", v, rid, &err) == TD_ERR_INPUT);
	test_cond("bool for number",
			  decode(img, "{\"ride\":{\"trip_distance\":true}}", v, rid, &err) == TD_ERR_RIDE_JSON);
	test_cond("ride not an object",
			  decode(img, "{\"ride\":[1,2]}", v, rid, &err) == TD_ERR_RIDE_JSON);
	test_cond("top level not an object", decode(img, "[1]", v, rid, &err) == TD_ERR_RIDE_JSON);
	test_cond("bad JSON", decode(img, "{\"ride\":", v, rid, &err) == TD_ERR_RIDE_JSON);
	test_cond("empty", td_decode_ride(img, "", 0, v, rid, &err) == TD_ERR_RIDE_JSON);
	test_cond("trailing garbage", decode(img, "{} {}", v, rid, &err) == TD_ERR_RIDE_JSON);
	test_cond("ride_id absent", decode(img, "{\"ride\":{}}", v, rid, &err) == TD_OK && rid[0] == '\0');
	test_cond("ride_id float", decode(img, "{\"ride\":{},\"ride_id\":1.5}", v, rid, &err) == TD_OK && strcmp(rid, "1.5") == 0);
	test_cond("ride_id escaped string", decode(img, "{\"ride\":{},\"ride_id\":\"a\\\"b\"}", v, rid, &err) == TD_OK &&
											strcmp(rid, "\"a\\\"b\"") == 0);
	test_cond("ride_id object", decode(img, "{\"ride\":{},\"ride_id\":{}}", v, rid, &err) == TD_ERR_RIDE_JSON);
	strcpy(big, "{\"ride\":{},\"ride_id\":\"");
	for (i = 0; i < 300; i++)
		strcat(big, "x");
	strcat(big, "\"}");
	test_cond("very long ride_id", decode(img, big, v, rid, &err) == TD_ERR_RIDE_JSON && rid[0] == '\0');
	/* 126 characters + quotes = 128 bytes: too long; 125 fits exactly. */
	strcpy(big, "{\"ride\":{},\"ride_id\":\"");
	for (i = 0; i < 125; i++)
		strcat(big, "y");
	strcat(big, "\"}");
	test_cond("ride_id at the limit", decode(img, big, v, rid, &err) == TD_OK && strlen(rid) == 127);
	free(img);
}

/*
 * Non-finite floats and strings: the event must get the answer SQL gives
 * for the same row.  SQL's predict_duration(pu, do, distance float8) hands
 * td_predict a TD_VALUE_DOUBLE; the decoder writes a NaN/±Infinity float as
 * the JSON string "NaN"/"Infinity"/"-Infinity".  Same status, same reason,
 * same prediction (NaN is missing, like NULL).
 */
static td_status
predict_sql(td_predictor *p, double distance, bool null_distance, double *y, td_error *err)
{
	td_value v[4] = { { TD_VALUE_INT, 1, 0 }, { TD_VALUE_INT, 2, 0 }, { TD_VALUE_DOUBLE, 0, distance }, { TD_VALUE_ABSENT, 0, 0 } };

	if (null_distance)
		v[2].kind = TD_VALUE_NULL;
	return td_predict(p, v, y, err);
}

static td_status
predict_event(td_predictor *p, const td_image *img, const char *json, double *y, td_error *err)
{
	td_value  v[4];
	char	  rid[TD_RIDE_ID_MAX];
	td_status st = td_decode_ride(img, json, strlen(json), v, rid, err);

	return st != TD_OK ? st : td_predict(p, v, y, err);
}

static void
test_non_finite_rides(void)
{
	td_image	 *img = must_compile(tiny, NULL);
	td_predictor *p = NULL;
	td_value	  v[4];
	char		  rid[TD_RIDE_ID_MAX];
	td_error	  err;
	td_error	  sql_err;
	double		  y = 0;
	double		  y_sql = 1;

	if (img == NULL || td_predictor_create(img, &p, &err) != TD_OK)
	{
		test_cond("non-finite: tiny compiles", false);
		free(img);
		return;
	}
	test_cond("\"NaN\" is a NaN double",
			  decode(img, "{\"ride\":{\"trip_distance\":\"NaN\"}}", v, rid, &err) == TD_OK &&
				  v[2].kind == TD_VALUE_DOUBLE && isnan(v[2].d));
	test_cond("\"Infinity\" and \"-Infinity\" are infinite doubles",
			  decode(img, "{\"ride\":{\"trip_distance\":\"Infinity\"}}", v, rid, &err) == TD_OK &&
				  v[2].kind == TD_VALUE_DOUBLE && isinf(v[2].d) && v[2].d > 0 &&
				  decode(img, "{\"ride\":{\"trip_distance\":\"-Infinity\"}}", v, rid, &err) == TD_OK &&
				  v[2].kind == TD_VALUE_DOUBLE && isinf(v[2].d) && v[2].d < 0);
	test_cond("NaN scores as SQL's NaN and NULL do (missing)",
			  predict_event(p, img, "{\"ride\":{\"PULocationID\":1,\"DOLocationID\":2,\"trip_distance\":\"NaN\"},\"ride_id\":1}", &y, &err) == TD_OK &&
				  predict_sql(p, NAN, false, &y_sql, &sql_err) == TD_OK && y == y_sql &&
				  predict_sql(p, 0, true, &y_sql, &sql_err) == TD_OK && y == y_sql);
	test_cond("Infinity is refused as SQL refuses it, with the same reason",
			  predict_event(p, img, "{\"ride\":{\"PULocationID\":1,\"DOLocationID\":2,\"trip_distance\":\"Infinity\"},\"ride_id\":1}", &y, &err) == TD_ERR_INPUT &&
				  predict_sql(p, INFINITY, false, &y_sql, &sql_err) == TD_ERR_INPUT &&
				  strcmp(err.message, sql_err.message) == 0 && strcmp(err.detail, sql_err.detail) == 0 &&
				  strstr(err.detail, "\"trip_distance\" is infinite") != NULL);
	test_cond("-Infinity is refused as SQL refuses it, with the same reason",
			  predict_event(p, img, "{\"ride\":{\"PULocationID\":1,\"DOLocationID\":2,\"trip_distance\":\"-Infinity\"}}", &y, &err) == TD_ERR_INPUT &&
				  predict_sql(p, -INFINITY, false, &y_sql, &sql_err) == TD_ERR_INPUT &&
				  strcmp(err.detail, sql_err.detail) == 0);
	test_cond("an infinite zone (a float column) is refused by td_predict",
			  predict_event(p, img, "{\"ride\":{\"PULocationID\":\"Infinity\",\"DOLocationID\":2,\"trip_distance\":1}}", &y, &err) == TD_ERR_INPUT &&
				  strstr(err.detail, "\"PULocationID\" is infinite") != NULL);
	test_cond("a NaN zone is missing, as a float8 NaN is for the trigger",
			  decode(img, "{\"ride\":{\"PULocationID\":\"NaN\"}}", v, rid, &err) == TD_OK &&
				  v[0].kind == TD_VALUE_DOUBLE && isnan(v[0].d));
	/* only PostgreSQL's exact spellings; a number in a string is not a number */
	test_cond("\"nan\", \"inf\", \"+Infinity\", \" NaN\" are refused",
			  decode(img, "{\"ride\":{\"trip_distance\":\"nan\"}}", v, rid, &err) == TD_ERR_RIDE_JSON &&
				  decode(img, "{\"ride\":{\"trip_distance\":\"inf\"}}", v, rid, &err) == TD_ERR_RIDE_JSON &&
				  decode(img, "{\"ride\":{\"trip_distance\":\"+Infinity\"}}", v, rid, &err) == TD_ERR_RIDE_JSON &&
				  decode(img, "{\"ride\":{\"trip_distance\":\" NaN\"}}", v, rid, &err) == TD_ERR_RIDE_JSON);
	test_cond("a text zone \"130\" is refused, saying it is a string",
			  decode(img, "{\"ride\":{\"PULocationID\":\"130\",\"DOLocationID\":2,\"trip_distance\":1}}", v, rid, &err) == TD_ERR_RIDE_JSON &&
				  strstr(err.detail, "\"PULocationID\" is a JSON string, not a number") != NULL);
	test_cond("a numeric string distance is refused",
			  decode(img, "{\"ride\":{\"trip_distance\":\"3.66\"}}", v, rid, &err) == TD_ERR_RIDE_JSON);
	test_cond("an infinite timestamp is refused, as SQL refuses it",
			  decode(img, "{\"ride\":{\"lpep_pickup_datetime\":\"infinity\"}}", v, rid, &err) == TD_ERR_INPUT &&
				  strstr(err.detail, "must be a finite timestamp") != NULL &&
				  decode(img, "{\"ride\":{\"lpep_pickup_datetime\":\"-infinity\"}}", v, rid, &err) == TD_ERR_INPUT);
	test_cond("\"NaN\" is not a timestamp",
			  decode(img, "{\"ride\":{\"pickup_datetime\":\"NaN\"}}", v, rid, &err) == TD_ERR_INPUT);
	td_predictor_free(p);
	free(img);
}

/* ------------------------------------------------------------------ */
/* allocation failure                                                  */
/* ------------------------------------------------------------------ */

static long fail_at = -1;
static long n_allocs = 0;
static long live = 0;

static void *
failing_malloc(size_t size)
{
	void *p;

	n_allocs++;
	if (fail_at >= 0 && n_allocs >= fail_at)
		return NULL;
	p = malloc(size);
	if (p)
		live++;
	return p;
}

static void
counting_free(void *ptr)
{
	if (ptr)
	{
		live--;
		free(ptr);
	}
}

static void
test_alloc_failure(void)
{
	tdc_allocator a = { failing_malloc, NULL, counting_free };
	long		  n;
	int			  bad = 0;
	int			  nomem = 0;
	bool		  ok = false;
	const char	 *ride = "{\"ride\":{\"PULocationID\":1,\"DOLocationID\":2,\"trip_distance\":3.5,"
						 "\"pickup_datetime\":\"2021-01-01 08:30\"},\"ride_id\":\"r-1\"}";

	tdc_set_allocator(&a);
	for (n = 1; n < 100000 && !ok; n++)
	{
		td_image *img = NULL;
		size_t	  size;
		td_error  err;
		td_status st;

		fail_at = n;
		n_allocs = 0;
		live = 0;
		st = td_compile_bundle(tiny, strlen(tiny), NULL, &img, &size, &err);
		if (st == TD_OK)
		{
			td_predictor *p = NULL;
			td_value	  v[4];
			char		  rid[TD_RIDE_ID_MAX];
			double		  y;

			st = td_predictor_create(img, &p, &err);
			if (st == TD_OK)
			{
				st = td_decode_ride(img, ride, strlen(ride), v, rid, &err);
				if (st == TD_OK)
				{
					st = td_predict(p, v, &y, &err);
					if (st != TD_OK || y != 0.125)
						bad++;
					else
						ok = true;
				}
				td_predictor_free(p);
			}
			counting_free(img);
		}
		if (st != TD_OK)
		{
			if (st == TD_ERR_NOMEM && strcmp(err.message, "out of memory") == 0)
				nomem++;
			else
			{
				if (bad < 3)
					printf("  allocation %ld failed: %s %s\n", n, td_status_name(st), err.detail);
				bad++;
			}
		}
		if (live != 0)
		{
			if (bad < 3)
				printf("  allocation %ld failed: %ld blocks leaked\n", n, live);
			bad++;
		}
	}
	fail_at = -1;
	tdc_set_allocator(NULL);
	test_cond("every allocation failure is TD_ERR_NOMEM without leaks", bad == 0 && ok && nomem > 10);
}

int
main(void)
{
	test_validation();
	test_semantics();
	test_linear();
	test_parity();
	test_image();
	test_timestamps();
	test_rides();
	test_non_finite_rides();
	test_alloc_failure();
	test_report();
	return td_tests_failed == 0 ? 0 : 1;
}
