/*
 * tdf_kinesis.h — writing records to an Amazon Kinesis data stream.
 *
 * One SigV4-signed PutRecords call (libcurl's CURLOPT_AWS_SIGV4, the JSON
 * body handed over as CURLOPT_POSTFIELDS so that it is hashed into the
 * signature).  Kinesis answers HTTP 200 even when some records failed; the
 * per-record outcome comes back in request order so that a caller can
 * resend exactly the failed entries.
 *
 * Endpoint: config->aws_endpoint_url when set (moto, LocalStack), else
 * https://kinesis.<region>.amazonaws.com.  Errors follow tdf_fetch.h's
 * conventions and never contain a credential.
 */
#ifndef TDF_KINESIS_H
#define TDF_KINESIS_H

#include "tdf_fetch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kinesis' PutRecords bounds. */
#define TDF_KINESIS_MAX_RECORDS 500
#define TDF_KINESIS_MAX_RECORD_BYTES (1024 * 1024) /* data + partition key */
#define TDF_KINESIS_MAX_REQUEST_BYTES (5 * 1024 * 1024)
#define TDF_KINESIS_MAX_KEY_LEN 256
#define TDF_KINESIS_MAX_STREAM_LEN 128

/* One record to write; strings are borrowed. */
typedef struct tdf_record
{
	const char *data; /* raw bytes (base64-encoded on the wire) */
	size_t		len;
	const char *partition_key; /* 1..256 characters, NUL-terminated */
} tdf_record;

/* The outcome of one record of a PutRecords call. */
typedef struct tdf_put_result
{
	bool ok;
	char sequence_number[136]; /* when ok */
	char error_code[64];	   /* when !ok, e.g.
								* "ProvisionedThroughputExceededException" */
} tdf_put_result;

/*
 * Write records[0..n-1] to `stream` with one PutRecords call.  Validates
 * the bounds above first (TDF_ERR_TOO_LARGE / TDF_ERR_CONFIG, nothing
 * sent).  On TDF_OK, per_record_status[i] says whether record i was
 * written (count the failures from it); on any other
 * status the call as a whole failed (transport, HTTP status, malformed
 * response) and no per-record outcome is known.  config->max_bytes bounds
 * the response body (a default of 4 MiB is used when 0).
 *
 * config->cancel (when set) is polled before the call and at least once a
 * second during it, waiting for the response included; a nonzero return
 * aborts the call with TDF_ERR_CANCELLED.  A cancelled call's records may
 * or may not have been stored: treat them as not confirmed.
 */
tdf_status tdf_kinesis_put_records(const tdf_config *config, const char *stream,
								   const tdf_record *records, size_t n,
								   tdf_put_result *per_record_status,
								   tdf_error	  *err);

#ifdef __cplusplus
}
#endif

#endif /* TDF_KINESIS_H */
