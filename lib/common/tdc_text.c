/*
 * tdc_text.c — making untrusted text safe to show: tdc_echo (short, plain
 * ASCII, for a bundle's or a trip's text in an error detail), tdc_escape
 * (JSON-string escaping, pure ASCII out, bounded, for log lines) and
 * tdc_redact_userinfo (credentials in a URL's authority removed).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tdc.h"

const char *
tdc_echo(const char *s, char *buf, size_t bufsize)
{
	size_t i;
	size_t limit;

	if (bufsize == 0)
		return "";
	if (s == NULL)
		s = "";
	limit = bufsize - 4 < TDC_ECHO_MAX ? bufsize - 4 : TDC_ECHO_MAX;
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
tdc_redact_userinfo(const char *s, char *buf, size_t bufsize)
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

size_t
tdc_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char c;
	unsigned char lo = 0x80;
	unsigned char hi = 0xbf;
	size_t		  k;
	size_t		  i;

	if (n == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
	{
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
	{
		k = 2;
		*cp = c & 0x1f;
	}
	else if (c >= 0xe0 && c <= 0xef)
	{
		k = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	}
	else if (c >= 0xf0 && c <= 0xf4)
	{
		k = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	}
	else
		return 0;
	for (i = 1; i < k; i++)
	{
		/* a NUL terminator fails this test, so nothing past it is read */
		if (i >= n || p[i] < lo || p[i] > hi)
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	return k;
}

size_t
tdc_utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80)
	{
		out[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		out[0] = (char) (0xc0 | (cp >> 6));
		out[1] = (char) (0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000)
	{
		out[0] = (char) (0xe0 | (cp >> 12));
		out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char) (0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char) (0xf0 | (cp >> 18));
	out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char) (0x80 | (cp & 0x3f));
	return 4;
}

/* Room for the longest escaped character, a surrogate pair: 12 bytes + NUL. */
#define PIECE_MAX 16

/*
 * One input character of tdc_escape: write its escaped form (at most 12
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
	n = tdc_utf8_decode(p, 4, &cp);
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
 * tdc_escape: see tdc.h.  The output is cut at a character boundary,
 * never inside an escape sequence, and "..." marks the cut.
 */
const char *
tdc_escape(const char *s, char *buf, size_t bufsize)
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
