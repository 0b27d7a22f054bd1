/*
 * td_bundle.c — reading a model bundle (docs/bundle-format.md): the top
 * level, "model", "inputs" and "features", validated completely into a
 * td_plan; then the estimator readers (td_xgboost.c, td_linear.c) and the
 * image writer (td_image.c) finish the job.  Entry point: td_compile_bundle.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "td_internal.h"

#define ECHO(s, buf) tdc_echo((s), (buf), sizeof(buf))

void
td_default_limits(td_limits *limits)
{
	limits->max_bundle_bytes = (size_t) 64 * 1024 * 1024;
	limits->max_trees = 10000;
	limits->max_nodes_per_tree = 1u << 20;
	limits->max_total_nodes = 1u << 24;
	limits->max_depth = 64;
	limits->max_features = 1u << 20;
	limits->max_inputs = 64;
	limits->max_vocabulary = 1u << 20;
	limits->max_string_bytes = 1024;
	limits->cancel_requested = NULL;
	limits->cancel_arg = NULL;
}

static const cJSON *
member(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* How get_string treats an absent or null member. */
#define STR_REQUIRED 0 /* must be a string */
#define STR_OPTIONAL 1 /* absent, or a string */
#define STR_NULLABLE 2 /* absent, null, or a string */

/*
 * A string member.  Absent (or null, for STR_NULLABLE) gives out = NULL;
 * anything else must be a string no longer than the limit.
 */
static td_status
get_string(td_plan *plan, const cJSON *obj, const char *key,
		   const char *where, int mode, const char **out)
{
	const cJSON *item = member(obj, key);

	*out = NULL;
	if (item == NULL || (cJSON_IsNull(item) && mode == STR_NULLABLE))
	{
		if (mode != STR_REQUIRED)
			return TD_OK;
		td_error_set(plan->err, TD_ERR_INVALID,
					 "%s has no \"%s\" string.", where, key);
		return TD_ERR_INVALID;
	}
	if (!cJSON_IsString(item) || item->valuestring == NULL)
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "%s has a \"%s\" that is not a string.", where, key);
		return TD_ERR_INVALID;
	}
	if (strlen(item->valuestring) > plan->limits->max_string_bytes)
	{
		td_error_set(plan->err, TD_ERR_LIMIT,
					 "%s has a \"%s\" of %zu bytes; the limit is %u bytes.",
					 where, key, strlen(item->valuestring),
					 plan->limits->max_string_bytes);
		return TD_ERR_LIMIT;
	}
	*out = item->valuestring;
	return TD_OK;
}

static bool
valid_identifier(const char *s)
{
	size_t i;

	if (!(isalpha((unsigned char) s[0]) || s[0] == '_'))
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (!(isalnum((unsigned char) s[i]) || s[i] == '_'))
			return false;
	return true;
}

static bool
same_name(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (tolower((unsigned char) *a) != tolower((unsigned char) *b))
			return false;
	return *a == *b;
}

/* Index of the input with this name exactly (what features name), or -1. */
static int
find_input_exact(const td_plan *plan, const char *name)
{
	uint32_t i;

	for (i = 0; i < plan->num_inputs; i++)
		if (strcmp(plan->inputs[i].name, name) == 0)
			return (int) i;
	return -1;
}

/*
 * created_at: YYYY-MM-DDTHH:MM[:SS[.fraction]] then Z, +00:00, +0000, -00:00
 * or -0000 (the schema's pattern).
 */
static bool
valid_created_at(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd";
	size_t			  i;

	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char) s[i]) : s[i] != shape[i])
			return false;
	s += i;
	if (s[0] == ':' && isdigit((unsigned char) s[1]) && isdigit((unsigned char) s[2]))
	{
		s += 3;
		if (s[0] == '.' && isdigit((unsigned char) s[1]))
			for (s++; isdigit((unsigned char) *s); s++)
				;
	}
	if (strcmp(s, "Z") == 0)
		return true;
	return (s[0] == '+' || s[0] == '-') &&
		   (strcmp(s + 1, "00:00") == 0 || strcmp(s + 1, "0000") == 0);
}

