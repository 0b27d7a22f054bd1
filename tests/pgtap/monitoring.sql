-- monitoring.sql — the drift aggregates, drift_report() and scheduled
-- monitors: known answers, parallel plans equal to serial ones, errors in
-- PostgreSQL style, alerts (row, NOTIFY, log) and permissions.
-- Exact parity with Evidently on real months is tests/monitoring/parity.py.
BEGIN;
SELECT plan(68);

-- ------------------------------------------------------------------
-- Aggregates on answers that can be worked out by hand
-- ------------------------------------------------------------------
CREATE TEMP TABLE small (v double precision, t text, r boolean);
INSERT INTO small VALUES (0, 'a', true), (1, 'b', true), (0, 'a', false), (1, 'b', false);

SELECT is((SELECT taxi_duration.wasserstein_norm(v, r) FROM small), 0::float8,
          'identical windows: Wasserstein distance 0');
SELECT is((SELECT taxi_duration.ks_statistic(v, r) FROM small), 0::float8,
          'identical windows: KS statistic 0');
SELECT is((SELECT taxi_duration.ks_pvalue(v, r) FROM small), 1::float8,
          'identical windows: KS p-value 1');
SELECT is((SELECT taxi_duration.jensenshannon(t, r) FROM small), 0::float8,
          'identical windows: Jensen-Shannon distance 0');
SELECT is((SELECT taxi_duration.ztest_pvalue(t, r) FROM small), 1::float8,
          'identical windows: z-test p-value 1');

-- W1 of {0, 1} against {2, 3} is 2; std of the reference is 0.5: normed 4.
SELECT is((SELECT taxi_duration.wasserstein_norm(v, r)
           FROM (VALUES (0::float8, true), (1, true), (2, false), (3, false)) s(v, r)),
          4::float8, 'Wasserstein distance normed by the reference''s population std');
SELECT is((SELECT taxi_duration.ks_statistic(v, r)
           FROM (VALUES (0::float8, true), (1, true), (2, false), (3, false)) s(v, r)),
          1::float8, 'disjoint windows: KS statistic 1');
-- A constant reference: the norm is 0.001.
SELECT is((SELECT taxi_duration.wasserstein_norm(v, r)
           FROM (VALUES (5::float8, true), (5, true), (5.5, false)) s(v, r)),
          500::float8, 'constant reference: W1 / 0.001');

-- Evidently's chi-square golden vector (tests/stattests/test_stattests.py): p ≈ 0.67309.
CREATE TEMP TABLE chi (v double precision, r boolean);
INSERT INTO chi SELECT k, true FROM (VALUES (1, 16), (2, 18), (3, 16), (4, 14), (5, 12), (6, 12)) c(k, n), generate_series(1, n);
INSERT INTO chi SELECT k, false FROM (VALUES (1, 16), (2, 16), (3, 16), (4, 16), (5, 16), (6, 8)) c(k, n), generate_series(1, n);
SELECT ok(abs((SELECT taxi_duration.chisquare_pvalue(v, r) FROM chi) - 0.67309) < 1e-5,
          'chi-square p-value matches Evidently''s golden vector');
SELECT is((SELECT taxi_duration.chisquare_pvalue(v::text, r) FROM chi),
          (SELECT taxi_duration.chisquare_pvalue(v, r) FROM chi),
          'text and number keys give the same chi-square p-value');
-- A category only in current: expected count 0, p-value 0.
SELECT is((SELECT taxi_duration.chisquare_pvalue(t, r)
           FROM (VALUES ('a', true), ('b', true), ('a', false), ('c', false)) s(t, r)),
          0::float8, 'a category only in current gives a chi-square p-value of 0');

-- NULL, NaN and ±Infinity are left out.
SELECT is((SELECT taxi_duration.wasserstein_norm(v, r)
           FROM (VALUES (0::float8, true), (1, true), (NULL, true), ('NaN', true),
                        (0, false), (1, false), ('Infinity', false), ('-Infinity', false)) s(v, r)),
          0::float8, 'NULL, NaN and ±Infinity are not values');
SELECT is((SELECT (taxi_duration.column_drift(v, r, '{}')->>'current_missing')::int
           FROM (VALUES (0::float8, true), (1, false), ('Infinity', false), (NULL, false)) s(v, r)),
          2, 'column_drift counts the missing values of each window');
