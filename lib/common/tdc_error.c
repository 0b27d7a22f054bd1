/*
 * tdc_error.c — filling a tdc_error.  Each library keeps its own status
 * codes and standard messages and sets errors through these.
 */
#include <stdio.h>

#include "tdc.h"

void
tdc_error_clear(tdc_error *err)
{
	if (err == NULL)
		return;
	err->status = 0;
	err->http_status = 0;
	err->message[0] = '\0';
	err->detail[0] = '\0';
}

int
tdc_error_setv(tdc_error *err, int status, const char *message, const char *fmt,
			   va_list ap)
{
	if (err == NULL)
		return status;
	err->status = status;
	snprintf(err->message, sizeof(err->message), "%s", message != NULL ? message : "");
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	return status;
}

int
tdc_error_set(tdc_error *err, int status, const char *message, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	status = tdc_error_setv(err, status, message, fmt, ap);
	va_end(ap);
	return status;
}

void
tdc_error_set_message(tdc_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}
