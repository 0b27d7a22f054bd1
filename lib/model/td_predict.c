/*
 * td_predict.c — scoring: the predictor (per-process scratch for one image)
 * and td_predict, the hot path.
 *
 * The predictor keeps a dense float32 feature vector, all NaN (missing).
 * Per row only the few features the trip sets are written, the trees are
 * walked, and exactly those features are reset to NaN: no allocation, no
 * printf, no pass over all features.  Evaluation mirrors XGBoost's CPU
 * predictor: float32 features, "value < threshold" in float32, NaN follows
 * the default direction, leaves added to base_score in float32 in tree
 * order.
 */
#include <math.h>
#include <string.h>

#include "td_internal.h"
#include "td_image_layout.h"

#define MICROS_PER_DAY INT64_C(86400000000)
#define MICROS_PER_HOUR INT64_C(3600000000)
#define MICROS_PER_MINUTE INT64_C(60000000)

struct td_predictor
{
	const td_image			   *image;
	const td_image_header	   *h;
	const td_image_input	   *inputs;
	const td_image_numeric	   *numeric;
	const td_image_categorical *cats;
	const uint32_t			   *cat_inputs;
	const td_image_slot		   *slots;
	const td_image_tree		   *trees;
	const td_image_node		   *nodes;
	const td_image_tree		   *rtrees; /* reduced trees (td_reduce.c) */
	const td_image_node		   *rnodes;
	const uint32_t			   *fptr;
	const uint32_t			   *ftrees;
	const double			   *coef;
	const char				   *base;

	float		  *x;			/* num_features, NaN when not set */
	uint32_t	  *touched;		/* features set by the current row */
	double		  *touched_val; /* their values in double (linear) */
	unsigned char *dirty;		/* per tree: splits on a feature the row sets */
	uint32_t	  *dirty_list;	/* those trees */
	uint32_t	   num_dirty;
	float		  *leaf;   /* per tree: the row's leaf */
	uint32_t	  *active; /* trees whose reduced copy splits, deepest first */
	uint32_t	   num_active;
	char		  *key;		/* categorical key buffer */
	unsigned char *present; /* per input: value given and not missing */
	int64_t		  *ival;	/* per input: integer / timestamp value */
	double		  *dval;	/* per input: value as double */
};

/*
 * Most reduced trees are a lone leaf: its value is stored in leaf[] once
 * and never walked.  The others ("active") are walked every row, deepest
 * first, so the lanes of a group finish together.  (The image was checked:
 * children after their parent, inside the tree.)
 */
static bool
plan_reduced(td_predictor *p)
{
	uint32_t  nt = p->h->num_trees;
	uint32_t  max_count = 1;
	uint32_t *depth;
	uint32_t *tree_depth;
	uint32_t  t;
	uint32_t  j;

	p->active = tdc_calloc_array((size_t) nt + 1, sizeof(uint32_t));
	tree_depth = tdc_calloc_array((size_t) nt + 1, sizeof(uint32_t));
	for (t = 0; t < nt; t++)
		if (p->rtrees[t].count > max_count)
			max_count = p->rtrees[t].count;
	depth = tdc_calloc_array(max_count, sizeof(uint32_t));
	if (p->active == NULL || tree_depth == NULL || depth == NULL)
	{
		tdc_free(tree_depth);
		tdc_free(depth);
		return false;
	}
	p->num_active = 0;
	for (t = 0; t < nt; t++)
	{
		const td_image_node *nd = p->rnodes + p->rtrees[t].first;

		p->leaf[t] = nd[0].value;
		if (nd[0].left < 0)
			continue;
		depth[0] = 0;
		for (j = 0; j < p->rtrees[t].count; j++)
		{
			if (nd[j].left < 0)
				continue;
			depth[nd[j].left] = depth[nd[j].left + 1] = depth[j] + 1;
			if (depth[j] + 1 > tree_depth[t])
				tree_depth[t] = depth[j] + 1;
		}
		/* insertion by depth, deepest first (few hundred trees, once) */
		for (j = p->num_active; j > 0 && tree_depth[p->active[j - 1]] < tree_depth[t]; j--)
			p->active[j] = p->active[j - 1];
		p->active[j] = t;
		p->num_active++;
	}
	tdc_free(tree_depth);
	tdc_free(depth);
	return true;
}

