/*
 * td_error.c — filling td_error: status names, the standard message of
 * each status, printf-style details, and a helper that makes bundle or ride
 * text safe and short enough to echo in a detail.
 */
#include <stdio.h>
#include <string.h>

#include "td_internal.h"

const char *
td_status_name(td_status status)
{
	switch (status)
	{
		case TD_OK:
			return "TD_OK";
		case TD_ERR_NOMEM:
			return "TD_ERR_NOMEM";
		case TD_ERR_JSON:
			return "TD_ERR_JSON";
		case TD_ERR_FORMAT:
			return "TD_ERR_FORMAT";
		case TD_ERR_VERSION:
			return "TD_ERR_VERSION";
		case TD_ERR_INVALID:
			return "TD_ERR_INVALID";
		case TD_ERR_UNSUPPORTED:
			return "TD_ERR_UNSUPPORTED";
		case TD_ERR_LIMIT:
			return "TD_ERR_LIMIT";
		case TD_ERR_IMAGE:
			return "TD_ERR_IMAGE";
		case TD_ERR_INPUT:
			return "TD_ERR_INPUT";
		case TD_ERR_MISSING_INPUT:
			return "TD_ERR_MISSING_INPUT";
		case TD_ERR_RIDE_JSON:
			return "TD_ERR_RIDE_JSON";
		case TD_ERR_CANCELED:
			return "TD_ERR_CANCELED";
	}
	return "TD_ERR_UNKNOWN";
}

static const char *
default_message(td_status status)
{
	switch (status)
	{
		case TD_OK:
			return "";
		case TD_ERR_NOMEM:
			return "out of memory";
		case TD_ERR_JSON:
			return "model bundle is not valid JSON";
		case TD_ERR_FORMAT:
			return "not a taxi-duration model bundle";
		case TD_ERR_VERSION:
			return "unsupported model bundle format version";
		case TD_ERR_INVALID:
			return "invalid model bundle";
		case TD_ERR_UNSUPPORTED:
			return "unsupported model bundle";
		case TD_ERR_LIMIT:
			return "model bundle exceeds a size limit";
		case TD_ERR_IMAGE:
			return "invalid model image";
		case TD_ERR_INPUT:
			return "invalid model input value";
		case TD_ERR_MISSING_INPUT:
			return "model input was not given";
		case TD_ERR_RIDE_JSON:
			return "invalid trip event";
		case TD_ERR_CANCELED:
			return "model bundle compile canceled";
	}
	return "unknown error";
}

/* Set status, the status's standard message and a formatted detail. */
void
td_error_set(td_error *err, td_status status, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->status = status;
	snprintf(err->message, sizeof(err->message), "%s", default_message(status));
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
}

/* Replace the message of an error already set. */
void
td_error_set_message(td_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

td_status
td_error_nomem(td_error *err)
{
	td_error_set(err, TD_ERR_NOMEM,
				 "An allocation made while handling the model failed.");
	return TD_ERR_NOMEM;
}

/*
 * Copy at most TD_ECHO_MAX bytes of s into buf, replacing control and
 * non-ASCII bytes, quotes and backslashes with '?', and marking truncation
 * with "...".  Returns buf.
 */
const char *
td_echo(const char *s, char *buf, size_t bufsize)
{
	size_t i;
	size_t limit;

	if (bufsize == 0)
		return "";
	if (s == NULL)
		s = "";
	limit = bufsize - 4 < TD_ECHO_MAX ? bufsize - 4 : TD_ECHO_MAX;
	if (bufsize < 8)
		limit = bufsize - 1;
	for (i = 0; i < limit && s[i] != '\0'; i++)
	{
		unsigned char c = (unsigned char) s[i];

		buf[i] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char) c;
	}
	if (s[i] != '\0' && bufsize >= 8)
	{
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}
