/*
 * tdc_test.h — the minimal harness of every library's C unit tests, in the
 * spirit of sds's testhelp.h: test_cond() records one named check, and
 * test_report() prints the "N passed, 0 failed" summary CI looks for;
 * tdc_test_read_file() reads a fixture; tdc_test_hooks() is an allocator
 * for allocation-failure sweeps.
 */
#ifndef TDC_TEST_H
#define TDC_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tdc.h"

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

/* Seconds on the monotonic clock. */
static inline double
tdc_test_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* hay contains a non-empty needle (NULL contains nothing). */
static inline bool
tdc_test_contains(const char *hay, const char *needle)
{
	return hay != NULL && needle != NULL && *needle != '\0' && strstr(hay, needle) != NULL;
}

/*
 * An allocator for allocation-failure sweeps: counts the blocks alive and
 * fails exactly the call numbered fail_at (0-based over malloc and
 * realloc calls; -1: none).  One state per test program.
 */
typedef struct tdc_test_alloc_state
{
	long live;
	long calls;
	long fail_at;
} tdc_test_alloc_state;

static inline tdc_test_alloc_state *
tdc_test_alloc(void)
{
	static tdc_test_alloc_state state = { 0, 0, -1 };

	return &state;
}

static inline void *
tdc_test_malloc(size_t n)
{
	tdc_test_alloc_state *st = tdc_test_alloc();

	if (st->calls++ == st->fail_at)
		return NULL;
	st->live++;
	return malloc(n);
}

static inline void *
tdc_test_realloc(void *p, size_t n)
{
	tdc_test_alloc_state *st = tdc_test_alloc();
	void				 *q;

	if (st->calls++ == st->fail_at)
		return NULL;
	q = realloc(p, n);
	if (p == NULL && q != NULL)
		st->live++;
	return q;
}

static inline void
tdc_test_free(void *p)
{
	if (p != NULL)
		tdc_test_alloc()->live--;
	free(p);
}

/* The hooks, with or without realloc (buffers then grow by malloc + copy). */
static inline tdc_allocator
tdc_test_hooks(int with_realloc)
{
	tdc_allocator hooks = { tdc_test_malloc, with_realloc ? tdc_test_realloc : NULL, tdc_test_free };

	return hooks;
}

#endif /* TDC_TEST_H */
