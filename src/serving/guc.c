/*
 * guc.c — the extension's settings.
 *
 *   taxi_duration.model_uri          what to serve when no model was loaded
 *                                    explicitly; '' means the default bundle
 *                                    installed with the extension (SIGHUP:
 *                                    one value for the whole cluster; the
 *                                    loader worker follows changes live)
 *   taxi_duration.max_bundle_size    largest bundle accepted, in kB (SUSET)
 *   taxi_duration.load_retry_interval seconds between automatic retries of
 *                                    a failed default-model load (SUSET)
 *   taxi_duration.poll_interval      seconds between checks of a models:/
 *                                    alias by the loader worker (SIGHUP)
 *   taxi_duration.fetch_timeout      seconds a whole download may take
 *   taxi_duration.database           database the loader worker connects to,
 *                                    to record loads in model_loads (POSTMASTER)
 *   taxi_duration.aws_region, aws_endpoint_url, mlflow_tracking_uri
 *                                    where s3:// and models:/ URIs are
 *                                    fetched from (SIGHUP); unset, the
 *                                    server's AWS_REGION, AWS_ENDPOINT_URL,
 *                                    MLFLOW_TRACKING_URI
 *   taxi_duration.debug_delay_before_publish, debug_delay_while_publishing
 *                                    for tests only (hidden, SUSET): sleep
 *                                    that many ms just before a load's
 *                                    publish step (cancellable) or inside
 *                                    it (interrupts held), to make the
 *                                    cancel races of docs/serving.md
 *                                    deterministic
 *   taxi_duration.aws_shared_credentials_file, aws_profile
 *                                    an AWS shared credentials file (and
 *                                    profile) holding the keys; unset, the
 *                                    server's AWS_ACCESS_KEY_ID,
 *                                    AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
 *
 * No secret is ever a setting's value: PostgreSQL logs every value a
 * configuration reload changes ("parameter ... changed to ..."), so a key
 * set with ALTER SYSTEM would land in the server log.  Secrets come from
 * the server's environment or from a file only its OS user can read; the
 * file's path and the MLflow tracking URI are GUC_SUPERUSER_ONLY (visible
 * to superusers and pg_read_all_settings only), and URLs with credentials
 * in them (http://user:password@host) are refused, by check hooks whose
 * messages never echo the value.
 *
 * Who may change them: superusers, and (PostgreSQL 15+) the role
 * taxi_duration_admin, to which the extension script grants ALTER SYSTEM on
 * taxi_duration.model_uri.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "serving/serving.h"

char *td_model_uri = NULL;
int	  td_max_bundle_size_kb = 64 * 1024;
int	  td_load_retry_seconds = 10;
int	  td_poll_interval_seconds = 30;
int	  td_fetch_timeout_seconds = 60;
char *td_database = NULL;
char *td_aws_region = NULL;
char *td_aws_endpoint_url = NULL;
char *td_aws_shared_credentials_file = NULL;
char *td_aws_profile = NULL;
char *td_mlflow_tracking_uri = NULL;
int	  td_debug_delay_before_publish_ms = 0;
int	  td_debug_delay_while_publishing_ms = 0;

/* A string setting read from postgresql.conf or ALTER SYSTEM. */
static void
td_define_string(const char *name, const char *short_desc, char **var,
				 int flags, GucStringCheckHook check_hook)
{
	DefineCustomStringVariable(name, short_desc, NULL, var, "", PGC_SIGHUP,
							   flags, check_hook, NULL, NULL);
}

/* Does a URL carry user info (user:password@)?  The redaction's rule decides. */
bool
TdUrlHasUserinfo(const char *url)
{
	char *redacted = TdRedactUri(url);
	bool  has = strcmp(redacted, url) != 0;

	pfree(redacted);
	return has;
}

/*
 * Refuse a URL with credentials in it, without echoing it: PostgreSQL's
 * default message would quote the value.
 */
static bool
td_check_no_credentials(const char *name, const char *value, const char *hint)
{
	if (value == NULL || !TdUrlHasUserinfo(value))
		return true;
	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errmsg("%s must not contain credentials", name);
	GUC_check_errdetail("The value has user information (user:password@host) in it; "
						"setting values are shown to other roles and written to the server log.");
	GUC_check_errhint("%s", hint);
	return false;
}

/* taxi_duration.mlflow_tracking_uri: no user:password@ in it. */
static bool
check_mlflow_tracking_uri(char **newval, void **extra, GucSource source)
{
	return td_check_no_credentials("taxi_duration.mlflow_tracking_uri", *newval,
								   "Give the server an MLFLOW_TRACKING_TOKEN environment variable instead.");
}

