/*
 * handler.c — one Kinesis event in, prediction events out.
 *
 * For each record of {"Records": [{"kinesis": {"data", "sequenceNumber",
 * ...}}, ...]}: base64-decode the data, decode the trip event with
 * td_decode_ride, predict with td_predict and build the prediction event
 *
 *   {"model": <name>, "version": <model version>,
 *    "prediction": {"ride_duration": <minutes>, "ride_id": <ride id>}}
 *
 * (the double printed with the fewest of 15, 16 or 17 significant digits
 * that read back to exactly the same value; cJSON's own printing compares
 * with a tolerance and would not round-trip).  The events go to the
 * predictions stream through the AWS library's sender (tda_kinesis_send:
 * batches within Kinesis' limits, exact retries of failed entries with
 * backoff and jitter, at most TD_PUT_ATTEMPTS calls per record), with the
 * partition key tda_partition_key_from_ride_id makes of the ride id.
 *
 * Records that cannot be processed (bad base64, not JSON, a missing or
 * invalid value, no usable ride id) and records whose prediction could not
 * be written (refused by Kinesis, or not accepted in time) are reported as
 * {"batchItemFailures": [{"itemIdentifier": <sequenceNumber>}]}; the others
 * succeed.  In a test run (TEST_RUN=True)
 * nothing is written and the response also carries "predictions".
 *
 * Every string from the event or from a server that reaches a log line
 * (sequence number, partition key, error details) is escaped by
 * tdc_escape, so that a crafted record cannot forge log lines.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lambda.h"
#include "tda_aws.h"

/* Bad records logged per invocation (the rest are only counted). */
#define MAX_LOGGED 10

typedef enum rec_state
{
	REC_BAD,	 /* could not be processed */
	REC_PENDING, /* predicted, not yet written */
	REC_WRITTEN,
	REC_UNWRITTEN /* refused by Kinesis, or not accepted in time */
} rec_state;

typedef struct rec
{
	const char *seq;  /* borrowed from the event */
	const char *pkey; /* kinesis.partitionKey, borrowed; NULL if absent */
	char	   *out;  /* the prediction event (cJSON allocation) */
	size_t		out_len;
	char		key[TDA_KINESIS_MAX_KEY_LEN + 1];
	rec_state	state;
} rec;

