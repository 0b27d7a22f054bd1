/*
 * tdf_error.c — filling tdf_error: status names, the standard message of
 * each status, printf-style details, and helpers that make untrusted text
 * and URLs safe to echo in a detail or a log line (tdf_escape: JSON-string
 * escaping, pure ASCII out, bounded; credentials in a URL's authority
 * removed).
 */
#include <stdint.h>
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
 * The length (2 to 4) of the well-formed UTF-8 sequence at p, with its code
 * point in *cp; 0 when p does not start one (a stray continuation byte, an
 * overlong form, a surrogate, a value above U+10FFFF, a truncated sequence).
 */
static size_t
utf8_sequence(const unsigned char *p, uint32_t *cp)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80;
	unsigned char hi = 0xbf;
	size_t		  n;
	size_t		  i;

	if (c >= 0xc2 && c <= 0xdf)
	{
		n = 2;
		*cp = c & 0x1f;
	}
	else if (c >= 0xe0 && c <= 0xef)
	{
		n = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	}
	else if (c >= 0xf0 && c <= 0xf4)
	{
		n = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	}
	else
		return 0;
	for (i = 1; i < n; i++)
	{
		/* a NUL terminator fails this test, so nothing past it is read */
		if (p[i] < lo || p[i] > hi)
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

/* Room for the longest escaped character, a surrogate pair: 12 bytes + NUL. */
#define PIECE_MAX 16

/*
 * One input character of tdf_escape: write its escaped form (at most 12
 * bytes) to out[PIECE_MAX] and return how many input bytes it took (1 to 4).
 */
static size_t
escape_one(const unsigned char *p, char *out, size_t *outlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	  c = p[0];
	char			  letter = '\0';
	uint32_t		  cp;
	size_t			  n;

	switch (c)
	{
		case '"':
		case '\\':
			letter = (char) c;
			break;
		case '\n':
			letter = 'n';
			break;
		case '\r':
			letter = 'r';
			break;
		case '\t':
			letter = 't';
			break;
		default:
			break;
	}
	if (letter != '\0')
	{
		out[0] = '\\';
		out[1] = letter;
		*outlen = 2;
		return 1;
	}
	if (c >= 0x20 && c < 0x7f)
	{
		out[0] = (char) c;
		*outlen = 1;
		return 1;
	}
	if (c < 0x80)
	{
		/* other C0 controls and DEL */
		*outlen = (size_t) snprintf(out, PIECE_MAX, "\\u%04x", c);
		return 1;
	}
	n = utf8_sequence(p, &cp);
	if (n == 0)
	{
		/* not part of well-formed UTF-8: the byte itself, as \xHH */
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hex[c >> 4];
		out[3] = hex[c & 0xf];
		*outlen = 4;
		return 1;
	}
	if (cp < 0x10000)
		*outlen = (size_t) snprintf(out, PIECE_MAX, "\\u%04x", (unsigned) cp);
	else
	{
		cp -= 0x10000;
		*outlen = (size_t) snprintf(out, PIECE_MAX, "\\u%04x\\u%04x",
									(unsigned) (0xd800 + (cp >> 10)),
									(unsigned) (0xdc00 + (cp & 0x3ff)));
	}
	return n;
}

/*
 * tdf_escape: see tdf_fetch.h.  The output is cut at a character boundary,
 * never inside an escape sequence, and "..." marks the cut.
 */
const char *
tdf_escape(const char *s, char *buf, size_t bufsize)
{
	const unsigned char *p;
	size_t				 cap;
	size_t				 len = 0;
	size_t				 mark = 0; /* a cut here leaves room for "..." */

	if (buf == NULL || bufsize == 0)
		return "";
	if (s == NULL)
		s = "";
	cap = bufsize - 1;
	for (p = (const unsigned char *) s; *p != '\0';)
	{
		char   piece[PIECE_MAX];
		size_t plen;
		size_t used = escape_one(p, piece, &plen);

		if (len + plen > cap)
		{
			if (cap >= 3)
			{
				memcpy(buf + mark, "...", 3);
				len = mark + 3;
			}
			break;
		}
		memcpy(buf + len, piece, plen);
		len += plen;
		if (len + 3 <= cap)
			mark = len;
		p += used;
	}
	buf[len] = '\0';
	return buf;
}

/*
 * tdf_echo: untrusted text in an error detail, with the user info of any
 * URL in it dropped, escaped by tdf_escape and cut after TDF_ECHO_MAX bytes
 * (plus "...").  Returns buf.
 */
const char *
tdf_echo(const char *s, char *buf, size_t bufsize)
{
	/* escaping never shortens text: a longer input is cut by tdf_escape too */
	char redacted[4 * TDF_ECHO_MAX + 16];

	tdf_redact_userinfo(s, redacted, sizeof(redacted));
	return tdf_escape(redacted, buf, bufsize < TDF_ECHO_MAX + 4 ? bufsize : TDF_ECHO_MAX + 4);
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
