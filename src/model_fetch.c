/*
 * model_fetch.c — reading a bundle's bytes from a model URI.
 *
 * Schemes: file:///absolute/path (now); s3://bucket/key and models:/name@alias
 * or models:/name/version are recognised and will be fetched by the
 * lifecycle code (libcurl); until then they fail with a clear error.  Every
 * fetch enforces a size limit before reading more than that, and checks for
 * query cancel between chunks so a slow file system cannot hang a backend.
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"

#include "taxi_duration.h"

#define TD_READ_CHUNK (1024 * 1024)

/* Read a local file into palloc'd memory, at most max_bytes. */
static char *
td_fetch_file(const char *path, Size max_bytes, Size *len)
{
	int			fd;
	struct stat st;
	char	   *buffer;
	Size		used = 0;

	if (path[0] != '/')
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("file model URI must name an absolute path"),
				errhint("Write file:///absolute/path/bundle.json."));

	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				errcode_for_file_access(),
				errmsg("could not open model bundle \"%s\": %m", path));
	if (fstat(fd, &st) < 0)
		ereport(ERROR,
				errcode_for_file_access(),
				errmsg("could not stat model bundle \"%s\": %m", path));
	if (!S_ISREG(st.st_mode))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("model bundle \"%s\" is not a regular file", path));
	if ((Size) st.st_size > max_bytes)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("model bundle is too large"),
				errdetail("The bundle has %lld bytes; taxi_duration.max_bundle_size allows %zu.",
						  (long long) st.st_size, max_bytes),
				errhint("Raise taxi_duration.max_bundle_size if the bundle is genuine."));

	buffer = palloc_extended((Size) st.st_size + 1, MCXT_ALLOC_HUGE);
	for (;;)
	{
		ssize_t		got;
		Size		want;

		CHECK_FOR_INTERRUPTS();
		want = Min((Size) TD_READ_CHUNK, (Size) st.st_size - used);
		if (want == 0)
			break;
		got = read(fd, buffer + used, want);
		if (got < 0)
			ereport(ERROR,
					errcode_for_file_access(),
					errmsg("could not read model bundle \"%s\": %m", path));
		if (got == 0)
			break;				/* the file shrank under us */
		used += got;
	}
	CloseTransientFile(fd);
	buffer[used] = '\0';
	*len = used;
	return buffer;
}

/*
 * Fetch the bytes of the bundle at `uri` into palloc'd memory (NUL
 * terminated; *len excludes the NUL).  ERROR on any failure.
 */
char *
TdFetchBundle(const char *uri, Size max_bytes, Size *len)
{
	if (strncmp(uri, "file://", 7) == 0)
	{
		const char *path = uri + 7;

		if (strncmp(path, "localhost/", 10) == 0)
			path += 9;
		return td_fetch_file(path, max_bytes, len);
	}
	if (strncmp(uri, "s3://", 5) == 0 || strncmp(uri, "models:/", 8) == 0)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("model URI scheme \"%.*s\" is not supported yet",
					   (int) (strchr(uri, ':') - uri), uri),
				errhint("Load a local bundle with a file:// URI."));
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("invalid model URI"),
			errdetail("A model URI starts with file://, s3:// or models:/."));
	return NULL;				/* keep the compiler quiet */
}

/* file:// URI of the default bundle installed with the extension. */
char *
TdDefaultBundleUri(void)
{
	char		share_path[MAXPGPATH];

	get_share_path(my_exec_path, share_path);
	return psprintf("file://%s/extension/taxi_duration/default_bundle.json",
					share_path);
}