/* Shortest of %.15g/%.16g/%.17g that strtod reads back bit for bit. */
static void
format_double(double d, char *out, size_t outsize)
{
	int prec;

	for (prec = 15; prec <= 17; prec++)
	{
		snprintf(out, outsize, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}

/* The prediction event as compact JSON (cJSON allocation), or NULL. */
static char *
prediction_event(const td_image *image, double minutes, const char *ride_id_json)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *pred;
	char  *text = NULL;
	char   number[64];

	if (root == NULL)
		return NULL;
	format_double(minutes, number, sizeof(number));
	if (cJSON_AddStringToObject(root, "model", td_image_meta(image, TD_META_MODEL_NAME)) != NULL &&
		cJSON_AddStringToObject(root, "version", td_image_meta(image, TD_META_MODEL_VERSION)) != NULL &&
		(pred = cJSON_AddObjectToObject(root, "prediction")) != NULL &&
		cJSON_AddRawToObject(pred, "ride_duration", number) != NULL &&
		cJSON_AddRawToObject(pred, "ride_id", ride_id_json) != NULL)
		text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

/* Decode and score one record; false (with why) when it is bad. */
static bool
process_record(const lambda_model *model, const cJSON *record, td_value *values,
			   rec *r, char *why, size_t whysize)
{
	const cJSON *kinesis = cJSON_GetObjectItemCaseSensitive(record, "kinesis");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(kinesis, "data");
	char		*raw = NULL;
	size_t		 rawlen;
	char		 ride_id[TD_RIDE_ID_MAX];
	double		 minutes;
	td_error	 err;
	tda_error	 key_err;
	bool		 ok = false;

	if (!cJSON_IsString(data))
	{
		snprintf(why, whysize, "kinesis.data is missing or not a string");
		return false;
	}
	if (!lambda_base64_decode(data->valuestring, strlen(data->valuestring), &raw, &rawlen))
	{
		snprintf(why, whysize, "kinesis.data is not valid base64");
		return false;
	}
	if (td_decode_ride(model->image, raw, rawlen, values, ride_id, &err) != TD_OK ||
		td_predict(model->predictor, values, &minutes, &err) != TD_OK)
		snprintf(why, whysize, "%s: %s", err.message, err.detail);
	else if (!isfinite(minutes))
		snprintf(why, whysize, "the model returned a non-finite duration");
	else if (tda_partition_key_from_ride_id(ride_id, r->key, &key_err) != TDA_OK)
		snprintf(why, whysize, "the trip event has no usable ride_id: %s", key_err.detail);
	else if ((r->out = prediction_event(model->image, minutes, ride_id)) == NULL)
		snprintf(why, whysize, "out of memory building the prediction event");
	else
	{
		r->out_len = strlen(r->out);
		ok = true;
	}
	free(raw);
	return ok;
}

/* A whole PutRecords call failed: say why (the detail may quote Kinesis). */
static void
log_put_error(size_t n, const tda_error *err)
{
	char message[TDC_ERROR_MESSAGE_LEN + 64];
	char detail[TDC_ERROR_DETAIL_LEN + 64];

	fprintf(stderr, "ERROR PutRecords of %zu records failed: \"%s\": \"%s\" (%s)\n", n,
			tdc_escape(err->message, message, sizeof(message)),
			tdc_escape(err->detail, detail, sizeof(detail)), tda_status_name(err->status));
}

/* A record that could not be processed, identified as the event names it. */
static void
log_skipped(const rec *r, const char *why)
{
	char seq[TDC_ESCAPE_SHORT];
	char pkey[TDC_ESCAPE_SHORT];
	char reason[TDC_ERROR_MESSAGE_LEN + TDC_ERROR_DETAIL_LEN + 64];

	fprintf(stderr, "WARNING record \"%s\" (partition key \"%s\") skipped: \"%s\"\n",
			tdc_escape(r->seq, seq, sizeof(seq)), tdc_escape(r->pkey, pkey, sizeof(pkey)),
			tdc_escape(why, reason, sizeof(reason)));
}

/* The sender's progress callback: count the call, log failures and retries. */
static bool
on_put(void *arg, const tda_send_call *call, const tda_send_result *results)
{
	lambda_stats *stats = arg;

	(void) results;
	if (call->call == 0)
		return true; /* refused unsent: reported with the other unwritten */
	stats->put_calls++;
	if (call->status != TDA_OK)
		log_put_error(call->nrecords, call->error);
	if (call->retrying > 0)
		fprintf(stderr, "WARNING %zu records not written, retrying in %ld ms\n",
				call->retrying, call->backoff_ms);
	return true;
}

/* A prediction Kinesis refused or did not take in time. */
static void
log_unwritten(const rec *r, const tda_send_result *res)
{
	char seq[TDC_ESCAPE_SHORT];
	char key[TDC_ESCAPE_SHORT];
	char reason[TDA_SEND_REASON_LEN + 64];

	fprintf(stderr, "WARNING prediction of record \"%s\" (partition key \"%s\") not written: \"%s\"\n",
			tdc_escape(r->seq, seq, sizeof(seq)), tdc_escape(r->key, key, sizeof(key)),
			tdc_escape(res->reason, reason, sizeof(reason)));
}

static void
write_predictions(const lambda_settings *s, rec *recs, size_t n, lambda_stats *stats)
{
	tda_record		 *batch = calloc(n, sizeof(tda_record));
	size_t			 *idx = calloc(n, sizeof(size_t));
	tda_send_result	 *res = calloc(n, sizeof(tda_send_result));
	tda_sender_config sc;
	tda_error		  err;
	size_t			  nb = 0;
	size_t			  logged = 0;
	size_t			  i;

	memset(&sc, 0, sizeof(sc));
	sc.aws = &s->kinesis;
	sc.stream = s->predictions_stream;
	sc.backoff_base_ms = s->backoff_ms;
	sc.backoff_max_ms = LAMBDA_BACKOFF_MAX_MS;
	sc.max_attempts = (unsigned) s->put_attempts;
	sc.progress = on_put;
	sc.progress_arg = stats;
	if (batch != NULL && idx != NULL && res != NULL)
	{
		for (i = 0; i < n; i++)
			if (recs[i].state == REC_PENDING)
			{
				batch[nb].data = recs[i].out;
				batch[nb].len = recs[i].out_len;
				batch[nb].partition_key = recs[i].key;
				idx[nb++] = i;
			}
		if (tda_kinesis_send(&sc, batch, nb, res, &err) != TDA_OK)
			log_put_error(nb, &err);
		for (i = 0; i < nb; i++)
		{
			if (res[i].outcome == TDA_SEND_ACCEPTED)
				recs[idx[i]].state = REC_WRITTEN;
			else if (res[i].reason[0] != '\0' && logged++ < MAX_LOGGED)
				log_unwritten(&recs[idx[i]], &res[i]);
		}
	}
	for (i = 0; i < n; i++)
		if (recs[i].state == REC_PENDING)
		{
			recs[i].state = REC_UNWRITTEN;
			stats->write_failed++;
		}
	free(batch);
	free(idx);
	free(res);
}

static char *
build_response(const rec *recs, size_t n, bool test_run)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *failures;
	cJSON *preds = NULL;
	char  *text = NULL;
	size_t i;

	if (root == NULL)
		return NULL;
	failures = cJSON_AddArrayToObject(root, "batchItemFailures");
	if (failures == NULL)
		goto done;
	if (test_run && (preds = cJSON_AddArrayToObject(root, "predictions")) == NULL)
		goto done;
	for (i = 0; i < n; i++)
	{
		if (recs[i].state == REC_BAD || recs[i].state == REC_UNWRITTEN)
		{
			cJSON *item = cJSON_CreateObject();

			if (item == NULL)
				goto done;
			cJSON_AddItemToArray(failures, item);
			if (cJSON_AddStringToObject(item, "itemIdentifier", recs[i].seq) == NULL)
				goto done;
		}
		else if (preds != NULL)
		{
			cJSON *raw = cJSON_CreateRaw(recs[i].out);

			if (raw == NULL)
				goto done;
			cJSON_AddItemToArray(preds, raw);
		}
	}
	text = cJSON_PrintUnformatted(root);
done:
	cJSON_Delete(root);
	return text;
}

bool
lambda_handle(const lambda_model *model, const lambda_settings *settings,
			  const char *event, size_t len, char **response,
			  lambda_stats *stats, char errbuf[LAMBDA_ERR_LEN])
{
	cJSON		*root;
	const cJSON *records;
	const cJSON *record;
	rec			*recs = NULL;
	td_value	*values = NULL;
	size_t		 n;
	size_t		 i;
	size_t		 logged = 0;
	double		 t0;
	bool		 ok = false;

	memset(stats, 0, sizeof(*stats));
	*response = NULL;
	root = cJSON_ParseWithLength(event, len);
	if (root == NULL)
	{
		snprintf(errbuf, LAMBDA_ERR_LEN, "the event is not JSON");
		return false;
	}
	records = cJSON_GetObjectItemCaseSensitive(root, "Records");
	if (!cJSON_IsArray(records))
	{
		snprintf(errbuf, LAMBDA_ERR_LEN, "the event has no \"Records\" array");
		goto done;
	}
	n = (size_t) cJSON_GetArraySize(records);
	stats->records = n;
	recs = calloc(n > 0 ? n : 1, sizeof(rec));
	values = calloc(td_image_num_inputs(model->image) + 1, sizeof(td_value));
	if (recs == NULL || values == NULL)
	{
		snprintf(errbuf, LAMBDA_ERR_LEN, "out of memory for %zu records", n);
		goto done;
	}

	t0 = lambda_now_ms();
	i = 0;
	cJSON_ArrayForEach(record, records)
	{
		const cJSON *kinesis = cJSON_GetObjectItemCaseSensitive(record, "kinesis");
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(kinesis, "sequenceNumber");
		const cJSON *pkey = cJSON_GetObjectItemCaseSensitive(kinesis, "partitionKey");
		char		 why[TDC_ERROR_MESSAGE_LEN + TDC_ERROR_DETAIL_LEN + 8];

		if (!cJSON_IsString(seq) || seq->valuestring[0] == '\0')
		{
			snprintf(errbuf, LAMBDA_ERR_LEN,
					 "record %zu has no kinesis.sequenceNumber to report it by", i);
			goto done;
		}
		recs[i].seq = seq->valuestring;
		recs[i].pkey = cJSON_IsString(pkey) ? pkey->valuestring : NULL;
		if (process_record(model, record, values, &recs[i], why, sizeof(why)))
		{
			recs[i].state = REC_PENDING;
			stats->predicted++;
		}
		else
		{
			recs[i].state = REC_BAD;
			stats->bad_input++;
			if (logged++ < MAX_LOGGED)
				log_skipped(&recs[i], why);
		}
		i++;
	}
	stats->predict_ms = lambda_now_ms() - t0;

	if (!settings->test_run && stats->predicted > 0)
	{
		t0 = lambda_now_ms();
		write_predictions(settings, recs, n, stats);
		stats->put_ms = lambda_now_ms() - t0;
	}
	*response = build_response(recs, n, settings->test_run);
	if (*response == NULL)
		snprintf(errbuf, LAMBDA_ERR_LEN, "out of memory building the response");
	else
		ok = true;

done:
	if (recs != NULL)
		for (i = 0; i < stats->records; i++)
			if (recs[i].out != NULL)
				cJSON_free(recs[i].out);
	free(recs);
	free(values);
	cJSON_Delete(root);
	return ok;
}
