/*
 * fuzz_regression_state.c — libFuzzer target: tds_regression_deserialize
 * on arbitrary bytes (regression_quality()'s parallel state), then every
 * use the extension makes of a decoded state: the metrics, merges, more
 * rows, and a serialize/deserialize round trip that must give the same
 * bytes and the same metrics.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tds_stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same_metrics(const tds_regression_metrics *a, const tds_regression_metrics *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static tds_regression_acc acc;
	static tds_regression_acc copy;
	static tds_regression_acc wire;
	static tds_regression_acc back;
	tds_regression_metrics	  m;
	tds_regression_metrics	  m2;
	tds_error				  err;

	if (tds_regression_deserialize(data, size, &acc, &err) != TDS_OK)
		return 0;
	tds_regression_result(&acc, &m);
	/* canonical bytes read back as the same state */
	tds_regression_serialize(&acc, &wire);
	if (tds_regression_deserialize(&wire, sizeof(wire), &back, &err) != TDS_OK)
		abort();
	tds_regression_result(&back, &m2);
	if (!same_metrics(&m, &m2))
		abort();
	/* merges and rows, as a leader does */
	copy = acc;
	tds_regression_merge(&copy, &back);
	tds_regression_add(&copy, 3.5, 2.0);
	tds_regression_add(&copy, -1e308, 1e308);
	tds_regression_add(&copy, 0.0, 0.0);
	tds_regression_result(&copy, &m);
	tds_regression_merge(&copy, &copy);
	tds_regression_result(&copy, &m);
	return 0;
}