SELECT is((SELECT taxi_duration.wasserstein_norm(v, r) FROM (VALUES (1::float8, true)) s(v, r)),
          NULL::float8, 'an empty window gives NULL');

-- ------------------------------------------------------------------
-- column_drift(): Evidently's choice of test
-- ------------------------------------------------------------------
CREATE TEMP TABLE choice AS
SELECT g % 11 AS eleven, g % 8 AS eight, g % 5 AS five, g % 2 AS two, (g % 3)::text AS three,
       g < 1000 AS r1000, g < 1001 AS r1001
FROM generate_series(0, 2999) g;
SELECT is((SELECT taxi_duration.column_drift(eleven::float8, r1000, '{}')->>'stattest' FROM choice),
          'ks', 'numerical, 11 values, 1000 reference rows: ks');
SELECT is((SELECT taxi_duration.column_drift(eleven::float8, r1001, '{}')->>'stattest' FROM choice),
          'wasserstein', 'numerical, 11 values, 1001 reference rows: wasserstein');
SELECT is((SELECT taxi_duration.column_drift(five::float8, r1000, '{}')->>'stattest' FROM choice),
          'chisquare', 'numerical, 5 values, 1000 reference rows: chisquare');
SELECT is((SELECT taxi_duration.column_drift(five::float8, r1001, '{}')->>'stattest' FROM choice),
          'jensenshannon', 'numerical, 5 values, 1001 reference rows: jensenshannon');
SELECT is((SELECT taxi_duration.column_drift(two::float8, r1000, '{}')->>'stattest' FROM choice),
          'z', 'binary, 1000 reference rows: z');
SELECT is((SELECT taxi_duration.column_drift(three, r1000, '{}')->>'stattest' FROM choice),
          'chisquare', 'text, 3 values, small reference: chisquare');
SELECT is((SELECT taxi_duration.column_drift(eight::float8, r1001, '{"kind": "integer"}')->>'column_type' FROM choice),
          'cat', 'an integer column with at most 10 values is categorical');
SELECT is((SELECT taxi_duration.column_drift(eight::float8, r1001, '{"kind": "float"}')->>'column_type' FROM choice),
          'num', 'a float column is numerical');
SELECT is((SELECT taxi_duration.column_drift(eleven::float8, r1001, '{"stattest": "psi", "threshold": 0.2}')
           - ARRAY['score', 'drifted', 'reference_rows', 'current_rows', 'unique_values',
                   'reference_missing', 'current_missing', 'column_type'] FROM choice),
          '{"stattest": "psi", "stattest_name": "PSI", "threshold": 0.2,
            "drift_rule": "score >= threshold", "score_is_p_value": false}'::jsonb,
          'stattest and threshold can be forced; the report says the rule');

-- An integer column with a NULL in the current window is float64 in
-- pandas, so numerical; option nullable_integers "integer" keeps it typed
-- by its distinct values.  A NULL in the reference only changes nothing.
CREATE TEMP TABLE nullable AS
SELECT CASE WHEN g % 10 = 3 AND NOT r THEN NULL ELSE g % 4 END::float8 AS null_in_cur,
       CASE WHEN g % 10 = 3 AND r THEN NULL ELSE g % 4 END::float8 AS null_in_ref, r
FROM generate_series(0, 2999) g, LATERAL (SELECT g < 1500 AS r) w;
SELECT is((SELECT taxi_duration.column_drift(null_in_cur, r, '{"kind": "integer"}')->>'column_type' FROM nullable),
          'num', 'an integer column with NULLs in current is numerical (pandas: float64)');
SELECT is((SELECT taxi_duration.column_drift(null_in_cur, r, '{"kind": "integer", "nullable_integers": "integer"}')->>'column_type'
           FROM nullable),
          'cat', 'nullable_integers "integer": typed by its distinct values');
SELECT is((SELECT taxi_duration.column_drift(null_in_ref, r, '{"kind": "integer"}')->>'column_type' FROM nullable),
          'cat', 'NULLs in the reference only: the current window''s integer type decides');

