-- decoder.sql — the logical-decoding output plugin: events, filters, values,
-- options and their errors.  LSNs and xids vary: lines are shown without them
-- and their presence is checked separately.
\set SHOW_CONTEXT never
SET extra_float_digits = 1;
-- this server build only creates slots for plugins named in
-- output_plugin_libraries (a setting stock PostgreSQL does not have)
DO $$
BEGIN
	PERFORM set_config('output_plugin_libraries', 'pgoutput, test_decoding, taxi_duration', false);
EXCEPTION WHEN undefined_object THEN
	NULL;
END
$$;

CREATE TABLE trips (
    ride_id bigint PRIMARY KEY,
    pulocationid integer,
    dolocationid integer,
    trip_distance double precision,
    lpep_pickup_datetime timestamp,
    note text
);
CREATE TABLE other (ride_id bigint, pulocationid integer);
CREATE SCHEMA stage;
CREATE TABLE stage.trips (ride_id text, "PULocationID" smallint, trip_distance real,
                          fare numeric, lpep_pickup_datetime timestamptz);

SELECT 'init' FROM pg_create_logical_replication_slot('td_slot', 'taxi_duration');

-- a view of the slot's lines without commit_lsn/xid; also checks their shape
CREATE FUNCTION td_changes(VARIADIC options text[])
RETURNS TABLE (line jsonb, lsn_ok boolean) LANGUAGE sql AS $$
    SELECT data::jsonb - 'commit_lsn' - 'xid',
           data::jsonb ->> 'commit_lsn' ~ '^[0-9A-F]+/[0-9A-F]+$'
           AND (data::jsonb ->> 'commit_lsn')::pg_lsn >= lsn
           AND jsonb_typeof(data::jsonb -> 'xid') = 'number'
           AND (data::jsonb ->> 'xid')::xid = xid
    FROM pg_logical_slot_get_changes('td_slot', NULL, NULL, VARIADIC options)
$$;

-- one insert, then many in one transaction; a rollback emits nothing
INSERT INTO trips VALUES (256, 130, 205, 3.66, '2021-01-01 00:15:56', 'a');
BEGIN;
INSERT INTO trips VALUES (257, 74, 75, 1.5, '2021-01-02 08:30:00.25', 'b');
INSERT INTO other VALUES (1, 2);
INSERT INTO trips VALUES (258, 41, 42, 0.1, '2021-01-03 09:00:00.000001', 'c');
COMMIT;
BEGIN;
INSERT INTO trips VALUES (259, 1, 2, 3, '2021-01-04', 'd');
ROLLBACK;
INSERT INTO other VALUES (3, 4);
SELECT * FROM td_changes('tables', 'public.trips');

-- the exact text; every line carries the commit's end LSN, which is the
-- LSN the marker row is tagged with (what a consumer confirms)
INSERT INTO trips VALUES (260, 1, 2, 3, '2021-01-04', 'e'), (261, 5, 6, 1e-7, NULL, 'f');
CREATE TEMP TABLE lines AS
    SELECT lsn, data FROM pg_logical_slot_get_changes('td_slot', NULL, NULL, 'tables', 'trips');
SELECT regexp_replace(data, '"commit_lsn": "[0-9A-F]+/[0-9A-F]+", "xid": [0-9]+', '"commit_lsn": ?, "xid": ?')
FROM lines ORDER BY lsn;
SELECT count(*), count(DISTINCT data::jsonb ->> 'commit_lsn'),
       bool_and((data::jsonb ->> 'commit_lsn')::pg_lsn = (SELECT max(lsn) FROM lines))
FROM lines;

-- NULLs, NaN and infinities; UPDATE, DELETE and TRUNCATE are ignored
INSERT INTO trips VALUES (270, NULL, NULL, NULL, NULL, NULL);
INSERT INTO trips VALUES (262, 1, 2, 'NaN', 'infinity', NULL),
                         (263, 1, 2, '-Infinity', '-infinity', NULL),
                         (264, 1, 2, 1e-7, '2021-06-30 23:59:59.999999', NULL),
                         (265, 1, 2, 1.0000000000000002, '2021-12-31', NULL);
UPDATE trips SET trip_distance = 9 WHERE ride_id = 256;
DELETE FROM trips WHERE ride_id = 257;
TRUNCATE other;
TRUNCATE trips;
SELECT * FROM td_changes('tables', 'public.trips', 'include-commit', 'false');

