/*
 * tdc_alloc.c — the process-wide allocation hooks of every library.
 *
 * Every allocation the libraries make, and (through cJSON_InitHooks)
 * cJSON's, goes through one set of functions.  The extension points them
 * at palloc/pfree in a memory context, the Lambda and the forwarder leave
 * malloc/free.
 *
 * cJSON is always given the wrappers below rather than the hooks
 * themselves, so that a failed allocation inside cJSON_Parse (which cJSON
 * reports only as "parse failed") can be told apart from bad JSON: the
 * wrappers count failures (tdc_json_parse), per thread: the forwarder
 * makes Kinesis calls from several threads; the hooks themselves are set
 * before any thread starts (tda_global_init) and only read after.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tdc.h"

static void *(*malloc_hook)(size_t size) = malloc;
static void *(*realloc_hook)(void *ptr, size_t size) = realloc;
static void (*free_hook)(void *ptr) = free;
static _Thread_local unsigned long failures = 0; /* per thread: see tdc_json_parse */
static bool						   cjson_hooks_installed = false;

static void *
cjson_malloc(size_t size)
{
	return tdc_malloc(size);
}

static void
cjson_free(void *ptr)
{
	tdc_free(ptr);
}

void
tdc_install_cjson_hooks(void)
{
	cJSON_Hooks hooks;

	if (cjson_hooks_installed)
		return;
	hooks.malloc_fn = cjson_malloc;
	hooks.free_fn = cjson_free;
	cJSON_InitHooks(&hooks);
	cjson_hooks_installed = true;
}

void
tdc_set_allocator(const tdc_allocator *allocator)
{
	if (allocator == NULL || allocator->malloc_fn == NULL ||
		allocator->free_fn == NULL)
	{
		/* Either essential hook missing: the C library for all three. */
		malloc_hook = malloc;
		realloc_hook = realloc;
		free_hook = free;
	}
	else
	{
		malloc_hook = allocator->malloc_fn;
		realloc_hook = allocator->realloc_fn;
		free_hook = allocator->free_fn;
	}
	cjson_hooks_installed = false;
	tdc_install_cjson_hooks();
}

void *
tdc_malloc(size_t size)
{
	void *p = malloc_hook(size == 0 ? 1 : size);

	if (p == NULL)
		failures++;
	return p;
}

/* Resize a block of old_size bytes (malloc + copy + free without a hook). */
void *
tdc_realloc(void *ptr, size_t old_size, size_t size)
{
	void *p;

	if (ptr == NULL)
		return tdc_malloc(size);
	if (realloc_hook != NULL)
	{
		p = realloc_hook(ptr, size == 0 ? 1 : size);
		if (p == NULL)
			failures++;
		return p;
	}
	p = tdc_malloc(size);
	if (p != NULL)
	{
		memcpy(p, ptr, old_size < size ? old_size : size);
		tdc_free(ptr);
	}
	return p;
}

void
tdc_free(void *ptr)
{
	if (ptr != NULL)
		free_hook(ptr);
}

unsigned long
tdc_alloc_failures(void)
{
	return failures;
}

cJSON *
tdc_json_parse(const char *text, size_t len, const char **end, bool *out_of_memory)
{
	unsigned long before;
	cJSON		 *root;

	tdc_install_cjson_hooks();
	before = failures;
	root = cJSON_ParseWithLengthOpts(text, len, end, 0);
	*out_of_memory = root == NULL && failures != before;
	return root;
}

void *
tdc_calloc_array(size_t count, size_t size)
{
	void  *p;
	size_t bytes;

	if (size != 0 && count > ((size_t) -1) / size)
		return NULL;
	bytes = count * size;
	p = tdc_malloc(bytes);
	if (p != NULL)
		memset(p, 0, bytes == 0 ? 1 : bytes);
	return p;
}
