-- trigger.sql — fill_predicted_duration() fills a column on INSERT/UPDATE.
BEGIN;
SELECT plan(9);

CREATE TABLE trip_rows (
    id serial PRIMARY KEY,
    "PULocationID" integer,
    DOLocationID bigint,
    trip_distance numeric,
    lpep_pickup_datetime timestamp,
    predicted_duration double precision
);
CREATE TRIGGER fill BEFORE INSERT OR UPDATE ON trip_rows
    FOR EACH ROW EXECUTE FUNCTION taxi_duration.fill_predicted_duration('predicted_duration');

INSERT INTO trip_rows ("PULocationID", dolocationid, trip_distance, lpep_pickup_datetime)
VALUES (130, 205, 3.66, '2021-02-01 08:15'), (74, 75, 1.2, NULL), (NULL, 42, 2.0, '2021-02-02 23:00');

SELECT is((SELECT count(*)::int FROM trip_rows WHERE predicted_duration IS NOT NULL), 3,
          'every inserted row gets a prediction');
SELECT is((SELECT count(*)::int FROM trip_rows
           WHERE predicted_duration = taxi_duration.predict_duration(
                   "PULocationID", dolocationid::int, trip_distance::float8, lpep_pickup_datetime)), 3,
          'the trigger predicts exactly what predict_duration() does');

UPDATE trip_rows SET trip_distance = 12 WHERE id = 1;
SELECT is((SELECT predicted_duration FROM trip_rows WHERE id = 1),
          taxi_duration.predict_duration(130, 205, 12, '2021-02-01 08:15'),
          'an UPDATE recomputes the prediction');

SELECT throws_ok('INSERT INTO trip_rows ("PULocationID", dolocationid, trip_distance) VALUES (130, 205, -1)',
                 '22023', NULL, 'a row the model rejects fails the INSERT by default');

CREATE TABLE lenient (LIKE trip_rows INCLUDING DEFAULTS);
CREATE TRIGGER fill BEFORE INSERT ON lenient
    FOR EACH ROW EXECUTE FUNCTION taxi_duration.fill_predicted_duration('predicted_duration', 'null');
SELECT lives_ok('INSERT INTO lenient ("PULocationID", dolocationid, trip_distance) VALUES (130, 205, -1), (130, 205, 1)',
                'with ''null'', rejected rows are inserted');
SELECT is((SELECT count(*)::int FROM lenient WHERE predicted_duration IS NULL), 1,
          'and only the rejected row gets NULL');

CREATE TABLE no_distance (pulocationid int, dolocationid int, predicted_duration float8);
CREATE TRIGGER fill BEFORE INSERT ON no_distance
    FOR EACH ROW EXECUTE FUNCTION taxi_duration.fill_predicted_duration('predicted_duration');
SELECT throws_ok('INSERT INTO no_distance VALUES (1, 2)', '42703', NULL,
                 'a table without a column for a required input is an error');

CREATE TABLE bad_target (pulocationid int, dolocationid int, trip_distance float8, predicted_duration text);
CREATE TRIGGER fill BEFORE INSERT ON bad_target
    FOR EACH ROW EXECUTE FUNCTION taxi_duration.fill_predicted_duration('predicted_duration');
SELECT throws_ok('INSERT INTO bad_target VALUES (1, 2, 3)', '42804', NULL,
                 'the target column must be numeric');

CREATE TABLE after_trig (pulocationid int, dolocationid int, trip_distance float8, predicted_duration float8);
CREATE TRIGGER fill AFTER INSERT ON after_trig
    FOR EACH ROW EXECUTE FUNCTION taxi_duration.fill_predicted_duration('predicted_duration');
SELECT throws_ok('INSERT INTO after_trig VALUES (1, 2, 3)', '39P01', NULL,
                 'an AFTER trigger is refused');

SELECT * FROM finish();
ROLLBACK;