-- ------------------------------------------------------------------
-- Errors in PostgreSQL style
-- ------------------------------------------------------------------
SELECT throws_ok($$SELECT taxi_duration.wasserstein_norm(1, NULL)$$, '22004',
                 'is_reference must not be null', 'a row must say which window it is in');
SELECT throws_ok($$SELECT taxi_duration.column_drift(1, true, '{"stattest": "nope"}')$$, '22023',
                 'invalid drift option "stattest"', 'an unknown test is refused');
SELECT throws_ok($$SELECT taxi_duration.column_drift(1, true, '{"treshold": 0.1}')$$, '22023',
                 'invalid drift option "treshold"', 'a misspelt option is refused');
SELECT throws_ok($$SELECT taxi_duration.column_drift(1, true, '[1]')$$, '22023',
                 'drift options must be a jsonb object', 'options must be an object');
SELECT throws_ok($$SELECT taxi_duration.regression_quality(1, 1, 'sometimes')$$, '22023',
                 'invalid zero handling "sometimes"', 'an unknown zero handling is refused');
SELECT throws_ok($$SELECT taxi_duration.drift_report('no_such_table', 'choice')$$, '22023',
                 'invalid reference set', 'a missing reference set is a clear error');
SELECT throws_ok($$SELECT taxi_duration.drift_report('choice', 'choice', ARRAY['nope'])$$, '42703',
                 'column "nope" is not in the reference set', 'an unknown column is a clear error');
SELECT throws_ok($$SELECT taxi_duration.drift_report('choice', 'SELECT * FROM choice WHERE false')$$, 'P0002',
                 'the current set is empty', 'an empty current set is a clear error');
SELECT throws_ok($$SELECT taxi_duration.drift_report('choice', 'choice', NULL, NULL, NULL, '{"share": 1}')$$, '22023',
                 'unknown report option "share"', 'an unknown report option is refused');
SELECT throws_ok($$SELECT taxi_duration.drift_report('choice', 'choice', ARRAY['eleven', 'eight'], NULL, NULL,
                                                     '{"columns": {"eleve": {"stattest": "psi"}}}')$$, '42703',
                 'unknown column "eleve" in report option "columns"', 'a misspelt column in "columns" is refused');
SELECT throws_ok($$SELECT taxi_duration.drift_report('choice', 'choice', ARRAY['eleven'], NULL, NULL,
                                                     '{"columns": {"eleven": {"stattets": "psi"}}}')$$, '22023',
                 'unknown option "stattets" for column "eleven"', 'a misspelt per-column option is refused');
SELECT throws_ok($$SELECT taxi_duration.drift_report('choice', 'choice', ARRAY['eleven'], NULL, NULL,
                                                     '{"columns": {"eleven": {"histogram": "yes"}}}')$$, '22023',
                 'option "histogram" of column "eleven" must be of JSON type boolean, not string',
                 'a per-column option of the wrong JSON type is refused');

-- ------------------------------------------------------------------
-- drift_report(): structure, and a parallel plan gives the same bytes
-- ------------------------------------------------------------------
CREATE TABLE td_mon_trips AS
SELECT g AS id,
       (g % 263 + 1) AS pu, (g * 7 % 263 + 1) AS du,
       round((g % 997)::numeric / 37, 2)::float8 AS distance,
       (g % 4 = 0) AS flag, (g % 3)::text AS payment,
       (g % 97)::float8 / 3 AS prediction, (g % 89)::float8 / 3 + 1 AS target,
       timestamptz '2023-01-01 00:00:00+00' + g * interval '13 seconds' AS pickup
FROM generate_series(1, 200000) g;
ALTER TABLE td_mon_trips SET (parallel_workers = 2);
ANALYZE td_mon_trips;

SET LOCAL max_parallel_workers_per_gather = 0;
SELECT taxi_duration.drift_report('SELECT * FROM td_mon_trips WHERE id <= 100000',
       'SELECT * FROM td_mon_trips WHERE id > 100000',
       ARRAY['pu', 'du', 'distance', 'flag', 'payment'], 'prediction', 'target') AS serial_report \gset
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SELECT taxi_duration.drift_report('SELECT * FROM td_mon_trips WHERE id <= 100000',
       'SELECT * FROM td_mon_trips WHERE id > 100000',
       ARRAY['pu', 'du', 'distance', 'flag', 'payment'], 'prediction', 'target') AS parallel_report \gset

