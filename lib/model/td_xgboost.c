/*
 * td_xgboost.c — reading the XGBoost booster embedded in a bundle
 * (XGBoost's own JSON model, 1.7 to 3.x): objective, base_score in both
 * spellings, learner parameters, the iteration range to evaluate, and every
 * tree, validated completely and written out renumbered into the image.
 *
 * Floats: cJSON keeps every JSON number as a double, so thresholds and leaf
 * values are converted with (float) from the double cJSON's strtod produced,
 * not with strtof on the text.  The two differ only when the decimal text
 * lies within half a double ulp of the midpoint between two floats; XGBoost
 * writes the shortest text that round-trips a float32 (Ryu, at most nine
 * significant digits), for which that does not happen in practice, and the
 * parity fixtures (tests/unit/fixtures) check it against real XGBoost
 * output.  base_score, a string in XGBoost's JSON, is parsed with strtof.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_internal.h"
#include "td_image_layout.h"

#define ECHO(s, buf) tdc_echo((s), (buf), sizeof(buf))

static const cJSON *
member(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static td_status
fail(td_plan *plan, td_status st, const char *detail)
{
	td_error_set(plan->err, st, "%s", detail);
	return st;
}

/*
 * XGBoost's integers-in-strings: "0" or [1-9][0-9]* (no sign, space or
 * leading zero), at most max.
 */
static bool
parse_uint_text(const char *s, uint64_t max, uint64_t *out)
{
	if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	if (s[0] < '0' || s[0] > '9')
		return false;
	return td_parse_uint_string(s, max, out) && strchr(s, ' ') == NULL;
}

/* An object member that must be a string holding a non-negative integer. */
static td_status
get_uint_param(td_plan *plan, const cJSON *obj, const char *key,
			   const char *where, bool required, uint64_t dflt, uint64_t *out)
{
	const cJSON *item = member(obj, key);

	*out = dflt;
	if (item == NULL)
	{
		if (required)
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "The booster's %s has no \"%s\".", where, key);
			return TD_ERR_INVALID;
		}
		return TD_OK;
	}
	if (cJSON_IsString(item) &&
		parse_uint_text(item->valuestring, UINT32_MAX, out))
		return TD_OK;
	td_error_set(plan->err, TD_ERR_INVALID,
				 "The booster's %s has a \"%s\" that is not a string of decimal digits (XGBoost writes \"12\", not 12).",
				 where, key);
	return TD_ERR_INVALID;
}

