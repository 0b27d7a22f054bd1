/*
 * core_bench.c — time the model library alone: compile a bundle once, then
 * predict every trip of a CSV (pu,do,distance,pickup_epoch_us per line),
 * with the pickup time and without it, best of N passes of process CPU
 * time (this machine is shared: CPU time is less disturbed by other load
 * than wall time), and print ns per row.  With XGBoost's own float32
 * predictions (ref4.f32 / ref3.f32 from bench/core_trips.py) it also counts
 * the bit-identical predictions.  Not a test; used to tune the scorer
 * without PostgreSQL in the way (bench/core_bench.sh compares builds).
 *
 *   make -C lib/model lib && cc -O2 -Ilib/model -Ilib/common bench/core_bench.c \
 *       lib/model/build/libtdmodel.a lib/common/build/libtdcommon.a -lcjson -lm \
 *       -o /tmp/core_bench
 *   /tmp/core_bench model/default_bundle.json trips.csv [passes [ref_dir]]
 *
 * Output: one line per variant, "time NS/row exact K/N" and
 * "notime NS/row exact K/N" (K is "-" without reference files).
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
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Best-of-passes ns/row over n rows of 4 values; predictions into out. */
static double
run(td_predictor *pred, const td_value *rows, size_t n, int passes, float *out)
{
	double	 best = 1e300;
	td_error err;
	int		 pass;
	size_t	 i;

	for (pass = 0; pass < passes; pass++)
	{
		double t0 = cpu_ns(),
			   t;

		for (i = 0; i < n; i++)
		{
			double m;

			if (td_predict(pred, rows + 4 * i, &m, &err) != TD_OK)
			{
				fprintf(stderr, "row %zu: %s\n", i, err.detail);
				exit(1);
			}
			out[i] = (float) m;
		}
		t = cpu_ns() - t0;
		if (t < best)
			best = t;
	}
	return best / (double) n;
}

static void
report(const char *label, double ns, const float *got, size_t n,
	   const char *ref_dir, const char *ref_name)
{
	char   path[4096];
	size_t len = 0;
	char  *ref;
	size_t same = 0,
		   i;

	snprintf(path, sizeof(path), "%s/%s", ref_dir ? ref_dir : "", ref_name);
	ref = ref_dir ? read_file(path, &len) : NULL;
	if (ref == NULL || len != n * sizeof(float))
	{
		printf("%s %.1f ns/row exact -/%zu\n", label, ns, n);
		free(ref);
		return;
	}
	for (i = 0; i < n; i++)
		same += memcmp(ref + i * sizeof(float), &got[i], sizeof(float)) == 0;
	printf("%s %.1f ns/row exact %zu/%zu\n", label, ns, same, n);
	free(ref);
}

int
main(int argc, char **argv)
{
	size_t len,
		image_size,
		n = 0,
		cap = 1 << 20,
		i;
	char		 *json;
	td_limits	  limits;
	td_image	 *image;
	td_predictor *pred;
	td_error	  err;
	td_value	 *rows;
	float		 *out;
	FILE		 *csv;
	int			  pu,
		dz,
		passes = argc > 3 ? atoi(argv[3]) : 5;
	const char *ref_dir = argc > 4 ? argv[4] : NULL;
	double		dist,
		ns;
	long long us;
	int		  ipu,
		ido,
		idist,
		ipick;

	if (argc < 3)
	{
		fprintf(stderr, "usage: %s bundle.json trips.csv [passes [ref_dir]]\n", argv[0]);
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
	if (ipu < 0 || ido < 0 || idist < 0 || ipick < 0)
	{
		fprintf(stderr, "the bundle lacks one of the four inputs\n");
		return 1;
	}
	rows = calloc(cap * 4, sizeof(td_value));
	out = calloc(cap, sizeof(float));
	csv = fopen(argv[2], "r");
	while (csv && n < cap && fscanf(csv, "%d,%d,%lf,%lld", &pu, &dz, &dist, &us) == 4)
	{
		td_value *v = rows + 4 * n;

		v[ipu].kind = TD_VALUE_INT, v[ipu].i = pu;
		v[ido].kind = TD_VALUE_INT, v[ido].i = dz;
		v[idist].kind = TD_VALUE_DOUBLE, v[idist].d = dist;
		v[ipick].kind = TD_VALUE_TIMESTAMP, v[ipick].i = us;
		n++;
	}
	if (n == 0)
	{
		fprintf(stderr, "no trips in %s\n", argv[2]);
		return 1;
	}
	ns = run(pred, rows, n, passes, out);
	report("time", ns, out, n, ref_dir, "ref4.f32");
	for (i = 0; i < n; i++)
		rows[4 * i + ipick].kind = TD_VALUE_NULL;
	ns = run(pred, rows, n, passes, out);
	report("notime", ns, out, n, ref_dir, "ref3.f32");
	return 0;
}
