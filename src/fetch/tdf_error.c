/*
 * tdf_error.c — filling tdf_error: status names, the standard message of
 * each status, printf-style details, and helpers that make untrusted text
 * and URLs safe to echo in a detail (control bytes replaced, credentials
 * in a URL's authority removed).
 */
#include <stdio.h>
#include <string.h>

#include "tdf_internal.h"

const char *
tdf_status_name(tdf_status status)
{
	switch (status)
	{
		case TDF_OK:
			return "TDF_OK";
		case TDF_ERR_NOMEM:
			return "TDF_ERR_NOMEM";
		case TDF_ERR_URI:
			return "TDF_ERR_URI";
		case TDF_ERR_CONFIG:
			return "TDF_ERR_CONFIG";
		case TDF_ERR_UNREACHABLE:
			return "TDF_ERR_UNREACHABLE";
		case TDF_ERR_TIMEOUT:
			return "TDF_ERR_TIMEOUT";
		case TDF_ERR_CANCELLED:
			return "TDF_ERR_CANCELLED";
		case TDF_ERR_DENIED:
			return "TDF_ERR_DENIED";
		case TDF_ERR_NOT_FOUND:
			return "TDF_ERR_NOT_FOUND";
		case TDF_ERR_HTTP:
			return "TDF_ERR_HTTP";
		case TDF_ERR_TOO_LARGE:
			return "TDF_ERR_TOO_LARGE";
		case TDF_ERR_CHECKSUM:
			return "TDF_ERR_CHECKSUM";
		case TDF_ERR_PROTOCOL:
			return "TDF_ERR_PROTOCOL";
	}
	return "TDF_ERR_UNKNOWN";
}

static const char *
default_message(tdf_status status)
{
	switch (status)
	{
		case TDF_OK:
			return "";
		case TDF_ERR_NOMEM:
			return "out of memory";
		case TDF_ERR_URI:
			return "invalid model URI";
		case TDF_ERR_CONFIG:
			return "model fetching is not configured";
		case TDF_ERR_UNREACHABLE:
			return "could not connect to the model store";
		case TDF_ERR_TIMEOUT:
			return "model fetch timed out";
		case TDF_ERR_CANCELLED:
			return "model fetch was cancelled";
		case TDF_ERR_DENIED:
			return "access to the model store was denied";
		case TDF_ERR_NOT_FOUND:
			return "model not found";
		case TDF_ERR_HTTP:
			return "unexpected HTTP status from the model store";
		case TDF_ERR_TOO_LARGE:
			return "model bundle is too large";
		case TDF_ERR_CHECKSUM:
			return "model bundle checksum mismatch";
		case TDF_ERR_PROTOCOL:
			return "unexpected response from the model store";
	}
	return "unknown error";
}

void
tdf_error_clear(tdf_error *err)
{
	if (err == NULL)
		return;
	err->status = TDF_OK;
	err->http_status = 0;
	err->message[0] = '\0';
	err->detail[0] = '\0';
}

/* Set status, the status's standard message and a formatted detail. */
tdf_status
tdf_error_set(tdf_error *err, tdf_status status, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return status;
	err->status = status;
	snprintf(err->message, sizeof(err->message), "%s", default_message(status));
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return status;
}

/* Replace the message of an error already set. */
void
tdf_error_set_message(tdf_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

tdf_status
tdf_error_nomem(tdf_error *err)
{
	return tdf_error_set(err, TDF_ERR_NOMEM,
						 "An allocation made while fetching the model failed.");
}

/*
 * Past the user info of the URL authority that starts at p (the text after
 * "://"), or p when it has none.  The authority ends at '/', '?', '#', white
 * space, a quote or the end; its user info ends at its last '@'.
 */
static const char *
skip_userinfo(const char *p)
{
	const char *at = NULL;
	const char *q;

	for (q = p; *q != '\0' && strchr("/?#\"' \t\r\n<>\\", *q) == NULL; q++)
		if (*q == '@')
			at = q;
	return at != NULL ? at + 1 : p;
}

const char *
tdf_redact_userinfo(const char *s, char *buf, size_t bufsize)
{
	size_t o = 0;

	if (bufsize == 0)
		return "";
	if (s == NULL)
		s = "";
	while (*s != '\0' && o + 1 < bufsize)
	{
		bool authority = strncmp(s, "://", 3) == 0;

		buf[o++] = *s++;
		if (authority)
		{
			while (o + 1 < bufsize && *s == '/')
				buf[o++] = *s++;
			s = skip_userinfo(s);
		}
	}
	buf[o] = '\0';
	return buf;
}

/*
 * Copy at most TDF_ECHO_MAX bytes of s into buf, dropping the user info of
 * any URL in it, replacing control and non-ASCII bytes, quotes and
 * backslashes with '?', and marking truncation with "...".  Returns buf.
 */
const char *
tdf_echo(const char *s, char *buf, size_t bufsize)
{
	size_t i = 0;
	size_t limit;

	if (bufsize == 0)
		return "";
	if (s == NULL)
		s = "";
	if (bufsize < 8)
		limit = bufsize - 1;
	else
		limit = bufsize - 4 < TDF_ECHO_MAX ? bufsize - 4 : TDF_ECHO_MAX;
	while (i < limit && *s != '\0')
	{
		unsigned char c = (unsigned char) *s;
		bool		  authority = strncmp(s, "://", 3) == 0;

		buf[i++] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char) c;
		s++;
		if (authority)
		{
			while (i < limit && *s == '/')
				buf[i++] = *s++;
			s = skip_userinfo(s);
		}
	}
	if (*s != '\0' && bufsize >= 8)
	{
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/*
 * Echo a URL with any "user:password@" of its authority and everything
 * from the query on removed, so that a detail never carries credentials.
 */
const char *
tdf_redact_url(const char *url, char *buf, size_t bufsize)
{
	char		plain[TDF_URI_MAX + 1];
	const char *scheme_end;
	const char *auth;
	const char *auth_end;
	const char *at;
	size_t		n;
	size_t		len;

	if (url == NULL)
		url = "";
	scheme_end = strstr(url, "://");
	auth = scheme_end != NULL ? scheme_end + 3 : url;
	auth_end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (n = 0; auth + n < auth_end; n++)
		if (auth[n] == '@')
			at = auth + n;
	/* scheme://  +  host[:port]  +  path (query and fragment dropped) */
	n = (size_t) (auth - url);
	if (n > sizeof(plain) - 1)
		n = sizeof(plain) - 1;
	memcpy(plain, url, n);
	len = n;
	if (at != NULL)
		auth = at + 1;
	n = strcspn(auth, "?#");
	if (n > sizeof(plain) - 1 - len)
		n = sizeof(plain) - 1 - len;
	memcpy(plain + len, auth, n);
	len += n;
	plain[len] = '\0';
	return tdf_echo(plain, buf, bufsize);
}
