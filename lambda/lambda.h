/*
 * lambda.h — declarations shared by the Lambda's files: the loaded model
 * (model.c), the Kinesis-event handler (handler.c) and base64 (base64.c).
 * bootstrap.c runs the Lambda Runtime API loop over them.
 */
#ifndef TD_LAMBDA_H
#define TD_LAMBDA_H

#include <stdbool.h>
#include <stddef.h>

#include "td_model.h"
#include "tda_aws.h"

#define LAMBDA_ERR_LEN 2048

/* The model, compiled once at cold start and kept for every invocation. */
typedef struct lambda_model
{
	td_image	 *image;
	size_t		  image_size;
	td_predictor *predictor;
	char		  source[1024]; /* the URI it was loaded from */
} lambda_model;

/* model.c */
bool lambda_model_load(const char *uri, lambda_model *model,
					   char errbuf[LAMBDA_ERR_LEN]);
void lambda_model_free(lambda_model *model);

/* What the handler needs besides the event. */
typedef struct lambda_settings
{
	const char *predictions_stream;
	bool		test_run;	  /* TEST_RUN=True: predict, don't write */
	tda_config	kinesis;	  /* endpoint, region, credentials */
	int			put_attempts; /* PutRecords calls per record (>= 1) */
	int			backoff_ms;	  /* first retry delay, doubled each time (with jitter) */
} lambda_settings;

/* The cap of the doubling retry delay. */
#define LAMBDA_BACKOFF_MAX_MS 10000

/* Counters of the last invocation, for the log line. */
typedef struct lambda_stats
{
	size_t records;
	size_t predicted;
	size_t bad_input;
	size_t write_failed;
	size_t put_calls;
	double predict_ms;
	double put_ms;
} lambda_stats;

/*
 * Handle one Kinesis event.  On success *response is a malloc'd JSON text
 * ({"batchItemFailures": [...]} and, in a test run, "predictions") and
 * true is returned; false (with errbuf) when the event as a whole cannot
 * be handled (not JSON, no Records, a record without a sequence number).
 */
bool lambda_handle(const lambda_model *model, const lambda_settings *settings,
				   const char *event, size_t len, char **response,
				   lambda_stats *stats, char errbuf[LAMBDA_ERR_LEN]);

/* base64.c: strict RFC 4648 decoding (padding required, no whitespace). */
bool lambda_base64_decode(const char *in, size_t len, char **out,
						  size_t *outlen);

/* Milliseconds from a monotonic clock. */
double lambda_now_ms(void);

#endif /* TD_LAMBDA_H */
