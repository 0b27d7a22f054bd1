-- monitoring.sql — the monitoring SQL area as a user sees it: the drift
-- aggregates, column_drift(), regression_quality(), drift_report() and a
-- monitor's life (create, run, reports and alerts, alter, drop), with the
-- errors a user meets.  Known answers and Evidently parity are in
-- tests/pgtap/monitoring.sql and tests/monitoring/.
\set SHOW_CONTEXT never
SET search_path = taxi_duration, public;
SET extra_float_digits = 0;
SET TimeZone = 'UTC';

-- two windows of synthetic trips: the current one is longer and has more
-- of zone 7
CREATE TABLE ref_trips AS
SELECT i AS id, (i % 10)::float8 / 2 AS distance, (i % 5 + 1) AS zone,
       CASE WHEN i % 3 = 0 THEN 'cash' ELSE 'card' END AS payment,
       (i % 10)::float8 * 2 + 3 AS duration, (i % 10)::float8 * 2 + 3.5 AS prediction,
       timestamptz '2023-01-01 00:00+00' + i * interval '1 minute' AS pickup
FROM generate_series(1, 2000) i;
CREATE TABLE cur_trips AS
SELECT i AS id, (i % 10)::float8 / 2 + 1.5 AS distance,
       CASE WHEN i % 4 = 0 THEN 7 ELSE i % 5 + 1 END AS zone,
       CASE WHEN i % 3 = 0 THEN 'cash' ELSE 'card' END AS payment,
       (i % 10)::float8 * 2 + 6 AS duration, (i % 10)::float8 * 2 + 5 AS prediction,
       timestamptz '2023-02-01 00:00+00' + i * interval '1 minute' AS pickup
FROM generate_series(1, 1500) i;

-- the aggregates, one column each
SELECT round(wasserstein_norm(distance, is_ref)::numeric, 10) AS wasserstein,
       round(ks_pvalue(distance, is_ref)::numeric, 10) AS ks_p,
       round(psi(distance, is_ref)::numeric, 10) AS psi
FROM (SELECT distance, true AS is_ref FROM ref_trips
      UNION ALL SELECT distance, false FROM cur_trips) s;
SELECT round(chisquare_pvalue(zone::text, is_ref)::numeric, 10) AS chisquare_p,
       round(jensenshannon(zone::text, is_ref)::numeric, 10) AS jensenshannon
FROM (SELECT zone, true AS is_ref FROM ref_trips
      UNION ALL SELECT zone, false FROM cur_trips) s;

-- column_drift() decides as Evidently does, and says why
SELECT d->>'stattest' AS stattest, round((d->>'score')::numeric, 10) AS score,
       d->>'threshold' AS threshold, d->>'drifted' AS drifted, d->>'column_type' AS column_type
FROM (SELECT column_drift(payment, is_ref, '{}') AS d
      FROM (SELECT payment, true AS is_ref FROM ref_trips
            UNION ALL SELECT payment, false FROM cur_trips) s) x;

-- regression quality
SELECT key, round(value::numeric, 10) AS value
FROM jsonb_each_text((SELECT regression_quality(prediction, duration) FROM cur_trips)) AS m(key, value)
ORDER BY key;

-- the whole report: one verdict per column, the share, the regression
SELECT key AS column_name, value->>'stattest' AS stattest,
       round((value->>'score')::numeric, 10) AS score, value->>'drifted' AS drifted
FROM jsonb_each((SELECT drift_report('ref_trips', 'cur_trips',
                                     columns => ARRAY['distance', 'zone', 'payment'],
                                     prediction => 'prediction', target => 'duration')->'columns'))
