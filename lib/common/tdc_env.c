/*
 * tdc_env.c — settings read from the environment (the Lambda's and the
 * forwarder's configuration, AWS and MLflow variables).
 */
#include <errno.h>
#include <stdlib.h>

#include "tdc.h"

const char *
tdc_env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return (v != NULL && *v != '\0') ? v : fallback;
}

long
tdc_env_long(const char *name, long fallback, long min, long max, bool *invalid)
{
	const char *v = getenv(name);
	char	   *end;
	long		n;

	if (invalid != NULL)
		*invalid = false;
	if (v == NULL || *v == '\0')
		return fallback;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
	{
		if (invalid != NULL)
			*invalid = true;
		return fallback;
	}
	return n;
}
