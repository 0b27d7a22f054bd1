/*
 * taxi_duration.c — module entry point.
 *
 * _PG_init only fans out.  It is safe however the library is loaded: as a
 * preloaded library (settings, the ALTER SYSTEM check, shared memory, the
 * loader worker), by CREATE EXTENSION or a first function call in a server
 * that did not preload it (settings and the ALTER SYSTEM check only; the
 * functions then explain what to configure), or later
 * as a logical-decoding output plugin.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "glue/glue.h"
#include "serving/serving.h"

PG_MODULE_MAGIC;

void _PG_init(void);

void
_PG_init(void)
{
	TdLibrariesInit();
	TdGucInit();
	TdStatementModelGucInit();
	TdAccessInit();

	if (!process_shared_preload_libraries_in_progress)
		return;

	TdShmemInit();
	TdStatementModelInit();
	TdLoaderWorkerRegister();
}
