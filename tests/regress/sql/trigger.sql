-- trigger.sql — fill_predicted_duration(): what it fills, and its errors.
\set SHOW_CONTEXT never
SET search_path = taxi_duration, public;

CREATE TABLE rides (
    ride_id bigint PRIMARY KEY,
    pulocationid integer,
    dolocationid integer,
    trip_distance double precision,
    lpep_pickup_datetime timestamp,
    predicted_duration double precision
);
CREATE TRIGGER rides_predict BEFORE INSERT OR UPDATE ON rides
    FOR EACH ROW EXECUTE FUNCTION fill_predicted_duration('predicted_duration');

INSERT INTO rides (ride_id, pulocationid, dolocationid, trip_distance, lpep_pickup_datetime)
VALUES (256, 130, 205, 3.66, NULL), (257, 74, 75, 1.5, '2021-02-03 08:30');
SELECT ride_id,
       predicted_duration = predict_duration(pulocationid, dolocationid, trip_distance, lpep_pickup_datetime) AS matches
FROM rides ORDER BY ride_id;

-- errors: bad rows, bad trigger definitions
INSERT INTO rides (ride_id, pulocationid, dolocationid, trip_distance) VALUES (258, 130, 999, 1);
SELECT fill_predicted_duration();
CREATE TABLE rides_bad_column (LIKE rides);
CREATE TRIGGER t BEFORE INSERT ON rides_bad_column
    FOR EACH ROW EXECUTE FUNCTION fill_predicted_duration('no_such_column');
INSERT INTO rides_bad_column (ride_id, pulocationid, dolocationid, trip_distance) VALUES (1, 130, 205, 1);
CREATE TABLE rides_bad_mode (LIKE rides);
CREATE TRIGGER t BEFORE INSERT ON rides_bad_mode
    FOR EACH ROW EXECUTE FUNCTION fill_predicted_duration('predicted_duration', 'ignore');
INSERT INTO rides_bad_mode (ride_id, pulocationid, dolocationid, trip_distance) VALUES (1, 130, 205, 1);
CREATE TABLE rides_no_args (LIKE rides);
CREATE TRIGGER t BEFORE INSERT ON rides_no_args
    FOR EACH ROW EXECUTE FUNCTION fill_predicted_duration();
INSERT INTO rides_no_args (ride_id, pulocationid, dolocationid, trip_distance) VALUES (1, 130, 205, 1);
CREATE TABLE rides_statement (LIKE rides);
CREATE TRIGGER t BEFORE INSERT ON rides_statement
    FOR EACH STATEMENT EXECUTE FUNCTION fill_predicted_duration('predicted_duration');
INSERT INTO rides_statement (ride_id, pulocationid, dolocationid, trip_distance) VALUES (1, 130, 205, 1);

-- 'null' mode: rejected rows are kept, with NULL and a warning
CREATE TABLE rides_lenient (LIKE rides);
CREATE TRIGGER t BEFORE INSERT ON rides_lenient
    FOR EACH ROW EXECUTE FUNCTION fill_predicted_duration('predicted_duration', 'null');
INSERT INTO rides_lenient (ride_id, pulocationid, dolocationid, trip_distance)
VALUES (1, 130, 205, 'Infinity'), (2, 130, 205, 2);
SELECT ride_id, predicted_duration IS NULL AS is_null FROM rides_lenient ORDER BY ride_id;

DROP TABLE rides, rides_bad_column, rides_bad_mode, rides_no_args, rides_statement, rides_lenient;