ORDER BY key;
SELECT r->'number_of_columns' AS columns, r->'number_of_drifted_columns' AS drifted,
       r->'share_of_drifted_columns' AS share, r->'dataset_drift' AS dataset_drift,
       round((r#>>'{regression,current,rmse}')::numeric, 10) AS rmse,
       round((r#>>'{regression,reference,rmse}')::numeric, 10) AS reference_rmse
FROM drift_report('ref_trips', 'cur_trips', columns => ARRAY['distance', 'zone', 'payment'],
                  prediction => 'prediction', target => 'duration') r;

-- a query as the reference, options per column
SELECT r#>>'{columns,distance,stattest}' AS stattest, r#>>'{columns,distance,threshold}' AS threshold
FROM drift_report('SELECT * FROM ref_trips WHERE id <= 1000', 'cur_trips',
                  columns => ARRAY['distance'],
                  options => '{"columns": {"distance": {"stattest": "ks", "threshold": 0.01}}}') r;

-- the rest of Evidently's catalogue, forced by name (values in docs/monitoring.md's table)
SELECT key, value->>'stattest' AS stattest, value->>'stattest_name' AS name,
       value->>'drift_rule' AS rule, value->'threshold' AS threshold,
       value->>'score_is_p_value' AS p_value, jsonb_typeof(value->'score') AS score
FROM jsonb_each((SELECT drift_report('ref_trips', 'cur_trips', columns => ARRAY['distance', 'zone'],
                 options => '{"columns": {"distance": {"stattest": "anderson"},
                                          "zone": {"stattest": "hellinger"}}}')->'columns'))
ORDER BY key;
SELECT column_drift(distance, true, '{"stattest": "ed"}')->>'drift_rule' FROM ref_trips;

-- errors a user meets
SELECT drift_report('ref_trips', 'no_such_table');
SELECT drift_report('ref_trips', 'cur_trips', columns => ARRAY['no_such_column']);
SELECT drift_report('ref_trips', 'cur_trips', options => '{"stattest_treshold": 0.1}');
SELECT column_drift(distance, true, '{"stattest": "no_such_test"}') FROM ref_trips;
-- per-column options: a misspelt column, a misspelt option, a wrong JSON
-- type, a bad value: each an error before any set is read
SELECT drift_report('ref_trips', 'cur_trips', columns => ARRAY['distance', 'zone'],
                    options => '{"columns": {"distanse": {"stattest": "psi"}}}');
SELECT drift_report('ref_trips', 'cur_trips', columns => ARRAY['zone'],
                    options => '{"columns": {"distance": {"stattest": "psi"}}}');
SELECT drift_report('ref_trips', 'cur_trips', options => '{"columns": {"distance": {"stattets": "psi"}}}');
SELECT drift_report('ref_trips', 'cur_trips', options => '{"columns": {"distance": {"threshold": "0.1"}}}');
SELECT drift_report('ref_trips', 'cur_trips', options => '{"columns": {"distance": "psi"}}');
SELECT drift_report('ref_trips', 'cur_trips', options => '{"columns": {"distance": {"stattest": "no_such_test"}}}');
SELECT drift_report('ref_trips', 'cur_trips', options => '{"drift_share": "half"}');
SELECT drift_report('ref_trips', 'cur_trips', options => '{"nullable_integers": "int"}');
-- so is a misspelt column in a monitor's options, when it is created
SELECT create_monitor('typo', 'ref_trips', 'cur_trips', 'pickup',
                      options => '{"columns": {"payement": {"stattest": "psi"}}}');
SELECT count(*) AS typo_monitors FROM monitors WHERE name = 'typo';
SELECT column_drift(distance, true, '{"stattest": "fisher_exact"}') FROM ref_trips;
SELECT column_drift(distance, true, '{"type": "cat", "stattest": "t_test"}') FROM ref_trips;

-- a monitor: one window a day of cur_trips against ref_trips
SELECT name, window_size, enabled
FROM create_monitor('daily', 'ref_trips', 'cur_trips', 'pickup', '1 day',
                    columns => ARRAY['distance', 'zone', 'payment'],
                    prediction => 'prediction', target => 'duration',
                    start_at => '2023-02-01 00:00+00');
SELECT count(*) AS reports_written FROM run_monitor('daily', until => '2023-02-03 00:00+00');
SELECT window_start, current_rows, dataset_drift, number_of_drifted_columns,
       round(rmse::numeric, 6) AS rmse, round(reference_rmse::numeric, 6) AS reference_rmse
FROM monitor_reports WHERE monitor = 'daily' ORDER BY window_start;
SELECT kind, count(*) FROM monitor_alerts WHERE monitor = 'daily' GROUP BY kind ORDER BY kind;
-- a second run writes nothing new
SELECT count(*) AS reports_written FROM run_monitor('daily', until => '2023-02-03 00:00+00');
SELECT enabled FROM alter_monitor('daily', enabled => false);
SELECT drop_monitor('daily');
SELECT count(*) AS reports_left FROM monitor_reports WHERE monitor = 'daily';

-- free text (more than half the current values distinct): Evidently's text
-- content drift, a domain classifier's ROC AUC on a seeded half of the rows;
-- at most 1000 reference rows: perc_ (against random classifiers' AUCs)
CREATE TABLE ref_notes AS
SELECT i, (ARRAY['late driver', 'smooth ride to JFK', 'rude driver, late', 'clean taxi'])[1 + i % 4]
          || ' trip ' || i AS note
FROM generate_series(1, 400) AS i;
CREATE TABLE cur_notes AS
SELECT i, (ARRAY['snow storm delay', 'late driver', 'parade closure detour'])[1 + i % 3]
          || ' trip ' || i AS note
FROM generate_series(1, 300) AS i;
SELECT c.value->>'column_type' AS type, c.value->>'stattest' AS stattest, c.value->'score' AS auc,
       c.value->'random_auc_percentile' AS bound, c.value->'drifted' AS drifted
FROM jsonb_each(drift_report('ref_notes', 'cur_notes', ARRAY['note'])->'columns') AS c;
-- forced abs_ with its threshold; a categorical test on free text is an error,
-- as in Evidently, unless the column is typed cat; "type": "text" needs text
SELECT c->>'stattest' AS stattest, c->'score' AS auc, c->'threshold' AS threshold,
       c->'drifted' AS drifted, c->>'drift_rule' AS rule
FROM (SELECT drift_report('ref_notes', 'cur_notes', ARRAY['note'],
                          options => '{"columns": {"note": {"stattest": "abs_text_content_drift", "threshold": 0.99}}}')
             #> '{columns,note}' AS c) AS r;
SELECT drift_report('ref_notes', 'cur_notes', ARRAY['note'], options => '{"stattest": "psi"}');
SELECT drift_report('ref_notes', 'cur_notes', ARRAY['note'],
                    options => '{"columns": {"note": {"type": "cat"}}}') #>> '{columns,note,stattest}';
SELECT drift_report('ref_notes', 'cur_notes', ARRAY['i'], options => '{"columns": {"i": {"type": "text"}}}');
SELECT drift_report('ref_notes', 'cur_notes', ARRAY['i'],
                    options => '{"columns": {"i": {"stattest": "perc_text_content_drift"}}}');
-- one row per window: the training half holds one row, which scikit-learn refuses
SELECT r->'skipped_columns' AS skipped, r #>> '{columns,note,error}' AS error
FROM drift_report('(SELECT * FROM ref_notes LIMIT 1)', '(SELECT * FROM cur_notes LIMIT 1)',
                  ARRAY['note', 'i'], options => '{"columns": {"note": {"type": "text"}}}') AS r;
-- the AUC does not depend on the scan order
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT (SELECT drift_report('ref_notes', 'cur_notes', ARRAY['note']))
     = (SELECT drift_report('(SELECT * FROM ref_notes ORDER BY i DESC)', '(SELECT * FROM cur_notes ORDER BY random())', ARRAY['note']))
       AS same_report;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
DROP TABLE ref_notes, cur_notes;

DROP TABLE ref_trips, cur_trips;
