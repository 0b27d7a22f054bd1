/*
 * td_model.h — the model library of taxi_duration: serving a model.
 *
 * Allowed dependencies: the common library (tdc.h), cJSON and the C
 * library (libm).  Never the statistics or AWS libraries, never
 * PostgreSQL.  Shared by the PostgreSQL extension and the Lambda, so that
 * a trip gets the same number, bit for bit, on both.  It turns a model
 * bundle (JSON, see docs/bundle-format.md) into a flat,
 * position-independent "model image" and scores trips with it:
 *
 *     bundle JSON --td_compile_bundle()--> image (one contiguous byte blob,
 *                                          offsets only, no pointers)
 *     image --td_predictor_create()--> predictor (per-process scratch)
 *     predictor + input values --td_predict()--> minutes
 *
 * The image can be copied anywhere (a DSM segment mapped at a different
 * address in every backend, a malloc'd buffer in the Lambda) and used in
 * place.  All allocation goes through the common library's hooks
 * (tdc_set_allocator); nothing here calls exit() or abort(); every failure is reported through td_status and a
 * td_error whose message/detail follow PostgreSQL's error style (message
 * lower-case without a trailing period, detail a full sentence).
 *
 * Files: td_bundle.c (reading a bundle), td_json.c, td_json_strict.c and
 * td_members.c (the bundle grammar), td_xgboost.c and td_linear.c (the
 * estimators), td_image.c (writing and checking images), td_predict.c
 * (scoring), td_ride.c (trip events), td_timestamp.c, td_cancel.c,
 * td_error.c; td_internal.h and td_image_layout.h are private.
 */
#ifndef TD_MODEL_H
#define TD_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "tdc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Status codes and errors                                             */
/* ------------------------------------------------------------------ */

typedef enum td_status
{
	TD_OK = 0,
	TD_ERR_NOMEM,		  /* an allocation hook returned NULL */
	TD_ERR_JSON,		  /* not JSON text, truncated, nested too deep */
	TD_ERR_FORMAT,		  /* JSON, but not a taxi-duration bundle */
	TD_ERR_VERSION,		  /* bundle format_version this core does not know */
	TD_ERR_INVALID,		  /* bundle structurally invalid (types, ranges,
						   * indices, cycles, non-finite numbers) */
	TD_ERR_UNSUPPORTED,	  /* valid, but not supported (objective, dart,
						   * categorical splits, multi-output) */
	TD_ERR_LIMIT,		  /* bundle exceeds a td_limits bound */
	TD_ERR_IMAGE,		  /* a model image failed td_image_check() */
	TD_ERR_INPUT,		  /* an input value is invalid (non-finite, out of
						   * the range the model declares, wrong type) */
	TD_ERR_MISSING_INPUT, /* a required input was not given */
	TD_ERR_RIDE_JSON,	  /* a trip event / ride JSON cannot be decoded */
	TD_ERR_CANCELED		  /* td_limits.cancel_requested said stop */
} td_status;

/*
 * Errors are the common library's tdc_error; status holds a td_status,
 * message and detail follow PostgreSQL's style.
 */
typedef tdc_error td_error;

/* Name of a status code, e.g. "TD_ERR_INVALID" (static string). */
const char *td_status_name(td_status status);

/* ------------------------------------------------------------------ */
/* Compiling a bundle into an image                                    */
/* ------------------------------------------------------------------ */

/* Bounds a bundle must respect; td_default_limits() fills sane values. */
typedef struct td_limits
{
	size_t	 max_bundle_bytes;	 /* default 64 MiB */
	uint32_t max_trees;			 /* default 10 000 */
	uint32_t max_nodes_per_tree; /* default 1 << 20 */
	uint32_t max_total_nodes;	 /* default 1 << 24 */
	uint32_t max_depth;			 /* default 64 */
	uint32_t max_features;		 /* default 1 << 20 */
	uint32_t max_inputs;		 /* default 64 */
	uint32_t max_vocabulary;	 /* entries over all categoricals; 1 << 20 */
	uint32_t max_string_bytes;	 /* any one name / key / metadata string; 1024 */

	/*
	 * Polled between the compile's phases and in its long loops (trees,
	 * vocabularies, the member scan); returning true abandons the compile
	 * with TD_ERR_CANCELED.  It must not longjmp.  NULL (the default):
	 * never cancelled.
	 */
	bool (*cancel_requested)(void *arg);
	void *cancel_arg;
} td_limits;

void td_default_limits(td_limits *limits);

/* The image: an opaque, contiguous, position-independent byte blob. */
typedef struct td_image td_image;

/*
 * Parse, validate and compile a bundle.  `json` need not be NUL-terminated.
 * On success *image_out is one block from the allocation hook (free it with
 * the free hook, or copy its *size_out bytes elsewhere and free it) and
 * TD_OK is returned.  On failure nothing is allocated and err is filled.
 */
td_status td_compile_bundle(const char *json, size_t len,
							const td_limits *limits,
							td_image **image_out, size_t *size_out,
							td_error *err);

/*
 * Check that `size` bytes at `image` are a complete image of a layout this
 * core understands (magic, layout version, declared size, every offset,
 * node, child and feature index in bounds).  Linear in the image's size
 * (about 0.3 ms for the default model); call it on an image produced
 * elsewhere before using it.
 */
td_status td_image_check(const void *image, size_t size, td_error *err);

/*
 * The O(1) part of td_image_check: magic, layout version, declared size,
 * sections and metadata strings in bounds, but not every node and slot.
 * For an image this process did not write but that was fully checked when
 * it was published (the extension's shared-memory segment).
 */