CREATE TEMP TABLE plan_lines (line text);
DO $$
DECLARE l text;
BEGIN
	FOR l IN EXPLAIN SELECT taxi_duration.column_drift(distance, id <= 100000, '{}'),
	                        taxi_duration.regression_quality(prediction, target)
	         FROM td_mon_trips LOOP
		INSERT INTO plan_lines VALUES (l);
	END LOOP;
END $$;
SELECT ok(EXISTS (SELECT 1 FROM plan_lines WHERE line LIKE '%Partial Aggregate%'),
          'the aggregates run in parallel workers (Partial Aggregate)');
SELECT ok(EXISTS (SELECT 1 FROM plan_lines WHERE line LIKE '%Gather%'),
          'the plan gathers the workers'' states');
SELECT is(:'parallel_report'::jsonb - 'regression', :'serial_report'::jsonb - 'regression',
          'the parallel report''s drift verdicts equal the serial ones exactly');
SELECT is((:'parallel_report'::jsonb)->'regression', (:'serial_report'::jsonb)->'regression',
          'the parallel regression metrics equal the serial ones to the bit (exact sums)');
-- Bit-stable run to run: three parallel runs, workers taking blocks in
-- whatever order they get them, synchronized scans on: the same text.
SET LOCAL synchronize_seqscans = on;
CREATE TEMP TABLE report_runs AS
SELECT run, taxi_duration.drift_report('SELECT * FROM td_mon_trips WHERE id <= 100000',
       'SELECT * FROM td_mon_trips WHERE id > 100000',
       ARRAY['pu', 'du', 'distance', 'flag', 'payment'], 'prediction', 'target')::text AS report
FROM generate_series(1, 3) AS run;
SELECT is((SELECT count(DISTINCT report)::int FROM report_runs), 1,
          'three parallel runs of the same report are byte-identical');

-- free text: the domain classifier sees each window's rows in text order, so
-- a parallel scan (any order, any split) gives the same AUC; statement_timeout
-- stops it inside the classifier's training, not after it
CREATE TABLE td_mon_notes AS
SELECT g AS id, g <= 20000 AS is_reference,
       (ARRAY['late driver', 'smooth ride', 'airport run', 'toll detour', 'clean taxi',
              'snow storm delay', 'parade closure'])[1 + (g * 7919 % 1000003) % (CASE WHEN g <= 20000 THEN 5 ELSE 7 END)]
       || ' ' || (ARRAY['jfk', 'harlem', 'queens', 'bridge', 'tunnel'])[1 + g % 5] || ' ' || g AS note
FROM generate_series(1, 40000) g;
ALTER TABLE td_mon_notes SET (parallel_workers = 2);
ANALYZE td_mon_notes;
CREATE TEMP TABLE note_runs AS
SELECT run, taxi_duration.drift_report(
           CASE WHEN run = 1 THEN 'SELECT * FROM td_mon_notes WHERE is_reference'
                ELSE 'SELECT * FROM td_mon_notes WHERE is_reference ORDER BY md5(note)' END,
           'SELECT * FROM td_mon_notes WHERE NOT is_reference', ARRAY['note'])::text AS report
FROM generate_series(1, 3) AS run;
SELECT is((SELECT count(DISTINCT report)::int FROM note_runs), 1,
          'free text: parallel and reordered runs give the same report, byte for byte');