/* Length of the JSON number at s (-?int[.frac][e[+-]exp]), or 0. */
static size_t
json_number_len(const char *s)
{
	size_t i = 0;
	size_t d;

	if (s[i] == '-')
		i++;
	if (s[i] == '0')
		i++;
	else
	{
		for (d = i; s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	if (s[i] == '.')
	{
		for (d = ++i; s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	if (s[i] == 'e' || s[i] == 'E')
	{
		i++;
		if (s[i] == '+' || s[i] == '-')
			i++;
		for (d = i; s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	return i;
}

/*
 * base_score: "5E-1" (XGBoost up to 3.0) or "[5E-1]" (3.1+): one JSON
 * number, bare or in brackets, nothing else (no space, no second element),
 * finite in float32.
 */
static td_status
parse_base_score(td_plan *plan, const char *text, float *out)
{
	char		buf[64];
	const char *p = text;
	size_t		n;
	float		v;

	if (p[0] == '[')
		p++;
	n = json_number_len(p);
	if (n > 0 && strchr(p + n, ',') != NULL && text[0] == '[')
		return fail(plan, TD_ERR_UNSUPPORTED,
					"The booster's base_score has more than one element; only single-target models are supported.");
	if (n == 0 || n >= sizeof(buf) ||
		strcmp(p + n, text[0] == '[' ? "]" : "") != 0)
		return fail(plan, TD_ERR_INVALID,
					"The booster's base_score is not one JSON number, bare (\"5E-1\") or in brackets (\"[5E-1]\").");
	memcpy(buf, p, n);
	buf[n] = '\0';
	v = strtof(buf, NULL);
	if (!isfinite(v))
		return fail(plan, TD_ERR_INVALID,
					"The booster's base_score is not a finite float32.");
	*out = v;
	return TD_OK;
}

static bool
known_objective(const char *name)
{
	return strcmp(name, "reg:squarederror") == 0 ||
		   strcmp(name, "reg:linear") == 0 ||
		   strcmp(name, "reg:absoluteerror") == 0 ||
		   strcmp(name, "reg:pseudohubererror") == 0;
}

/*
 * booster.version: an array of integers (XGBoost's [major, minor, patch]);
 * learner.attributes, when present: an object of strings.
 */
static td_status
check_version_and_attributes(td_plan *plan, const cJSON *booster,
							 const cJSON *learner)
{
	const cJSON *v = member(booster, "version");
	const cJSON *a = member(learner, "attributes");
	const cJSON *e;

	if (!cJSON_IsArray(v))
		return fail(plan, TD_ERR_INVALID,
					"The booster has no \"version\" array; it is not an XGBoost JSON model.");
	cJSON_ArrayForEach(e, v)
	{
		if (!td_json_is_integer(e))
			return fail(plan, TD_ERR_INVALID,
						"The booster's \"version\" holds something other than integers.");
	}
	if (a == NULL)
		return TD_OK;
	if (!cJSON_IsObject(a))
		return fail(plan, TD_ERR_INVALID,
					"The booster's learner \"attributes\" is not an object.");
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsString(e))
			return fail(plan, TD_ERR_INVALID,
						"The booster's learner \"attributes\" holds a value that is not a string.");
	}
	return TD_OK;
}

static const char *const tree_arrays[] = {
	"left_children", "right_children", "split_indices", "split_conditions",
	"default_left"
};

/* Cheap pass over one tree: sizes and shapes, before anything is allocated. */
static td_status
plan_tree(td_plan *plan, uint32_t t, const cJSON *tree, uint32_t *reachable,
		  uint32_t *declared)
{
	const cJSON *param;
	const cJSON *cats;
	uint64_t	 num_nodes;
	uint64_t	 num_deleted;
	uint64_t	 leaf_vector;
	size_t		 a;
	td_status	 st;
	char		 where[64];

	snprintf(where, sizeof(where), "tree %u", t);
	if (!cJSON_IsObject(tree))
	{
		td_error_set(plan->err, TD_ERR_INVALID, "Tree %u is not an object.", t);
		return TD_ERR_INVALID;
	}
	param = member(tree, "id");
	if (!td_json_is_integer(param) || param->valuedouble != (double) t)
	{
		/* XGBoost places each tree by its id: a wrong one leaves a hole. */
		td_error_set(plan->err, TD_ERR_INVALID,
					 "Tree %u has no integer \"id\" equal to its position, %u.", t, t);
		return TD_ERR_INVALID;
	}
	param = member(tree, "tree_param");
	if (!cJSON_IsObject(param))
	{
		td_error_set(plan->err, TD_ERR_INVALID, "Tree %u has no \"tree_param\" object.", t);
		return TD_ERR_INVALID;
	}
	if ((st = get_uint_param(plan, param, "num_nodes", where, true, 0, &num_nodes)) != TD_OK ||
		(st = get_uint_param(plan, param, "num_deleted", where, false, 0, &num_deleted)) != TD_OK ||
		(st = get_uint_param(plan, param, "size_leaf_vector", where, false, 1, &leaf_vector)) != TD_OK)
		return st;
	if (num_nodes > plan->limits->max_nodes_per_tree)
	{
		td_error_set(plan->err, TD_ERR_LIMIT,
					 "Tree %u has %llu nodes; the limit is %u nodes per tree.",
					 t, (unsigned long long) num_nodes, plan->limits->max_nodes_per_tree);
		return TD_ERR_LIMIT;
	}
	if (num_nodes == 0 || num_deleted >= num_nodes)
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "Tree %u has %llu nodes of which %llu are deleted.",
					 t, (unsigned long long) num_nodes, (unsigned long long) num_deleted);
		return TD_ERR_INVALID;
	}
	if (leaf_vector > 1)
	{
		td_error_set(plan->err, TD_ERR_UNSUPPORTED,
					 "Tree %u has vector leaves (size_leaf_vector %llu); only single-target models are supported.",
					 t, (unsigned long long) leaf_vector);
		return TD_ERR_UNSUPPORTED;
	}
	cats = member(tree, "categories");
	if (cats != NULL && (!cJSON_IsArray(cats) || cats->child != NULL))
	{
		td_error_set(plan->err, TD_ERR_UNSUPPORTED,
					 "Tree %u has categorical splits, which are not supported.", t);
		return TD_ERR_UNSUPPORTED;
	}
	for (a = 0; a < sizeof(tree_arrays) / sizeof(tree_arrays[0]); a++)
	{
		const cJSON *arr = member(tree, tree_arrays[a]);
		uint32_t	 n;

		if (!cJSON_IsArray(arr))
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Tree %u has no \"%s\" array.", t, tree_arrays[a]);
			return TD_ERR_INVALID;
		}
		n = td_json_count_children(arr, (uint32_t) num_nodes);
		if (n != num_nodes)
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Tree %u has %s%u elements in \"%s\", but num_nodes is %llu.",
						 t, n > num_nodes ? "more than " : "", n > num_nodes ? (uint32_t) num_nodes : n,
						 tree_arrays[a], (unsigned long long) num_nodes);
			return TD_ERR_INVALID;
		}
	}
	cats = member(tree, "parents");
	if (cats != NULL && (!cJSON_IsArray(cats) ||
						 td_json_count_children(cats, (uint32_t) num_nodes) != num_nodes))
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "Tree %u has a \"parents\" that is not an array of num_nodes elements.", t);
		return TD_ERR_INVALID;
	}
	*declared = (uint32_t) num_nodes;
	*reachable = (uint32_t) (num_nodes - num_deleted);
	return TD_OK;
}