-- other columns, renames, text ride ids, real/numeric/timestamptz, case
INSERT INTO trips VALUES (300, 10, 20, 2.5, '2021-03-01 12:00:00', 'say "hi"' || E'\n\\');
INSERT INTO stage.trips VALUES ('r-1', 7, 0.3, 12.50, '2021-03-01 12:00:00+02'),
                               ('r-2', NULL, 'Infinity', 'NaN', NULL),
                               ('r-3', -1, 1.5, '-0.001', '0044-03-15 10:00:00+00 BC');
SELECT * FROM td_changes('tables', 'Stage.TRIPS, "public".trips',
                         'columns', 'PULocationID:pu,fare,note:Note,lpep_pickup_datetime:t',
                         'ride-id-column', 'RIDE_ID', 'include-commit', 'on');
-- an unqualified name matches every schema; no commit markers; the partition
-- key is the ride id's exact text (a bigint above 2^53, a string with escapes)
INSERT INTO trips VALUES (301, 1, 2, 3, NULL, NULL), (9007199254740993, 1, 2, 3, NULL, NULL);
INSERT INTO stage.trips VALUES ('r-4', 1, 2, 3, NULL), (E'r"5\\', 1, 2, 3, NULL);
SELECT * FROM td_changes('tables', 'trips', 'columns', 'pulocationid', 'include-commit', 'false');
-- a ride id column that is not there is null; empty transactions on request
INSERT INTO trips VALUES (302, 1, 2, 3, NULL, NULL);
INSERT INTO other VALUES (5, 6);
SELECT * FROM td_changes('tables', 'public.trips', 'ride-id-column', 'nope',
                         'columns', 'trip_distance', 'skip-empty-xacts', 'false');

-- a column added later is picked up; a renamed table stops matching
ALTER TABLE trips ADD COLUMN extra int DEFAULT 5;
INSERT INTO trips (ride_id, pulocationid) VALUES (303, 9);
ALTER TABLE trips RENAME TO trips_old;
INSERT INTO trips_old (ride_id, pulocationid) VALUES (304, 9);
SELECT * FROM td_changes('tables', 'public.trips', 'columns', 'pulocationid,extra');

