/*
 * allocator.c — the libraries' allocation hooks, pointed at palloc.
 *
 * The model, statistics and AWS libraries (and cJSON through them)
 * allocate with palloc in the caller's CurrentMemoryContext, asking for
 * NULL instead of an ERROR on failure so that library code never longjmps
 * with half-built state.  Callers pick the lifetime by switching memory
 * context around library calls.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "glue/glue.h"

static void *
td_pg_malloc(size_t size)
{
	return palloc_extended(size == 0 ? 1 : size,
						   MCXT_ALLOC_NO_OOM | MCXT_ALLOC_HUGE);
}

/* pfree, ignoring NULL as free() does */
static void
td_pg_free(void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

void
TdLibrariesInit(void)
{
	tdc_allocator allocator;

	allocator.malloc_fn = td_pg_malloc;
	allocator.realloc_fn = NULL; /* buffers grow by palloc + copy + pfree */
	allocator.free_fn = td_pg_free;
	tdc_set_allocator(&allocator);
}