td_status
td_xgb_plan_booster(td_plan *plan, const cJSON *estimator)
{
	td_xgb_plan *xgb = &plan->xgb;
	const cJSON *booster = member(estimator, "booster");
	const cJSON *learner;
	const cJSON *lmp;
	const cJSON *obj;
	const cJSON *gb;
	const cJSON *model;
	const cJSON *trees;
	const cJSON *item;
	const cJSON *indptr;
	const cJSON *range;
	const char	*gbname;
	uint64_t	 v;
	uint64_t	 npt;
	uint32_t	 n;
	uint32_t	 iterations;
	uint32_t	 it_begin;
	uint32_t	 it_end;
	uint32_t	 i;
	uint64_t	 total = 0;
	uint64_t	 evaluated = 0;
	uint32_t	*starts = NULL;
	td_status	 st;
	char		 buf[80];

	if (!cJSON_IsObject(booster))
		return fail(plan, TD_ERR_INVALID,
					"The \"estimator\" object has no \"booster\" object.");
	learner = member(booster, "learner");
	if (!cJSON_IsObject(learner))
		return fail(plan, TD_ERR_INVALID,
					"The booster has no \"learner\" object; it is not an XGBoost JSON model.");
	if ((st = check_version_and_attributes(plan, booster, learner)) != TD_OK)
		return st;
	lmp = member(learner, "learner_model_param");
	if (!cJSON_IsObject(lmp))
		return fail(plan, TD_ERR_INVALID,
					"The booster has no \"learner_model_param\" object.");
	if ((st = get_uint_param(plan, lmp, "num_feature", "learner_model_param", true, 0, &v)) != TD_OK)
		return st;
	if (v != plan->num_features)
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "The booster has %llu features, but \"features.count\" is %u.",
					 (unsigned long long) v, plan->num_features);
		return TD_ERR_INVALID;
	}
	if ((st = get_uint_param(plan, lmp, "num_class", "learner_model_param", false, 0, &v)) != TD_OK)
		return st;
	if (v > 1)
		return fail(plan, TD_ERR_UNSUPPORTED,
					"The booster is a multi-class model (num_class > 1); only single-output regression is supported.");
	if ((st = get_uint_param(plan, lmp, "num_target", "learner_model_param", false, 1, &v)) != TD_OK)
		return st;
	if (v > 1)
		return fail(plan, TD_ERR_UNSUPPORTED,
					"The booster is a multi-target model (num_target > 1); only single-output regression is supported.");
	item = member(lmp, "base_score");
	if (!cJSON_IsString(item) || item->valuestring == NULL)
		return fail(plan, TD_ERR_INVALID,
					"The booster's learner_model_param has no \"base_score\" string.");
	if ((st = parse_base_score(plan, item->valuestring, &xgb->base_score)) != TD_OK)
		return st;

	obj = member(member(learner, "objective"), "name");
	if (!cJSON_IsString(obj) || obj->valuestring == NULL)
		return fail(plan, TD_ERR_INVALID, "The booster has no \"objective.name\" string.");
	if (!known_objective(obj->valuestring))
	{
		td_error_set(plan->err, TD_ERR_UNSUPPORTED,
					 "The booster's objective \"%s\" is not supported; the supported objectives are reg:squarederror (reg:linear), reg:absoluteerror and reg:pseudohubererror.",
					 ECHO(obj->valuestring, buf));
		return TD_ERR_UNSUPPORTED;
	}
	xgb->objective = obj->valuestring;
	plan->meta[TD_META_OBJECTIVE] = obj->valuestring;

	gb = member(learner, "gradient_booster");
	item = member(gb, "name");
	if (!cJSON_IsObject(gb) || !cJSON_IsString(item) || item->valuestring == NULL)
		return fail(plan, TD_ERR_INVALID,
					"The booster has no \"gradient_booster\" object with a \"name\".");
	gbname = item->valuestring;
	if (strcmp(gbname, "gbtree") != 0)
	{
		td_error_set(plan->err, TD_ERR_UNSUPPORTED,
					 "The booster is \"%s\"; only \"gbtree\" boosters are supported.",
					 ECHO(gbname, buf));
		return TD_ERR_UNSUPPORTED;
	}
	model = member(gb, "model");
	trees = member(model, "trees");
	if (!cJSON_IsObject(model) || !cJSON_IsArray(trees))
		return fail(plan, TD_ERR_INVALID, "The booster has no \"model.trees\" array.");
	n = td_json_count_children(trees, plan->limits->max_trees);
	if (n > plan->limits->max_trees)
	{
		td_error_set(plan->err, TD_ERR_LIMIT,
					 "The booster has more than %u trees.", plan->limits->max_trees);
		return TD_ERR_LIMIT;
	}
	if (n == 0)
		return fail(plan, TD_ERR_INVALID, "The booster has no trees.");
	obj = member(model, "gbtree_model_param");
	if (!cJSON_IsObject(obj))
		return fail(plan, TD_ERR_INVALID, "The booster has no \"gbtree_model_param\" object.");
	if ((st = get_uint_param(plan, obj, "num_trees", "gbtree_model_param", false, n, &v)) != TD_OK)
		return st;
	if (v != n)
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "The booster says it has %llu trees but holds %u.",
					 (unsigned long long) v, n);
		return TD_ERR_INVALID;
	}
	if ((st = get_uint_param(plan, obj, "num_parallel_tree", "gbtree_model_param", false, 1, &npt)) != TD_OK)
		return st;

	/* Output groups: one group only. */
	item = member(model, "tree_info");
	if (!cJSON_IsArray(item) || td_json_count_children(item, n) != n)
		return fail(plan, TD_ERR_INVALID,
					"The booster's \"tree_info\" is not an array with one entry per tree.");
	{
		const cJSON *g;

		i = 0;
		cJSON_ArrayForEach(g, item)
		{
			if (!td_json_is_integer(g) || g->valuedouble != 0)
			{
				td_error_set(plan->err, TD_ERR_UNSUPPORTED,
							 "Tree %u belongs to output group %.17g; only single-output models are supported.",
							 i, cJSON_IsNumber(g) ? g->valuedouble : -1.0);
				return TD_ERR_UNSUPPORTED;
			}
			i++;
		}
	}

	/* Iterations: iteration_indptr, else num_parallel_tree trees each. */
	indptr = member(model, "iteration_indptr");
	if (indptr != NULL && cJSON_IsArray(indptr))
	{
		const cJSON *p;
		uint32_t	 k = td_json_count_children(indptr, n + 1);
		double		 prev = -1;

		if (k < 2 || k > n + 1)
			return fail(plan, TD_ERR_INVALID,
						"The booster's \"iteration_indptr\" does not describe its trees.");
		starts = tdc_calloc_array(k, sizeof(uint32_t));
		if (starts == NULL)
			return td_error_nomem(plan->err);
		i = 0;
		cJSON_ArrayForEach(p, indptr)
		{
			if (!td_json_is_integer(p) || p->valuedouble < 0 || p->valuedouble > n ||
				p->valuedouble <= prev || (i == 0 && p->valuedouble != 0) ||
				(i == k - 1 && p->valuedouble != n))
			{
				tdc_free(starts);
				return fail(plan, TD_ERR_INVALID,
							"The booster's \"iteration_indptr\" does not describe its trees.");
			}
			prev = p->valuedouble;
			starts[i++] = (uint32_t) p->valuedouble;
		}
		iterations = k - 1;
	}
	else if (indptr != NULL)
		return fail(plan, TD_ERR_INVALID,
					"The booster's \"iteration_indptr\" is not an array.");
	else
	{
		if (npt == 0 || n % npt != 0)
			return fail(plan, TD_ERR_INVALID,
						"The booster's tree count is not a multiple of num_parallel_tree.");
		iterations = (uint32_t) (n / npt);
	}

	/* Range: estimator.iteration_range, else best_iteration + 1, else all. */
	it_begin = 0;
	it_end = iterations;
	range = member(estimator, "iteration_range");
	if (range != NULL)
	{
		const cJSON *b = cJSON_GetArrayItem(range, 0);
		const cJSON *e = cJSON_GetArrayItem(range, 1);

		if (!cJSON_IsArray(range) || td_json_count_children(range, 2) != 2 ||
			!td_json_is_integer(b) || !td_json_is_integer(e) ||
			b->valuedouble < 0 || e->valuedouble <= b->valuedouble ||
			e->valuedouble > iterations)
		{
			tdc_free(starts);
			td_error_set(plan->err, TD_ERR_INVALID,
						 "The estimator's \"iteration_range\" is not [begin, end) with 0 <= begin < end <= %u, the booster's iteration count.",
						 iterations);
			return TD_ERR_INVALID;
		}
		it_begin = (uint32_t) b->valuedouble;
		it_end = (uint32_t) e->valuedouble;
	}
	else
	{
		item = member(member(learner, "attributes"), "best_iteration");
		if (item != NULL)
		{
			if (!cJSON_IsString(item) ||
				!parse_uint_text(item->valuestring, UINT32_MAX, &v) ||
				v + 1 > iterations)
			{
				tdc_free(starts);
				td_error_set(plan->err, TD_ERR_INVALID,
							 "The booster's best_iteration attribute is not an iteration below %u.",
							 iterations);
				return TD_ERR_INVALID;
			}
			it_end = (uint32_t) v + 1;
		}
	}
	if (starts != NULL)
	{
		xgb->tree_begin = starts[it_begin];
		xgb->tree_end = starts[it_end];
		tdc_free(starts);
	}
	else
	{
		xgb->tree_begin = (uint32_t) (it_begin * npt);
		xgb->tree_end = (uint32_t) (it_end * npt);
	}

	if (xgb->tree_end <= xgb->tree_begin)
		return fail(plan, TD_ERR_INVALID, "The iteration range selects no trees.");

	/* Every tree: shapes and sizes, against the limits. */
	xgb->trees = tdc_calloc_array(n, sizeof(const cJSON *));
	if (xgb->trees == NULL)
		return td_error_nomem(plan->err);
	xgb->num_all_trees = n;
	i = 0;
	cJSON_ArrayForEach(item, trees)
	{
		uint32_t reachable;
		uint32_t declared;

		if ((st = td_poll_cancel(plan->limits, plan->err)) != TD_OK ||
			(st = plan_tree(plan, i, item, &reachable, &declared)) != TD_OK)
			return st;
		xgb->trees[i] = item;
		total += declared;
		if (total > plan->limits->max_total_nodes)
		{
			td_error_set(plan->err, TD_ERR_LIMIT,
						 "The booster has more than %u nodes in all.",
						 plan->limits->max_total_nodes);
			return TD_ERR_LIMIT;
		}
		if (declared > xgb->max_tree_nodes)
			xgb->max_tree_nodes = declared;
		if (i >= xgb->tree_begin && i < xgb->tree_end)
			evaluated += reachable;
		i++;
	}
	xgb->num_nodes = (uint32_t) evaluated;
	return TD_OK;
}