/* Index of the input with this name or alias (case-insensitive), or -1. */
static int
find_input_spec(const td_plan *plan, uint32_t upto, const char *name)
{
	uint32_t	 i;
	const cJSON *a;

	for (i = 0; i < upto; i++)
	{
		if (same_name(plan->inputs[i].name, name))
			return (int) i;
		cJSON_ArrayForEach(a, plan->inputs[i].aliases)
		{
			if (same_name(a->valuestring, name))
				return (int) i;
		}
	}
	return -1;
}

static td_status
read_model(td_plan *plan, const cJSON *root)
{
	const cJSON *model = member(root, "model");
	td_status	 st;
	const char	*sha;
	size_t		 i;

	if (!cJSON_IsObject(model))
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "The bundle has no \"model\" object.");
		return TD_ERR_INVALID;
	}
	if ((st = get_string(plan, model, "name", "The \"model\" object", STR_REQUIRED,
						 &plan->meta[TD_META_MODEL_NAME])) != TD_OK)
		return st;
	if (plan->meta[TD_META_MODEL_NAME][0] == '\0')
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "The \"model\" object has an empty \"name\".");
		return TD_ERR_INVALID;
	}
	if ((st = get_string(plan, model, "version", "The \"model\" object", STR_REQUIRED,
						 &plan->meta[TD_META_MODEL_VERSION])) != TD_OK)
		return st;
	if ((st = get_string(plan, model, "run_id", "The \"model\" object", STR_NULLABLE,
						 &plan->meta[TD_META_RUN_ID])) != TD_OK)
		return st;
	if ((st = get_string(plan, model, "created_at", "The \"model\" object", STR_NULLABLE,
						 &plan->meta[TD_META_CREATED_AT])) != TD_OK)
		return st;
	if (plan->meta[TD_META_CREATED_AT] != NULL &&
		!valid_created_at(plan->meta[TD_META_CREATED_AT]))
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "The \"model\" object has a \"created_at\" that is not an ISO 8601 UTC time (YYYY-MM-DDTHH:MM[:SS[.f]]Z).");
		return TD_ERR_INVALID;
	}
	if ((st = get_string(plan, model, "estimator_sha256", "The \"model\" object",
						 STR_NULLABLE, &sha)) != TD_OK)
		return st;
	if (sha != NULL)
	{
		for (i = 0; sha[i] != '\0'; i++)
			if (!((sha[i] >= '0' && sha[i] <= '9') || (sha[i] >= 'a' && sha[i] <= 'f')))
				break;
		if (i != 64 || sha[i] != '\0')
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "The \"model\" object has an \"estimator_sha256\" that is not 64 lower-case hex digits.");
			return TD_ERR_INVALID;
		}
	}
	plan->meta[TD_META_ESTIMATOR_SHA256] = sha;
	return TD_OK;
}

static td_status
read_bound(td_plan *plan, const cJSON *entry, const char *key, uint32_t i,
		   bool *has, double *value)
{
	const cJSON *item = member(entry, key);
	char		 buf[80];

	*has = false;
	if (item == NULL)
		return TD_OK;
	if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "Input \"%s\" has a \"%s\" that is not a finite number.",
					 ECHO(plan->inputs[i].name, buf), key);
		return TD_ERR_INVALID;
	}
	*has = true;
	*value = item->valuedouble;
	return TD_OK;
}

