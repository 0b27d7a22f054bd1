/*
 * td_internal.h — declarations shared by the model library's .c files and
 * nowhere else: error helpers, JSON helpers and the "plan" a validated
 * bundle is turned into before it is written out as an image.
 *
 * Not included by the extension or the Lambda (their header is td_model.h).
 */
#ifndef TD_INTERNAL_H
#define TD_INTERNAL_H

#include <stdarg.h>

#include <cjson/cJSON.h>

#include "tdc.h"
#include "td_model.h"


/* td_error.c */
const char *td_status_message(td_status status);
td_status	td_error_nomem(td_error *err);
#define td_error_set(err, status, ...) \
	((void) tdc_error_set((err), (status), td_status_message(status), __VA_ARGS__))

/* td_cancel.c */
#define TD_CANCEL_POLL_EVERY 1024 /* loop iterations between polls */
td_status td_poll_cancel(const td_limits *limits, td_error *err);

/* td_members.c */
cJSON *td_parse_bundle_members(const char *json, size_t len,
							   const td_limits *limits, td_error *err);

/* td_json.c */
cJSON	*td_json_parse(const char *json, size_t len, td_status bad_status,
					   const char *what, td_error *err);
bool	 td_json_is_integer(const cJSON *item);
bool	 td_parse_uint_string(const char *s, uint64_t max, uint64_t *out);
uint32_t td_json_count_children(const cJSON *item, uint32_t stop_after);

/*
 * td_json_strict.c: the bundle grammar.  Numbers written with a fraction or
 * an exponent carry TD_JSON_NOT_INT_TOKEN in their cJSON type (above the
 * 0xFF cJSON's type tests mask, and not a bit cJSON itself uses), so that
 * td_json_is_integer rejects "1.0" in a bundle (trip events never set it).
 */
#define TD_JSON_MAX_DEPTH 128
#define TD_JSON_NOT_INT_TOKEN (1 << 12)
cJSON *td_json_parse_bundle(const char *json, size_t len, const td_limits *limits,
							td_error *err);

/* Numeric transforms of features.numeric[].transform */
#define TD_TRANSFORM_IDENTITY 1
#define TD_TRANSFORM_HOUR 2
#define TD_TRANSFORM_DOW 3

/* Estimator kinds */
#define TD_EST_XGBOOST 1
#define TD_EST_LINEAR 2

typedef struct td_input_spec
{
	const char	 *name;
	td_input_type type;
	bool		  required;
	bool		  has_min;
	bool		  has_max;
	double		  min;
	double		  max;
	const cJSON	 *aliases; /* array of strings or NULL */
	uint32_t	  num_aliases;
} td_input_spec;

typedef struct td_numeric_spec
{
	uint32_t input;
	uint32_t transform;
	uint32_t index;
} td_numeric_spec;

typedef struct td_cat_spec
{
	const char	*name;
	const char	*separator;
	uint32_t	 inputs_first; /* into td_plan.cat_inputs */
	uint32_t	 inputs_count;
	const cJSON *vocabulary; /* object: key -> feature index */
	uint32_t	 vocab_count;
	uint32_t	 capacity;	  /* hash slots, power of two */
	uint32_t	 max_key_len; /* longest key a trip can generate */
} td_cat_spec;

typedef struct td_xgb_plan
{
	const cJSON **trees; /* every tree of the booster, in order */
	uint32_t	  num_all_trees;
	uint32_t	  tree_begin; /* evaluated range [begin, end) */
	uint32_t	  tree_end;
	uint32_t	  num_nodes;	  /* reachable nodes in the evaluated range */
	uint32_t	  max_tree_nodes; /* largest num_nodes over every tree */
	float		  base_score;
	const char	 *objective;
} td_xgb_plan;

typedef struct td_plan
{
	const td_limits *limits;
	td_error		*err;
	const char		*meta[TD_META_COUNT];
	uint32_t		 format_version;

	uint32_t	   num_inputs;
	td_input_spec *inputs;
	uint32_t	   num_aliases;

	uint32_t		 num_features;
	uint32_t		 num_numeric;
	td_numeric_spec *numeric;
	uint32_t		 num_categorical;
	td_cat_spec		*cats;
	uint32_t		 num_cat_inputs;
	uint32_t		*cat_inputs;
	uint32_t		 vocabulary_size;
	uint64_t		 num_slots;

	uint32_t	 estimator;
	td_xgb_plan	 xgb;
	const cJSON *coefficients;
	double		 intercept;
} td_plan;

/* td_xgboost.c */
td_status td_xgb_plan_booster(td_plan *plan, const cJSON *estimator);
void	  td_xgb_plan_free(td_xgb_plan *xgb);
struct td_image_node;
struct td_image_tree;
td_status td_xgb_emit_trees(const td_plan *plan, struct td_image_node *nodes,
							struct td_image_tree *trees);

/* td_reduce.c: the reduced trees and one-hot tree lists, in memory */
struct td_image_header;
struct td_image_numeric;
typedef struct td_reduced
{
	struct td_image_tree *rtrees; /* num_trees */
	struct td_image_node *rnodes;
	uint32_t			 *fptr; /* num_features + 1 */
	uint32_t			 *ftrees;
	uint32_t			  num_rnodes;
	uint32_t			  num_ftrees;
} td_reduced;

td_status td_reduce_derive(const struct td_image_header	 *h,
						   const struct td_image_numeric *numeric,
						   const struct td_image_tree	 *trees,
						   const struct td_image_node *nodes, td_reduced *r);
void	  td_reduce_free(td_reduced *r);
uint64_t  td_reduce_bytes(const struct td_image_header *h, const td_reduced *r);
void	  td_reduce_write(struct td_image_header *h, char *img, uint64_t off,
						  const td_reduced *r);
td_status td_reduce_check(const void *image, const struct td_image_numeric *numeric,
						  const struct td_image_tree *trees,
						  const struct td_image_node *nodes, bool *ok);

/* td_linear.c */
td_status td_linear_plan(td_plan *plan, const cJSON *estimator);
td_status td_linear_emit(const td_plan *plan, double *coefficients);

/* td_image.c */
td_status td_image_build(const td_plan *plan, td_image **image_out,
						 size_t *size_out);

/* td_timestamp.c */
int64_t td_floor_div(int64_t a, int64_t b);

#endif /* TD_INTERNAL_H */
