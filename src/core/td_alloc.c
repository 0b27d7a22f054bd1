/*
 * td_alloc.c — the core's allocation hooks.
 *
 * Every allocation of the core, and (through cJSON_InitHooks) of cJSON,
 * goes through one process-wide pair of functions.  The extension points
 * them at palloc/pfree in a memory context, the Lambda leaves malloc/free.
 *
 * cJSON is always given the wrappers below rather than the hooks
 * themselves, so that a failed allocation inside cJSON_Parse (which cJSON
 * reports only as "parse failed") can be told apart from bad JSON: the
 * wrappers count failures.  The counter is a plain static; the core is used
 * from single-threaded processes (PostgreSQL backends, the Lambda loop).
 */
#include <stdlib.h>
#include <string.h>

#include "td_internal.h"

static void *(*td_malloc_hook)(size_t size) = malloc;
static void (*td_free_hook)(void *ptr) = free;
static unsigned long td_failures = 0;
static bool			 td_hooks_installed = false;

static void *
td_cjson_malloc(size_t size)
{
	return td_malloc(size);
}

static void
td_cjson_free(void *ptr)
{
	td_free(ptr);
}

/* Make sure cJSON allocates through td_malloc (idempotent, cheap). */
void
td_install_cjson_hooks(void)
{
	cJSON_Hooks hooks;

	if (td_hooks_installed)
		return;
	hooks.malloc_fn = td_cjson_malloc;
	hooks.free_fn = td_cjson_free;
	cJSON_InitHooks(&hooks);
	td_hooks_installed = true;
}

void
td_set_allocator(const td_allocator *allocator)
{
	if (allocator == NULL || allocator->malloc_fn == NULL ||
		allocator->free_fn == NULL)
	{
		/* Either hook missing: fall back to the C library for both. */
		td_malloc_hook = malloc;
		td_free_hook = free;
	}
	else
	{
		td_malloc_hook = allocator->malloc_fn;
		td_free_hook = allocator->free_fn;
	}
	td_hooks_installed = false;
	td_install_cjson_hooks();
}

void *
td_malloc(size_t size)
{
	void *p = td_malloc_hook(size == 0 ? 1 : size);

	if (p == NULL)
		td_failures++;
	return p;
}

void
td_free(void *ptr)
{
	if (ptr != NULL)
		td_free_hook(ptr);
}

/* Number of failed allocations so far (wraps; compare for change only). */
unsigned long
td_alloc_failures(void)
{
	return td_failures;
}

/* Zeroed array of count elements; NULL on overflow or allocation failure. */
void *
td_calloc_array(size_t count, size_t size)
{
	void  *p;
	size_t bytes;

	if (size != 0 && count > ((size_t) -1) / size)
		return NULL;
	bytes = count * size;
	p = td_malloc(bytes);
	if (p != NULL)
		memset(p, 0, bytes == 0 ? 1 : bytes);
	return p;
}