static td_status
read_inputs(td_plan *plan, const cJSON *root)
{
	const cJSON *inputs = member(root, "inputs");
	const cJSON *entry;
	uint32_t	 n;
	uint32_t	 i = 0;
	char		 buf[80];
	char		 where[128];
	td_status	 st;

	if (!cJSON_IsArray(inputs))
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "The bundle has no \"inputs\" array.");
		return TD_ERR_INVALID;
	}
	n = td_json_count_children(inputs, plan->limits->max_inputs);
	if (n == 0)
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "The bundle's \"inputs\" array is empty.");
		return TD_ERR_INVALID;
	}
	if (n > plan->limits->max_inputs)
	{
		td_error_set(plan->err, TD_ERR_LIMIT,
					 "The bundle declares more than %u inputs.",
					 plan->limits->max_inputs);
		return TD_ERR_LIMIT;
	}
	plan->inputs = tdc_calloc_array(n, sizeof(td_input_spec));
	if (plan->inputs == NULL)
		return td_error_nomem(plan->err);

	cJSON_ArrayForEach(entry, inputs)
	{
		td_input_spec *in = &plan->inputs[i];
		const cJSON	  *req;
		const cJSON	  *a;
		const char	  *type;
		uint32_t	   na;

		snprintf(where, sizeof(where), "Input %u", i);
		if (!cJSON_IsObject(entry))
		{
			td_error_set(plan->err, TD_ERR_INVALID, "Input %u is not an object.", i);
			return TD_ERR_INVALID;
		}
		if ((st = get_string(plan, entry, "name", where, STR_REQUIRED, &in->name)) != TD_OK)
			return st;
		if (!valid_identifier(in->name))
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Input %u has the name \"%s\", which is not an identifier ([A-Za-z_][A-Za-z0-9_]*).",
						 i, ECHO(in->name, buf));
			return TD_ERR_INVALID;
		}
		snprintf(where, sizeof(where), "Input \"%s\"", ECHO(in->name, buf));
		if ((st = get_string(plan, entry, "type", where, STR_REQUIRED, &type)) != TD_OK)
			return st;
		if (strcmp(type, "integer") == 0)
			in->type = TD_INPUT_INTEGER;
		else if (strcmp(type, "number") == 0)
			in->type = TD_INPUT_NUMBER;
		else if (strcmp(type, "timestamp") == 0)
			in->type = TD_INPUT_TIMESTAMP;
		else
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "%s has the type \"%s\"; the types are \"integer\", \"number\" and \"timestamp\".",
						 where, ECHO(type, buf));
			return TD_ERR_INVALID;
		}
		req = member(entry, "required");
		if (!cJSON_IsBool(req))
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "%s has no boolean \"required\".", where);
			return TD_ERR_INVALID;
		}
		in->required = cJSON_IsTrue(req);
		if ((st = read_bound(plan, entry, "min", i, &in->has_min, &in->min)) != TD_OK ||
			(st = read_bound(plan, entry, "max", i, &in->has_max, &in->max)) != TD_OK)
			return st;
		if ((in->has_min || in->has_max) && in->type == TD_INPUT_TIMESTAMP)
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "%s is a timestamp and cannot declare \"min\" or \"max\".", where);
			return TD_ERR_INVALID;
		}
		if (in->has_min && in->has_max && in->min > in->max)
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "%s has \"min\" %.17g above \"max\" %.17g.", where, in->min, in->max);
			return TD_ERR_INVALID;
		}
		a = member(entry, "aliases");
		if (a != NULL)
		{
			if (!cJSON_IsArray(a))
			{
				td_error_set(plan->err, TD_ERR_INVALID,
							 "%s has \"aliases\" that are not an array.", where);
				return TD_ERR_INVALID;
			}
			na = td_json_count_children(a, plan->limits->max_inputs);
			if (na > plan->limits->max_inputs)
			{
				td_error_set(plan->err, TD_ERR_LIMIT,
							 "%s has more than %u aliases.", where, plan->limits->max_inputs);
				return TD_ERR_LIMIT;
			}
			in->aliases = a;
			in->num_aliases = na;
			plan->num_aliases += na;
		}
		/* Names and aliases: non-empty strings, unique across all inputs. */
		if (find_input_spec(plan, i, in->name) >= 0)
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Input name \"%s\" is used more than once (names and aliases compare case-insensitively).",
						 ECHO(in->name, buf));
			return TD_ERR_INVALID;
		}
		if (in->aliases != NULL)
		{
			const cJSON *x;
			uint32_t	 k = 0;

			cJSON_ArrayForEach(x, in->aliases)
			{
				const cJSON *y;
				uint32_t	 m = 0;

				if (!cJSON_IsString(x) || x->valuestring == NULL)
				{
					td_error_set(plan->err, TD_ERR_INVALID,
								 "%s has an alias that is not a string.", where);
					return TD_ERR_INVALID;
				}
				if (strlen(x->valuestring) > plan->limits->max_string_bytes)
				{
					td_error_set(plan->err, TD_ERR_LIMIT,
								 "%s has an alias longer than %u bytes.", where,
								 plan->limits->max_string_bytes);
					return TD_ERR_LIMIT;
				}
				if (!valid_identifier(x->valuestring))
				{
					td_error_set(plan->err, TD_ERR_INVALID,
								 "%s has the alias \"%s\", which is not an identifier ([A-Za-z_][A-Za-z0-9_]*).",
								 where, ECHO(x->valuestring, buf));
					return TD_ERR_INVALID;
				}
				if (find_input_spec(plan, i, x->valuestring) >= 0 ||
					same_name(x->valuestring, in->name))
					goto dup_alias;
				cJSON_ArrayForEach(y, in->aliases)
				{
					if (m >= k)
						break;
					if (same_name(x->valuestring, y->valuestring))
						goto dup_alias;
					m++;
				}
				k++;
				continue;
dup_alias:
				td_error_set(plan->err, TD_ERR_INVALID,
							 "Input name \"%s\" is used more than once (names and aliases compare case-insensitively).",
							 ECHO(x->valuestring, buf));
				return TD_ERR_INVALID;
			}
		}
		i++;
	}
	plan->num_inputs = n;
	return TD_OK;
}