void
td_xgb_plan_free(td_xgb_plan *xgb)
{
	tdc_free((void *) xgb->trees);
	xgb->trees = NULL;
}

/* Scratch for one tree, sized for the largest tree. */
typedef struct tree_scratch
{
	int32_t		  *left;
	int32_t		  *right;
	uint32_t	  *split;
	float		  *cond;
	unsigned char *dleft;
	int32_t		  *newid;
	uint32_t	  *stack;
	uint32_t	  *depth;
	int32_t		  *parent;	/* "parents" as written */
	int32_t		  *wparent; /* parent found by the walk */
	bool		   has_parents;
	float		   leaf_min; /* over the reachable leaves */
	float		   leaf_max;
} tree_scratch;

static td_status
read_int_array(td_plan *plan, uint32_t t, const cJSON *arr, const char *name,
			   int64_t lo, int64_t hi, int64_t *tmp_unused, void *out, int kind)
{
	const cJSON *e;
	uint32_t	 i = 0;

	(void) tmp_unused;
	cJSON_ArrayForEach(e, arr)
	{
		double d;

		if (kind == 2 && cJSON_IsBool(e))
			d = cJSON_IsTrue(e) ? 1 : 0;
		else if (!td_json_is_integer(e))
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Tree %u node %u has a \"%s\" value that is not an integer.",
						 t, i, name);
			return TD_ERR_INVALID;
		}
		else
			d = e->valuedouble;
		if (d < (double) lo || d > (double) hi)
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Tree %u node %u has \"%s\" %.0f, outside [%lld, %lld].",
						 t, i, name, d, (long long) lo, (long long) hi);
			return TD_ERR_INVALID;
		}
		if (kind == 0)
			((int32_t *) out)[i] = (int32_t) d;
		else if (kind == 1)
			((uint32_t *) out)[i] = (uint32_t) d;
		else
			((unsigned char *) out)[i] = (unsigned char) d;
		i++;
	}
	return TD_OK;
}