td_status
td_predictor_create(const td_image *image, td_predictor **out, td_error *err)
{
	const td_image_header *h = TD_IMG_HDR(image);
	td_predictor		  *p;
	uint32_t			   i;
	size_t				   ntouch;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (out == NULL || image == NULL)
	{
		td_error_set(err, TD_ERR_IMAGE, "td_predictor_create was called with a NULL argument.");
		return TD_ERR_IMAGE;
	}
	*out = NULL;
	p = tdc_calloc_array(1, sizeof(td_predictor));
	if (p == NULL)
		return td_error_nomem(err);
	p->image = image;
	p->h = h;
	p->base = (const char *) image;
	p->inputs = TD_IMG_AT(image, h->inputs_off, td_image_input);
	p->numeric = TD_IMG_AT(image, h->numeric_off, td_image_numeric);
	p->cats = TD_IMG_AT(image, h->categorical_off, td_image_categorical);
	p->cat_inputs = TD_IMG_AT(image, h->cat_inputs_off, uint32_t);
	p->slots = TD_IMG_AT(image, h->slots_off, td_image_slot);
	p->trees = TD_IMG_AT(image, h->trees_off, td_image_tree);
	p->nodes = TD_IMG_AT(image, h->nodes_off, td_image_node);
	p->coef = TD_IMG_AT(image, h->coef_off, double);
	p->rtrees = TD_IMG_AT(image, h->rtrees_off, td_image_tree);
	p->rnodes = TD_IMG_AT(image, h->rnodes_off, td_image_node);
	p->fptr = TD_IMG_AT(image, h->fptr_off, uint32_t);
	p->ftrees = TD_IMG_AT(image, h->ftrees_off, uint32_t);

	ntouch = (size_t) h->num_numeric + h->num_categorical;
	p->x = tdc_calloc_array(h->num_features, sizeof(float));
	p->touched = tdc_calloc_array(ntouch, sizeof(uint32_t));
	p->touched_val = tdc_calloc_array(ntouch, sizeof(double));
	p->key = tdc_calloc_array((size_t) h->max_key_len + 1, 1);
	p->present = tdc_calloc_array(h->num_inputs, 1);
	p->ival = tdc_calloc_array(h->num_inputs, sizeof(int64_t));
	p->dval = tdc_calloc_array(h->num_inputs, sizeof(double));
	p->dirty = tdc_calloc_array((size_t) h->num_trees + 1, 1);
	p->dirty_list = tdc_calloc_array((size_t) h->num_trees + 1, sizeof(uint32_t));
	p->leaf = tdc_calloc_array((size_t) h->num_trees + 1, sizeof(float));
	if (!p->dirty || !p->dirty_list || !p->leaf || !p->x || !p->touched || !p->touched_val || !p->key || !p->present ||
		!p->ival || !p->dval)
	{
		td_predictor_free(p);
		return td_error_nomem(err);
	}
	for (i = 0; i < h->num_features; i++)
		p->x[i] = NAN;
	if (h->estimator == TD_EST_XGBOOST && !plan_reduced(p))
	{
		td_predictor_free(p);
		return td_error_nomem(err);
	}
	*out = p;
	return TD_OK;
}

void
td_predictor_free(td_predictor *p)
{
	if (p == NULL)
		return;
	tdc_free(p->x);
	tdc_free(p->touched);
	tdc_free(p->touched_val);
	tdc_free(p->key);
	tdc_free(p->present);
	tdc_free(p->ival);
	tdc_free(p->dval);
	tdc_free(p->dirty);
	tdc_free(p->dirty_list);
	tdc_free(p->leaf);
	tdc_free(p->active);
	tdc_free(p);
}

const td_image *
td_predictor_image(const td_predictor *predictor)
{
	return predictor == NULL ? NULL : predictor->image;
}

/* Decimal form of v at out (at least 20 bytes); returns its length. */
static inline size_t
format_int64(int64_t v, char *out)
{
	char	 tmp[20];
	uint64_t u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
	size_t	 n = 0;
	size_t	 len = 0;

	do
	{
		tmp[n++] = (char) ('0' + (u % 10));
		u /= 10;
	} while (u != 0);
	if (v < 0)
		out[len++] = '-';
	while (n > 0)
		out[len++] = tmp[--n];
	return len;
}

