/*
 * tdc_buf.c — a growable byte buffer, always NUL-terminated, allocated
 * through the common hooks (request and response bodies, JSON built by
 * hand, log lines).
 */
#include <stdio.h>
#include <string.h>

#include "tdc.h"

/* Make room for `extra` more bytes plus a NUL; false on overflow or OOM. */
static bool
buf_reserve(tdc_buf *buf, size_t extra)
{
	size_t need;
	size_t cap;
	char  *p;

	if (extra > (size_t) -1 - buf->len - 1)
		return false;
	need = buf->len + extra + 1;
	if (buf->data != NULL && need <= buf->cap)
		return true;
	cap = buf->cap < 256 ? 256 : buf->cap;
	while (cap < need)
		cap = cap > (size_t) -1 / 2 ? need : cap * 2;
	p = tdc_realloc(buf->data, buf->data != NULL ? buf->len + 1 : 0, cap);
	if (p == NULL)
		return false;
	buf->data = p;
	buf->cap = cap;
	return true;
}

bool
tdc_buf_append(tdc_buf *buf, const void *bytes, size_t len)
{
	if (!buf_reserve(buf, len))
		return false;
	if (len > 0)
		memcpy(buf->data + buf->len, bytes, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return true;
}

bool
tdc_buf_append_str(tdc_buf *buf, const char *s)
{
	return tdc_buf_append(buf, s, strlen(s));
}

bool
tdc_buf_printf(tdc_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int		n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(buf, (size_t) n))
		return false;
	va_start(ap, fmt);
	vsnprintf(buf->data + buf->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	buf->len += (size_t) n;
	return true;
}

bool
tdc_buf_append_urlenc(tdc_buf *buf, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *) s; *p != '\0'; p++)
	{
		char enc[3];

		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			(*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
			*p == '.' || *p == '~')
		{
			if (!tdc_buf_append(buf, p, 1))
				return false;
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[*p >> 4];
		enc[2] = hex[*p & 0x0f];
		if (!tdc_buf_append(buf, enc, 3))
			return false;
	}
	/* An empty string still leaves a valid (empty) buffer behind. */
	return tdc_buf_append(buf, "", 0);
}

void
tdc_buf_reset(tdc_buf *buf)
{
	buf->len = 0;
	if (buf->data != NULL)
		buf->data[0] = '\0';
}

void
tdc_buf_free(tdc_buf *buf)
{
	tdc_free(buf->data);
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}