td_status td_image_check_header(const void *image, size_t size, td_error *err);

/* Metadata strings carried by the image (never NULL; "" when absent). */
typedef enum td_meta
{
	TD_META_FORMAT = 0, /* "taxi-duration-bundle" */
	TD_META_MODEL_NAME,
	TD_META_MODEL_VERSION,
	TD_META_RUN_ID,
	TD_META_CREATED_AT,
	TD_META_ESTIMATOR_SHA256,
	TD_META_ESTIMATOR_TYPE, /* "xgboost" or "linear" */
	TD_META_OBJECTIVE,		/* "reg:squarederror", "" for linear */
	TD_META_COUNT
} td_meta;

const char *td_image_meta(const td_image *image, td_meta which);

typedef struct td_image_stats
{
	uint32_t format_version;
	uint32_t num_inputs;
	uint32_t num_features;
	uint32_t num_trees; /* trees actually evaluated (after the
						 * iteration range); 0 for linear */
	uint32_t num_nodes;
	uint32_t vocabulary_size;
	uint64_t image_bytes;
} td_image_stats;

void td_image_get_stats(const td_image *image, td_image_stats *stats);

/* ------------------------------------------------------------------ */
/* Inputs                                                              */
/* ------------------------------------------------------------------ */

/* Types of raw inputs a bundle may declare. */
typedef enum td_input_type
{
	TD_INPUT_INTEGER = 1,  /* e.g. PULocationID */
	TD_INPUT_NUMBER = 2,   /* e.g. trip_distance */
	TD_INPUT_TIMESTAMP = 3 /* e.g. pickup_datetime (local wall clock) */
} td_input_type;

uint32_t	  td_image_num_inputs(const td_image *image);
const char	 *td_image_input_name(const td_image *image, uint32_t input);
td_input_type td_image_input_type(const td_image *image, uint32_t input);
bool		  td_image_input_required(const td_image *image, uint32_t input);

/*
 * Index of the input called `name` (its name or one of its aliases,
 * compared case-insensitively), or -1.
 */
int td_image_find_input(const td_image *image, const char *name);

/* One input value as handed to td_predict(). */
typedef enum td_value_kind
{
	TD_VALUE_ABSENT = 0, /* not given at all (a required input errors) */
	TD_VALUE_NULL,		 /* given as NULL: a missing value for the model */
	TD_VALUE_INT,		 /* .i */
	TD_VALUE_DOUBLE,	 /* .d (NaN means missing, like NULL) */
	TD_VALUE_TIMESTAMP	 /* .i = microseconds since 1970-01-01 00:00,
						  * local wall-clock time, no time zone */
} td_value_kind;

typedef struct td_value
{
	td_value_kind kind;
	int64_t		  i;
	double		  d;
} td_value;

/*
 * Parse "YYYY-MM-DD HH:MM[:SS[.ffffff]]" (or with 'T' in place of the
 * space) into microseconds since the Unix epoch, wall-clock.  Returns false
 * on anything else (including a time-zone suffix).
 */
bool td_parse_timestamp(const char *text, size_t len, int64_t *micros);

/* ------------------------------------------------------------------ */
/* Scoring                                                             */
/* ------------------------------------------------------------------ */

/* Per-process scratch for one image (a dense feature buffer). */
typedef struct td_predictor td_predictor;

td_status		td_predictor_create(const td_image *image, td_predictor **out,
									td_error *err);
void			td_predictor_free(td_predictor *predictor);
const td_image *td_predictor_image(const td_predictor *predictor);

/*
 * Predict the trip duration in minutes.  `values` has one entry per image
 * input (td_image_num_inputs), in image input order.  An integer input
 * accepts TD_VALUE_INT, or TD_VALUE_DOUBLE holding an integral value; a
 * number input accepts INT or DOUBLE; a timestamp input accepts TIMESTAMP.
 * NULL (and NaN) are missing values: a numeric feature is then missing
 * (XGBoost's default direction) and a categorical feature matches nothing.
 * ±Infinity and values outside the range the bundle declares are
 * TD_ERR_INPUT; an ABSENT required input is TD_ERR_MISSING_INPUT.
 * XGBoost models return XGBoost's float32 result widened to double.
 */
td_status td_predict(td_predictor *predictor, const td_value *values,
					 double *minutes, td_error *err);

/* ------------------------------------------------------------------ */
/* Trip events                                                         */
/* ------------------------------------------------------------------ */

#define TD_RIDE_ID_MAX 128

/*
 * Decode a trip event {"ride": {...}, "ride_id": ...} or a bare ride object
 * {...} into one td_value per image input (keys matched by input name or
 * alias, exactly; unknown keys ignored; JSON null -> TD_VALUE_NULL; a key
 * not present -> TD_VALUE_ABSENT).  Integer inputs take JSON numbers with an
 * integral value; number inputs take JSON numbers; both also take the
 * strings "NaN", "Infinity" and "-Infinity" (the decoder's non-finite
 * floats) as TD_VALUE_DOUBLE, which td_predict() treats as SQL's float8
 * (NaN missing, ±Infinity refused); any other string is TD_ERR_RIDE_JSON.
 * Timestamp inputs take strings td_parse_timestamp() accepts.  ride_id_json receives the ride id
 * re-encoded as compact JSON (a number or a string) or "" when absent.
 */
td_status td_decode_ride(const td_image *image, const char *json, size_t len,
						 td_value *values,
						 char	   ride_id_json[TD_RIDE_ID_MAX],
						 td_error *err);

#ifdef __cplusplus
}
#endif

#endif /* TD_MODEL_H */
