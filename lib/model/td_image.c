/*
 * td_image.c — the model image (layout in td_image_layout.h): writing one
 * from a validated td_plan, checking one that came from elsewhere
 * (td_image_check), and the read-only accessors of the public API.
 */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "td_internal.h"
#include "td_image_layout.h"

#define ALIGN8(x) (((x) + 7u) & ~(uint64_t) 7u)

typedef struct pool
{
	char	*base; /* image start */
	uint64_t at;   /* next free byte, as an image offset */
} pool;

static uint32_t
pool_add(pool *p, const char *s)
{
	uint64_t off = p->at;
	size_t	 len = strlen(s);

	memcpy(p->base + off, s, len + 1);
	p->at += len + 1;
	return (uint32_t) off;
}

static uint64_t
plan_string_bytes(const td_plan *plan)
{
	uint64_t	 total = 1; /* the leading empty string */
	uint32_t	 i;
	const cJSON *a;

	for (i = 0; i < TD_META_COUNT; i++)
		if (plan->meta[i] != NULL && plan->meta[i][0] != '\0')
			total += strlen(plan->meta[i]) + 1;
	for (i = 0; i < plan->num_inputs; i++)
	{
		total += strlen(plan->inputs[i].name) + 1;
		cJSON_ArrayForEach(a, plan->inputs[i].aliases)
			total += strlen(a->valuestring) + 1;
	}
	for (i = 0; i < plan->num_categorical; i++)
	{
		total += strlen(plan->cats[i].name) + 1;
		total += strlen(plan->cats[i].separator) + 1;
		cJSON_ArrayForEach(a, plan->cats[i].vocabulary)
			total += strlen(a->string) + 1;
	}
	return total;
}

static td_status
fill_slots(const td_plan *plan, const td_cat_spec *c, pool *p,
		   td_image_slot *slots)
{
	const cJSON *v;
	uint32_t	 mask = c->capacity - 1;
	uint32_t	 i;
	uint32_t	 polled = 0;
	char		 buf[80];
	char		 kbuf[80];

	for (i = 0; i < c->capacity; i++)
		slots[i].feature = TD_SLOT_EMPTY;
	cJSON_ArrayForEach(v, c->vocabulary)
	{
		size_t	 len = strlen(v->string);
		uint32_t h = td_fnv1a(v->string, len);

		if (++polled % TD_CANCEL_POLL_EVERY == 0 &&
			td_poll_cancel(plan->limits, plan->err) != TD_OK)
			return TD_ERR_CANCELED;

		for (i = h & mask;; i = (i + 1) & mask)
		{
			if (slots[i].feature == TD_SLOT_EMPTY)
				break;
			if (slots[i].hash == h && slots[i].key_len == len &&
				memcmp(p->base + slots[i].key_off, v->string, len) == 0)
			{
				td_error_set(plan->err, TD_ERR_INVALID,
							 "Categorical feature \"%s\" has the vocabulary key \"%s\" more than once.",
							 tdc_echo(c->name, buf, sizeof(buf)),
							 tdc_echo(v->string, kbuf, sizeof(kbuf)));
				return TD_ERR_INVALID;
			}
		}
		slots[i].key_off = pool_add(p, v->string);
		slots[i].key_len = (uint32_t) len;
		slots[i].hash = h;
		slots[i].feature = (uint32_t) v->valuedouble;
	}
	return TD_OK;
}

/* The XGBoost image at img (size bytes) again, with td_reduce.c's sections. */
static td_status
append_reduced(const td_plan *plan, char *img, uint64_t size,
			   td_image **image_out, size_t *size_out)
{
	td_image_header h;
	td_reduced		r;
	uint64_t		total;
	char		   *out;
	td_status		st;

	memcpy(&h, img, sizeof(h));
	st = td_reduce_derive(&h, TD_IMG_AT(img, h.numeric_off, td_image_numeric),
						  TD_IMG_AT(img, h.trees_off, td_image_tree),
						  TD_IMG_AT(img, h.nodes_off, td_image_node), &r);
	if (st != TD_OK)
	{
		tdc_free(img);
		return td_error_nomem(plan->err);
	}
	total = ALIGN8(size) + td_reduce_bytes(&h, &r);
	if (total > UINT32_MAX || total > (uint64_t) ((size_t) -1) ||
		(out = tdc_calloc_array((size_t) total, 1)) == NULL)
	{
		td_reduce_free(&r);
		tdc_free(img);
		if (total > UINT32_MAX)
		{
			td_error_set(plan->err, TD_ERR_LIMIT,
						 "The compiled model would take %llu bytes; images are limited to 4 GiB.",
						 (unsigned long long) total);
			return TD_ERR_LIMIT;
		}
		return td_error_nomem(plan->err);
	}
	memcpy(out, img, (size_t) size);
	tdc_free(img);
	td_reduce_write(&h, out, ALIGN8(size), &r);
	td_reduce_free(&r);
	h.total_size = total;
	memcpy(out, &h, sizeof(h));
	*image_out = (td_image *) (void *) out;
	*size_out = (size_t) total;
	return TD_OK;
}