SELECT is((SELECT report::jsonb #>> '{columns,note,stattest}' FROM note_runs WHERE run = 1),
          'abs_text_content_drift', 'free text over 1000 reference rows: abs_text_content_drift');
SELECT ok((SELECT (report::jsonb #>> '{columns,note,score}')::float8 BETWEEN 0.5 AND 1 FROM note_runs WHERE run = 1),
          'the AUC of windows with different phrases is above chance');
SELECT clock_timestamp() AS perc_started \gset
SELECT taxi_duration.drift_report('SELECT * FROM td_mon_notes WHERE is_reference',
       'SELECT * FROM td_mon_notes WHERE NOT is_reference', ARRAY['note'], NULL, NULL,
       '{"stattest": "perc_text_content_drift"}') IS NOT NULL AS perc_ran \gset
SELECT extract(epoch FROM clock_timestamp() - :'perc_started'::timestamptz) AS perc_seconds \gset
CREATE TEMP TABLE cancel_outcome (sqlstate text, seconds float8);
-- (pgTAP's throws_ok cannot catch a cancel: PL/pgSQL's OTHERS never does)
SET LOCAL statement_timeout = '200ms';
DO $$
DECLARE started timestamptz := clock_timestamp();
BEGIN
	PERFORM taxi_duration.drift_report('SELECT * FROM td_mon_notes WHERE is_reference',
	        'SELECT * FROM td_mon_notes WHERE NOT is_reference', ARRAY['note'], NULL, NULL,
	        '{"stattest": "perc_text_content_drift"}');
	INSERT INTO cancel_outcome VALUES ('finished', extract(epoch FROM clock_timestamp() - started));
EXCEPTION WHEN query_canceled THEN
	INSERT INTO cancel_outcome VALUES ('57014', extract(epoch FROM clock_timestamp() - started));
END $$;
RESET statement_timeout;
SELECT is((SELECT sqlstate FROM cancel_outcome), '57014',
          'statement_timeout cancels a text content drift test');
-- the 1000 random classifiers alone take most of the uncancelled run: a
-- cancel polled inside them returns long before that run's time is up
SELECT ok((SELECT seconds FROM cancel_outcome) < 0.2 + :perc_seconds / 2,
          format('the cancel came from inside the classifier (%s s of a %s s run)',
                 (SELECT round(seconds::numeric, 2) FROM cancel_outcome), round(:perc_seconds::numeric, 2)));
SELECT is((:'serial_report'::jsonb)->>'number_of_columns', '7',
          'prediction and target are counted with the columns, as in Evidently');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys((:'serial_report'::jsonb)->'columns') k),
          ARRAY['distance', 'du', 'flag', 'payment', 'prediction', 'pu', 'target'],
          'one entry per column');
SELECT is((:'serial_report'::jsonb)->'columns'->'flag'->>'column_type', 'cat',
          'a boolean column is categorical');
SELECT is(((:'serial_report'::jsonb)->'regression'->'current'->>'rows')::bigint, 100000::bigint,
          'regression quality of the current window');
SELECT ok(((:'serial_report'::jsonb)->>'share_of_drifted_columns')::float8 =
          ((:'serial_report'::jsonb)->>'number_of_drifted_columns')::float8 / 7,
          'share of drifted columns');

-- ------------------------------------------------------------------
-- Scheduled monitoring: windows, stored reports, alerts
-- ------------------------------------------------------------------
CREATE TABLE td_mon_reference AS SELECT * FROM td_mon_trips WHERE id <= 50000;
-- the third day drifts: distances, predictions and targets shift, RMSE worsens
CREATE TABLE td_mon_live AS
SELECT id, pu, du,
       CASE WHEN pickup >= '2023-01-03' THEN distance * 3 + 5 ELSE distance END AS distance,
       flag, payment,
       CASE WHEN pickup >= '2023-01-03' THEN prediction + 30 ELSE prediction END AS prediction,
       CASE WHEN pickup >= '2023-01-03' THEN target + 20 ELSE target END AS target, pickup
FROM td_mon_trips WHERE pickup < '2023-01-04 00:00:00+00';

SELECT is((SELECT name FROM taxi_duration.create_monitor('trips', 'td_mon_reference', 'td_mon_live', 'pickup',
          columns => ARRAY['pu', 'du', 'distance'], prediction => 'prediction', target => 'target',
          options => '{"histograms": true}')), 'trips', 'create_monitor() stores a monitor');
SELECT is((SELECT count(*)::int FROM taxi_duration.run_monitor('trips', '2023-01-04 00:00:00+00')), 3,
          'run_monitor() computes each complete window');
SELECT is((SELECT count(*)::int FROM taxi_duration.run_monitor('trips', '2023-01-04 00:00:00+00')), 0,
          'a second run computes nothing new');
SELECT is((SELECT array_agg(dataset_drift ORDER BY window_start) FROM taxi_duration.monitor_reports WHERE monitor = 'trips'),
          ARRAY[false, false, true], 'only the shifted day drifts');
SELECT is((SELECT array_agg(kind ORDER BY kind) FROM taxi_duration.monitor_alerts WHERE monitor = 'trips'),
          ARRAY['dataset_drift', 'rmse'], 'the shifted day raises a drift alert and an RMSE alert');
SELECT ok((SELECT report->'columns'->'distance' ? 'histogram' FROM taxi_duration.monitor_reports
           WHERE monitor = 'trips' ORDER BY window_start LIMIT 1), 'reports keep histograms for the HTML page');
SELECT is((SELECT count(*)::int FROM taxi_duration.run_monitors('2023-01-04 00:00:00+00') WHERE error IS NULL), 1,
          'run_monitors() runs every enabled monitor');

-- ------------------------------------------------------------------
-- Forwarder slots: forwarder_lag's columns, check_forwarder_slots()
-- (a status row without a slot: only the silence alert can fire here;
-- tests/forwarder/test_slot_retention.py drives a real slot to its loss)
-- ------------------------------------------------------------------
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = 'taxi_duration.forwarder_lag'::regclass AND attnum > 0),
          ARRAY['slot', 'updated_at', 'records_pending', 'records_sent', 'records_retried',
                'records_dead', 'last_sent_lsn', 'confirmed_flush_lsn', 'active',
                'retained_wal_bytes', 'retained_wal', 'last_error', 'last_error_at', 'wal_status',
                'safe_wal_size', 'since_last_report', 'invalidation_reason', 'inactive_since'],
          'forwarder_lag has the same columns on every server version');