static td_status
input_error(td_predictor *p, td_error *err, uint32_t i, const char *what,
			double value, const char *bound_what, double bound)
{
	char buf[80];

	tdc_echo(p->base + p->inputs[i].name_off, buf, sizeof(buf));
	if (bound_what != NULL)
		td_error_set(err, TD_ERR_INPUT, "Input \"%s\" has value %.15g, %s %.15g.",
					 buf, value, bound_what, bound);
	else
		td_error_set(err, TD_ERR_INPUT, "Input \"%s\" %s (%.17g).", buf, what, value);
	return TD_ERR_INPUT;
}

static const char *
kind_name(td_value_kind kind)
{
	switch (kind)
	{
		case TD_VALUE_ABSENT:
			return "absent";
		case TD_VALUE_NULL:
			return "null";
		case TD_VALUE_INT:
			return "an integer";
		case TD_VALUE_DOUBLE:
			return "a double";
		case TD_VALUE_TIMESTAMP:
			return "a timestamp";
	}
	return "of an unknown kind";
}

static td_status
wrong_kind(td_predictor *p, td_error *err, uint32_t i, td_value_kind kind)
{
	static const char *const type_names[] = { "", "integer", "number", "timestamp" };
	char					 buf[80];

	td_error_set(err, TD_ERR_INPUT, "Input \"%s\" is a %s input but was given %s value.",
				 tdc_echo(p->base + p->inputs[i].name_off, buf, sizeof(buf)),
				 type_names[p->inputs[i].type], kind_name(kind));
	return TD_ERR_INPUT;
}

/* Check and normalise every input value; nothing is written to x. */
static td_status
load_inputs(td_predictor *p, const td_value *values, td_error *err)
{
	uint32_t n = p->h->num_inputs;
	uint32_t i;

	for (i = 0; i < n; i++)
	{
		const td_image_input *in = &p->inputs[i];
		const td_value		 *v = &values[i];
		double				  d;

		p->present[i] = 0;
		switch (v->kind)
		{
			case TD_VALUE_ABSENT:
				if (in->flags & TD_INPUT_REQUIRED)
				{
					char buf[80];

					tdc_echo(p->base + in->name_off, buf, sizeof(buf));
					td_error_set(err, TD_ERR_MISSING_INPUT,
								 "The model requires input \"%s\"; give it, or give NULL for a missing value.",
								 buf);
					tdc_error_set_message(err, "model input \"%s\" was not given", buf);
					return TD_ERR_MISSING_INPUT;
				}
				continue;
			case TD_VALUE_NULL:
				continue;
			case TD_VALUE_INT:
				if (in->type == TD_INPUT_TIMESTAMP)
					return wrong_kind(p, err, i, v->kind);
				p->ival[i] = v->i;
				d = (double) v->i;
				break;
			case TD_VALUE_DOUBLE:
				if (in->type == TD_INPUT_TIMESTAMP)
					return wrong_kind(p, err, i, v->kind);
				d = v->d;
				if (isnan(d))
					continue;
				if (isinf(d))
					return input_error(p, err, i, "is infinite, which is not allowed", d, NULL, 0);
				if (in->type == TD_INPUT_INTEGER)
				{
					if (floor(d) != d || d < -9223372036854775808.0 ||
						d >= 9223372036854775808.0)
						return input_error(p, err, i,
										   "is an integer input but was given a non-integral value",
										   d, NULL, 0);
					p->ival[i] = (int64_t) d;
				}
				break;
			case TD_VALUE_TIMESTAMP:
				if (in->type != TD_INPUT_TIMESTAMP)
					return wrong_kind(p, err, i, v->kind);
				p->ival[i] = v->i;
				p->present[i] = 1;
				continue;
			default:
				return wrong_kind(p, err, i, v->kind);
		}
		if ((in->flags & TD_INPUT_HAS_MIN) && d < in->min)
			return input_error(p, err, i, NULL, d, "below its minimum", in->min);
		if ((in->flags & TD_INPUT_HAS_MAX) && d > in->max)
			return input_error(p, err, i, NULL, d, "above its maximum", in->max);
		p->dval[i] = d;
		p->present[i] = 1;
	}
	return TD_OK;
}