td_status
td_image_build(const td_plan *plan, td_image **image_out, size_t *size_out)
{
	td_image_header h;
	uint64_t		off;
	uint64_t		num_trees = 0;
	uint64_t		num_nodes = 0;
	char		   *img;
	pool			p;
	uint32_t		i;
	uint32_t		alias_at = 0;
	uint32_t		slot_at = 0;
	td_status		st = TD_OK;

	memset(&h, 0, sizeof(h));
	if (plan->estimator == TD_EST_XGBOOST)
	{
		num_trees = plan->xgb.tree_end - plan->xgb.tree_begin;
		num_nodes = plan->xgb.num_nodes;
	}
	h.magic = TD_IMAGE_MAGIC;
	h.layout_version = TD_IMAGE_LAYOUT_VERSION;
	h.format_version = plan->format_version;
	h.estimator = plan->estimator;
	h.num_inputs = plan->num_inputs;
	h.num_aliases = plan->num_aliases;
	h.num_features = plan->num_features;
	h.num_numeric = plan->num_numeric;
	h.num_categorical = plan->num_categorical;
	h.num_cat_inputs = plan->num_cat_inputs;
	h.vocabulary_size = plan->vocabulary_size;
	h.num_trees = (uint32_t) num_trees;
	h.num_nodes = (uint32_t) num_nodes;
	h.base_score = plan->xgb.base_score;
	h.intercept = plan->intercept;
	for (i = 0; i < plan->num_categorical; i++)
		if (plan->cats[i].max_key_len > h.max_key_len)
			h.max_key_len = plan->cats[i].max_key_len;

	off = sizeof(td_image_header);
	h.strings_off = off;
	h.strings_size = plan_string_bytes(plan);
	off = ALIGN8(off + h.strings_size);
	h.inputs_off = off;
	off = ALIGN8(off + (uint64_t) plan->num_inputs * sizeof(td_image_input));
	h.aliases_off = off;
	off = ALIGN8(off + (uint64_t) plan->num_aliases * sizeof(uint32_t));
	h.numeric_off = off;
	off = ALIGN8(off + (uint64_t) plan->num_numeric * sizeof(td_image_numeric));
	h.categorical_off = off;
	off = ALIGN8(off + (uint64_t) plan->num_categorical * sizeof(td_image_categorical));
	h.cat_inputs_off = off;
	off = ALIGN8(off + (uint64_t) plan->num_cat_inputs * sizeof(uint32_t));
	h.slots_off = off;
	h.num_slots = plan->num_slots;
	off = ALIGN8(off + plan->num_slots * sizeof(td_image_slot));
	h.trees_off = off;
	off = ALIGN8(off + num_trees * sizeof(td_image_tree));
	h.nodes_off = off;
	off = ALIGN8(off + num_nodes * sizeof(td_image_node));
	h.coef_off = off;
	if (plan->estimator == TD_EST_LINEAR)
		off += (uint64_t) plan->num_features * sizeof(double);
	h.total_size = off;
	if (off > UINT32_MAX || off > (uint64_t) ((size_t) -1))
	{
		td_error_set(plan->err, TD_ERR_LIMIT,
					 "The compiled model would take %llu bytes; images are limited to 4 GiB.",
					 (unsigned long long) off);
		return TD_ERR_LIMIT;
	}

	img = tdc_malloc((size_t) off);
	if (img == NULL)
		return td_error_nomem(plan->err);
	memset(img, 0, (size_t) off);

	p.base = img;
	p.at = h.strings_off + 1; /* offset strings_off holds "" */
	for (i = 0; i < TD_META_COUNT; i++)
		h.meta[i] = (plan->meta[i] != NULL && plan->meta[i][0] != '\0') ?
						pool_add(&p, plan->meta[i]) :
						(uint32_t) h.strings_off;

	for (i = 0; i < plan->num_inputs; i++)
	{
		const td_input_spec *in = &plan->inputs[i];
		td_image_input		*out = (td_image_input *) (void *) (img + h.inputs_off) + i;
		uint32_t			*aliases = (uint32_t *) (void *) (img + h.aliases_off);
		const cJSON			*a;

		out->name_off = pool_add(&p, in->name);
		out->name_len = (uint32_t) strlen(in->name);
		out->type = (uint32_t) in->type;
		out->flags = (in->required ? TD_INPUT_REQUIRED : 0) |
					 (in->has_min ? TD_INPUT_HAS_MIN : 0) |
					 (in->has_max ? TD_INPUT_HAS_MAX : 0);
		out->min = in->has_min ? in->min : 0;
		out->max = in->has_max ? in->max : 0;
		out->aliases_first = alias_at;
		out->aliases_count = in->num_aliases;
		cJSON_ArrayForEach(a, in->aliases)
			aliases[alias_at++] = pool_add(&p, a->valuestring);
	}
	for (i = 0; i < plan->num_numeric; i++)
	{
		td_image_numeric *out = (td_image_numeric *) (void *) (img + h.numeric_off) + i;

		out->input = plan->numeric[i].input;
		out->transform = plan->numeric[i].transform;
		out->index = plan->numeric[i].index;
	}
	if (plan->num_cat_inputs > 0)
		memcpy(img + h.cat_inputs_off, plan->cat_inputs,
			   plan->num_cat_inputs * sizeof(uint32_t));
	for (i = 0; i < plan->num_categorical && st == TD_OK; i++)
	{
		const td_cat_spec	 *c = &plan->cats[i];
		td_image_categorical *out = (td_image_categorical *) (void *) (img + h.categorical_off) + i;

		out->name_off = pool_add(&p, c->name);
		out->sep_off = pool_add(&p, c->separator);
		out->sep_len = (uint32_t) strlen(c->separator);
		out->inputs_first = c->inputs_first;
		out->inputs_count = c->inputs_count;
		out->slots_first = slot_at;
		out->slots_mask = c->capacity - 1;
		out->max_key_len = c->max_key_len;
		out->vocab_count = c->vocab_count;
		st = fill_slots(plan, c, &p, (td_image_slot *) (void *) (img + h.slots_off) + slot_at);
		slot_at += c->capacity;
	}
	if (st == TD_OK && plan->estimator == TD_EST_XGBOOST)
		st = td_xgb_emit_trees(plan, (td_image_node *) (void *) (img + h.nodes_off),
							   (td_image_tree *) (void *) (img + h.trees_off));
	else if (st == TD_OK)
		st = td_linear_emit(plan, (double *) (void *) (img + h.coef_off));
	if (st != TD_OK)
	{
		tdc_free(img);
		return st;
	}
	memcpy(img, &h, sizeof(h));
	if (plan->estimator == TD_EST_XGBOOST)
		return append_reduced(plan, img, off, image_out, size_out);
	*image_out = (td_image *) (void *) img;
	*size_out = (size_t) off;
	return TD_OK;
}