/* An integer member in [0, bound); *out set.  what names it in details. */
static td_status
get_index(td_plan *plan, const cJSON *item, uint32_t bound, const char *what,
		  uint32_t *out)
{
	if (!td_json_is_integer(item))
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "%s has an index that is not an integer.", what);
		return TD_ERR_INVALID;
	}
	if (item->valuedouble < 0 || item->valuedouble >= (double) bound)
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "%s has index %.0f, outside [0, %u).", what, item->valuedouble, bound);
		return TD_ERR_INVALID;
	}
	*out = (uint32_t) item->valuedouble;
	return TD_OK;
}

static td_status
mark_used(td_plan *plan, unsigned char *used, uint32_t index, const char *what)
{
	if (used[index])
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "Feature index %u is used more than once (again by %s).", index, what);
		return TD_ERR_INVALID;
	}
	used[index] = 1;
	return TD_OK;
}

/*
 * Check that `list` (one of the features.* arrays, optional) is an array of
 * at most features.count entries, and count them into *n (0 when absent).
 */
static td_status
read_feature_list(td_plan *plan, const cJSON *list, const char *name,
				  uint32_t *n)
{
	*n = 0;
	if (!cJSON_IsArray(list))
	{
		td_error_set(plan->err, TD_ERR_INVALID, "\"%s\" is absent or not an array.", name);
		return TD_ERR_INVALID;
	}
	*n = td_json_count_children(list, plan->num_features);
	if (*n > plan->num_features)
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "\"%s\" has more entries than \"features.count\".", name);
		return TD_ERR_INVALID;
	}
	return TD_OK;
}

static td_status
read_numeric(td_plan *plan, const cJSON *list, unsigned char *used)
{
	const cJSON *entry;
	uint32_t	 n;
	uint32_t	 i = 0;
	char		 buf[80];
	char		 where[128];
	td_status	 st;

	st = read_feature_list(plan, list, "features.numeric", &n);
	if (st != TD_OK)
		return st;
	plan->numeric = tdc_calloc_array(n, sizeof(td_numeric_spec));
	if (plan->numeric == NULL)
		return td_error_nomem(plan->err);
	cJSON_ArrayForEach(entry, list)
	{
		td_numeric_spec *f = &plan->numeric[i];
		const char		*name;
		const char		*input;
		const char		*transform;
		int				 k;
		td_input_type	 t;

		snprintf(where, sizeof(where), "Numeric feature %u", i);
		if (!cJSON_IsObject(entry))
		{
			td_error_set(plan->err, TD_ERR_INVALID, "%s is not an object.", where);
			return TD_ERR_INVALID;
		}
		if ((st = get_string(plan, entry, "name", where, STR_REQUIRED, &name)) != TD_OK)
			return st;
		snprintf(where, sizeof(where), "Numeric feature \"%s\"", ECHO(name, buf));
		if ((st = get_string(plan, entry, "input", where, STR_REQUIRED, &input)) != TD_OK ||
			(st = get_string(plan, entry, "transform", where, STR_REQUIRED, &transform)) != TD_OK)
			return st;
		k = find_input_exact(plan, input);
		if (k < 0)
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "%s reads input \"%s\", which the bundle does not declare (features name inputs by \"name\", exactly).",
						 where, ECHO(input, buf));
			return TD_ERR_INVALID;
		}
		f->input = (uint32_t) k;
		t = plan->inputs[k].type;
		if (strcmp(transform, "identity") == 0)
			f->transform = TD_TRANSFORM_IDENTITY;
		else if (strcmp(transform, "hour_of_day") == 0)
			f->transform = TD_TRANSFORM_HOUR;
		else if (strcmp(transform, "day_of_week") == 0)
			f->transform = TD_TRANSFORM_DOW;
		else
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "%s has the transform \"%s\"; the transforms are \"identity\", \"hour_of_day\" and \"day_of_week\".",
						 where, ECHO(transform, buf));
			return TD_ERR_INVALID;
		}
		if ((f->transform == TD_TRANSFORM_IDENTITY) != (t != TD_INPUT_TIMESTAMP))
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "%s applies \"%s\" to input \"%s\", whose type does not allow it.",
						 where, transform, plan->inputs[k].name);
			return TD_ERR_INVALID;
		}
		if ((st = get_index(plan, member(entry, "index"), plan->num_features,
							where, &f->index)) != TD_OK ||
			(st = mark_used(plan, used, f->index, where)) != TD_OK)
			return st;
		i++;
	}
	plan->num_numeric = n;
	return TD_OK;
}

