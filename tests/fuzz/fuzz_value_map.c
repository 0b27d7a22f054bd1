/*
 * fuzz_value_map.c — libFuzzer target: td_value_map_deserialize on
 * arbitrary bytes (the drift aggregates' parallel state), then every use
 * the extension makes of a decoded map: merge, sorted column, the drift
 * scores and histograms, a clone, and a serialize/deserialize round trip
 * (number maps travel as sorted runs, merged linearly).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "td_core.h"
#include "td_drift.h"
#include "td_value_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_scores(const td_value_map *map)
{
	td_drift_column column;
	td_drift_column view;
	td_error		err;
	int				t;

	if (td_value_map_column(map, true, &column, NULL, NULL, &err) != TD_OK)
		abort();
	if (column.n_ref <= 0 || column.n_cur <= 0 ||
		column.n_ref + column.n_cur > INT64_C(1) << 40)
	{
		td_value_map_free_column(&column, NULL, NULL);
		return;
	}
	for (t = 1; t < TD_STATTEST_COUNT; t++)
	{
		double score;

		view = column;
		(void) td_drift_score((td_stattest) t, &view, &score, &err);
		view.numerical = false;
		view.values = NULL;
		(void) td_drift_score((td_stattest) t, &view, &score, &err);
	}
	if (column.numerical && column.m > 0)
	{
		size_t	 k;
		double	*edges;
		int64_t *ref;
		int64_t *cur;

		if (td_sturges_histogram(&column, &k, &edges, &ref, &cur, &err) == TD_OK)
		{
			td_free_histogram(edges, ref, cur);
		}
	}
	td_value_map_free_column(&column, NULL, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	td_value_map *map;
	td_value_map *copy;
	td_error	  err;
	char		 *bytes;
	size_t		  len;

	if (td_value_map_deserialize((const char *) data, size, &map, &err) != TD_OK)
		return 0;
	if (td_value_map_serialize(map, &bytes, &len, &err) != TD_OK)
		abort();
	if (td_value_map_deserialize(bytes, len, &copy, &err) != TD_OK)
		abort();
	if (td_value_map_merge(copy, map, &err) != TD_OK)
		abort();
	if (td_value_map_count(copy, true) != 2 * td_value_map_count(map, true) ||
		td_value_map_distinct(copy) != td_value_map_distinct(map))
		abort();
	{
		td_value_map *clone = td_value_map_clone(map);

		if (clone == NULL || td_value_map_distinct(clone) != td_value_map_distinct(map) ||
			td_value_map_count(clone, false) != td_value_map_count(map, false))
			abort();
		td_value_map_free(clone);
	}
	if (!td_value_map_has_text_keys(map))
	{
		fuzz_scores(map);
		fuzz_scores(copy);
	}
	free(bytes);
	td_value_map_free(copy);
	td_value_map_free(map);
	return 0;
}