INSERT INTO taxi_duration.forwarder_status (slot, updated_at) VALUES ('td_quiet', now() - interval '1 hour');
CREATE TEMP TABLE slot_checks AS
SELECT 1 AS n, * FROM taxi_duration.check_forwarder_slots(max_silence => '10 minutes');
INSERT INTO slot_checks SELECT 2, * FROM taxi_duration.check_forwarder_slots(max_silence => '10 minutes');
INSERT INTO slot_checks SELECT 3, * FROM taxi_duration.check_forwarder_slots(max_silence => '10 minutes', repeat_after => '0');
INSERT INTO slot_checks SELECT 4, * FROM taxi_duration.check_forwarder_slots(max_silence => '2 hours');
SELECT is((SELECT array_agg(n::text || ':' || slot || ':' || kind || ':' || (alert_id IS NOT NULL)::text ORDER BY n)
           FROM slot_checks),
          ARRAY['1:td_quiet:forwarder_silent:true', '2:td_quiet:forwarder_silent:false',
                '3:td_quiet:forwarder_silent:true'],
          'a silent forwarder: alerted, then reported without a new alert until repeat_after');
SELECT is((SELECT array_agg(a.monitor || ':' || a.kind || ':' || (a.report_id IS NULL)::text ORDER BY a.id)
           FROM taxi_duration.monitor_alerts a WHERE a.slot = 'td_quiet'),
          ARRAY['forwarder:td_quiet:forwarder_silent:true', 'forwarder:td_quiet:forwarder_silent:true'],
          'slot alerts are monitor_alerts rows without a report');
SELECT throws_ok($$SELECT * FROM taxi_duration.check_forwarder_slots(min_safe_fraction => 1)$$, '22023',
                 'min_safe_fraction must be at least 0 and below 1, not 1',
                 'thresholds are checked, PostgreSQL style');
SELECT throws_ok($$SELECT * FROM taxi_duration.check_forwarder_slots(max_retained_bytes => -5)$$, '22023',
                 'max_retained_bytes must be positive, not -5', 'a byte limit must be positive');
DELETE FROM taxi_duration.forwarder_status WHERE slot = 'td_quiet';

-- ------------------------------------------------------------------
-- Permissions: monitors belong to the admin role
-- ------------------------------------------------------------------
CREATE ROLE td_mon_nobody;
SET LOCAL ROLE td_mon_nobody;
SELECT throws_ok($$SELECT * FROM taxi_duration.run_monitors()$$, '42501', NULL,
                 'an ordinary role cannot run monitors');
SELECT throws_ok($$SELECT * FROM taxi_duration.monitor_reports$$, '42501', NULL,
                 'an ordinary role cannot read reports');
SELECT throws_ok($$SELECT * FROM taxi_duration.check_forwarder_slots()$$, '42501', NULL,
                 'an ordinary role cannot run the forwarder slot check');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
