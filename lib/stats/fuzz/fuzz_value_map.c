/*
 * fuzz_value_map.c — libFuzzer target: tds_value_map_deserialize on
 * arbitrary bytes (the drift aggregates' parallel state), then every use
 * the extension makes of a decoded map: merge, sorted column, the drift
 * scores and histograms, a clone, and a serialize/deserialize round trip
 * (number maps travel as sorted runs, merged linearly).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tds_stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_scores(const tds_value_map *map)
{
	tds_drift_column column;
	tds_drift_column view;
	tds_error		 err;
	int				 t;

	if (tds_value_map_column(map, true, &column, NULL, NULL, &err) != TDS_OK)
		abort();
	if (column.n_ref <= 0 || column.n_cur <= 0 ||
		column.n_ref + column.n_cur > INT64_C(1) << 40)
	{
		tds_value_map_free_column(&column, NULL, NULL);
		return;
	}
	for (t = 1; t < TDS_STATTEST_COUNT; t++)
	{
		double score;

		/*
		 * Tests whose cost grows with the rows, not the distinct values, on
		 * small maps only: the permutation tests shuffle every row (1000 and
		 * 100 times), anderson's constants loop over the rows.
		 */
		if ((t == TDS_STATTEST_TVD || t == TDS_STATTEST_EMPIRICAL_MMD) &&
			column.n_ref + column.n_cur > 2000)
			continue;
		if (t == TDS_STATTEST_ANDERSON && column.n_ref + column.n_cur > 1000000)
			continue;

		view = column;
		(void) tds_drift_score((tds_stattest) t, &view, &score, &err);
		view.numerical = false;
		view.values = NULL;
		(void) tds_drift_score((tds_stattest) t, &view, &score, &err);
	}
	if (column.numerical && column.m > 0)
	{
		size_t	 k;
		double	*edges;
		int64_t *ref;
		int64_t *cur;

		if (tds_sturges_histogram(&column, &k, &edges, &ref, &cur, &err) == TDS_OK)
		{
			tds_free_histogram(edges, ref, cur);
		}
	}
	tds_value_map_free_column(&column, NULL, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tds_value_map *map;
	tds_value_map *copy;
	tds_error	   err;
	char		  *bytes;
	size_t		   len;

	if (tds_value_map_deserialize((const char *) data, size, &map, &err) != TDS_OK)
		return 0;
	if (tds_value_map_serialize(map, &bytes, &len, &err) != TDS_OK)
		abort();
	if (tds_value_map_deserialize(bytes, len, &copy, &err) != TDS_OK)
		abort();
	if (tds_value_map_merge(copy, map, &err) != TDS_OK)
		abort();
	if (tds_value_map_count(copy, true) != 2 * tds_value_map_count(map, true) ||
		tds_value_map_distinct(copy) != tds_value_map_distinct(map))
		abort();
	{
		tds_value_map *clone = tds_value_map_clone(map);

		if (clone == NULL || tds_value_map_distinct(clone) != tds_value_map_distinct(map) ||
			tds_value_map_count(clone, false) != tds_value_map_count(map, false))
			abort();
		tds_value_map_free(clone);
	}
	if (!tds_value_map_has_text_keys(map))
	{
		fuzz_scores(map);
		fuzz_scores(copy);
	}
	free(bytes);
	tds_value_map_free(copy);
	tds_value_map_free(map);
	return 0;
}