/* ------------------------------------------------------------------ */
/* td_image_check                                                      */
/* ------------------------------------------------------------------ */

static td_status
bad_image(td_error *err, const char *what)
{
	td_error_set(err, TD_ERR_IMAGE, "The model image is damaged or incompatible: %s.", what);
	return TD_ERR_IMAGE;
}

static bool
section_ok(const td_image_header *h, uint64_t off, uint64_t count, uint64_t elsize)
{
	if (off % TD_IMAGE_ALIGN != 0 || off < sizeof(td_image_header) || off > h->total_size)
		return false;
	return count <= (h->total_size - off) / elsize;
}

static bool
string_ok(const td_image_header *h, uint64_t off)
{
	return off >= h->strings_off && off < h->strings_off + h->strings_size;
}

td_status
td_image_check_header(const void *image, size_t size, td_error *err)
{
	const td_image_header *h = TD_IMG_HDR(image);
	const char			  *base = (const char *) image;
	uint64_t			   i;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (image == NULL || size < sizeof(td_image_header))
		return bad_image(err, "it is shorter than an image header");
	if (((uintptr_t) image) % TD_IMAGE_ALIGN != 0)
		return bad_image(err, "it is not 8-byte aligned");
	if (h->magic != TD_IMAGE_MAGIC)
		return bad_image(err, "the magic number is wrong");
	if (h->layout_version != TD_IMAGE_LAYOUT_VERSION)
		return bad_image(err, "its layout version is not the one this core writes");
	if (h->total_size > size || h->total_size < sizeof(td_image_header))
		return bad_image(err, "it is shorter than its declared size");
	if (h->estimator != TD_EST_XGBOOST && h->estimator != TD_EST_LINEAR)
		return bad_image(err, "its estimator kind is unknown");
	if (h->num_inputs == 0 || h->num_features == 0)
		return bad_image(err, "it has no inputs or no features");
	if (h->strings_size == 0 ||
		!section_ok(h, h->strings_off, h->strings_size, 1) ||
		!section_ok(h, h->inputs_off, h->num_inputs, sizeof(td_image_input)) ||
		!section_ok(h, h->aliases_off, h->num_aliases, sizeof(uint32_t)) ||
		!section_ok(h, h->numeric_off, h->num_numeric, sizeof(td_image_numeric)) ||
		!section_ok(h, h->categorical_off, h->num_categorical, sizeof(td_image_categorical)) ||
		!section_ok(h, h->cat_inputs_off, h->num_cat_inputs, sizeof(uint32_t)) ||
		!section_ok(h, h->slots_off, h->num_slots, sizeof(td_image_slot)) ||
		!section_ok(h, h->trees_off, h->num_trees, sizeof(td_image_tree)) ||
		!section_ok(h, h->nodes_off, h->num_nodes, sizeof(td_image_node)) ||
		!section_ok(h, h->coef_off, h->estimator == TD_EST_LINEAR ? h->num_features : 0,
					sizeof(double)))
		return bad_image(err, "a section lies outside the image");
	if (base[h->strings_off] != '\0' || base[h->strings_off + h->strings_size - 1] != '\0')
		return bad_image(err, "its string pool is not terminated");
	for (i = 0; i < TD_META_COUNT; i++)
		if (!string_ok(h, h->meta[i]))
			return bad_image(err, "a metadata string lies outside the string pool");
	return TD_OK;
}

