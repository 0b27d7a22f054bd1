/*
 * tdc_test.h — the minimal harness of every library's C unit tests, in the
 * spirit of sds's testhelp.h: test_cond() records one named check, and
 * test_report() prints the "N passed, 0 failed" summary CI looks for;
 * tdc_test_read_file() reads a fixture.
 */
#ifndef TDC_TEST_H
#define TDC_TEST_H

#include <stdio.h>
#include <stdlib.h>

extern int td_tests_passed;
extern int td_tests_failed;

#define test_cond(descr, cond) \
	do \
	{ \
		if (cond) \
			td_tests_passed++; \
		else \
		{ \
			td_tests_failed++; \
			printf("FAILED: %s (%s:%d)\n", (descr), __FILE__, __LINE__); \
		} \
	} while (0)

#define test_report() \
	do \
	{ \
		printf("%d passed, %d failed\n", td_tests_passed, td_tests_failed); \
	} while (0)

/* The whole of dir/name, NUL-terminated (malloc'd; *len without the NUL), or NULL. */
static inline char *
tdc_test_read_file(const char *dir, const char *name, size_t *len)
{
	char  path[1024];
	FILE *f;
	char *buf;
	long  n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
	{
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t) n + 1);
	if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n)
	{
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t) n;
	return buf;
}

#endif
