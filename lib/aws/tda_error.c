/*
 * tda_error.c — the AWS library's status names and standard messages, and
 * the two ways it echoes untrusted text in a detail: tda_echo (user info
 * dropped, escaped, short) and tda_redact_url (no credentials, no query),
 * and tda_error_echo, an error whose detail names an echoed value.
 * Setting errors is the common library's (tdc_error_set).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tda_internal.h"

const char *
tda_status_name(tda_status status)
{
	switch (status)
	{
		case TDA_OK:
			return "TDA_OK";
		case TDA_ERR_NOMEM:
			return "TDA_ERR_NOMEM";
		case TDA_ERR_URI:
			return "TDA_ERR_URI";
		case TDA_ERR_CONFIG:
			return "TDA_ERR_CONFIG";
		case TDA_ERR_UNREACHABLE:
			return "TDA_ERR_UNREACHABLE";
		case TDA_ERR_TIMEOUT:
			return "TDA_ERR_TIMEOUT";
		case TDA_ERR_CANCELLED:
			return "TDA_ERR_CANCELLED";
		case TDA_ERR_DENIED:
			return "TDA_ERR_DENIED";
		case TDA_ERR_NOT_FOUND:
			return "TDA_ERR_NOT_FOUND";
		case TDA_ERR_HTTP:
			return "TDA_ERR_HTTP";
		case TDA_ERR_TOO_LARGE:
			return "TDA_ERR_TOO_LARGE";
		case TDA_ERR_CHECKSUM:
			return "TDA_ERR_CHECKSUM";
		case TDA_ERR_PROTOCOL:
			return "TDA_ERR_PROTOCOL";
	}
	return "TDA_ERR_UNKNOWN";
}

/* The standard message of a status (tda_error_set passes it). */
const char *
tda_status_message(tda_status status)
{
	switch (status)
	{
		case TDA_OK:
			return "";
		case TDA_ERR_NOMEM:
			return "out of memory";
		case TDA_ERR_URI:
			return "invalid model URI";
		case TDA_ERR_CONFIG:
			return "model fetching is not configured";
		case TDA_ERR_UNREACHABLE:
			return "could not connect to the model store";
		case TDA_ERR_TIMEOUT:
			return "model fetch timed out";
		case TDA_ERR_CANCELLED:
			return "model fetch was cancelled";
		case TDA_ERR_DENIED:
			return "access to the model store was denied";
		case TDA_ERR_NOT_FOUND:
			return "model not found";
		case TDA_ERR_HTTP:
			return "unexpected HTTP status from the model store";
		case TDA_ERR_TOO_LARGE:
			return "model bundle is too large";
		case TDA_ERR_CHECKSUM:
			return "model bundle checksum mismatch";
		case TDA_ERR_PROTOCOL:
			return "unexpected response from the model store";
	}
	return "unknown error";
}

tda_status
tda_error_nomem(tda_error *err)
{
	return tda_error_set(err, TDA_ERR_NOMEM,
						 "An allocation made while fetching the model failed.");
}

/*
 * tda_echo: untrusted text in an error detail, with the user info of any
 * URL in it dropped, escaped by tdc_escape and cut after TDA_ECHO_MAX bytes
 * (plus "...").  Returns buf.
 */
const char *
tda_echo(const char *s, char *buf, size_t bufsize)
{
	/* escaping never shortens text: a longer input is cut by tdc_escape too */
	char redacted[4 * TDA_ECHO_MAX + 16];

	tdc_redact_userinfo(s, redacted, sizeof(redacted));
	return tdc_escape(redacted, buf, bufsize < TDA_ECHO_MAX + 4 ? bufsize : TDA_ECHO_MAX + 4);
}

tda_status
tda_error_echo(tda_error *err, tda_status status, const char *what, const char *text,
			   const char *why)
{
	char echo[TDA_ECHO_MAX + 4];

	return tda_error_set(err, status, "The %s \"%s\" %s.", what,
						 tda_echo(text, echo, sizeof(echo)), why);
}

/*
 * Echo a URL with any "user:password@" of its authority and everything
 * from the query on removed, so that a detail never carries credentials.
 */
const char *
tda_redact_url(const char *url, char *buf, size_t bufsize)
{
	char		plain[TDA_URI_MAX + 1];
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
	return tda_echo(plain, buf, bufsize);
}