/* Set the trip's features; returns how many were set. */
static uint32_t
set_features(td_predictor *p)
{
	const td_image_header *h = p->h;
	float				  *x = p->x;
	uint32_t			   nt = 0;
	uint32_t			   i;
	uint32_t			   j;

	for (i = 0; i < h->num_numeric; i++)
	{
		const td_image_numeric *f = &p->numeric[i];
		double					d;

		if (!p->present[f->input])
			continue;
		if (f->transform == TD_TRANSFORM_IDENTITY)
			d = p->dval[f->input];
		else
		{
			int64_t us = p->ival[f->input];
			int64_t days = td_floor_div(us, MICROS_PER_DAY);
			int64_t rem = us - days * MICROS_PER_DAY;

			if (f->transform == TD_TRANSFORM_HOUR)
				/* NOLINTNEXTLINE(bugprone-integer-division): whole hours on purpose */
				d = (double) (rem / MICROS_PER_HOUR) +
					(double) ((rem / MICROS_PER_MINUTE) % 60) / 60.0;
			else
			{
				/* 1970-01-01 was a Thursday: Monday = 0 makes it 3. */
				int64_t m = (days + 3) % 7;

				d = (double) (m < 0 ? m + 7 : m);
			}
		}
		x[f->index] = (float) d;
		p->touched[nt] = f->index;
		p->touched_val[nt++] = d;
	}

	for (i = 0; i < h->num_categorical; i++)
	{
		const td_image_categorical *c = &p->cats[i];
		const uint32_t			   *ins = p->cat_inputs + c->inputs_first;
		const td_image_slot		   *slots = p->slots + c->slots_first;
		char					   *key = p->key;
		size_t						len = 0;
		uint32_t					hash;
		uint32_t					s;

		for (j = 0; j < c->inputs_count; j++)
		{
			if (!p->present[ins[j]])
				break;
			if (j > 0 && c->sep_len > 0)
			{
				memcpy(key + len, p->base + c->sep_off, c->sep_len);
				len += c->sep_len;
			}
			len += format_int64(p->ival[ins[j]], key + len);
		}
		if (j < c->inputs_count)
			continue; /* a missing input matches nothing */
		hash = td_fnv1a(key, len);
		for (s = hash & c->slots_mask;; s = (s + 1) & c->slots_mask)
		{
			const td_image_slot *sl = &slots[s];

			if (sl->feature == TD_SLOT_EMPTY)
				break;
			if (sl->hash == hash && sl->key_len == len &&
				memcmp(p->base + sl->key_off, key, len) == 0)
			{
				x[sl->feature] = 1.0f;
				p->touched[nt] = sl->feature;
				p->touched_val[nt++] = 1.0;
				break;
			}
		}
	}
	return nt;
}

/*
 * Sum of the trees' leaves in float32, in tree order, as XGBoost does.  The
 * direction test is one comparison whose sense depends on the node's
 * default: "v < t" goes left for default-right nodes, "!(v >= t)" for
 * default-left ones; a NaN (missing) value fails both comparisons, so it
 * takes the default direction with no separate isnan() branch.
 *
 * The walk is bound by memory latency (each level waits for its node), so
 * TD_LANES trees are walked at once, their independent node chains
 * interleaved so that the loads overlap.  Each tree's leaf is stored, and
 * the leaves are added in tree order at the end, so the sum is unchanged.
 *
 * Every tree is first walked in its reduced copy (td_reduce.c: no one-hot
 * splits, a few nodes, all in L1; a lone leaf is not walked at all, see
 * plan_reduced), which reaches the right leaf unless the
 * tree splits on a one-hot feature the row sets; those trees ("dirty",
 * listed by mark_dirty) are then walked in full, in lanes of their own.
 */
#define TD_LANES 16

static inline bool
node_goes_left(const td_image_node *nd, const float *x)
{
	uint32_t split = nd->split;
	float	 v = x[split & TD_NODE_FEATURE_MASK];

	/* NaN fails both comparisons: it goes left iff default_left */
	return (split & TD_NODE_DEFAULT_LEFT) ? !(v >= nd->value) : (v < nd->value);
}

