-- jsonb.sql — predict_duration(jsonb): the trip-event shape the stream
-- carries, a bare ride object, and every way such a document can be wrong.
\set SHOW_CONTEXT never
SET search_path = taxi_duration, public;

-- the course's record: the same number as the positional form, bit for bit
SELECT predict_duration('{"ride": {"PULocationID": 130, "DOLocationID": 205, "trip_distance": 3.66}, "ride_id": 256}')
       = predict_duration(130, 205, 3.66) AS trip_event_equals_positional;
SELECT predict_duration('{"PULocationID": 130, "DOLocationID": 205, "trip_distance": 3.66}')
       = predict_duration(130, 205, 3.66) AS bare_ride_equals_positional;

-- the pickup time under its name or an alias; extra keys are ignored
SELECT predict_duration('{"ride": {"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.5, "lpep_pickup_datetime": "2021-02-03 08:30:00"}, "ride_id": "a-7", "vendor": 2}')
       = predict_duration(74, 75, 1.5, '2021-02-03 08:30') AS alias_and_extra_keys;
SELECT predict_duration('{"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.5, "pickup_datetime": "2021-02-03T08:30"}')
       = predict_duration(74, 75, 1.5, '2021-02-03 08:30') AS iso_t_separator;

-- integral floats are accepted for zone ids; null is missing
SELECT predict_duration('{"PULocationID": 130.0, "DOLocationID": 205, "trip_distance": 3.66}')
       = predict_duration(130, 205, 3.66) AS integral_float_id;
SELECT predict_duration('{"PULocationID": null, "DOLocationID": 205, "trip_distance": null}')
       = predict_duration(NULL, 205, NULL) AS json_null_is_missing;
SELECT predict_duration(NULL::jsonb) IS NULL AS null_ride_is_null;

-- errors
SELECT predict_duration('{"ride": {"PULocationID": 130, "DOLocationID": 205}}');
SELECT predict_duration('{"PULocationID": "130", "DOLocationID": 205, "trip_distance": 3.66}');
SELECT predict_duration('{"PULocationID": 130.5, "DOLocationID": 205, "trip_distance": 3.66}');
SELECT predict_duration('{"PULocationID": 130, "DOLocationID": 205, "trip_distance": -2}');
SELECT predict_duration('{"PULocationID": 130, "DOLocationID": 205, "trip_distance": 3.66, "pickup_datetime": "yesterday"}');
SELECT predict_duration('{"PULocationID": 130, "DOLocationID": 205, "trip_distance": 3.66, "pickup_datetime": "2021-02-30 10:00"}');
SELECT predict_duration('{"PULocationID": 130, "DOLocationID": 205, "trip_distance": 3.66, "pickup_datetime": "2021-02-03 08:30+01"}');
SELECT predict_duration('[130, 205, 3.66]');
SELECT predict_duration('"a string"');
SELECT predict_duration('{"ride": 5}');
SELECT predict_duration('{"PULocationID": 1e300, "DOLocationID": 205, "trip_distance": 3.66}');
