/*
 * decoder.h — the logical-decoding output plugin (decoder.c).
 *
 * taxi_duration.so is also an output plugin: a slot created with
 *   pg_create_logical_replication_slot('s', 'taxi_duration')
 * turns each committed INSERT into a configured table into one JSON trip
 * event line, followed by one commit marker line per transaction.
 */
#ifndef TAXI_DURATION_DECODER_H
#define TAXI_DURATION_DECODER_H

#include "postgres.h"

#include "replication/output_plugin.h"

/* Defaults of the plugin's options. */
#define TD_DEC_DEFAULT_RIDE_ID_COLUMN "ride_id"
#define TD_DEC_DEFAULT_COLUMNS \
	"pulocationid:PULocationID,dolocationid:DOLocationID,trip_distance,lpep_pickup_datetime"

/* Skipped changes between two progress reports to the receiver. */
#define TD_DEC_PROGRESS_EVERY 100

extern PGDLLEXPORT void _PG_output_plugin_init(OutputPluginCallbacks *cb);

#endif /* TAXI_DURATION_DECODER_H */