td_status
td_image_check(const void *image, size_t size, td_error *err)
{
	const td_image_header	   *h = TD_IMG_HDR(image);
	const char				   *base = (const char *) image;
	const td_image_input	   *inputs;
	const uint32_t			   *aliases;
	const td_image_numeric	   *numeric;
	const td_image_categorical *cats;
	const uint32_t			   *cat_inputs;
	const td_image_slot		   *slots;
	const td_image_tree		   *trees;
	const td_image_node		   *nodes;
	uint64_t					vocab = 0;
	uint32_t					longest_key = 0;
	uint64_t					i;
	uint64_t					j;
	td_status					st;

	st = td_image_check_header(image, size, err);
	if (st != TD_OK)
		return st;

	inputs = TD_IMG_AT(image, h->inputs_off, td_image_input);
	aliases = TD_IMG_AT(image, h->aliases_off, uint32_t);
	for (i = 0; i < h->num_inputs; i++)
	{
		const td_image_input *in = &inputs[i];

		if (!string_ok(h, in->name_off) || strlen(base + in->name_off) != in->name_len)
			return bad_image(err, "an input name lies outside the string pool");
		if (in->type < TD_INPUT_INTEGER || in->type > TD_INPUT_TIMESTAMP)
			return bad_image(err, "an input has an unknown type");
		if (in->aliases_first > h->num_aliases ||
			in->aliases_count > h->num_aliases - in->aliases_first)
			return bad_image(err, "an input's aliases lie outside the alias table");
		if (((in->flags & TD_INPUT_HAS_MIN) && !isfinite(in->min)) ||
			((in->flags & TD_INPUT_HAS_MAX) && !isfinite(in->max)))
			return bad_image(err, "an input bound is not finite");
	}
	for (i = 0; i < h->num_aliases; i++)
		if (!string_ok(h, aliases[i]))
			return bad_image(err, "an alias lies outside the string pool");

	numeric = TD_IMG_AT(image, h->numeric_off, td_image_numeric);
	for (i = 0; i < h->num_numeric; i++)
	{
		const td_image_numeric *f = &numeric[i];

		if (f->input >= h->num_inputs || f->index >= h->num_features ||
			f->transform < TD_TRANSFORM_IDENTITY || f->transform > TD_TRANSFORM_DOW ||
			((f->transform == TD_TRANSFORM_IDENTITY) !=
			 (inputs[f->input].type != TD_INPUT_TIMESTAMP)))
			return bad_image(err, "a numeric feature is inconsistent");
	}

	cats = TD_IMG_AT(image, h->categorical_off, td_image_categorical);
	cat_inputs = TD_IMG_AT(image, h->cat_inputs_off, uint32_t);
	slots = TD_IMG_AT(image, h->slots_off, td_image_slot);
	for (i = 0; i < h->num_categorical; i++)
	{
		const td_image_categorical *c = &cats[i];
		uint64_t					cap = (uint64_t) c->slots_mask + 1;
		uint64_t					need;
		uint64_t					used = 0;

		if (!string_ok(h, c->name_off) || !string_ok(h, c->sep_off) ||
			strlen(base + c->sep_off) != c->sep_len)
			return bad_image(err, "a categorical feature's strings lie outside the string pool");
		if (c->inputs_count == 0 || c->inputs_first > h->num_cat_inputs ||
			c->inputs_count > h->num_cat_inputs - c->inputs_first)
			return bad_image(err, "a categorical feature's inputs lie outside their table");
		for (j = 0; j < c->inputs_count; j++)
		{
			uint32_t k = cat_inputs[c->inputs_first + j];

			if (k >= h->num_inputs || inputs[k].type != TD_INPUT_INTEGER)
				return bad_image(err, "a categorical feature reads a non-integer input");
		}
		need = (uint64_t) c->inputs_count * 20 + (uint64_t) (c->inputs_count - 1) * c->sep_len;
		/* as the bundle reader computes it: the predictor allocates it */
		if (need != c->max_key_len || c->max_key_len > h->max_key_len)
			return bad_image(err, "a categorical feature's key length is inconsistent");
		if (c->max_key_len > longest_key)
			longest_key = c->max_key_len;
		if ((cap & (cap - 1)) != 0 || c->slots_first > h->num_slots ||
			cap > h->num_slots - c->slots_first)
			return bad_image(err, "a categorical feature's hash table lies outside the slot table");
		for (j = 0; j < cap; j++)
		{
			const td_image_slot *s = &slots[c->slots_first + j];

			if (s->feature == TD_SLOT_EMPTY)
				continue;
			used++;
			if (s->feature >= h->num_features || !string_ok(h, s->key_off) ||
				s->key_len >= h->strings_off + h->strings_size - s->key_off)
				return bad_image(err, "a vocabulary entry is inconsistent");
		}
		if (used >= cap || used != c->vocab_count)
			return bad_image(err, "a vocabulary hash table is inconsistent");
		vocab += used;
	}
	if (vocab != h->vocabulary_size)
		return bad_image(err, "the vocabulary size is inconsistent");

	if (h->max_key_len != longest_key)
		return bad_image(err, "its longest key length is inconsistent");
	if (h->estimator == TD_EST_XGBOOST)
	{
		uint64_t covered = 0;

		if (!isfinite(h->base_score) || h->num_trees == 0)
			return bad_image(err, "its booster header is inconsistent");
		trees = TD_IMG_AT(image, h->trees_off, td_image_tree);
		nodes = TD_IMG_AT(image, h->nodes_off, td_image_node);
		for (i = 0; i < h->num_trees; i++)
		{
			const td_image_tree *t = &trees[i];

			if (t->count == 0 || t->first > h->num_nodes ||
				t->count > h->num_nodes - t->first)
				return bad_image(err, "a tree lies outside the node table");
			covered += t->count;
			for (j = 0; j < t->count; j++)
			{
				const td_image_node *nd = &nodes[t->first + j];

				if (!isfinite(nd->value))
					return bad_image(err, "a node value is not finite");
				if (nd->left < 0)
				{
					/* leaves split on feature 0: the scorer reads x[split] */
					if (nd->left != -1 || nd->split != 0)
						return bad_image(err, "a node is inconsistent");
					continue;
				}
				/* Children after their parent, both in the tree. */
				if ((uint64_t) nd->left <= j || (uint64_t) nd->left + 1 >= t->count ||
					(nd->split & TD_NODE_FEATURE_MASK) >= h->num_features)
					return bad_image(err, "a node's children or split feature are out of range");
			}
		}
		if (covered > h->num_nodes)
			return bad_image(err, "trees overlap in the node table");
		{
			bool	  ok;
			td_status st = td_reduce_check(image, numeric, trees, nodes, &ok);

			if (st != TD_OK)
				return td_error_nomem(err);
			if (!ok)
				return bad_image(err, "its reduced trees do not match its node table");
		}
	}
	else
	{
		const double *coef = TD_IMG_AT(image, h->coef_off, double);

		if (h->num_trees != 0 || !isfinite(h->intercept) || h->rtrees_off != 0 ||
			h->rnodes_off != 0 || h->fptr_off != 0 || h->ftrees_off != 0 ||
			h->num_rnodes != 0 || h->num_ftrees != 0)
			return bad_image(err, "its linear header is inconsistent");
		for (i = 0; i < h->num_features; i++)
			if (!isfinite(coef[i]))
				return bad_image(err, "a linear coefficient is not finite");
	}
	return TD_OK;
}