static td_status
read_categorical(td_plan *plan, const cJSON *list, unsigned char *used)
{
	const cJSON *entry;
	uint32_t	 n;
	uint32_t	 i = 0;
	uint32_t	 total_inputs = 0;
	char		 buf[80];
	char		 where[160];
	td_status	 st;

	st = read_feature_list(plan, list, "features.categorical", &n);
	if (st != TD_OK)
		return st;
	/* Count the inputs first so one array holds them all. */
	cJSON_ArrayForEach(entry, list)
	{
		const cJSON *ins = member(entry, "inputs");
		uint32_t	 k;

		if (!cJSON_IsObject(entry) || !cJSON_IsArray(ins))
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "Categorical feature %u is not an object with an \"inputs\" array.", i);
			return TD_ERR_INVALID;
		}
		k = td_json_count_children(ins, plan->limits->max_inputs);
		if (k == 0 || k > plan->limits->max_inputs)
		{
			td_error_set(plan->err, k == 0 ? TD_ERR_INVALID : TD_ERR_LIMIT,
						 "Categorical feature %u has %s inputs (1 to %u are allowed).",
						 i, k == 0 ? "no" : "too many", plan->limits->max_inputs);
			return k == 0 ? TD_ERR_INVALID : TD_ERR_LIMIT;
		}
		total_inputs += k;
		i++;
	}
	plan->cats = tdc_calloc_array(n, sizeof(td_cat_spec));
	plan->cat_inputs = tdc_calloc_array(total_inputs, sizeof(uint32_t));
	if (plan->cats == NULL || plan->cat_inputs == NULL)
		return td_error_nomem(plan->err);

	i = 0;
	cJSON_ArrayForEach(entry, list)
	{
		td_cat_spec *c = &plan->cats[i];
		const cJSON *in;
		const cJSON *vocab;
		const cJSON *v;
		uint32_t	 cap;
		uint64_t	 keylen = 0;

		snprintf(where, sizeof(where), "Categorical feature %u", i);
		if ((st = get_string(plan, entry, "name", where, STR_REQUIRED, &c->name)) != TD_OK)
			return st;
		snprintf(where, sizeof(where), "Categorical feature \"%s\"", ECHO(c->name, buf));
		if ((st = get_string(plan, entry, "separator", where, STR_OPTIONAL, &c->separator)) != TD_OK)
			return st;
		c->inputs_first = plan->num_cat_inputs;
		cJSON_ArrayForEach(in, member(entry, "inputs"))
		{
			int k;

			if (!cJSON_IsString(in) || in->valuestring == NULL)
			{
				td_error_set(plan->err, TD_ERR_INVALID,
							 "%s has an input that is not a string.", where);
				return TD_ERR_INVALID;
			}
			k = find_input_exact(plan, in->valuestring);
			if (k < 0)
			{
				td_error_set(plan->err, TD_ERR_INVALID,
							 "%s reads input \"%s\", which the bundle does not declare (features name inputs by \"name\", exactly).",
							 where, ECHO(in->valuestring, buf));
				return TD_ERR_INVALID;
			}
			if (plan->inputs[k].type != TD_INPUT_INTEGER)
			{
				td_error_set(plan->err, TD_ERR_INVALID,
							 "%s reads input \"%s\", which is not an integer input.",
							 where, plan->inputs[k].name);
				return TD_ERR_INVALID;
			}
			plan->cat_inputs[plan->num_cat_inputs++] = (uint32_t) k;
			c->inputs_count++;
			keylen += 20; /* "-9223372036854775808" */
		}
		if (c->inputs_count >= 2 && c->separator == NULL)
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "%s combines %u inputs but has no \"separator\".", where, c->inputs_count);
			return TD_ERR_INVALID;
		}
		if (c->separator == NULL)
			c->separator = "";
		keylen += (uint64_t) (c->inputs_count - 1) * strlen(c->separator);
		c->max_key_len = (uint32_t) keylen;

		vocab = member(entry, "vocabulary");
		if (!cJSON_IsObject(vocab))
		{
			td_error_set(plan->err, TD_ERR_INVALID,
						 "%s has no \"vocabulary\" object.", where);
			return TD_ERR_INVALID;
		}
		c->vocabulary = vocab;
		cJSON_ArrayForEach(v, vocab)
		{
			uint32_t index;

			if (plan->vocabulary_size % TD_CANCEL_POLL_EVERY == 0 &&
				(st = td_poll_cancel(plan->limits, plan->err)) != TD_OK)
				return st;
			if (plan->vocabulary_size >= plan->limits->max_vocabulary)
			{
				td_error_set(plan->err, TD_ERR_LIMIT,
							 "The vocabularies hold more than %u entries.",
							 plan->limits->max_vocabulary);
				return TD_ERR_LIMIT;
			}
			if (v->string == NULL || strlen(v->string) > plan->limits->max_string_bytes)
			{
				td_error_set(plan->err, TD_ERR_LIMIT,
							 "%s has a vocabulary key longer than %u bytes.",
							 where, plan->limits->max_string_bytes);
				return TD_ERR_LIMIT;
			}
			if ((st = get_index(plan, v, plan->num_features, where, &index)) != TD_OK ||
				(st = mark_used(plan, used, index, where)) != TD_OK)
				return st;
			c->vocab_count++;
			plan->vocabulary_size++;
		}
		/* Load factor at most 1/2, at least one empty slot. */
		cap = 2;
		while (cap < 2 * (uint64_t) c->vocab_count + 1)
			cap <<= 1;
		c->capacity = cap;
		plan->num_slots += cap;
		i++;
	}
	plan->num_categorical = n;
	return TD_OK;
}