static td_status
read_tree(td_plan *plan, uint32_t t, const cJSON *tree, tree_scratch *s)
{
	const cJSON *e;
	const cJSON *stype;
	uint32_t	 i = 0;
	td_status	 st;

	if ((st = read_int_array(plan, t, member(tree, "left_children"), "left_children",
							 -1, INT32_MAX, NULL, s->left, 0)) != TD_OK ||
		(st = read_int_array(plan, t, member(tree, "right_children"), "right_children",
							 -1, INT32_MAX, NULL, s->right, 0)) != TD_OK ||
		(st = read_int_array(plan, t, member(tree, "split_indices"), "split_indices",
							 0, UINT32_MAX, NULL, s->split, 1)) != TD_OK ||
		(st = read_int_array(plan, t, member(tree, "default_left"), "default_left",
							 0, 1, NULL, s->dleft, 2)) != TD_OK)
		return st;
	cJSON_ArrayForEach(e, member(tree, "split_conditions"))
	{
		float f;

		if (!cJSON_IsNumber(e))
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Tree %u node %u has a split condition that is not a number.", t, i);
			return TD_ERR_INVALID;
		}
		f = (float) e->valuedouble;
		if (!isfinite(f))
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Tree %u node %u has a threshold or leaf value that is not a finite float32 (%g).",
						 t, i, e->valuedouble);
			return TD_ERR_INVALID;
		}
		s->cond[i++] = f;
	}
	s->has_parents = member(tree, "parents") != NULL;
	if (s->has_parents &&
		(st = read_int_array(plan, t, member(tree, "parents"), "parents",
							 -1, INT32_MAX, NULL, s->parent, 0)) != TD_OK)
		return st;
	stype = member(tree, "split_type");
	if (stype != NULL && !cJSON_IsArray(stype))
	{
		td_error_set(plan->err, TD_ERR_UNSUPPORTED,
					 "Tree %u has a \"split_type\" that is not an array.", t);
		return TD_ERR_UNSUPPORTED;
	}
	if (stype != NULL)
	{
		cJSON_ArrayForEach(e, stype)
		{
			if (!td_json_is_integer(e) || e->valuedouble != 0)
			{
				td_error_set(plan->err, TD_ERR_UNSUPPORTED,
							 "Tree %u has categorical splits, which are not supported.", t);
				return TD_ERR_UNSUPPORTED;
			}
		}
	}
	return TD_OK;
}