/* taxi_duration.aws_endpoint_url: no user:password@ in it. */
static bool
check_aws_endpoint_url(char **newval, void **extra, GucSource source)
{
	return td_check_no_credentials("taxi_duration.aws_endpoint_url", *newval,
								   "S3 requests are signed with the keys from the environment or taxi_duration.aws_shared_credentials_file.");
}

/* Reject URIs whose scheme no loader understands, before they are set. */
static bool
check_model_uri(char **newval, void **extra, GucSource source)
{
	const char *uri = *newval;

	if (uri == NULL || uri[0] == '\0')
		return true;
	if (!td_check_no_credentials("taxi_duration.model_uri", uri,
								 "Credentials come from the server's environment or taxi_duration.aws_shared_credentials_file."))
		return false;
	if (strncmp(uri, "file://", 7) == 0 || strncmp(uri, "s3://", 5) == 0 ||
		strncmp(uri, "models:/", 8) == 0)
		return true;
	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errmsg("invalid value for taxi_duration.model_uri");
	GUC_check_errdetail("A model URI starts with file://, s3:// or models:/.");
	return false;
}

/* Define the settings; called from _PG_init in every process. */
void
TdGucInit(void)
{
	DefineCustomStringVariable("taxi_duration.model_uri",
							   gettext_noop("URI of the model bundle served when none was loaded explicitly."),
							   gettext_noop("Empty means the default bundle installed with the extension. "
											"Schemes: file://, s3://bucket/key, models:/name@alias, models:/name/version."),
							   &td_model_uri,
							   "",
							   PGC_SIGHUP,
							   0,
							   check_model_uri, NULL, NULL);

	DefineCustomIntVariable("taxi_duration.max_bundle_size",
							gettext_noop("Largest model bundle accepted."),
							NULL,
							&td_max_bundle_size_kb,
							64 * 1024, 1, 1024 * 1024,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taxi_duration.load_retry_interval",
							gettext_noop("Seconds to wait before retrying a failed automatic model load."),
							NULL,
							&td_load_retry_seconds,
							10, 0, 3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taxi_duration.poll_interval",
							gettext_noop("Seconds between checks of a models:/ alias named by taxi_duration.model_uri."),
							gettext_noop("0 turns polling off."),
							&td_poll_interval_seconds,
							30, 0, 86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taxi_duration.fetch_timeout",
							gettext_noop("Seconds a model download from S3 or MLflow may take."),
							NULL,
							&td_fetch_timeout_seconds,
							60, 1, 3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	td_define_string("taxi_duration.aws_region",
					 gettext_noop("AWS region of the model bucket (else AWS_REGION)."),
					 &td_aws_region, 0, NULL);
	td_define_string("taxi_duration.aws_endpoint_url",
					 gettext_noop("S3 endpoint override, e.g. LocalStack or moto (else AWS_ENDPOINT_URL)."),
					 &td_aws_endpoint_url, 0, check_aws_endpoint_url);
	td_define_string("taxi_duration.aws_shared_credentials_file",
					 gettext_noop("AWS shared credentials file holding the model bucket's keys (else the AWS_* environment variables)."),
					 &td_aws_shared_credentials_file, GUC_SUPERUSER_ONLY, NULL);
	td_define_string("taxi_duration.aws_profile",
					 gettext_noop("Profile to read from the credentials file (else AWS_PROFILE, else default)."),
					 &td_aws_profile, 0, NULL);
	td_define_string("taxi_duration.mlflow_tracking_uri",
					 gettext_noop("MLflow tracking server resolving models:/ URIs (else MLFLOW_TRACKING_URI)."),
					 &td_mlflow_tracking_uri, GUC_SUPERUSER_ONLY,
					 check_mlflow_tracking_uri);

	/* for tests of the load/cancel rule (docs/serving.md): hidden */
	DefineCustomIntVariable("taxi_duration.debug_delay_before_publish",
							gettext_noop("For tests: milliseconds a model load waits, cancellably, just before publishing."),
							NULL,
							&td_debug_delay_before_publish_ms,
							0, 0, 60 * 1000,
							PGC_SUSET,
							GUC_UNIT_MS | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);
	DefineCustomIntVariable("taxi_duration.debug_delay_while_publishing",
							gettext_noop("For tests: milliseconds a model load waits, with interrupts held, once publishing has started."),
							NULL,
							&td_debug_delay_while_publishing_ms,
							0, 0, 60 * 1000,
							PGC_SUSET,
							GUC_UNIT_MS | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);
	/* a PGC_POSTMASTER setting can only be created while preloading */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable("taxi_duration.database",
								   gettext_noop("Database the model loader worker connects to, to record loads in taxi_duration.model_loads."),
								   NULL,
								   &td_database,
								   "postgres",
								   PGC_POSTMASTER,
								   0,
								   NULL, NULL, NULL);

	MarkGUCPrefixReserved("taxi_duration");
}