/* ------------------------------------------------------------------ */
/* Accessors                                                           */
/* ------------------------------------------------------------------ */

const char *
td_image_meta(const td_image *image, td_meta which)
{
	const td_image_header *h = TD_IMG_HDR(image);

	if (image == NULL || (unsigned) which >= TD_META_COUNT)
		return "";
	return (const char *) image + h->meta[which];
}

void
td_image_get_stats(const td_image *image, td_image_stats *stats)
{
	const td_image_header *h = TD_IMG_HDR(image);

	memset(stats, 0, sizeof(*stats));
	if (image == NULL)
		return;
	stats->format_version = h->format_version;
	stats->num_inputs = h->num_inputs;
	stats->num_features = h->num_features;
	stats->num_trees = h->num_trees;
	stats->num_nodes = h->num_nodes;
	stats->vocabulary_size = h->vocabulary_size;
	stats->image_bytes = h->total_size;
}

uint32_t
td_image_num_inputs(const td_image *image)
{
	return image == NULL ? 0 : TD_IMG_HDR(image)->num_inputs;
}

static const td_image_input *
input_at(const td_image *image, uint32_t input)
{
	const td_image_header *h = TD_IMG_HDR(image);

	if (image == NULL || input >= h->num_inputs)
		return NULL;
	return TD_IMG_AT(image, h->inputs_off, td_image_input) + input;
}