static td_status
read_features(td_plan *plan, const cJSON *root)
{
	const cJSON	  *features = member(root, "features");
	const cJSON	  *count;
	unsigned char *used;
	td_status	   st;
	uint32_t	   i;

	if (!cJSON_IsObject(features))
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "The bundle has no \"features\" object.");
		return TD_ERR_INVALID;
	}
	count = member(features, "count");
	if (!td_json_is_integer(count) || count->valuedouble < 1)
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "\"features.count\" is not a positive integer.");
		return TD_ERR_INVALID;
	}
	if (count->valuedouble > (double) plan->limits->max_features)
	{
		td_error_set(plan->err, TD_ERR_LIMIT,
					 "\"features.count\" is %.0f; the limit is %u.",
					 count->valuedouble, plan->limits->max_features);
		return TD_ERR_LIMIT;
	}
	plan->num_features = (uint32_t) count->valuedouble;
	used = tdc_calloc_array(plan->num_features, 1);
	if (used == NULL)
		return td_error_nomem(plan->err);
	st = read_numeric(plan, member(features, "numeric"), used);
	if (st == TD_OK)
		st = read_categorical(plan, member(features, "categorical"), used);
	if (st == TD_OK)
	{
		for (i = 0; i < plan->num_features; i++)
		{
			if (!used[i])
			{
				td_error_set(plan->err, TD_ERR_INVALID,
							 "Feature index %u is not used by any numeric feature or vocabulary entry.", i);
				st = TD_ERR_INVALID;
				break;
			}
		}
	}
	tdc_free(used);
	return st;
}

