
-- ===================================================================
-- sql/install/monitoring.sql — drift and model-quality monitoring
-- (part of the extension script).
--
-- Aggregates reproducing Evidently's data-drift tests and regression
-- metrics exactly (C, PARALLEL SAFE, src/drift_*.c, src/regression_agg.c),
-- the report function drift_report(), and scheduled monitoring: monitors,
-- their stored reports and alerts.  See docs/monitoring.md.
-- ===================================================================

-- Support functions of the drift aggregates (not for direct use).
CREATE FUNCTION drift_number_sfunc(internal, double precision, boolean)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION drift_text_sfunc(internal, text, boolean)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION drift_number_options_sfunc(internal, double precision, boolean, jsonb)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION drift_text_options_sfunc(internal, text, boolean, jsonb)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION drift_combine(internal, internal)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION drift_serialize(internal)
RETURNS bytea AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION drift_deserialize(bytea, internal)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION drift_wasserstein_final(internal)
RETURNS double precision AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION drift_ks_statistic_final(internal)
RETURNS double precision AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION drift_ks_pvalue_final(internal)
RETURNS double precision AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION drift_jensenshannon_final(internal)
RETURNS double precision AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION drift_psi_final(internal)
RETURNS double precision AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION drift_kl_div_final(internal)
RETURNS double precision AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION drift_chisquare_final(internal)
RETURNS double precision AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION drift_ztest_final(internal)
RETURNS double precision AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION drift_column_final(internal)
RETURNS jsonb AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

-- One aggregate per statistic.  Each takes the value and whether the row
-- belongs to the reference window (true) or the current window (false).
-- NULL, NaN and ±Infinity are left out, as Evidently does.  double
-- precision values are numerical, text values categorical.
DO $$
DECLARE
	agg record;
	arg text;
BEGIN
	FOR agg IN SELECT * FROM (VALUES
		('wasserstein_norm', 'drift_wasserstein_final', false),
		('ks_statistic', 'drift_ks_statistic_final', false),
		('ks_pvalue', 'drift_ks_pvalue_final', false),
		('jensenshannon', 'drift_jensenshannon_final', true),
		('psi', 'drift_psi_final', true),
		('kl_div', 'drift_kl_div_final', true),
		('chisquare_pvalue', 'drift_chisquare_final', true),
		('ztest_pvalue', 'drift_ztest_final', true)) AS a(name, final, categorical)
	LOOP
		FOREACH arg IN ARRAY CASE WHEN agg.categorical
			THEN ARRAY['double precision', 'text'] ELSE ARRAY['double precision'] END
		LOOP
			EXECUTE format($f$
				CREATE AGGREGATE %I(value %s, is_reference boolean) (
					SFUNC = %s, STYPE = internal,
					FINALFUNC = %I,
					COMBINEFUNC = drift_combine,
					SERIALFUNC = drift_serialize, DESERIALFUNC = drift_deserialize,
					PARALLEL = SAFE)$f$,
				agg.name, arg,
				CASE arg WHEN 'text' THEN 'drift_text_sfunc' ELSE 'drift_number_sfunc' END,
				agg.final);
		END LOOP;
	END LOOP;
END
$$;

COMMENT ON AGGREGATE wasserstein_norm(double precision, boolean) IS
	'Evidently''s normed Wasserstein distance: W1(reference, current) / max(population std of reference, 0.001)';
COMMENT ON AGGREGATE ks_statistic(double precision, boolean) IS
	'Two-sample Kolmogorov-Smirnov statistic D of reference against current';
COMMENT ON AGGREGATE ks_pvalue(double precision, boolean) IS
	'p-value of scipy''s ks_2samp (two-sided, method auto) of reference against current';
COMMENT ON AGGREGATE jensenshannon(double precision, boolean) IS
	'Jensen-Shannon distance (natural log) of Evidently''s binned reference and current';
COMMENT ON AGGREGATE psi(double precision, boolean) IS
	'Population stability index of Evidently''s binned reference and current';
COMMENT ON AGGREGATE kl_div(double precision, boolean) IS
	'Kullback-Leibler divergence KL(reference || current) of Evidently''s binned data';
COMMENT ON AGGREGATE chisquare_pvalue(double precision, boolean) IS
	'Chi-square goodness-of-fit p-value of current value counts against the reference''s';
COMMENT ON AGGREGATE ztest_pvalue(double precision, boolean) IS
	'Two-proportion z-test p-value of a binary column';

-- Evidently's verdict on one column: the test it would choose (or the one
-- the options force), score, threshold, drifted flag, counts, and optional
-- histograms.  Options: kind (float, integer, boolean, text: the column's
-- SQL type, for type inference), type (num, cat), stattest, threshold,
-- histogram.
CREATE AGGREGATE column_drift(value double precision, is_reference boolean, options jsonb) (
	SFUNC = drift_number_options_sfunc, STYPE = internal,
	FINALFUNC = drift_column_final,
	COMBINEFUNC = drift_combine,
	SERIALFUNC = drift_serialize, DESERIALFUNC = drift_deserialize,
	PARALLEL = SAFE);
CREATE AGGREGATE column_drift(value text, is_reference boolean, options jsonb) (
	SFUNC = drift_text_options_sfunc, STYPE = internal,
	FINALFUNC = drift_column_final,
	COMBINEFUNC = drift_combine,
	SERIALFUNC = drift_serialize, DESERIALFUNC = drift_deserialize,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE column_drift(double precision, boolean, jsonb) IS
	'Evidently''s drift verdict on one column (test chosen, score, threshold, drifted) as jsonb';
COMMENT ON AGGREGATE column_drift(text, boolean, jsonb) IS
	'Evidently''s drift verdict on one categorical column as jsonb';

-- Regression quality: Evidently's metrics of predictions against targets.
CREATE FUNCTION regression_sfunc(internal, double precision, double precision)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION regression_zero_sfunc(internal, double precision, double precision, text)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION regression_combine(internal, internal)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION regression_serialize(internal)
RETURNS bytea AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION regression_deserialize(bytea, internal)
RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION regression_final(internal)
RETURNS jsonb AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

CREATE AGGREGATE regression_quality(prediction double precision, target double precision) (
	SFUNC = regression_sfunc, STYPE = internal,
	FINALFUNC = regression_final,
	COMBINEFUNC = regression_combine,
	SERIALFUNC = regression_serialize, DESERIALFUNC = regression_deserialize,
	PARALLEL = SAFE);
CREATE AGGREGATE regression_quality(prediction double precision, target double precision,
									zero_handling text) (
	SFUNC = regression_zero_sfunc, STYPE = internal,
	FINALFUNC = regression_final,
	COMBINEFUNC = regression_combine,
	SERIALFUNC = regression_serialize, DESERIALFUNC = regression_deserialize,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE regression_quality(double precision, double precision) IS
	'Evidently''s regression metrics (mean error, MAE, RMSE, MAPE, R², max error) as jsonb';
COMMENT ON AGGREGATE regression_quality(double precision, double precision, text) IS
	'Evidently''s regression metrics; zero_handling (replace, drop, none) says how MAPE treats zero targets';
