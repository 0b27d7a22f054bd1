/*
 * model_fetch.c — reading a bundle's bytes from a model URI.
 *
 * Schemes: file:///absolute/path, read here; s3://bucket/key and
 * models:/name@alias or models:/name/version, fetched by the AWS library
 * (lib/aws/: libcurl with SigV4, MLflow's REST API) configured from
 * the taxi_duration.aws_* / mlflow_* settings, falling back to the server's
 * standard environment variables.  Every fetch enforces a size limit before
 * reading more than that and a timeout, and stops on query cancel or
 * statement_timeout, so a slow file system or network cannot hang a backend.
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"

#include "serving/serving.h"
#include "tda_aws.h"

#define TD_READ_CHUNK (1024 * 1024)

/* What kind of file a mode describes, for an error detail. */
static const char *
td_file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "directory";
	if (S_ISFIFO(mode))
		return "FIFO";
	if (S_ISSOCK(mode))
		return "socket";
	if (S_ISCHR(mode))
		return "character device";
	if (S_ISBLK(mode))
		return "block device";
	return "special file";
}

/* Close `fd` and raise the error of a failed file operation (errno kept). */
pg_noreturn static void td_file_error(int fd, const char *what, const char *path);

static void
td_file_error(int fd, const char *what, const char *path)
{
	int saved_errno = errno;

	if (fd >= 0)
		CloseTransientFile(fd);
	errno = saved_errno;
	ereport(ERROR,
			errcode_for_file_access(),
			errmsg("could not %s model bundle: %m", what),
			errdetail("The bundle's path is \"%s\".", path));
}

/*
 * Open a bundle for reading and check that it is a regular file no larger
 * than max_bytes; returns the descriptor, and its size in *size.  The open
 * does not block: a FIFO (or a device) would otherwise wait in open() for a
 * writer, uninterruptibly, and it is refused right after.
 */
static int
td_open_bundle_file(const char *path, Size max_bytes, Size *size)
{
	int			fd;
	int			flags;
	struct stat st;

	fd = OpenTransientFile(path, O_RDONLY | O_NONBLOCK | PG_BINARY);
	if (fd < 0)
		td_file_error(-1, "open", path);
	if (fstat(fd, &st) < 0)
		td_file_error(fd, "stat", path);
	if (!S_ISREG(st.st_mode))
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("model bundle is not a regular file"),
				errdetail("\"%s\" is a %s.", path, td_file_kind(st.st_mode)),
				errhint("A file:// model URI must name a regular file."));
	}
	if ((Size) st.st_size > max_bytes)
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("model bundle is too large"),
				errdetail("The bundle has %lld bytes; taxi_duration.max_bundle_size allows %zu.",
						  (long long) st.st_size, max_bytes),
				errhint("Raise taxi_duration.max_bundle_size if the bundle is genuine."));
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		td_file_error(fd, "read", path);
	*size = (Size) st.st_size;
	return fd;
}

/*
 * Read a local file into palloc'd memory, at most max_bytes.  Messages never
 * name the path (ordinary roles may see them); details do.
 */
static char *
td_fetch_file(const char *path, Size max_bytes, Size *len)
{
	int	  fd;
	Size  size;
	char *buffer;
	Size  used = 0;

	if (path[0] != '/')
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("file model URI must name an absolute path"),
				errhint("Write file:///absolute/path/bundle.json."));

	fd = td_open_bundle_file(path, max_bytes, &size);
	buffer = palloc_extended(size + 1, MCXT_ALLOC_HUGE);
	for (;;)
	{
		ssize_t got;
		Size	want;

		CHECK_FOR_INTERRUPTS();
		want = Min((Size) TD_READ_CHUNK, size - used);
		if (want == 0)
			break;
		got = read(fd, buffer + used, want);
		if (got < 0)
			td_file_error(fd, "read", path);
		if (got == 0)
			break; /* the file shrank under us */
		used += got;
	}
	CloseTransientFile(fd);
	buffer[used] = '\0';
	*len = used;
	return buffer;
}

