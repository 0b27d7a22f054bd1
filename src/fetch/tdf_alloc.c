/*
 * tdf_alloc.c — the fetch library's allocation hooks and its growable
 * byte buffer.
 *
 * Every allocation the library makes itself (bodies, URLs, copies) goes
 * through one process-wide set of hooks; the extension points them at its
 * own allocator, the Lambda leaves malloc/free.  libcurl's and cJSON's
 * internal allocations are theirs: both free everything before the
 * library returns, and the cJSON hooks are left to whoever installed them
 * (the model core installs its own).
 */
#include <stdlib.h>
#include <string.h>

#include "tdf_internal.h"

static void *(*tdf_malloc_hook)(size_t size) = malloc;
static void *(*tdf_realloc_hook)(void *ptr, size_t size) = realloc;
static void (*tdf_free_hook)(void *ptr) = free;

void
tdf_set_allocator(const tdf_allocator *allocator)
{
	if (allocator == NULL || allocator->malloc_fn == NULL ||
		allocator->free_fn == NULL)
	{
		/* Either essential hook missing: the C library for all three. */
		tdf_malloc_hook = malloc;
		tdf_realloc_hook = realloc;
		tdf_free_hook = free;
	}
	else
	{
		tdf_malloc_hook = allocator->malloc_fn;
		/* Without a realloc hook, buffers grow by malloc + copy + free. */
		tdf_realloc_hook = allocator->realloc_fn;
		tdf_free_hook = allocator->free_fn;
	}
}

void *
tdf_malloc(size_t size)
{
	return tdf_malloc_hook(size == 0 ? 1 : size);
}

void
tdf_free(void *ptr)
{
	if (ptr != NULL)
		tdf_free_hook(ptr);
}

char *
tdf_strdup(const char *s)
{
	size_t len = strlen(s);
	char  *copy = tdf_malloc(len + 1);

	if (copy != NULL)
		memcpy(copy, s, len + 1);
	return copy;
}

/* Make room for `extra` more bytes plus a NUL; false on overflow or OOM. */
static bool
buf_reserve(tdf_buf *buf, size_t extra)
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
	if (buf->data == NULL)
		p = tdf_malloc(cap);
	else if (tdf_realloc_hook != NULL)
		p = tdf_realloc_hook(buf->data, cap);
	else
	{
		p = tdf_malloc(cap);
		if (p != NULL)
		{
			memcpy(p, buf->data, buf->len + 1);
			tdf_free(buf->data);
		}
	}
	if (p == NULL)
		return false;
	buf->data = p;
	buf->cap = cap;
	return true;
}

bool
tdf_buf_append(tdf_buf *buf, const void *bytes, size_t len)
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
tdf_buf_append_str(tdf_buf *buf, const char *s)
{
	return tdf_buf_append(buf, s, strlen(s));
}

/* Append s percent-encoded for a query parameter (RFC 3986 unreserved kept). */
bool
tdf_buf_append_urlenc(tdf_buf *buf, const char *s)
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
			if (!tdf_buf_append(buf, p, 1))
				return false;
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[*p >> 4];
		enc[2] = hex[*p & 0x0f];
		if (!tdf_buf_append(buf, enc, 3))
			return false;
	}
	/* An empty string still leaves a valid (empty) buffer behind. */
	return tdf_buf_append(buf, "", 0);
}

void
tdf_buf_free(tdf_buf *buf)
{
	tdf_free(buf->data);
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}
