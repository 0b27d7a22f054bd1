/*
 * tdc_test.h — the minimal harness of every library's C unit tests, in the
 * spirit of sds's testhelp.h: test_cond() records one named check, and
 * test_report() prints the "N passed, 0 failed" summary CI looks for.
 */
#ifndef TDC_TEST_H
#define TDC_TEST_H

#include <stdio.h>

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

#endif