/* Abort a download when the statement is cancelled or the backend told to exit. */
static int
td_fetch_cancel(void *arg)
{
	return (QueryCancelPending || ProcDiePending) ? 1 : 0;
}

/*
 * Settings first, then the server's standard environment variables; keys
 * from the credentials file when one is configured (it then wins over the
 * environment's), read into `credentials`, which the caller wipes.
 */
static void
td_fetch_config(tda_config *config, Size max_bytes, TdAwsCredentials *credentials)
{
	memset(config, 0, sizeof(*config));
	memset(credentials, 0, sizeof(*credentials));
	tda_config_from_env(config);
	if (td_aws_region != NULL && td_aws_region[0] != '\0')
		config->aws_region = td_aws_region;
	if (td_aws_endpoint_url != NULL && td_aws_endpoint_url[0] != '\0')
		config->aws_endpoint_url = td_aws_endpoint_url;
	if (td_mlflow_tracking_uri != NULL && td_mlflow_tracking_uri[0] != '\0')
		config->mlflow_tracking_uri = td_mlflow_tracking_uri;
	if (td_aws_shared_credentials_file != NULL && td_aws_shared_credentials_file[0] != '\0')
	{
		const char *profile = td_aws_profile;

		if (profile == NULL || profile[0] == '\0')
			profile = getenv("AWS_PROFILE");
		TdReadAwsCredentials(td_aws_shared_credentials_file, profile, credentials);
		config->aws_access_key_id = credentials->access_key_id;
		config->aws_secret_access_key = credentials->secret_access_key;
		config->aws_session_token = credentials->session_token[0] ? credentials->session_token : NULL;
	}
	config->connect_timeout_ms = Min(5000L, td_fetch_timeout_seconds * 1000L);
	config->timeout_ms = td_fetch_timeout_seconds * 1000L;
	config->max_bytes = max_bytes;
	config->cancel = td_fetch_cancel;
	config->cancel_arg = NULL;
}

/* SQLSTATE for a fetch failure. */
static int
td_fetch_errcode(tda_status status)
{
	switch (status)
	{
		case TDA_ERR_NOMEM:
			return ERRCODE_OUT_OF_MEMORY;
		case TDA_ERR_URI:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case TDA_ERR_CONFIG:
			return ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
		case TDA_ERR_CANCELLED:
			return ERRCODE_QUERY_CANCELED;
		case TDA_ERR_DENIED:
			return ERRCODE_INSUFFICIENT_PRIVILEGE;
		case TDA_ERR_NOT_FOUND:
			return ERRCODE_UNDEFINED_OBJECT;
		case TDA_ERR_TOO_LARGE:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case TDA_ERR_CHECKSUM:
			return ERRCODE_DATA_CORRUPTED;
		case TDA_ERR_UNREACHABLE:
		case TDA_ERR_TIMEOUT:
		case TDA_ERR_HTTP:
		case TDA_ERR_PROTOCOL:
		case TDA_OK:
			break;
	}
	return ERRCODE_CONNECTION_FAILURE;
}

/* Raise a fetch failure; a cancelled download reports the cancel itself. */
static void
td_report_fetch_error(const tda_error *error)
{
	if (error->status == TDA_ERR_CANCELLED)
		CHECK_FOR_INTERRUPTS();
	ereport(ERROR,
			errcode(td_fetch_errcode(error->status)),
			errmsg("%s", error->message[0] ? error->message : tda_status_name(error->status)),
			error->detail[0] ? errdetail("%s", error->detail) : 0,
			error->status == TDA_ERR_CONFIG ?
				errhint("Set taxi_duration.aws_region, taxi_duration.mlflow_tracking_uri and the like, or the server's AWS_* and MLFLOW_* environment variables.") :
				errhint("The model that was being served is still served."));
}