/*
 * After the walk: every node the root does not reach must be a node XGBoost
 * deleted (pruned), written as XGBoost writes one: no children, split index
 * 2147483647 with default_left 1 (XGBoost's deleted marker), and a parent
 * inside the tree.  Every reached node but the root must name, in
 * "parents", the node that leads to it.  XGBoost's loader reads "parents"
 * unchecked: a bad entry crashes it.
 */
static td_status
check_unreached(td_plan *plan, uint32_t t, uint32_t n, const tree_scratch *s)
{
	uint32_t i;

	for (i = 1; i < n; i++)
	{
		if (s->newid[i] != -1)
		{
			if (s->has_parents && s->parent[i] != s->wparent[i])
			{
				td_error_set(plan->err, TD_ERR_INVALID,
							 "Tree %u node %u has parent %d in \"parents\", but it is reached from node %d.",
							 t, i, s->parent[i], s->wparent[i]);
				return TD_ERR_INVALID;
			}
			continue;
		}
		if (s->left[i] != -1 || s->right[i] != -1 || s->split[i] != 2147483647u ||
			!s->dleft[i] || (s->has_parents && (s->parent[i] < 0 || (uint32_t) s->parent[i] >= n)))
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Tree %u node %u is not reachable from the root and is not a deleted node as XGBoost writes one (no children, split index 2147483647, default_left 1, a parent in the tree).",
						 t, i);
			return TD_ERR_INVALID;
		}
	}
	return TD_OK;
}