-- a table swapped out under its name (renamed, a new one created): the old
-- one's later rows are not forwarded, and the plugin says so
CREATE TABLE swap (ride_id bigint, pulocationid int);
INSERT INTO swap VALUES (400, 1);
ALTER TABLE swap RENAME TO swap_old;
CREATE TABLE swap (ride_id bigint, pulocationid int);
INSERT INTO swap_old VALUES (401, 1);
INSERT INTO swap VALUES (402, 1);
SELECT * FROM td_changes('tables', 'public.swap', 'columns', 'pulocationid', 'include-commit', 'false');
-- a dropped table; names that match no logged ordinary table (a partition's
-- rows are decoded under the partition's name)
CREATE TABLE gone (ride_id bigint);
INSERT INTO gone VALUES (500);
DROP TABLE gone;
INSERT INTO swap VALUES (403, 1);
CREATE VIEW a_view AS SELECT 1 AS ride_id;
CREATE UNLOGGED TABLE unlogged_trips (ride_id bigint);
CREATE TABLE parted (ride_id bigint) PARTITION BY RANGE (ride_id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (1000);
INSERT INTO parted VALUES (600);
SELECT * FROM td_changes('tables', 'public.gone, swap, nosuchschema.trips, no_such_table, a_view, unlogged_trips, parted, parted_1',
                         'columns', 'ride_id', 'include-commit', 'false');
DROP VIEW a_view;
DROP TABLE unlogged_trips, parted, swap, swap_old;

-- same trip, same answer: a NaN or infinite float (or numeric) is carried as
-- "NaN"/"Infinity"/"-Infinity", and predict_duration(jsonb) on the event
-- (the core the Lambda runs) decides as SQL does on the row: NaN is
-- missing, Infinity an error 22023 with the same reason
CREATE TABLE odd (ride_id int, pulocationid int, dolocationid int, trip_distance float8,
                  r real, n numeric);
INSERT INTO odd VALUES (1, 130, 205, 'NaN', 'NaN', 'NaN'),
                       (2, 130, 205, 'Infinity', 'Infinity', 'Infinity'),
                       (3, 130, 205, '-Infinity', '-Infinity', '-Infinity');
CREATE TEMP TABLE odd_events AS
    SELECT line FROM td_changes('tables', 'odd', 'columns',
                                'pulocationid:PULocationID,dolocationid:DOLocationID,trip_distance,r,n',
                                'include-commit', 'false');
SELECT line FROM odd_events ORDER BY line ->> 'ride_id';
SELECT taxi_duration.predict_duration(line) = taxi_duration.predict_duration(130, 205, 'NaN')
       AND taxi_duration.predict_duration(130, 205, 'NaN') = taxi_duration.predict_duration(130, 205, NULL)
       AS nan_is_missing_in_both
FROM odd_events WHERE line ->> 'ride_id' = '1';
SELECT taxi_duration.predict_duration(130, 205, 'Infinity');
SELECT taxi_duration.predict_duration(line) FROM odd_events WHERE line ->> 'ride_id' = '2';
SELECT taxi_duration.predict_duration(130, 205, '-Infinity');
SELECT taxi_duration.predict_duration(line) FROM odd_events WHERE line ->> 'ride_id' = '3';
-- an infinite pickup time is carried as "infinity" ("-infinity"): refused by both
SELECT taxi_duration.predict_duration(130, 205, 3.66, 'infinity');
SELECT taxi_duration.predict_duration('{"ride": {"PULocationID": 130, "DOLocationID": 205,
    "trip_distance": 3.66, "lpep_pickup_datetime": "infinity"}, "ride_id": 4}');
-- a zone column of type text is written as a JSON string ("130"): SQL does not
-- read text as a zone (no predict_duration(text, ...); the trigger refuses the
-- column), and neither does the core
CREATE TABLE text_zones (ride_id int, pulocationid text, dolocationid int, trip_distance float8);
INSERT INTO text_zones VALUES (1, '130', 205, 3.66);
CREATE TEMP TABLE text_events AS
    SELECT line FROM td_changes('tables', 'text_zones', 'include-commit', 'false');
SELECT line FROM text_events;
SELECT taxi_duration.predict_duration(line) FROM text_events;
SELECT taxi_duration.predict_duration(pulocationid, dolocationid, trip_distance) FROM text_zones;
ALTER TABLE text_zones ADD COLUMN predicted_duration float8;
CREATE TRIGGER text_zones_predict BEFORE INSERT ON text_zones FOR EACH ROW
    EXECUTE FUNCTION taxi_duration.fill_predicted_duration('predicted_duration');
INSERT INTO text_zones VALUES (2, '130', 205, 3.66);
DROP TABLE odd, text_zones;

-- option errors (nothing is consumed)
INSERT INTO trips_old (ride_id) VALUES (305);
SELECT * FROM td_changes('include-commit', 'false');
SELECT * FROM td_changes('tables', 'trips', 'no-such-option', '1');
SELECT * FROM td_changes('tables', 'trips', 'include-commit', 'maybe');
SELECT * FROM td_changes('tables', 'trips', 'skip-empty-xacts', 'maybe');
SELECT * FROM td_changes('tables', NULL);
SELECT * FROM td_changes('tables', 'trips,,other');
SELECT * FROM td_changes('tables', 'a.b.c');
SELECT * FROM td_changes('tables', '"unclosed');
SELECT * FROM td_changes('tables', 'trips', 'columns', '');
SELECT * FROM td_changes('tables', 'trips', 'columns', 'a:');
SELECT * FROM td_changes('tables', 'trips', 'columns', ':b');
SELECT * FROM td_changes('tables', 'trips', 'columns', 'a:b:c');
SELECT * FROM td_changes('tables', 'trips', 'columns', 'a:x,b:x');
SELECT * FROM td_changes('tables', 'trips', 'columns', 'a,A:y');
SELECT * FROM td_changes('tables', 'trips', 'ride-id-column', '');
-- after the errors, the pending insert is still there
SELECT * FROM td_changes('tables', 'trips_old', 'columns', 'ride_id');

SELECT 'stop' FROM pg_drop_replication_slot('td_slot');
DROP FUNCTION td_changes(text[]);
DROP TABLE trips_old, other, stage.trips;
DROP SCHEMA stage;