/* Leaf values of trees ids[0..n) (NULL: trees 0..n) into leaf[tree]. */
static void
walk(const td_image_tree *trees, const td_image_node *nodes, const uint32_t *ids,
	 uint32_t n, const float *x, float *leaf)
{
	uint32_t i = 0;

	for (; i + TD_LANES <= n; i += TD_LANES)
	{
		const td_image_node *root[TD_LANES];
		uint32_t			 at[TD_LANES];
		uint32_t			 k;
		bool				 walking;

		for (k = 0; k < TD_LANES; k++)
		{
			root[k] = nodes + trees[ids ? ids[i + k] : i + k].first;
			at[k] = 0;
		}
		do
		{
			walking = false;
			for (k = 0; k < TD_LANES; k++)
			{
				const td_image_node *nd = root[k] + at[k];

				if (nd->left >= 0)
				{
					at[k] = (uint32_t) nd->left + (node_goes_left(nd, x) ? 0u : 1u);
					walking = true;
				}
			}
		} while (walking);
		for (k = 0; k < TD_LANES; k++)
			leaf[ids ? ids[i + k] : i + k] = root[k][at[k]].value;
	}
	for (; i < n; i++)
	{
		uint32_t			 t = ids ? ids[i] : i;
		const td_image_node *nd = nodes + trees[t].first;
		uint32_t			 at = 0;

		while (nd[at].left >= 0)
			at = (uint32_t) nd[at].left + (node_goes_left(&nd[at], x) ? 0u : 1u);
		leaf[t] = nd[at].value;
	}
}

static float
eval_trees(const td_predictor *p)
{
	uint32_t nt = p->h->num_trees;
	float	 sum = p->h->base_score;
	uint32_t t;

	walk(p->rtrees, p->rnodes, p->active, p->num_active, p->x, p->leaf);
	walk(p->trees, p->nodes, p->dirty_list, p->num_dirty, p->x, p->leaf);
	for (t = 0; t < nt; t++)
		sum += p->leaf[t];
	/* a dirty tree's reduced leaf back, for the lone-leaf ones */
	for (t = 0; t < p->num_dirty; t++)
	{
		uint32_t d = p->dirty_list[t];

		p->leaf[d] = p->rnodes[p->rtrees[d].first].value;
	}
	return sum;
}

/* List (and mark) the trees that split on a one-hot feature the row set. */
static void
mark_dirty(td_predictor *p, uint32_t nt)
{
	uint32_t i;
	uint32_t j;

	p->num_dirty = 0;
	for (i = 0; i < nt; i++)
	{
		uint32_t f = p->touched[i];

		for (j = p->fptr[f]; j < p->fptr[f + 1]; j++)
		{
			uint32_t t = p->ftrees[j];

			if (!p->dirty[t])
			{
				p->dirty[t] = 1;
				p->dirty_list[p->num_dirty++] = t;
			}
		}
	}
}

static void
clear_dirty(td_predictor *p)
{
	uint32_t i;

	for (i = 0; i < p->num_dirty; i++)
		p->dirty[p->dirty_list[i]] = 0;
}

static double
eval_linear(td_predictor *p, uint32_t nt)
{
	uint32_t i;
	double	 acc = 0.0;

	/* Ascending feature index, as a CSR row is summed. */
	for (i = 1; i < nt; i++)
	{
		uint32_t k = p->touched[i];
		double	 v = p->touched_val[i];
		uint32_t j = i;

		while (j > 0 && p->touched[j - 1] > k)
		{
			p->touched[j] = p->touched[j - 1];
			p->touched_val[j] = p->touched_val[j - 1];
			j--;
		}
		p->touched[j] = k;
		p->touched_val[j] = v;
	}
	for (i = 0; i < nt; i++)
		acc += p->coef[p->touched[i]] * p->touched_val[i];
	return acc + p->h->intercept;
}

td_status
td_predict(td_predictor *p, const td_value *values, double *minutes,
		   td_error *err)
{
	td_status st;
	uint32_t  nt;
	uint32_t  i;

	if (p == NULL || values == NULL || minutes == NULL)
	{
		td_error_set(err, TD_ERR_INPUT, "td_predict was called with a NULL argument.");
		return TD_ERR_INPUT;
	}
	st = load_inputs(p, values, err);
	if (st != TD_OK)
		return st;
	nt = set_features(p);
	if (p->h->estimator == TD_EST_XGBOOST)
	{
		mark_dirty(p, nt);
		*minutes = (double) eval_trees(p);
		clear_dirty(p);
	}
	else
		*minutes = eval_linear(p, nt);
	for (i = 0; i < nt; i++)
		p->x[p->touched[i]] = NAN;
	return TD_OK;
}