/*
 * Walk tree t from its root (iteratively), proving every reachable node is
 * reached once, children are in range with right = left + 1, depth is
 * within the limit and split features exist; renumber the reachable nodes
 * so children are adjacent and after their parent; write them to out (may
 * be NULL for trees outside the evaluated range).  Returns the number of
 * reachable nodes in *count.
 */
static td_status
walk_tree(td_plan *plan, uint32_t t, uint32_t n, uint32_t num_deleted,
		  tree_scratch *s, td_image_node *out, uint32_t *count)
{
	uint32_t sp = 0;
	uint32_t next = 1;
	uint32_t i;

	for (i = 0; i < n; i++)
		s->newid[i] = -1;
	s->newid[0] = 0;
	s->leaf_min = INFINITY;
	s->leaf_max = -INFINITY;
	s->stack[sp] = 0;
	s->depth[sp++] = 0;
	while (sp > 0)
	{
		uint32_t o = s->stack[--sp];
		uint32_t d = s->depth[sp];
		int32_t	 l = s->left[o];
		int32_t	 r = s->right[o];
		uint32_t id = (uint32_t) s->newid[o];

		if (l == -1)
		{
			if (r != -1)
			{
				td_error_set(plan->err, TD_ERR_INVALID,
							 "Tree %u node %u has no left child but has right child %d.", t, o, r);
				return TD_ERR_INVALID;
			}
			if (out != NULL)
			{
				out[id].left = -1;
				out[id].split = 0;
				out[id].value = s->cond[o];
			}
			s->leaf_min = fminf(s->leaf_min, s->cond[o]);
			s->leaf_max = fmaxf(s->leaf_max, s->cond[o]);
			continue;
		}
		if ((uint32_t) l >= n)
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Tree %u node %u has left child %d, but the tree has %u nodes.", t, o, l, n);
			return TD_ERR_INVALID;
		}
		if (r != l + 1 || (uint32_t) r >= n)
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Tree %u node %u has left child %d and right child %d; the right child must be the left child + 1 and below %u.",
						 t, o, l, r, n);
			return TD_ERR_INVALID;
		}
		if (s->newid[l] != -1 || s->newid[r] != -1)
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Tree %u node %u leads to node %d, which is reached more than once (a cycle or a shared node).",
						 t, o, s->newid[l] != -1 ? l : r);
			return TD_ERR_INVALID;
		}
		if (s->split[o] >= plan->num_features)
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Tree %u node %u splits on feature %u, but the model has %u features.",
						 t, o, s->split[o], plan->num_features);
			return TD_ERR_INVALID;
		}
		if (d + 1 > plan->limits->max_depth)
		{
			td_error_set(plan->err, TD_ERR_LIMIT,
						 "Tree %u is deeper than %u levels.", t, plan->limits->max_depth);
			return TD_ERR_LIMIT;
		}
		if (next + 2 > n - num_deleted)
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Tree %u has more nodes reachable from its root than num_nodes %u minus num_deleted %u.",
						 t, n, num_deleted);
			return TD_ERR_INVALID;
		}
		s->newid[l] = (int32_t) next;
		s->newid[r] = (int32_t) next + 1;
		s->wparent[l] = (int32_t) o;
		s->wparent[r] = (int32_t) o;
		if (out != NULL)
		{
			out[id].left = (int32_t) next;
			out[id].split = s->split[o] | (s->dleft[o] ? TD_NODE_DEFAULT_LEFT : 0);
			out[id].value = s->cond[o];
		}
		next += 2;
		/* Right first so the left subtree is walked first. */
		s->stack[sp] = (uint32_t) r;
		s->depth[sp++] = d + 1;
		s->stack[sp] = (uint32_t) l;
		s->depth[sp++] = d + 1;
	}
	if (n - next != num_deleted)
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "Tree %u has %u nodes not reachable from its root, but num_deleted is %u.",
					 t, n - next, num_deleted);
		return TD_ERR_INVALID;
	}
	*count = next;
	return check_unreached(plan, t, n, s);
}