static td_status
read_estimator(td_plan *plan, const cJSON *root)
{
	const cJSON *est = member(root, "estimator");
	const char	*type;
	td_status	 st;
	char		 buf[80];

	if (!cJSON_IsObject(est))
	{
		td_error_set(plan->err, TD_ERR_INVALID,
					 "The bundle has no \"estimator\" object.");
		return TD_ERR_INVALID;
	}
	if ((st = get_string(plan, est, "type", "The \"estimator\" object", STR_REQUIRED, &type)) != TD_OK)
		return st;
	if (strcmp(type, "xgboost") == 0)
	{
		plan->estimator = TD_EST_XGBOOST;
		plan->meta[TD_META_ESTIMATOR_TYPE] = "xgboost";
		return td_xgb_plan_booster(plan, est);
	}
	if (strcmp(type, "linear") == 0)
	{
		plan->estimator = TD_EST_LINEAR;
		plan->meta[TD_META_ESTIMATOR_TYPE] = "linear";
		return td_linear_plan(plan, est);
	}
	td_error_set(plan->err, TD_ERR_UNSUPPORTED,
				 "The estimator type \"%s\" is not supported; the types are \"xgboost\" and \"linear\".",
				 ECHO(type, buf));
	return TD_ERR_UNSUPPORTED;
}

static td_status
read_top(td_plan *plan, const cJSON *root)
{
	const cJSON *format;
	const cJSON *version;

	if (!cJSON_IsObject(root))
	{
		td_error_set(plan->err, TD_ERR_FORMAT,
					 "The bundle is JSON but not an object.");
		return TD_ERR_FORMAT;
	}
	format = member(root, "format");
	if (!cJSON_IsString(format) || format->valuestring == NULL ||
		strcmp(format->valuestring, "taxi-duration-bundle") != 0)
	{
		td_error_set(plan->err, TD_ERR_FORMAT,
					 "The bundle's \"format\" is not \"taxi-duration-bundle\".");
		return TD_ERR_FORMAT;
	}
	plan->meta[TD_META_FORMAT] = "taxi-duration-bundle";
	version = member(root, "format_version");
	if (!td_json_is_integer(version))
	{
		td_error_set(plan->err, TD_ERR_VERSION,
					 "The bundle has no integer \"format_version\"; this reader knows format version 1.");
		return TD_ERR_VERSION;
	}
	if (version->valuedouble != 1.0)
	{
		td_error_set(plan->err, TD_ERR_VERSION,
					 "The bundle has format version %.17g; this reader knows format version 1 only.",
					 version->valuedouble);
		return TD_ERR_VERSION;
	}
	plan->format_version = 1;
	return TD_OK;
}

static void
plan_free(td_plan *plan)
{
	tdc_free(plan->inputs);
	tdc_free(plan->numeric);
	tdc_free(plan->cats);
	tdc_free(plan->cat_inputs);
	td_xgb_plan_free(&plan->xgb);
}

td_status
td_compile_bundle(const char *json, size_t len, const td_limits *limits,
				  td_image **image_out, size_t *size_out, td_error *err)
{
	td_limits defaults;
	td_plan	  plan;
	cJSON	 *root;
	td_status st;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (image_out != NULL)
		*image_out = NULL;
	if (size_out != NULL)
		*size_out = 0;
	if (image_out == NULL || size_out == NULL || (json == NULL && len != 0))
	{
		td_error_set(err, TD_ERR_INVALID, "td_compile_bundle was called with a NULL argument.");
		return TD_ERR_INVALID;
	}
	if (limits == NULL)
	{
		td_default_limits(&defaults);
		limits = &defaults;
	}
	if (len > limits->max_bundle_bytes)
	{
		td_error_set(err, TD_ERR_LIMIT,
					 "The bundle has %zu bytes; the limit is %zu bytes.",
					 len, limits->max_bundle_bytes);
		return TD_ERR_LIMIT;
	}
	/* the strict grammar; only the members read below are built (td_members.c) */
	root = td_json_parse_bundle(json, len, limits, err);
	if (root == NULL)
		return err != NULL ? err->status : TD_ERR_JSON;

	memset(&plan, 0, sizeof(plan));
	plan.limits = limits;
	plan.err = err;
	st = read_top(&plan, root);
	if (st == TD_OK)
		st = read_model(&plan, root);
	if (st == TD_OK)
		st = read_inputs(&plan, root);
	if (st == TD_OK)
		st = read_features(&plan, root);
	if (st == TD_OK)
		st = td_poll_cancel(limits, err);
	if (st == TD_OK)
		st = read_estimator(&plan, root);
	if (st == TD_OK)
		st = td_poll_cancel(limits, err);
	if (st == TD_OK)
		st = td_image_build(&plan, image_out, size_out);
	plan_free(&plan);
	cJSON_Delete(root);
	if (st == TD_OK && err != NULL)
		memset(err, 0, sizeof(*err));
	return st;
}
