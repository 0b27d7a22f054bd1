#!/usr/bin/env bash
# docker/postgres/initdb.d/10-taxi-duration.sh — run once, by the official
# image's entrypoint, when the data volume is first initialised (as the
# `postgres` OS user, against a temporary server that already has
# shared_preload_libraries = 'taxi_duration, pg_cron').
#
# Creates, in the database named by cron.database_name / taxi_duration.database
# ('postgres', docker/postgres/postgresql.conf):
#   - the extensions taxi_duration (with the forwarder's tables
#     taxi_duration.forwarder_status / forwarder_dead_letters and the
#     forwarder_lag view) and pg_cron;
#   - public.trips, the table the forwarder streams (TD_TABLES=public.trips),
#     shaped as in docs/streaming.md;
#   - the logical slot $TD_SLOT (plugin taxi_duration), so trips inserted before
#     the forwarder first connects are streamed too;
#   - the login role td_forwarder (REPLICATION, write access to the two
#     forwarder tables) with the password $TD_FORWARDER_PASSWORD.
set -euo pipefail

db=$(psql -X -At --username "$POSTGRES_USER" --dbname postgres -c 'SHOW cron.database_name')
slot=${TD_SLOT:-taxi_trips_kinesis}
fwd_password=${TD_FORWARDER_PASSWORD:?TD_FORWARDER_PASSWORD must be set (docker-compose.local.yaml)}

psql -X -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$db" \
	-v slot="$slot" -v fwd_password="$fwd_password" <<'SQL'
CREATE EXTENSION IF NOT EXISTS taxi_duration;
CREATE EXTENSION IF NOT EXISTS pg_cron;

CREATE TABLE IF NOT EXISTS public.trips (
	ride_id bigint PRIMARY KEY,
	pulocationid integer,
	dolocationid integer,
	trip_distance double precision,
	lpep_pickup_datetime timestamp
);

SELECT pg_catalog.pg_create_logical_replication_slot(:'slot', 'taxi_duration')
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = :'slot');

SELECT format('CREATE ROLE td_forwarder LOGIN REPLICATION PASSWORD %L', :'fwd_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'td_forwarder') \gexec
GRANT SELECT, INSERT, UPDATE ON taxi_duration.forwarder_status TO td_forwarder;
GRANT INSERT ON taxi_duration.forwarder_dead_letters TO td_forwarder;
GRANT USAGE ON SEQUENCE taxi_duration.forwarder_dead_letters_id_seq TO td_forwarder;

SELECT extname, extversion FROM pg_catalog.pg_extension ORDER BY extname;
SQL