td_status
td_xgb_emit_trees(const td_plan *cplan, td_image_node *nodes,
				  td_image_tree *trees)
{
	td_plan			  *plan = (td_plan *) cplan;
	const td_xgb_plan *xgb = &plan->xgb;
	tree_scratch	   s;
	size_t			   m = xgb->max_tree_nodes;
	uint32_t		   t;
	uint32_t		   at = 0;
	td_status		   st = TD_OK;
	float			   sum_min = xgb->base_score; /* as td_predict.c sums */
	float			   sum_max = xgb->base_score;

	memset(&s, 0, sizeof(s));
	s.left = tdc_calloc_array(m, sizeof(int32_t));
	s.right = tdc_calloc_array(m, sizeof(int32_t));
	s.split = tdc_calloc_array(m, sizeof(uint32_t));
	s.cond = tdc_calloc_array(m, sizeof(float));
	s.dleft = tdc_calloc_array(m, 1);
	s.newid = tdc_calloc_array(m, sizeof(int32_t));
	s.stack = tdc_calloc_array(m + 1, sizeof(uint32_t));
	s.depth = tdc_calloc_array(m + 1, sizeof(uint32_t));
	s.parent = tdc_calloc_array(m, sizeof(int32_t));
	s.wparent = tdc_calloc_array(m, sizeof(int32_t));
	if (!s.left || !s.right || !s.split || !s.cond || !s.dleft || !s.newid ||
		!s.stack || !s.depth || !s.parent || !s.wparent)
		st = td_error_nomem(plan->err);

	for (t = 0; st == TD_OK && t < xgb->num_all_trees; t++)
	{
		const cJSON *tree = xgb->trees[t];
		bool		 in_range = t >= xgb->tree_begin && t < xgb->tree_end;
		uint64_t	 n;
		uint64_t	 del;
		uint32_t	 count;

		if ((st = td_poll_cancel(plan->limits, plan->err)) != TD_OK)
			break;
		/* Both parsed fine in plan_tree. */
		get_uint_param(plan, member(tree, "tree_param"), "num_nodes", "tree", true, 0, &n);
		get_uint_param(plan, member(tree, "tree_param"), "num_deleted", "tree", false, 0, &del);
		if ((st = read_tree(plan, t, tree, &s)) != TD_OK)
			break;
		if ((st = walk_tree(plan, t, (uint32_t) n, (uint32_t) del, &s,
							in_range ? nodes + at : NULL, &count)) != TD_OK)
			break;
		if (in_range)
		{
			trees[t - xgb->tree_begin].first = at;
			trees[t - xgb->tree_begin].count = count;
			at += count;
			sum_min += s.leaf_min;
			sum_max += s.leaf_max;
		}
	}
	if (st == TD_OK && !(isfinite(sum_min) && isfinite(sum_max)))
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "The booster's predictions can reach %g or %g: base_score plus the smallest (largest) leaf of each evaluated tree, summed in float32 as scoring does, is not finite.",
					 (double) sum_min, (double) sum_max);
		st = TD_ERR_INVALID;
	}
	tdc_free(s.left);
	tdc_free(s.right);
	tdc_free(s.split);
	tdc_free(s.cond);
	tdc_free(s.dleft);
	tdc_free(s.newid);
	tdc_free(s.stack);
	tdc_free(s.depth);
	tdc_free(s.parent);
	tdc_free(s.wparent);
	return st;
}
