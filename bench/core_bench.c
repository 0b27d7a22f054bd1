/*
 * core_bench.c — time the model library alone: compile a bundle once, then
 * predict every trip of a CSV (pu,do,distance,pickup_epoch_us per line),
 * best of N passes, and print ns per row.  Not a test; used to tune the
 * scorer without PostgreSQL in the way.
 *
 *   make -C lib/model lib && cc -O2 -Ilib/model -Ilib/common bench/core_bench.c \
 *       lib/model/build/libtdmodel.a lib/common/build/libtdcommon.a -lcjson -lm \
 *       -o /tmp/core_bench
 *   /tmp/core_bench model/default_bundle.json trips.csv [passes]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "td_model.h"

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t) ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(*len + 1);
	if (buf == NULL || fread(buf, 1, *len, f) != *len)
		exit(1);
	fclose(f);
	return buf;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	size_t len,
		image_size,
		n = 0,
		cap = 1 << 17,
		i;
	char		 *json;
	td_limits	  limits;
	td_image	 *image;
	td_predictor *pred;
	td_error	  err;
	td_value	 *rows;
	FILE		 *csv;
	int			  pu,
		dz,
		passes = argc > 3 ? atoi(argv[3]) : 5,
		pass;
	double dist,
		best = 1e300,
		checksum = 0;
	long long us;
	int		  ipu,
		ido,
		idist,
		ipick;

	if (argc < 3)
	{
		fprintf(stderr, "usage: %s bundle.json trips.csv [passes]\n", argv[0]);
		return 2;
	}
	json = read_file(argv[1], &len);
	td_default_limits(&limits);
	if (json == NULL || td_compile_bundle(json, len, &limits, &image, &image_size, &err) != TD_OK ||
		td_predictor_create(image, &pred, &err) != TD_OK)
	{
		fprintf(stderr, "cannot load %s: %s\n", argv[1], err.detail);
		return 1;
	}
	ipu = td_image_find_input(image, "PULocationID");
	ido = td_image_find_input(image, "DOLocationID");
	idist = td_image_find_input(image, "trip_distance");
	ipick = td_image_find_input(image, "pickup_datetime");
	rows = malloc(cap * 4 * sizeof(td_value));
	csv = fopen(argv[2], "r");
	while (csv && fscanf(csv, "%d,%d,%lf,%lld", &pu, &dz, &dist, &us) == 4)
	{
		td_value *v = rows + 4 * n;

		if (n == cap)
			break;
		v[ipu].kind = TD_VALUE_INT, v[ipu].i = pu;
		v[ido].kind = TD_VALUE_INT, v[ido].i = dz;
		v[idist].kind = TD_VALUE_DOUBLE, v[idist].d = dist;
		if (ipick >= 0)
			v[ipick].kind = TD_VALUE_TIMESTAMP, v[ipick].i = us;
		n++;
	}
	for (pass = 0; pass < passes; pass++)
	{
		double t0 = now_ns(),
			   t;

		checksum = 0;
		for (i = 0; i < n; i++)
		{
			double m;

			if (td_predict(pred, rows + 4 * i, &m, &err) != TD_OK)
				return 1;
			checksum += m;
		}
		t = now_ns() - t0;
		if (t < best)
			best = t;
	}
	printf("%zu rows, best of %d: %.1f ns/row (checksum %.6f)\n", n, passes, best / n, checksum);
	return 0;
}