const char *
td_image_input_name(const td_image *image, uint32_t input)
{
	const td_image_input *in = input_at(image, input);

	return in == NULL ? "" : (const char *) image + in->name_off;
}

td_input_type
td_image_input_type(const td_image *image, uint32_t input)
{
	const td_image_input *in = input_at(image, input);

	return in == NULL ? (td_input_type) 0 : (td_input_type) in->type;
}

bool
td_image_input_required(const td_image *image, uint32_t input)
{
	const td_image_input *in = input_at(image, input);

	return in != NULL && (in->flags & TD_INPUT_REQUIRED) != 0;
}

static bool
same_name(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (tolower((unsigned char) *a) != tolower((unsigned char) *b))
			return false;
	return *a == *b;
}

int
td_image_find_input(const td_image *image, const char *name)
{
	const td_image_header *h = TD_IMG_HDR(image);
	const uint32_t		  *aliases;
	uint32_t			   i;
	uint32_t			   j;

	if (image == NULL || name == NULL)
		return -1;
	aliases = TD_IMG_AT(image, h->aliases_off, uint32_t);
	for (i = 0; i < h->num_inputs; i++)
	{
		const td_image_input *in = TD_IMG_AT(image, h->inputs_off, td_image_input) + i;

		if (same_name((const char *) image + in->name_off, name))
			return (int) i;
		for (j = 0; j < in->aliases_count; j++)
			if (same_name((const char *) image + aliases[in->aliases_first + j], name))
				return (int) i;
	}
	return -1;
}