/*
 * Fetch the bytes of the bundle at `uri` into palloc'd memory (NUL
 * terminated; out->len excludes the NUL).  ERROR on any failure.
 */
void
TdFetchBundle(const char *uri, Size max_bytes, TdFetchedBundle *out)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(uri, "file://", 7) == 0)
	{
		const char *path = uri + 7;

		if (strncmp(path, "localhost/", 10) == 0)
			path += 9;
		out->data = td_fetch_file(path, max_bytes, &out->len);
		return;
	}
	if (strncmp(uri, "s3://", 5) == 0 || strncmp(uri, "models:/", 8) == 0)
	{
		tda_config		 config;
		tda_result		 result;
		tda_error		 error;
		tda_status		 status;
		TdAwsCredentials credentials;

		td_fetch_config(&config, max_bytes, &credentials);
		status = tda_fetch(&config, uri, &result, &error);
		TdForgetAwsCredentials(&credentials);
		if (status != TDA_OK)
			td_report_fetch_error(&error);
		/* keep a copy the caller owns, then free the library's result */
		out->data = palloc_extended(result.len + 1, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
		if (out->data != NULL)
		{
			memcpy(out->data, result.data, result.len);
			out->data[result.len] = '\0';
			out->len = result.len;
		}
		strlcpy(out->resolved_uri, result.resolved_uri, sizeof(out->resolved_uri));
		strlcpy(out->registry_version, result.model_version, sizeof(out->registry_version));
		tda_result_free(&result);
		if (out->data == NULL)
			ereport(ERROR,
					errcode(ERRCODE_OUT_OF_MEMORY),
					errmsg("out of memory"),
					errdetail("Failed to keep a downloaded model bundle of %zu bytes.", out->len));
		CHECK_FOR_INTERRUPTS();
		return;
	}
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("invalid model URI"),
			errdetail("A model URI starts with file://, s3:// or models:/."));
}

/*
 * Where a models:/ URI points now: the sha256 and registry version of the
 * bundle it names, without downloading it.  Returns false and fills
 * `message` and `detail` (each message_len bytes) on failure (no ERROR:
 * the loader worker polls with it).
 */
bool
TdResolveModel(const char *uri, char *sha256, Size sha256_len,
			   char *version, Size version_len, char *message, char *detail,
			   Size message_len)
{
	tda_config		 config;
	tda_result		 result;
	tda_error		 error;
	TdAwsCredentials credentials;
	tda_status		 status;
	MemoryContext	 caller_context = CurrentMemoryContext;

	/* the worker polls with this: a broken credentials file is a message */
	PG_TRY();
	{
		td_fetch_config(&config, (Size) td_max_bundle_size_kb * 1024, &credentials);
	}
	PG_CATCH();
	{
		ErrorData *edata;

		MemoryContextSwitchTo(caller_context);
		edata = CopyErrorData();
		FlushErrorState();
		snprintf(message, message_len, "%s", edata->message);
		snprintf(detail, message_len, "%s", edata->detail ? edata->detail : "");
		FreeErrorData(edata);
		return false;
	}
	PG_END_TRY();
	status = tda_resolve_model(&config, uri, &result, &error);
	TdForgetAwsCredentials(&credentials);
	if (status != TDA_OK)
	{
		snprintf(message, message_len, "%s", error.message);
		snprintf(detail, message_len, "%s", error.detail);
		return false;
	}
	strlcpy(sha256, result.sha256, sha256_len);
	strlcpy(version, result.model_version, version_len);
	tda_result_free(&result);
	return true;
}

/* file:// URI of the default bundle installed with the extension. */
char *
TdDefaultBundleUri(void)
{
	char share_path[MAXPGPATH];

	get_share_path(my_exec_path, share_path);
	return psprintf("file://%s/extension/taxi_duration/default_bundle.json",
					share_path);
}
