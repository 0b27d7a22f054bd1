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
 * with a tolerance and would not round-trip).  The events
 * go to the predictions stream with the ride id as partition key, in
 * PutRecords batches of at most 500 records / 5 MiB; entries Kinesis
 * reports as failed are resent, and only those, with a doubling backoff.
 *
 * Records that cannot be processed (bad base64, not JSON, a missing or
 * invalid value, no ride id) and records whose prediction could not be
 * written are reported as {"batchItemFailures": [{"itemIdentifier":
 * <sequenceNumber>}]}; the others succeed.  In a test run (TEST_RUN=True)
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
#include <time.h>

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
	REC_UNWRITTEN /* every write attempt failed */
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

static void
sleep_ms(int ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long) (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* The partition key for a ride id given as compact JSON, or false. */
static bool
ride_key(const char *ride_id_json, char *key)
{
	cJSON *id;
	bool   ok = false;

	if (ride_id_json[0] == '\0')
		return false;
	if (ride_id_json[0] != '"')
	{
		size_t len = strlen(ride_id_json);

		if (len > TDA_KINESIS_MAX_KEY_LEN)
			return false;
		memcpy(key, ride_id_json, len + 1);
		return true;
	}
	id = cJSON_Parse(ride_id_json);
	if (cJSON_IsString(id) && id->valuestring[0] != '\0' &&
		strlen(id->valuestring) <= TDA_KINESIS_MAX_KEY_LEN)
	{
		strcpy(key, id->valuestring);
		ok = true;
	}
	cJSON_Delete(id);
	return ok;
}

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
	else if (!ride_key(ride_id, r->key))
		snprintf(why, whysize, "the trip event has no usable ride_id");
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

/* One pass over the pending records, in PutRecords-sized batches. */
static size_t
put_pending(const lambda_settings *s, rec *recs, size_t n, tda_record *batch,
			size_t *idx, tda_put_result *res, lambda_stats *stats)
{
	size_t i = 0;
	size_t still = 0;

	while (i < n)
	{
		size_t	  nb = 0;
		size_t	  bytes = 0;
		size_t	  k;
		tda_error err;

		for (; i < n && nb < TDA_KINESIS_MAX_RECORDS; i++)
		{
			size_t sz;

			if (recs[i].state != REC_PENDING)
				continue;
			sz = recs[i].out_len + strlen(recs[i].key);
			if (nb > 0 && bytes + sz > TDA_KINESIS_MAX_REQUEST_BYTES)
				break;
			batch[nb].data = recs[i].out;
			batch[nb].len = recs[i].out_len;
			batch[nb].partition_key = recs[i].key;
			idx[nb++] = i;
			bytes += sz;
		}
		if (nb == 0)
			break;
		stats->put_calls++;
		if (tda_kinesis_put_records(&s->kinesis, s->predictions_stream, batch, nb,
									res, &err) != TDA_OK)
		{
			log_put_error(nb, &err);
			still += nb;
			continue;
		}
		for (k = 0; k < nb; k++)
		{
			if (res[k].ok)
				recs[idx[k]].state = REC_WRITTEN;
			else
				still++;
		}
	}
	return still;
}

static void
write_predictions(const lambda_settings *s, rec *recs, size_t n, lambda_stats *stats)
{
	tda_record	   *batch = malloc(sizeof(tda_record) * TDA_KINESIS_MAX_RECORDS);
	size_t		   *idx = malloc(sizeof(size_t) * TDA_KINESIS_MAX_RECORDS);
	tda_put_result *res = malloc(sizeof(tda_put_result) * TDA_KINESIS_MAX_RECORDS);
	int				attempt;
	int				delay = s->backoff_ms;
	size_t			i;

	if (batch != NULL && idx != NULL && res != NULL)
	{
		for (attempt = 1; attempt <= s->put_attempts; attempt++)
		{
			size_t left = put_pending(s, recs, n, batch, idx, res, stats);

			if (left == 0)
				break;
			if (attempt < s->put_attempts)
			{
				fprintf(stderr, "WARNING %zu records not written, retrying in %d ms\n",
						left, delay);
				sleep_ms(delay);
				delay *= 2;
			}
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
